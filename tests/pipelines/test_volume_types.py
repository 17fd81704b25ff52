"""The vendor volume types through the asl pipeline (issue 12 item 3, contracts 1-4;
docs/physics.md §5.8): a deltam volume is |C + n1| - |L + n2| of the control and the label volume
of its own plan (3D and 2D, lookup tables and dense maps, motion included), a cbf volume the white
paper's CBF of it with the M0 signal scale of the readout (the true CBF where the white paper
holds), a noRF volume noise only; M0Estimate is the M0 signal scale the images carry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asldro.image import apply_pipeline
from asldro.params import load_params
from asldro.physics import noise as noise_model
from asldro.pipelines import seeds
from asldro.pipelines.asl import simulate_asl
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.filters import CastTo, noise_seed
from tests.pipelines.test_slices import (
    LAMBDA,
    PHANTOM,
    SIGNAL_TIMES,
    T1B,
    TAU,
    _dense,
    _document as _slices_document,
    _pipeline,
    _truth,
    _uniform_truth,
)

#: The same small motion for every token, so that a deltam volume and the control and label
#: volumes of the same series share their geometry.
MOTION = {"rot_x": 2.0, "rot_z": -1.5, "transl_y": 1.2}
MATCHED_T1 = 1.0 / (1.0 / T1B - PHANTOM["perfusion_rate"] / 6000.0 / LAMBDA)


def _document(**series) -> dict:
    """test_slices' document (uniform phantom, two arrived phases) with the per-token TR
    fitted to any context: 10 s for m0scan, 5 s for every other volume type."""
    series.setdefault(
        "repetition_time",
        {"m0scan": 10.0, "control": 5.0, "label": 5.0, "deltam": 5.0, "cbf": 5.0, "noRF": 5.0},
    )
    return _slices_document(**series)


def _outputs(pipeline, cast: bool = True) -> list[np.ndarray]:
    """Every volume as written (float32) or before the cast (float64)."""
    out = []
    for volume in range(len(pipeline.series.volumes)):
        filters = pipeline.filters(volume)
        assert isinstance(filters[-1], CastTo)
        image = apply_pipeline(pipeline.start, filters if cast else filters[:-1])
        out.append(np.asarray(image.data))
    return out


def _readout(mr_acq_type: str) -> dict:
    if mr_acq_type == "2D":
        return {"mr_acq_type": "2D", "slice_order": "interleaved", "slice_readout_time": 0.06}
    return {"mr_acq_type": "3D"}


@pytest.mark.parametrize("path", ["tables", "dense"])
@pytest.mark.parametrize("mr_acq_type", ["3D", "2D"])
def test_a_deltam_volume_is_control_minus_label_of_its_plan(path, mr_acq_type):
    """Noiseless, two phases, motion: each phase's deltam volume equals its control minus its
    label (float64 to 1e-12 of the signal, as written to float32 precision)."""
    truth = _uniform_truth(t2=0.09)
    truth = _dense(truth) if path == "dense" else truth
    document = _document(
        asl_context="m0scan control label deltam", **_readout(mr_acq_type), **MOTION
    )
    pipeline = _pipeline(document, truth)
    exact, written = _outputs(pipeline, cast=False), _outputs(pipeline)
    for phase in range(len(SIGNAL_TIMES)):
        _, control, label, deltam = exact[4 * phase : 4 * phase + 4]
        assert np.all(control - label > 0)
        # the two paths may acquire the same signal by different (exact) sums: float64 rounding
        # of the ~100 times larger control signal is all that may differ
        np.testing.assert_allclose(deltam, control - label, rtol=0, atol=1e-12 * control.max())
        _, control, label, deltam = written[4 * phase : 4 * phase + 4]
        assert deltam.dtype == np.float32
        eps = np.finfo(np.float32).eps * float(np.max(np.abs(control)))
        np.testing.assert_allclose(deltam, control - label, rtol=0, atol=2 * eps)


def test_a_deltam_volume_draws_its_two_noises_from_its_own_stream():
    """|C + n1| - |L + n2|: n1 (control) then n2 (label) drawn in turn from the volume's one
    stream; the seed record is the volume's."""
    base = _document(asl_context="control label deltam", mr_acq_type="3D", signal_time=3.6)
    noiseless = _outputs(_pipeline(base, _uniform_truth()), cast=False)
    noisy_doc = _document(
        asl_context="control label deltam", mr_acq_type="3D", signal_time=3.6, desired_snr=20.0
    )
    pipeline = _pipeline(noisy_doc, _uniform_truth())
    deltam = _outputs(pipeline, cast=False)[2]
    sequence = seeds.seed_sequence(pipeline.series.random_seed, "01", 1, 2)
    rng = np.random.Generator(np.random.PCG64(sequence))
    shape = deltam.shape
    n1 = noise_model.draw_complex_noise(shape, pipeline.sigma, rng)
    n2 = noise_model.draw_complex_noise(shape, pipeline.sigma, rng)
    control, label = noiseless[0], noiseless[1]
    expected = np.abs(noise_model.add_noise(control, n1)) - np.abs(noise_model.add_noise(label, n2))
    np.testing.assert_allclose(deltam, expected, rtol=1e-12, atol=1e-12)
    assert not np.allclose(deltam, control - label)
    assert noise_seed(pipeline.filters(2)) == seeds.describe(sequence)


