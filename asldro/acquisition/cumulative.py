"""Running sums of piecewise-constant voxel data (physics.md D4b: exact box integrals).

A running sum padded with a leading zero, ``C[g] = sum(x[:g])``, is the integral of the
piecewise-constant source from index ``-0.5`` to ``g - 0.5``; between those lattice points the
integral is linear, so the integral over any interval with real end points is exact.
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


def summed_volume(array: np.ndarray) -> np.ndarray:
    """3-D summed-volume table padded with a leading zero plane on the first three axes.

    ``G[g] = sum(array[:g0, :g1, :g2])`` is the running integral ``F`` at source index
    ``g - 0.5``. A 4-D input holds channels (e.g. one-hot labels) on its last axis.
    Boolean and integer input is summed exactly in integers.
    """
    shape = tuple(n + 1 for n in array.shape[:3]) + array.shape[3:]
    table = np.zeros(shape, dtype=count_dtype(array))
    table[1:, 1:, 1:] = array
    for axis in range(3):
        accumulate(table, axis)
    return table


def one_hot_summed_volume(seg: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:func:`summed_volume` of the one-hot masks ``seg == label`` stacked on a last axis."""
    shape = tuple(n + 1 for n in seg.shape) + (len(labels),)
    dtype = np.int32 if seg.size < np.iinfo(np.int32).max else np.int64
    table = np.zeros(shape, dtype=dtype)
    for channel, label in enumerate(labels):
        table[1:, 1:, 1:, channel] = seg == label
    for axis in range(3):
        accumulate(table, axis)
    return table
