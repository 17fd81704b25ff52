"""Tests of the PASL bolus cut-off (docs/physics.md §4.8), derived by hand."""

import math

import numpy as np
import pytest

from asldro.physics import bolus, gkm
from asldro.physics.bolus import BolusCutOff

ALPHA, LAM, T1B = 0.98, 0.9, 1.65
F, DT, T1, M0 = 60.0, 0.6, 1.33, 100.0


def _pasl(signal_time, label_duration, cut_off=None, model="full", t1=T1, dt=DT):
    return float(
        gkm.delta_m(
            "pasl",
            F,
            dt,
            t1,
            M0,
            label_duration=label_duration,
            signal_time=signal_time,
            label_efficiency=ALPHA,
            lambda_blood_brain=LAM,
            t1_arterial_blood=T1B,
            model=model,
            bolus_cut_off=cut_off,
        )
    )


# --- the parameter object -------------------------------------------------------------------


def test_technique_is_case_insensitive_and_canonical():
    assert BolusCutOff("quipssii", 0.7).technique == "QUIPSSII"
    assert BolusCutOff("Q2tips", 0.7, 1.6).technique == "Q2TIPS"
    assert bolus.CUT_OFF_TECHNIQUES == ("QUIPSS", "QUIPSSII", "Q2TIPS")


@pytest.mark.parametrize(
    "args, message",
    [
        (("QUIPSS III", 0.7), "technique must be one of"),
        (("QUIPSSII", 0.0), r"TI1\) must be finite and > 0"),
        (("QUIPSSII", -0.1), r"TI1\) must be finite and > 0"),
        (("QUIPSSII", float("nan")), r"TI1\) must be finite and > 0"),
        (("QUIPSSII", True), "must be a number"),
        (("QUIPSSII", "0.7"), "must be a number"),
        (("QUIPSSII", 0.7, 1.6), "for Q2TIPS only"),
        (("QUIPSS", 0.7, 1.6), "for Q2TIPS only"),
        (("Q2TIPS", 0.7), "needs end_time"),
        (("Q2TIPS", 0.8, 0.7), r"TI1 <= TI1s is required, got TI1 0.8 > TI1s 0.7"),
        (("Q2TIPS", 0.7, 0.0), r"TI1s\) must be finite and > 0"),
    ],
)
def test_invalid_cut_offs_are_rejected_with_the_rule(args, message):
    with pytest.raises(ValueError, match=message):
        BolusCutOff(*args)


def test_q2tips_accepts_equal_times_and_integers():
    cut_off = BolusCutOff("Q2TIPS", 1, 1)
    assert (cut_off.delay_time, cut_off.end_time) == (1.0, 1.0)
    assert isinstance(cut_off.delay_time, float)


# --- effective bolus and the helpers --------------------------------------------------------


@pytest.mark.parametrize("technique, end", [("QUIPSSII", None), ("Q2TIPS", 1.6)])
def test_effective_bolus_is_min_of_ti1_and_natural(technique, end):
    cut_off = BolusCutOff(technique, 0.7, end)
    assert bolus.effective_bolus_duration(1.0, cut_off) == 0.7
    assert bolus.effective_bolus_duration(0.5, cut_off) == 0.5
    assert bolus.bolus_truncated(1.0, cut_off) and not bolus.cut_off_ineffective(1.0, cut_off)
    assert bolus.cut_off_ineffective(0.5, cut_off) and not bolus.bolus_truncated(0.5, cut_off)
    assert not bolus.bolus_truncated(0.7, cut_off) and not bolus.cut_off_ineffective(0.7, cut_off)


def test_no_cut_off_and_quipss_keep_the_natural_bolus():
    for cut_off in (None, BolusCutOff("QUIPSS", 0.7)):
        assert bolus.effective_bolus_duration(1.0, cut_off) == 1.0
        assert not bolus.bolus_truncated(1.0, cut_off)
        assert not bolus.cut_off_ineffective(0.5, cut_off)


def test_effective_bolus_is_element_wise_over_widths():
    """One natural width per volume (a quantifier's per-volume LabelingDuration) gives one
    effective width per volume; a number gives a float."""
    widths = np.array([0.6, 0.8, 1.2])
    cut = BolusCutOff("QUIPSSII", 0.7)
    assert np.array_equal(bolus.effective_bolus_duration(widths, cut), [0.6, 0.7, 0.7])
    assert np.array_equal(bolus.effective_bolus_duration(widths, None), widths)
    assert isinstance(bolus.effective_bolus_duration(0.9, cut), float)


