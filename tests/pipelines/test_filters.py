"""The filters and the pipeline builders (docs/design.md "Pipe and filter, done lightly")."""

import numpy as np
import pytest

from asldro.image import Image, apply_pipeline
from asldro.params import default_params, load_params
from asldro.params.types import LabelTiming
from asldro.physics import gkm
from asldro.pipelines.asl import build_asl_pipeline
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.filters import (
    AddComplexNoise,
    CastTo,
    KineticModel,
    Kinetics,
    Magnitude,
    MriSignal,
    SequenceTiming,
    noise_seed,
    stack_volumes,
)
from asldro.pipelines.groundtruth import build_ground_truth_pipeline
from asldro.pipelines.structural import build_structural_pipeline

MAPS = {
    "perfusion_rate": np.array([0.0, 60.0, 20.0]),
    "transit_time": np.array([0.0, 0.8, 1.2]),
    "t1": np.array([0.0, 1.3, 0.8]),
    "t2": np.array([0.0, 0.08, 0.07]),
    "t2_star": np.array([0.0, 0.06, 0.05]),
    "m0": np.array([0.0, 80.0, 70.0]),
}
KINETICS = {
    "label_duration": 1.8,
    "signal_time": 3.6,
    "label_efficiency": 0.85,
    "lambda_blood_brain": 0.9,
    "t1_arterial_blood": 1.65,
}
TIMING = SequenceTiming(
    repetition_time=5.0,
    echo_time=0.01,
    flip_angle=90.0,
    inversion_flip_angle=180.0,
    inversion_time=1.0,
)


def _series(series_type, **parameters):
    doc = default_params()
    doc["image_series"] = [
        {
            "series_type": series_type,
            "series_parameters": {"acq_matrix": [16, 18, 12], **parameters},
        }
    ]
    return load_params(doc).series[0]


def _names(filters):
    return [type(f).__name__ for f in filters]


MODEL = KineticModel("pcasl", 0.85, 0.9, 1.65)


def _gkm(**timing):
    parameters = {**KINETICS, **timing}
    return gkm.delta_m(
        "pcasl", MAPS["perfusion_rate"], MAPS["transit_time"], MAPS["t1"], MAPS["m0"], **parameters
    )


def test_kinetics_records_its_model_and_holds_delta_m():
    kinetics = Kinetics.computed(MODEL, MAPS, [LabelTiming(1.8, 3.6)])
    out = kinetics(Image(data=MAPS["m0"], affine=np.eye(4)))
    np.testing.assert_array_equal(out.data, _gkm())
    assert dict(out.history[-1]) == {
        "filter": "delta_m",
        "label_type": "pcasl",
        **KINETICS,
        "gkm_model": "full",
        "bolus_cut_off": None,
        "dispersion": None,
        "arterial_component": False,
    }


