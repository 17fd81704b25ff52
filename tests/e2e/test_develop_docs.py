"""Every ASLDRO develop documentation example parameter file loads unchanged (issue 11 "Must
show"), through the real loader, from the files in ``tests/develop_docs`` (their sources are in
its README); the complete and loadable ones are also generated end to end at a small
``acq_matrix`` and pass every validation layer."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from asldro.params import ParamError, load_params
from tests.groundtruth.conftest import nested_seg, volumes

FIXTURES = Path(__file__).resolve().parents[1] / "develop_docs"
SMALL = [24, 28, 20]
GT_JSON = "custom_ground_truth_rst_41.json"
"""develop's documented ground-truth JSON (custom_ground_truth.rst:41): not a parameter file."""

LOADS = "loads"
MISSING_FILES = "missing files under /path/to/"
NEEDS_MULTI_PLD = "needs signal_time arrays (issue 11 item 1)"


@dataclass(frozen=True)
class Example:
    """A fixture: where it comes from and what loading it gives."""

    source: str
    outcome: str
    generate: bool = False


EXAMPLES = {
    "parameters_rst_11.json": Example("docs/usage/parameters.rst:11", LOADS, generate=True),
    "parameters_rst_83.json": Example("docs/usage/parameters.rst:83", LOADS, generate=True),
    "ground_truth_rst_17.json": Example("docs/usage/ground_truth.rst:17", LOADS),
    "ground_truth_rst_29.json": Example("docs/usage/ground_truth.rst:29", MISSING_FILES),
    "ground_truth_rst_39.json": Example("docs/usage/ground_truth.rst:39", MISSING_FILES),
    "series_asl_rst_46.json": Example("docs/usage/series-asl.rst:46", NEEDS_MULTI_PLD),
    "series_asl_rst_130.json": Example("docs/usage/series-asl.rst:130", LOADS, generate=True),
    "series_asl_rst_259.json": Example("docs/usage/series-asl.rst:259", LOADS, generate=True),
    "series_asl_rst_289.json": Example("docs/usage/series-asl.rst:289", LOADS, generate=True),
    "every_develop_key.json": Example("ours", LOADS, generate=True),
}


def _path(name: str) -> Path:
    return FIXTURES / name


def _quiet_load(path: Path | dict) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # every_develop_key's subject_label warns (tested below)
        return load_params(path)


def test_every_fixture_is_listed_with_its_source():
    """The folder holds exactly the listed files; its README names each with its source."""
    names = {p.name for p in FIXTURES.glob("*.json")}
    assert names == set(EXAMPLES) | {GT_JSON, "mrimagetools_ground_truth.json"}
    readme = (FIXTURES / "README.md").read_text()
    for name, example in EXAMPLES.items():
        assert f"`{name}`" in readme
        if example.source != "ours":
            assert f"`{example.source}`" in readme


@pytest.mark.parametrize("name", [n for n, e in EXAMPLES.items() if e.outcome == LOADS])
def test_the_example_loads(name):
    """Loaded from its file by the real loader, unchanged: no problem at all."""
    params = _quiet_load(_path(name))
    assert params.resolved["image_series"] == [] or params.series


@pytest.mark.parametrize("name", [n for n, e in EXAMPLES.items() if e.outcome == MISSING_FILES])
def test_a_ground_truth_path_form_is_accepted(name):
    """The only problems are the example's placeholder files, which do not exist here."""
    with pytest.raises(ParamError) as info:
        load_params(_path(name))
    assert len(info.value.errors) == 2
    for error in info.value.errors:
        assert re.fullmatch(
            r"global_configuration\.ground_truth: ground truth (NIfTI|JSON) file "
            r'"/path/to/[a-z_]+\.(nii|nii\.gz|json)" does not exist',
            error,
        ), error


def test_background_suppression_example_is_simulated():
    """develop's default background-suppression object (issue 12): loaded as develop's
    defaults -- 4 inversions optimised 3.98 s after a presaturation 4 s before the excitation,
    ideal pulses, label and control suppressed."""
    found = load_params(_path("series_asl_rst_130.json")).series[0].suppression
    assert found is not None and found.optimised
    assert (found.saturation_time, found.optimisation_saturation_time) == (4.0, 3.98)
    assert (found.num_inversion_pulses, found.pulse_efficiency) == (4, "ideal")
    assert found.apply_to == ("label", "control")


def test_multiphase_example_needs_only_signal_time_arrays():
    """develop's multiphase example: with multi-PLD in, it loads with its three phases;
    without, the only problem is the array signal_time (nothing else of it is refused)."""
    try:
        params = load_params(_path("series_asl_rst_46.json"))
    except ParamError as err:
        assert err.errors == [
            "image_series[0].series_parameters.signal_time: expected a number, got "
            "[1.0, 1.25, 1.5]"
        ]
    else:
        values = params.resolved["image_series"][0]["series_parameters"]
        assert values["signal_time"] == [1.0, 1.25, 1.5]
        assert values["asl_context"] == "control label"


