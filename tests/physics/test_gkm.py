"""Tests of the General Kinetic Model against docs/physics.md §4 and D1, derived by hand."""

import math

import numpy as np
import pytest

from asldro.physics import gkm

# Grey matter of the 3T HRGT (docs/physics.md §3.2) with the default asl series (§2.3).
GM = {"f": 60.0, "dt": 0.8, "t1": 1.33, "m0": 74.62187940404371}
ALPHA, TAU, LAM, T1B = 0.85, 1.8, 0.9, 1.65
LABEL_TYPES = ("casl", "pcasl", "pasl")


def _kwargs(signal_time, label_duration=TAU, t1_arterial_blood=T1B, lambda_blood_brain=LAM):
    return {
        "label_duration": label_duration,
        "signal_time": signal_time,
        "label_efficiency": ALPHA,
        "lambda_blood_brain": lambda_blood_brain,
        "t1_arterial_blood": t1_arterial_blood,
    }


def _gm_delta_m(label_type, signal_time, **overrides):
    return float(
        gkm.delta_m(
            label_type, GM["f"], GM["dt"], GM["t1"], GM["m0"], **_kwargs(signal_time, **overrides)
        )
    )


def _gm_constants():
    f_s = GM["f"] / 6000.0
    m0b = GM["m0"] / LAM
    t1app = 1.0 / (1.0 / GM["t1"] + f_s / LAM)
    return f_s, m0b, t1app


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("signal_time", [0.0, 0.1, 0.5, GM["dt"]])
def test_zero_before_arrival_and_at_t_zero(label_type, signal_time):
    assert _gm_delta_m(label_type, signal_time) == 0.0


@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_t_zero_gives_zero_even_with_zero_transit_time(label_type):
    value = gkm.delta_m(label_type, 60.0, 0.0, 1.33, 70.0, **_kwargs(0.0))
    assert float(value) == 0.0


@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_continuous_at_arrival(label_type):
    eps = 1e-9
    after = _gm_delta_m(label_type, GM["dt"] + eps)
    before = _gm_delta_m(label_type, GM["dt"] - eps)
    assert before == 0.0
    assert 0.0 < after < 1e-6
    assert _gm_delta_m(label_type, GM["dt"] + 0.1) > after


@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_continuous_at_end_of_bolus(label_type):
    eps = 1e-9
    edge = GM["dt"] + TAU
    before = _gm_delta_m(label_type, edge - eps)  # formula B
    after = _gm_delta_m(label_type, edge + eps)  # formula C
    at_edge = _gm_delta_m(label_type, edge)  # formula C
    assert before > 0.1
    assert after == pytest.approx(before, rel=1e-6)
    assert at_edge == pytest.approx(before, rel=1e-6)


def test_casl_arriving_regime_by_hand():
    f_s, m0b, t1app = _gm_constants()
    t = 1.5
    expected = (
        2
        * ALPHA
        * m0b
        * f_s
        * t1app
        * math.exp(-GM["dt"] / T1B)
        * (1 - math.exp(-(t - 0.8) / t1app))
    )
    assert _gm_delta_m("casl", t) == pytest.approx(expected, rel=1e-12)
    assert _gm_delta_m("pcasl", t) == pytest.approx(expected, rel=1e-12)


def test_casl_arrived_regime_by_hand():
    f_s, m0b, t1app = _gm_constants()
    t = 3.6
    expected = (
        2
        * ALPHA
        * m0b
        * f_s
        * t1app
        * math.exp(-GM["dt"] / T1B)
        * math.exp(-(t - TAU - GM["dt"]) / t1app)
        * (1 - math.exp(-TAU / t1app))
    )
    assert _gm_delta_m("pcasl", t) == pytest.approx(expected, rel=1e-12)
    # The default GM value is of the expected order: ~0.5 % of M0.
    assert 0.001 * GM["m0"] < expected < 0.01 * GM["m0"]


def test_pasl_arriving_regime_by_hand():
    f_s, m0b, t1app = _gm_constants()
    t, dt = 1.5, GM["dt"]
    k = 1 / T1B - 1 / t1app
    q = math.exp(k * t) * (math.exp(-k * dt) - math.exp(-k * t)) / (k * (t - dt))
    expected = 2 * ALPHA * m0b * f_s * (t - dt) * math.exp(-t / T1B) * q
    assert _gm_delta_m("pasl", t) == pytest.approx(expected, rel=1e-12)


def test_pasl_arrived_regime_by_hand():
    f_s, m0b, t1app = _gm_constants()
    t, dt = 3.6, GM["dt"]
    k = 1 / T1B - 1 / t1app
    q = math.exp(k * t) * (math.exp(-k * dt) - math.exp(-k * (dt + TAU))) / (k * TAU)
    expected = 2 * ALPHA * m0b * f_s * TAU * math.exp(-t / T1B) * q
    assert _gm_delta_m("pasl", t) == pytest.approx(expected, rel=1e-12)


