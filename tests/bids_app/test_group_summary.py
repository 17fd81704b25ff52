"""The group level with participants that carry asldro columns (issue 14 item 4): every
participant's columns from its provenance into participants.tsv/json, the cohort summary
written (``code/cohort_summary.tsv``, asldro's file) and printed, the whole dataset valid.

The columns are written into the provenance files in exactly the shape of contract 1 (the
cohort engine writes them; here the test does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asldro.bids.dataset import COHORT_SUMMARY, foreign_files, provenance_path
from bids_app.cli import main
from tests.bids_app.conftest import full_validation

GM_CBF = "grey_matter_perfusion_rate"
DRAWS = {"01": ("control", 60.5), "02": ("patient", 41.0), "03": ("patient", 45.0)}


def add_columns(root: Path, label: str, group: str, cbf: float) -> None:
    """The provenance of ``label`` gains contract 1's ``participant`` key."""
    path = root / provenance_path(label)
    document = json.loads(path.read_text())
    document["participant"] = {
        "columns": [
            {
                "name": "group",
                "value": group,
                "Description": "cohort group the participant was drawn in",
                "Levels": {"control": "control group", "patient": "patient group"},
            },
            {
                "name": GM_CBF,
                "value": cbf,
                "Units": "mL/100g/min",
                "Description": "drawn grey-matter perfusion rate (CBF)",
            },
        ]
    }
    path.write_text(json.dumps(document))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, small_params) -> Path:
    out = tmp_path_factory.mktemp("group") / "out"
    labels = list(DRAWS)
    argv = ["participant", "--params", str(small_params), "--skip-bids-validation", "--quiet"]
    assert main([str(out), *argv, "--participant-label", *labels]) == 0
    for label, (group, cbf) in DRAWS.items():
        add_columns(out, label, group, cbf)
    return out


def test_group_merges_the_columns_writes_and_prints_the_summary(cohort, capsys):
    (cohort / "participants.tsv").write_text(
        "participant_id\tage\nsub-01\t30\nsub-02\t40\nsub-03\t50\n"
    )
    capsys.readouterr()
    assert main([str(cohort), "group"]) == 0
    out = capsys.readouterr().out
    rows = [line.split("\t") for line in (cohort / "participants.tsv").read_text().splitlines()]
    assert rows == [
        ["participant_id", "age", "group", GM_CBF],
        ["sub-01", "30", "control", "60.5"],
        ["sub-02", "40", "patient", "41.0"],
        ["sub-03", "50", "patient", "45.0"],
    ]
    described = json.loads((cohort / "participants.json").read_text())
    assert described[GM_CBF]["Units"] == "mL/100g/min"
    assert "cohort: 3 participant(s) by group: control 1, patient 2" in out
    assert f"  patient {GM_CBF} [mL/100g/min]: n=2 mean=43 sd=2.82843 " in out
    summary = (cohort / COHORT_SUMMARY).read_text().splitlines()
    assert summary[0].split("\t")[:4] == ["group", "column", "units", "n"]
    assert summary[2].split("\t") == [
        "patient",
        GM_CBF,
        "mL/100g/min",
        "2",
        "43",
        "2.82843",
        "41",
        "43",
        "45",
    ]
    assert foreign_files(cohort) == []  # the summary and the columns record are asldro's
    report = full_validation(cohort)
    assert report.ok, report.finding_lines()
