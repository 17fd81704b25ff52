"""Box-average resampling under rotation, with a summed-volume table (docs/physics.md §6, D4b).

The source is piecewise constant on unit voxels, so its running integral
``F(u) = integral of f over [-0.5, u_0] x [-0.5, u_1] x [-0.5, u_2]`` is *exactly* trilinear between
the half-integer lattice points where it equals a 3-D cumulative sum. The average of ``f`` over
any axis-aligned box with real-valued corners is therefore exact: eight trilinear look-ups of
``F`` combined by inclusion-exclusion, divided by the box volume (``f = 0`` outside the source).

A rotated target voxel (a parallelepiped in source index space, edges = columns of the linear
part ``L`` of the voxel map) is split into ``n_0 x n_1 x n_2`` sub-parallelepipeds whose
off-axis shear is at most :data:`MAX_SHEAR` source voxels (relaxed for large rotations so that
at most :data:`MAX_SUB_BOXES` remain); each is replaced by the axis-aligned
box with the same second moments along every source axis (width ``sqrt(sum_j (L[k, j]/n_j)^2)``)
and the sub-box averages are averaged. Without rotation this reduces to the exact area average;
as the sub-division is refined it converges to the exact parallelepiped average. Uniform regions
keep their exact value and the total signal is conserved on average (the boxes tile space with the
target voxel density).

Along an axis where the box is exactly one source voxel wide (e.g. a rotated grid at the source
resolution) the box average is the linear interpolation of the voxel values, so that axis needs
no running sum and two look-ups instead of four.

The summed-volume table is the 3-D form of the summed-area table of Crow FC, Summed-area tables
for texture mapping, Computer Graphics (SIGGRAPH '84) 1984;18(3):207-212,
doi 10.1145/964965.808600, §2.1 (the table and its corner sums); docs/physics.md §6.5.
"""

from __future__ import annotations

import functools

import threading
from typing import Callable, Iterator, cast

import numpy as np

from asldro.acquisition.cumulative import one_hot_summed_volume, summed_volume

#: Largest off-axis shear (source voxels) of one sub-box edge before the edge is subdivided.
MAX_SHEAR = 0.5
#: Box widths this close to one source voxel are treated as exactly one (linear interpolation).
UNIT_WIDTH_TOLERANCE = 1e-9
#: Upper limit on the number of sub-boxes of one target voxel.
MAX_SUB_BOXES = 16
#: Lattice look-ups per batch (bounds the memory of the gathered values; 2**16 keeps a batch's
#: table rows in the CPU caches: 14 % faster per rotated volume than 2**18, bench/run.py)
BATCH_NODES = 1 << 16


def subdivisions(linear: np.ndarray) -> tuple[int, int, int]:
    """Number of sub-boxes along each target edge so that each edge's off-axis shear is small.

    The shear allowed starts at :data:`MAX_SHEAR` source voxels and grows (large rotations)
    until at most :data:`MAX_SUB_BOXES` sub-boxes remain.
    """
    columns = np.abs(linear)
    shear = np.sqrt(np.clip(np.sum(columns**2, axis=0) - np.max(columns, axis=0) ** 2, 0, None))
    tolerance = MAX_SHEAR
    while True:
        counts = np.clip(np.ceil(shear / tolerance - 1e-9), 1, None).astype(int)
        if np.prod(counts) <= MAX_SUB_BOXES:
            return int(counts[0]), int(counts[1]), int(counts[2])
        tolerance *= 1.25


#: Summed-volume tables a :class:`TableCache` keeps, per kind: one-hot label tables (the same
#: for every motion) and tables of lookup maps ``values[seg]`` (m0scan, control, label).
TABLES_KEPT = {"one_hot": 2, "lookup": 4, "field_of_view": 1}


@functools.lru_cache(maxsize=2)
def _inside(shape: tuple[int, ...]) -> np.ndarray:
    """A read-only all-true volume of ``shape``: the source's field of view (one object per
    shape, so that its summed-volume table is cached by identity)."""
    ones = np.ones(shape, dtype=np.bool_)
    ones.setflags(write=False)
    return ones