# Exact k = 0: 1/T1b = 0.5 = 1/T1 + f_s/lam with T1 = 4, f_s = 0.125 (f = 750), lam = 0.5.
K0 = {"f": 750.0, "dt": 0.5, "t1": 4.0, "m0": 100.0, "lam": 0.5, "t1b": 2.0}


def _pasl_k0(signal_time, t1=K0["t1"]):
    return float(
        gkm.pasl_delta_m(
            K0["f"],
            K0["dt"],
            t1,
            K0["m0"],
            **_kwargs(signal_time, t1_arterial_blood=K0["t1b"], lambda_blood_brain=K0["lam"]),
        )
    )


@pytest.mark.parametrize("signal_time", [1.2, 3.0])
def test_pasl_k_zero_limit_is_finite_and_continuous_in_k(signal_time):
    at_k0 = _pasl_k0(signal_time)
    assert math.isfinite(at_k0) and at_k0 > 0.0
    for t1 in (K0["t1"] * (1 - 1e-6), K0["t1"] * (1 + 1e-6)):
        assert _pasl_k0(signal_time, t1) == pytest.approx(at_k0, rel=1e-5)


def test_pasl_k_zero_closed_forms():
    m0b = K0["m0"] / K0["lam"]
    f_s = K0["f"] / 6000.0
    t_b, t_c = 1.2, 3.0
    expected_b = 2 * ALPHA * m0b * f_s * (t_b - K0["dt"]) * math.exp(-t_b / K0["t1b"])
    expected_c = 2 * ALPHA * m0b * f_s * TAU * math.exp(-t_c / K0["t1b"])
    assert _pasl_k0(t_b) == pytest.approx(expected_b, rel=1e-12)
    assert _pasl_k0(t_c) == pytest.approx(expected_c, rel=1e-12)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("signal_time", [1.5, 3.6])
def test_zero_arterial_t1_gives_zero(label_type, signal_time):
    assert _gm_delta_m(label_type, signal_time, t1_arterial_blood=0.0) == 0.0


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_background_is_zero_without_warnings(label_type):
    zeros = np.zeros((3, 4, 5))
    for signal_time in (0.0, 1.0, 3.6):
        result = gkm.delta_m(label_type, zeros, zeros, zeros, zeros, **_kwargs(signal_time))
        assert result.dtype == np.float64
        assert result.shape == zeros.shape
        assert np.all(result == 0.0)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_extreme_values_stay_finite_without_warnings(label_type):
    # Very short tissue T1 (large |k|), very long transit (CSF), long TI/bolus.
    t1 = np.array([1e-4, 0.01, 1.33, 100.0, 3.0])
    dt = np.array([0.1, 0.1, 0.8, 0.5, 1000.0])
    result = gkm.delta_m(
        label_type,
        60.0,
        dt,
        t1,
        70.0,
        **_kwargs(99.0, label_duration=50.0, t1_arterial_blood=100.0),
    )
    assert np.all(np.isfinite(result))
    assert np.all(result >= 0.0)
    assert result[-1] == 0.0  # CSF: not arrived


@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_lookup_table_equals_dense_maps(label_type):
    table_f = np.array([0.0, 60.0, 20.0, 0.0])
    table_dt = np.array([0.0, 0.8, 1.2, 1000.0])
    table_t1 = np.array([0.0, 1.33, 0.83, 3.0])
    table_m0 = np.array([0.0, 74.62187940404371, 64.72388087166287, 68.0455829129696])
    labels = np.random.default_rng(3).integers(0, 4, size=(6, 5, 4))
    for signal_time in (1.5, 3.6):
        table = gkm.delta_m(
            label_type, table_f, table_dt, table_t1, table_m0, **_kwargs(signal_time)
        )
        dense = gkm.delta_m(
            label_type,
            table_f[labels],
            table_dt[labels],
            table_t1[labels],
            table_m0[labels],
            **_kwargs(signal_time),
        )
        assert table.shape == (4,)
        assert dense.shape == labels.shape
        np.testing.assert_allclose(dense, table[labels], rtol=1e-14, atol=0)
        assert table[1] > table[2] > 0.0  # GM above WM at these times


def test_casl_and_pcasl_are_the_same_model_and_pasl_differs():
    assert _gm_delta_m("CASL", 3.6) == _gm_delta_m("pcasl", 3.6)
    assert _gm_delta_m("PASL", 3.6) != _gm_delta_m("pcasl", 3.6)


def test_unknown_label_type_is_rejected():
    with pytest.raises(ValueError, match="label_type"):
        _gm_delta_m("vsasl", 3.6)
