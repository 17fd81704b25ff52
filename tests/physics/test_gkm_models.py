"""Tests of the kinetic models (docs/physics.md §4.7) and of ``gkm.delta_m``'s dispatch.

Hand-derived values and limits, the noise-free vectors of ASLDRO develop (commit 97608be: A, E,
F, G) and independently computed consensus vectors, at the physics level (uniform phantom: perfusion 60,
transit 0.8, t1 1.33, t2 0.08, m0 100, λ 0.9, T1b 1.65, α 0.85; SE TE 0.01, TR 10 / 5).
"""

import math

import numpy as np
import pytest

from asldro.physics import gkm, signal
from asldro.physics.bolus import BolusCutOff
from asldro.physics.dispersion import Dispersion

PHANTOM = {"f": 60.0, "dt": 0.8, "t1": 1.33, "t2": 0.08, "m0": 100.0}
ALPHA, LAM, T1B = 0.85, 0.9, 1.65
TE, TR_M0, TR_ASL = 0.01, 10.0, 5.0
E2 = math.exp(-TE / PHANTOM["t2"])  # control - label = ΔM * E2 for SE, equal TR and TE
LABEL_TYPES = ("casl", "pcasl", "pasl")
MODELS = ("full", "whitepaper", "consensus")


def _dm(label_type, signal_time, label_duration, model="full", **overrides):
    values = {**PHANTOM, **overrides}
    return gkm.delta_m(
        label_type,
        values["f"],
        values["dt"],
        values["t1"],
        values["m0"],
        label_duration=label_duration,
        signal_time=signal_time,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAM,
        t1_arterial_blood=T1B,
        model=model,
        **{k: v for k, v in overrides.items() if k in ("dispersion", "bolus_cut_off")},
    )


def _spin_echo(repetition_time, m_enc=0.0):
    return float(
        signal.spin_echo(
            PHANTOM["m0"],
            PHANTOM["t1"],
            PHANTOM["t2"],
            repetition_time=repetition_time,
            echo_time=TE,
            m_enc=m_enc,
        )
    )


# --- ASLDRO develop vectors (docs/physics.md §4.7) -------------------------------------------


def test_develop_vector_a_full_multi_pld_signals():
    assert _spin_echo(TR_M0) == pytest.approx(88.20178964, abs=1e-8)
    control = _spin_echo(TR_ASL)
    assert control == pytest.approx(86.19367105, abs=1e-8)
    expected_labels = [85.38684256, 85.18903377, 85.72523901, 85.97525533]
    for signal_time, expected in zip([2.0, 2.6, 3.6, 4.6], expected_labels):
        delta_m = float(_dm("pcasl", signal_time, 1.8))
        assert _spin_echo(TR_ASL, m_enc=-delta_m) == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize(
    "label_type, label_duration, times, expected",
    [
        ("pcasl", 1.8, [2.0, 2.6, 3.6], [0.0, 1.1247676665, 0.6135557724]),  # E
        ("pasl", 0.8, [1.0, 1.8], [0.0, 0.447954383]),  # G
    ],
)
def test_develop_vectors_e_and_g_whitepaper(label_type, label_duration, times, expected):
    for signal_time, difference in zip(times, expected):
        delta_m = float(_dm(label_type, signal_time, label_duration, model="whitepaper"))
        assert delta_m * E2 == pytest.approx(difference, abs=1e-8)
        control, label = _spin_echo(TR_ASL), _spin_echo(TR_ASL, m_enc=-delta_m)
        assert control - label == pytest.approx(difference, abs=1e-8)


def test_develop_vector_f_full_pasl():
    for signal_time, difference in zip([1.0, 1.8], [0.1790371904, 0.4079684802]):
        assert float(_dm("pasl", signal_time, 0.8)) * E2 == pytest.approx(difference, abs=1e-8)


def test_develop_full_pcasl_differences():
    expected = [0.8068284882, 1.004637276, 0.4684320368, 0.2184157191]
    for signal_time, difference in zip([2.0, 2.6, 3.6, 4.6], expected):
        assert float(_dm("pcasl", signal_time, 1.8)) * E2 == pytest.approx(difference, abs=1e-8)


@pytest.mark.parametrize(
    "label_type, label_duration, times, expected",
    [
        (
            "pcasl",
            1.8,
            [2.0, 2.6, 3.6, 4.6],
            [0.8752617543, 1.1247676665, 0.6135557724, 0.334691952],
        ),
        ("pasl", 0.8, [1.0, 1.8], [0.1818615216, 0.447954383]),
    ],
)
def test_consensus_vectors_times_e2(label_type, label_duration, times, expected):
    # the vectors are control - label = ΔM * E2, E2 = exp(-TE/T2) = exp(-0.125)
    assert E2 == math.exp(-0.125)
    for signal_time, difference in zip(times, expected):
        delta_m = float(_dm(label_type, signal_time, label_duration, model="consensus"))
        assert delta_m * E2 == pytest.approx(difference, abs=1e-9)


