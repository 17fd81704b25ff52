"""Exact separable area weights (docs/physics.md D4b) for maps without rotation."""

import numpy as np
import pytest

from asldro.acquisition import area_weights
from asldro.acquisition.area_weights import (
    AxisStep,
    apply_steps,
    contract_axis,
    integrate_axis,
    overlap_weights,
    separable_steps,
)


def test_overlap_weights_by_hand():
    # target voxel of 2.5 source voxels starting at source edge -0.5
    weights = overlap_weights(2.5, 0.75, 2, 5)
    assert np.allclose(weights, [[0.4, 0.4, 0.2, 0, 0], [0, 0, 0.2, 0.4, 0.4]])
    # flipped axis: same rows in reverse order
    assert np.allclose(overlap_weights(-2.5, 3.25, 2, 5), weights[::-1])
    # half outside the source: the row sums to the inside fraction
    assert np.allclose(overlap_weights(2.0, -0.5, 1, 4), [[0.5, 0, 0, 0]])


def test_rows_sum_to_one_inside_the_fov():
    weights = overlap_weights(197 / 64, (197 / 64 - 1) / 2, 64, 197)
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-13)
    # every source voxel is fully shared out (conservation)
    assert np.allclose(weights.sum(axis=0) * 197 / 64, 1.0, atol=1e-12)


@pytest.mark.parametrize(
    "scale, offset, n_target", [(1.0, 0.3, 20), (0.5, -0.25, 40), (3.0, 1.0, 7)]
)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_band_and_dense_products_agree(scale, offset, n_target, axis, monkeypatch):
    rng = np.random.default_rng(0)
    array = rng.random((20, 21, 22))
    n_source = array.shape[axis]
    step = AxisStep(axis, axis, scale, offset, overlap_weights(scale, offset, n_target, n_source))
    monkeypatch.setattr(area_weights, "BAND_COST", 0)
    banded = contract_axis(array, step)
    monkeypatch.setattr(area_weights, "BAND_COST", 10**9)
    dense = contract_axis(array, step)
    expected = np.moveaxis(np.tensordot(step.weights, array, axes=(1, axis)), 0, axis)
    assert np.allclose(banded, expected, atol=1e-13)
    assert np.allclose(dense, expected, atol=1e-13)


@pytest.mark.parametrize("scale, offset", [(3.1, 1.2), (-2.0, 20.5), (0.7, -0.4), (15.75, 7.375)])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_integer_mask_path_equals_the_float_product(scale, offset, axis):
    rng = np.random.default_rng(1)
    mask = rng.random((24, 25, 26)) > 0.6
    n_target = max(1, int(mask.shape[axis] / abs(scale)))
    step = AxisStep(
        axis, axis, scale, offset, overlap_weights(scale, offset, n_target, mask.shape[axis])
    )
    expected = np.moveaxis(np.tensordot(step.weights, mask.astype(float), axes=(1, axis)), 0, axis)
    assert np.allclose(integrate_axis(mask, step), expected, atol=1e-12)


def test_rotation_is_not_separable_but_a_quarter_turn_is():
    angle = np.radians(3.0)
    rotated = np.eye(4)
    rotated[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    assert separable_steps(rotated, (10, 10, 10), (10, 10, 10), 1e-6) is None
    quarter = np.array([[0.0, -1, 0, 9], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    steps = separable_steps(quarter, (10, 12, 8), (12, 10, 8), 1e-6)
    assert steps is not None
    assert {(s.source_axis, s.target_axis) for s in steps} == {(0, 1), (1, 0), (2, 2)}
    # out[i, j, k] = array[9 - j, i, k]
    array = np.random.default_rng(2).random((10, 12, 8))
    i, j, k = np.indices((12, 10, 8))
    assert np.allclose(apply_steps(array, steps), array[9 - j, i, k], atol=1e-13)


def test_largest_reduction_is_contracted_first():
    voxel_map = np.diag([2.0, 1.0, 8.0, 1.0])
    steps = separable_steps(voxel_map, (20, 20, 64), (10, 20, 8), 1e-6)
    assert [s.source_axis for s in steps] == [2, 0, 1]
