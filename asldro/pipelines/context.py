"""Shared state of one participant's simulation: the ground truth, the thread budget and the
cached acquisition work, released when the participant is done.

Fractions of each tissue label in each acquisition voxel depend only on (acquisition matrix,
motion); they are computed once and shared by every volume and series that needs them. For a
partial-volume ground truth (docs/physics.md §3.5) they are the box averages of its tissue
fractions (the continuous generalisation of the one-hot label masks), and every lookup-table
image is acquired through them, on the ground-truth grid too. The
summed-volume tables of the rotation path live in the context's
:class:`~asldro.acquisition.box_integral.TableCache`. Use the context as a ``with`` block (as
``generate_series`` does) or call :meth:`SimulationContext.release`: the caches hold a few
hundred MB for a full-resolution ground truth.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

import numpy as np

from asldro.acquisition import Resampler, acquisition_grid
from asldro.acquisition.box_integral import TableCache
from asldro.acquisition.motion import motion_matrix
from asldro.groundtruth.types import GroundTruth
from asldro.params.types import Motion
from asldro.physics import noise as noise_model
from asldro.pipelines.filters import Acquire

FRACTIONS_KEPT = 4


@dataclass
class SimulationContext:  # pylint: disable=too-many-instance-attributes  # 3 facts, 5 caches
    """The ground truth, the threads one participant may use (``asldro.resources``), the
    session simulated (None without sessions: it keys the noise streams,
    :func:`asldro.pipelines.seeds.stream_label`), and the caches of resamplers, label fractions
    and summed-volume tables."""

    ground_truth: GroundTruth
    threads: int = 1
    session: str | None = None
    _resamplers: dict = field(default_factory=dict)
    _fractions: dict = field(default_factory=dict)
    _label_counts: np.ndarray | None = None
    _tables: TableCache = field(default_factory=TableCache)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __enter__(self) -> "SimulationContext":
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def release(self) -> None:
        """Drop every cache (the participant is done); the context stays usable."""
        with self._lock:
            self._resamplers.clear()
            self._fractions.clear()
            self._label_counts = None
            self._tables.clear()

    def cached_arrays(self) -> Iterator[np.ndarray]:
        """The arrays the caches hold now: label fractions and summed-volume tables."""
        with self._lock:
            kept = [pending for pending in self._fractions.values() if pending.done()]
            tables = self._tables.arrays()
        held = [pending.result() for pending in kept if pending.exception() is None]
        yield from [*held, *tables]

    @property
    def label_counts(self) -> np.ndarray:
        """Volume (in ground-truth voxels) of each lookup-table entry: the voxel count per label
        of ``seg``, or the tissue volume of each component of a partial-volume ground truth."""
        if self._label_counts is None:
            self._label_counts = self.ground_truth.component_volumes
        return self._label_counts

    @property
    def partial_volume(self) -> bool:
        """True when the ground truth carries tissue fractions (docs/physics.md §3.5): its
        lookup tables are expanded through them, even on its own grid."""
        return self.ground_truth.tissue is not None

    @property
    def n_labels(self) -> int:
        """Length of the lookup tables used here: ``max(seg) + 1``."""
        return len(self.label_counts)

    def maps(
        self, names: Sequence[str], replace: Mapping[str, float] | None = None
    ) -> dict[str, np.ndarray]:
        """The named quantities, all as lookup tables when possible, else all dense.

        ``replace`` gives uniform values that replace whole quantities (a series-level ``m0``,
        docs/physics.md D8); a uniform value is a table with one value for every label.
        """
        gt = self.ground_truth
        replace = dict(replace or {})
        tables = all(name in replace or gt.is_table(name) for name in names)
        out: dict[str, np.ndarray] = {}
        for name in names:
            if name in replace:
                table = np.full(self.n_labels, float(replace[name]))
                out[name] = table if tables else table[gt.seg]
            elif tables:
                out[name] = np.asarray(gt.maps[name][: self.n_labels], dtype=np.float64)
            else:
                out[name] = np.asarray(gt.dense(name), dtype=np.float64)
        return out

    def is_uniform(self, values: np.ndarray) -> bool:
        """True when a table (over the labels present) or a dense map holds one value."""
        if values.ndim == 1:
            present = values[self.label_counts > 0]
            return bool(np.all(present == present[0]))
        return bool(np.all(values == values.flat[0]))

    def uniform_value(self, values: np.ndarray) -> float | None:
        """The single value of a uniform map, else None."""
        if not self.is_uniform(values):
            return None
        return float(values[self.label_counts > 0][0] if values.ndim == 1 else values.flat[0])

    def noise_sigma(self, values: np.ndarray, snr: float) -> tuple[float, float]:
        """(sigma, reference) of a series' noise (docs/physics.md D5): the reference is
        :func:`~asldro.physics.noise.noise_reference` of ``values`` (a lookup table or a dense
        map on the ground-truth grid) inside the tissue mask, sigma = reference / snr (0 for
        snr 0). The tissue mask is ``seg > 0`` when the ground truth has tissue labels, else
        ``m0 > 0``; a table is weighted by the voxel count of each label.
        """
        gt = self.ground_truth
        if self.n_labels > 1:
            if values.ndim == 1:
                tissue = np.arange(self.n_labels) > 0
                reference = noise_model.noise_reference(values, tissue, self.label_counts)
            else:
                reference = noise_model.noise_reference(values, gt.seg > 0)
        else:
            dense = values[gt.seg] if values.ndim == 1 else values
            reference = noise_model.noise_reference(dense, gt.dense("m0") > 0)
        return noise_model.noise_sigma(reference, snr), reference

    def resampler(self, acq_matrix: Sequence[int], motion: Motion) -> Resampler:
        """The (cached) resampler from the ground-truth grid to ``acq_matrix`` under ``motion``."""
        key = (tuple(acq_matrix), motion)
        with self._lock:
            return self._resampler(key)

    def _resampler(self, key: tuple) -> Resampler:
        acq_matrix, motion = key
        if key not in self._resamplers:
            gt = self.ground_truth
            grid = acquisition_grid(gt.affine, gt.shape, tuple(acq_matrix))
            matrix = None if motion.is_identity else motion_matrix(motion)
            self._resamplers[key] = Resampler(gt.affine, gt.shape, grid, matrix, self._tables)
        return self._resamplers[key]

    def fractions(self, acq_matrix: Sequence[int], motion: Motion) -> np.ndarray:
        """Fraction of every label (0..n_labels-1) in every acquisition voxel (the tissue
        components of a partial-volume ground truth; on its own grid its fractions themselves).

        The last few (grid, motion) results are kept: series without per-volume motion compute
        them once, and a long series with motion per volume does not accumulate them. They are
        computed outside the context's lock, so the volumes of a series with motion per volume
        resample on all their threads at once; a thread that needs fractions another is
        computing waits for them (issue 16).
        """
        key = (tuple(acq_matrix), motion)
        with self._lock:
            kept: Future[np.ndarray] | None = self._fractions.get(key)
            owner = kept is None
            if kept is None:
                while len(self._fractions) >= FRACTIONS_KEPT:
                    self._fractions.pop(next(iter(self._fractions)))
                pending: Future[np.ndarray] = Future()
                self._fractions[key] = pending
            else:
                pending = self._fractions[key] = self._fractions.pop(key)  # most recently used
        if owner:
            try:
                pending.set_result(self._computed_fractions(key))
            except BaseException as error:
                with self._lock:
                    if self._fractions.get(key) is pending:
                        del self._fractions[key]
                pending.set_exception(error)
                raise
        return pending.result()

    def _computed_fractions(self, key: tuple) -> np.ndarray:
        acq_matrix, motion = key
        gt, resampler = self.ground_truth, self.resampler(acq_matrix, motion)
        if gt.tissue is not None and resampler.is_identity:
            return gt.tissue.values  # float32, read-only, no copy
        if gt.tissue is not None:
            return resampler.resample_fractions(gt.tissue.values)
        fractions = resampler.label_fractions(gt.seg, list(range(self.n_labels)))
        # a fraction is in [0, 1]; rounding in the rotation path can leave -1e-10
        return np.clip(fractions, 0.0, 1.0, out=fractions)

    def acquire(self, acq_matrix: Sequence[int], motion: Motion, *, tables: bool) -> Acquire:
        """An :class:`Acquire` filter; label fractions are computed once when ``tables`` (always
        for a partial-volume ground truth, whose lookup tables only its fractions can expand)."""
        resampler = self.resampler(acq_matrix, motion)
        fractions = None
        key = (tuple(acq_matrix), motion)
        if tables and self.partial_volume:
            fractions = self.fractions(acq_matrix, motion)
        elif (
            tables
            and not resampler.is_identity
            and (resampler.is_separable or key in self._fractions)
        ):
            # Fractions pay off when shared (no rotation: cheap and exact; or already made).
            # A rotated volume is acquired from its lookup table directly: one channel, and
            # the summed-volume table of each distinct lookup is built once per series.
            fractions = self.fractions(acq_matrix, motion)
        return Acquire(resampler, self.ground_truth.seg, motion, fractions)