@pytest.mark.parametrize(
    "label, series",
    [
        ("pcasl se", {}),
        ("pcasl ge", {"acq_contrast": "ge", "excitation_flip_angle": 40.0}),
        ("pcasl ir", {"acq_contrast": "ir", "excitation_flip_angle": 70.0, "inversion_time": 2.0}),
        ("casl 2D", {"label_type": "casl", **_readout("2D")}),
        ("pcasl consensus", {"gkm_model": "consensus"}),
        ("pcasl whitepaper 2D", {"gkm_model": "whitepaper", **_readout("2D")}),
        # background suppression: four inversions after the labelling (t 2.8 and 3.6 s, τ 1.8),
        # each 0.9 x 0.95 on the label: the cbf volume is quantified with α·α_BS
        (
            "pcasl BS 2D",
            {
                **_readout("2D"),
                "background_suppression": {
                    "inv_pulse_times": [0.9, 0.3, 0.7, 0.5],
                    "pulse_efficiency": -0.9,
                    "alpha_bs_per_pulse": 0.95,
                },
            },
        ),
        (
            "pasl QUIPSS II",
            {
                "label_type": "pasl",
                "label_duration": 1.2,
                "signal_time": [2.1, 2.6],
                "bolus_cut_off_technique": "QUIPSSII",
                "bolus_cut_off_delay_time": 0.8,
            },
        ),
    ],
)
@pytest.mark.parametrize("path", ["tables", "dense"])
def test_a_cbf_volume_is_the_true_cbf_where_the_white_paper_holds(label, series, path):
    """Uniform phantom with T1app = T1b, arrived regime, motion, no noise: every voxel the
    phantom reaches holds the true CBF 60 to 1e-5 (float32), in both phases; the TE decay is
    calibrated out (the bare M0 would give 60*E2, 12 % low at TE 10 ms in se)."""
    del label
    document = _document(
        asl_context="m0scan cbf deltam", **{"mr_acq_type": "3D", **MOTION, **series}
    )
    truth = _uniform_truth(t1=MATCHED_T1)
    pipeline = _pipeline(document, _dense(truth) if path == "dense" else truth)
    volumes = _outputs(pipeline)
    phases = len(pipeline.series.phases)
    assert phases == 2
    for phase in range(phases):
        m0scan, cbf, deltam = volumes[3 * phase : 3 * phase + 3]
        assert cbf.dtype == np.float32
        reached = m0scan > 1e-3 * m0scan.max()
        assert reached.sum() > 100 and np.all(deltam[reached] > 0)
        np.testing.assert_allclose(cbf[reached], PHANTOM["perfusion_rate"], rtol=1e-5)
        assert np.all(cbf[m0scan == 0] == 0)


def test_cbf_and_deltam_volumes_record_how_they_were_formed():
    """The history says it: a subtraction of a control and a label branch (each with its
    noise and magnitude), then the white paper's formula and its inputs."""
    document = _document(
        asl_context="cbf deltam noRF", mr_acq_type="3D", signal_time=3.6, desired_snr=10.0
    )
    pipeline = _pipeline(document, _uniform_truth())
    cbf = apply_pipeline(pipeline.start, pipeline.filters(0)).history
    steps = [entry["filter"] for entry in cbf]
    assert steps == ["delta_m", "subtract", "white_paper_cbf", "cast"]
    subtract = cbf[1]
    assert subtract["formed_as"] == "control - label"
    assert [e["filter"] for e in subtract["control"]] == [
        "mri_signal",
        "acquire",
        "add_complex_noise",
        "magnitude",
    ]
    assert subtract["label"][0]["token"] == "label" and subtract["control"][0]["token"] == "control"
    assert cbf[2]["formula"] == "Alsop 2015 Eq. 1" and cbf[2]["units"] == "mL/100g/min"
    assert cbf[2]["post_labeling_delay"] == pytest.approx(3.6 - TAU)
    no_rf = apply_pipeline(pipeline.start, pipeline.filters(2)).history
    assert [entry["filter"] for entry in no_rf] == [
        "delta_m",
        "no_excitation",
        "add_complex_noise",
        "magnitude",
        "cast",
    ]


