"""Tests of background suppression (docs/physics.md §5.7, D28-D31).

The static magnetisation is checked against an event-by-event simulation written here (free
relaxation between events, each pulse applied when its time comes), not against the module's
closed form; ΔM attenuation against a numerical integral of Buxton's convolution with the
pulses applied to each part of the bolus; the timing optimiser by its objective, never by times.
"""

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import minimize

from asldro.physics import background_suppression as bsm
from asldro.physics import gkm
from asldro.physics.signal import mri_signal

# The uniform phantom of ASLDRO develop's test vectors (SE, TE 10 ms, TR control/label 5 s).
PHANTOM = {"f": 60.0, "dt": 0.8, "t1": 1.33, "t2": 0.08, "t2s": 0.066, "m0": 100.0}
LAMBDA, T1B, ALPHA = 0.9, 1.65, 0.85
TE, TR_ASL, TR_M0 = 0.01, 5.0, 10.0


# --- independent references written in the test -------------------------------------------


def simulate_mz(m0, t1, events, *, start_mz=None):
    """Mz at the excitation (time 0) after ``events`` = [(s before the excitation, k)], each
    the multiplication Mz -> k*Mz: step through them in time order, relaxing in between.
    ``start_mz`` is Mz at the first event (default: fully relaxed)."""
    timeline = sorted(events, key=lambda event: -event[0])  # earliest first
    now = -timeline[0][0]
    mz = m0 if start_mz is None else start_mz
    for before, multiplier in timeline:
        mz = m0 - (m0 - mz) * math.exp(-(-before - now) / t1)
        mz = multiplier * mz
        now = -before
    return m0 - (m0 - mz) * math.exp(now / t1)


def simulate_steady_state(m0, t1, events, *, repetition_time, flip_angle, repetitions=400):
    """Mz at the excitation after many repetitions of "events - excitation θ" every TR."""
    mz_at_excitation = m0
    earliest = max(before for before, _ in events)
    for _ in range(repetitions):
        after_excitation = math.cos(math.radians(flip_angle)) * mz_at_excitation
        at_first_event = m0 - (m0 - after_excitation) * math.exp(-(repetition_time - earliest) / t1)
        mz_at_excitation = simulate_mz(m0, t1, events, start_mz=at_first_event)
    return mz_at_excitation


def bs_events(saturation_time, inversion_times, chi, psi=1.0, delay=0.0):
    events = [(saturation_time + delay, 1.0 - psi)]
    return events + [(time + delay, chi) for time in inversion_times]


def develop_calculate_mz(t1, inv_pulse_times, sat_time, inv_eff):
    """ASLDRO develop's ``calculate_mz`` (mag_time = sat_time, ψ = 1): pulses in LIST order."""
    times = np.asarray(inv_pulse_times, dtype=float)
    times = times[times > 0]
    total = 1 - inv_eff ** len(times) * np.exp(-sat_time / t1)
    for m, time in enumerate(times):
        total = total + (inv_eff ** (m + 1) - inv_eff**m) * np.exp(-time / t1)
    return total


def buxton_casl_integral(signal_time, label_duration, factor_of_creation_time, breaks=()):
    """Buxton's CASL convolution for the phantom, each labelled spin created at s carrying
    ``factor_of_creation_time(s)``: 2*α*M0b*f_s*exp(-Δt/T1b) ∫ F(t'-Δt) exp(-(t-t')/T1app) dt'."""
    f_s = PHANTOM["f"] / 6000.0
    t1_app = 1.0 / (1.0 / PHANTOM["t1"] + f_s / LAMBDA)
    dt = PHANTOM["dt"]
    lower, upper = dt, min(signal_time, dt + label_duration)

    def integrand(arrival):
        return factor_of_creation_time(arrival - dt) * math.exp(-(signal_time - arrival) / t1_app)

    points = [dt + b for b in breaks if lower < dt + b < upper]
    value, _ = quad(integrand, lower, upper, points=points or None, epsabs=0, epsrel=1e-12)
    amplitude = 2 * ALPHA * (PHANTOM["m0"] / LAMBDA) * f_s * math.exp(-dt / T1B)
    return amplitude * value


def phantom_casl_delta_m(label_duration, signal_time):
    return gkm.casl_delta_m(
        PHANTOM["f"],
        PHANTOM["dt"],
        PHANTOM["t1"],
        PHANTOM["m0"],
        label_duration=label_duration,
        signal_time=signal_time,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAMBDA,
        t1_arterial_blood=T1B,
    )


def phantom_pasl_delta_m(label_duration, signal_time):
    return gkm.pasl_delta_m(
        PHANTOM["f"],
        PHANTOM["dt"],
        PHANTOM["t1"],
        PHANTOM["m0"],
        label_duration=label_duration,
        signal_time=signal_time,
        label_efficiency=ALPHA,
        lambda_blood_brain=LAMBDA,
        t1_arterial_blood=T1B,
    )


def _se_decay():
    return math.exp(-TE / PHANTOM["t2"])


