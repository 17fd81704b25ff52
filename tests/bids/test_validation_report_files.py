"""Validation reports never replace a user's file: a user's derivative inside an asldro
dataset is validated, and its own ``code/validation.json`` (not an asldro report) is kept."""

from __future__ import annotations

import json

from asldro.api import generate
from asldro.bids.validate import REPORT_PATH, validate_dataset
from tests.bids_app.conftest import small_document


def _user_derivative(root, name: str) -> None:
    folder = root / "derivatives" / name
    folder.mkdir(parents=True)
    description = {"Name": name, "BIDSVersion": "1.10.0", "DatasetType": "derivative"}
    (folder / "dataset_description.json").write_text(json.dumps(description))


def test_a_users_file_where_a_derivative_report_would_go_is_kept(tmp_path):
    out = tmp_path / "out"
    generate(small_document(structural=False), out, validate=False, report=False)
    _user_derivative(out, "mine")
    (out / "derivatives" / "mine" / "code").mkdir()
    users = out / "derivatives" / "mine" / REPORT_PATH
    users.write_text("my notes, not an asldro report\n")

    report = validate_dataset(out, write_report=True)

    assert "mine" in {dataset.root.name for dataset in report.datasets}
    assert users.read_text() == "my notes, not an asldro report\n"
    assert (out / REPORT_PATH).is_file()  # asldro's datasets still get theirs
    assert (out / "derivatives" / "groundtruth" / REPORT_PATH).is_file()