# --- whitepaper -----------------------------------------------------------------------------


def _hand_whitepaper(label_type, signal_time, tau):
    f_s, m0b = PHANTOM["f"] / 6000, PHANTOM["m0"] / LAM
    if signal_time < PHANTOM["dt"] + tau:
        return 0.0
    if label_type == "pasl":
        return 2 * ALPHA * m0b * f_s * tau * math.exp(-signal_time / T1B)
    return (
        2
        * ALPHA
        * m0b
        * f_s
        * T1B
        * math.exp(-(signal_time - tau) / T1B)
        * (1 - math.exp(-tau / T1B))
    )


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("signal_time", [0.0, 0.5, 0.8, 1.5, 2.59, 2.6, 3.0, 3.6, 5.0])
def test_whitepaper_by_hand(label_type, signal_time):
    expected = _hand_whitepaper(label_type, signal_time, 1.8)
    value = float(_dm(label_type, signal_time, 1.8, model="whitepaper"))
    assert value == pytest.approx(expected, rel=1e-13, abs=0)


@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_whitepaper_boundary_counts_as_arrived(label_type):
    # D33: develop's code treats t = Δt + τ as arrived (its docstring says 0 there)
    edge = PHANTOM["dt"] + 1.8
    assert float(_dm(label_type, edge, 1.8, model="whitepaper")) > 0.1
    assert float(_dm(label_type, np.nextafter(edge, 0.0), 1.8, model="whitepaper")) == 0.0


def test_whitepaper_quantification_returns_the_truth():
    # docs/physics.md (9.1) inverts the whitepaper model exactly in the arrived regime
    tau, signal_time = 1.8, 3.6
    delta_m = float(_dm("pcasl", signal_time, tau, model="whitepaper"))
    pld = signal_time - tau
    cbf = (
        6000
        * LAM
        * delta_m
        * math.exp(pld / T1B)
        / (2 * ALPHA * T1B * PHANTOM["m0"] * (1 - math.exp(-tau / T1B)))
    )
    assert cbf == pytest.approx(PHANTOM["f"], rel=1e-13)


@pytest.mark.parametrize("model", ["whitepaper", "consensus"])
def test_simplified_models_do_not_use_tissue_t1_but_keep_its_shape(model):
    t1_map = np.array([[0.5, 1.33, 3.0]])
    values = _dm("pcasl", 3.6, 1.8, model=model, t1=t1_map)
    assert values.shape == (1, 3)
    assert np.all(values == values[0, 0])
    assert values[0, 0] == float(_dm("pcasl", 3.6, 1.8, model=model))


@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_whitepaper_and_consensus_agree_once_arrived(label_type):
    for signal_time in (2.6, 3.0, 3.6, 4.6):
        white = float(_dm(label_type, signal_time, 1.8, model="whitepaper"))
        consensus = float(_dm(label_type, signal_time, 1.8, model="consensus"))
        assert white == pytest.approx(consensus, rel=1e-13)
    assert float(_dm(label_type, 2.0, 1.8, model="whitepaper")) == 0.0
    assert float(_dm(label_type, 2.0, 1.8, model="consensus")) > 0.1


# --- consensus ------------------------------------------------------------------------------

# T1 with 1/T1 + f_s/λ = 1/T1b, so that the full model's T1app equals T1b
T1_MATCHED = 1.0 / (1.0 / T1B - PHANTOM["f"] / 6000.0 / LAM)


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("signal_time", [0.3, 0.8, 1.0, 1.7, 2.5, 2.6, 3.6, 6.0])
def test_consensus_is_the_full_model_with_t1app_equal_t1b(label_type, signal_time):
    consensus = float(_dm(label_type, signal_time, 1.8, model="consensus"))
    full = float(_dm(label_type, signal_time, 1.8, model="full", t1=T1_MATCHED))
    assert consensus == pytest.approx(full, rel=1e-12, abs=1e-15)


def test_consensus_pcasl_arriving_by_hand():
    f_s, m0b, dt = PHANTOM["f"] / 6000, PHANTOM["m0"] / LAM, PHANTOM["dt"]
    t = 2.0
    expected = 2 * ALPHA * T1B * m0b * f_s * math.exp(-dt / T1B) * (1 - math.exp(-(t - dt) / T1B))
    assert float(_dm("pcasl", t, 1.8, model="consensus")) == pytest.approx(expected, rel=1e-13)


def test_consensus_pasl_arriving_by_hand():
    f_s, m0b, dt = PHANTOM["f"] / 6000, PHANTOM["m0"] / LAM, PHANTOM["dt"]
    t = 1.2
    expected = 2 * ALPHA * m0b * f_s * math.exp(-t / T1B) * (t - dt)
    assert float(_dm("pasl", t, 0.8, model="consensus")) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("model", ["full", "consensus"])
