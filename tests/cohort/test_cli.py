"""Cohort refusals through ``asldro generate`` (issue 14 item 1): one line on stderr naming the
participant, tissue, quantity and value, exit 65, nothing written."""

from __future__ import annotations

import json

import pytest

from asldro.cli import main

from .conftest import cohort_document, normal

ASL = {"series_type": "asl", "series_parameters": {"acq_matrix": [8, 8, 6]}}


@pytest.mark.parametrize(
    "cohort, labels, words",
    [
        (
            {"tissues": {"grey_matter": {"transit_time": normal(0.1, 0.5)}}},
            ["01", "02", "03", "04", "05", "06"],
            ["cohort.tissues.grey_matter.transit_time", "participant", "truncnormal", "drew"],
        ),
        (
            {"tissues": {"putamen": {"t1": normal(1.3, 0.1)}}},
            ["01"],
            ["putamen", "grey_matter"],
        ),
        (
            {"groups": [{"name": "a", "participants": ["01"]}]},
            ["01", "02"],
            ['participant "02" is in no group'],
        ),
        (
            {
                "groups": [
                    {"name": "a", "participants": ["01"]},
                    {"name": "b", "participants": ["01"]},
                ]
            },
            ["01"],
            ['participant "01"', "groups[0]"],
        ),
    ],
)
def test_a_refused_cohort_is_one_line_exit_65_and_no_output(
    tmp_path, capsys, cohort, labels, words
):
    params = tmp_path / "p.json"
    params.write_text(json.dumps(cohort_document(cohort, ASL)))
    out = tmp_path / "out"
    argv = ["generate", "--skip-validation", "--params", str(params), str(out)]
    status = main([*argv, "--participant-label", *labels])
    err = capsys.readouterr().err
    assert status == 65, err
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, err
    assert not out.exists()
