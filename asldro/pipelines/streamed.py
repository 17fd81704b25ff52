"""An asl series whose volumes are simulated as the writer reads them (issue 16 item 1).

A :class:`StreamedImage` stands in a :class:`~asldro.pipelines.types.SeriesResult` for the 4-D
image of an asl series: its shape, dtype and affine are known from the parameters, and
:meth:`StreamedImage.volumes` simulates the volumes in order, a few at a time on the series'
threads, checking each is finite. The writer casts, appends and compresses each volume as it
comes, so a series' peak memory is the ground-truth tables plus a few volumes, not the whole
stack. Its ``history`` (the one of :func:`~asldro.pipelines.filters.stack_volumes`) is known
once every volume was read. The bytes written are those of the stacked image.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from asldro.image import Image
from asldro.pipelines.filters import stacked_history
from asldro.pipelines.finite import non_finite_error, quiet_float_errors

#: Volumes simulated ahead of the writer, per volume thread.
AHEAD_PER_THREAD = 2


class StreamedImage:  # pylint: disable=too-many-instance-attributes  # an Image's parts
    """The 4-D image of an asl series, produced volume by volume (see the module docstring).

    ``produce(v)`` simulates volume ``v`` (0-based) as a 3-D :class:`Image` on ``affine``'s grid
    whose dtype becomes ``dtype`` in the stack; ``shared_steps`` history entries lead every
    volume's history (the series' shared filters, recorded once); ``where`` names the series in
    the error of a non-finite volume.
    """

    def __init__(  # pylint: disable=too-many-arguments  # what a stack is made of
        self,
        *,
        produce: Callable[[int], Image],
        shape: tuple[int, int, int, int],
        dtype: np.dtype,
        affine: np.ndarray,
        shared_steps: int,
        threads: int,
        where: str,
    ) -> None:
        self.produce = produce
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.affine = np.array(affine, dtype=np.float64)
        self.affine.flags.writeable = False
        self.shared_steps = shared_steps
        self.threads = max(1, threads)
        self.where = where
        self._history: tuple[Mapping[str, Any], ...] | None = None

    @property
    def ndim(self) -> int:
        """4: volumes on the last axis."""
        return 4

    @property
    def history(self) -> tuple[Mapping[str, Any], ...]:
        """The stacked image's history; known once :meth:`volumes` has been read to the end."""
        if self._history is None:
            raise RuntimeError(f"{self.where}: the history is known once its volumes are read")
        return self._history

    def volumes(self, *, check_finite: bool = True) -> Iterator[np.ndarray]:
        """The volumes in order (3-D arrays of :attr:`dtype`), simulated a few ahead on the
        series' threads; with ``check_finite`` a volume holding NaN or Inf raises
        :class:`~asldro.pipelines.finite.SimulationError` before it is given."""
        count = self.shape[3]
        histories: list[tuple[Mapping[str, Any], ...]] = []
        for index, image in enumerate(self._simulated(count)):
            data = self._checked(image, index, check_finite)
            histories.append(image.history)
            del image
            yield data
        self._history = stacked_history(histories, self.shared_steps)

    def _simulated(self, count: int) -> Iterator[Image]:
        """The volumes' images in order: here on one thread, else on a pool a few ahead."""
        if self.threads == 1:
            yield from map(self._simulate, range(count))
            return
        pending: deque[Future[Image]] = deque()
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            submitted = 0
            try:
                for _ in range(count):
                    while submitted < count and len(pending) < AHEAD_PER_THREAD * self.threads:
                        pending.append(pool.submit(self._simulate, submitted))
                        submitted += 1
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    def _simulate(self, index: int) -> Image:
        with quiet_float_errors():  # per thread; non-finite output is refused afterwards
            return self.produce(index)

    def _checked(self, image: Image, index: int, check_finite: bool) -> np.ndarray:
        """The volume's data as the stack holds it, after checking grid, dtype and values."""
        data = image.data
        if data.shape != self.shape[:3] or not np.array_equal(image.affine, self.affine):
            raise ValueError(f"{self.where}: volume {index} is not on the series' grid")
        if np.result_type(data.dtype, self.dtype) != self.dtype:
            raise ValueError(f"{self.where}: volume {index} is {data.dtype}, not {self.dtype}")
        if check_finite and data.dtype.kind not in "biu":
            bad = int(data.size - np.count_nonzero(np.isfinite(data)))
            if bad:
                raise non_finite_error(self.where, bad, f" in volume {index}")
        return data.astype(self.dtype, copy=False)

    def stacked(self) -> Image:
        """The whole 4-D :class:`Image` (every volume in memory; not finite-checked here)."""
        out = np.empty(self.shape, dtype=self.dtype)
        for index, volume in enumerate(self.volumes(check_finite=False)):
            out[..., index] = volume
        return Image(data=out, affine=self.affine, history=self.history)


def image_layout(image: Image | StreamedImage) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of an image, streamed or in memory."""
    if isinstance(image, StreamedImage):
        return image.shape, image.dtype
    return tuple(image.data.shape), image.data.dtype


def image_volumes(image: Image | StreamedImage) -> Iterator[np.ndarray]:
    """The volumes of a 4-D image in order (a 3-D image is one volume)."""
    if isinstance(image, StreamedImage):
        yield from image.volumes()
        return
    data = image.data
    if data.ndim < 4:
        yield data
        return
    for index in range(data.shape[3]):
        yield data[..., index]
