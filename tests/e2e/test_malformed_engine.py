"""Malformed input at the command line (issue 9): every bad file ends in the documented exit
status, one stderr line naming the problem, no traceback, and no output folder.

``asldro generate`` (and ``run.py`` for --max-memory) run in-process. The parameter-level cases
are every document of tests/params/test_errors.py, written to a file; the engine-level cases
below need a ground truth, a simulation or the memory estimate to be refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from bids_app.cli import main as run_py
from tests.e2e.conftest import document, small
from tests.groundtruth.conftest import nested_seg, volumes, write_asldro_files
from tests.params.test_errors import MALFORMED

EXIT_DATA, EXIT_USAGE = 65, 64


def _generate(capsys, tmp_path: Path, params: Path, *extra: str) -> tuple[int, list[str], Path]:
    out = tmp_path / "out"
    status = main(["generate", "--skip-validation", "--params", str(params), *extra, str(out)])
    err = capsys.readouterr().err
    return status, err.strip().splitlines(), out


def _write(tmp_path: Path, doc, name: str = "params.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def _assert_refused(status, lines, out, expected_status, *words):
    assert status == expected_status, lines
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "doc, expected", [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_every_malformed_parameter_file_is_one_line_exit_65(capsys, tmp_path, doc, expected):
    """The whole malformed-file suite through the command line."""
    status, lines, out = _generate(capsys, tmp_path, _write(tmp_path, doc))
    _assert_refused(status, lines, out, EXIT_DATA, expected)


# ------------------------------------------------------------------- parameter files as text

DUPLICATE = """{
  "global_configuration": {
    "ground_truth": "hrgt_icbm_2009a_nls_3t",
    "parameter_override": {"lambda_blood_brain": 0.9, "lambda_blood_brain": 0.0}
  },
  "image_series": []
}"""


def test_duplicate_key_in_a_parameter_file(capsys, tmp_path):
    path = tmp_path / "dup.json"
    path.write_text(DUPLICATE, encoding="utf-8")
    status, lines, out = _generate(capsys, tmp_path, path)
    _assert_refused(status, lines, out, EXIT_DATA, "dup.json", 'duplicate key "lambda_blood_brain"')
    assert "at line 4" in lines[0]


def test_200k_deep_nesting_is_65_naming_the_file(capsys, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    status, lines, out = _generate(capsys, tmp_path, path)
    _assert_refused(status, lines, out, EXIT_DATA, "deep.json", "nested more than 100 levels")


def test_parameter_file_with_a_bom_is_accepted(capsys, tmp_path):
    """A UTF-8 BOM (Windows editors) is read like any other file."""
    path = tmp_path / "bom.json"
    doc = document(small("asl", acq_matrix=[8, 8, 6]))
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode("utf-8"))
    status, lines, out = _generate(capsys, tmp_path, path)
    assert status == 0, lines
    assert (out / "sub-01" / "perf" / "sub-01_asl.nii.gz").is_file()


# ------------------------------------------------------------------- refused at the ground truth


@pytest.mark.parametrize(
    "config, words",
    [
        (
            {"ground_truth_modulate": {"m0": {"scale": 1e308}}},
            ("global_configuration.ground_truth_modulate.m0: m0 has", "non-finite values"),
        ),
        (
            {"image_override": {"M0": 80.0}},
            ("global_configuration.image_override.M0: unknown quantity (did you mean 'm0'?)",),
        ),
        (
            {"ground_truth_modulate": {"perfusion": {"scale": 2}}},
            ("did you mean 'perfusion_rate'?",),
        ),
        (
            {"ground_truth_modulate": {"t1": {"scale": 1000}}},
            ("global_configuration.ground_truth_modulate.t1: t1 must be in [0, 100]",),
        ),
    ],
    ids=["modulate to Inf", "override typo", "modulate typo", "modulate out of range"],
)
def test_configuration_refused_on_the_built_in(capsys, tmp_path, config, words):
    doc = document(small("asl"), **config)
    status, lines, out = _generate(capsys, tmp_path, _write(tmp_path, doc))
    _assert_refused(status, lines, out, EXIT_DATA, *words)


def _ground_truth_file(tmp_path: Path, vols=None, affine=None) -> tuple[Path, Path]:
    folder = tmp_path / "gt"
    folder.mkdir(exist_ok=True)
    vols = volumes(nested_seg()) if vols is None else vols
    return write_asldro_files(folder, vols, np.eye(4) if affine is None else affine)


def _with_file(tmp_path: Path, nifti: Path) -> Path:
    return _write(tmp_path, document(small("asl", acq_matrix=[10, 12, 8]), ground_truth=str(nifti)))


def test_inf_in_part_of_a_ground_truth_m0(capsys, tmp_path):
    vols = volumes(nested_seg())
    vols["m0"][8:10, 8:10, 5:8] = np.inf
    nifti, _ = _ground_truth_file(tmp_path, vols)
    status, lines, out = _generate(capsys, tmp_path, _with_file(tmp_path, nifti))
    _assert_refused(status, lines, out, EXIT_DATA, str(nifti), "m0 has 12 non-finite values")


def test_singular_ground_truth_affine(capsys, tmp_path):
    nifti, _ = _ground_truth_file(tmp_path)
    image = nib.load(nifti)
    header = image.header.copy()
    header["qform_code"], header["sform_code"] = 0, 1
    header["srow_x"], header["srow_y"], header["srow_z"] = [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]
    nib.save(nib.Nifti1Image(np.asanyarray(image.dataobj), None, header), nifti)
    status, lines, out = _generate(capsys, tmp_path, _with_file(tmp_path, nifti))
    _assert_refused(status, lines, out, EXIT_DATA, str(nifti), "singular")


@pytest.mark.parametrize(
    "text, words",
    [
        ('{"quantities": [], "quantities": []}', ('duplicate key "quantities"',)),
        ("[" * 200_000 + "]" * 200_000, ("nested more than 100 levels",)),
    ],
    ids=["duplicate key", "deep nesting"],
)
def test_malformed_ground_truth_json(capsys, tmp_path, text, words):
    nifti, sidecar = _ground_truth_file(tmp_path)
    sidecar.write_text(text, encoding="utf-8")
    status, lines, out = _generate(capsys, tmp_path, _with_file(tmp_path, nifti))
    _assert_refused(status, lines, out, EXIT_DATA, str(sidecar), *words)


def test_ground_truth_json_with_a_bom_is_accepted(capsys, tmp_path):
    nifti, sidecar = _ground_truth_file(tmp_path)
    sidecar.write_bytes(b"\xef\xbb\xbf" + sidecar.read_bytes())
    status, lines, out = _generate(capsys, tmp_path, _with_file(tmp_path, nifti))
    assert status == 0, lines
    assert out.is_dir()


# ------------------------------------------------------------------- refused by the simulation


def test_simulated_non_finite_values_are_65_and_nothing_is_written(capsys, tmp_path):
    """desired_snr 1e-40 gives noise beyond float32: one line, no RuntimeWarning lines."""
    doc = document(small("asl", desired_snr=1e-40, acq_matrix=[8, 8, 6]))
    status, lines, out = _generate(capsys, tmp_path, _write(tmp_path, doc))
    _assert_refused(status, lines, out, EXIT_DATA, "image_series[0] (asl)", "non-finite values")


# ------------------------------------------------------------------- refused by the memory estimate

HUGE = document(small("asl", acq_matrix=[700, 700, 700]))


def test_700_cubed_is_refused_by_asldro_generate(capsys, tmp_path):
    status, lines, out = _generate(capsys, tmp_path, _write(tmp_path, HUGE), "--max-memory", "16G")
    _assert_refused(
        status, lines, out, EXIT_DATA, "acq_matrix 700x700x700", "16.0 GiB allowed by --max-memory"
    )


def test_700_cubed_is_refused_by_run_py(capsys, tmp_path):
    out = tmp_path / "out"
    params = _write(tmp_path, HUGE)
    status = run_py([str(out), "participant", "--params", str(params), "--max-memory", "16G"])
    lines = capsys.readouterr().err.strip().splitlines()
    _assert_refused(status, lines, out, EXIT_DATA, "run.py: error: ", "acq_matrix 700x700x700")


@pytest.mark.parametrize("front_door", ["asldro", "run.py"])
def test_max_memory_is_passed_through(capsys, tmp_path, front_door):
    """A limit below the default run's ~400 MiB refuses it: the option reaches the check."""
    out = tmp_path / "out"
    if front_door == "asldro":
        status = main(["generate", "--skip-validation", "--max-memory", "100M", str(out)])
    else:
        status = run_py([str(out), "participant", "--skip-bids-validation", "--max-memory", "100M"])
    lines = capsys.readouterr().err.strip().splitlines()
    _assert_refused(status, lines, out, EXIT_DATA, "100 MiB allowed by --max-memory")


@pytest.mark.parametrize("front_door", ["asldro", "run.py"])
def test_max_memory_without_a_unit_is_a_usage_error(capsys, tmp_path, front_door):
    out = tmp_path / "out"
    if front_door == "asldro":
        status = main(["generate", "--max-memory", "16", str(out)])
    else:
        status = run_py([str(out), "participant", "--max-memory", "16"])
    lines = capsys.readouterr().err.strip().splitlines()
    _assert_refused(status, lines, out, EXIT_USAGE, "expected a size with a unit")
