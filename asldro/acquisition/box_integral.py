"""Box-average resampling under rotation, with a summed-volume table (physics.md §6, D4b).

The source is piecewise constant on unit voxels, so its running integral
``F(u) = integral of f over [-0.5, u_0] x [-0.5, u_1] x [-0.5, u_2]`` is *exactly* trilinear between
the half-integer lattice points where it equals a 3-D cumulative sum. The average of ``f`` over
any axis-aligned box with real-valued corners is therefore exact: eight trilinear look-ups of
``F`` combined by inclusion-exclusion, divided by the box volume (``f = 0`` outside the source).

A rotated target voxel (a parallelepiped in source index space, edges = columns of the linear
part ``L`` of the voxel map) is split into ``n_0 x n_1 x n_2`` sub-parallelepipeds whose
off-axis shear is at most :data:`MAX_SHEAR` source voxels; each is replaced by the axis-aligned
box with the same second moments along every source axis (width ``sqrt(sum_j (L[k, j]/n_j)^2)``)
and the sub-box averages are averaged. Without rotation this reduces to the exact area average;
as the sub-division is refined it converges to the exact parallelepiped average. Uniform regions
keep their exact value and the total signal is conserved on average (the boxes tile space with the
target voxel density).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

#: Largest off-axis shear (source voxels) of one sub-box edge before the edge is subdivided.
MAX_SHEAR = 0.5
#: Upper limit on the subdivision of one target-voxel edge.
MAX_SUBDIVISION = 8
#: Target voxels processed per batch (bounds the memory of the corner coordinates).
BATCH_VOXELS = 4096


def subdivisions(linear: np.ndarray) -> tuple[int, int, int]:
    """Number of sub-boxes along each target edge so that each edge's off-axis shear is small."""
    counts = []
    for j in range(3):
        column = np.abs(linear[:, j])
        shear = np.sqrt(max(float(np.sum(column**2) - np.max(column) ** 2), 0.0))
        counts.append(int(np.clip(np.ceil(shear / MAX_SHEAR - 1e-9), 1, MAX_SUBDIVISION)))
    return counts[0], counts[1], counts[2]


class BoxSampler:
    """Box averages of a source volume over the (moved) target voxels.

    Parameters
    ----------
    voxel_map : numpy.ndarray
        4x4 map from target voxel index to source voxel index.
    src_shape, dst_shape : tuple of int
        Grid shapes.
    """

    def __init__(
        self, voxel_map: np.ndarray, src_shape: tuple[int, ...], dst_shape: tuple[int, ...]
    ) -> None:
        self.src_shape = tuple(int(n) for n in src_shape)
        self.dst_shape = tuple(int(n) for n in dst_shape)
        linear = voxel_map[:3, :3]
        counts = subdivisions(linear)
        sub_edges = linear / np.asarray(counts, dtype=np.float64)[None, :]
        self.widths = np.sqrt(np.sum(sub_edges**2, axis=1))
        grids = np.meshgrid(*[(np.arange(n) + 0.5) / n - 0.5 for n in counts], indexing="ij")
        fractions = np.stack([g.ravel() for g in grids], axis=1)
        self.sub_offsets = fractions @ linear.T
        index = np.indices(self.dst_shape, dtype=np.float64).reshape(3, -1)
        self.centres = (linear @ index + voxel_map[:3, 3:4]).T

    def _box_bounds(self) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """Yield (voxel slice, lower and upper lattice coordinates (3, n)) for every sub-box.

        Lattice coordinate ``g`` is source index ``g - 0.5``; bounds are clipped to the source
        (``F`` is constant beyond it because ``f = 0`` outside).
        """
        upper = np.asarray(self.src_shape, dtype=np.float64)[:, None]
        n_voxels = self.centres.shape[0]
        for start in range(0, n_voxels, BATCH_VOXELS):
            part = slice(start, min(start + BATCH_VOXELS, n_voxels))
            for offset in self.sub_offsets:
                centre = (self.centres[part] + offset).T + 0.5
                half = 0.5 * self.widths[:, None]
                lower = np.clip(centre - half, 0.0, upper)
                higher = np.clip(centre + half, 0.0, upper)
                yield part, lower, higher

    def average(self, table: np.ndarray) -> np.ndarray:
        """Box-average the source whose ``cumulative.summed_volume`` is ``table``.

        Returns
        -------
        numpy.ndarray
            float64, shape ``dst_shape`` (3-D table) or ``(C, *dst_shape)`` (table with ``C``
            channels on a last axis).
        """
        channels = table.shape[3:]
        total = np.zeros((self.centres.shape[0],) + channels, dtype=np.float64)
        for part, lower, higher in self._box_bounds():
            total[part] += box_sums(table, lower, higher)
        total *= 1.0 / (np.prod(self.widths) * self.sub_offsets.shape[0])
        return np.moveaxis(total, 0, -1).reshape(channels + self.dst_shape)


def _axis_nodes(
    lower: np.ndarray, higher: np.ndarray, n_cells: int, stride: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flat offsets and signed weights (4, n) of ``F(higher) - F(lower)`` along one axis.

    ``F`` is linear between lattice nodes ``q`` and ``q + 1`` (``q = floor(g)``, the last cell
    closed so that ``g = n_cells`` uses ``q = n_cells - 1``).
    """
    offsets, weights = [], []
    for coord, sign in ((higher, 1.0), (lower, -1.0)):
        cell = np.minimum(coord.astype(np.intp), n_cells - 1)
        frac = coord - cell
        offsets += [cell * stride, (cell + 1) * stride]
        weights += [sign * (1.0 - frac), sign * frac]
    return np.stack(offsets), np.stack(weights)


def box_sums(table: np.ndarray, lower: np.ndarray, higher: np.ndarray) -> np.ndarray:
    """Exact integrals of the piecewise-constant source over axis-aligned boxes.

    Parameters
    ----------
    table : numpy.ndarray
        C-contiguous ``cumulative.summed_volume`` of the source, optionally with channels on a
        fourth axis (all channels are read with one look-up per lattice node).
    lower, higher : numpy.ndarray
        ``(3, n)`` box corners in lattice coordinates, within ``[0, N_k]``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` or ``(n, C)`` float64: inclusion-exclusion ``sum(+-F(corner))`` of the
        trilinear ``F``.
    """
    node_stride = table.strides[2]
    strides = [s // node_stride for s in table.strides[:3]]
    nodes = [_axis_nodes(lower[k], higher[k], table.shape[k] - 1, strides[k]) for k in range(3)]
    (x_off, x_wt), (y_off, y_wt), (z_off, z_wt) = nodes
    index = (x_off[:, None, None] + y_off[None, :, None]) + z_off[None, None, :]
    weight = (x_wt[:, None, None] * y_wt[None, :, None]) * z_wt[None, None, :]
    if table.ndim == 3:
        return np.einsum("abcn,abcn->n", weight, table.reshape(-1)[index])
    values = table.reshape(-1, table.shape[3])[index]
    return np.einsum("abcn,abcnk->nk", weight, values)