def test_continuous_at_the_regime_boundaries(label_type, model):
    eps = 1e-9
    for edge in (PHANTOM["dt"], PHANTOM["dt"] + 1.8):
        before = float(_dm(label_type, edge - eps, 1.8, model=model))
        at_edge = float(_dm(label_type, edge, 1.8, model=model))
        after = float(_dm(label_type, edge + eps, 1.8, model=model))
        assert at_edge == pytest.approx(before, abs=1e-8)
        assert after == pytest.approx(at_edge, abs=1e-8)
    assert float(_dm(label_type, PHANTOM["dt"] + 1.8, 1.8, model=model)) > 0.1


# --- dispatch, shapes, warnings -------------------------------------------------------------


@pytest.mark.parametrize("label_type", LABEL_TYPES)
def test_full_model_is_bit_identical_to_the_model_functions(label_type):
    rng = np.random.default_rng(11)
    maps = [rng.uniform(0, 80, (4, 5)), rng.uniform(0, 2, (4, 5)), rng.uniform(0.5, 3, (4, 5))]
    m0 = rng.uniform(50, 100, (4, 5))
    function = gkm.pasl_delta_m if label_type == "pasl" else gkm.casl_delta_m
    for signal_time in (1.0, 2.6, 3.6):
        kwargs = {
            "label_duration": 1.8,
            "signal_time": signal_time,
            "label_efficiency": ALPHA,
            "lambda_blood_brain": LAM,
            "t1_arterial_blood": T1B,
        }
        expected = function(*maps, m0, **kwargs)
        for extra in ({}, {"model": "FULL"}, {"dispersion": None, "bolus_cut_off": None}):
            np.testing.assert_array_equal(
                gkm.delta_m(label_type, *maps, m0, **kwargs, **extra), expected
            )
        none = gkm.delta_m(label_type, *maps, m0, **kwargs, dispersion=Dispersion("none"))
        np.testing.assert_array_equal(none, expected)


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError, match="model must be one of"):
        _dm("pcasl", 3.6, 1.8, model="buxton")


@pytest.mark.parametrize("model", ["whitepaper", "consensus"])
def test_dispersion_outside_the_full_model_is_rejected(model):
    with pytest.raises(ValueError, match="full model only"):
        _dm("pcasl", 3.6, 1.8, model=model, dispersion=Dispersion("gamma", s=7.39, p=0.1))
    # kind "none" is no dispersion
    assert float(_dm("pcasl", 3.6, 1.8, model=model, dispersion=Dispersion("none"))) > 0


@pytest.mark.parametrize("label_type", ["casl", "pcasl"])
def test_bolus_cut_off_outside_pasl_is_rejected(label_type):
    with pytest.raises(ValueError, match="PASL only"):
        _dm(label_type, 3.6, 1.8, bolus_cut_off=BolusCutOff("QUIPSSII", 0.7))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("model", MODELS)
def test_background_is_zero_without_warnings(label_type, model):
    zeros = np.zeros((3, 4, 2))
    for signal_time in (0.0, 1.0, 3.6):
        result = gkm.delta_m(
            label_type,
            zeros,
            zeros,
            zeros,
            zeros,
            label_duration=1.8,
            signal_time=signal_time,
            label_efficiency=ALPHA,
            lambda_blood_brain=LAM,
            t1_arterial_blood=T1B,
            model=model,
        )
        assert result.dtype == np.float64 and result.shape == zeros.shape
        assert np.all(result == 0.0)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("model", ["whitepaper", "consensus"])
def test_zero_or_negative_arterial_t1_gives_zero(label_type, model):
    for t1b in (0.0, -1.0):
        value = gkm.delta_m(
            label_type,
            60.0,
            0.8,
            1.33,
            100.0,
            label_duration=1.8,
            signal_time=3.6,
            label_efficiency=ALPHA,
            lambda_blood_brain=LAM,
            t1_arterial_blood=t1b,
            model=model,
        )
        assert float(value) == 0.0


@pytest.mark.parametrize("label_type", LABEL_TYPES)
@pytest.mark.parametrize("model", MODELS)
def test_lookup_table_equals_dense_maps(label_type, model):
    table = [np.array(v) for v in ([0.0, 60.0, 20.0], [0.0, 0.8, 1.2], [0.0, 1.33, 0.83])]
    m0 = np.array([0.0, 74.6, 64.7])
    labels = np.random.default_rng(5).integers(0, 3, size=(5, 4, 3))
    for signal_time in (1.5, 2.6, 3.6):
        kwargs = {
            "label_duration": 1.8,
            "signal_time": signal_time,
            "label_efficiency": ALPHA,
            "lambda_blood_brain": LAM,
            "t1_arterial_blood": T1B,
            "model": model,
        }
        lookup = gkm.delta_m(label_type, *table, m0, **kwargs)
        dense = gkm.delta_m(label_type, *(v[labels] for v in table), m0[labels], **kwargs)
        np.testing.assert_allclose(dense, lookup[labels], rtol=1e-14, atol=0)