def test_window_start_and_delivery_window():
    quipss = BolusCutOff("QUIPSS", 1.0)
    t = np.array([0.5, 1.0, 2.0])
    np.testing.assert_array_equal(bolus.window_start(t, quipss), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(bolus.window_start(t, BolusCutOff("QUIPSSII", 1.0)), [0, 0, 0])
    start, width = bolus.delivery_window(np.array([0.6, 0.6, 1.5]), 0.8, t, quipss)
    np.testing.assert_allclose(start, [0.6, 1.0, 1.5])
    np.testing.assert_allclose(width, [0.8, 0.4, 0.8])
    start, width = bolus.delivery_window(0.6, 0.3, 2.0, quipss)  # bolus over before TI1
    assert (float(start), float(width)) == (1.0, 0.0)


# --- QUIPSS II and Q2TIPS in the models -----------------------------------------------------


@pytest.mark.parametrize("model", ["full", "whitepaper", "consensus"])
@pytest.mark.parametrize("technique, end", [("QUIPSSII", None), ("Q2TIPS", 1.6)])
def test_cut_off_equals_the_model_with_tau_eff(model, technique, end):
    cut_off = BolusCutOff(technique, 0.7, end)
    for signal_time in (0.9, 1.3, 1.8, 2.5):
        cut = _pasl(signal_time, 1.2, cut_off, model=model)
        assert cut == _pasl(signal_time, 0.7, model=model)
        # a natural bolus longer than TI1 does not matter, a shorter one is kept
        assert cut == _pasl(signal_time, 3.0, cut_off, model=model)
        assert _pasl(signal_time, 0.5, cut_off, model=model) == _pasl(signal_time, 0.5, model=model)


def test_quipss_ii_white_paper_quantification_is_exact_for_k_zero():
    # docs/physics.md §4.8: T1app = T1b (k = 0), TI >= Δt + TI1
    t1_matched = 1.0 / (1.0 / T1B - F / 6000.0 / LAM)
    ti1 = 0.7
    cut_off = BolusCutOff("QUIPSSII", ti1)
    for dt, ti in ((0.6, 1.3), (0.6, 1.8), (1.0, 2.5)):
        for natural in (0.9, 2.0):
            delta_m = _pasl(ti, natural, cut_off, t1=t1_matched, dt=dt)
            cbf = 6000 * LAM * delta_m * math.exp(ti / T1B) / (2 * ALPHA * M0 * ti1)
            assert cbf == pytest.approx(F, rel=1e-10)


# --- QUIPSS (I) -----------------------------------------------------------------------------


def _window_by_hand(ti2, start, end, t1=T1):
    """2 α M0b f ∫_start^min(end, TI2) exp(-t'/T1b) exp(-(TI2 - t')/T1app) dt' (Buxton)."""
    r1_app = 1 / t1 + F / 6000 / LAM
    upper = min(end, ti2)
    if upper <= start:
        return 0.0
    k = r1_app - 1 / T1B
    integral = math.exp(-ti2 * r1_app) * (math.exp(k * upper) - math.exp(k * start)) / k
    return 2 * ALPHA * (M0 / LAM) * (F / 6000) * integral


@pytest.mark.parametrize("dt, tau", [(0.3, 1.5), (0.6, 1.0), (1.2, 0.8), (0.2, 0.5)])
@pytest.mark.parametrize("ti2", [1.0, 1.4, 2.0, 3.0])
def test_quipss_counts_the_delivery_after_ti1_only(dt, tau, ti2):
    ti1 = 0.9
    value = _pasl(ti2, tau, BolusCutOff("QUIPSS", ti1), dt=dt)
    expected = _window_by_hand(ti2, max(dt, ti1), dt + tau)
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_quipss_before_the_saturation_changes_nothing():
    cut_off = BolusCutOff("QUIPSS", 1.5)
    for ti in (0.7, 1.0, 1.49):
        assert _pasl(ti, 1.0, cut_off) == _pasl(ti, 1.0)
    assert _pasl(1.5, 1.0, cut_off) == 0.0  # saturated at the readout


def test_quipss_k_zero_limit_is_aslprep_formula():
    # bolus fills [TI1, TI2]: ΔM = 2 α M0b f (TI2 - TI1) exp(-TI2/T1b) (ASLPrep's QUIPSS form)
    t1_matched = 1.0 / (1.0 / T1B - F / 6000.0 / LAM)
    ti1, ti2, dt, tau = 0.7, 1.4, 0.5, 1.5
    value = _pasl(ti2, tau, BolusCutOff("QUIPSS", ti1), t1=t1_matched, dt=dt)
    expected = 2 * ALPHA * (M0 / LAM) * (F / 6000) * (ti2 - ti1) * math.exp(-ti2 / T1B)
    assert value == pytest.approx(expected, rel=1e-12)
    # and the full model converges to it as T1app -> T1b
    near = _pasl(ti2, tau, BolusCutOff("QUIPSS", ti1), t1=t1_matched * (1 + 1e-7), dt=dt)
    assert near == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("model", ["whitepaper", "consensus"])
def test_quipss_in_the_simplified_models_uses_the_window(model):
    ti1, dt, tau = 0.9, 0.4, 1.2  # window [0.9, 1.6], width 0.7
    cut_off = BolusCutOff("QUIPSS", ti1)
    for ti2 in (1.2, 1.6, 2.4):
        expected = float(
            gkm.delta_m(
                "pasl",
                F,
                ti1,
                T1,
                M0,
                label_duration=dt + tau - ti1,
                signal_time=ti2,
                label_efficiency=ALPHA,
                lambda_blood_brain=LAM,
                t1_arterial_blood=T1B,
                model=model,
            )
        )
        assert _pasl(ti2, tau, cut_off, model=model, dt=dt) == expected
