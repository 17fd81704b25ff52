"""Exact separable box-average resampling (physics.md §6, D4b), used when the voxel-to-voxel map
is a scaled (possibly flipped) axis permutation, i.e. whenever there is no rotation.

Source voxels are piecewise-constant unit boxes centred on integer indices. Along one axis a
target voxel ``i`` covers the source index interval ``[a*(i - 0.5) + b, a*(i + 0.5) + b]``; its
value is the length-weighted average of the source voxels it overlaps (zero outside the source).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asldro.acquisition.cumulative import block_sums


def overlap_weights(scale: float, offset: float, n_target: int, n_source: int) -> np.ndarray:
    """Area weights of one axis (physics.md §6, D4b: box PSF over piecewise-constant voxels).

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


def contract_axis(array: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Apply ``weights`` (``n_out x n_in``) along ``axis`` of a 3-D array, without transposes."""
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
        out = contract_axis(out, step.weights, step.source_axis)
    order = [0, 0, 0]
    for step in steps:
        order[step.target_axis] = step.source_axis
    return np.ascontiguousarray(out.transpose(order))
