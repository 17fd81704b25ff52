"""Defaults (docs/physics.md §2.3-§2.5, D19, D24): values typed in from the tables, not the code."""

from __future__ import annotations

import json

import pytest

from asldro.params import (
    AslSeries,
    GroundTruthSeries,
    Motion,
    StructuralSeries,
    default_params,
    load_params,
)

from .conftest import asl, document

# docs/physics.md §2.3 (asl), typed in from the table.
ASL_DEFAULTS = {
    "asl_context": "m0scan control label",
    "label_type": "pcasl",
    "label_duration": 1.8,
    "signal_time": 3.6,
    "label_efficiency": 0.85,
    "acq_matrix": [64, 64, 12],
    "acq_contrast": "se",
    "excitation_flip_angle": 90.0,
    "inversion_flip_angle": 180.0,
    "inversion_time": 1.0,
    "desired_snr": 100.0,
    "random_seed": 0,
    "echo_time": [0.01, 0.01, 0.01],
    "repetition_time": [10.0, 5.0, 5.0],
    "rot_x": [0.0, 0.0, 0.0],
    "rot_y": [0.0, 0.0, 0.0],
    "rot_z": [0.0, 0.0, 0.0],
    "transl_x": [0.0, 0.0, 0.0],
    "transl_y": [0.0, 0.0, 0.0],
    "transl_z": [0.0, 0.0, 0.0],
}
MOTION_ZERO = {k: 0.0 for k in ("rot_x", "rot_y", "rot_z", "transl_x", "transl_y", "transl_z")}
# docs/physics.md §2.4
STRUCTURAL_DEFAULTS = {
    "acq_matrix": [197, 233, 189],
    **MOTION_ZERO,
    "acq_contrast": "se",
    "echo_time": 0.005,
    "repetition_time": 0.3,
    "excitation_flip_angle": 90.0,
    "inversion_flip_angle": 180.0,
    "inversion_time": 1.0,
    "desired_snr": 50.0,
    "random_seed": 0,
    "output_image_type": "magnitude",
    # 2.2.0's default is "anat", which is written as T1w anyway; asldro's own defaults say T1w
    # so that they do not warn (issue 9, item 16)
    "modality": "T1w",
}
GROUND_TRUTH_DEFAULTS = {"acq_matrix": [64, 64, 12], **MOTION_ZERO}


def test_default_params_layout() -> None:
    """Three series asl, ground_truth, structural with the §2.5 descriptions; GT by name."""
    params = default_params()
    assert list(params) == ["global_configuration", "image_series"]
    assert params["global_configuration"] == {
        "ground_truth": "hrgt_icbm_2009a_nls_3t",
        "image_override": {},
        "parameter_override": {},
    }
    kinds = [s["series_type"] for s in params["image_series"]]
    assert kinds == ["asl", "ground_truth", "structural"]
    for series in params["image_series"]:
        assert series["series_description"] == f"user description for {series['series_type']}"


@pytest.mark.parametrize(
    "index, expected",
    [(0, ASL_DEFAULTS), (1, GROUND_TRUTH_DEFAULTS), (2, STRUCTURAL_DEFAULTS)],
    ids=["asl", "ground_truth", "structural"],
)
def test_every_default_value(index: int, expected: dict) -> None:
    """Each series carries exactly the keys and values of the docs/physics.md tables."""
    parameters = default_params()["image_series"][index]["series_parameters"]
    assert parameters == expected
    for key, value in expected.items():
        assert type(parameters[key]) is type(value), key  # floats stay floats, ints ints


def test_defaults_file_has_no_paths() -> None:
    """D19: no absolute path (nor any path) in the defaults file."""
    text = json.dumps(default_params())
    assert "/" not in text and "\\" not in text


def test_default_params_is_a_fresh_copy() -> None:
    """Mutating one result does not leak into the next call."""
    first = default_params()
    first["image_series"][0]["series_parameters"]["echo_time"].append(1.0)
    first["global_configuration"]["image_override"]["m0"] = 1.0
    second = default_params()
    assert second["image_series"][0]["series_parameters"]["echo_time"] == [0.01] * 3
    assert second["global_configuration"]["image_override"] == {}


def test_defaults_round_trip_through_json() -> None:
    """default_params -> JSON -> load_params gives the typed defaults of the tables."""
    params = load_params(json.loads(json.dumps(default_params())))
    asl_series, gt_series, structural_series = params.series
    assert isinstance(asl_series, AslSeries)
    assert isinstance(gt_series, GroundTruthSeries)
    assert isinstance(structural_series, StructuralSeries)
    assert asl_series.asl_context == ("m0scan", "control", "label")
    assert asl_series.repetition_time == (10.0, 5.0, 5.0)
    assert asl_series.motion == (Motion(),) * 3
    assert (asl_series.lambda_blood_brain, asl_series.t1_arterial_blood, asl_series.m0) == (
        None,
        None,
        None,
    )
    assert gt_series.acq_matrix == (64, 64, 12) and gt_series.motion == Motion()
    assert structural_series.modality == "T1w"
    assert params.global_config.ground_truth.name == "hrgt_icbm_2009a_nls_3t"
    assert params.global_config.ground_truth.nifti is None
    assert params.global_config.ground_truth_modulate == {}
    assert load_params(params.resolved) == params


def test_empty_series_parameters_get_the_defaults() -> None:
    """An asl series without series_parameters equals the defaults-file asl series."""
    params = load_params(document({"series_type": "asl"}))
    assert params.resolved["image_series"][0]["series_parameters"] == ASL_DEFAULTS
    assert params.resolved["image_series"][0]["series_description"] == "user description for asl"
    assert params.series[0] == load_params(document(asl())).series[0]