class TableCache:
    """Summed-volume tables kept for reuse, owned by whoever made the cache.

    A participant's :class:`~asldro.pipelines.context.SimulationContext` owns one and clears
    it (:meth:`clear`) when the participant is done, so nothing outlives the participant. The
    tables depend only on (seg, values or labels, integrated axes), not on the motion: the
    volumes of a series with motion per volume build each once. At most :data:`TABLES_KEPT`
    of each kind are kept, the least recently used dropped (a multi-PLD series keeps its control
    table while each phase brings a new label table); tables are read-only.
    """

    def __init__(self) -> None:
        self._stores: dict[str, dict[tuple, tuple[np.ndarray, np.ndarray]]] = {
            kind: {} for kind in TABLES_KEPT
        }
        self._lock = threading.Lock()

    def table(
        self, kind: str, key: tuple, seg: np.ndarray, build: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """The ``kind`` table of ``key``, built (read-only) under the lock when missing.

        ``key`` starts with ``id(seg)``; the stored ``seg`` reference keeps that id valid.
        """
        store = self._stores[kind]
        with self._lock:
            cached = store.get(key)
            if cached is not None and cached[0] is seg:
                store[key] = store.pop(key)  # most recently used last: dropped last
                return cached[1]
            table = build()
            table.setflags(write=False)
            while len(store) >= TABLES_KEPT[kind]:
                store.pop(next(iter(store)))
            store[key] = (seg, table)
            return table

    def arrays(self) -> list[np.ndarray]:
        """The tables held now."""
        with self._lock:
            return [table for store in self._stores.values() for _, table in store.values()]

    def clear(self) -> None:
        """Drop every table (and the label maps they were built from)."""
        with self._lock:
            for store in self._stores.values():
                store.clear()


class BoxSampler:
    """Box averages of a source volume over the (moved) target voxels.

    Parameters
    ----------
    voxel_map : numpy.ndarray
        4x4 map from target voxel index to source voxel index.
    src_shape, dst_shape : tuple of int
        Grid shapes.
    cache : TableCache, optional
        Where the summed-volume tables of label maps are kept for reuse; without one they are
        built on every call.
    """

    def __init__(
        self,
        voxel_map: np.ndarray,
        src_shape: tuple[int, ...],
        dst_shape: tuple[int, ...],
        cache: TableCache | None = None,
    ) -> None:
        self.cache = cache
        self.src_shape = tuple(int(n) for n in src_shape)
        self.dst_shape = tuple(int(n) for n in dst_shape)
        linear = voxel_map[:3, :3]
        counts = subdivisions(linear)
        sub_edges = linear / np.asarray(counts, dtype=np.float64)[None, :]
        self.widths = np.sqrt(np.sum(sub_edges**2, axis=1))
        grids = np.meshgrid(*[(np.arange(n) + 0.5) / n - 0.5 for n in counts], indexing="ij")
        fractions = np.stack([g.ravel() for g in grids], axis=1)
        self.sub_offsets = fractions @ linear.T
        self.voxel_map = np.array(voxel_map[:3], dtype=np.float64)  # linear part | offset
        # unit-width boxes need no running sum: their average is a linear interpolation
        integrate = np.abs(self.widths - 1.0) > UNIT_WIDTH_TOLERANCE
        self.integrate = cast(  # one flag per axis of the 3-D voxel map
            tuple[bool, bool, bool], tuple(bool(flag) for flag in integrate)
        )

    def table(self, array: np.ndarray) -> np.ndarray:
        """The summed-volume table of a source array that :meth:`average` expects."""
        return summed_volume(array, self.integrate)

    def lookup_table(self, seg: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The summed-volume table of the map ``values[seg]`` (a per-label lookup).

        Kept in the cache for the last few (seg, values): the volumes of a series with motion
        per volume share a handful of distinct lookups (m0scan, control, label).
        """

        def build() -> np.ndarray:
            return summed_volume(values[seg.astype(np.intp, copy=False)], self.integrate)

        if self.cache is None:
            return build()
        key = (id(seg), seg.shape, values.tobytes(), self.integrate)
        return self.cache.table("lookup", key, seg, build)

    def one_hot_table(self, seg: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """One table holding the one-hot masks of ``labels`` as channels.

        The table depends only on (seg, labels, integrated axes), not on the motion, so the
        cache keeps the last few: a series with a different motion per volume builds it once.
        """

        def build() -> np.ndarray:
            return one_hot_summed_volume(seg, labels, self.integrate)

        if self.cache is None:
            return build()
        key = (id(seg), seg.shape, tuple(int(label) for label in labels), self.integrate)
        return self.cache.table("one_hot", key, seg, build)

    def field_of_view_table(self) -> np.ndarray:
        """The summed-volume table of the source's field of view (all ones): :meth:`average`
        of it is the part of each target voxel inside the source. It depends on neither the
        motion nor the data, so a series with motion per volume builds it once (issue 16)."""
        inside = _inside(self.src_shape)
        if self.cache is None:
            return self.table(inside)
        key = (self.src_shape, self.integrate)
        return self.cache.table("field_of_view", key, inside, lambda: self.table(inside))

    def fraction_table(self, fractions: np.ndarray, start: int, stop: int) -> np.ndarray:
        """One table holding components ``start:stop`` of continuous fractions (``(C, *grid)``,
        a partial-volume ground truth's) as channels: :meth:`one_hot_table` for fractions. Kept
        in the cache like the one-hot tables (it does not depend on the motion)."""

        def build() -> np.ndarray:
            channels = np.moveaxis(np.asarray(fractions[start:stop], dtype=np.float64), 0, -1)
            return summed_volume(channels, self.integrate)

        if self.cache is None:
            return build()
        key = (id(fractions), fractions.shape, "fractions", start, stop, self.integrate)
        return self.cache.table("one_hot", key, fractions, build)

    def _sub_box_centres(self) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield (voxel slice, sub-box centres (3, n) in source index coordinates)."""
        n_voxels = int(np.prod(self.dst_shape))
        nodes = np.prod(np.where(self.integrate, 4, 2))
        batch = max(1, BATCH_NODES // int(nodes))
        for start in range(0, n_voxels, batch):
            part = slice(start, min(start + batch, n_voxels))
            index = np.unravel_index(np.arange(part.start, part.stop), self.dst_shape)
            centres = self.voxel_map[:, :3] @ np.stack(index) + self.voxel_map[:, 3:]
            for offset in self.sub_offsets:
                yield part, centres + offset[:, None]

    def average(self, table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Box-average the source whose :meth:`table` is ``table``.

        Returns
        -------
        numpy.ndarray
            float64, shape ``dst_shape`` (3-D table) or ``(C, *dst_shape)`` (table with ``C``
            channels on a last axis): ``out`` when given (a C-contiguous float64 array of that
            shape, filled in place: no copy of the averages is made).
        """
        return self._averages(table, out, with_inside=False)[0]

    def average_and_inside(
        self, table: np.ndarray, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`average` of ``table`` (into ``out``) and of :meth:`field_of_view_table` (the
        part of each target voxel inside the source), in one pass: the field of view's table is
        all-ones summed, a product of one count per axis, so its values at the lattice nodes
        are computed from the nodes instead of read (the same numbers, bit for bit, issue 16)."""
        averages, inside = self._averages(table, out, with_inside=True)
        return averages, cast(np.ndarray, inside)

    def _averages(
        self, table: np.ndarray, out: np.ndarray | None, *, with_inside: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        channels = table.shape[3:]
        n_voxels = int(np.prod(self.dst_shape))
        if out is None:
            out = np.empty(channels + self.dst_shape, dtype=np.float64)
        elif out.shape != channels + self.dst_shape or out.dtype != np.float64:
            raise ValueError(f"out must be float64 {channels + self.dst_shape}, got {out.shape}")
        elif not out.flags.c_contiguous:
            raise ValueError("out must be C-contiguous")
        total = out.reshape(channels + (n_voxels,))  # a view: each channel's voxels in a row
        total[...] = 0.0
        inside = np.zeros(n_voxels, dtype=np.float64) if with_inside else None
        for part, centres in self._sub_box_centres():
            nodes = LatticeNodes(table, centres, self.widths, self.integrate)
            sums = _summed(table, nodes.index, nodes.weight)
            if channels:
                total[:, part] += sums.T
            else:
                total[part] += sums
            if inside is not None:
                inside[part] += np.einsum("abcn,abcn->n", nodes.weight, nodes.inside_counts())
        scale = 1.0 / (np.prod(np.where(self.integrate, self.widths, 1.0)) * len(self.sub_offsets))
        total *= scale
        if inside is None:
            return out, None
        inside *= scale
        return out, inside.reshape(self.dst_shape)


def _integral_nodes(
    centre: np.ndarray, width: float, n_source: int
) -> tuple[np.ndarray, np.ndarray]:
    """Lattice nodes and signed weights (4, n) of ``F(centre + width/2) - F(centre - width/2)``.

    ``F`` is linear between lattice nodes ``q`` and ``q + 1`` (lattice ``g`` = source index
    ``g - 0.5``), and constant beyond the source, where ``f = 0``. Rows: the upper end's two
    nodes (weights ``1 - frac``, ``frac``), then the lower end's (``-(1 - frac)``, ``-frac``).
    """
    half = 0.5 * width
    ends = centre[np.newaxis, :] + np.array([[half], [-half]])  # upper, lower end
    lattice = np.clip(ends + 0.5, 0.0, n_source, out=ends)
    cell = np.minimum(lattice.astype(np.intp), n_source - 1)
    frac = lattice - cell
    cells = np.empty((4, centre.shape[0]), dtype=np.intp)
    cells[0::2] = cell
    np.add(cell, 1, out=cells[1::2])
    weights = np.empty((4, centre.shape[0]), dtype=np.float64)
    np.subtract(1.0, frac, out=weights[0::2])
    weights[1::2] = frac
    weights[2:] *= -1.0
    return cells, weights


def _unit_nodes(centre: np.ndarray, n_source: int) -> tuple[np.ndarray, np.ndarray]:
    """Table indices and weights (2, n) of the average over ``[centre - 0.5, centre + 0.5]``.

    Over a unit-width interval the average of piecewise-constant voxels is the linear
    interpolation of the voxel values (table index ``u + 1``, zero beyond the source).
    """
    position = np.clip(centre + 1.0, 0.0, n_source + 1.0)
    cell = np.minimum(position.astype(np.intp), n_source)
    frac = position - cell
    return np.stack([cell, cell + 1]), np.stack([1.0 - frac, frac])


class LatticeNodes:  # pylint: disable=too-few-public-methods  # the nodes and one derived value
    """The table entries every box reads: flat ``index`` and ``weight``, ``(a, b, c, n)`` arrays
    (``a``, ``b``, ``c`` nodes along x, y, z: 4 along an integrated axis, else 2), and per axis
    the nodes' table indices (``cells``), from which the field of view's table values follow.
    """

    def __init__(
        self,
        table: np.ndarray,
        centres: np.ndarray,
        widths: np.ndarray,
        integrate: tuple[bool, ...],
    ) -> None:
        self.integrate = tuple(bool(flag) for flag in integrate)
        self.table_shape = tuple(int(n) for n in table.shape[:3])
        cells, weights = [], []
        for k in range(3):
            if self.integrate[k]:
                cell, weight = _integral_nodes(centres[k], widths[k], table.shape[k] - 1)
            else:
                cell, weight = _unit_nodes(centres[k], table.shape[k] - 2)
            cells.append(cell)
            weights.append(weight)
        self.cells = cells
        node_stride = table.strides[2]
        offsets = [cell * (table.strides[k] // node_stride) for k, cell in enumerate(cells)]
        self.index = _outer(offsets, np.add)
        self.weight = _outer(weights, np.multiply)

    def inside_counts(self) -> np.ndarray:
        """The values of :meth:`BoxSampler.field_of_view_table` at the nodes (int32, as that
        table holds them): the summed all-ones volume is the product over the axes of the node
        index (an integrated axis: the count of voxels before it) or of 1 inside the padding (a
        unit-width axis)."""
        counts = []
        for cell, n_table, integrated in zip(self.cells, self.table_shape, self.integrate):
            inside = cell if integrated else (cell >= 1) & (cell <= n_table - 2)
            counts.append(inside.astype(np.int32))
        return _outer(counts, np.multiply)


def _outer(rows: list[np.ndarray], combine: np.ufunc) -> np.ndarray:
    """``combine(combine(x[a], y[b]), z[c])`` for every node ``(a, b, c)`` of every box: rows
    ``(nodes_k, n)`` per axis -> ``(a, b, c, n)``."""
    x, y, z = rows[0][:, None, None], rows[1][None, :, None], rows[2][None, None, :]
    return combine(combine(x, y), z)


def _summed(table: np.ndarray, index: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``sum_nodes weight * table[index]`` per box (and channel): see :func:`box_sums`."""
    if table.ndim == 3:
        return np.einsum("abcn,abcn->n", weight, np.take(table.reshape(-1), index))
    # np.take is several times faster than fancy indexing for gathering rows
    values = np.take(table.reshape(-1, table.shape[3]), index, axis=0)
    sums = [np.einsum("abcn,abcn->n", weight, values[..., c]) for c in range(values.shape[-1])]
    return np.stack(sums, axis=1)


def box_sums(
    table: np.ndarray, centres: np.ndarray, widths: np.ndarray, integrate: tuple[bool, ...]
) -> np.ndarray:
    """Exact integrals of the piecewise-constant source over axis-aligned boxes.

    Parameters
    ----------
    table : numpy.ndarray
        C-contiguous ``cumulative.summed_volume(array, integrate)``, optionally with channels
        on a fourth axis (all channels are read with one look-up per lattice node).
    centres : numpy.ndarray
        ``(3, n)`` box centres in source index coordinates.
    widths : numpy.ndarray
        ``(3,)`` box widths (source voxels); must be 1 along axes that are not integrated.
    integrate : tuple of bool
        Axes along which ``table`` holds running sums.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` or ``(n, C)`` float64: integral over the integrated axes, average over the
        unit-width ones.
    """
    nodes = LatticeNodes(table, centres, widths, integrate)
    return _summed(table, nodes.index, nodes.weight)
