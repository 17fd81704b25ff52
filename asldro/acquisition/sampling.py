"""Acquisition grid and box-PSF resampling of the moved object (docs/physics.md §6; D2-D4b).

The object, defined on the ground-truth (source) grid as piecewise-constant voxels and zero
outside it, is moved by the world-space rigid transform ``M`` and acquired on a fixed target
grid: each target voxel takes the **average** of the moved object over its extent, i.e. the
average of the source over the pulled-back box ``inv(A_in) @ inv(M) @ A_out`` of the voxel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from asldro.acquisition.area_weights import apply_steps, separable_steps
from asldro.acquisition.box_integral import BoxSampler, TableCache

#: Off-axis displacement (source voxels, over the whole grid) below which a map counts as unrotated.
SEPARABLE_TOLERANCE = 1e-6
#: Tolerance (source voxels) for the voxel map to count as the identity.
IDENTITY_TOLERANCE = 1e-6
#: Labels summed into one multi-channel table on the rotation path (memory: 4 bytes each per voxel).
LABELS_PER_TABLE = 4
#: Integer labels below this are found with a histogram instead of a sort.
MAX_HISTOGRAM_LABEL = 1 << 20
#: Label fractions closer than this count as a tie (resolved to the lowest label).
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Grid:
    """A voxel grid: ``shape`` (X, Y, Z) and 4x4 voxel-to-world ``affine`` (mm).

    Grids compare equal (and hash alike) when shape and affine are exactly equal.
    """

    shape: tuple[int, int, int]
    affine: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        affine = np.array(self.affine, dtype=np.float64)
        if affine.shape != (4, 4) or len(self.shape) != 3:
            raise ValueError(f"a grid needs a 3-D shape and a 4x4 affine, got {self.shape}")
        affine.setflags(write=False)
        object.__setattr__(self, "affine", affine)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grid):
            return NotImplemented
        return self.shape == other.shape and np.array_equal(self.affine, other.affine)

    def __hash__(self) -> int:
        return hash((self.shape, self.affine.tobytes()))

    @property
    def voxel_size(self) -> np.ndarray:
        """Voxel edge lengths in mm: column norms of ``affine[:3, :3]`` (docs/physics.md D4)."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)


def acquisition_grid(
    src_affine: np.ndarray, src_shape: Sequence[int], acq_matrix: Sequence[int]
) -> Grid:
    """Target grid with the source field of view, centred on it (docs/physics.md D3, D4).

    ``s = N_in / N_t`` per axis and
    ``A_out = A_in @ Z`` with ``Z = [[s_x, 0, 0, (s_x-1)/2], [0, s_y, 0, (s_y-1)/2],
    [0, 0, s_z, (s_z-1)/2], [0, 0, 0, 1]]``,
    so target voxel ``i`` covers source index interval ``[i*s - 0.5, (i+1)*s - 0.5]``.

    Parameters
    ----------
    src_affine : numpy.ndarray
        4x4 ground-truth affine ``A_in`` (any rotation, zoom or flip).
    src_shape : sequence of int
        Ground-truth shape ``N_in`` (first three entries used).
    acq_matrix : sequence of int
        Acquisition matrix ``N_t``.

    Returns
    -------
    Grid
    """
    n_in = np.asarray(src_shape[:3], dtype=np.float64)
    n_t = np.asarray(acq_matrix[:3], dtype=np.float64)
    if np.any(n_t < 1) or np.any(n_in < 1):
        raise ValueError(
            f"grid shapes must be positive, got {tuple(src_shape)} -> {tuple(acq_matrix)}"
        )
    scale = n_in / n_t
    zoom = np.diag(np.append(scale, 1.0))
    zoom[:3, 3] = (scale - 1.0) / 2.0
    affine = np.asarray(src_affine, dtype=np.float64) @ zoom
    shape = tuple(int(n) for n in acq_matrix[:3])
    return Grid(shape=shape, affine=affine)  # type: ignore[arg-type]  # 3 axes: acq_matrix[:3]


