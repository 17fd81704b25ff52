"""Running sums behind the exact box integrals (docs/physics.md D4b)."""

import numpy as np
import pytest

from asldro.acquisition.cumulative import (
    block_sums,
    one_hot_summed_volume,
    summed_volume,
)


def test_summed_volume_is_the_sum_of_every_leading_block():
    rng = np.random.default_rng(0)
    array = rng.normal(size=(5, 4, 6))
    table = summed_volume(array)
    assert table.shape == (6, 5, 7) and table.dtype == np.float64
    for g in [(0, 0, 0), (1, 1, 1), (5, 4, 6), (3, 2, 5), (5, 0, 2)]:
        assert table[g] == pytest.approx(array[: g[0], : g[1], : g[2]].sum(), abs=1e-12)


def test_masks_are_summed_exactly_in_integers():
    rng = np.random.default_rng(1)
    mask = rng.random((7, 3, 5)) > 0.4
    table = summed_volume(mask)
    assert table.dtype.kind == "i"
    assert table[-1, -1, -1] == mask.sum()
    assert table[4, 2, 3] == mask[:4, :2, :3].sum()


def test_one_hot_table_has_one_channel_per_label():
    rng = np.random.default_rng(2)
    seg = rng.integers(0, 5, size=(6, 5, 4))
    labels = np.array([4, 0, 9])
    table = one_hot_summed_volume(seg, labels)
    assert table.shape == (7, 6, 5, 3)
    for channel, label in enumerate(labels):
        assert np.array_equal(table[..., channel], summed_volume(seg == label))
    assert np.all(table[..., 2] == 0)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("starts", [[0, 1, 4], [0, 3], [0, 2, 3, 5]])
def test_block_sums_along_each_axis(axis, starts):
    rng = np.random.default_rng(3)
    mask = rng.random((6, 7, 8)) > 0.5
    sums = block_sums(mask, np.array(starts), axis)
    bounds = starts + [mask.shape[axis]]
    for j, (low, high) in enumerate(zip(bounds[:-1], bounds[1:])):
        expected = np.take(mask, range(low, high), axis=axis).sum(axis=axis)
        assert np.array_equal(np.take(sums, j, axis=axis), expected)
