"""Lesions inserted into a ground truth (issue 13 item 3; docs/physics.md §3.7).

Each lesion of ``global_configuration.lesions`` is a **membership** ``w`` in [0, 1] per voxel of
the ground-truth grid:

* a sphere or an ellipsoid (centre in world mm, semi-axes ``a_i`` along its own axes, rotated by
  ``Rx·Ry·Rz`` about the centre). ``edge`` ``sharp``: ``w`` is the part of the voxel inside the
  surface, measured on ``SUPERSAMPLE``³ points per voxel where the surface crosses it (voxels
  wholly inside are 1, wholly outside 0, exactly); ``smooth``: the raised cosine
  ``w = (1 - sin(pi d / W)) / 2`` of the distance ``d`` from the surface (negative inside; 1 for
  ``d <= -W/2``, 0 for ``d >= W/2``, ``W`` the ``edge_width``), averaged on the same points. For
  an ellipsoid ``d`` is the first-order distance ``(rho - 1) / |grad rho|`` of the normalised
  radius ``rho = |R^T (x - c) / a|`` (exact for a sphere);
* a mask NIfTI of any grid in the same world space: its values (in [0, 1]) are the membership,
  averaged over ``SUPERSAMPLE``³ (or more, for a finer mask) nearest-neighbour samples per
  voxel, or taken as they are when the mask is on the ground-truth grid.

The lesion turns each **tissue component** ``t`` (every component whose label is not 0:
background is never lesioned) into two: ``t`` with fraction ``f_t (1 - w)`` and its *lesioned
twin* with ``f_t w``, which has the lesion's values (a number replaces the tissue's value, a
``{"scale": s}`` multiplies it; quantities the lesion does not name keep the tissue's value) and
the lesion's label. The twins are new entries of the lookup tables, so the lookup-table fast
path of the acquisition keeps working (docs/physics.md §3.5, §6.7). A single-label ground truth
becomes a mixture of its one-hot label masks and the twins. A dense quantity (a map of its own)
becomes ``x + w s (x_L - x)`` (``s`` the voxel's tissue part, ``x_L`` the lesion's value).

Lesions are applied in order and **a later lesion wins** where they overlap: it takes its
membership from every component, the twins of earlier lesions included, and its own twins are
always twins of the original tissues (its values and scale factors apply to the tissues' values,
not to an earlier lesion's). The label map is then each voxel's majority label (the lesion's
label summing its twins).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Callable, Sequence, cast

import numpy as np

from asldro.acquisition.motion import rotation_x, rotation_y, rotation_z
from asldro.acquisition.sampling import majority
from asldro.groundtruth.arterial import with_named_quantities
from asldro.groundtruth.errors import GroundTruthError
from asldro.groundtruth.io import check_affine
from asldro.groundtruth.types import GroundTruth, TissueFractions, read_only
from asldro.params.lesions import Lesion
from asldro.params.rules import bounds_text, outside_bounds, quantity_rule, suggest

#: Sample points per axis and voxel where a surface crosses the voxel (6³ = 216 per voxel).
SUPERSAMPLE = 6
#: At most this many sample points are held at once (memory: 3 float64 coordinates each).
POINTS_PER_CHUNK = 1 << 20
#: Largest samples per axis for a mask much finer than the ground truth.
MAX_MASK_SUPERSAMPLE = 12
#: Two grids are the same when their shapes are equal and their affines agree within this (mm).
SAME_GRID_MM = 1e-6

Box = tuple[slice, slice, slice]


@dataclasses.dataclass(frozen=True)
class Membership:
    """A lesion's membership ``values`` (float64, in [0, 1]) on the ground-truth voxels of
    ``box`` (zero outside it)."""

    box: Box
    values: np.ndarray


def _voxel_centres(affine: np.ndarray, box: Box) -> np.ndarray:
    """World coordinates (mm) of the voxel centres of ``box``: ``(n, 3)``, C order."""
    axes = [np.arange(part.start, part.stop, dtype=np.float64) for part in box]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    return grid @ affine[:3, :3].T + affine[:3, 3]


def _sample_offsets(affine: np.ndarray, per_axis: int) -> np.ndarray:
    """World offsets (mm) of ``per_axis``³ sample points from a voxel's centre: ``(m, 3)``."""
    steps = (np.arange(per_axis, dtype=np.float64) + 0.5) / per_axis - 0.5
    grid = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)
    return grid @ affine[:3, :3].T


