"""participants.tsv/json merged from the participants' provenance (issue 14 item 3; contract 1
of the cohort work: ``"participant": {"columns": [...]}`` in ``code/provenance/sub-<label>.json``)
and the cohort summary (``asldro.bids.summary``)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from asldro.bids import update_participants
from asldro.bids.dataset import (
    ALL_PARTICIPANTS,
    COHORT_SUMMARY,
    PARTICIPANT_COLUMNS_RECORD,
    dataset_files_written,
    foreign_files,
    provenance_path,
)
from asldro.bids.summary import cohort_summary, write_cohort_summary

GM_CBF = "grey_matter_perfusion_rate"


def _columns(group: str | None, cbf: float | None) -> list[dict]:
    """Contract 1's columns (in its order): group, then a drawn value with units."""
    return [
        {
            "name": "group",
            "value": group,
            "Description": "cohort group the participant was drawn in",
            "Levels": {"control": "healthy control", "patient": "patient"},
        },
        {
            "name": GM_CBF,
            "value": cbf,
            "Units": "mL/100g/min",
            "Description": "drawn grey-matter perfusion rate (CBF)",
        },
    ]


def _participant(root: Path, label: str, columns: list[dict] | None) -> None:
    """A subject folder and its asldro provenance (with ``columns`` when not None)."""
    (root / f"sub-{label}" / "perf").mkdir(parents=True, exist_ok=True)
    document: dict = {"participant_id": f"sub-{label}", "generated_by": "asldro 9.9", "series": []}
    if columns is not None:
        document["participant"] = {"columns": columns}
    path = root / provenance_path(label)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")


def _tsv(root: Path) -> list[list[str]]:
    return [line.split("\t") for line in (root / "participants.tsv").read_text().splitlines()]


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_no_columns_gives_the_participant_id_table_only(tmp_path):
    for label in ("02", "01"):
        _participant(tmp_path, label, None)
    assert update_participants(tmp_path, touched=ALL_PARTICIPANTS) == ["01", "02"]
    assert (tmp_path / "participants.tsv").read_text() == "participant_id\nsub-01\nsub-02\n"
    assert list(_json(tmp_path / "participants.json")) == ["participant_id"]
    assert not (tmp_path / PARTICIPANT_COLUMNS_RECORD).exists()
    assert cohort_summary(tmp_path) is None
    assert write_cohort_summary(tmp_path) is None
    assert not (tmp_path / COHORT_SUMMARY).exists()


def test_touched_participants_get_their_columns_and_descriptions(tmp_path):
    _participant(tmp_path, "01", _columns("patient", 61.234))
    _participant(tmp_path, "02", _columns("control", None))
    update_participants(tmp_path, touched=ALL_PARTICIPANTS)
    assert _tsv(tmp_path) == [
        ["participant_id", "group", GM_CBF],
        ["sub-01", "patient", "61.234"],
        ["sub-02", "control", "n/a"],
    ]
    described = _json(tmp_path / "participants.json")
    assert described[GM_CBF] == {
        "Description": "drawn grey-matter perfusion rate (CBF)",
        "Units": "mL/100g/min",
    }
    assert described["group"]["Levels"] == {"control": "healthy control", "patient": "patient"}
    assert "participant_id" in described


def test_a_job_touches_only_its_rows_and_keeps_the_others_and_the_users(tmp_path):
    _participant(tmp_path, "01", _columns("patient", 50.0))
    update_participants(tmp_path, touched=["01"])
    # the user adds columns and a description of their own
    (tmp_path / "participants.tsv").write_text(
        f"participant_id\tgroup\t{GM_CBF}\tage\nsub-01\tpatient\t50.0\t34\n"
    )
    described = _json(tmp_path / "participants.json")
    described["age"] = {"Description": "age of the imagined participant", "Units": "year"}
    described[GM_CBF]["LongName"] = "GM CBF"
    (tmp_path / "participants.json").write_text(json.dumps(described))
    # a second job writes sub-02; its provenance would say something else about sub-01
    _participant(tmp_path, "02", _columns("control", 70.5))
    _participant(tmp_path, "01", _columns("control", 1.0))
    update_participants(tmp_path, touched=["02"])
    assert _tsv(tmp_path) == [
        ["participant_id", "group", GM_CBF, "age"],
        ["sub-01", "patient", "50.0", "34"],
        ["sub-02", "control", "70.5", "n/a"],
    ]
    described = _json(tmp_path / "participants.json")
    assert described["age"] == {"Description": "age of the imagined participant", "Units": "year"}
    assert described[GM_CBF]["LongName"] == "GM CBF"
    assert described[GM_CBF]["Units"] == "mL/100g/min"


