"""What a participant job validates (issue 14 item 4): its own subject(s) and the dataset-level
files, through a view of the dataset (``asldro.bids.view``), so that the job's work does not
grow with the participants already in the folder; the group level validates everything."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import asldro.bids.validate as validate_module
from asldro.bids.dataset import foreign_files, participant_validation_path
from asldro.bids.view import participant_view
from bids_app.cli import main

GT = Path("derivatives") / "groundtruth"


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def one(tmp_path_factory, small_params) -> Path:
    """A dataset with sub-01 (written and validated by the participant level)."""
    out = tmp_path_factory.mktemp("scope") / "out"
    assert main([str(out), "participant", "--params", str(small_params)]) == 0
    return out


def _clone_participant(root: Path, label: str, new: str) -> None:
    """sub-<new>: the files of sub-<label> under new names (a sibling the job must not read)."""
    for base in (root, *sorted((root / "derivatives").iterdir())):
        for path in sorted((base / f"sub-{label}").rglob("*")):
            if path.is_file():
                target = base / path.relative_to(base).as_posix().replace(
                    f"sub-{label}", f"sub-{new}"
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def test_the_view_holds_the_job_and_the_dataset_level_files(one, tmp_path):
    view = participant_view(one, ["01"], tmp_path / "view")
    files = _files(view)
    assert {"dataset_description.json", "participants.tsv", "participants.json"} <= files
    assert f"{GT.as_posix()}/dataset_description.json" in files
    assert any(name.startswith("sub-01/perf/") for name in files)
    assert any(name.startswith(f"{GT.as_posix()}/sub-01/") for name in files)
    assert not any(name.startswith("code/") or "/code/" in name for name in files)
    # hard links: the same inodes as the dataset's files
    image = next(p for p in (view / "sub-01" / "perf").iterdir() if p.name.endswith(".nii.gz"))
    assert image.stat().st_ino == (one / "sub-01" / "perf" / image.name).stat().st_ino


def test_a_view_in_a_30_participant_folder_holds_only_its_participant(one, tmp_path):
    big = tmp_path / "big"
    shutil.copytree(one, big)
    for number in range(2, 31):
        _clone_participant(big, "01", f"{number:02d}")
    (big / "participants.tsv").write_text(
        "participant_id\n" + "".join(f"sub-{n:02d}\n" for n in range(1, 31))
    )
    small_view = _files(participant_view(one, ["01"], tmp_path / "small-view"))
    big_view = participant_view(big, ["17"], tmp_path / "big-view")
    expected = {name.replace("sub-01", "sub-17") for name in small_view}
    assert _files(big_view) == expected
    assert (big_view / "participants.tsv").read_text() == "participant_id\nsub-17\n"


def test_a_job_in_a_30_participant_folder_validates_only_its_own(
    one, tmp_path, small_params, monkeypatch
):
    """End to end: the folder the job hands to the (real) validators holds its participant and
    the dataset-level files only, as many files as in a folder of one participant."""
    big = tmp_path / "big"
    shutil.copytree(one, big)
    for number in range(2, 30):
        _clone_participant(big, "01", f"{number:02d}")
    seen: list[set[str]] = []
    real = validate_module.validate_dataset

    def recording(folder, **kwargs):
        seen.append(_files(Path(folder)))
        return real(folder, **kwargs)

    monkeypatch.setattr(validate_module, "validate_dataset", recording)
    argv = ["participant", "--params", str(small_params), "--participant-label", "30"]
    assert main([str(big), *argv]) == 0
    assert main([str(tmp_path / "alone"), *argv]) == 0
    in_big, alone = seen
    assert in_big == alone
    assert not [name for name in in_big if "sub-" in name and "sub-30" not in name]


def test_the_jobs_report_is_asldros_file(one, tmp_path, small_params):
    """``code/sub-<label>_validation.json`` counts as asldro's (--overwrite and the foreign-file
    checks), and a file of the user's at that place stops the job before anything is written."""
    out = tmp_path / "out"
    shutil.copytree(one, out)
    assert (out / participant_validation_path("01")).is_file()
    assert foreign_files(out) == []
    (out / participant_validation_path("02")).write_text("my notes\n")
    argv = ["participant", "--params", str(small_params), "--participant-label", "02"]
    assert main([str(out), *argv]) == 73
    assert not (out / "sub-02").exists()
    assert (out / participant_validation_path("02")).read_text() == "my notes\n"
