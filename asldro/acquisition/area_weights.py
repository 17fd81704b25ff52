"""Exact separable box-average resampling (physics.md §6, D4b), used when the voxel-to-voxel map
is a scaled (possibly flipped) axis permutation, i.e. whenever there is no rotation.

Source voxels are piecewise-constant unit boxes centred on integer indices. Along one axis a
target voxel ``i`` covers the source index interval ``[a*(i - 0.5) + b, a*(i + 0.5) + b]``; its
value is the length-weighted average of the source voxels it overlaps (zero outside the source).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """Contract source axis ``source_axis`` with ``weights`` (rows: target axis ``target_axis``)."""

    source_axis: int
    target_axis: int
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
        weights = overlap_weights(linear[k, j], voxel_map[k, 3], dst_shape[j], src_shape[k])
        steps.append(AxisStep(source_axis=k, target_axis=j, weights=weights))
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


def apply_steps(array: np.ndarray, steps: tuple[AxisStep, ...]) -> np.ndarray:
    """Apply the per-axis steps to a 3-D array and return it in target axis order (C-contiguous)."""
    out = array
    for step in steps:
        out = contract_axis(out, step.weights, step.source_axis)
    order = [0, 0, 0]
    for step in steps:
        order[step.target_axis] = step.source_axis
    return np.ascontiguousarray(out.transpose(order))
