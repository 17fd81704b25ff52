"""``asldro generate`` with participants that carry asldro columns (issue 14 item 3/4): every
participant's columns in participants.tsv/json, the cohort summary written by the same function
as the group level's, and the whole dataset valid with them (real validators).

The cohort engine writes the columns into each participant's provenance; here a stand-in adds
contract 1's top-level ``"participant"`` key to each provenance file as it is written (the
validators are not touched)."""

from __future__ import annotations

import json

from pathlib import Path

import asldro.bids
from asldro.api import generate
from asldro.bids.dataset import COHORT_SUMMARY, foreign_files, provenance_path
from asldro.bids.summary import cohort_summary
from tests.bids_app.conftest import small_document

DRAWS = {"01": ("control", 62.0), "02": ("patient", 40.0), "03": ("patient", 44.0)}


def test_generate_writes_the_columns_and_the_summary(tmp_path, monkeypatch):
    real = asldro.bids.write_participant

    def with_columns(output_dir, label, *args, **kwargs):
        written = real(output_dir, label, *args, **kwargs)
        path = Path(output_dir) / provenance_path(label)
        document = json.loads(path.read_text())
        group, cbf = DRAWS[label]
        document["participant"] = {
            "columns": [
                {"name": "group", "value": group, "Description": "cohort group"},
                {
                    "name": "grey_matter_perfusion_rate",
                    "value": cbf,
                    "Units": "mL/100g/min",
                    "Description": "drawn grey-matter CBF",
                },
            ]
        }
        path.write_text(json.dumps(document))
        return written

    monkeypatch.setattr(asldro.bids, "write_participant", with_columns)
    out = tmp_path / "out"
    result = generate(small_document(), out, participant_labels=list(DRAWS), report=False)
    assert result.validation.ok, result.validation.finding_lines()
    assert (out / "participants.tsv").read_text() == (
        "participant_id\tgroup\tgrey_matter_perfusion_rate\n"
        "sub-01\tcontrol\t62.0\nsub-02\tpatient\t40.0\nsub-03\tpatient\t44.0\n"
    )
    described = json.loads((out / "participants.json").read_text())
    assert described["grey_matter_perfusion_rate"]["Units"] == "mL/100g/min"
    summary = cohort_summary(out)
    assert summary is not None and (out / COHORT_SUMMARY).read_text() == summary.tsv()
    assert summary.groups == {"control": 1, "patient": 2}
    assert foreign_files(out) == []
