"""Multi-PLD asl series through the pipeline (issue 11 item 1): ASLDRO develop's test vector A
(run with develop itself; its parameters are in the fixture below), the volume order, ΔM shared per phase, and
single-phase series unchanged."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from asldro.api import generate
from asldro.groundtruth import load_ground_truth
from asldro.image import apply_pipeline
from asldro.params import load_params
from asldro.pipelines.asl import build_asl_pipeline
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.filters import CastTo

SIGNAL_TIMES = [2.0, 2.6, 3.6, 4.6]
#: ASLDRO develop, vector A (full model, tau 1.8, no background suppression), noise-free, run
#: with develop itself: m0scan, control, then the label of each phase.
M0_A, CONTROL_A = 88.20178964, 86.19367105
LABELS_A = [85.38684256, 85.18903377, 85.72523901, 85.97525533]


def _vector_a_document(**extra) -> dict:
    """Vector A's uniform phantom and series: every quantity overridden, spin echo, no noise."""
    return {
        "global_configuration": {
            "ground_truth": "hrgt_icbm_2009a_nls_3t",
            "image_override": {
                "perfusion_rate": 60.0,
                "transit_time": 0.8,
                "t1": 1.33,
                "t2": 0.08,
                "t2_star": 0.066,
                "m0": 100.0,
            },
            "parameter_override": {"lambda_blood_brain": 0.9, "t1_arterial_blood": 1.65},
        },
        "image_series": [
            {
                "series_type": "asl",
                "series_parameters": {
                    "asl_context": "m0scan control label",
                    "label_type": "pcasl",
                    "label_duration": 1.8,
                    "signal_time": SIGNAL_TIMES,
                    "acq_contrast": "se",
                    "echo_time": 0.01,
                    "repetition_time": [10.0, 5.0, 5.0],
                    "acq_matrix": [8, 8, 8],
                    "desired_snr": 0.0,
                    **extra,
                },
            }
        ],
    }


def _expected_a() -> list[float]:
    """m0scan, control, label of each phase, in acquisition order (phases outer)."""
    return [value for label in LABELS_A for value in (M0_A, CONTROL_A, label)]


@pytest.fixture(name="vector_a", scope="module")
def fixture_vector_a():
    """The pipeline of vector A on the overridden built-in ground truth."""
    params = load_params(_vector_a_document())
    truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    context = SimulationContext(truth)
    return build_asl_pipeline(params.series[0], context, participant_label="01", index=1)


def test_vector_a_in_float64_before_the_cast(vector_a):
    """Every voxel of every volume, in float64 before the float32 cast, to 1e-8 of develop."""
    values = []
    for volume in range(len(vector_a.series.volumes)):
        filters = vector_a.filters(volume)
        assert isinstance(filters[-1], CastTo)
        image = apply_pipeline(vector_a.start, filters[:-1])
        assert image.data.dtype == np.float64
        assert np.ptp(image.data) < 1e-9  # a uniform phantom: one value everywhere
        values.append(float(image.data.mean()))
    np.testing.assert_allclose(values, _expected_a(), rtol=0, atol=1e-8)


def test_vector_a_computes_one_delta_m_per_signal_time(vector_a):
    """12 volumes, 4 distinct (tau, t): four ΔM arrays, shared by the volumes of a phase."""
    kinetics = vector_a.kinetics
    assert [timing.signal_time for timing in kinetics.timings] == SIGNAL_TIMES
    assert {timing.label_duration for timing in kinetics.timings} == {1.8}
    held = [vector_a.filters(volume)[0].delta_m for volume in range(12)]
    for volume, delta_m in enumerate(held):
        assert delta_m is held[3 * (volume // 3)]  # the phase's array, not a copy
    assert vector_a.shared_filters == ()  # the phases differ: each volume records its own ΔM


def test_vector_a_in_the_written_file(tmp_path):
    """The written 4-D image: 12 volumes in develop's order, each value to float32 precision;
    the sidecar's delays are one per volume with 0 for the m0scans."""
    out = tmp_path / "ds"
    generate(_vector_a_document(), out, validate=False)
    data = np.asarray(nib.load(out / "sub-01" / "perf" / "sub-01_asl.nii.gz").dataobj)
    assert data.dtype == np.float32 and data.shape == (8, 8, 8, 12)
    means = data.reshape(-1, 12).astype(np.float64)
    expected = np.float32(_expected_a()).astype(np.float64)
    np.testing.assert_array_equal(means.min(axis=0), means.max(axis=0))
    np.testing.assert_allclose(means[0], expected, rtol=2**-23, atol=0)
    sidecar = json.loads((out / "sub-01" / "perf" / "sub-01_asl.json").read_text())
    assert sidecar["PostLabelingDelay"] == [
        0.0,
        0.2,
        0.2,
        0.0,
        0.8,
        0.8,
        0.0,
        1.8,
        1.8,
        0.0,
        2.8,
        2.8,
    ]
    assert sidecar["LabelingDuration"] == 1.8
    assert sidecar["TotalAcquiredPairs"] == 4
    assert sidecar["RepetitionTimePreparation"] == [10.0, 5.0, 5.0] * 4
    context = (out / "sub-01" / "perf" / "sub-01_aslcontext.tsv").read_text().splitlines()
    assert context == ["volume_type"] + ["m0scan", "control", "label"] * 4


def test_m0scan_first_phase_only_drops_the_later_m0scans(tmp_path):
    """m0scan_phases "first": 1 + 4 x 2 volumes, the same values as the matching volumes of
    vector A (the noise-free signal of a volume depends on its token and phase only)."""
    params = load_params(_vector_a_document(m0scan_phases="first"))
    truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    pipeline = build_asl_pipeline(
        params.series[0], SimulationContext(truth), participant_label="01", index=1
    )
    tokens = [volume.token for volume in pipeline.series.volumes]
    assert tokens == ["m0scan"] + ["control", "label"] * 4
    values = [
        float(apply_pipeline(pipeline.start, pipeline.filters(v)[:-1]).data.mean())
        for v in range(9)
    ]
    expected = [M0_A] + [value for label in LABELS_A for value in (CONTROL_A, label)]
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-8)


def test_noise_streams_follow_the_volume_index(tmp_path):
    """With noise, volume i draws from stream i of the whole series: the first phase of a
    multi-PLD series is bit-identical to the single-phase series of its first signal time."""
    multi = _vector_a_document(desired_snr=50.0)
    single = _vector_a_document(desired_snr=50.0)
    single["image_series"][0]["series_parameters"]["signal_time"] = SIGNAL_TIMES[0]
    images = {}
    for name, document in (("multi", multi), ("single", single)):
        out = tmp_path / name
        generate(document, out, validate=False)
        images[name] = np.asarray(nib.load(out / "sub-01" / "perf" / "sub-01_asl.nii.gz").dataobj)
    np.testing.assert_array_equal(images["multi"][..., :3], images["single"])
    assert not np.array_equal(images["multi"][..., 3], images["multi"][..., 0])  # own streams