# --- static magnetisation --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_static_mz_matches_event_simulation_for_random_unsorted_pulse_lists(seed):
    rng = np.random.default_rng(seed)
    saturation_time = float(rng.uniform(1.0, 5.0))
    count = int(rng.integers(0, 7))
    # Unsorted, some before the presaturation.
    times = [float(x) for x in rng.uniform(0.01, 1.3 * saturation_time, count)]
    efficiency = [-1.0, "realistic", float(rng.uniform(-1.0, -0.8)), "ideal"][seed % 4]
    psi = 1.0 if seed % 3 else float(rng.uniform(0.0, 1.0))
    bs = bsm.BackgroundSuppression(saturation_time, times, efficiency, psi)
    t1_values = np.array([0.3, 0.83, 1.33, 1.65, 3.0, 4.5])
    module = bsm.static_mz(100.0, t1_values, bs)
    chis = bsm.resolve_pulse_efficiency(efficiency, t1_values)
    for t1, chi, value in zip(t1_values, chis, module):
        expected = simulate_mz(100.0, t1, bs_events(saturation_time, times, float(chi), psi))
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("contrast_flip", [90.0, 30.0])
@pytest.mark.parametrize("psi", [1.0, 0.7, 0.0])
def test_static_mz_steady_state_matches_repeated_event_simulation(contrast_flip, psi):
    times = [1.6, 0.3, 4.3, 0.9]  # one inversion before the presaturation
    bs = bsm.BackgroundSuppression(3.9, times, -0.93, psi)
    for t1 in (0.83, 1.33, 3.0):
        module = bsm.static_mz(
            80.0, t1, bs, repetition_time=5.0, excitation_flip_angle=contrast_flip
        )
        expected = simulate_steady_state(
            80.0,
            t1,
            bs_events(3.9, times, -0.93, psi),
            repetition_time=5.0,
            flip_angle=contrast_flip,
        )
        assert float(module) == pytest.approx(expected, rel=1e-11, abs=1e-11)


def test_ideal_presaturation_erases_the_history_and_the_repetition_time():
    bs = bsm.BackgroundSuppression(2.0, [0.4, 2.5, 1.1])  # 2.5: before the presaturation
    without_early = bsm.BackgroundSuppression(2.0, [0.4, 1.1])
    relaxed = bsm.static_mz(1.0, 1.33, bs)
    assert float(relaxed) == pytest.approx(float(bsm.static_mz(1.0, 1.33, without_early)), 1e-14)
    for repetition_time in (2.6, 5.0, 20.0):
        steady = bsm.static_mz(1.0, 1.33, bs, repetition_time=repetition_time)
        assert float(steady) == pytest.approx(float(relaxed), rel=1e-13)


def test_unsorted_input_gives_the_physical_result_of_the_sorted_list():
    sorted_times = (0.3, 0.9, 1.6, 2.7)
    reference = bsm.static_mz(1.0, 1.33, bsm.BackgroundSuppression(4.0, sorted_times, -0.95))
    for order in itertools.permutations(sorted_times):
        bs = bsm.BackgroundSuppression(4.0, list(order), -0.95)
        assert bs.inversion_times == sorted_times
        assert float(bsm.static_mz(1.0, 1.33, bs)) == float(reference)
    # List order (ASLDRO develop, D28) is something else for most permutations.
    wrong = develop_calculate_mz(1.33, [0.9, 0.3, 1.6, 2.7], 4.0, -0.95)
    assert abs(wrong - float(reference)) > 0.5


def test_mani_closed_form_for_sorted_pulses_after_the_presaturation():
    q, times, chi, psi = 4.0, [0.25, 0.8, 1.7, 2.9], -0.97, 0.8
    bs = bsm.BackgroundSuppression(q, times, chi, psi)
    for t1 in (0.5, 1.33, 2.5):
        expected = 1 - psi * chi**4 * math.exp(-q / t1)
        expected += sum(
            (chi**m - chi ** (m - 1)) * math.exp(-tau / t1) for m, tau in enumerate(times, 1)
        )
        assert float(bsm.static_mz(1.0, t1, bs)) == pytest.approx(expected, rel=1e-13)


def test_slice_delay_is_free_recovery_after_the_reference_excitation():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6, 2.7], "realistic")
    t1 = np.array([0.83, 1.33, 3.0])
    at_q = bsm.static_mz(70.0, t1, bs)
    delays = np.array([0.0, 0.035, 0.7])[:, None]
    at_slices = bsm.static_mz(70.0, t1[None, :], bs, delay=delays)
    assert at_slices.shape == (3, 3)
    expected = 70.0 - (70.0 - at_q[None, :]) * np.exp(-delays / t1[None, :])
    np.testing.assert_allclose(at_slices, expected, rtol=1e-12, atol=1e-12)
    # ... and equals the event simulation with every event moved back by the delay.
    chi = bsm.maleki_pulse_efficiency(1.33)
    events = bs_events(4.0, [0.3, 0.9, 1.6, 2.7], float(chi), delay=0.7)
    assert at_slices[2, 1] == pytest.approx(simulate_mz(70.0, 1.33, events), rel=1e-12)