def test_kinetics_computes_delta_m_once_per_distinct_timing(monkeypatch):
    """Nine volumes over three phases (and one repeated timing): three ΔM arrays, each the
    kinetic model at its (tau, t); the filter of a timing records that timing."""
    expected = {t: _gkm(signal_time=t) for t in (2.0, 2.6, 3.6)}
    calls = []
    real = gkm.delta_m

    def counting(*args, **kwargs):
        calls.append((kwargs["label_duration"], kwargs["signal_time"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(gkm, "delta_m", counting)
    timings = [LabelTiming(1.8, t) for t in (2.0, 2.0, 2.0, 2.6, 2.6, 2.6, 3.6, 3.6, 2.0)]
    kinetics = Kinetics.computed(MODEL, MAPS, timings)
    assert calls == [(1.8, 2.0), (1.8, 2.6), (1.8, 3.6)]
    assert kinetics.timings == (LabelTiming(1.8, 2.0), LabelTiming(1.8, 2.6), LabelTiming(1.8, 3.6))
    for t in (2.0, 2.6, 3.6):
        at = kinetics.at(LabelTiming(1.8, t))
        np.testing.assert_array_equal(at.delta_m, expected[t])
        assert at.delta_m is kinetics.delta_m_by_timing[LabelTiming(1.8, t)]  # shared, not copied
        entry = dict(at(Image(data=MAPS["m0"], affine=np.eye(4))).history[-1])
        assert (entry["label_duration"], entry["signal_time"]) == (1.8, t)
    assert kinetics.at(LabelTiming(1.8, 2.0)) is kinetics
    assert len(calls) == 3  # nothing recomputed
    with pytest.raises(KeyError):
        kinetics.at(LabelTiming(1.0, 2.0))


@pytest.mark.parametrize("token", ["label", "control", "m0scan"])
def test_signal_encodes_minus_delta_m_in_label_volumes_only(token):
    delta_m = Image(data=np.array([0.0, 0.5, 0.2]), affine=np.eye(4))
    out = MriSignal("se", MAPS, TIMING, token)(delta_m)
    control = MriSignal("se", MAPS, TIMING, "control").signal()
    e2 = np.exp(-TIMING.echo_time / MAPS["t2"][1:])
    expected = control - (delta_m.data * np.r_[0.0, e2] if token == "label" else 0.0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert dict(out.history[-1]) == {"filter": "mri_signal", "token": token, "contrast": "se"}


def test_signal_reuses_its_noiseless_result():
    signal = MriSignal("ge", MAPS, TIMING).with_noiseless()
    out = signal(Image(data=MAPS["m0"], affine=np.eye(4)))
    assert np.shares_memory(out.data, signal.noiseless)  # reused, not computed again
    np.testing.assert_array_equal(out.data, MriSignal("ge", MAPS, TIMING).signal())
    assert dict(out.history[-1]) == {"filter": "mri_signal", "contrast": "ge"}


def test_without_noise_nothing_is_drawn_and_the_signed_image_passes():
    image = Image(data=np.array([[-3.0, 0.0], [2.5, 7.0]]), affine=np.eye(4))
    add_noise = AddComplexNoise.drawn((2, 2), 0.0, np.random.SeedSequence(4))
    assert add_noise.noise is None and noise_seed((add_noise,)) is None
    out = add_noise(image)
    assert np.shares_memory(out.data, image.data)  # passed through, not copied
    assert dict(out.history[-1]) == {"filter": "add_complex_noise", "sigma": 0.0}


def test_noise_then_magnitude_is_the_modulus_of_the_complex_image():
    image = Image(data=np.full((16, 16, 4), -10.0), affine=np.eye(4))
    add_noise = AddComplexNoise.drawn(image.data.shape, 1.0, np.random.SeedSequence(2))
    noisy = add_noise(image)
    assert noisy.data.dtype == np.complex128
    assert np.mean(noisy.data.real) == pytest.approx(-10.0, abs=0.3)
    magnitude = Magnitude()(noisy)
    np.testing.assert_array_equal(magnitude.data, np.abs(noisy.data))
    assert magnitude.history[-1]["filter"] == "magnitude"
    cast = CastTo("float32")(magnitude)
    assert cast.data.dtype == np.float32
    assert [h["filter"] for h in cast.history] == ["add_complex_noise", "magnitude", "cast"]
    assert noise_seed((add_noise,)) == {"entropy": 2, "spawn_key": []}


def test_every_asl_volume_goes_through_the_same_chain_and_shares_delta_m(gt3t):
    series = _series("asl", asl_context="m0scan control label", rot_z=[0.0, 1.0, 2.0])
    pipeline = build_asl_pipeline(series, SimulationContext(gt3t), participant_label="01", index=1)
    volumes = [pipeline.filters(volume) for volume in range(3)]
    for filters in volumes:
        assert _names(filters) == [
            "Kinetics",
            "MriSignal",
            "Acquire",
            "AddComplexNoise",
            "Magnitude",
            "CastTo",
        ]
        assert filters[0] is pipeline.kinetics  # ΔM is computed once per series
    assert [filters[1].token for filters in volumes] == ["m0scan", "control", "label"]
    images = [apply_pipeline(pipeline.start, filters) for filters in volumes]
    assert all(len(image.history) == 6 for image in images)
    stacked = stack_volumes(images, len(pipeline.shared_filters))
    assert stacked.data.shape == (16, 18, 12, 3)
    assert [h["filter"] for h in stacked.history] == ["delta_m", "stack_volumes"]
    own = stacked.history[1]["volumes"]
    assert [[e["filter"] for e in entries][0] for entries in own] == ["mri_signal"] * 3


def test_stacking_refuses_volumes_that_do_not_share_the_series_steps():
    first = Image(data=np.zeros(2), affine=np.eye(4), history=({"filter": "a"},))
    second = Image(data=np.zeros(2), affine=np.eye(4), history=({"filter": "b"},))
    with pytest.raises(ValueError, match="share"):
        stack_volumes([first, second], 1)


def test_structural_chain_ends_complex_or_magnitude(gt3t):
    context = SimulationContext(gt3t)
    magnitude = build_structural_pipeline(
        _series("structural"), context, participant_label="01", index=1
    )
    assert _names(magnitude.filters) == [
        "MriSignal",
        "Acquire",
        "AddComplexNoise",
        "Magnitude",
        "CastTo",
    ]
    complex_image = build_structural_pipeline(
        _series("structural", output_image_type="complex"), context, participant_label="01", index=1
    )
    assert _names(complex_image.filters)[-2:] == ["AddComplexNoise", "CastTo"]
    assert complex_image.filters[-1].dtype == "complex64"


def test_ground_truth_quantities_have_their_own_chains(gt3t):
    context = SimulationContext(gt3t)
    series = _series("ground_truth", rot_z=3.0)
    chains = {q: build_ground_truth_pipeline(context, series, q)[1] for q in gt3t.quantities}
    assert _names(chains["seg_label"]) == ["MajorityLabels"]
    assert _names(chains["transit_time"]) == ["Acquire", "PerfusionWeightedMean"]
    assert _names(chains["m0"]) == ["Acquire"]
    start, filters = build_ground_truth_pipeline(context, series, "seg_label")
    labels = apply_pipeline(start, filters)
    assert labels.data.dtype == np.uint16 and labels.data.shape == (16, 18, 12)
    assert dict(labels.history[-1])["filter"] == "majority_labels"
