"""Malformed parameter files: each reports path, value and rule (docs/physics.md §10.2 D6-D17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from asldro.params import ParamError, load_params

from .conftest import BUILTIN, asl, document, structural

SP0 = "image_series[0].series_parameters"

# (id, document, expected message text); every message must be the ONLY error of its document.
MALFORMED: list[tuple[str, Any, str]] = [
    (
        "echo_time too short",
        document(asl(echo_time=[0.01, 0.01])),
        f"{SP0}.echo_time: expected 3 values (one per asl_context volume), got 2",
    ),
    (
        "typo snr",
        document(asl(), structural(snr=10)),
        "image_series[1].series_parameters.snr: unknown key (did you mean 'desired_snr'?)",
    ),
    (
        "non-default context without arrays",
        document(asl(asl_context="control label", rot_z=[0, 0, 5])),
        f"{SP0}.rot_z: expected 2 values (one per asl_context volume), got 3",
    ),
    (
        "empty per-volume list",
        document(asl(repetition_time=[])),
        f"{SP0}.repetition_time: expected 3 values (one per asl_context volume), got 0",
    ),
    (
        "boolean snr",
        document(asl(desired_snr=True)),
        f"{SP0}.desired_snr: expected a number, got true",
    ),
    (
        "boolean in per-volume list",
        document(asl(rot_x=[0, False, 0])),
        f"{SP0}.rot_x[1]: expected a number, got false",
    ),
    (
        "string number",
        document(asl(label_duration="1.8")),
        f"{SP0}.label_duration: expected a number or a non-empty list of numbers (one per "
        'phase), got "1.8"',
    ),
    ("zero echo time", document(asl(echo_time=0)), f"{SP0}.echo_time: 0 must be > 0"),
    (
        "negative echo time in list",
        document(asl(echo_time=[0.01, -0.01, 0.01])),
        f"{SP0}.echo_time[1]: -0.01 must be > 0",
    ),
    (
        "structural zero echo time",
        document(structural(echo_time=0.0)),
        f"{SP0}.echo_time: 0.0 must be > 0",
    ),
    (
        "TR below TE",
        document(asl(echo_time=0.02, repetition_time=[10, 5, 0.01])),
        f"{SP0}.repetition_time[2]: 0.01 must be >= echo_time (0.02)",
    ),
    (
        "ir TR below TE + TI",
        document(asl(asl_context="control label", acq_contrast="ir", repetition_time=[5, 1])),
        f"{SP0}.repetition_time[1]: 1.0 must be >= echo_time + inversion_time "
        "(0.01 + 1.0 = 1.01) for acq_contrast 'ir'",
    ),
    (
        "negative PLD",
        document(asl(label_duration=1.8, signal_time=1.5)),
        f"{SP0}.signal_time: 1.5 must be >= label_duration (1.8) for pcasl",
    ),
    (
        "negative PLD casl",
        document(asl(label_type="CASL", label_duration=2, signal_time=1)),
        f"{SP0}.signal_time: 1.0 must be >= label_duration (2.0) for casl",
    ),
    (
        "label_efficiency above 1",
        document(asl(label_efficiency=1.2)),
        f"{SP0}.label_efficiency: 1.2 must be in [0, 1]",
    ),
    (
        "flip angle out of range",
        document(asl(excitation_flip_angle=190)),
        f"{SP0}.excitation_flip_angle: 190 must be in [-180, 180]",
    ),
    (
        "translation out of range",
        document(asl(transl_y=[0, 1000.5, 0])),
        f"{SP0}.transl_y[1]: 1000.5 must be in [-1000, 1000]",
    ),
    ("negative snr", document(structural(desired_snr=-1)), f"{SP0}.desired_snr: -1 must be >= 0"),
    (
        "float seed",
        document(asl(random_seed=1.5)),
        f"{SP0}.random_seed: expected an integer, got 1.5",
    ),
    ("negative seed", document(asl(random_seed=-3)), f"{SP0}.random_seed: -3 must be >= 0"),
    (
        "acq_matrix two values",
        document(asl(acq_matrix=[64, 64])),
        f"{SP0}.acq_matrix: expected 3 values, got 2",
    ),
    (
        "acq_matrix zero",
        document(structural(acq_matrix=[64, 0, 12])),
        f"{SP0}.acq_matrix[1]: 0 must be > 0",
    ),
    (
        "acq_matrix float",
        document(asl(acq_matrix=[64, 64.5, 12])),
        f"{SP0}.acq_matrix[1]: expected an integer, got 64.5",
    ),
    (
        "bad label_type",
        document(asl(label_type="fair")),
        f'{SP0}.label_type: "fair" is not one of casl, pcasl, pasl',
    ),
    (
        "bad acq_contrast",
        document(structural(acq_contrast="flash")),
        f'{SP0}.acq_contrast: "flash" is not one of ge, se, ir',
    ),
    (
        "bad modality",
        document(structural(modality="PD")),
        f'{SP0}.modality: "PD" is not one of T1w, T2w, FLAIR, anat, PDw, T2starw, inplaneT1, '
        "inplaneT2, PDT2, UNIT1 (did you mean 'PDw'?)",
    ),
    (
        "bad output_image_type",
        document(structural(output_image_type="phase")),
        f'{SP0}.output_image_type: "phase" is not one of magnitude, complex',
    ),
    (
        "asl_context double space",
        document(asl(asl_context="control  label")),
        f'{SP0}.asl_context: "control  label" must have exactly one space between tokens',
    ),
    (
        "asl_context underscores",
        document(asl(asl_context="control_label")),
        f'{SP0}.asl_context: unknown token "control_label"',
    ),
    (
        "asl_context typo",
        document(asl(asl_context="control lable")),
        f"{SP0}.asl_context: unknown token \"lable\" (did you mean 'label'?)",
    ),
    (
        "asl_context empty",
        document(asl(asl_context="")),
        f'{SP0}.asl_context: "" must hold at least one token',
    ),
    (
        "asl_context trailing space",
        document(asl(asl_context="control label ")),
        f'{SP0}.asl_context: "control label " must have exactly one space between tokens',
    ),
    (
        "asl_context list",
        document(asl(asl_context=["control", "label"])),
        f"{SP0}.asl_context: expected a string of space-separated tokens",
    ),
    (
        "lambda zero",
        document(asl(lambda_blood_brain=0)),
        f"{SP0}.lambda_blood_brain: 0 must be in (0, 1]",
    ),
    (
        "t1 blood too long",
        document(asl(t1_arterial_blood=150)),
        f"{SP0}.t1_arterial_blood: 150 must be in (0, 100]",
    ),
    ("negative m0", document(asl(m0=-1)), f"{SP0}.m0: -1 must be in [0, 1e+12]"),
    (
        "structural has no asl_context",
        document(structural(asl_context="control label")),
        f"{SP0}.asl_context: unknown key",
    ),
    (
        "ground_truth has no echo_time",
        document({"series_type": "ground_truth", "series_parameters": {"echo_time": 0.01}}),
        f"{SP0}.echo_time: unknown key",
    ),
    (
        "unknown series type",
        document({"series_type": "dwi"}),
        'image_series[0].series_type: "dwi" is not one of asl, structural, ground_truth',
    ),
    (
        "series_type missing",
        document({"series_parameters": {}}),
        "image_series[0].series_type: missing (required",
    ),
    (
        "unknown series key",
        document({"series_type": "asl", "series_params": {}}),
        "image_series[0].series_params: unknown key (did you mean 'series_parameters'?)",
    ),
    (
        "series_description not a string",
        document({"series_type": "asl", "series_description": 3}),
        "image_series[0].series_description: expected a string, got 3",
    ),
    (
        "series_parameters not an object",
        document({"series_type": "asl", "series_parameters": [1]}),
        f"{SP0}: expected an object, got [1]",
    ),
    (
        "unknown top-level key",
        {**document(), "image_serie": []},
        "image_serie: unknown key (did you mean 'image_series'?)",
    ),
    (
        "image_series missing",
        {"global_configuration": {"ground_truth": BUILTIN}},
        "image_series: missing (required",
    ),
    (
        "image_series not a list",
        {"global_configuration": {"ground_truth": BUILTIN}, "image_series": {}},
        "image_series: expected a list, got {}",
    ),
    ("global_configuration missing", {"image_series": []}, "global_configuration: missing"),
    (
        "ground_truth missing",
        {"global_configuration": {}, "image_series": []},
        "global_configuration.ground_truth: missing (required)",
    ),
    (
        "unknown ground truth name",
        document(ground_truth="hrgt_icbm_2009a_nls_7t"),
        'global_configuration.ground_truth: "hrgt_icbm_2009a_nls_7t" is neither a built-in',
    ),
    (
        "ground truth dict extra key",
        document(ground_truth={"nii": "a.nii", "json": "a.json", "tsv": "a.tsv"}),
        "global_configuration.ground_truth.tsv: unknown key",
    ),
    (
        "ground truth dict wrong suffix",
        document(ground_truth={"nii": "a.nii", "json": "a.txt"}),
        'global_configuration.ground_truth.json: expected a path ending in .json, got "a.txt"',
    ),
    (
        "unknown global key",
        document(image_overide={"m0": 1}),
        "global_configuration.image_overide: unknown key (did you mean 'image_override'?)",
    ),
    (
        "image_override value not a number",
        document(image_override={"m0": "high"}),
        'global_configuration.image_override.m0: expected a number, got "high"',
    ),
    (
        "parameter_override boolean",
        document(parameter_override={"lambda_blood_brain": True}),
        "global_configuration.parameter_override.lambda_blood_brain: expected a number, got true",
    ),
    (
        "empty quantity name",
        document(image_override={"": 1}),
        'global_configuration.image_override: names must be non-empty strings, got ""',
    ),
    (
        "modulate unknown key",
        document(ground_truth_modulate={"t1": {"scale": 2, "ofset": 1}}),
        "global_configuration.ground_truth_modulate.t1.ofset: unknown key (did you mean 'offset'?)",
    ),
    (
        "modulate not an object",
        document(ground_truth_modulate={"t1": 2}),
        "global_configuration.ground_truth_modulate.t1: expected an object, got 2",
    ),
    (
        "NaN number",
        document(asl(desired_snr=float("nan"))),
        f"{SP0}.desired_snr: expected a number, got NaN",
    ),
    # issue 9 item 6: parameter_override keys are known, with physical ranges
    (
        "parameter_override typo",
        document(parameter_override={"lamda_blood_brain": 0.9}),
        "global_configuration.parameter_override.lamda_blood_brain: unknown key "
        "(did you mean 'lambda_blood_brain'?)",
    ),
    (
        "parameter_override lambda zero",
        document(parameter_override={"lambda_blood_brain": 0}),
        "global_configuration.parameter_override.lambda_blood_brain: 0 must be in (0, 1]",
    ),
    (
        "parameter_override negative field strength",
        document(parameter_override={"magnetic_field_strength": -3}),
        "global_configuration.parameter_override.magnetic_field_strength: -3 must be in (0, 30]",
    ),
    (
        "parameter_override blood T1 zero",
        document(parameter_override={"t1_arterial_blood": 0}),
        "global_configuration.parameter_override.t1_arterial_blood: 0 must be in (0, 100]",
    ),
    # issue 9 items 5 and 6: image_override values are finite and physical
    (
        "image_override m0 1e308",
        document(image_override={"m0": 1e308}),
        "global_configuration.image_override.m0: 1e+308 must be in [0, 1e+12]",
    ),
    (
        "image_override negative t1",
        document(image_override={"t1": -1}),
        "global_configuration.image_override.t1: -1 must be in [0, 100]",
    ),
    (
        "image_override perfusion above any tissue",
        document(image_override={"perfusion_rate": 6000}),
        "global_configuration.image_override.perfusion_rate: 6000 must be in [0, 1000]",
    ),
    (
        "image_override seg_label beyond uint16",
        document(image_override={"seg_label": 70000}),
        "global_configuration.image_override.seg_label: 70000 must be in [0, 65535]",
    ),
    (
        "image_override infinite extra quantity",
        document(image_override={"my_quantity": float("inf")}),
        "global_configuration.image_override.my_quantity: expected a number, got Infinity",
    ),
    (
        "modulate infinite scale",
        document(ground_truth_modulate={"m0": {"scale": float("inf")}}),
        "global_configuration.ground_truth_modulate.m0.scale: expected a number, got Infinity",
    ),
    (
        "series m0 1e308",
        document(asl(m0=1e308)),
        f"{SP0}.m0: 1e+308 must be in [0, 1e+12]",
    ),
    (
        "m0-only without asl",
        document(asl(asl_context="m0scan m0scan"), structural()),
        "image_series[0]: an m0scan-only asl series needs an asl series with control/label "
        "volumes to calibrate",
    ),
]


@pytest.mark.parametrize(
    "source, expected", [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_malformed_file_reports_path_and_rule(source: Any, expected: str) -> None:
    """Each malformed document raises one ParamError whose single message holds the text."""
    with pytest.raises(ParamError) as info:
        load_params(source)
    assert len(info.value.errors) == 1, info.value.errors
    assert expected in info.value.errors[0]
    assert str(info.value) == info.value.errors[0]
    assert "\n" not in str(info.value)


def test_top_level_not_an_object(tmp_path: Path) -> None:
    """A JSON file whose top level is a list is rejected with one message."""
    file = tmp_path / "list.json"
    file.write_text("[1, 2]")
    with pytest.raises(ParamError, match=r"^parameters: expected a JSON object, got \[1, 2\]$"):
        load_params(file)


def test_enough_malformed_cases() -> None:
    """The brief asks for at least 25 malformed files."""
    assert len(MALFORMED) >= 25


def test_all_errors_reported_together_on_one_line() -> None:
    """D13: every problem of a file, in document order, in one line '<n> problems: a; b; c'."""
    source = {
        "global_configuration": {"ground_truth": BUILTIN, "image_override": {"m0": "x"}},
        "image_series": [
            asl(echo_time=[0.01, 0.01], snr=3),
            {"series_type": "structural", "series_parameters": {"modality": "T3w"}},
            {"series_type": "asl", "series_parameters": {"label_efficiency": -0.5}},
        ],
    }
    with pytest.raises(ParamError) as info:
        load_params(source)
    expected = [
        'global_configuration.image_override.m0: expected a number, got "x"',
        "image_series[0].series_parameters.snr: unknown key (did you mean 'desired_snr'?)",
        "image_series[0].series_parameters.echo_time: expected 3 values "
        "(one per asl_context volume), got 2",
        'image_series[1].series_parameters.modality: "T3w" is not one of T1w, T2w, FLAIR, anat',
        "image_series[2].series_parameters.label_efficiency: -0.5 must be in [0, 1]",
    ]
    assert len(info.value.errors) == len(expected)
    for message, text in zip(info.value.errors, expected):
        assert message.startswith(text)
    line = str(info.value)
    assert line.startswith("5 problems: ")
    assert line == "5 problems: " + "; ".join(info.value.errors)
    assert "\n" not in line


def test_param_error_is_a_value_error() -> None:
    """ParamError subclasses ValueError and keeps the list of messages."""
    err = ParamError(["a: x", "b: y"])
    assert isinstance(err, ValueError)
    assert err.errors == ["a: x", "b: y"]
    assert str(err) == "2 problems: a: x; b: y"
    assert str(ParamError("only: one")) == "only: one"
    with pytest.raises(ValueError, match="at least one message"):
        raise ParamError([])