def test_maps_lookup_tables_and_background_t1_zero_without_warnings():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6, 2.7], "realistic", 0.9)
    t1_map = np.zeros((4, 3, 2))
    t1_map[1:3] = 1.33
    m0_map = np.where(t1_map > 0, 100.0, 0.0)
    delay_map = np.broadcast_to(np.arange(2) * 0.04, (4, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            mz_map = bsm.static_mz(m0_map, t1_map, bs, delay=delay_map, repetition_time=5.0)
            table = bsm.static_mz([0.0, 100.0], [0.0, 1.33], bs, repetition_time=5.0)
            signal = bsm.static_signal(
                "ge",
                m0_map,
                t1_map,
                t1_map / 20,
                t1_map / 25,
                bs,
                repetition_time=5.0,
                echo_time=TE,
                flip_angle=40.0,
                delay=delay_map,
            )
    assert mz_map.dtype == np.float64 and mz_map.shape == (4, 3, 2)
    assert signal.dtype == np.float64 and signal.shape == (4, 3, 2)
    assert np.all(mz_map[0] == 0.0) and np.all(signal[0] == 0.0)
    assert table[0] == 0.0 and table[1] == pytest.approx(mz_map[1, 0, 0], rel=1e-12)


def test_no_pulses_and_no_saturation_is_the_readout_saturation_recovery():
    # ψ = 0 and no inversion: the steady state reduces to (1 - E1) (se) and the spoiled GE.
    bs = bsm.BackgroundSuppression(1.0, [], saturation_efficiency=0.0)
    t1 = 1.33
    e1 = math.exp(-TR_ASL / t1)
    assert float(bsm.static_mz(1.0, t1, bs, repetition_time=TR_ASL)) == pytest.approx(1 - e1)
    theta = math.radians(30.0)
    expected = (1 - e1) / (1 - math.cos(theta) * e1)
    assert float(
        bsm.static_mz(1.0, t1, bs, repetition_time=TR_ASL, excitation_flip_angle=30.0)
    ) == pytest.approx(expected, rel=1e-13)


def test_static_signal_after_an_ideal_presaturation_has_no_extra_saturation_factor():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6, 2.7], -0.95)
    args = (PHANTOM["m0"], PHANTOM["t1"], PHANTOM["t2"], PHANTOM["t2s"], bs)
    mz = simulate_mz(PHANTOM["m0"], PHANTOM["t1"], bs_events(4.0, [0.3, 0.9, 1.6, 2.7], -0.95))
    se = bsm.static_signal("se", *args, repetition_time=TR_ASL, echo_time=TE)
    assert float(se) == pytest.approx(mz * _se_decay(), rel=1e-12)
    ge = bsm.static_signal("ge", *args, repetition_time=TR_ASL, echo_time=TE, flip_angle=40.0)
    expected_ge = math.sin(math.radians(40.0)) * mz * math.exp(-TE / PHANTOM["t2s"])
    assert float(ge) == pytest.approx(expected_ge, rel=1e-12)
    # develop's numerics multiply by the readout's (1 - E1) once more (D29).
    compat = bsm.static_signal(
        "se", *args, repetition_time=TR_ASL, echo_time=TE, develop_compat=True
    )
    assert float(compat) == pytest.approx(
        float(se) * (1 - math.exp(-TR_ASL / PHANTOM["t1"])), rel=1e-12
    )


def test_static_signal_label_volume_subtracts_the_encoded_delta_m():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6])
    args = (PHANTOM["m0"], PHANTOM["t1"], PHANTOM["t2"], PHANTOM["t2s"], bs)
    control = bsm.static_signal("se", *args, repetition_time=TR_ASL, echo_time=TE)
    label = bsm.static_signal("se", *args, repetition_time=TR_ASL, echo_time=TE, m_enc=-0.4)
    assert float(control - label) == pytest.approx(0.4 * _se_decay(), rel=1e-12)


@pytest.mark.parametrize("develop_compat", [False, True])
def test_static_signal_refuses_the_inversion_recovery_readout(develop_compat):
    bs = bsm.BackgroundSuppression(4.0, [0.3])
    with pytest.raises(ValueError, match="'ir' readout"):
        bsm.static_signal(
            "IR",
            100.0,
            1.33,
            0.08,
            0.066,
            bs,
            repetition_time=5.0,
            echo_time=TE,
            develop_compat=develop_compat,
        )


def test_repetition_time_shorter_than_the_pulses_is_refused():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 4.5])
    with pytest.raises(ValueError, match="repetition_time"):
        bsm.static_mz(1.0, 1.33, bs, repetition_time=4.2)
    with pytest.raises(ValueError, match="repetition_time"):
        bsm.static_mz(
            1.0, 1.33, bsm.BackgroundSuppression(4.0, [0.3]), repetition_time=4.1, delay=0.2
        )


