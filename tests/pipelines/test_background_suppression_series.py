"""Background suppression through the asl pipeline (issue 12 item 1), checked against an
independent event-by-event simulation of the longitudinal magnetisation written here (not the
closed form of docs/physics.md (5.5)-(5.8)): the suppressed control and m0scan of a uniform
phantom, 3D and per slice in 2D, in the lookup-table and the dense-map path; ΔM attenuated by
each inversion's efficiency; an unsorted list giving the physical result; the optimised times
and the BIDS fields of the acquisition record."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from asldro.bids.derived import (
    background_suppression_number_pulses,
    background_suppression_pulse_time,
)
from asldro.pipelines.asl import simulate_asl
from asldro.pipelines.context import SimulationContext
from asldro.physics.background_suppression import timing_objective
from tests.pipelines.test_slices import (
    PHANTOM,
    SIGNAL_TIMES,
    TAU,
    _dense,
    _document,
    _pipeline,
    _uniform_truth,
    _volumes,
)

TE, T2 = 0.01, PHANTOM["t2"]
#: Inversions 0.3, 0.9, 1.6, 2.7 s before the excitation, given out of order.
UNSORTED = [0.9, 0.3, 2.7, 1.6]
SATURATION = 4.0


def _event_mz(m0: float, t1: float, pulses: list[tuple[float, float]], delay: float) -> float:
    """Mz at an excitation ``delay`` after the reference one, by simulating every event in
    time order from full relaxation: ``pulses`` are (s before the reference excitation,
    factor k: Mz -> k*Mz); between events Mz relaxes freely towards M0."""
    mz, now = m0, -math.inf
    for before, factor in sorted(pulses, key=lambda pulse: -pulse[0]):
        at = -before
        if now > -math.inf:
            mz = m0 - (m0 - mz) * math.exp(-(at - now) / t1)
        mz, now = factor * mz, at
    return m0 - (m0 - mz) * math.exp(-(delay - now) / t1)


def _module(chi: float, times=UNSORTED) -> list[tuple[float, float]]:
    return [(SATURATION, 0.0)] + [(time, chi) for time in times]


def _readout(kind: str) -> dict:
    """3D, or 2D with 70 ms per slice."""
    return (
        {"mr_acq_type": "3D"} if kind == "3D" else {"mr_acq_type": "2D", "slice_readout_time": 0.07}
    )


def _suppression(**extra) -> dict:
    return {"sat_pulse_time": SATURATION, "inv_pulse_times": UNSORTED, **extra}


@pytest.mark.parametrize("path", ["tables", "dense"])
@pytest.mark.parametrize("readout", ["3D", "2D"])
def test_suppressed_control_is_the_event_simulation(path, readout):
    """Spin echo: control = Mz(event simulation, slice delay) * exp(-TE/T2) (no (1 - E1) after
    the ideal presaturation: docs/physics.md D29); the m0scan (not in apply_to_asl_context) is
    the unsuppressed saturation recovery (ΔM: the attenuation tests below)."""
    truth = _uniform_truth()
    document = _document(
        **_readout(readout), background_suppression=_suppression(pulse_efficiency=-0.95)
    )
    pipeline = _pipeline(document, _dense(truth) if path == "dense" else truth)
    volumes = _volumes(pipeline)
    times = pipeline.series.readout_slice_timing or (0.0,) * 8
    m0, t1 = PHANTOM["m0"], PHANTOM["t1"]
    for phase in range(len(SIGNAL_TIMES)):
        m0scan, control = volumes[3 * phase], volumes[3 * phase + 1]
        relaxed = m0 * (1 - math.exp(-10.0 / t1)) * math.exp(-TE / T2)
        np.testing.assert_allclose(m0scan, relaxed, rtol=1e-12)
        for k, delay in enumerate(times):
            expected = _event_mz(m0, t1, _module(-0.95), delay) * math.exp(-TE / T2)
            np.testing.assert_allclose(control[..., k], expected, rtol=1e-10, atol=1e-12)


def test_unsorted_and_sorted_inversion_lists_give_the_same_volumes():
    """The pulses are used in time order, never list order (docs/physics.md D28): the list
    [0.9, 0.3, 2.7, 1.6] and its sorted copy give identical volumes (develop's list-order formula
    gives a control above the unsuppressed one for this list, vector D)."""
    truth = _uniform_truth()
    given = _volumes(
        _pipeline(_document(background_suppression=_suppression(), **_readout("3D")), truth)
    )
    module = _suppression(inv_pulse_times=sorted(UNSORTED))
    ordered = _volumes(_pipeline(_document(background_suppression=module, **_readout("3D")), truth))
    for one, other in zip(given, ordered):
        np.testing.assert_array_equal(one, other)
    control = given[1]
    unsuppressed = PHANTOM["m0"] * (1 - math.exp(-5.0 / PHANTOM["t1"])) * math.exp(-TE / T2)
    assert np.all(control < 0.1 * unsuppressed)


@pytest.mark.parametrize("readout", ["3D", "2D"])
@pytest.mark.parametrize("chi, extra", [(-1.0, None), (-0.9, None), (-0.9, 0.95)])
def test_delta_m_is_attenuated_by_each_inversion_after_the_labelling(readout, chi, extra):
    """Every inversion after the end of labelling multiplies the label's control-label
    difference by |χ| (and alpha_bs_per_pulse): with the four inversions 0.3-0.9 s before the
    excitation (t = 2.8 and 3.6 s, τ 1.8 s: all after the labelling, which ends 1.0 s before
    the excitation at the earliest) ΔM is (|χ|·a)^4 times the unsuppressed ΔM, in every slice
    (the pulses are fixed before the reference excitation)."""
    truth = _uniform_truth()
    times = [0.9, 0.3, 0.7, 0.5]
    module = {"sat_pulse_time": SATURATION, "inv_pulse_times": times, "pulse_efficiency": chi}
    if extra is not None:
        module["alpha_bs_per_pulse"] = extra
    common = _readout(readout)
    plain = _volumes(_pipeline(_document(**common), truth))
    suppressed = _volumes(_pipeline(_document(background_suppression=module, **common), truth))
    factor = (abs(chi) * (1.0 if extra is None else extra)) ** len(times)
    for phase in range(len(SIGNAL_TIMES)):
        before = plain[3 * phase + 1] - plain[3 * phase + 2]
        after = suppressed[3 * phase + 1] - suppressed[3 * phase + 2]
        assert np.all(before > 0)
        np.testing.assert_allclose(after, factor * before, rtol=1e-9)


def test_an_inversion_during_pcasl_labelling_attenuates_only_the_part_labelled_before_it():
    """An inversion 2.0 s before the excitation at t = 2.8 s is 0.8 s after the start of the
    1.8 s labelling: only the part labelled before it is multiplied by |χ| (docs/physics.md
    (5.11)-(5.12)), so |ΔM| lies between |χ|·ΔM and ΔM. One inversion after the start of
    labelling inverts the labelled deficit while the static tissue recovers to Mz > 0 by the
    excitation: the label volume is brighter than the control in the magnitude images
    (control - label < 0), and a warning line says so."""
    truth = _uniform_truth()
    module = {"sat_pulse_time": SATURATION, "inv_pulse_times": [2.0], "pulse_efficiency": -0.8}
    plain = _volumes(_pipeline(_document(signal_time=2.8, mr_acq_type="3D"), truth))
    with pytest.warns(UserWarning, match=r"makes control - label of the magnitude images negative"):
        pipeline = _pipeline(
            _document(signal_time=2.8, mr_acq_type="3D", background_suppression=module), truth
        )
    suppressed = _volumes(pipeline)
    before = plain[1] - plain[2]
    after = suppressed[1] - suppressed[2]
    assert np.all(after < 0)
    assert np.all(-after < before) and np.all(-after > 0.8 * before)


def test_an_odd_number_of_inversions_with_inverted_static_tissue_gives_positive_delta_m():
    """Three inversions after the labelling (0.3, 0.9, 1.5 s before the excitation, ideal) and
    a presaturation 4 s before leave the static Mz < 0 at the excitation; the labelled deficit is
    inverted three times too, so the magnitude images give control - label = +ΔM (no warning)."""
    truth = _uniform_truth()
    module = {"sat_pulse_time": SATURATION, "inv_pulse_times": [0.9, 0.3, 1.5]}
    plain = _volumes(_pipeline(_document(signal_time=3.6, mr_acq_type="3D"), truth))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline = _pipeline(
            _document(signal_time=3.6, mr_acq_type="3D", background_suppression=module), truth
        )
    suppressed = _volumes(pipeline)
    static = _event_mz(PHANTOM["m0"], PHANTOM["t1"], _module(-1.0, [0.9, 0.3, 1.5]), 0.0)
    assert static < 0
    np.testing.assert_allclose(suppressed[1] - suppressed[2], plain[1] - plain[2], rtol=1e-9)


def test_optimised_times_null_the_ground_truth_t1s_and_are_recorded():
    """background_suppression true: 4 inversions optimised for the distinct T1s of the ground
    truth; the acquisition record holds them (sorted, all within the presaturation window),
    their objective is tiny, and the BIDS fields come from them for the first PLD."""
    truth = _uniform_truth()
    document = _document(mr_acq_type="3D", background_suppression=True)
    params_series = _pipeline(document, truth).series
    result = simulate_asl(SimulationContext(truth), params_series, 1, participant_label="01")
    record = result.records["asl"]
    module = record.background_suppression
    assert module is not None and len(module.inversion_times) == 4
    assert list(module.inversion_times) == sorted(module.inversion_times)
    assert all(0 < time <= SATURATION for time in module.inversion_times)
    unshifted = [time - 0.02 for time in module.inversion_times]
    assert timing_objective(unshifted, [PHANTOM["t1"]], saturation_time=3.98) < 1e-12
    start = SIGNAL_TIMES[0]  # first phase: labelling starts t = τ + PLD before the excitation
    expected = sorted(round(start - time, 9) for time in module.inversion_times if time < start)
    assert background_suppression_pulse_time(record) == pytest.approx(expected, abs=1e-12)
    assert background_suppression_number_pulses(record) == len(expected)
    assert TAU < start


def test_pasl_background_suppression_counts_pulses_from_the_labelling_pulse():
    """PASL (develop crashes here, D30): the pulse times are relative to the labelling pulse,
    TI = PLD before the excitation, and need no LabelingDuration; with these times every tissue's
    static Mz is > 0 and two inversions follow the labelling pulse: no warning."""
    truth = _uniform_truth()
    document = _document(
        mr_acq_type="3D",
        label_type="pasl",
        label_duration=0.8,
        signal_time=1.8,
        background_suppression={"sat_pulse_time": 3.0, "inv_pulse_times": [1.2, 0.3, 2.1, 2.4]},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        series = _pipeline(document, truth).series
    record = simulate_asl(SimulationContext(truth), series, 1, participant_label="01").records[
        "asl"
    ]
    assert background_suppression_pulse_time(record) == pytest.approx([0.6, 1.5], abs=1e-12)
    assert background_suppression_number_pulses(record) == 2
