"""Running sums of piecewise-constant voxel data (docs/physics.md D4b: exact box integrals).

A running sum padded with a leading zero, ``C[g] = sum(x[:g])``, is the integral of the
piecewise-constant source from index ``-0.5`` to ``g - 0.5``; between those lattice points the
integral is linear, so the integral over any interval with real end points is exact (the
one-dimensional summed-area table of Crow 1984, SIGGRAPH, doi 10.1145/964965.808600;
docs/physics.md §6.4-§6.5).
"""

from __future__ import annotations

import numpy as np


def count_dtype(array: np.ndarray) -> np.dtype:
    """Accumulator type: exact integers for boolean/integer input, float64 otherwise."""
    if array.dtype.kind in "biu":
        return np.dtype(np.int32 if array.size < np.iinfo(np.int32).max else np.int64)
    return np.dtype(np.float64)


def accumulate(table: np.ndarray, axis: int) -> None:
    """In-place running sum of ``table`` along ``axis`` (0, 1 or 2; extra trailing axes allowed).

    Slice-by-slice sums are several times faster than ``np.cumsum`` on the outer axes.
    """
    if axis == 0:
        for i in range(1, table.shape[0]):
            table[i] += table[i - 1]
    elif axis == 1:
        for i in range(1, table.shape[1]):
            table[:, i] += table[:, i - 1]
    else:
        np.cumsum(table, axis=2, out=table)


def block_sums(mask: np.ndarray, starts: np.ndarray, axis: int) -> np.ndarray:
    """Integer sums of ``mask`` over the blocks ``[starts[j], starts[j + 1])`` along ``axis``.

    ``starts`` is strictly increasing; the last block runs to the end of the axis.
    """
    if axis == mask.ndim - 1:
        data = mask.view(np.uint8) if mask.dtype == np.bool_ else mask
        return np.add.reduceat(data, starts, axis=axis, dtype=np.int32)
    bounds = np.append(starts, mask.shape[axis])
    sums = []
    for low, high in zip(bounds[:-1], bounds[1:]):
        index = [slice(None)] * mask.ndim
        index[axis] = slice(low, high)
        sums.append(mask[tuple(index)].sum(axis=axis, dtype=np.int32))
    return np.stack(sums, axis=axis)


def summed_volume(
    array: np.ndarray, integrate: tuple[bool, bool, bool] = (True, True, True)
) -> np.ndarray:
    """Summed-volume table of a 3-D array (a 4-D array holds channels on its last axis).

    Along an ``integrate`` axis the table has a leading zero and holds running sums:
    ``G[g] = sum(array[:g])``, the running integral ``F`` at source index ``g - 0.5``. Along the
    other axes it holds the values themselves, padded with one zero on both ends (index
    ``u + 1`` for source index ``u``). Boolean and integer input is summed exactly in integers.
    """
    pads = [(1, 0) if flag else (1, 1) for flag in integrate]
    shape = tuple(n + low + high for n, (low, high) in zip(array.shape[:3], pads))
    table = np.zeros(shape + array.shape[3:], dtype=count_dtype(array))
    table[tuple(slice(1, 1 + n) for n in array.shape[:3])] = array
    for axis, flag in enumerate(integrate):
        if flag:
            accumulate(table, axis)
    return table


def one_hot_summed_volume(
    seg: np.ndarray, labels: np.ndarray, integrate: tuple[bool, bool, bool] = (True, True, True)
) -> np.ndarray:
    """:func:`summed_volume` of the one-hot masks ``seg == label`` stacked on a last axis."""
    pads = [(1, 0) if flag else (1, 1) for flag in integrate]
    shape = tuple(n + low + high for n, (low, high) in zip(seg.shape, pads))
    dtype = np.int32 if seg.size < np.iinfo(np.int32).max else np.int64
    table = np.zeros(shape + (len(labels),), dtype=dtype)
    interior = tuple(slice(1, 1 + n) for n in seg.shape)
    for channel, label in enumerate(labels):
        table[interior + (channel,)] = seg == label
    for axis, flag in enumerate(integrate):
        if flag:
            accumulate(table, axis)
    return table
