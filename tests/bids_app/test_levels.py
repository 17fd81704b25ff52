"""The participant and group levels end to end, in-process through ``main(argv)`` (docs/bids.md §11).

Real engine, small grids: every dataset here is written by the code under test and checked by all
three validation layers (own checks, pybids, bids-validator-deno).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from bids_app.cli import main
from tests.bids_app.conftest import full_validation, participants, tree


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, small_params) -> Path:
    """Two participants written by two participant runs (both label spellings, both forms)."""
    out = tmp_path_factory.mktemp("levels") / "out"
    rc = main(
        [str(out), "participant", "--participant-label", "sub-01", "--params", str(small_params)]
    )
    assert rc == 0
    rc = main(
        ["/dev/null", str(out), "participant", "--participant_label", "02"]
        + ["--params", str(small_params)]
    )
    assert rc == 0
    return out


def copy_of(dataset: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(dataset, target)
    return target


def test_participant_runs_write_a_valid_dataset(dataset):
    assert sorted(p.name for p in dataset.glob("sub-*")) == ["sub-01", "sub-02"]
    assert participants(dataset) == ["sub-01", "sub-02"]
    for name in ("dataset_description.json", "README.md", "participants.json"):
        assert (dataset / name).is_file(), name
    assert (dataset / "code" / "sub-01_dro_params.json").is_file()
    assert (dataset / "code" / "sub-02_dro_params.json").is_file()
    assert (dataset / "derivatives" / "groundtruth" / "sub-02").is_dir()
    assert (dataset / "sub-02" / "perf" / "sub-02_asl.nii.gz").is_file()
    report = full_validation(dataset)
    assert report.ok, report.summary_lines()
    # Nothing left over but the (hidden, validator-ignored) lock file.
    hidden = sorted(p.name for p in dataset.iterdir() if p.name.startswith("."))
    assert hidden == [".asldro.lock"]


def test_group_rebuilds_participants_and_validates(dataset, tmp_path, capsys):
    out = copy_of(dataset, tmp_path)
    (out / "participants.tsv").write_text("participant_id\nsub-01\nsub-99\n")
    (out / "participants.json").unlink()
    assert main([str(out), "group"]) == 0
    captured = capsys.readouterr()
    assert "2 participant(s): sub-01 sub-02" in captured.out
    assert "raw dataset: OK" in captured.out
    assert participants(out) == ["sub-01", "sub-02"]
    assert (out / "participants.json").is_file()
    assert full_validation(out).ok


def test_group_with_three_positionals_and_named_participants(dataset, tmp_path, capsys):
    out = copy_of(dataset, tmp_path)
    assert main(["/dev/null", str(out), "group", "--participant-label", "sub-02"]) == 0
    assert "sub-01 sub-02" in capsys.readouterr().out


def test_group_skip_validation(dataset, tmp_path, capsys):
    out = copy_of(dataset, tmp_path)
    assert main([str(out), "group", "--skip_bids_validator"]) == 0
    assert "validation skipped" in capsys.readouterr().err


def test_group_named_participant_missing_is_a_clear_error(dataset, tmp_path, capsys):
    out = copy_of(dataset, tmp_path)
    before = tree(out)
    assert main([str(out), "group", "--participant-label", "01", "07"]) == 66
    err = capsys.readouterr().err
    assert err == f"run.py: error: {out}: participant(s) not found: sub-07\n"
    assert tree(out) == before


def test_group_on_a_broken_dataset_exits_16_with_findings(dataset, tmp_path, capsys):
    out = copy_of(dataset, tmp_path)
    (out / "sub-01" / "perf" / "sub-01_aslcontext.tsv").unlink()
    assert main([str(out), "group"]) == 16
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"run.py: error: {out}: the dataset failed validation"
    assert any(line.startswith("raw dataset: ") and "error" in line for line in err[1:])
    findings = [line for line in err if line.startswith("  ")]
    assert findings and any("aslcontext" in line.lower() for line in findings), err
    assert "Traceback" not in "\n".join(err)


def test_a_participant_job_validates_its_subject_not_its_siblings(
    dataset, tmp_path, small_params, capsys
):
    """A participant job validates its own subject and the dataset-level files: a broken
    sibling does not fail it (the group level finds it: 16)."""
    out = copy_of(dataset, tmp_path)
    sidecar = out / "sub-01" / "perf" / "sub-01_asl.json"
    sidecar.write_text(sidecar.read_text().replace('"M0Type"', '"M0TypeX"'))
    rc = main([str(out), "participant", "--participant-label", "03", "--params", str(small_params)])
    assert rc == 0, capsys.readouterr().err
    assert "validated sub-03 with the dataset-level files" in capsys.readouterr().out
    report = json.loads((out / "code" / "sub-03_validation.json").read_text())
    assert report["ok"] is True and report["status"] == "valid"
    assert participants(out) == ["sub-01", "sub-02", "sub-03"]
    assert main([str(out), "group"]) == 16
    assert "failed validation" in capsys.readouterr().err.splitlines()[0]


def test_participant_self_validation_failure_exits_16(dataset, tmp_path, small_params, capsys):
    """A dataset-level file the job validates is broken: the job fails (16), although its
    participant is written."""
    out = copy_of(dataset, tmp_path)
    description = json.loads((out / "dataset_description.json").read_text())
    del description["BIDSVersion"]
    (out / "dataset_description.json").write_text(json.dumps(description))
    rc = main([str(out), "participant", "--participant-label", "03", "--params", str(small_params)])
    assert rc == 16
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "wrote sub-03 (1/1)"  # progress (not a terminal)
    assert "failed validation" in err[1]
    assert (out / "sub-03").is_dir() and participants(out) == ["sub-01", "sub-02", "sub-03"]
    report = json.loads((out / "code" / "sub-03_validation.json").read_text())
    assert report["status"] == "invalid"


def test_rerunning_a_participant_is_idempotent(dataset, tmp_path, small_params):
    out = copy_of(dataset, tmp_path)
    before = tree(out)
    assert (
        main([str(out), "participant", "--participant-label", "02", "--params", str(small_params)])
        == 0
    )
    assert tree(out) == before


def asl_data(root: Path, label: str) -> np.ndarray:
    return np.asarray(nib.load(root / f"sub-{label}" / "perf" / f"sub-{label}_asl.nii.gz").dataobj)


def subject_files(root: Path, label: str) -> dict[str, bytes]:
    files = {f"raw/{k}": v for k, v in tree(root / f"sub-{label}").items()}
    gt = root / "derivatives" / "groundtruth" / f"sub-{label}"
    files.update({f"gt/{k}": v for k, v in tree(gt).items()})
    return files


def test_streams_depend_on_seed_and_label_only(tmp_path, tiny_params):
    """(seed, label) fixes a participant bit for bit, whatever else runs and in whatever order or
    parallelism; other labels and seeds give other noise (docs/physics.md §7.3)."""
    common = ["--params", str(tiny_params), "--skip-bids-validation"]
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert main([str(a), "participant", "--participant-label", "01", "02", "--n-procs", "2",
                 "--seed", "7", *common]) == 0  # fmt: skip
    assert main([str(b), "participant", "--participant-label", "02", "--seed", "7", *common]) == 0
    assert main([str(c), "participant", "--participant-label", "02", "--seed", "8", *common]) == 0
    assert participants(a) == ["sub-01", "sub-02"]
    assert subject_files(a, "02") == subject_files(b, "02")
    assert not np.array_equal(asl_data(a, "01"), asl_data(a, "02"))
    assert not np.array_equal(asl_data(b, "02"), asl_data(c, "02"))
    assert asl_data(b, "02").shape == asl_data(c, "02").shape
