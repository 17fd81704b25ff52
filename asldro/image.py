"""The Image value and the filter contract (docs/design.md, "Pipe and filter, done lightly").

An :class:`Image` is an immutable value: a filter returns a new Image whose ``history`` has one
more entry naming the filter and its parameters, so every output can say how it was made. The
acquisition facts a BIDS sidecar needs do not travel on the Image: they are the typed records of
:mod:`asldro.pipelines.records`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

import numpy as np


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


def _read_only_view(array: Any) -> np.ndarray:
    """A read-only view of ``array`` (no copy: the caller's array keeps its own flags)."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class Image:
    """An image: voxel data, its voxel-to-world affine and filter history.

    ``data`` is a read-only view of the array given (not a copy, to keep memory flat: the
    producer hands the array over and does not change it afterwards); ``affine`` is a private
    read-only float64 copy.

    Two Images are equal when their data (shape, dtype and values), affine and history are
    equal; the hash is over shape, dtype and affine, so equal Images hash alike.

    Parameters
    ----------
    data : numpy.ndarray
        3-D ``(X, Y, Z)`` or 4-D ``(X, Y, Z, N)`` voxel data (1-D: a per-label lookup table on
        the ground-truth grid, see ``asldro.groundtruth.types``).
    affine : numpy.ndarray
        4x4 voxel-to-world (mm) matrix.
    history : tuple of Mapping
        One ``{"filter": name, **parameters}`` entry per filter applied, in order.
    """

    data: np.ndarray
    affine: np.ndarray
    history: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        affine = np.array(self.affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got {affine.shape}")
        affine.flags.writeable = False
        object.__setattr__(self, "data", _read_only_view(self.data))
        object.__setattr__(self, "affine", affine)
        object.__setattr__(self, "history", tuple(_frozen(h) for h in self.history))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return (
            self.data.shape == other.data.shape
            and self.data.dtype == other.data.dtype
            and np.array_equal(self.affine, other.affine)
            and self.history == other.history
            and np.array_equal(self.data, other.data)
        )

    def __hash__(self) -> int:
        return hash((self.data.shape, str(self.data.dtype), self.affine.tobytes()))

    def evolve(
        self,
        step: str,
        *,
        data: np.ndarray | None = None,
        affine: np.ndarray | None = None,
        **parameters: Any,
    ) -> "Image":
        """Return a new Image with ``data``/``affine`` replaced and one history entry
        ``{"filter": step, **parameters}`` appended."""
        return Image(
            data=self.data if data is None else data,
            affine=self.affine if affine is None else affine,
            history=self.history + ({"filter": step, **parameters},),
        )


Filter = Callable[[Image], Image]


def apply_pipeline(image: Image, filters: Iterable[Filter]) -> Image:
    """Apply ``filters`` to ``image`` in order (a pipeline is a tuple of filters)."""
    for filt in filters:
        image = filt(image)
    return image