# --- pulse efficiency and parameter checks ---------------------------------------------------


def test_maleki_efficiency_values_and_range():
    t1 = np.array([0.45, 0.83, 1.0, 1.33, 1.65, 2.0])
    expected = [-0.96432, -0.98586, -0.99141, -0.99729, -0.99899, -0.99879]
    np.testing.assert_allclose(bsm.maleki_pulse_efficiency(t1), expected, atol=6e-6)
    assert np.all(bsm.maleki_pulse_efficiency([0.3, 2.5, 4.2]) == -0.998)
    outside = [0.0, 0.1, 4.5]
    assert np.all(bsm.maleki_pulse_efficiency(outside) == -0.998)
    assert np.all(bsm.maleki_pulse_efficiency(outside, develop_compat=True) == 0.0)


@pytest.mark.parametrize(
    "fields, name",
    [
        ({"saturation_time": 0.0}, "saturation_time"),
        ({"saturation_time": float("nan")}, "saturation_time"),
        ({"inversion_times": [0.3, -0.1]}, r"inversion_times\[1\]"),
        ({"inversion_times": [0.3, 0.0]}, r"inversion_times\[1\]"),
        ({"inversion_times": "0.3"}, "inversion_times"),
        ({"inversion_times": [True]}, r"inversion_times\[0\]"),
        ({"pulse_efficiency": -1.2}, "pulse_efficiency"),
        ({"pulse_efficiency": 0.5}, "pulse_efficiency"),
        ({"pulse_efficiency": "perfect"}, "pulse_efficiency"),
        ({"pulse_efficiency": True}, "pulse_efficiency"),
        ({"saturation_efficiency": 1.1}, "saturation_efficiency"),
        ({"alpha_bs_per_pulse": 0.0}, "alpha_bs_per_pulse"),
        ({"alpha_bs_per_pulse": 1.5}, "alpha_bs_per_pulse"),
    ],
)
def test_bad_parameters_name_the_field(fields, name):
    with pytest.raises(ValueError, match=name):
        bsm.BackgroundSuppression(**{"saturation_time": 4.0, "inversion_times": [0.3], **fields})


def test_integers_and_case_are_accepted():
    bs = bsm.BackgroundSuppression(4, [1, 0.5], "Realistic")
    assert bs.saturation_time == 4.0 and bs.inversion_times == (0.5, 1.0)
    assert bs.pulse_efficiency == "realistic"
    assert bsm.BackgroundSuppression(4.0, [0.3], -1).pulse_efficiency == -1.0


# --- ΔM attenuation ----------------------------------------------------------------------------


@pytest.mark.parametrize("times, sign", [([0.3, 0.9, 1.6, 1.2], 1), ([0.3, 0.9, 1.6], -1)])
def test_ideal_pulses_after_labelling_leave_delta_m_unchanged_but_for_its_sign(times, sign):
    """Each ideal inversion inverts the signed control-label difference of the longitudinal
    magnetisation with the rest of it: after N of them it is (-1)^N ΔM, same magnitude."""
    bs = bsm.BackgroundSuppression(4.0, times)
    attenuation = bsm.label_attenuation(
        bs, label_type="pcasl", label_duration=1.8, signal_time=3.6, t1_blood=T1B
    )
    assert attenuation.parts == (bsm.BolusPart(0.0, 1.8, 1.0, len(times)),)
    assert attenuation.alpha_bs == 1.0 and attenuation.sign == sign
    assert not attenuation.presaturation_after_labelling_start
    value = attenuation.attenuate(phantom_casl_delta_m, 3.6)
    assert float(value) == sign * float(phantom_casl_delta_m(1.8, 3.6))


def test_each_inversion_after_the_label_multiplies_it_by_its_efficiency():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6], -0.95, alpha_bs_per_pulse=0.97)
    attenuation = bsm.label_attenuation(
        bs, label_type="pcasl", label_duration=1.8, signal_time=3.6, t1_blood=T1B
    )
    assert attenuation.alpha_bs == pytest.approx((0.95 * 0.97) ** 3, rel=1e-14)
    assert attenuation.alpha_bs_per_pulse == 0.97 and attenuation.pulse_efficiency == 0.95
    expected = buxton_casl_integral(3.6, 1.8, lambda s: (-0.95 * 0.97) ** 3)  # signed: χ < 0
    assert float(attenuation.attenuate(phantom_casl_delta_m, 3.6)) == pytest.approx(
        expected, rel=1e-9
    )


def test_realistic_efficiency_of_the_label_is_taken_at_the_blood_t1():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9], "realistic")
    attenuation = bsm.label_attenuation(
        bs, label_type="casl", label_duration=1.8, signal_time=3.6, t1_blood=T1B
    )
    chi = float(bsm.maleki_pulse_efficiency(T1B))
    assert attenuation.alpha_bs == pytest.approx(chi**2, rel=1e-14)


