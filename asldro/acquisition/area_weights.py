"""Exact separable box-average resampling (docs/physics.md §6, D4b), used when the voxel-to-voxel
map is a scaled (possibly flipped) axis permutation, i.e. whenever there is no rotation.

Source voxels are piecewise-constant unit boxes centred on integer indices. Along one axis a
target voxel ``i`` covers the source index interval ``[a*(i - 0.5) + b, a*(i + 0.5) + b]``; its
value is the length-weighted average of the source voxels it overlaps (zero outside the source).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from asldro.acquisition.cumulative import block_sums

#: A band of ``taps`` source voxels per target voxel is gathered tap by tap when
#: ``taps * BAND_COST < n_source``; otherwise the dense matrix product is cheaper.
BAND_COST = 40


def overlap_weights(scale: float, offset: float, n_target: int, n_source: int) -> np.ndarray:
    """Area weights of one axis (docs/physics.md §6, D4b: box PSF over piecewise-constant voxels).

    Parameters
    ----------
    scale, offset : float
        Target index ``t`` maps to source index ``scale * t + offset`` (``scale`` may be negative).
    n_target, n_source : int
        Number of voxels along the axis on each grid.

    Returns
    -------
    numpy.ndarray
        ``(n_target, n_source)`` matrix ``W[i, m] = |[lo_i, hi_i] ∩ [m - 0.5, m + 0.5]| / |scale|``.
        Each row sums to the fraction of target voxel ``i`` inside the source field of view.
    """
    centres = scale * np.arange(n_target, dtype=np.float64) + offset
    half = 0.5 * abs(scale)
    lo, hi = centres - half, centres + half
    edges = np.arange(n_source, dtype=np.float64)
    overlap = np.minimum(hi[:, None], edges[None, :] + 0.5) - np.maximum(
        lo[:, None], edges[None, :] - 0.5
    )
    return np.clip(overlap, 0.0, None) / abs(scale)


@dataclass(frozen=True)
class AxisStep:
    """Contract source axis ``source_axis`` with ``weights`` (rows: target axis ``target_axis``).

    Target index ``t`` maps to source index ``scale * t + offset`` along this axis.
    """

    source_axis: int
    target_axis: int
    scale: float
    offset: float
    weights: np.ndarray

    @cached_property
    def band(self) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero band of ``weights``: source indices and weights, each ``(taps, n_out)``.

        Each row of an overlap matrix is one contiguous run of overlapping source voxels.
        """
        nonzero = self.weights > 0
        n_source = self.weights.shape[1]
        first = np.argmax(nonzero, axis=1)
        last = n_source - 1 - np.argmax(nonzero[:, ::-1], axis=1)
        count = np.where(nonzero.any(axis=1), last - first + 1, 0)
        taps = np.arange(max(int(count.max()), 1))[:, None]
        index = np.minimum(first[None, :] + taps, n_source - 1)
        values = np.take_along_axis(self.weights, index.T, axis=1).T
        return index, np.where(taps < count[None, :], values, 0.0)


def separable_steps(
    voxel_map: np.ndarray, src_shape: tuple[int, ...], dst_shape: tuple[int, ...], tol: float
) -> tuple[AxisStep, ...] | None:
    """Split a voxel-to-voxel map into per-axis weight matrices, or ``None`` if it rotates.

    Parameters
    ----------
    voxel_map : numpy.ndarray
        4x4 map from target voxel index to source voxel index.
    src_shape, dst_shape : tuple of int
        Grid shapes.
    tol : float
        Largest displacement (source voxels, across the whole target grid) that an off-axis
        coefficient may cause and still be treated as zero.

    Returns
    -------
    tuple of AxisStep or None
        Steps ordered by decreasing reduction ratio (largest reduction contracted first).
    """
    linear = voxel_map[:3, :3]
    extent = np.abs(linear) * np.asarray(dst_shape, dtype=np.float64)[None, :]
    dominant = np.argmax(np.abs(linear), axis=1)
    if sorted(dominant.tolist()) != [0, 1, 2]:
        return None
    for k in range(3):
        off_axis = np.delete(extent[k], dominant[k])
        if np.any(off_axis > tol):
            return None
    steps = []
    for k in range(3):
        j = int(dominant[k])
        scale, offset = float(linear[k, j]), float(voxel_map[k, 3])
        weights = overlap_weights(scale, offset, dst_shape[j], src_shape[k])
        steps.append(AxisStep(k, j, scale, offset, weights))
    steps.sort(key=lambda step: -step.weights.shape[1] / step.weights.shape[0])
    return tuple(steps)


