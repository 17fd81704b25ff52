"""The pybids and bids-validator-deno layers and the validate_dataset entry point
(docs/bids.md §12.1, §12.4). These run the real pybids and the real bids-validator-deno."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from asldro.bids.validate import (
    INVALID,
    NOT_RUN,
    TEMP_PREFIX,
    VALID,
    find_bids_validator,
    parse_bids_validator_report,
    run_bids_validator,
    validate_dataset,
)
from tests.bids.fixtures_validate import (  # pylint: disable=unused-import
    asl_paths,
    edit_json,
    fixture_dataset,
    fixture_hermetic_deno,
    fixture_valid_dataset_template,
    make_valid_dataset,
    read_json,
    write_subject,
)

GT = "derivatives/groundtruth"
BV = "bids-validator"


def layer_codes(report, layer: str, dataset: str = "raw") -> set[str]:
    """Codes of one layer for one dataset."""
    return {f.code for f in report.findings if f.layer == layer and f.dataset == dataset}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a dataset except code/, by relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and "code" not in path.relative_to(root).parts
    }


def full_state(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every path under ``root`` (root and folders included): change time and content."""
    return {
        path.relative_to(root).as_posix(): (
            path.stat().st_mtime_ns,
            path.read_bytes() if path.is_file() else b"",
        )
        for path in [root, *root.rglob("*")]
    }


@pytest.mark.usefixtures("hermetic_deno")
def test_valid_dataset_passes_all_layers(dataset: Path) -> None:
    """All three layers run on raw and derivative and report nothing; the report is written."""
    before = snapshot(dataset)
    report = validate_dataset(dataset, write_report=True)
    assert report.ok
    assert report.status == VALID
    assert not report.findings
    assert list(report.timings) == ["own", "pybids", "bids-validator"]
    lines = report.summary_lines()
    assert len(lines) == 2
    assert lines[0].startswith("raw dataset: OK (0 errors, 0 warnings) [own, pybids, ")
    assert lines[1].startswith(f"derivative dataset {GT}: OK (0 errors")
    assert all("bids-validator-deno" in line for line in lines)
    raw_report = read_json(dataset / "code" / "validation.json")
    assert raw_report["ok"] is True
    assert [d["dataset"] for d in raw_report["datasets"]] == ["raw", GT]
    gt_report = read_json(dataset / GT / "code" / "validation.json")
    assert gt_report["dataset"] == GT
    assert gt_report["findings"] == []
    # wall-clock timings stay out of files inside the dataset (reruns are byte-identical)
    assert "timings_s" not in raw_report and "timings_s" not in gt_report
    assert "timings_s" not in json.dumps(report.to_dict())
    assert snapshot(dataset) == before  # only code/ was written
    assert not list(dataset.glob(f"{TEMP_PREFIX}*"))


@pytest.mark.usefixtures("hermetic_deno")
def test_a_written_report_does_not_break_revalidation(dataset: Path) -> None:
    """code/validation.json is skipped by every validator."""
    validate_dataset(dataset, write_report=True)
    assert validate_dataset(dataset, write_report=False).ok


@pytest.mark.usefixtures("hermetic_deno")
def test_validation_writes_nothing_into_the_dataset_by_default(dataset: Path) -> None:
    """No report, and no temporary folder inside the dataset (not even one that is removed:
    the folders' change times stay as they were)."""
    before = full_state(dataset)
    report = validate_dataset(dataset)
    assert report.ok, report.findings
    assert full_state(dataset) == before


def test_unknown_layer_is_rejected(dataset: Path) -> None:
    """A misspelt layer name is a caller error, not a silent skip."""
    with pytest.raises(ValueError, match="deno"):
        validate_dataset(dataset, layers=("own", "deno"))


def test_missing_dataset_is_rejected(tmp_path: Path) -> None:
    """A folder that does not exist is a caller error."""
    with pytest.raises(NotADirectoryError):
        validate_dataset(tmp_path / "nothing-here")


# pybids ---------------------------------------------------------------------------------------


def test_pybids_reports_silently_dropped_files(dataset: Path) -> None:
    """A file outside the BIDS naming (series number in the name) is not indexed by pybids."""
    paths = asl_paths(dataset)
    shutil.copy(paths["asl"], paths["asl"].with_name("sub-01_001_asl.nii.gz"))
    report = validate_dataset(dataset, layers=("pybids",), write_report=False)
    dropped = [f for f in report.findings if f.code == "PYBIDS_FILE_NOT_INDEXED"]
    assert [f.file for f in dropped] == ["sub-01/perf/sub-01_001_asl.nii.gz"]
    assert not report.ok


