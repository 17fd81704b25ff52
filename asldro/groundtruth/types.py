"""The GroundTruth value (docs/physics.md §3).

Compact by design: most ground truths assign one value per tissue, so a quantity is stored
either as a **lookup table** (1-D array indexed by the ``seg`` label, ``value = table[seg]``)
or as a **dense map** (3-D array on the grid). Physics functions are element-wise, so they run
on lookup tables (a handful of numbers) and the result is expanded or resampled afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

REQUIRED_QUANTITIES = ("perfusion_rate", "transit_time", "t1", "t2", "t2_star", "m0")
REQUIRED_PARAMETERS = ("lambda_blood_brain", "t1_arterial_blood", "magnetic_field_strength")


def read_only(array: np.ndarray) -> np.ndarray:
    """``array`` itself, made read-only: a GroundTruth's arrays are never changed in place."""
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class GroundTruth:  # pylint: disable=too-many-instance-attributes  # the fields of docs/physics.md §3
    """A ground truth on its own grid.

    Parameters
    ----------
    affine : numpy.ndarray
        4x4 voxel-to-world (mm) matrix of the ground-truth grid (any voxel size/orientation).
    shape : tuple of int
        Grid shape ``(X, Y, Z)``.
    seg : numpy.ndarray
        ``uint16`` label map of ``shape``. Lookup-table quantities index it.
    segmentation : Mapping[str, int]
        Tissue name to label, e.g. ``{"grey_matter": 1, "white_matter": 2, "csf": 3}``.
    maps : Mapping[str, numpy.ndarray]
        Quantity name to either a 1-D lookup table of length ``seg.max() + 1`` or a dense 3-D map.
        ``seg_label`` is not in ``maps``: it is ``seg``.
    units : Mapping[str, str]
        Quantity name to unit string (``""`` for unitless).
    parameters : Mapping[str, Any]
        Scalar parameters after ``parameter_override`` (``lambda_blood_brain``,
        ``t1_arterial_blood``, ``magnetic_field_strength``, extras).
    quantity_order : tuple of str
        Quantity names in file order (``seg_label`` included where it was in the file).
    """

    affine: np.ndarray
    shape: tuple[int, int, int]
    seg: np.ndarray
    segmentation: Mapping[str, int]
    maps: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    parameters: Mapping[str, Any]
    quantity_order: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "affine", np.asarray(self.affine, dtype=np.float64))
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        for name in ("segmentation", "maps", "units", "parameters"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        if self.seg.shape != self.shape:
            raise ValueError(f"seg has shape {self.seg.shape}, grid is {self.shape}")
        for name, arr in self.maps.items():
            if arr.ndim == 3 and arr.shape != self.shape:
                raise ValueError(f"map {name} has shape {arr.shape}, grid is {self.shape}")
            if arr.ndim == 1 and arr.shape[0] <= int(self.seg.max(initial=0)):
                raise ValueError(f"lookup table {name} is shorter than the largest label")
            if arr.ndim not in (1, 3):
                raise ValueError(f"map {name} must be a 1-D lookup table or a 3-D map")

    def is_table(self, quantity: str) -> bool:
        """True when ``quantity`` is stored as a per-label lookup table."""
        return self.maps[quantity].ndim == 1

    def dense(self, quantity: str) -> np.ndarray:
        """The quantity as a 3-D array on the grid (``seg_label`` gives ``seg``)."""
        if quantity == "seg_label":
            return self.seg
        arr = self.maps[quantity]
        return arr[self.seg] if arr.ndim == 1 else arr

    @property
    def quantities(self) -> tuple[str, ...]:
        """All quantity names, ``seg_label`` included, in file order when known."""
        names = list(self.quantity_order) or [*self.maps, "seg_label"]
        for name in [*self.maps, "seg_label"]:
            if name not in names:
                names.append(name)
        return tuple(names)