def contract_axis(array: np.ndarray, step: AxisStep) -> np.ndarray:
    """Apply ``step.weights`` (``n_out x n_in``) along ``step.source_axis`` of a 3-D array.

    Narrow bands (few source voxels per target voxel compared with the axis length, e.g. the
    same resolution or finer) are applied as a short sum of gathered slices; wide ones as a
    dense matrix product without transposes.
    """
    axis, weights = step.source_axis, step.weights
    index, values = step.band
    if index.shape[0] * BAND_COST < weights.shape[1]:
        along = [1, 1, 1]
        along[axis] = -1
        out = np.take(array, index[0], axis=axis) * values[0].reshape(along)
        for tap in range(1, index.shape[0]):
            out += np.take(array, index[tap], axis=axis) * values[tap].reshape(along)
        return out
    shape = array.shape
    if axis == 0:
        out = weights @ array.reshape(shape[0], -1)
        return out.reshape((weights.shape[0],) + shape[1:])
    if axis == 2:
        out = array.reshape(-1, shape[2]) @ weights.T
        return out.reshape(shape[:2] + (weights.shape[0],))
    return np.matmul(weights, array)


def integrate_axis(mask: np.ndarray, step: AxisStep) -> np.ndarray:
    """``step.weights`` applied along ``step.source_axis`` of a boolean mask (D4b).

    Same result as :func:`contract_axis` (the integral of the piecewise-constant source over
    each target interval divided by its length), computed from exact integer block sums between
    the target voxel edges plus the fractional edge voxels; for label masks this is several
    times faster than a float matrix product.
    """
    axis, n_source = step.source_axis, mask.shape[step.source_axis]
    # voxel edges: target voxel i spans edges i and i + 1 (in decreasing order if scale < 0)
    edges = step.scale * (np.arange(step.weights.shape[0] + 1) - 0.5) + step.offset
    lattice = np.clip(edges + 0.5, 0.0, n_source)
    cell = np.minimum(lattice.astype(np.intp), n_source - 1)
    starts = np.unique(np.append(cell, 0))
    blocks = block_sums(mask, starts, axis)
    # running sum C[c] = sum(mask[:c]) at every block start, then at every edge cell
    running = np.cumsum(blocks, axis=axis, dtype=blocks.dtype) - blocks
    running = np.take(running, np.searchsorted(starts, cell), axis=axis)
    shape = [1] * mask.ndim
    shape[axis] = -1
    frac = (lattice - cell).reshape(shape)
    integral = running + frac * np.take(mask, cell, axis=axis)
    return np.diff(integral, axis=axis) / step.scale


def apply_steps(array: np.ndarray, steps: tuple[AxisStep, ...]) -> np.ndarray:
    """Apply the per-axis steps to a 3-D array and return it in target axis order (C-contiguous).

    A boolean mask takes its first (largest) reduction through exact integer block sums;
    everything else is a float64 matrix product per axis.
    """
    out = array
    if array.dtype == np.bool_:
        out = integrate_axis(out, steps[0])
        steps_left = steps[1:]
    else:
        steps_left = steps
    for step in steps_left:
        out = contract_axis(out, step)
    order = [0, 0, 0]
    for step in steps:
        order[step.target_axis] = step.source_axis
    return np.ascontiguousarray(out.transpose(order))
