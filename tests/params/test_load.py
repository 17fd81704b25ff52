"""load_params semantics: broadcast, fitted defaults, coercion, case, typed objects, files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from asldro.params import AslSeries, Modulation, Motion, ParamError, load_params

from .conftest import asl, document, structural

PER_VOLUME = (
    "echo_time",
    "repetition_time",
    "rot_x",
    "rot_y",
    "rot_z",
    "transl_x",
    "transl_y",
    "transl_z",
)


def _asl_parameters(params) -> dict:
    return params.resolved["image_series"][0]["series_parameters"]


@pytest.mark.parametrize(
    "context, expected_tr",
    [
        ("label", [5.0]),
        ("control label control label", [5.0] * 4),
        ("label control", [5.0, 5.0]),
        ("m0scan m0scan control label", [10.0, 10.0, 5.0, 5.0]),
        ("control m0scan label", [5.0, 10.0, 5.0]),
    ],
)
def test_defaults_fit_any_context(context: str, expected_tr: list[float]) -> None:
    """Omitted per-volume keys fit the context: TR 10 s for m0scan, 5 s otherwise, TE 0.01 s,
    zero motion (docs/physics.md §2.3)."""
    params = load_params(document(asl(asl_context=context)))
    n = len(context.split())
    resolved = _asl_parameters(params)
    assert resolved["repetition_time"] == expected_tr
    assert resolved["echo_time"] == [0.01] * n
    for key in PER_VOLUME[2:]:
        assert resolved[key] == [0.0] * n
    series = params.series[0]
    assert series.asl_context == tuple(context.split())
    assert series.repetition_time == tuple(expected_tr)
    assert series.motion == (Motion(),) * n


def test_all_m0scan_series_gets_long_tr_and_calibrates_its_neighbour() -> None:
    """An all-m0scan series loads when an asl series with control/label is present."""
    params = load_params(document(asl(asl_context="control label"), asl(asl_context="m0scan")))
    assert _asl_parameters(params)["repetition_time"] == [5.0, 5.0]
    assert params.series[1].repetition_time == (10.0,)


@pytest.mark.parametrize("key", PER_VOLUME)
def test_scalar_is_broadcast_to_every_volume(key: str) -> None:
    """A number for a per-volume key is used for every volume (ints become floats, D6)."""
    value = {"echo_time": 2, "repetition_time": 20}.get(key, 7)
    params = load_params(document(asl(asl_context="control label control label", **{key: value})))
    resolved = _asl_parameters(params)[key]
    assert resolved == [float(value)] * 4
    assert all(isinstance(v, float) for v in resolved)


def test_motion_per_volume() -> None:
    """AslSeries.motion holds one Motion per volume, built from the six per-volume arrays."""
    params = load_params(
        document(
            asl(
                asl_context="control label",
                rot_x=[1, 2],
                rot_y=[3, 4],
                rot_z=[5, 6],
                transl_x=[7, 8],
                transl_y=[9, 10],
                transl_z=[11, 12],
            )
        )
    )
    assert params.series[0].motion == (
        Motion(1.0, 3.0, 5.0, 7.0, 9.0, 11.0),
        Motion(2.0, 4.0, 6.0, 8.0, 10.0, 12.0),
    )


def test_structural_and_ground_truth_have_one_motion() -> None:
    """Scalar motion keys of structural and ground_truth series make one Motion."""
    params = load_params(
        document(
            structural(rot_z=5, transl_x=-2.5),
            {"series_type": "ground_truth", "series_parameters": {"rot_y": -30}},
        )
    )
    assert params.series[0].motion == Motion(rot_z=5.0, transl_x=-2.5)
    assert params.series[1].motion == Motion(rot_y=-30.0)


def test_int_values_are_coerced_to_float() -> None:
    """D6: integers are accepted where floats are, and stored as float."""
    params = load_params(
        document(
            asl(desired_snr=0, label_duration=1, signal_time=3, rot_z=[0, 0, 5], m0=100),
            structural(echo_time=1, repetition_time=2, desired_snr=0),
            image_override={"m0": 50},
            parameter_override={"lambda_blood_brain": 1},
            ground_truth_modulate={"t1": {"scale": 2, "offset": 0}},
        )
    )
    series = params.series[0]
    assert isinstance(series, AslSeries)
    for value in (series.desired_snr, series.label_duration, series.signal_time, series.m0):
        assert isinstance(value, float)
    assert series.motion[2].rot_z == 5.0 and isinstance(series.motion[2].rot_z, float)
    assert isinstance(params.series[1].echo_time, float)
    assert params.global_config.image_override == {"m0": 50.0}
    assert isinstance(params.global_config.parameter_override["lambda_blood_brain"], float)
    assert params.global_config.ground_truth_modulate == {"t1": Modulation(scale=2.0, offset=0.0)}


def test_integral_float_accepted_for_integer_keys() -> None:
    """acq_matrix and random_seed given as 64.0 / 3.0 are stored as int."""
    params = load_params(document(asl(acq_matrix=[64.0, 32, 8.0], random_seed=3.0)))
    assert params.series[0].acq_matrix == (64, 32, 8)
    assert all(isinstance(v, int) for v in params.series[0].acq_matrix)
    assert isinstance(params.series[0].random_seed, int)


def test_case_is_normalised() -> None:
    """D10: series_type and enum values in any case are normalised; modality to BIDS case."""
    params = load_params(
        document(
            {
                "series_type": "ASL",
                "series_parameters": {
                    "asl_context": "M0SCAN Control LABEL",
                    "label_type": "PCASL",
                    "acq_contrast": "GE",
                },
            },
            {
                "series_type": "Structural",
                "series_parameters": {
                    "acq_contrast": "Ir",
                    "modality": "t1W",
                    "output_image_type": "COMPLEX",
                    "repetition_time": 3.0,
                },
            },
            {"series_type": "structural", "series_parameters": {"modality": "flair"}},
            {"series_type": "GROUND_TRUTH"},
        )
    )
    asl_series, t1w, flair, truth = params.series
    assert asl_series.asl_context == ("m0scan", "control", "label")
    assert (asl_series.label_type, asl_series.acq_contrast) == ("pcasl", "ge")
    assert (t1w.acq_contrast, t1w.modality, t1w.output_image_type) == ("ir", "T1w", "complex")
    assert flair.modality == "FLAIR"
    assert truth.series_type == "ground_truth"
    kinds = [s["series_type"] for s in params.resolved["image_series"]]
    assert kinds == ["asl", "structural", "structural", "ground_truth"]
    assert params.resolved["image_series"][0]["series_parameters"]["asl_context"] == (
        "m0scan control label"
    )


def test_series_level_gkm_parameters_are_carried() -> None:
    """D8: lambda_blood_brain, t1_arterial_blood and m0 reach AslSeries and resolved."""
    params = load_params(document(asl(lambda_blood_brain=0.98, t1_arterial_blood=1.65, m0=0)))
    series = params.series[0]
    assert (series.lambda_blood_brain, series.t1_arterial_blood, series.m0) == (0.98, 1.65, 0.0)
    assert _asl_parameters(params)["lambda_blood_brain"] == 0.98
    assert "m0" not in load_params(document(asl())).resolved["image_series"][0]["series_parameters"]


def test_description_default_and_custom() -> None:
    """D9: series_description optional, default 'user description for <type>'."""
    params = load_params(
        document(
            {"series_type": "structural"},
            {"series_type": "asl", "series_description": "my pcasl"},
        )
    )
    assert params.series[0].description == "user description for structural"
    assert params.series[1].description == "my pcasl"


def test_boundary_values_accepted() -> None:
    """Inclusive range ends pass: PLD = 0, efficiency 0 and 1, angles ±180, SNR 0, TR = TE."""
    params = load_params(
        document(
            asl(
                asl_context="control label",
                label_duration=1.8,
                signal_time=1.8,
                label_efficiency=1,
                excitation_flip_angle=-180,
                inversion_flip_angle=180,
                desired_snr=0,
                echo_time=0.02,
                repetition_time=0.02,
                rot_x=[180, -180],
                transl_z=[1000, -1000],
                lambda_blood_brain=1,
                t1_arterial_blood=100,
            ),
            asl(asl_context="label", label_type="pasl", label_duration=2.0, signal_time=0.5),
            structural(acq_contrast="ir", echo_time=0.01, inversion_time=0.99, repetition_time=1),
        )
    )
    assert params.series[0].signal_time - params.series[0].label_duration == 0.0
    assert params.series[1].signal_time < params.series[1].label_duration  # PASL: no PLD rule


def test_resolved_reloads_to_an_equal_object(gt_pair: tuple[Path, Path]) -> None:
    """load_params(p.resolved) == p, also after a trip through JSON text."""
    nifti, sidecar = gt_pair
    params = load_params(
        document(
            asl(asl_context="Control LABEL", echo_time=0.012, rot_z=[1, 2]),
            asl(asl_context="m0scan"),
            structural(modality="T2W"),
            {"series_type": "ground_truth", "series_description": "gt"},
            ground_truth={"nii": str(nifti), "json": str(sidecar)},
            image_override={"m0": 3},
            ground_truth_modulate={"t1": {"scale": 1.5}},
        )
    )
    assert load_params(params.resolved) == params
    assert load_params(json.loads(json.dumps(params.resolved))) == params


def test_source_document_is_not_modified() -> None:
    """The caller's dict is left unchanged (no defaults written into it)."""
    source = document(asl(asl_context="CONTROL label"))
    before = json.dumps(source)
    load_params(source)
    assert json.dumps(source) == before