def test_dynamic_arrays_are_the_documented_arrays():
    """series-asl.rst:259 draws what series-asl.rst:289 lists (echo_time aside: the docs list
    0.12 where the input says 0.012)."""
    drawn = _quiet_load(_path("series_asl_rst_259.json")).resolved
    listed = _quiet_load(_path("series_asl_rst_289.json")).resolved
    drawn_values = drawn["image_series"][0]["series_parameters"]
    listed_values = listed["image_series"][0]["series_parameters"]
    assert drawn_values["echo_time"] == [0.012] * 8
    assert listed_values["echo_time"] == [0.12] * 8
    del drawn_values["echo_time"], listed_values["echo_time"]
    assert drawn_values == listed_values


def test_every_develop_key_file_warns_once_about_its_label():
    """The develop-style file: one warning (the '-' of its subject_label)."""
    with pytest.warns(UserWarning) as caught:
        params = load_params(_path("every_develop_key.json"))
    assert len(caught) == 1 and 'using "dev01"' in str(caught[0].message)
    series = params.series[0]
    assert series.output_image_type == "complex" and series.interpolation == "linear"
    assert [m.rot_x for m in series.motion] == [0.8576, 1.1264, 0.9129, 0.9741, 0.9925]
    assert [m.transl_z for m in series.motion] == [0.0] * 5


# --------------------------------------------------------------------------------------------
# End to end


def _small(document: dict) -> dict:
    """The document with every series at a small acquisition matrix (nothing else changed)."""
    out = json.loads(json.dumps(document))
    for series in out["image_series"]:
        series.setdefault("series_parameters", {})["acq_matrix"] = SMALL
    return out


def _generate(tmp_path: Path, document: dict, capsys, folder: Path | None = None) -> Path:
    """``asldro generate`` (validation on) with the document written in ``folder``."""
    folder = folder or tmp_path
    params = folder / "params.json"
    params.write_text(json.dumps(document))
    out = tmp_path / "out"
    status = main(["generate", "--params", str(params), str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err + captured.out
    assert "raw dataset: OK" in captured.out
    return out


WITH_SERIES = {
    "parameters_rst_83.json": [
        {"series_type": "asl", "series_parameters": {}},
        {"series_type": "ground_truth", "series_parameters": {}},
    ]
}
"""Series a global_configuration-only example is generated with."""


@pytest.mark.parametrize("name", [n for n, e in EXAMPLES.items() if e.generate])
def test_the_example_generates_a_valid_dataset(name, tmp_path, capsys):
    """Generated end to end (small grids), it passes own checks, pybids and deno."""
    document = json.loads(_path(name).read_text())
    document["image_series"] += WITH_SERIES.get(name, [])
    out = _generate(tmp_path, _small(document), capsys)
    label = _quiet_load(_small(document)).global_config.subject_label or "01"
    assert (out / f"sub-{label}" / "perf").is_dir()


def _write_ground_truth(nifti: Path, sidecar: Path) -> None:
    """A small ground truth at ``nifti`` (5-D, the quantities of develop's documented JSON in
    its order) with develop's documented JSON as ``sidecar``."""
    document = json.loads(_path(GT_JSON).read_text())
    maps = volumes(nested_seg())
    stack = np.stack([maps[q] for q in document["quantities"]], axis=-1)[:, :, :, np.newaxis, :]
    nifti.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(stack, np.diag([2.0, 2.0, 2.0, 1.0])), nifti)
    shutil.copyfile(_path(GT_JSON), sidecar)


@pytest.mark.parametrize("name", ["ground_truth_rst_29.json", "ground_truth_rst_39.json"])
def test_a_relocated_ground_truth_example_generates(name, tmp_path, capsys):
    """With /path/to/ pointing at a folder that holds the files, the example (plus a small asl
    and ground_truth series) is generated."""
    text = _path(name).read_text().replace('"/path/to/', f'"{tmp_path}/path/to/')
    document = json.loads(text)
    truth = document["global_configuration"]["ground_truth"]
    if isinstance(truth, str):
        _write_ground_truth(Path(truth), Path(truth).with_suffix(".json"))
    else:
        _write_ground_truth(Path(truth["nii"]), Path(truth["json"]))
    document["image_series"] = WITH_SERIES["parameters_rst_83.json"]
    out = _generate(tmp_path, _small(document), capsys)
    assert (out / "derivatives" / "groundtruth" / "sub-01").is_dir()


def test_mrimagetools_ground_truth_form_generates(tmp_path, capsys):
    """MRImageTools' {"nii_file", "json_file"}, paths relative to the parameter file."""
    folder = tmp_path / "study"
    folder.mkdir()
    document = json.loads(_path("mrimagetools_ground_truth.json").read_text())
    truth = document["global_configuration"]["ground_truth"]
    _write_ground_truth(folder / truth["nii_file"], folder / truth["json_file"])
    out = _generate(tmp_path, _small(document), capsys, folder)
    resolved = json.loads((out / "code" / "sub-mit01_dro_params.json").read_text())
    assert resolved["global_configuration"]["ground_truth"] == {
        "nii": str(folder / truth["nii_file"]),
        "json": str(folder / truth["json_file"]),
    }
