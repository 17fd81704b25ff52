"""``asldro generate`` with a cohort whose participants carry asldro columns (issue 14 item
3/4): every participant's columns in participants.tsv/json, the cohort summary written by the
same function as the group level's, and the whole dataset valid with them (real validators).
The values are ``fixed`` distributions, so the table is known exactly."""

from __future__ import annotations

import json

from asldro.api import generate
from asldro.bids.dataset import COHORT_SUMMARY, foreign_files
from asldro.bids.summary import cohort_summary
from tests.bids_app.conftest import small_document

DRAWS = {"01": ("control", 62.0), "02": ("patient", 40.0), "03": ("patient", 44.0)}


def _fixed(value: float) -> dict:
    return {"grey_matter": {"perfusion_rate": {"distribution": "fixed", "value": value}}}


def test_generate_writes_the_columns_and_the_summary(tmp_path):
    document = small_document()
    document["global_configuration"]["cohort"] = {
        "tissues": _fixed(62.0),
        "groups": [
            {"name": "control", "participants": ["01"]},
            {"name": "patient", "participants": ["02"], "tissues": _fixed(40.0)},
            {"name": "patient2", "participants": ["03"], "tissues": _fixed(44.0)},
        ],
    }
    out = tmp_path / "out"
    result = generate(document, out, participant_labels=list(DRAWS), report=False)
    assert result.validation.ok, result.validation.finding_lines()
    assert (out / "participants.tsv").read_text() == (
        "participant_id\tgroup\tgrey_matter_perfusion_rate\n"
        "sub-01\tcontrol\t62.0\nsub-02\tpatient\t40.0\nsub-03\tpatient2\t44.0\n"
    )
    described = json.loads((out / "participants.json").read_text())
    assert described["grey_matter_perfusion_rate"]["Units"] == "ml/100g/min"
    summary = cohort_summary(out)
    assert summary is not None and (out / COHORT_SUMMARY).read_text() == summary.tsv()
    assert summary.groups == {"control": 1, "patient": 1, "patient2": 1}
    assert foreign_files(out) == []