def present_labels(seg: np.ndarray) -> np.ndarray:
    """Sorted distinct labels of ``seg`` (a histogram for small non-negative integers)."""
    if seg.dtype.kind in "ui" and seg.size:
        low, high = int(seg.min()), int(seg.max())
        if low >= 0 and high < MAX_HISTOGRAM_LABEL:
            return np.flatnonzero(np.bincount(seg.ravel(), minlength=high + 1)).astype(seg.dtype)
    return np.unique(seg)


def mix(values: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """``sum_c values[c] * fractions[c]`` (float64): a lookup table acquired through per-component
    fractions ``(C, *grid)`` (the one implementation of the mixture, docs/physics.md §3.5, §6.3).

    float64 fractions (label fractions, and tissue fractions resampled to an acquisition grid,
    whose component 0 is the rest of the voxel: :meth:`Resampler.resample_fractions`) go through
    one ``tensordot``. float32 fractions (a partial-volume ground truth's own, on its grid) are
    accumulated component by component as ``values[0] + sum_{c>0} (values[c] - values[0]) *
    fractions[c]``: component 0 (background) is the rest of the voxel, so a table with one
    value everywhere gives exactly that value (the float32 fractions sum to 1 only within 2e-7),
    and no float64 copy of the stack is made.
    """
    values = np.asarray(values, dtype=np.float64)
    if fractions.shape[0] != values.size:
        raise ValueError(f"{values.size} table values for {fractions.shape[0]} fraction components")
    if fractions.dtype == np.float64:
        return np.tensordot(values, fractions, axes=(0, 0))
    out = np.full(fractions.shape[1:], values[0], dtype=np.float64)
    term = np.empty_like(out)  # one buffer for every component's term
    for value, fraction in zip(values[1:], fractions[1:]):
        if value != values[0]:
            np.multiply(value - values[0], fraction, out=term, dtype=np.float64)
            out += term
    return out


def majority(fractions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label of the largest fraction in each voxel: ``labels[argmax]`` over the first axis of
    ``fractions`` (``(len(labels), *grid)``), ties (within :data:`TIE_TOLERANCE`) to the first.

    The one implementation of the majority rule (docs/physics.md D2): the acquisition-grid
    ``seg_label``, the label map of a partial-volume ground truth and its single-label file view.
    """
    near_best = fractions >= fractions.max(axis=0) - TIE_TOLERANCE
    return np.asarray(labels)[np.argmax(near_best, axis=0)]


class Resampler:
    """Acquire the moved object on a target grid with a box PSF (docs/physics.md §6, D2, D4b).

    Parameters
    ----------
    src_affine : numpy.ndarray
        4x4 source (ground-truth) affine ``A_in``.
    src_shape : sequence of int
        Source shape (3-D).
    target : Grid
        The fixed acquisition grid.
    motion : numpy.ndarray, optional
        4x4 world-space transform ``M`` that moves the object (see ``motion_matrix``).
    cache : TableCache, optional
        Keeps the summed-volume tables of the rotation path for reuse by other resamplers of
        the same source (its owner clears it); without one nothing is kept.

    Notes
    -----
    Without rotation (the voxel map is a scaled, possibly flipped, axis permutation) the result is
    the exact area average, computed with one overlap-weight matrix per axis. With rotation it uses
    exact box integrals of a summed-volume table over moment-matched sub-boxes
    (``box_integral``). When the voxel map is the identity every method returns an exact copy.
    """

    def __init__(
        self,
        src_affine: np.ndarray,
        src_shape: Sequence[int],
        target: Grid,
        motion: np.ndarray | None = None,
        cache: TableCache | None = None,
    ) -> None:
        self.cache = cache
        self.src_shape = tuple(int(n) for n in src_shape[:3])
        self.target = target
        self.motion = np.eye(4) if motion is None else np.asarray(motion, dtype=np.float64)
        source = np.asarray(src_affine, dtype=np.float64)
        self.voxel_map = np.linalg.inv(source) @ np.linalg.inv(self.motion) @ target.affine
        self._steps = separable_steps(
            self.voxel_map, self.src_shape, target.shape, SEPARABLE_TOLERANCE
        )
        self._box: BoxSampler | None = None

    @property
    def is_identity(self) -> bool:
        """True when target grid and moved source grid coincide: every method is an exact copy."""
        return self.target.shape == self.src_shape and np.allclose(
            self.voxel_map, np.eye(4), rtol=0.0, atol=IDENTITY_TOLERANCE
        )

    @property
    def is_separable(self) -> bool:
        """True when no rotation is involved (exact separable area weights are used)."""
        return self._steps is not None

    def _check(self, volume: np.ndarray) -> np.ndarray:
        volume = np.asarray(volume)
        if volume.shape != self.src_shape:
            raise ValueError(f"expected a volume of shape {self.src_shape}, got {volume.shape}")
        return volume

    def _box_sampler(self) -> BoxSampler:
        if self._box is None:
            self._box = BoxSampler(self.voxel_map, self.src_shape, self.target.shape, self.cache)
        return self._box

    def _average(self, volume: np.ndarray) -> np.ndarray:
        """Box average of a 3-D source array (any numeric/bool dtype) on the target grid."""
        if self._steps is not None:
            return apply_steps(volume, self._steps)
        sampler = self._box_sampler()
        return sampler.average(sampler.table(volume))

    def resample(self, volume: np.ndarray) -> np.ndarray:
        """Box-PSF acquisition of a dense map (docs/physics.md D4b); float64, ``target.shape``.

        Complex input is resampled part by part (linear) and returned as complex128.
        """
        volume = self._check(volume)
        if np.iscomplexobj(volume):
            return self.resample(volume.real) + 1j * self.resample(volume.imag)
        if self.is_identity:
            return volume.astype(np.float64, copy=True)
        return self._average(volume.astype(np.float64, copy=False))

    def label_fractions(self, seg: np.ndarray, labels: Sequence[int] | np.ndarray) -> np.ndarray:
        """Fraction of each label in each target voxel (docs/physics.md D2 "probseg").

        Returns
        -------
        numpy.ndarray
            float64 ``(len(labels), *target.shape)``; the sum over all labels of ``seg`` is the
            fraction of the voxel inside the source field of view.
        """
        seg = self._check(seg)
        labels = np.asarray(labels)
        out = np.empty((len(labels),) + self.target.shape, dtype=np.float64)
        if self._steps is None and not self.is_identity:
            # One summed-volume table for several labels: each lattice look-up reads them all.
            sampler = self._box_sampler()
            for start in range(0, len(labels), LABELS_PER_TABLE):
                chunk = labels[start : start + LABELS_PER_TABLE]
                table = sampler.one_hot_table(seg, chunk)
                out[start : start + len(chunk)] = sampler.average(table)
        else:
            for index, label in enumerate(labels):
                mask = seg == label
                out[index] = mask if self.is_identity else self._average(mask)
        # a fraction lies in [0, 1]; floating-point rounding can leave +-1e-12 outside
        return np.clip(out, 0.0, 1.0, out=out)

    def resample_fractions(self, fractions: np.ndarray) -> np.ndarray:
        """Tissue fractions ``(C, *src_shape)`` of a partial-volume ground truth on the target
        grid: float64 ``(C, *target.shape)``, the box average of each component ``c > 0`` and,
        for component 0 (background), the rest of the part of the voxel inside the source field
        of view, so that the components sum to that part exactly (not only within the float32
        rounding of the input; where the others exceed it by that rounding they are scaled down
        to fit). The continuous generalisation of :meth:`label_fractions`."""
        for component in fractions:
            self._check(component)
        out = np.empty((fractions.shape[0],) + self.target.shape, dtype=np.float64)
        if self.is_identity:
            out[1:] = fractions[1:]
            inside: np.ndarray | float = 1.0
        elif self._steps is None:
            sampler = self._box_sampler()
            inside_fov: np.ndarray | None = None
            for start in range(1, fractions.shape[0], LABELS_PER_TABLE):
                stop = min(start + LABELS_PER_TABLE, fractions.shape[0])
                table = sampler.fraction_table(fractions, start, stop)
                if inside_fov is None:  # the field of view read with the first table's nodes
                    inside_fov = sampler.average_and_inside(table, out[start:stop])[1]
                else:
                    sampler.average(table, out[start:stop])
            if inside_fov is None:  # no tissue components
                inside_fov = sampler.average(sampler.field_of_view_table())
            inside = inside_fov
        else:
            for index in range(1, fractions.shape[0]):
                out[index] = self._average(fractions[index])
            inside = self._average(np.ones(self.src_shape, dtype=np.bool_))
        np.clip(out[1:], 0.0, 1.0, out=out[1:])
        inside = np.clip(inside, 0.0, 1.0)  # the rotation path can leave +-1e-12 outside
        tissue = out[1:].sum(axis=0)
        # the float32 input sums to 1 within 2e-7: where the other components exceed the voxel's
        # part inside the field of view, they are scaled to fill it exactly
        over = tissue > inside
        if np.any(over):
            room = np.broadcast_to(inside, tissue.shape)[over]
            out[1:, over] *= room / tissue[over]
            tissue[over] = room
        out[0] = np.clip(inside - tissue, 0.0, 1.0)
        return out

    def resample_table(
        self,
        seg: np.ndarray,
        table: Sequence[float] | np.ndarray,
        fractions: np.ndarray | None = None,
    ) -> np.ndarray:
        """Acquire the map ``table[seg]``: ``sum_l table[l] * fraction_l`` (linearity of D4b).

        Parameters
        ----------
        seg : numpy.ndarray
            Integer label volume on the source grid.
        table : sequence of float
            Value of each label ``0 .. len(table) - 1``.
        fractions : numpy.ndarray, optional
            ``label_fractions(seg, range(len(table)))``, to reuse across volumes. Without it the
            map ``table[seg]`` is resampled directly (identical by linearity, one pass).
        """
        values = np.asarray(table, dtype=np.float64)
        if fractions is None:
            seg = self._check(seg)
            if seg.size and (seg.min() < 0 or seg.max() >= values.size):
                raise ValueError(f"seg holds labels outside the table of {values.size} values")
            if self._steps is None and not self.is_identity:
                sampler = self._box_sampler()
                return sampler.average(sampler.lookup_table(seg, values))
            return self.resample(values[seg.astype(np.intp, copy=False)])
        fractions = np.asarray(fractions)
        if fractions.shape != (values.size,) + self.target.shape:
            raise ValueError(
                f"fractions must have shape {(values.size,) + self.target.shape}, "
                f"got {fractions.shape}"
            )
        return mix(values, fractions)

    def majority_labels(self, seg: np.ndarray, fractions: np.ndarray | None = None) -> np.ndarray:
        """Label covering the largest part of each target voxel (docs/physics.md D2).

        Ties go to the lowest label: labels whose fractions are within :data:`TIE_TOLERANCE` of
        the largest count as tied, so the choice never depends on floating-point rounding. The
        part of a voxel outside the source field of view counts as label 0, so voxels entirely
        outside are 0. Never yields a label absent from ``seg`` (other than 0 outside the field
        of view); keeps the dtype of ``seg``. This is the one implementation of the rule.

        Parameters
        ----------
        seg : numpy.ndarray
            Integer label volume on the source grid.
        fractions : numpy.ndarray, optional
            ``label_fractions(seg, range(n))`` for labels ``0 .. n - 1`` (``n > max(seg)``), to
            reuse fractions computed for other quantities; computed here when omitted.
        """
        seg = self._check(seg)
        if self.is_identity:
            return seg.copy()
        if fractions is None:
            labels = present_labels(seg)
            if 0 not in labels:
                labels = np.sort(np.append(labels, 0).astype(labels.dtype))
            fractions = self.label_fractions(seg, labels)
        else:
            labels = np.arange(len(fractions))
            if fractions.shape[1:] != self.target.shape or (seg.size and seg.max() >= len(labels)):
                raise ValueError(
                    f"fractions must have shape (n > max(seg), {self.target.shape}), "
                    f"got {fractions.shape}"
                )
            fractions = np.array(fractions, dtype=np.float64)  # the caller's stay unchanged
        zero = int(np.searchsorted(labels, 0))
        fractions[zero] += np.clip(1.0 - fractions.sum(axis=0), 0.0, None)
        return majority(fractions, labels).astype(seg.dtype, copy=False)
