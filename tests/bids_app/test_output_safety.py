"""run.py never touches a folder asldro did not make, adds participants to its own datasets
without touching anything else, keeps parameters per participant, and says what is missing
when run outside its environment (issue 9 items 1, 12, 13, 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bids_app.cli import main
from tests.bids_app.conftest import ROOT, full_validation, participants, small_document
from tests.userdata import asldro_leftovers, make_user_bids_dataset, snapshot


def _one_line(err: str) -> str:
    assert err.startswith("run.py: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def _params(folder: Path, name: str, **asl_parameters) -> Path:
    doc = small_document()
    doc["image_series"][0]["series_parameters"].update(asl_parameters)
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


# --------------------------------------------------------------------------------------------
# item 1: a folder asldro did not make is refused; an asldro dataset only gains participants


@pytest.mark.parametrize("level", ["participant", "group"])
def test_a_bids_dataset_asldro_did_not_make_is_refused(level, tmp_path, tiny_params, capsys):
    """`run.py DIR participant` with OUTPUT_DIR forgotten: DIR is the user's own dataset."""
    study = make_user_bids_dataset(tmp_path / "study")
    before = snapshot(study)
    argv = [str(study), level] + (["--params", str(tiny_params)] if level == "participant" else [])
    assert main(argv) == 73
    err = _one_line(capsys.readouterr().err)
    assert str(study) in err and "not an asldro dataset" in err
    assert snapshot(study) == before


def test_a_folder_with_any_user_file_is_refused(tmp_path, tiny_params, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "todo.txt").write_text("buy milk")
    before = snapshot(out)
    assert main([str(out), "participant", "--params", str(tiny_params)]) == 73
    _one_line(capsys.readouterr().err)
    assert snapshot(out) == before


@pytest.fixture
def asldro_dataset(tmp_path, tiny_params) -> Path:
    out = tmp_path / "dro"
    argv = [str(out), "participant", "--params", str(tiny_params), "--skip-bids-validation"]
    assert main(argv + ["--participant-label", "01"]) == 0
    return out


def test_adding_a_participant_touches_no_other_file(asldro_dataset, tiny_params, capsys):
    out = asldro_dataset
    # The user's additions to an asldro dataset: a column, their own README text, a pipeline's
    # derivative dataset.
    (out / "participants.tsv").write_text("participant_id\tage\nsub-01\t41\n")
    (out / "participants.json").write_text(
        json.dumps(
            {
                "participant_id": {"Description": "Unique participant identifier"},
                "age": {"Description": "age", "Units": "year"},
            }
        )
    )
    (out / "README.md").write_text("# My DRO study\n\nSimulated with asldro for our pipeline.\n")
    pipeline = out / "derivatives" / "mypipeline"
    pipeline.mkdir()
    (pipeline / "result.txt").write_text("cbf 52.1")
    keep = {
        rel: content
        for rel, content in snapshot(out).items()
        if not rel.startswith(
            ("sub-02", "derivatives/groundtruth/sub-02", "code/sub-02", "code/provenance/sub-02")
        )
        # the report derivative is asldro's own and lists each participant's page
        and rel != "derivatives/asldro-report/code/provenance/files.json"
        and rel not in ("participants.tsv", ".asldro.lock")
        and not rel.endswith("validation.json")
    }
    argv = [str(out), "participant", "--participant-label", "02", "--params", str(tiny_params)]
    assert main(argv + ["--skip-bids-validation"]) == 0
    capsys.readouterr()
    after = snapshot(out)
    assert {rel: after.get(rel) for rel in keep} == keep
    assert (
        out / "participants.tsv"
    ).read_text() == "participant_id\tage\nsub-01\t41\nsub-02\tn/a\n"
    assert participants(out) == ["sub-01", "sub-02"]
    assert asldro_leftovers(out) == []


def test_a_subject_holding_user_files_is_not_replaced(asldro_dataset, tiny_params, capsys):
    out = asldro_dataset
    (out / "sub-01" / "notes.txt").write_text("motion in run 2")
    before = snapshot(out)
    assert (
        main([str(out), "participant", "--participant-label", "01", "--params", str(tiny_params)])
        == 73
    )
    err = _one_line(capsys.readouterr().err)
    assert "sub-01" in err and "notes.txt" in err
    assert snapshot(out) == before


