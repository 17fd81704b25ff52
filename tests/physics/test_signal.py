"""Tests of the MRI signal models against docs/physics.md §5, derived by hand."""

import math

import numpy as np
import pytest

from asldro.physics import signal

# Grey matter at 3T (docs/physics.md §3.2) and a ΔM of the order the GKM gives.
M0, T1, T2, T2S = 74.62187940404371, 1.33, 0.08, 0.066
DELTA_M = 0.4
TR, TE = 5.0, 0.01


def test_spin_echo_by_hand():
    expected = M0 * (1 - math.exp(-TR / T1)) * math.exp(-TE / T2)
    value = signal.spin_echo(M0, T1, T2, repetition_time=TR, echo_time=TE)
    assert float(value) == pytest.approx(expected, rel=1e-13)


def test_spin_echo_control_minus_label():
    control = signal.spin_echo(M0, T1, T2, repetition_time=TR, echo_time=TE)
    label = signal.spin_echo(M0, T1, T2, repetition_time=TR, echo_time=TE, m_enc=-DELTA_M)
    assert float(control - label) == pytest.approx(DELTA_M * math.exp(-TE / T2), rel=1e-9)


def test_spin_echo_long_tr_tends_to_m0_times_t2_decay():
    value = signal.spin_echo(M0, T1, T2, repetition_time=1000.0, echo_time=TE)
    assert float(value) == pytest.approx(M0 * math.exp(-TE / T2), rel=1e-12)
    # Default m0scan TR of 10 s is not fully relaxed (docs/physics.md §5).
    assert float(signal.spin_echo(M0, 3.0, T2, repetition_time=10.0, echo_time=TE)) < float(
        M0 * math.exp(-TE / T2) * (1 - 0.03)
    )


@pytest.mark.parametrize("flip", [90.0, 30.0, -45.0])
def test_gradient_echo_by_hand(flip):
    theta = math.radians(flip)
    e1, e2tr, e2s = math.exp(-TR / T1), math.exp(-TR / T2), math.exp(-TE / T2S)
    steady = M0 * (1 - e1) / (1 - math.cos(theta) * e1 - e2tr * (e1 - math.cos(theta)))
    expected = math.sin(theta) * steady * e2s
    value = signal.gradient_echo(M0, T1, T2, T2S, repetition_time=TR, echo_time=TE, flip_angle=flip)
    assert float(value) == pytest.approx(expected, rel=1e-12)


def test_gradient_echo_control_minus_label_uses_sin_and_t2_star():
    flip = 40.0
    kwargs = {"repetition_time": TR, "echo_time": 0.03, "flip_angle": flip}
    control = signal.gradient_echo(M0, T1, T2, T2S, **kwargs)
    label = signal.gradient_echo(M0, T1, T2, T2S, m_enc=-DELTA_M, **kwargs)
    expected = math.sin(math.radians(flip)) * DELTA_M * math.exp(-0.03 / T2S)
    assert float(control - label) == pytest.approx(expected, rel=1e-9)
    # T2 (not T2*) would give a visibly different value at this TE.
    assert abs(float(control - label) - expected * math.exp(-0.03 / T2 + 0.03 / T2S)) > 1e-3


def test_inversion_recovery_by_hand():
    ti, flip, inv = 1.0, 70.0, 160.0
    theta, phi = math.radians(flip), math.radians(inv)
    e1, ei, e2 = math.exp(-TR / T1), math.exp(-ti / T1), math.exp(-TE / T2)
    recovered = (
        M0
        * (1 - (1 - math.cos(phi)) * ei - math.cos(phi) * e1)
        / (1 - math.cos(theta) * math.cos(phi) * e1)
    )
    expected = math.sin(theta) * recovered * e2
    value = signal.inversion_recovery(
        M0,
        T1,
        T2,
        repetition_time=TR,
        echo_time=TE,
        inversion_time=ti,
        flip_angle=flip,
        inversion_flip_angle=inv,
    )
    assert float(value) == pytest.approx(expected, rel=1e-12)


def test_inversion_recovery_is_negative_for_csf_before_its_null():
    # CSF at 3T: T1 = 3 s, T2 = 0.3 s. With TR = 5 s, theta = 90, phi = 180 the signal is
    # M0*(1 - 2*exp(-TI/T1) + exp(-TR/T1))*E2, null at TI = -T1*ln((1 + exp(-TR/T1))/2) ~ 1.56 s.
    m0_csf, t1_csf, t2_csf = 68.0455829129696, 3.0, 0.3
    kwargs = {
        "repetition_time": TR,
        "echo_time": TE,
        "flip_angle": 90.0,
        "inversion_flip_angle": 180.0,
    }
    t_null = -t1_csf * math.log((1 + math.exp(-TR / t1_csf)) / 2)
    before = signal.inversion_recovery(m0_csf, t1_csf, t2_csf, inversion_time=1.0, **kwargs)
    expected = m0_csf * (1 - 2 * math.exp(-1.0 / t1_csf) + math.exp(-TR / t1_csf))
    expected *= math.exp(-TE / t2_csf)
    assert float(before) < 0.0
    assert float(before) == pytest.approx(expected, rel=1e-12)
    at_null = signal.inversion_recovery(m0_csf, t1_csf, t2_csf, inversion_time=t_null, **kwargs)
    assert abs(float(at_null)) < 1e-10 * m0_csf
    after = signal.inversion_recovery(m0_csf, t1_csf, t2_csf, inversion_time=2.5, **kwargs)
    assert float(after) > 0.0


