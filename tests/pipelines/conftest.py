"""Shared fixtures: the built-in ground truth (built once per test session)."""

import pytest

from asldro.groundtruth import builtin_ground_truth


@pytest.fixture(scope="session")
def gt3t():
    """The built-in 3T ground truth, single-label (the tests of the label-map paths; the
    partial-volume model has its own tests)."""
    return builtin_ground_truth("hrgt_icbm_2009a_nls_3t", "single_label")