def test_load_from_file(tmp_path: Path) -> None:
    """A path (str or PathLike) loads the same as the parsed dict."""
    source = document(asl(asl_context="control label"), structural())
    file = tmp_path / "params.json"
    file.write_text(json.dumps(source))
    assert load_params(file) == load_params(source) == load_params(str(file))


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    """Invalid JSON: one ParamError naming the file, line and column."""
    file = tmp_path / "broken.json"
    file.write_text('{\n  "global_configuration": {\n    "ground_truth": "x",\n  }\n}\n')
    with pytest.raises(ParamError) as info:
        load_params(file)
    message = str(info.value)
    assert str(file) in message
    assert "invalid JSON" in message and "line 4 column 3" in message
    assert len(info.value.errors) == 1


def test_missing_file(tmp_path: Path) -> None:
    """A parameter file that does not exist is a ParamError naming it."""
    file = tmp_path / "nope.json"
    with pytest.raises(ParamError, match="nope.json: parameter file not found"):
        load_params(file)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    """A folder passed as the parameter file is a ParamError, not an OSError."""
    with pytest.raises(ParamError, match="is a directory"):
        load_params(tmp_path)


def test_relative_gt_path_resolves_against_params_folder(
    tmp_path: Path, gt_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare relative .nii.gz path resolves against the parameter file's folder, not cwd."""
    nifti, sidecar = gt_pair
    file = tmp_path / "params.json"
    file.write_text(json.dumps(document(ground_truth="gt/my_gt.nii.gz")))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    params = load_params(file)
    source = params.global_config.ground_truth
    assert (source.name, source.nifti, source.json) == (None, nifti, sidecar)
    assert params.resolved["global_configuration"]["ground_truth"] == {
        "nii": str(nifti),
        "json": str(sidecar),
    }
    assert os.path.isabs(params.resolved["global_configuration"]["ground_truth"]["nii"])


def test_relative_gt_path_for_dicts_uses_base_dir_then_cwd(
    tmp_path: Path, gt_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """For a dict source: base_dir if given, else the current directory."""
    nifti, sidecar = gt_pair
    source = document(ground_truth={"nii": "my_gt.nii.gz", "json": "my_gt.json"})
    params = load_params(source, base_dir=nifti.parent)
    assert params.global_config.ground_truth.nifti == nifti
    assert params.global_config.ground_truth.json == sidecar
    monkeypatch.chdir(nifti.parent)
    assert load_params(source) == params
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParamError, match="does not exist"):
        load_params(source)


def test_bare_nii_path_finds_json_beside_it(tmp_path: Path) -> None:
    """A .nii path expects <stem>.json beside it (docs/physics.md §2.1)."""
    (tmp_path / "a.nii").write_bytes(b"")
    (tmp_path / "a.json").write_text("{}")
    params = load_params(document(ground_truth=str(tmp_path / "a.nii")))
    assert params.global_config.ground_truth.json == tmp_path / "a.json"


@pytest.mark.parametrize("name", ["hrgt_icbm_2009a_nls_3t", "hrgt_icbm_2009a_nls_1.5t"])
def test_builtin_ground_truth_by_name(name: str) -> None:
    """Built-in names stay names (D19), with no file paths."""
    params = load_params(document(ground_truth=name))
    assert params.global_config.ground_truth.name == name
    assert params.resolved["global_configuration"]["ground_truth"] == name


@pytest.mark.parametrize("missing", ["nii", "json"])
def test_missing_gt_file(gt_pair: tuple[Path, Path], missing: str) -> None:
    """Both GT files must exist; the message names the missing one."""
    nifti, sidecar = gt_pair
    (nifti if missing == "nii" else sidecar).unlink()
    with pytest.raises(ParamError) as info:
        load_params(document(ground_truth=str(nifti)))
    assert len(info.value.errors) == 1
    gone = nifti if missing == "nii" else sidecar
    assert f'"{gone}" does not exist' in str(info.value)
    assert str(info.value).startswith("global_configuration.ground_truth: ")


def test_empty_image_series_is_valid() -> None:
    """image_series is required but may be empty (docs/physics.md §2.1)."""
    assert not load_params(document()).series
