"""The Image value and the filter contract (DESIGN.md, "Pipe and filter, done lightly").

An :class:`Image` is immutable: a filter returns a new Image whose ``history`` has one more
entry naming the filter and its parameters, so every output can say how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

import numpy as np


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Image:
    """An image: voxel data, its voxel-to-world affine, acquisition facts and filter history.

    Parameters
    ----------
    data : numpy.ndarray
        3-D ``(X, Y, Z)`` or 4-D ``(X, Y, Z, N)`` voxel data.
    affine : numpy.ndarray
        4x4 voxel-to-world (mm) matrix.
    meta : Mapping
        Acquisition facts a BIDS sidecar needs (keys listed in ``asldro.pipelines``).
    history : tuple of Mapping
        One ``{"filter": name, **parameters}`` entry per filter applied, in order.
    """

    data: np.ndarray
    affine: np.ndarray
    meta: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        affine = np.asarray(self.affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise ValueError(f"affine must be 4x4, got {affine.shape}")
        object.__setattr__(self, "affine", affine)
        object.__setattr__(self, "meta", _frozen(self.meta))
        object.__setattr__(self, "history", tuple(_frozen(h) for h in self.history))

    def evolve(
        self,
        step: str,
        *,
        data: np.ndarray | None = None,
        affine: np.ndarray | None = None,
        meta: Mapping[str, Any] | None = None,
        **parameters: Any,
    ) -> "Image":
        """Return a new Image with ``data``/``affine`` replaced, ``meta`` merged in and one
        history entry ``{"filter": step, **parameters}`` appended."""
        return Image(
            data=self.data if data is None else data,
            affine=self.affine if affine is None else affine,
            meta={**self.meta, **(meta or {})},
            history=self.history + ({"filter": step, **parameters},),
        )


Filter = Callable[[Image], Image]


def apply_pipeline(image: Image, filters: Iterable[Filter]) -> Image:
    """Apply ``filters`` to ``image`` in order (a pipeline is a tuple of filters)."""
    for filt in filters:
        image = filt(image)
    return image
