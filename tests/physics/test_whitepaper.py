"""The white paper's single-PLD formulas (asldro/physics/whitepaper.py) against the develop test
vectors of the kinetics reference §1.10 (E, G): the white-paper ΔM of a uniform phantom
(CBF 60, M0 100, spin echo E2 = exp(-0.125), λ 0.9, T1b 1.65, α 0.85) quantified with the
fully relaxed SI_PD = 100·E2 returns 60."""

import importlib
import math

import numpy as np
import pytest

from asldro.physics import whitepaper
from asldro.physics.whitepaper import casl_cbf, pasl_cbf
from asldro.quantify import runs

E2 = math.exp(-0.125)
COMMON = {"label_efficiency": 0.85, "lambda_blood_brain": 0.9, "t1_arterial_blood": 1.65}


@pytest.mark.parametrize("delta_m, t", [(1.1247676665, 2.6), (0.6135557724, 3.6)])
def test_pcasl_formula_returns_the_develop_vector_cbf(delta_m, t):
    cbf = casl_cbf(delta_m, 100.0 * E2, post_labeling_delay=t - 1.8, label_duration=1.8, **COMMON)
    assert float(cbf) == pytest.approx(60.0, rel=1e-8)


def test_pasl_formula_returns_the_develop_vector_cbf():
    cbf = pasl_cbf(0.447954383, 100.0 * E2, inversion_time=1.8, bolus_duration=0.8, **COMMON)
    assert float(cbf) == pytest.approx(60.0, rel=1e-8)


def test_zero_m0_gives_zero_not_infinity():
    cbf = casl_cbf(
        np.array([1.0, 0.0]),
        np.array([0.0, 0.0]),
        post_labeling_delay=1.8,
        label_duration=1.8,
        **COMMON,
    )
    assert np.array_equal(cbf, [0.0, 0.0])


def test_pld_may_vary_per_voxel():
    """Slice timing: a later slice has a longer PLD, so the same ΔM means more CBF."""
    cbf = casl_cbf(
        1.0, 100.0, post_labeling_delay=np.array([1.8, 1.9]), label_duration=1.8, **COMMON
    )
    assert cbf[1] / cbf[0] == pytest.approx(math.exp(0.1 / 1.65), rel=1e-12)


def test_quantify_uses_the_physics_formulas_and_keeps_no_copy():
    """One implementation (issue 12): ``asldro quantify`` calls asldro.physics.whitepaper, and
    the module it had before is gone."""
    assert runs.whitepaper is whitepaper
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("asldro.quantify.singlepld")