def test_inversions_before_the_start_of_labelling_do_not_touch_the_label():
    bs = bsm.BackgroundSuppression(4.5, [0.5, 3.8, 4.2], -0.9)  # t = 3.6: 3.8 and 4.2 before
    attenuation = bsm.label_attenuation(
        bs, label_type="pcasl", label_duration=1.8, signal_time=3.6, t1_blood=T1B
    )
    assert attenuation.parts == (bsm.BolusPart(0.0, 1.8, pytest.approx(0.9), 1),)


def test_pasl_bolus_experiences_every_inversion_after_the_labelling_pulse():
    # TI 1.8 s: pulses 1.7 and 1.0 s before the excitation are 0.1 and 0.8 s after labelling,
    # inside the bolus width 0.8 s, yet the PASL bolus exists from the labelling pulse on.
    bs = bsm.BackgroundSuppression(2.0, [1.7, 1.0, 1.9], -0.9)
    attenuation = bsm.label_attenuation(
        bs, label_type="PASL", label_duration=0.8, signal_time=1.8, t1_blood=T1B
    )
    assert len(attenuation.parts) == 1 and attenuation.parts[0].pulses == 2
    assert attenuation.alpha_bs == pytest.approx(0.81, rel=1e-14)
    assert float(attenuation.attenuate(phantom_pasl_delta_m, 1.8)) == pytest.approx(
        0.81 * float(phantom_pasl_delta_m(0.8, 1.8)), rel=1e-14
    )
    assert attenuation.presaturation_after_labelling_start is False


@pytest.mark.parametrize("chi", [-1.0, -0.95, -0.8])
@pytest.mark.parametrize(
    "signal_time, times, expected_parts",
    [
        # t 3.6, τ 1.8: the 2.7 s pulse is 0.9 s after the start of labelling, 3.2 s is 0.4 s.
        (3.6, [0.3, 0.9, 2.7, 1.6, 3.2], [(0.0, 0.4, 5), (0.4, 0.9, 4), (0.9, 1.8, 3)]),
        # t 2.4 (arriving regime, Δt + τ = 2.6): pulses 0.4 and 1.5 s after the start.
        (2.4, [2.0, 0.3, 0.9], [(0.0, 0.4, 3), (0.4, 1.5, 2), (1.5, 1.8, 1)]),
    ],
)
def test_casl_inversion_during_labelling_splits_the_bolus(chi, signal_time, times, expected_parts):
    bs = bsm.BackgroundSuppression(4.0, times, chi)
    attenuation = bsm.label_attenuation(
        bs, label_type="pcasl", label_duration=1.8, signal_time=signal_time, t1_blood=T1B
    )
    parts = [(p.start, p.end, p.pulses) for p in attenuation.parts]
    assert parts == [(pytest.approx(a), pytest.approx(b), n) for a, b, n in expected_parts]
    assert attenuation.alpha_bs is None
    pulses_after_start = [signal_time - time for time in times]

    def factor(created):
        """χ (signed) for every inversion after the spin was labelled, and -1 for every
        inversion during labelling before it: the sequence exchanges label and control after
        each, so a spin labelled later starts with the opposite sign."""
        after = sum(1 for pulse in pulses_after_start if pulse > created)
        before = sum(1 for pulse in pulses_after_start if 0 < pulse <= created)
        return chi**after * (-1) ** before

    breaks = [b for _, b, _ in expected_parts[:-1]]
    for slice_delay in (0.0, 0.1):  # a later 2D slice: same parts, ΔM at t + δ
        evaluated = signal_time + slice_delay
        expected = buxton_casl_integral(evaluated, 1.8, factor, breaks=breaks)
        value = attenuation.attenuate(phantom_casl_delta_m, evaluated)
        assert float(value) == pytest.approx(expected, rel=1e-9)


def test_presaturation_after_the_start_of_labelling_is_flagged():
    bs = bsm.BackgroundSuppression(4.0, [0.3])
    attenuation = bsm.label_attenuation(
        bs, label_type="pcasl", label_duration=1.8, signal_time=4.6, t1_blood=T1B
    )
    assert attenuation.presaturation_after_labelling_start is True


def test_develop_compat_does_not_attenuate_delta_m():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6, 2.7], -0.95, alpha_bs_per_pulse=0.9)
    attenuation = bsm.label_attenuation(
        bs,
        label_type="pcasl",
        label_duration=1.8,
        signal_time=3.6,
        t1_blood=T1B,
        develop_compat=True,
    )
    assert attenuation.parts == (bsm.BolusPart(0.0, 1.8, 1.0, 4),)


def test_label_attenuation_checks_its_timing():
    bs = bsm.BackgroundSuppression(4.0, [0.3])
    with pytest.raises(ValueError, match="label_duration"):
        bsm.label_attenuation(
            bs, label_type="pcasl", label_duration=2.0, signal_time=1.5, t1_blood=T1B
        )
    with pytest.raises(ValueError, match="label_type"):
        bsm.label_attenuation(
            bs, label_type="vsasl", label_duration=1.0, signal_time=1.5, t1_blood=T1B
        )