def test_pybids_reports_an_unassociated_m0scan(dataset: Path) -> None:
    """The m0scan must be reachable from the asl file via IntendedFor (InformedBy)."""
    edit_json(asl_paths(dataset)["m0_json"], IntendedFor="bids::sub-01/anat/sub-01_T1w.nii.gz")
    report = validate_dataset(dataset, layers=("pybids",), write_report=False)
    assert layer_codes(report, "pybids") == {"PYBIDS_M0SCAN_NOT_ASSOCIATED"}


def test_pybids_resolves_subject_relative_intended_for(dataset: Path) -> None:
    """pybids 0.22 associates the m0scan for the deprecated subject-relative form too."""
    edit_json(asl_paths(dataset)["m0_json"], IntendedFor=["perf/sub-01_asl.nii.gz"])
    report = validate_dataset(dataset, layers=("pybids",), write_report=False)
    assert report.ok, report.findings


def test_pybids_metadata_missing_for_image_without_sidecar(dataset: Path) -> None:
    """An image whose sidecar is gone has no metadata in pybids."""
    (dataset / "sub-01" / "anat" / "sub-01_T1w.json").unlink()
    report = validate_dataset(dataset, layers=("pybids",), write_report=False)
    assert layer_codes(report, "pybids") == {"PYBIDS_METADATA_MISSING"}


def test_pybids_failure_is_attributed_to_the_derivative(dataset: Path) -> None:
    """pybids refuses a derivative without GeneratedBy; the raw dataset is still checked."""
    edit_json(dataset / GT / "dataset_description.json", drop=("GeneratedBy",))
    shutil.copy(asl_paths(dataset)["asl"], dataset / "sub-01" / "perf" / "sub-01_001_asl.nii.gz")
    report = validate_dataset(dataset, layers=("pybids",), write_report=False)
    assert layer_codes(report, "pybids", GT) == {"PYBIDS_LAYOUT_FAILED"}
    assert layer_codes(report, "pybids") == {"PYBIDS_FILE_NOT_INDEXED"}


# bids-validator-deno --------------------------------------------------------------------------


@pytest.mark.usefixtures("hermetic_deno")
def test_deno_reports_missing_m0type(dataset: Path) -> None:
    """Missing M0Type: SIDECAR_KEY_REQUIRED from bids-validator-deno (§12.6)."""
    edit_json(asl_paths(dataset)["asl_json"], drop=("M0Type",))
    report = validate_dataset(dataset, layers=(BV,), write_report=False)
    required = [f for f in report.findings if f.code == "SIDECAR_KEY_REQUIRED"]
    assert required and all(f.layer == BV and f.severity == "error" for f in required)
    assert any("M0Type" in f.message for f in required)
    assert any(f.file == "sub-01/perf/sub-01_asl.nii.gz" for f in required)
    assert not report.ok
    assert "SIDECAR_KEY_REQUIRED" in report.summary_lines()[0]


@pytest.mark.usefixtures("hermetic_deno")
def test_deno_reports_participants_mismatch(dataset: Path) -> None:
    """participants.tsv missing a subject that has a folder: PARTICIPANT_ID_MISMATCH (§12.6);
    the own check agrees."""
    write_subject(dataset, "02")
    report = validate_dataset(dataset, layers=("own", BV), write_report=False)
    assert "PARTICIPANT_ID_MISMATCH" in layer_codes(report, BV)
    assert layer_codes(report, "own") == {"PARTICIPANTS_TSV_MISMATCH"}


@pytest.mark.usefixtures("hermetic_deno")
def test_deno_validates_the_derivative_separately(dataset: Path) -> None:
    """SkullStripped is REQUIRED in the derivative; the error belongs to the derivative."""
    sidecar = dataset / GT / "sub-01" / "anat" / "sub-01_desc-groundtruth_T1map.json"
    edit_json(sidecar, drop=("SkullStripped",))
    report = validate_dataset(dataset, layers=(BV,), write_report=False)
    assert "SIDECAR_KEY_REQUIRED" in layer_codes(report, BV, GT)
    assert not layer_codes(report, BV)
    assert report.summary_lines()[0].startswith("raw dataset: OK")


