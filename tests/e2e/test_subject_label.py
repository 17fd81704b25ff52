"""``global_configuration.subject_label`` at both front doors (issue 11 item 7, docs/physics.md
D35): it names the participant when the command line gives none, loses its ``-`` with one
warning line, and an impossible label is exit 65 with one line; ``--participant-label`` wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asldro.cli import main as asldro_main
from bids_app.cli import main as run_main

TINY = {"series_type": "asl", "series_parameters": {"acq_matrix": [8, 8, 6]}}


def _params(tmp_path: Path, **global_configuration) -> Path:
    path = tmp_path / "params.json"
    document = {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t", **global_configuration},
        "image_series": [TINY],
    }
    path.write_text(json.dumps(document))
    return path


def _asldro(params: Path, out: Path, *extra: str) -> list[str]:
    return ["generate", "--skip-validation", "--params", str(params), str(out), *extra]


def _run_py(params: Path, out: Path, *extra: str) -> list[str]:
    return [str(out), "participant", "--skip-bids-validation", "--params", str(params), *extra]


DOORS = {"asldro generate": (asldro_main, _asldro), "run.py": (run_main, _run_py)}


def _subjects(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("sub-*"))


@pytest.mark.parametrize("door", sorted(DOORS))
def test_subject_label_names_the_participant(door, tmp_path, capsys):
    """Without --participant-label the file's subject_label is the participant; its resolved
    file keeps the label."""
    main, argv = DOORS[door]
    out = tmp_path / "out"
    assert main(argv(_params(tmp_path, subject_label="asldro01"), out)) == 0, capsys.readouterr()
    assert _subjects(out) == ["sub-asldro01"]
    resolved = json.loads((out / "code" / "sub-asldro01_dro_params.json").read_text())
    assert resolved["global_configuration"]["subject_label"] == "asldro01"


@pytest.mark.parametrize("door", sorted(DOORS))
def test_command_line_labels_win(door, tmp_path, capsys):
    """--participant-label replaces subject_label; each participant's resolved file names its
    own label, so that the file alone reproduces it."""
    main, argv = DOORS[door]
    out = tmp_path / "out"
    params = _params(tmp_path, subject_label="asldro01")
    assert main(argv(params, out, "--participant-label", "02", "sub-03")) == 0, capsys.readouterr()
    assert _subjects(out) == ["sub-02", "sub-03"]
    for label in ("02", "03"):
        resolved = json.loads((out / "code" / f"sub-{label}_dro_params.json").read_text())
        assert resolved["global_configuration"]["subject_label"] == label


@pytest.mark.parametrize("door", sorted(DOORS))
def test_without_either_the_label_is_01(door, tmp_path, capsys):
    """No subject_label, no --participant-label: sub-01 (as before)."""
    main, argv = DOORS[door]
    out = tmp_path / "out"
    assert main(argv(_params(tmp_path), out)) == 0, capsys.readouterr()
    assert _subjects(out) == ["sub-01"]
    resolved = json.loads((out / "code" / "sub-01_dro_params.json").read_text())
    assert "subject_label" not in resolved["global_configuration"]


@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_hyphen_is_removed_with_one_warning_line(door, tmp_path, capsys):
    """develop allows 'asl-01'; BIDS does not: sub-asl01, and one warning line."""
    main, argv = DOORS[door]
    out = tmp_path / "out"
    status = main(argv(_params(tmp_path, subject_label="asl-01"), out))
    err = capsys.readouterr().err
    assert status == 0, err
    assert _subjects(out) == ["sub-asl01"]
    prog = "asldro" if door == "asldro generate" else "run.py"
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == [
        f'{prog}: warning: global_configuration.subject_label: "asl-01" is not a BIDS label '
        "('-' is not allowed); using \"asl01\""
    ]


@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_label_still_invalid_is_exit_65_with_one_line(door, tmp_path, capsys):
    """Nothing but '-': exit 65, one line, no traceback, no output."""
    main, argv = DOORS[door]
    out = tmp_path / "out"
    status = main(argv(_params(tmp_path, subject_label="---"), out))
    err = capsys.readouterr().err
    assert status == 65
    prog = "asldro" if door == "asldro generate" else "run.py"
    assert err.splitlines() == [
        f'{prog}: error: global_configuration.subject_label: "---" has no letters or digits '
        "besides '-'"
    ]
    assert not out.exists()