# --- ASLDRO develop test vectors C and D -------------------------------------------------------


def _vector_volumes(bs, *, develop_compat):
    """m0scan (no BS), control, label of the develop phantom, τ 1.8, t 3.6 (PLD 1.8)."""
    args = (PHANTOM["m0"], PHANTOM["t1"], PHANTOM["t2"], PHANTOM["t2s"])
    m0scan = mri_signal("se", *args, repetition_time=TR_M0, echo_time=TE)
    attenuation = bsm.label_attenuation(
        bs,
        label_type="pcasl",
        label_duration=1.8,
        signal_time=3.6,
        t1_blood=T1B,
        develop_compat=develop_compat,
    )
    delta_m = attenuation.attenuate(phantom_casl_delta_m, 3.6)
    kwargs = {"repetition_time": TR_ASL, "echo_time": TE, "develop_compat": develop_compat}
    control = bsm.static_signal("se", *args, bs, **kwargs)
    label = bsm.static_signal("se", *args, bs, m_enc=-delta_m, **kwargs)
    return float(m0scan), float(control), float(label)


def test_develop_vector_c_reproduced_in_develop_compat():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6, 2.7], -0.95)
    m0scan, control, label = _vector_volumes(bs, develop_compat=True)
    assert m0scan == pytest.approx(88.20178964, abs=5e-9)
    assert control == pytest.approx(3.12275680, abs=5e-9)
    assert label == pytest.approx(2.65432477, abs=5e-9)


def test_develop_vector_c_corrected_default():
    bs = bsm.BackgroundSuppression(4.0, [0.3, 0.9, 1.6, 2.7], -0.95)
    m0scan, control, label = _vector_volumes(bs, develop_compat=False)
    assert m0scan == pytest.approx(88.20178964, abs=5e-9)  # no BS on the m0scan
    mz = simulate_mz(PHANTOM["m0"], PHANTOM["t1"], bs_events(4.0, [0.3, 0.9, 1.6, 2.7], -0.95))
    assert control == pytest.approx(mz * _se_decay(), rel=1e-12)  # no (1 - E1): D29
    # The pulse 2.7 s before the excitation is 0.9 s into labelling: the first half of the
    # bolus sees 4 inversions, the second half 3 (each |χ| = 0.95).
    expected_delta_m = buxton_casl_integral(
        3.6, 1.8, lambda s: 0.95**4 if s < 0.9 else 0.95**3, breaks=(0.9,)
    )
    assert control - label == pytest.approx(expected_delta_m * _se_decay(), rel=1e-9)
    _, develop_control, _ = _vector_volumes(bs, develop_compat=True)
    assert control / develop_control == pytest.approx(1 / (1 - math.exp(-TR_ASL / 1.33)))


def test_develop_vector_d_is_the_list_order_defect():
    unsorted_times = [0.9, 0.3, 1.6, 2.7]
    decay_and_tr = (1 - math.exp(-TR_ASL / PHANTOM["t1"])) * _se_decay()
    # develop's number is its list-order formula (D28) with the double saturation (D29) ...
    develop_mz = develop_calculate_mz(PHANTOM["t1"], unsorted_times, 4.0, -1.0)
    assert PHANTOM["m0"] * develop_mz * decay_and_tr == pytest.approx(102.75994210, abs=5e-8)
    # ... above the unsuppressed control (86.19367105): physically impossible.
    unsuppressed = mri_signal("se", 100.0, 1.33, 0.08, 0.066, repetition_time=5.0, echo_time=TE)
    assert float(unsuppressed) == pytest.approx(86.19367105, abs=5e-9)
    # The module, default and compat, gives the physical (sorted) result.
    bs = bsm.BackgroundSuppression(4.0, unsorted_times, "ideal")
    physical_mz = simulate_mz(PHANTOM["m0"], PHANTOM["t1"], bs_events(4.0, unsorted_times, -1.0))
    _, control, _ = _vector_volumes(bs, develop_compat=True)
    assert control == pytest.approx(physical_mz * decay_and_tr, rel=1e-12)
    assert control < float(unsuppressed) / 10
    _, corrected, _ = _vector_volumes(bs, develop_compat=False)
    assert corrected == pytest.approx(physical_mz * _se_decay(), rel=1e-12)
    sorted_bs = bsm.BackgroundSuppression(4.0, sorted(unsorted_times), "ideal")
    assert _vector_volumes(sorted_bs, develop_compat=True) == _vector_volumes(
        bs, develop_compat=True
    )


# --- timing optimisation ---------------------------------------------------------------------