def test_an_untouched_default_call_adds_rows_without_reading_provenance(tmp_path):
    _participant(tmp_path, "01", _columns("patient", 50.0))
    update_participants(tmp_path, touched=["01"])
    _participant(tmp_path, "02", _columns("control", 70.5))
    update_participants(tmp_path)  # as the writer does: rows only
    assert _tsv(tmp_path)[2] == ["sub-02", "n/a", "n/a"]
    update_participants(tmp_path, touched=["02"])
    assert _tsv(tmp_path)[2] == ["sub-02", "control", "70.5"]


def test_a_rerun_without_a_column_clears_that_participants_cell_only(tmp_path):
    _participant(tmp_path, "01", _columns("patient", 50.0))
    _participant(tmp_path, "02", _columns("control", 70.5))
    update_participants(tmp_path, touched=ALL_PARTICIPANTS)
    _participant(tmp_path, "02", None)  # regenerated without a cohort: no drawn truth
    update_participants(tmp_path, touched=["02"])
    assert _tsv(tmp_path)[1:] == [["sub-01", "patient", "50.0"], ["sub-02", "n/a", "n/a"]]


def test_rows_follow_the_folders_present(tmp_path):
    for label in ("01", "02"):
        _participant(tmp_path, label, _columns("patient", 50.0))
    update_participants(tmp_path, touched=ALL_PARTICIPANTS)
    (tmp_path / "sub-02").rename(tmp_path / "elsewhere")
    update_participants(tmp_path)
    assert [row[0] for row in _tsv(tmp_path)] == ["participant_id", "sub-01"]


def test_the_records_and_the_summary_are_asldros_files(tmp_path):
    (tmp_path / "dataset_description.json").write_text(
        json.dumps({"Name": "x", "GeneratedBy": [{"Name": "asldro"}]})
    )
    for label, group, cbf in (("01", "patient", 40.0), ("02", "patient", 50.0)):
        _participant(tmp_path, label, _columns(group, cbf))
    update_participants(tmp_path, touched=ALL_PARTICIPANTS)
    write_cohort_summary(tmp_path)
    owned = dataset_files_written(tmp_path)
    assert {PARTICIPANT_COLUMNS_RECORD, COHORT_SUMMARY} <= owned
    assert not [p for p in foreign_files(tmp_path) if p.name != ".gitkeep"]


def test_a_users_file_where_the_summary_goes_is_left_alone(tmp_path):
    _participant(tmp_path, "01", _columns("patient", 40.0))
    update_participants(tmp_path, touched=ALL_PARTICIPANTS)
    (tmp_path / COHORT_SUMMARY).write_text("mine\n")
    assert write_cohort_summary(tmp_path) is not None
    assert (tmp_path / COHORT_SUMMARY).read_text() == "mine\n"
    assert COHORT_SUMMARY not in dataset_files_written(tmp_path)


def test_the_summary_per_group_and_numeric_column(tmp_path):
    draws = {"patient": [40.0, 45.5, 52.0], "control": [60.0, 71.25]}
    label = 0
    for group, values in draws.items():
        for value in values:
            label += 1
            _participant(tmp_path, f"{label:02d}", _columns(group, value))
    update_participants(tmp_path, touched=ALL_PARTICIPANTS)
    summary = write_cohort_summary(tmp_path)
    assert summary is not None and summary.groups == {"control": 2, "patient": 3}
    rows = [line.split("\t") for line in (tmp_path / COHORT_SUMMARY).read_text().splitlines()]
    assert rows[0] == ["group", "column", "units", "n", "mean", "sd", "min", "median", "max"]
    by_group = {row[0]: row for row in rows[1:]}
    assert set(by_group) == {"control", "patient"}  # group itself is not numeric
    for group, values in draws.items():
        row = by_group[group]
        assert row[1:4] == [GM_CBF, "mL/100g/min", str(len(values))]
        expected = [
            statistics.fmean(values),
            statistics.stdev(values),
            min(values),
            statistics.median(values),
            max(values),
        ]
        assert [float(cell) for cell in row[4:]] == [float(f"{x:.6g}") for x in expected]
    lines = summary.lines()
    assert lines[0] == "cohort: 5 participant(s) by group: control 2, patient 3"
    assert any(line.startswith(f"  patient {GM_CBF} [mL/100g/min]: n=3 mean=") for line in lines)


def test_without_a_group_column_the_one_group_is_all(tmp_path):
    for label, value in (("01", 10.0), ("02", 20.0)):
        _participant(tmp_path, label, [_columns(None, value)[1]])
    update_participants(tmp_path, touched=ALL_PARTICIPANTS)
    summary = cohort_summary(tmp_path)
    assert summary is not None and summary.groups == {"all": 2}
    (distribution,) = summary.distributions
    assert distribution.statistics()["sd"] == statistics.stdev([10.0, 20.0])
