"""The GroundTruth value (docs/physics.md §3).

Compact by design: most ground truths assign one value per tissue, so a quantity is stored
either as a **lookup table** (1-D array indexed by the ``seg`` label, ``value = table[seg]``)
or as a **dense map** (3-D array on the grid). Physics functions are element-wise, so they run
on lookup tables (a handful of numbers) and the result is expanded or resampled afterwards.

A **partial-volume** ground truth (the built-ins by default, issue 13) also carries
:class:`TissueFractions`: each voxel is a mixture of the tissue *components* of the lookup tables
(component ``c`` is entry ``c`` of every table), with fractions >= 0 summing to 1. A lookup-table
quantity of such a voxel is then the fraction-weighted mixture ``sum_c fraction_c * table[c]``
of the tissues, and so is every signal computed per tissue (docs/physics.md §3.5); ``seg`` is the
majority label of the fractions. Without fractions, the components are the labels of ``seg``
(one tissue per voxel, ``value = table[seg]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from asldro.acquisition.sampling import majority, mix

REQUIRED_QUANTITIES = ("perfusion_rate", "transit_time", "t1", "t2", "t2_star", "m0")
REQUIRED_PARAMETERS = ("lambda_blood_brain", "t1_arterial_blood", "magnetic_field_strength")


def read_only(array: np.ndarray) -> np.ndarray:
    """``array`` itself, made read-only: a GroundTruth's arrays are never changed in place."""
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class TissueFractions:
    """Per-voxel tissue fractions of a partial-volume ground truth (docs/physics.md §3.5).

    Parameters
    ----------
    values : numpy.ndarray
        float32 ``(C, X, Y, Z)``: the fraction of component ``c`` (entry ``c`` of every lookup
        table) in each voxel; >= 0 and summing to 1 in every voxel (within float32 rounding).
    labels : numpy.ndarray
        uint16 ``(C,)``: the ``seg`` label of each component (``arange(C)`` unless
        ``seg_label`` was overridden or modulated, which changes the labels only).
    """

    values: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.values.ndim != 4 or self.labels.shape != self.values.shape[:1]:
            raise ValueError(
                f"tissue fractions need shape (C, X, Y, Z) and one label per component, got "
                f"{self.values.shape} and {self.labels.shape}"
            )

    @property
    def n_components(self) -> int:
        """The number of components (the length of the lookup tables)."""
        return int(self.values.shape[0])

    @cached_property
    def volumes(self) -> np.ndarray:
        """The volume of each component in voxels (the sum of its fractions), float64."""
        return np.array(
            [float(np.sum(part, dtype=np.float64)) for part in self.values], dtype=np.float64
        )

    def per_label(self, component_fractions: np.ndarray) -> np.ndarray:
        """``component_fractions`` (``(C, ...)``: these fractions on some grid) summed per label:
        ``(max(labels) + 1, ...)``, row ``l`` the fraction of label ``l`` (0 for a label no
        component has). The array itself when every component is its own label."""
        labels = self.labels.astype(np.intp)
        if np.array_equal(labels, np.arange(labels.size)):
            return component_fractions
        out = np.zeros((int(labels.max()) + 1,) + component_fractions.shape[1:], np.float64)
        for component, label in enumerate(labels):
            out[label] += component_fractions[component]
        return out


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
    tissue : TissueFractions, optional
        The tissue fractions of a partial-volume ground truth (None: single-label, the
        components are the labels of ``seg``).
    composition : str
        How each voxel is made of tissues, in words, for the derivative Descriptions (``""``:
        as the tissue model says; lesions set it, docs/physics.md §3.7).
    """

    affine: np.ndarray
    shape: tuple[int, int, int]
    seg: np.ndarray
    segmentation: Mapping[str, int]
    maps: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    parameters: Mapping[str, Any]
    quantity_order: tuple[str, ...] = field(default=())
    tissue: TissueFractions | None = None
    composition: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "affine", np.asarray(self.affine, dtype=np.float64))
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        for name in ("segmentation", "maps", "units", "parameters"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        if self.seg.shape != self.shape:
            raise ValueError(f"seg has shape {self.seg.shape}, grid is {self.shape}")
        if self.tissue is not None and self.tissue.values.shape[1:] != self.shape:
            raise ValueError(
                f"tissue fractions have shape {self.tissue.values.shape[1:]}, grid is {self.shape}"
            )
        for name, arr in self.maps.items():
            if arr.ndim == 3 and arr.shape != self.shape:
                raise ValueError(f"map {name} has shape {arr.shape}, grid is {self.shape}")
            if arr.ndim == 1 and arr.shape[0] < self.n_components:
                raise ValueError(f"lookup table {name} is shorter than the components")
            if arr.ndim not in (1, 3):
                raise ValueError(f"map {name} must be a 1-D lookup table or a 3-D map")

    def is_table(self, quantity: str) -> bool:
        """True when ``quantity`` is stored as a per-label lookup table."""
        return self.maps[quantity].ndim == 1

    @property
    def n_components(self) -> int:
        """Length of the lookup tables in use: the tissue components of a partial-volume ground
        truth, else ``max(seg) + 1``."""
        if self.tissue is not None:
            return self.tissue.n_components
        return int(self.seg.max(initial=0)) + 1

    @cached_property
    def component_volumes(self) -> np.ndarray:
        """Volume of each component in voxels (index = table entry): the sum of its fractions,
        or the voxel count of each label of ``seg`` (an integer array) without fractions."""
        if self.tissue is not None:
            return self.tissue.volumes
        return np.bincount(self.seg.ravel(order="K"), minlength=1)

    def dense(self, quantity: str) -> np.ndarray:
        """The quantity as a 3-D array on the grid (``seg_label`` gives ``seg``); a lookup table
        of a partial-volume ground truth gives the fraction-weighted mean of its tissues
        (:func:`mix`)."""
        if quantity == "seg_label":
            return self.seg
        arr = self.maps[quantity]
        if arr.ndim != 1:
            return arr
        if self.tissue is not None:
            return mix(arr[: self.n_components], self.tissue.values)
        return arr[self.seg]

    def majority_values(self, quantity: str) -> np.ndarray:
        """The quantity as a 3-D array with each voxel's value that of its majority component
        (partial volume) or of its label: the single-label view the ASLDRO file format holds."""
        arr = self.maps[quantity]
        if arr.ndim != 1 or self.tissue is None:
            return self.dense(quantity)
        components = np.arange(self.n_components)
        return arr[majority(self.tissue.values, components)]

    @property
    def quantities(self) -> tuple[str, ...]:
        """All quantity names, ``seg_label`` included, in file order when known."""
        names = list(self.quantity_order) or [*self.maps, "seg_label"]
        for name in [*self.maps, "seg_label"]:
            if name not in names:
                names.append(name)
        return tuple(names)