def develop_nelder_mead(t1_values, pulse_efficiency, saturation_time, num_pulses=4):
    """ASLDRO develop's ``optimise_inv_pulse_times``: Nelder-Mead from ones on its own
    (list-order) formula; returns (times, develop's objective value)."""
    t1 = np.asarray(t1_values)
    chi = bsm.resolve_pulse_efficiency(pulse_efficiency, t1, develop_compat=True)

    def objective(times):
        mz = develop_calculate_mz(t1, times, saturation_time, chi)
        return np.sum(mz**2) + np.sum(mz < 0)

    result = minimize(objective, np.ones(num_pulses), method="Nelder-Mead")
    return result.x, float(result.fun)


OPTIMISATION_CASES = [
    ((0.83, 1.33, 3.0), "ideal"),  # 3T built-in ground truth
    ((0.83, 1.33, 3.0), "realistic"),
    ((0.56, 1.1, 2.06), "ideal"),  # 1.5T built-in ground truth
    ((1.33,), "ideal"),  # the uniform phantom
    ((1.33,), "realistic"),
]


def _physical_mz_at_optimisation(times, t1_values, pulse_efficiency, saturation_time):
    chis = bsm.resolve_pulse_efficiency(pulse_efficiency, np.asarray(t1_values))
    return np.array(
        [
            simulate_mz(1.0, t1, bs_events(saturation_time, times, float(chi)))
            for t1, chi in zip(t1_values, chis)
        ]
    )


@pytest.mark.parametrize("t1_values, pulse_efficiency", OPTIMISATION_CASES)
def test_optimiser_beats_develop_nelder_mead(t1_values, pulse_efficiency):
    q_opt = bsm.DEFAULT_OPTIMISATION_SATURATION_TIME
    ours = bsm.optimise_inversion_times(
        t1_values,
        pulse_efficiency=pulse_efficiency,
        saturation_time=q_opt,
        optimisation_saturation_time=None,
    )
    develop_times, develop_value = develop_nelder_mead(t1_values, pulse_efficiency, q_opt)
    ours_mz = _physical_mz_at_optimisation(ours, t1_values, pulse_efficiency, q_opt)
    develop_mz = _physical_mz_at_optimisation(
        [t for t in develop_times if t > 0], t1_values, pulse_efficiency, q_opt
    )
    ours_value = float(np.sum(ours_mz**2) + np.sum(ours_mz < 0))
    physical_develop_value = float(np.sum(develop_mz**2) + np.sum(develop_mz < 0))
    assert ours_value <= develop_value  # develop's value on its own (list-order) formula
    assert ours_value <= physical_develop_value  # develop's times in the physical model
    assert ours_value == pytest.approx(
        bsm.timing_objective(
            ours, t1_values, saturation_time=q_opt, pulse_efficiency=pulse_efficiency
        ),
        rel=1e-6,
        abs=1e-18,
    )


@pytest.mark.parametrize("t1_values, pulse_efficiency", OPTIMISATION_CASES)
def test_optimised_times_null_the_target_t1s_with_the_default_shift(t1_values, pulse_efficiency):
    times = bsm.optimise_inversion_times(t1_values, pulse_efficiency=pulse_efficiency)
    assert len(times) == bsm.DEFAULT_NUM_INVERSION_PULSES and list(times) == sorted(times)
    assert all(0.0 < t <= bsm.DEFAULT_SATURATION_TIME for t in times)
    shift = bsm.DEFAULT_SATURATION_TIME - bsm.DEFAULT_OPTIMISATION_SATURATION_TIME
    at_optimisation = _physical_mz_at_optimisation(
        [t - shift for t in times],
        t1_values,
        pulse_efficiency,
        bsm.DEFAULT_OPTIMISATION_SATURATION_TIME,
    )
    assert np.all(at_optimisation >= 0) and np.all(at_optimisation < 1e-6)
    # At the excitation, 20 ms later: small and positive (free recovery from the null).
    bs = bsm.BackgroundSuppression(bsm.DEFAULT_SATURATION_TIME, times, pulse_efficiency)
    at_excitation = bsm.static_mz(1.0, np.asarray(t1_values), bs)
    expected = 1 - (1 - at_optimisation) * np.exp(-shift / np.asarray(t1_values))
    np.testing.assert_allclose(at_excitation, expected, rtol=1e-9, atol=1e-12)
    free_recovery = 1 - np.exp(-shift / np.asarray(t1_values))
    assert np.all((0 < at_excitation) & (at_excitation < free_recovery + 1e-6))


def test_optimiser_is_reproducible():
    first = bsm.optimise_inversion_times((0.83, 1.33, 3.0), pulse_efficiency="realistic")
    second = bsm.optimise_inversion_times((0.83, 1.33, 3.0), pulse_efficiency="realistic")
    assert first == second


def test_optimiser_with_more_t1s_than_pulses_keeps_mz_positive():
    t1_values = (0.6, 0.83, 1.1, 1.33, 2.0, 3.0, 4.0)
    times = bsm.optimise_inversion_times(t1_values, num_pulses=2, optimisation_saturation_time=None)
    mz = _physical_mz_at_optimisation(times, t1_values, "ideal", bsm.DEFAULT_SATURATION_TIME)
    assert np.all(mz >= 0)
    _, develop_value = develop_nelder_mead(t1_values, "ideal", 4.0, num_pulses=2)
    assert float(np.sum(mz**2)) <= develop_value
    assert np.max(mz) < 0.15