def _half_diagonal(affine: np.ndarray) -> float:
    """Largest distance (mm) from a voxel's centre to a point of the voxel."""
    return 0.5 * float(np.sum(np.linalg.norm(affine[:3, :3], axis=0)))


def _box_of(
    affine: np.ndarray, shape: tuple[int, int, int], low: np.ndarray, high: np.ndarray
) -> Box | None:
    """The voxels of the grid whose centres may lie in the world box [low, high] (one voxel of
    margin), None when none does."""
    corners = np.array(np.meshgrid(*zip(low, high), indexing="ij")).reshape(3, -1).T
    index = (corners - affine[:3, 3]) @ np.linalg.inv(affine[:3, :3]).T
    start = np.maximum(np.floor(index.min(axis=0)).astype(int) - 1, 0)
    stop = np.minimum(np.ceil(index.max(axis=0)).astype(int) + 2, shape)
    if np.any(stop <= start):
        return None
    return cast(Box, tuple(slice(int(a), int(b)) for a, b in zip(start, stop)))


class _Ellipsoid:
    """The normalised radius and the edge of an ellipsoid (a sphere has three equal radii)."""

    def __init__(self, lesion: Lesion) -> None:
        assert lesion.centre is not None and lesion.radii is not None  # not a mask lesion
        self.centre = np.array(lesion.centre, dtype=np.float64)
        self.radii = np.array(lesion.radii, dtype=np.float64)
        rx, ry, rz = lesion.rotation
        self.rotation = (rotation_x(rx) @ rotation_y(ry) @ rotation_z(rz))[:3, :3]
        self.width = lesion.edge_width if lesion.smooth else 0.0

    def extent(self) -> np.ndarray:
        """Half-extent (mm) of the world box that holds every voxel with ``w > 0``."""
        return np.sqrt(((self.rotation * self.radii) ** 2).sum(axis=1)) + self.width / 2

    def rho(self, points: np.ndarray) -> np.ndarray:
        """Normalised radius of world ``points`` ``(n, 3)``: < 1 inside, 1 on the surface."""
        local = ((points - self.centre) @ self.rotation) / self.radii
        return np.sqrt(np.einsum("ij,ij->i", local, local))

    def membership(self, points: np.ndarray) -> np.ndarray:
        """``w`` at world ``points``: 1 inside and 0 outside (sharp), or the raised cosine of
        the distance from the surface (smooth)."""
        local = ((points - self.centre) @ self.rotation) / self.radii
        rho = np.sqrt(np.einsum("ij,ij->i", local, local))
        if self.width == 0.0:
            return (rho <= 1.0).astype(np.float64)
        # |grad rho| = |local / radii| / rho; at the centre its limit along any ray is finite
        gradient = np.sqrt(np.einsum("ij,ij->i", local / self.radii, local / self.radii))
        safe = rho > 1e-12
        distance = np.full(rho.shape, -float(self.radii.min()))
        distance[safe] = (rho[safe] - 1.0) * rho[safe] / gradient[safe]
        ramp = np.clip(distance / self.width, -0.5, 0.5)
        return 0.5 * (1.0 - np.sin(np.pi * ramp))