def test_inversion_recovery_control_minus_label_uses_sin_and_t2():
    flip = 60.0
    kwargs = {
        "repetition_time": TR,
        "echo_time": 0.02,
        "inversion_time": 1.2,
        "flip_angle": flip,
        "inversion_flip_angle": 180.0,
    }
    control = signal.inversion_recovery(M0, T1, T2, **kwargs)
    label = signal.inversion_recovery(M0, T1, T2, m_enc=-DELTA_M, **kwargs)
    expected = math.sin(math.radians(flip)) * DELTA_M * math.exp(-0.02 / T2)
    assert float(control - label) == pytest.approx(expected, rel=1e-9)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("contrast", ["se", "ge", "ir"])
def test_background_gives_zero_without_warnings(contrast):
    zeros = np.zeros((4, 3, 2))
    result = signal.mri_signal(
        contrast, zeros, zeros, zeros, zeros, repetition_time=TR, echo_time=TE, flip_angle=30.0
    )
    assert result.dtype == np.float64
    assert result.shape == zeros.shape
    assert np.all(result == 0.0)


@pytest.mark.parametrize("contrast", ["se", "ge", "ir"])
def test_lookup_table_equals_dense_maps(contrast):
    m0 = np.array([0.0, 74.6, 64.7, 68.0])
    t1 = np.array([0.0, 1.33, 0.83, 3.0])
    t2 = np.array([0.0, 0.08, 0.11, 0.3])
    t2s = np.array([0.0, 0.066, 0.053, 0.2])
    menc = np.array([0.0, -0.4, -0.07, 0.0])
    labels = np.random.default_rng(5).integers(0, 4, size=(5, 4, 3))
    kwargs = {"repetition_time": TR, "echo_time": TE, "flip_angle": 50.0, "inversion_time": 0.9}
    table = signal.mri_signal(contrast, m0, t1, t2, t2s, m_enc=menc, **kwargs)
    dense = signal.mri_signal(
        contrast,
        m0[labels],
        t1[labels],
        t2[labels],
        t2s[labels],
        m_enc=menc[labels],
        **kwargs,
    )
    np.testing.assert_allclose(dense, table[labels], rtol=1e-14, atol=0)
    assert np.all(table[1:3] != 0.0)


def test_mri_signal_dispatches_with_defaults():
    se = signal.mri_signal("SE", M0, T1, T2, T2S, repetition_time=TR, echo_time=TE)
    assert float(se) == float(signal.spin_echo(M0, T1, T2, repetition_time=TR, echo_time=TE))
    ge = signal.mri_signal("ge", M0, T1, T2, T2S, repetition_time=TR, echo_time=TE)
    assert float(ge) == float(
        signal.gradient_echo(M0, T1, T2, T2S, repetition_time=TR, echo_time=TE, flip_angle=90.0)
    )
    ir = signal.mri_signal("Ir", M0, T1, T2, T2S, repetition_time=TR, echo_time=TE)
    assert float(ir) == float(
        signal.inversion_recovery(
            M0,
            T1,
            T2,
            repetition_time=TR,
            echo_time=TE,
            inversion_time=1.0,
            flip_angle=90.0,
            inversion_flip_angle=180.0,
        )
    )
    with pytest.raises(ValueError, match="contrast"):
        signal.mri_signal("bssfp", M0, T1, T2, T2S, repetition_time=TR, echo_time=TE)


def test_repetition_time_shorter_than_echo_time_is_rejected():
    with pytest.raises(ValueError, match="repetition_time"):
        signal.spin_echo(M0, T1, T2, repetition_time=0.005, echo_time=0.01)


@pytest.mark.parametrize("contrast", ["se", "ge", "ir"])
def test_readout_decay_is_the_factor_of_the_encoded_magnetisation(contrast):
    """control - label = ΔM * readout_decay (the coefficient of Menc in §5.2-§5.4), so a white
    paper quantified with M0 * readout_decay (m0_signal_scale) is calibrated exactly."""
    m0, t1, t2, t2s = np.array([80.0, 60.0]), np.array([1.3, 0.9]), np.array([0.08, 0.11]), 0.05
    timing = {"repetition_time": 4.0, "echo_time": 0.02, "flip_angle": 35.0}
    delta_m = np.array([0.7, 0.2])
    control = signal.mri_signal(contrast, m0, t1, t2, t2s, inversion_time=1.0, **timing)
    label = signal.mri_signal(
        contrast, m0, t1, t2, t2s, inversion_time=1.0, m_enc=-delta_m, **timing
    )
    decay = signal.readout_decay(contrast, t2, t2s, echo_time=0.02, flip_angle=35.0)
    np.testing.assert_allclose(control - label, delta_m * decay, rtol=1e-13)
    by_hand = {
        "se": np.exp(-0.02 / t2),
        "ge": math.sin(math.radians(35.0)) * np.exp(-0.02 / t2s),
        "ir": math.sin(math.radians(35.0)) * np.exp(-0.02 / t2),
    }[contrast]
    np.testing.assert_allclose(decay, by_hand, rtol=1e-15)
    scale = signal.m0_signal_scale(contrast, m0, t2, t2s, echo_time=0.02, flip_angle=35.0)
    np.testing.assert_allclose(scale, m0 * by_hand, rtol=1e-15)


def test_readout_decay_refuses_an_unknown_contrast():
    with pytest.raises(ValueError, match="contrast"):
        signal.readout_decay("epi", 0.1, 0.05, echo_time=0.01)