def test_optimiser_refuses_bad_input():
    with pytest.raises(ValueError, match="sat_pulse_time_opt"):
        bsm.optimise_inversion_times((1.33,), saturation_time=3.0, optimisation_saturation_time=3.5)
    with pytest.raises(ValueError, match="num_inv_pulses"):
        bsm.optimise_inversion_times((1.33,), num_pulses=0)
    with pytest.raises(ValueError, match="t1_opt"):
        bsm.optimise_inversion_times(())
    with pytest.raises(ValueError, match="t1_opt"):
        bsm.optimise_inversion_times((1.33, 0.0))


def test_defaults_are_develop_default_bs_params():
    assert bsm.DEFAULT_SATURATION_TIME == 4.0
    assert bsm.DEFAULT_OPTIMISATION_SATURATION_TIME == 3.98
    assert bsm.DEFAULT_PULSE_EFFICIENCY == "ideal"
    assert bsm.DEFAULT_NUM_INVERSION_PULSES == 4
    assert bsm.DEFAULT_APPLY_TO_ASL_CONTEXT == ("label", "control")


def test_optimisation_t1_values_are_the_distinct_positive_t1s():
    t1_map = np.array([[0.0, 1.33, 0.83], [3.0, 1.33, 0.0]])
    assert bsm.optimisation_t1_values(t1_map) == (0.83, 1.33, 3.0)
    many = np.linspace(0.5, 4.0, 1000)
    reduced = bsm.optimisation_t1_values(many)
    assert len(reduced) == bsm.MAX_OPTIMISATION_T1_VALUES
    assert reduced[0] == 0.5 and reduced[-1] == 4.0 and set(reduced) <= set(many.tolist())
    with pytest.raises(ValueError, match="t1_opt"):
        bsm.optimisation_t1_values(np.zeros(3))


# --- BIDS timing -------------------------------------------------------------------------------


def test_bids_pulse_time_is_relative_to_the_start_of_labelling_sorted_and_non_negative():
    times, number = bsm.bids_pulse_timing(
        "pcasl",
        label_duration=1.8,
        post_labeling_delay=1.8,
        inversion_times=[0.3, 2.7, 0.9, 3.9, 1.6],  # 3.9 s before the excitation: before labelling
    )
    assert times == (0.9, 2.0, 2.7, 3.3) and number == 4


def test_bids_pulse_time_for_pasl_is_relative_to_the_labelling_pulse():
    times, number = bsm.bids_pulse_timing(
        "PASL", label_duration=None, post_labeling_delay=1.8, inversion_times=[1.0, 0.3, 2.5]
    )
    assert times == (0.8, 1.5) and number == 2


def test_bids_pulse_time_of_the_first_pld_excludes_pulses_before_labelling():
    # Multi-PLD with the develop-style timing fixed before the excitation: BIDS wants the
    # first PLD's times. develop used the largest PLD (here 2.8), LD + PLD - tau, which goes
    # negative for the pulse 4.9 s before the excitation (D31).
    inversion_times = [0.3, 1.2, 2.0, 4.9]
    assert min(1.8 + 2.8 - t for t in inversion_times) < 0
    first, number = bsm.bids_pulse_timing(
        "pcasl", label_duration=1.8, post_labeling_delay=0.2, inversion_times=inversion_times
    )
    assert first == (0.0, 0.8, 1.7) and number == 3  # the pulse at the start of labelling: 0
    later, later_number = bsm.bids_pulse_timing(
        "pcasl", label_duration=1.8, post_labeling_delay=0.1, inversion_times=inversion_times
    )
    assert later == (0.7, 1.6) and later_number == 2


@pytest.mark.parametrize("seed", range(5))
def test_bids_pulse_times_are_never_negative(seed):
    rng = np.random.default_rng(100 + seed)
    pld, duration = float(rng.uniform(0, 2.5)), float(rng.uniform(0.1, 2.0))
    inversion_times = [float(x) for x in rng.uniform(0.01, 5.0, 6)]
    times, number = bsm.bids_pulse_timing(
        "casl", label_duration=duration, post_labeling_delay=pld, inversion_times=inversion_times
    )
    start = duration + pld
    assert number == len(times) == sum(1 for t in inversion_times if t <= start)
    assert list(times) == sorted(times) and all(t >= 0 for t in times)


def test_bids_pulse_timing_checks_its_input():
    with pytest.raises(ValueError, match="label_duration"):
        bsm.bids_pulse_timing(
            "pcasl", label_duration=None, post_labeling_delay=1.8, inversion_times=[0.3]
        )
    with pytest.raises(ValueError, match="post_labeling_delay"):
        bsm.bids_pulse_timing(
            "pasl", label_duration=None, post_labeling_delay=-0.1, inversion_times=[0.3]
        )