@pytest.mark.parametrize("output_image_type", ["magnitude", "complex"])
def test_a_norf_volume_is_the_noise_alone(output_image_type):
    """Signal 0, the series' sigma: |n| (magnitude) or n (complex) of the volume's stream."""
    document = _document(
        asl_context="control label noRF",
        mr_acq_type="3D",
        signal_time=3.6,
        desired_snr=10.0,
        output_image_type=output_image_type,
    )
    pipeline = _pipeline(document, _uniform_truth())
    volume = _outputs(pipeline)[2]
    sequence = seeds.seed_sequence(pipeline.series.random_seed, "01", 1, 2)
    rng = np.random.Generator(np.random.PCG64(sequence))
    noise = noise_model.draw_complex_noise(volume.shape, pipeline.sigma, rng)
    expected = noise_model.add_noise(np.zeros(volume.shape), noise)
    if output_image_type == "magnitude":
        expected = np.abs(expected)
    assert volume.dtype == (np.complex64 if output_image_type == "complex" else np.float32)
    np.testing.assert_allclose(volume, expected, rtol=1e-6, atol=1e-6 * pipeline.sigma)
    noiseless = _document(asl_context="control label noRF", mr_acq_type="3D", signal_time=3.6)
    assert not np.any(_outputs(_pipeline(noiseless, _uniform_truth()))[2])


def _estimate(document, truth) -> float | None:
    series = load_params(document).series[0]
    result = simulate_asl(SimulationContext(truth), series, 1, participant_label="01")
    return result.records["asl"].m0_estimate


@pytest.mark.parametrize(
    "series, decay",
    [
        ({}, math.exp(-0.01 / PHANTOM["t2"])),
        (
            {"acq_contrast": "ge", "excitation_flip_angle": 30.0, "echo_time": 0.02},
            0.5 * math.exp(-0.02 / PHANTOM["t2_star"]),
        ),
    ],
)
def test_m0_estimate_is_the_m0_signal_scale_of_the_images(series, decay):
    """Uniform phantom: M0Estimate = M0 * readout decay at the perfusion volumes' TE (se
    exp(-TE/T2), ge sin(theta) exp(-TE/T2*)), not the bare M0."""
    document = _document(asl_context="control label", mr_acq_type="3D", **series)
    estimate = _estimate(document, _uniform_truth())
    assert estimate == pytest.approx(PHANTOM["m0"] * decay, rel=1e-12)


def test_m0_estimate_with_tissue_t2_is_the_perfusion_weighted_mean_decay():
    """Uniform M0, T2 differing by tissue: the perfusion-weighted mean of exp(-TE/T2) over the
    ground truth (a voxel of no flow does not count)."""
    seg = np.zeros((12, 10, 8), dtype=np.uint16)
    seg[:6] = 1
    seg[6:9] = 2
    seg[9:] = 3
    tables = {
        "perfusion_rate": [0.0, 60.0, 20.0, 0.0],
        "transit_time": [0.0, 0.8, 1.2, 1000.0],
        "t1": [0.0, 1.3, 0.8, 3.0],
        "t2": [0.0, 0.08, 0.11, 0.3],
        "t2_star": [0.0, 0.06, 0.05, 0.2],
        "m0": [90.0] * 4,
    }
    truth = _truth(seg, tables, np.diag([2.0, 2.0, 2.0, 1.0]))
    document = _document(asl_context="control label", mr_acq_type="3D", echo_time=0.02)
    document["global_configuration"]["image_override"] = {}
    weights = {1: 60.0 * 6, 2: 20.0 * 3}
    expected = sum(w * math.exp(-0.02 / tables["t2"][k]) for k, w in weights.items()) / sum(
        weights.values()
    )
    for case in (truth, _dense(truth)):
        assert _estimate(document, case) == pytest.approx(90.0 * expected, rel=1e-12)
