"""Validation through the front doors (`asldro generate`, `asldro validate`, `run.py`): what is
printed, the exit status (0 valid, 16 invalid, 1 could not run), what is written, and how
warnings reach the user (issue 9, items 9, 11 and 16)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from asldro.cli import main
from bids_app.cli import main as run_py_main
from tests.e2e.conftest import BIN, document, small

ROOT = Path(__file__).resolve().parents[2]
ASLDRO = BIN / "asldro"
RUN_PY = ROOT / "run.py"
ASL_ONLY = document(small("asl"), small("ground_truth"))
WITH_T1W = document(small("asl"), small("structural", modality="T1w"), small("ground_truth"))
WITH_ANAT = document(small("asl"), small("structural", modality="anat"), small("ground_truth"))
#: A finding as printed: severity, code, place, message, layer.
FINDING_LINE = re.compile(r"^  (ERROR|WARNING) [A-Z0-9_]+ \S+: .+ \[(own|pybids|bids-validator)\]$")
#: bids-validator-deno reserves far more address space than this; Python with pybids does not.
ADDRESS_SPACE_LIMIT = 2 * 1024**3


def _params(folder: Path, doc: dict, name: str = "params.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _state(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` (root included) with its type, mode, mtime and, for files,
    the sha256 of its content."""
    state = {}
    for path in [root, *sorted(root.rglob("*"))]:
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        state[path.relative_to(root).as_posix()] = (info.st_mode, info.st_mtime_ns, digest)
    return state


def _hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _limited_address_space() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _subprocess(command: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
        **kwargs,
    )


@pytest.fixture(name="valid_dataset", scope="module")
def fixture_valid_dataset(tmp_path_factory) -> Path:
    """A small dataset written (and validated) by `asldro generate`; copy it before use."""
    folder = tmp_path_factory.mktemp("valid")
    out = folder / "out"
    assert main(["generate", "--params", str(_params(folder, WITH_T1W)), str(out)]) == 0
    return out


