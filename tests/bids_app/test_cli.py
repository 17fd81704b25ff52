"""run.py's command line: argument forms, aliases, label checks, exit codes (docs/bids.md §11).

These tests call ``main(argv)`` in-process and stop before generation (or never reach it), so
they do not need the engine's slow paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bids_app.cli import build_parser, clean_labels, main
from bids_app.levels import AppError, ExitCode
from tests.userdata import bad_ground_truth_params

ROOT = Path(__file__).resolve().parents[2]
VERSION = (ROOT / "version").read_text().strip()


def parse(argv: list[str]):
    return build_parser().parse_intermixed_args(argv)


# --------------------------------------------------------------------------------------------
# Parser: every argument form and alias


def test_two_positionals_is_the_primary_form():
    args = parse(["out", "participant"])
    assert args.bids_dir is None
    assert args.output_dir == "out"
    assert args.analysis_level == "participant"
    assert args.participant_label is None
    assert args.seed is None and args.params is None
    assert args.n_procs == 1 and args.skip_validation is False


def test_three_positionals_accept_a_bids_dir_placeholder():
    args = parse(["/dev/null", "out", "group"])
    assert (args.bids_dir, args.output_dir, args.analysis_level) == ("/dev/null", "out", "group")


@pytest.mark.parametrize("flag", ["--participant-label", "--participant_label"])
def test_participant_label_both_spellings(flag):
    args = parse(["out", "participant", flag, "01", "sub-02"])
    assert args.participant_label == ["01", "sub-02"]


@pytest.mark.parametrize(
    "flag", ["--skip-bids-validation", "--skip_bids_validator", "--skip-bids-validator"]
)
def test_skip_validation_spellings(flag):
    assert parse(["out", "participant", flag]).skip_validation is True


def test_options_may_come_between_and_before_positionals():
    args = parse(["--seed", "3", "bids", "out", "--n-procs", "2", "participant", "--params", "p"])
    assert (args.bids_dir, args.output_dir, args.analysis_level) == ("bids", "out", "participant")
    assert (args.seed, args.n_procs, args.params) == (3, 2, "p")


def test_n_procs_alias_and_debug():
    args = parse(["out", "participant", "--n_procs", "4", "--debug"])
    assert args.n_procs == 4 and args.debug is True


def test_labels_strip_one_sub_prefix_and_deduplicate():
    assert clean_labels(["sub-01", "02", "01", "sub-A+b"]) == ("01", "02", "A+b")
    assert clean_labels(None) == ()


@pytest.mark.parametrize("label", ["../x", "a_b", "a-b", "", "sub-", "sub-sub-01", "01/02", " 01"])
def test_bad_labels_are_usage_errors(label):
    with pytest.raises(AppError) as caught:
        clean_labels([label])
    assert caught.value.status == ExitCode.USAGE


# --------------------------------------------------------------------------------------------
# main(argv): exit statuses before any generation


def test_version_alone_prints_the_version_file(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == VERSION
    assert main(["-v"]) == 0
    assert capsys.readouterr().out.strip() == VERSION


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--participant-label" in out and "BIDS_DIR" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["out"],
        ["a", "b", "c", "d"],
        ["out", "participant", "--seed", "-1"],
        ["out", "participant", "--seed", "x"],
        ["out", "participant", "--n-procs", "0"],
        ["out", "participant", "--participant-label"],
        ["out", "participant", "--no-such-option"],
    ],
)
def test_usage_errors_exit_64_with_one_line(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 64
    err = capsys.readouterr().err
    assert err.startswith("run.py: error: ") and err.count("\n") == 1, err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("label", ["../x", "sub-../../etc", "a_b"])
def test_bad_label_exits_64_and_writes_nothing(label, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(out), "participant", "--participant-label", "01", label]) == 64
    err = capsys.readouterr().err
    assert err.startswith("run.py: error: participant label") and err.count("\n") == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_unknown_analysis_level_exits_17(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(out), "session"]) == 17
    err = capsys.readouterr().err
    assert "unknown analysis level 'session'" in err and err.count("\n") == 1
    assert not out.exists()


def test_missing_params_file_exits_65_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(out), "participant", "--params", str(tmp_path / "nope.json")]) == 65
    err = capsys.readouterr().err
    assert err.startswith("run.py: error: ") and "nope.json" in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"global_configuration": {"ground_truth": "no_such_gt"}, "image_series": []}),
        json.dumps(
            {
                "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
                "image_series": [
                    {
                        "series_type": "asl",
                        "series_parameters": {"echo_time": [0.01, 0.01], "acq_matrix": [8, 8]},
                    }
                ],
            }
        ),
    ],
)
def test_bad_params_file_exits_65_with_one_line(content, tmp_path, capsys):
    params = tmp_path / "params.json"
    params.write_text(content)
    out = tmp_path / "out"
    assert main([str(out), "participant", "--params", str(params)]) == 65
    err = capsys.readouterr().err
    assert err.startswith("run.py: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not out.exists()


def test_debug_adds_the_traceback(tmp_path, capsys):
    params = tmp_path / "params.json"
    params.write_text("{not json")
    assert main([str(tmp_path / "out"), "participant", "--params", str(params), "--debug"]) == 65
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith("run.py: error: ")


def test_output_below_a_regular_file_exits_73(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main([str(blocker / "out"), "participant"]) == 73
    err = capsys.readouterr().err
    assert err.startswith("run.py: error: ") and str(blocker) in err and err.count("\n") == 1
    assert blocker.read_text() == "not a folder"


def test_output_that_is_a_file_exits_73(tmp_path, capsys):
    target = tmp_path / "out"
    target.write_text("x")
    assert main([str(target), "participant"]) == 73
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_output_exits_73(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main([str(out), "participant"]) == 73
    finally:
        out.chmod(0o700)
    assert "cannot write here" in capsys.readouterr().err


def test_group_without_output_folder_is_a_clear_error(tmp_path, capsys):
    assert main([str(tmp_path / "missing"), "group"]) == 66
    err = capsys.readouterr().err
    assert "no such folder" in err and err.count("\n") == 1
    assert not (tmp_path / "missing").exists()


def test_group_without_participants_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    assert main([str(tmp_path / "out"), "group"]) == 66
    err = capsys.readouterr().err
    assert "no participants" in err and err.count("\n") == 1
    assert list((tmp_path / "out").iterdir()) == []


def test_unexpected_exception_exits_1_with_one_line(tmp_path, capsys, monkeypatch):
    """A failure of none of the known kinds (injected into this package's own group step, not
    into the engine) gives exit 1, the exception type and one line."""
    import bids_app.levels as levels

    def broken(*_args, **_kwargs):
        raise RuntimeError("something\nunexpected")

    out = tmp_path / "out"
    (out / "sub-01").mkdir(parents=True)
    (out / "dataset_description.json").write_text('{"GeneratedBy": [{"Name": "asldro"}]}')
    monkeypatch.setattr(levels, "finalise_dataset", broken)
    assert main([str(out), "group"]) == 1
    err = capsys.readouterr().err
    assert err == "run.py: error: RuntimeError: something unexpected\n"


def test_version_does_not_import_the_numeric_stack():
    code = (
        "import sys; from bids_app.cli import main; rc = main(['--version']);"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'scipy', 'nibabel', 'nilearn', 'bids', 'jsonschema')];"
        "print(heavy); sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [VERSION, "[]"]


def test_run_py_is_an_executable_script():
    script = ROOT / "run.py"
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/usr/bin/env python3\n")


@pytest.mark.parametrize(
    "argv, status",
    [
        (["--version"], 0),
        (["out", "participant", "--participant-label", "../x"], 64),
        (["out", "level"], 17),
    ],
)
def test_run_py_subprocess_exit_statuses(argv, status, tmp_path):
    """``./run.py`` itself (its shebang finds the venv's python3 first on PATH)."""
    env = {k: v for k, v in os.environ.items() if k != "HOME"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [str(ROOT / "run.py"), *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == status, done.stderr
    if status == 0:
        assert done.stdout.strip() == VERSION
    else:
        assert done.stderr.startswith("run.py: error: ") and done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr
    assert not any(tmp_path.iterdir())


def test_bad_ground_truth_exits_65_and_removes_the_output_it_created(tmp_path, capsys):
    """A ground truth that fails only when loaded (GroundTruthError, after the output folder was
    made) still gives one line, exit 65, and no output folder."""
    params = bad_ground_truth_params(tmp_path)
    out = tmp_path / "out"
    assert main([str(out), "participant", "--params", str(params)]) == 65
    err = capsys.readouterr().err
    assert err.startswith("run.py: error: ") and "gt.json" in err and err.count("\n") == 1
    assert not out.exists()