def test_replacing_a_participant_of_an_asldro_dataset_works(asldro_dataset, tmp_path, capsys):
    out = asldro_dataset
    params = _params(tmp_path, "snr7.json", desired_snr=7.0)
    argv = [str(out), "participant", "--participant-label", "01", "--params", str(params)]
    assert main(argv + ["--skip-bids-validation"]) == 0
    capsys.readouterr()
    written = json.loads((out / "code" / "sub-01_dro_params.json").read_text())
    assert written["image_series"][0]["series_parameters"]["desired_snr"] == 7.0


# --------------------------------------------------------------------------------------------
# item 12: each participant keeps its own resolved parameters, and its sidecars point to them


def test_participants_made_with_different_parameters_keep_their_own(tmp_path, capsys):
    out = tmp_path / "out"
    params = {"01": _params(tmp_path, "a.json", desired_snr=10.0)}
    params["02"] = _params(tmp_path, "b.json", desired_snr=20.0)
    for label, path in params.items():
        argv = [str(out), "participant", "--participant-label", label, "--params", str(path)]
        assert main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()
    for label, snr in (("01", 10.0), ("02", 20.0)):
        recorded = out / "code" / f"sub-{label}_dro_params.json"
        doc = json.loads(recorded.read_text())
        assert doc["image_series"][0]["series_parameters"]["desired_snr"] == snr
        provenance = json.loads((out / "code" / "provenance" / f"sub-{label}.json").read_text())
        assert provenance["parameters"] == f"code/sub-{label}_dro_params.json"
        gt = out / "derivatives" / "groundtruth" / f"sub-{label}"
        sidecars = sorted(gt.rglob("*.json"))
        assert sidecars
        for sidecar in sidecars:
            sources = json.loads(sidecar.read_text())["Sources"]
            assert sources == [f"bids:raw:code/sub-{label}_dro_params.json"], sidecar
    assert not (out / "code" / "dro_params.json").exists()
    report = full_validation(out)
    assert report.ok, report.summary_lines()
    from bids import BIDSLayout

    layout = BIDSLayout(str(out), derivatives=True)
    assert sorted(layout.get_subjects()) == ["01", "02"]


# --------------------------------------------------------------------------------------------
# item 13: label length checked up front; --n-procs message and rule agree


def test_a_label_too_long_for_the_file_system_exits_64_before_writing(
    tmp_path, tiny_params, capsys
):
    out = tmp_path / "out"
    argv = [str(out), "participant", "--participant-label", "c" * 300, "--params", str(tiny_params)]
    assert main(argv) == 64
    err = _one_line(capsys.readouterr().err)
    assert "file name" in err and str(os.pathconf(tmp_path, "PC_NAME_MAX")) in err
    assert not out.exists()


@pytest.mark.parametrize("value", ["-1", "0"])
def test_n_procs_message_states_the_rule_it_applies(value, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["out", "participant", "--n-procs", value]) == 64
    err = _one_line(capsys.readouterr().err)
    assert ">= 1" in err and ">= 0" not in err
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------
# item 15: run outside its environment, one line naming the missing module and what to do


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_without_site_packages_version_works_and_a_run_names_the_missing_module(tmp_path):
    """``python -S run.py``: this Python sees only the standard library (like a system Python
    without the project's dependencies)."""
    out = tmp_path / "out"
    version = subprocess.run(
        [sys.executable, "-S", str(ROOT / "run.py"), "--version"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert version.returncode == 0, version.stderr
    done = subprocess.run(
        [sys.executable, "-S", str(ROOT / "run.py"), str(out), "participant"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 69, done.stderr
    err = _one_line(done.stderr)
    assert "No module named" not in err  # not Python's wording alone: what to do
    assert any(f"'{module}'" in err for module in ("numpy", "scipy", "jsonschema", "nibabel"))
    assert ".venv/bin/python run.py" in err and "pip install" in err
    assert not out.exists()


def test_a_missing_nibabel_is_named(tmp_path):
    out = tmp_path / "out"
    code = (
        "import runpy, sys; sys.modules['nibabel'] = None; "
        f"sys.argv = ['run.py', {str(out)!r}, 'participant']; "
        f"runpy.run_path({str(ROOT / 'run.py')!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 69, done.stderr
    assert "'nibabel'" in _one_line(done.stderr)
    assert not out.exists()
