"""One region's numbers (asldro/scoring/statistics.py) against values worked out by hand."""

import math

import numpy as np
import pytest

from asldro.scoring.statistics import COLUMNS, region_statistics


def test_the_numbers_of_a_small_region():
    truth = np.array([10.0, 20.0, 30.0, 40.0])
    estimate = np.array([10.5, 20.0, 26.0, 46.0])  # errors +0.5, 0, -4, +6
    numbers = region_statistics(estimate, truth)
    assert numbers["n_voxels"] == 4
    assert numbers["mean_truth"] == 25.0
    assert numbers["mean_estimate"] == 25.625
    assert numbers["bias"] == 0.625
    assert numbers["relative_bias"] == pytest.approx(0.025)
    assert numbers["rmse"] == pytest.approx(math.sqrt((0.25 + 0 + 16 + 36) / 4))
    # within 10 %: +0.5 of 10 and 0 of 20 are; -4 of 30 and +6 of 40 are not
    assert numbers["within_10_percent"] == 0.5
    expected_r = np.corrcoef(estimate, truth)[0, 1]
    assert numbers["pearson_r"] == pytest.approx(expected_r)
    assert set(numbers) == set(list(COLUMNS)[4:])


def test_undefined_numbers_are_none():
    constant = region_statistics(np.array([59.0, 61.0, 60.0]), np.full(3, 60.0))
    assert constant["pearson_r"] is None  # a constant truth has nothing to correlate with
    assert constant["bias"] == 0.0 and constant["relative_bias"] == 0.0
    no_flow = region_statistics(np.array([0.5, -0.5]), np.zeros(2))
    assert no_flow["relative_bias"] is None
    assert no_flow["within_10_percent"] == 0.0
    empty = region_statistics(np.array([]), np.array([]))
    assert empty["n_voxels"] == 0
    assert all(empty[key] is None for key in list(COLUMNS)[5:])