def _copy(dataset: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ds"
    shutil.copytree(dataset, target)
    return target


# item 9: no T1w is a warning; findings are readable lines --------------------------------------


def test_asl_only_dro_is_valid_with_a_no_t1w_warning(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["generate", "--params", str(_params(tmp_path, ASL_ONLY)), str(out)]
    status, stdout, stderr = _run(argv, capsys)
    assert status == 0, stdout + stderr
    assert "raw dataset: OK (0 errors, 1 warning)" in stdout
    warning = "  WARNING NO_T1W sub-01: no anat/*_T1w image: ASLPrep and fMRIPrep need a T1w"
    assert any(line.startswith(warning) for line in stderr.splitlines()), stderr
    status, stdout, stderr = _run(["validate", str(out)], capsys)
    assert status == 0, stdout + stderr
    assert "NO_T1W" in stderr and "ERROR" not in stderr


def test_empty_image_series_is_valid(tmp_path, capsys):
    out = tmp_path / "out"
    doc = document()
    status, stdout, stderr = _run(
        ["generate", "--params", str(_params(tmp_path, doc)), str(out)], capsys
    )
    assert status == 0, stdout + stderr
    assert "WARNING NO_T1W" in stderr


def test_run_py_asl_only_is_valid_with_the_warning(tmp_path, capsys):
    out = tmp_path / "out"
    status = run_py_main([str(out), "participant", "--params", str(_params(tmp_path, ASL_ONLY))])
    captured = capsys.readouterr()
    assert status == 0, captured.out + captured.err
    assert "  WARNING NO_T1W sub-01: " in captured.err


def test_failed_validation_prints_finding_lines_not_reprs(valid_dataset, tmp_path, capsys):
    dataset = _copy(valid_dataset, tmp_path)
    (dataset / "sub-01" / "perf" / "sub-01_aslcontext.tsv").unlink()
    status, stdout, stderr = _run(["validate", str(dataset)], capsys)
    assert status == 16
    assert "Finding(" not in stdout + stderr
    lines = stderr.splitlines()
    assert lines[0] == f"asldro: error: {dataset}: the dataset failed validation"
    assert lines[1:] and all(FINDING_LINE.match(line) for line in lines[1:]), lines
    assert "  ERROR ASLCONTEXT_MISSING sub-01/perf/sub-01_aslcontext.tsv: " in stderr
    assert "raw dataset: " in stdout and "ASLCONTEXT_MISSING" in stdout


def test_run_py_failed_validation_prints_the_same_lines(valid_dataset, tmp_path, capsys):
    dataset = _copy(valid_dataset, tmp_path)
    (dataset / "sub-01" / "perf" / "sub-01_aslcontext.tsv").unlink()
    assert run_py_main([str(dataset), "group"]) == 16
    captured = capsys.readouterr()
    assert "Finding(" not in captured.out + captured.err
    findings = [line for line in captured.err.splitlines() if line.startswith("  ")]
    assert findings and all(FINDING_LINE.match(line) for line in findings), findings
    assert "  ERROR ASLCONTEXT_MISSING sub-01/perf/sub-01_aslcontext.tsv: " in captured.err


# item 11: validate writes nothing unless asked; crashes are "could not run"; reruns identical -----


def test_validate_writes_nothing_into_a_read_only_dataset(valid_dataset, tmp_path, capsys):
    dataset = _copy(valid_dataset, tmp_path)
    (dataset / "code" / "validation.json").unlink()
    (dataset / "derivatives" / "groundtruth" / "code" / "validation.json").unlink()
    modes = {path: path.stat().st_mode for path in [dataset, *dataset.rglob("*")]}
    for path in modes:
        path.chmod(stat.S_IMODE(modes[path]) & ~0o222)
    try:
        before = _state(dataset)
        status, stdout, stderr = _run(["validate", str(dataset)], capsys)
        after = _state(dataset)
    finally:
        for path, mode in modes.items():
            path.chmod(stat.S_IMODE(mode))
    assert status == 0, stdout + stderr
    assert "raw dataset: OK" in stdout
    assert after == before


def test_report_file_only_when_asked(valid_dataset, tmp_path, capsys):
    dataset = _copy(valid_dataset, tmp_path)
    before = _state(dataset)
    report = tmp_path / "report.json"
    status, stdout, stderr = _run(["validate", str(dataset), "--report", str(report)], capsys)
    assert status == 0, stdout + stderr
    assert _state(dataset) == before
    content = json.loads(report.read_text())
    assert content["ok"] is True
    assert [d["dataset"] for d in content["datasets"]] == [
        "raw",
        "derivatives/asldro-report",
        "derivatives/groundtruth",
    ]
    # its own earlier report is replaced; a file asldro did not write is not
    assert _run(["validate", str(dataset), "--report", str(report)], capsys)[0] == 0
    foreign = tmp_path / "notes.json"
    foreign.write_text('{"mine": true}\n')
    status, _, stderr = _run(["validate", str(dataset), "--report", str(foreign)], capsys)
    assert status == 73 and len(stderr.splitlines()) == 1 and "notes.json" in stderr
    assert foreign.read_text() == '{"mine": true}\n'
    missing = tmp_path / "no-such-folder" / "r.json"
    status, _, stderr = _run(["validate", str(dataset), "--report", str(missing)], capsys)
    assert status == 73 and "no-such-folder" in stderr


def test_generate_twice_gives_byte_identical_files(tmp_path, capsys):
    params = _params(tmp_path, WITH_T1W)
    one, two = tmp_path / "one", tmp_path / "two"
    for out in (one, two):
        status, stdout, stderr = _run(
            ["generate", "--seed", "7", "--params", str(params), str(out)], capsys
        )
        assert status == 0, stdout + stderr
    hashes = _hashes(one)
    assert "code/validation.json" in hashes
    assert _hashes(two) == hashes


def test_validator_crash_is_could_not_run_not_invalid(valid_dataset, tmp_path):
    dataset = _copy(valid_dataset, tmp_path)
    before = _state(dataset)
    done = _subprocess([ASLDRO, "validate", dataset], preexec_fn=_limited_address_space)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"asldro: error: {dataset}: validation could not run: ")
    assert "bids-validator-deno" in lines[0] and "failed validation" not in done.stderr
    assert "Traceback" not in done.stderr
    assert all(FINDING_LINE.match(line) for line in lines[1:]), lines
    assert "could not run" in done.stdout
    assert _state(dataset) == before


def test_generate_with_a_crashing_validator_exits_1(tmp_path):
    out = tmp_path / "out"
    params = _params(tmp_path, WITH_T1W)
    done = _subprocess(
        [ASLDRO, "generate", "--params", params, out], preexec_fn=_limited_address_space
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"asldro: error: {out}: validation could not run: " in done.stderr
    assert "failed validation" not in done.stderr


def test_run_py_with_a_crashing_validator_exits_1(tmp_path):
    out = tmp_path / "out"
    params = _params(tmp_path, WITH_T1W)
    done = _subprocess(
        [sys.executable, RUN_PY, out, "participant", "--params", params],
        preexec_fn=_limited_address_space,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"run.py: error: {out}: validation could not run: " in done.stderr
    assert "failed validation" not in done.stderr


# item 16: warnings are one line each, once, never from the defaults -----------------------------


def test_default_parameters_do_not_warn(tmp_path):
    defaults = tmp_path / "defaults.json"
    done = _subprocess([ASLDRO, "output", "params", defaults])
    assert done.returncode == 0 and done.stderr == ""
    structural = [s for s in json.loads(defaults.read_text())["image_series"]]
    assert structural[-1]["series_parameters"]["modality"] == "T1w"
    out = tmp_path / "out"
    done = _subprocess([ASLDRO, "generate", "--skip-validation", out])
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr.lower(), done.stderr
    resolved = json.loads((out / "code" / "sub-01_dro_params.json").read_text())
    kinds = {s["series_type"]: s for s in resolved["image_series"]}
    assert kinds["structural"]["series_parameters"]["modality"] == "T1w"


@pytest.mark.parametrize("front_door", ["asldro", "run.py"])
def test_worker_warnings_are_printed_once_in_one_format(front_door, tmp_path):
    params = _params(tmp_path, WITH_ANAT)
    out = tmp_path / "out"
    if front_door == "asldro":
        command = [ASLDRO, "generate", "--params", params, "--skip-validation", out]
    else:
        command = [sys.executable, RUN_PY, out, "participant", "--params", params]
        command.append("--skip-bids-validation")
    command += ["--participant-label", "01", "02", "03", "--n-procs", "3"]
    done = _subprocess(command)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "anat" in line]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{front_door}: warning: series 2 ")
    assert "modality 'anat'" in lines[0]
    assert "UserWarning" not in done.stderr
    assert not re.search(r"\.py:\d+", done.stderr)  # no source location
    assert sorted(p.name for p in out.glob("sub-*")) == ["sub-01", "sub-02", "sub-03"]
    assert all((out / f"sub-{label}" / "anat").is_dir() for label in ("01", "02", "03"))