def _averaged(
    membership: Callable[[np.ndarray], np.ndarray], centres: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """The mean of ``membership`` over the sample points of each voxel (``centres`` ``(n, 3)``)."""
    out = np.empty(len(centres), dtype=np.float64)
    per_chunk = max(1, POINTS_PER_CHUNK // len(offsets))
    for start in range(0, len(centres), per_chunk):
        chunk = centres[start : start + per_chunk]
        points = (chunk[:, np.newaxis, :] + offsets[np.newaxis]).reshape(-1, 3)
        out[start : start + per_chunk] = membership(points).reshape(len(chunk), -1).mean(axis=1)
    return out


def inside_field_of_view(gt: GroundTruth, point: Sequence[float]) -> bool:
    """True when the world point ``point`` (mm) lies in a voxel of the ground truth's grid."""
    index = np.linalg.solve(
        gt.affine[:3, :3], np.asarray(point, dtype=np.float64) - gt.affine[:3, 3]
    )
    return bool(np.all(index >= -0.5) and np.all(index <= np.asarray(gt.shape) - 0.5))


def _ellipsoid_membership(gt: GroundTruth, lesion: Lesion) -> Membership | None:
    """The membership of a sphere or ellipsoid lesion (module docstring)."""
    shape = _Ellipsoid(lesion)
    extent = shape.extent()
    box = _box_of(gt.affine, gt.shape, shape.centre - extent, shape.centre + extent)
    if box is None:
        return None
    centres = _voxel_centres(gt.affine, box)
    rho = shape.rho(centres)
    # rho changes by at most (distance / smallest radius) over a voxel (and over half the edge)
    band = (_half_diagonal(gt.affine) + shape.width / 2) / float(shape.radii.min())
    values = (rho < 1.0).astype(np.float64)
    crossing = np.abs(rho - 1.0) < band
    values[crossing] = _averaged(
        shape.membership, centres[crossing], _sample_offsets(gt.affine, SUPERSAMPLE)
    )
    return Membership(box, values.reshape(tuple(part.stop - part.start for part in box)))


def _read_mask(lesion: Lesion) -> tuple[np.ndarray, np.ndarray]:
    """The mask's values (float64, 3-D) and affine; refused when unreadable, not 3-D, or with
    values outside [0, 1]."""
    import nibabel as nib

    where = f"{lesion.where}.mask: {lesion.mask}"
    try:
        image = cast(nib.Nifti1Image, nib.load(cast(Path, lesion.mask)))
        data = np.asarray(image.dataobj, dtype=np.float64)
    except FileNotFoundError:
        raise GroundTruthError(f"{where}: file not found") from None
    except Exception as exc:  # nibabel raises several types for unreadable files
        raise GroundTruthError(f"{where}: not a readable NIfTI ({exc})") from None
    if data.ndim > 3 and all(n == 1 for n in data.shape[3:]):
        data = data.reshape(data.shape[:3])
    if data.ndim != 3:
        raise GroundTruthError(f"{where}: expected a 3-D mask, got shape {data.shape}")
    affine = np.array(image.affine, dtype=np.float64)
    check_affine(affine, where)
    finite = np.isfinite(data)
    if not np.all(finite) or data.min(initial=0.0) < 0.0 or data.max(initial=0.0) > 1.0:
        found = (
            "non-finite values"
            if not np.all(finite)
            else (f"values from {data.min():g} to {data.max():g}")
        )
        raise GroundTruthError(
            f"{where}: values must be in [0, 1] (the lesion's membership: 1 inside, 0 outside, "
            f"between on a partial or soft edge); found {found}"
        )
    return data, affine


def _mask_membership(gt: GroundTruth, lesion: Lesion) -> Membership | None:
    """The membership of a mask lesion on the ground-truth grid (module docstring)."""
    data, affine = _read_mask(lesion)
    if data.shape == gt.shape and np.allclose(affine, gt.affine, rtol=0.0, atol=SAME_GRID_MM):
        return Membership(cast(Box, tuple(slice(0, n) for n in gt.shape)), data)
    inside = np.argwhere(data > 0)
    if not inside.size:
        return None
    corners = np.stack([inside.min(axis=0) - 0.5, inside.max(axis=0) + 0.5])
    world = (
        np.array(np.meshgrid(*corners.T, indexing="ij")).reshape(3, -1).T @ affine[:3, :3].T
        + affine[:3, 3]
    )
    box = _box_of(gt.affine, gt.shape, world.min(axis=0), world.max(axis=0))
    if box is None:
        return None
    gt_size = float(np.linalg.norm(gt.affine[:3, :3], axis=0).max())
    mask_size = float(np.linalg.norm(affine[:3, :3], axis=0).min())
    per_axis = int(min(MAX_MASK_SUPERSAMPLE, max(SUPERSAMPLE, math.ceil(2 * gt_size / mask_size))))
    to_mask = np.linalg.inv(affine)

    def sample(points: np.ndarray) -> np.ndarray:
        index = np.rint(points @ to_mask[:3, :3].T + to_mask[:3, 3]).astype(np.intp)
        valid = np.all((index >= 0) & (index < data.shape), axis=1)
        out = np.zeros(len(points), dtype=np.float64)
        out[valid] = data[tuple(index[valid].T)]
        return out

    centres = _voxel_centres(gt.affine, box)
    values = _averaged(sample, centres, _sample_offsets(gt.affine, per_axis))
    return Membership(box, values.reshape(tuple(part.stop - part.start for part in box)))


def lesion_membership(gt: GroundTruth, lesion: Lesion) -> Membership:
    """The membership of ``lesion`` on the grid of ``gt`` (module docstring).

    Raises
    ------
    GroundTruthError
        The centre is outside the ground truth's field of view, the mask is unreadable, not
        3-D or has values outside [0, 1], or the lesion covers no voxel of the ground truth.
    """
    if lesion.centre is not None and not inside_field_of_view(gt, lesion.centre):
        centre = ", ".join(f"{value:g}" for value in lesion.centre)
        raise GroundTruthError(
            f"{lesion.where}.centre: [{centre}] mm is outside the ground truth's field of view"
        )
    found = (
        _mask_membership(gt, lesion)
        if lesion.mask is not None
        else (_ellipsoid_membership(gt, lesion))
    )
    if found is None or not np.any(found.values > 0):
        raise GroundTruthError(f"{lesion.where}: the lesion covers no voxel of the ground truth")
    return found


# --------------------------------------------------------------------------------------------
# Insertion


def _check_quantities(gt: GroundTruth, lesion: Lesion) -> None:
    """Every quantity the lesion names is one of the ground truth's (``seg_label`` excepted)."""
    available = list(gt.maps)
    for name in lesion.values:
        if name not in available:
            hint = suggest(name, available)
            extra = f" (did you mean '{hint}'?)" if hint else ""
            why = " (the lesion's label is its 'label')" if name == "seg_label" else extra
            raise GroundTruthError(
                f"{lesion.where}.values.{name}: unknown quantity{why}; the ground truth has "
                f"{', '.join(available)}"
            )


def _labels_in_use(gt: GroundTruth) -> set[int]:
    labels = {int(label) for label in np.unique(gt.seg)}
    labels.update(int(label) for label in gt.segmentation.values())
    if gt.tissue is not None:
        labels.update(int(label) for label in gt.tissue.labels)
    return labels


def _assign_labels(gt: GroundTruth, lesions: Sequence[Lesion]) -> list[int]:
    """The label of each lesion (given, or one above every label before it); refused when it
    is a label of the ground truth or when its name is a tissue's."""
    from asldro.bids.dataset import tissue_abbreviation  # the dseg's rule for abbreviations

    used = _labels_in_use(gt)
    names = {
        key: tissue
        for tissue, label in gt.segmentation.items()
        for key in (tissue.lower(), tissue_abbreviation(tissue, int(label)).lower())
    }
    out: list[int] = []
    for lesion in lesions:
        clash = names.get(lesion.name.lower()) or names.get(
            tissue_abbreviation(lesion.name, 0).lower()
        )
        if clash is not None:
            raise GroundTruthError(
                f"{lesion.where}.name: {lesion.name!r} is (or abbreviates like) the ground "
                f"truth's tissue {clash!r}; give the lesion another name"
            )
        label = lesion.label
        if label is None:
            label = max([*used, *out]) + 1
        elif label in used:
            owner = next((t for t, value in gt.segmentation.items() if value == label), None)
            what = f"the label of {owner!r}" if owner else "a label of the ground truth's seg"
            raise GroundTruthError(
                f"{lesion.where}.label: {label} is {what}; a lesion needs a label of its own"
            )
        if label > np.iinfo(np.uint16).max:
            raise GroundTruthError(f"{lesion.where}.label: {label} exceeds 65535 (uint16)")
        out.append(label)
    return out


def _base_fractions(gt: GroundTruth) -> tuple[np.ndarray, np.ndarray]:
    """The float32 fractions ``(C, X, Y, Z)`` and labels of the ground truth's components:
    its tissue fractions, or the one-hot masks of its labels (single-label)."""
    if gt.tissue is not None:
        return gt.tissue.values, gt.tissue.labels
    n_components = gt.n_components
    values = np.zeros((n_components, *gt.shape), dtype=np.float32)
    for label in range(n_components):
        np.equal(gt.seg, label, out=values[label], casting="unsafe")
    return values, np.arange(n_components, dtype=np.uint16)


def _check_values(name: str, values: np.ndarray, where: str) -> None:
    """The lesion's values of ``name`` are finite and within the quantity's physical range."""
    rule = quantity_rule(name)
    if values.size and (not np.all(np.isfinite(values)) or np.any(outside_bounds(values, rule))):
        raise GroundTruthError(
            f"{where}: {name} inside the lesion must be {bounds_text(rule)}; the lesion gives "
            f"values from {np.min(values):g} to {np.max(values):g}"
        )


def composition_text(gt: GroundTruth, lesions: Sequence[Lesion], partial_volume: bool) -> str:
    """How each voxel of a lesioned ground truth is made (the derivative Descriptions)."""
    names = ", ".join(lesion.name for lesion in lesions)
    base = (
        f"{gt.composition} "
        if partial_volume and gt.composition
        else (
            "Each voxel of the ground truth holds its tissues in their fractions, each tissue with "
            "its own values. "
            if partial_volume
            else "Each voxel of the ground truth holds one tissue of its label map. "
        )
    )
    return (
        f"{base}Inside the lesions ({names}; docs/physics.md §3.7) each tissue has the lesion's "
        "values in the part of the voxel the lesion covers (a later lesion wins where they "
        "overlap)"
    )


@dataclasses.dataclass(frozen=True)
class _Twins:
    """The components after the lesions: the ``n_base`` of the ground truth, then one twin per
    (lesion, tissue) of ``pairs``."""

    n_base: int
    pairs: tuple[tuple[int, int], ...]

    @property
    def size(self) -> int:
        """The number of components."""
        return self.n_base + len(self.pairs)

    def index(self, lesion: int, tissue: int) -> int | None:
        """The component of the twin of ``tissue`` in ``lesion`` (None: no such twin)."""
        try:
            return self.n_base + self.pairs.index((lesion, tissue))
        except ValueError:
            return None

    def origin(self, component: int) -> int:
        """The ground-truth component a component is (or is a twin of)."""
        return component if component < self.n_base else self.pairs[component - self.n_base][1]

    def lesion_of(self, component: int) -> int | None:
        """The lesion whose twin a component is (None for a ground-truth component)."""
        return None if component < self.n_base else self.pairs[component - self.n_base][0]


def _find_twins(
    base: np.ndarray, base_labels: np.ndarray, memberships: Sequence[Membership]
) -> _Twins:
    """One twin per lesion and tissue present inside it (background, label 0, has none)."""
    pairs = []
    for k, found in enumerate(memberships):
        covered = found.values > 0
        for tissue in np.flatnonzero(base_labels != 0):
            if np.any(base[(int(tissue),) + found.box][covered] > 0):
                pairs.append((k, int(tissue)))
    return _Twins(base.shape[0], tuple(pairs))


def _lesioned_fractions(
    base: np.ndarray, memberships: Sequence[Membership], twins: _Twins
) -> np.ndarray:
    """The float32 fractions of every component: lesion ``k`` moves ``w`` of each component
    (earlier twins included) to the twin of its origin (later wins)."""
    fractions = np.zeros((twins.size,) + base.shape[1:], dtype=np.float32)
    fractions[: twins.n_base] = base
    for k, found in enumerate(memberships):
        for component in range(twins.size):
            target = twins.index(k, twins.origin(component))
            if target is None or twins.lesion_of(component) == k:
                continue  # background, a tissue lesion k does not hold, or its own twins
            part = fractions[(component,) + found.box].astype(np.float64)
            moved = part * found.values
            fractions[(component,) + found.box] = part - moved
            fractions[(target,) + found.box] += moved.astype(np.float32)
    return fractions


def _lesioned_dense(
    gt: GroundTruth,
    lesions: Sequence[Lesion],
    memberships: Sequence[Membership],
    tissue_share: Callable[[Box], np.ndarray],
) -> dict[str, np.ndarray]:
    """Every dense map with ``x + w s (x_L - x)`` applied per lesion, in order."""
    dense = {}
    for name, arr in gt.maps.items():
        if arr.ndim != 3:
            continue
        values = np.array(arr, dtype=np.float64)
        for lesion, found in zip(lesions, memberships):
            rule = lesion.values.get(name)
            if rule is None:
                continue
            lesioned = rule.of(np.asarray(arr[found.box], dtype=np.float64))
            _check_values(name, lesioned[found.values > 0], f"{lesion.where}.values.{name}")
            weight = found.values * tissue_share(found.box)
            values[found.box] += weight * (lesioned - values[found.box])
        dense[name] = read_only(values)
    return dense


def _lesioned_tables(gt: GroundTruth, lesions: Sequence[Lesion], twins: _Twins) -> dict:
    """Every lookup table with one entry per twin: the lesion's value, or the tissue's."""
    tables = {}
    for name, arr in gt.maps.items():
        if arr.ndim != 1:
            continue
        table = np.asarray(arr[: twins.n_base], dtype=np.float64)
        extra = []
        for k, tissue in twins.pairs:
            rule = lesions[k].values.get(name)
            value = float(table[tissue]) if rule is None else float(rule.of(table[tissue]))
            if rule is not None:
                _check_values(name, np.array([value]), f"{lesions[k].where}.values.{name}")
            extra.append(value)
        tables[name] = read_only(np.concatenate([table, np.array(extra, dtype=np.float64)]))
    return tables


def _majority_seg(
    seg: np.ndarray, tissue: TissueFractions, memberships: Sequence[Membership]
) -> np.ndarray:
    """The label map with each lesion's box relabelled by the majority label of the fractions
    summed per label (only the labels present: no row per absent label)."""
    out = np.array(seg, dtype=np.uint16)
    present = np.unique(tissue.labels)
    for found in memberships:
        rows = np.zeros((present.size,) + out[found.box].shape, dtype=np.float64)
        for component, label in enumerate(tissue.labels):
            rows[np.searchsorted(present, label)] += tissue.values[(component,) + found.box]
        out[found.box] = majority(rows, present)
    return read_only(out)


def insert_lesions(gt: GroundTruth, lesions: Sequence[Lesion]) -> GroundTruth:
    """``gt`` with ``lesions`` inserted (module docstring); ``gt`` itself when there are none.

    Raises
    ------
    GroundTruthError
        One line naming the lesion (``global_configuration.lesions[i]...``) and the problem: the
        ground truth has no tissue labels, a centre outside its field of view or a lesion
        covering none of its voxels, a bad mask, an unknown quantity, a label or name of the
        ground truth's, or a resulting value outside its physical range.
    """
    if not lesions:
        return gt
    if gt.tissue is None and not np.any(gt.seg):
        raise GroundTruthError(
            f"{lesions[0].where}: lesions need a ground truth with tissue labels (seg_label); "
            "this one has none (every voxel is label 0, background, which is never lesioned)"
        )
    gt = with_named_quantities(gt, [name for lesion in lesions for name in lesion.values])
    for lesion in lesions:
        _check_quantities(gt, lesion)
    labels = _assign_labels(gt, lesions)
    memberships = [lesion_membership(gt, lesion) for lesion in lesions]
    base, base_labels = _base_fractions(gt)
    twins = _find_twins(base, base_labels, memberships)
    background = np.flatnonzero(base_labels == 0)

    def tissue_share(box: Box) -> np.ndarray:
        return 1.0 - base[(background,) + box].sum(axis=0, dtype=np.float64)

    tissue = TissueFractions(
        values=read_only(_lesioned_fractions(base, memberships, twins)),
        labels=read_only(
            np.array([*base_labels, *(labels[k] for k, _ in twins.pairs)], dtype=np.uint16)
        ),
    )
    maps = {
        **_lesioned_tables(gt, lesions, twins),
        **_lesioned_dense(gt, lesions, memberships, tissue_share),
    }
    segmentation = {**gt.segmentation}
    segmentation.update({lesion.name: label for lesion, label in zip(lesions, labels)})
    return dataclasses.replace(
        gt,
        seg=_majority_seg(gt.seg, tissue, memberships),
        segmentation=segmentation,
        maps={name: maps[name] for name in gt.maps},
        tissue=tissue,
        composition=composition_text(gt, lesions, gt.tissue is not None),
    )
