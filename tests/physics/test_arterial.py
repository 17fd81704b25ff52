"""Tests of the arterial (macrovascular) component (docs/physics.md §4.9), derived by hand."""

import math

import numpy as np
import pytest

from asldro.physics import arterial, dispersion
from asldro.physics.bolus import BolusCutOff
from asldro.physics.dispersion import Dispersion

ALPHA, M0, LAM, T1B = 0.85, 100.0, 0.9, 1.65
ABV, ABAT, TAU = 0.01, 0.5, 1.8


def _art(label_type, signal_time, abv=ABV, abat=ABAT, tau=TAU, **options):
    return arterial.arterial_delta_m(
        label_type,
        abv,
        abat,
        M0,
        label_duration=tau,
        signal_time=signal_time,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAM,
        t1_arterial_blood=T1B,
        **options,
    )


def test_kinetics_readouts_vector():
    # §4c: CBF 0, aBV 0.01, aBAT 0.5, LD 1.8 pCASL: PLD 0.2 -> 1.3950893504; PLD 0.6 -> 0
    assert float(_art("pcasl", 1.8 + 0.2)) == pytest.approx(1.3950893504, abs=1e-10)
    assert float(_art("pcasl", 1.8 + 0.6)) == 0.0


@pytest.mark.parametrize("label_type", ["casl", "pcasl"])
def test_continuous_labelling_boxcar_by_hand(label_type):
    plateau = 2 * ALPHA * (M0 / LAM) * ABV * math.exp(-ABAT / T1B)
    times = np.array([0.0, 0.2, ABAT, 1.0, 2.2, ABAT + TAU, 3.0])
    expected = np.array([0.0, 0.0, plateau, plateau, plateau, 0.0, 0.0])  # aBAT <= t < aBAT+τ
    np.testing.assert_allclose(_art(label_type, times), expected, rtol=1e-15, atol=0)


def test_pulsed_labelling_decays_with_t():
    tau = 0.8
    for t in (0.6, 1.0, 1.29):
        expected = 2 * ALPHA * (M0 / LAM) * ABV * math.exp(-t / T1B)
        assert float(_art("pasl", t, tau=tau)) == pytest.approx(expected, rel=1e-15)
    assert float(_art("pasl", ABAT + tau, tau=tau)) == 0.0
    assert float(_art("pasl", 0.49, tau=tau)) == 0.0


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dispersion": Dispersion("gamma", s=7.39, p=0.1)},
        {"dispersion": Dispersion("gauss", sigma=0.2)},
    ],
)
def test_zero_volume_is_exactly_zero_and_background_has_no_warnings(options):
    zeros = np.zeros((2, 3, 4))
    for label_type in ("pcasl", "pasl"):
        for t in (0.0, 0.6, 2.0):
            assert np.all(_art(label_type, t, abv=0.0, **options) == 0.0)
            value = arterial.arterial_delta_m(
                label_type,
                zeros,
                zeros,
                zeros,
                label_duration=TAU,
                signal_time=t,
                label_efficiency=ALPHA,
                lambda_blood_brain=0.0,
                t1_arterial_blood=T1B,
                **options,
            )
            assert value.shape == zeros.shape and np.all(value == 0.0)


def test_zero_arterial_t1_gives_zero():
    for label_type in ("pcasl", "pasl"):
        value = arterial.arterial_delta_m(
            label_type,
            ABV,
            ABAT,
            M0,
            label_duration=TAU,
            signal_time=1.0,
            label_efficiency=ALPHA,
            lambda_blood_brain=LAM,
            t1_arterial_blood=0.0,
        )
        assert float(value) == 0.0


def test_maps_and_lookup_tables_broadcast():
    abv = np.array([0.0, 0.01, 0.02])
    abat = np.array([0.5, 0.5, 1.5])
    value = _art("pcasl", 1.0, abv=abv, abat=abat)
    plateau = 2 * ALPHA * (M0 / LAM) * 0.01 * math.exp(-0.5 / T1B)
    np.testing.assert_allclose(value, [0.0, plateau, 0.0], rtol=1e-15)
    labels = np.random.default_rng(2).integers(0, 3, (4, 5))
    np.testing.assert_array_equal(
        _art("pcasl", 1.0, abv=abv[labels], abat=abat[labels]), value[labels]
    )


def test_with_dispersion_it_is_the_dispersed_delivery():
    gamma = Dispersion("gamma", s=7.39, p=0.1)
    times = np.linspace(0.1, 3.5, 35)
    for label_type in ("pcasl", "pasl"):
        expected = (
            2
            * ALPHA
            * (M0 / LAM)
            * ABV
            * dispersion.delivery(
                label_type, times, ABAT, label_duration=TAU, t1_arterial_blood=T1B, dispersion=gamma
            )
        )
        np.testing.assert_array_equal(_art(label_type, times, dispersion=gamma), expected)


def test_sharp_dispersion_tends_to_the_boxcar_shifted_by_the_mean_delay():
    sharp = Dispersion("gamma", s=1e4, p=0.1)
    delay = sharp.mean_delay
    times = np.array([0.3, 0.9, 1.5, 2.2, 2.6, 3.0])  # away from the (shifted) edges
    dispersed = _art("pcasl", times, dispersion=sharp)
    boxcar = _art("pcasl", times, abat=ABAT + delay) * math.exp(delay / T1B)  # Fabber: exp(-Δ/T1b)
    np.testing.assert_allclose(dispersed, boxcar, rtol=1e-12, atol=1e-12)


def test_pasl_cut_off_shortens_the_arterial_bolus():
    quipss2 = BolusCutOff("QUIPSSII", 0.7)
    for t in (0.6, 1.1, 1.25):
        assert float(_art("pasl", t, tau=1.5, bolus_cut_off=quipss2)) == float(
            _art("pasl", t, tau=0.7)
        )
    # QUIPSS cuts the imaging window, not the arterial bolus at t >= TI1
    quipss = BolusCutOff("QUIPSS", 0.7)
    assert float(_art("pasl", 1.5, tau=1.5, bolus_cut_off=quipss)) == float(
        _art("pasl", 1.5, tau=1.5)
    )
    with pytest.raises(ValueError, match="PASL only"):
        _art("pcasl", 1.5, bolus_cut_off=quipss2)


def test_unknown_label_type_is_rejected():
    with pytest.raises(ValueError, match="label_type"):
        _art("vsasl", 1.0)