@pytest.mark.usefixtures("hermetic_deno")
def test_missing_validator_is_an_error_unless_excluded(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No bids-validator-deno next to Python nor on PATH: an error finding per dataset."""
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(RuntimeError, match="bids-validator-deno"):
        find_bids_validator()
    report = validate_dataset(dataset, layers=("own", BV), write_report=False)
    assert not report.ok
    assert {(f.code, f.dataset) for f in report.findings} == {
        ("BIDS_VALIDATOR_NOT_FOUND", "raw"),
        ("BIDS_VALIDATOR_NOT_FOUND", GT),
    }
    # the dataset is not found invalid: the validation could not run
    assert report.status == NOT_RUN
    assert report.problem().startswith("validation could not run: BIDS_VALIDATOR_NOT_FOUND")
    assert all("could not run" in line for line in report.summary_lines())
    assert validate_dataset(dataset, layers=("own",), write_report=False).ok
    # an error found by a layer that did run makes the dataset invalid all the same
    edit_json(asl_paths(dataset)["asl_json"], M0Type="separate")
    report = validate_dataset(dataset, layers=("own", BV), write_report=False)
    assert report.status == INVALID
    assert report.problem() == "the dataset failed validation"
    lines = report.finding_lines()
    assert lines[0].startswith("ERROR M0TYPE_INVALID sub-01/perf/sub-01_asl.")
    assert any(line.startswith("ERROR BIDS_VALIDATOR_NOT_FOUND .: ") for line in lines)


def test_runs_with_home_and_deno_dir_unset(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without HOME and DENO_DIR the Deno cache and report go in a temporary folder outside
    the dataset, which is removed afterwards."""
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("DENO_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    before = snapshot(dataset)
    report = validate_dataset(dataset, write_report=False)
    assert report.ok, report.findings
    version = importlib.metadata.version("bids-validator-deno")
    assert report.summary_lines()[0].endswith(f"[own, pybids, bids-validator-deno {version}]")
    assert not [p for p in dataset.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    assert snapshot(dataset) == before
    assert "HOME" not in os.environ


def test_parse_report_keeps_errors_and_warnings_only() -> None:
    """``ignore`` issues are dropped; location becomes dataset-relative; subCode is kept."""
    report = {
        "issues": {
            "issues": [
                {"code": "A_ERR", "severity": "error", "location": "/sub-01/x.json"},
                {"code": "B_WARN", "severity": "warning", "location": "/README", "subCode": "k"},
                {"code": "C_IGN", "severity": "ignore", "location": "/y"},
            ],
            "codeMessages": {"A_ERR": "first line\nsecond", "B_WARN": "warned"},
        }
    }
    findings = parse_bids_validator_report(report, "raw")
    assert [(f.code, f.severity, f.file, f.message) for f in findings] == [
        ("A_ERR", "error", "sub-01/x.json", "first line"),
        ("B_WARN", "warning", "README", "k: warned"),
    ]
    assert json.dumps([f.to_dict() for f in findings])


def test_parse_report_order_does_not_follow_the_validator() -> None:
    """bids-validator-deno reads files concurrently; the findings come out in one order
    whatever the order of its issues (the written report is reproducible)."""
    issues = [
        {"code": "B", "severity": "warning", "location": "/sub-02/y.json"},
        {"code": "A", "severity": "error", "location": "/sub-01/x.json"},
        {"code": "A", "severity": "error", "location": "/sub-01/w.json"},
    ]
    first = parse_bids_validator_report({"issues": {"issues": issues}}, "raw")
    second = parse_bids_validator_report({"issues": {"issues": issues[::-1]}}, "raw")
    assert first == second
    assert [(f.code, f.file) for f in first] == [
        ("A", "sub-01/w.json"),
        ("A", "sub-01/x.json"),
        ("B", "sub-02/y.json"),
    ]


@pytest.mark.usefixtures("hermetic_deno")
def test_validator_crash_is_an_error(tmp_path: Path) -> None:
    """A validator exit code other than 0 or 16 (here: a path that does not exist) is reported
    as a crash, not as success."""
    work = tmp_path / "work"
    work.mkdir()
    findings = run_bids_validator(
        tmp_path / "no-dataset",
        "raw",
        executable=find_bids_validator(),
        work_dir=work,
        cache_dir=Path(os.environ["DENO_DIR"]),
    )
    assert [(f.code, f.severity, f.layer) for f in findings] == [
        ("BIDS_VALIDATOR_CRASHED", "error", BV)
    ]


@pytest.mark.usefixtures("hermetic_deno")
def test_two_participants_validate(tmp_path: Path) -> None:
    """A two-subject dataset passes every layer (own participants/T1w checks per subject)."""
    root = make_valid_dataset(tmp_path / "ds", subjects=("01", "02"))
    report = validate_dataset(root, write_report=False)
    assert report.ok, report.findings
    assert not report.findings


def test_an_interrupted_validation_leaves_no_validator_running(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: bids-validator runs alongside the own and pybids layers; when the run is
    interrupted during them, the validator (here a stand-in that would run for a minute) is
    killed before the error propagates."""
    import time

    from asldro.bids import validate as validate_module

    pid_file = tmp_path / "validator.pid"
    fake = tmp_path / "bin" / "bids-validator-deno"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(validate_module, "find_bids_validator", lambda: fake)

    def interrupted_pybids(*_args: object) -> list:
        deadline = time.monotonic() + 30
        while not pid_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.02)  # the validator has started
        raise KeyboardInterrupt

    monkeypatch.setattr(validate_module, "run_pybids", interrupted_pybids)
    with pytest.raises(KeyboardInterrupt):
        validate_dataset(dataset)
    pid = int(pid_file.read_text(encoding="utf-8"))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped
