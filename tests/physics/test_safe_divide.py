"""Tests of the safe division ``a ⊘ b`` of docs/physics.md (Notation)."""

import numpy as np
import pytest

from asldro.physics import safe_divide


@pytest.mark.filterwarnings("error")
def test_zero_where_denominator_is_zero_and_quotient_elsewhere():
    result = safe_divide(np.array([1.0, -2.0, 0.0, 3.0]), np.array([0.0, 4.0, 0.0, 2.0]))
    np.testing.assert_array_equal(result, [0.0, -0.5, 0.0, 1.5])
    assert result.dtype == np.float64


def test_broadcasts_scalars_and_maps():
    result = safe_divide(1.0, np.array([[0.0, 2.0], [4.0, 0.0]]))
    np.testing.assert_array_equal(result, [[0.0, 0.5], [0.25, 0.0]])
    assert safe_divide(3, 2).ndim == 0
    assert float(safe_divide(3, 2)) == 1.5
