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
from scipy import ndimage

#: Largest off-axis shear (source voxels) of one sub-box edge before the edge is subdivided.
MAX_SHEAR = 0.5
#: Upper limit on the subdivision of one target-voxel edge.
MAX_SUBDIVISION = 8
#: Target voxels processed per batch (bounds the memory of the corner coordinates).
BATCH_VOXELS = 1 << 17


def summed_volume(array: np.ndarray) -> np.ndarray:
    """3-D cumulative sum padded with a leading zero plane on every axis.

    ``G[g] = sum(array[:g0, :g1, :g2])`` is the running integral ``F`` at source index
    coordinate ``g - 0.5``. Integer and boolean input is summed exactly in integers.
    """
    if array.dtype.kind in "biu":
        dtype = np.int32 if array.size < np.iinfo(np.int32).max else np.int64
    else:
        dtype = np.float64
    table = np.zeros(tuple(n + 1 for n in array.shape), dtype=dtype)
    table[1:, 1:, 1:] = array
    for axis in range(3):
        np.cumsum(table, axis=axis, out=table)
    return table


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

    def _corner_batches(self) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """Yield (voxel slice, lattice coordinates (3, 8*n), corner signs (8,)) per sub-box."""
        upper = np.asarray(self.src_shape, dtype=np.float64)
        signs = np.array(
            [(-1) ** (3 - (a + b + c)) for a in (0, 1) for b in (0, 1) for c in (0, 1)],
            dtype=np.float64,
        )
        n_voxels = self.centres.shape[0]
        for start in range(0, n_voxels, BATCH_VOXELS):
            part = slice(start, min(start + BATCH_VOXELS, n_voxels))
            for offset in self.sub_offsets:
                centre = self.centres[part] + offset
                bounds = (
                    np.clip(centre - 0.5 * self.widths + 0.5, 0.0, upper),
                    np.clip(centre + 0.5 * self.widths + 0.5, 0.0, upper),
                )
                corners = [
                    np.stack([bounds[a][:, 0], bounds[b][:, 1], bounds[c][:, 2]])
                    for a in (0, 1)
                    for b in (0, 1)
                    for c in (0, 1)
                ]
                yield part, np.concatenate(corners, axis=1), signs

    def average(self, table: np.ndarray) -> np.ndarray:
        """Box-average the source whose :func:`summed_volume` is ``table``.

        Returns
        -------
        numpy.ndarray
            float64 array of shape ``dst_shape``.
        """
        n_voxels = self.centres.shape[0]
        total = np.zeros(n_voxels, dtype=np.float64)
        for part, coords, signs in self._corner_batches():
            values = ndimage.map_coordinates(
                table, coords, order=1, mode="nearest", output=np.float64, prefilter=False
            )
            total[part] += signs @ values.reshape(8, -1)
        scale = 1.0 / (np.prod(self.widths) * self.sub_offsets.shape[0])
        return (total * scale).reshape(self.dst_shape)
