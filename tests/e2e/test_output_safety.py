"""`asldro generate` / `asldro output`: what may be replaced, and everything else is left byte
for byte (issue 9 items 2, 3, 4, 12, 13). Real folders with user files, the real command line."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from asldro.cli import main
from tests.e2e.conftest import document, small
from tests.userdata import (
    asldro_leftovers,
    bad_ground_truth_params,
    make_user_bids_dataset,
    snapshot,
)

TINY = document(small("asl", acq_matrix=[12, 12, 6]), small("ground_truth", acq_matrix=[12, 12, 6]))
# The longest file name of TINY for participant L: the CSF probseg at the asl grid (issue 13),
# sub-L_res-asl_label-CSF_desc-groundtruth_probseg.nii.gz
LONGEST_TAIL = len("sub-") + len("_res-asl_label-CSF_desc-groundtruth_probseg.nii.gz")


def _params(folder: Path, doc: dict, name: str = "params.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


def _run(argv, capsys):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def old_dataset(tmp_path, capsys) -> Path:
    """A dataset written by `asldro generate` (participants 01 and 02, validation skipped)."""
    out = tmp_path / "out"
    params = _params(tmp_path, TINY, "old.json")
    status, _, err = _run(
        [
            "generate",
            "--skip-validation",
            "--params",
            params,
            out,
            "--participant-label",
            "01",
            "02",
        ],
        capsys,
    )
    assert status == 0, err
    return out


# --------------------------------------------------------------------------------------------
# item 2: --overwrite replaces only an asldro dataset; an empty output path is a usage error


def test_overwrite_refuses_a_bids_dataset_asldro_did_not_make(tmp_path, capsys):
    study = make_user_bids_dataset(tmp_path / "study")
    before = snapshot(study)
    status, _, err = _run(["generate", "--skip-validation", "--overwrite", study], capsys)
    assert status == 73
    assert "not an asldro dataset" in _one_line(err) and str(study) in err
    assert snapshot(study) == before


def test_without_overwrite_a_user_folder_is_refused_and_untouched(tmp_path, capsys):
    study = make_user_bids_dataset(tmp_path / "study")
    before = snapshot(study)
    status, _, err = _run(["generate", "--skip-validation", study], capsys)
    assert status == 73 and "not empty" in _one_line(err)
    assert snapshot(study) == before


@pytest.mark.parametrize("output", ["", " "])
def test_empty_output_path_is_a_usage_error(output, tmp_path, capsys, monkeypatch):
    (tmp_path / "keep.txt").write_text("mine")
    (tmp_path / "sub-01").mkdir()
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    status, _, err = _run(["generate", output, "--overwrite", "--skip-validation"], capsys)
    assert status == 64 and "output" in _one_line(err)
    assert snapshot(tmp_path) == before


def test_overwrite_replaces_a_previous_asldro_dataset(old_dataset, tmp_path, capsys):
    doc = document(
        small("asl", acq_matrix=[12, 12, 6], desired_snr=7.0),
        small("ground_truth", acq_matrix=[12, 12, 6]),
    )
    params = _params(tmp_path, doc, "new.json")
    argv = ["generate", "--skip-validation", "--overwrite", "--params", params, old_dataset]
    status, _, err = _run(argv, capsys)
    assert status == 0, err
    # The new dataset alone: participant 02 of the old one is gone, the parameters are new.
    assert sorted(p.name for p in old_dataset.glob("sub-*")) == ["sub-01"]
    written = json.loads((old_dataset / "code" / "sub-01_dro_params.json").read_text())
    assert written["image_series"][0]["series_parameters"]["desired_snr"] == 7.0
    assert not (old_dataset / "code" / "sub-02_dro_params.json").exists()
    assert asldro_leftovers(old_dataset) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_overwrite_refuses_an_asldro_dataset_holding_user_files(old_dataset, capsys):
    mine = old_dataset / "derivatives" / "mypipeline" / "cbf_estimate.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("three weeks of work")
    before = snapshot(old_dataset)
    status, _, err = _run(["generate", "--skip-validation", "--overwrite", old_dataset], capsys)
    assert status == 73
    assert "derivatives/mypipeline" in _one_line(err)
    assert snapshot(old_dataset) == before


def test_overwrite_through_a_symlinked_folder_keeps_the_link(old_dataset, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(old_dataset)
    status, _, err = _run(["generate", "--skip-validation", "--overwrite", link], capsys)
    assert status == 0, err
    assert link.is_symlink() and (old_dataset / "sub-01").is_dir()
    assert not (old_dataset / "sub-02").exists()


# --------------------------------------------------------------------------------------------
# item 3: everything is checked before the old dataset is touched; it is replaced only at the end


def test_overwrite_with_a_ground_truth_that_fails_keeps_the_old_dataset(
    old_dataset, tmp_path, capsys
):
    before = snapshot(old_dataset)
    params = bad_ground_truth_params(tmp_path, "badgt.json")
    status, _, err = _run(["generate", "--overwrite", "--params", params, old_dataset], capsys)
    assert status == 65 and "gt" in _one_line(err)
    assert snapshot(old_dataset) == before


def test_bad_ground_truth_into_a_new_folder_leaves_nothing(tmp_path, capsys):
    params = bad_ground_truth_params(tmp_path, "badgt.json")
    out = tmp_path / "new" / "out"
    status, _, err = _run(["generate", "--params", params, out], capsys)
    assert status == 65 and _one_line(err)
    assert not (tmp_path / "new").exists()


def _fail_writes_with_enospc(monkeypatch, after: int = 3) -> None:
    """Make the write layer report a full disk (ENOSPC, no file name: as write(2) does) after
    ``after`` files were written."""
    import errno

    from asldro.bids import atomic

    real = atomic.write_file
    count = {"n": 0}

    def full_disk(path, content):
        count["n"] += 1
        if count["n"] > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, content)

    monkeypatch.setattr(atomic, "write_file", full_disk)


def test_disk_full_while_replacing_keeps_the_old_dataset(
    old_dataset, tmp_path, monkeypatch, capsys
):
    before = snapshot(old_dataset)
    params = _params(tmp_path, TINY)
    _fail_writes_with_enospc(monkeypatch)
    argv = ["generate", "--skip-validation", "--overwrite", "--params", params, old_dataset]
    status, _, err = _run(argv, capsys)
    assert status == 74
    assert "No space left on device" in _one_line(err) and str(old_dataset) in err
    assert ".asldro-tmp" not in err  # the path named is where the file was going
    assert snapshot(old_dataset) == before


def test_disk_full_into_a_new_folder_leaves_nothing(tmp_path, monkeypatch, capsys):
    params = _params(tmp_path, TINY)
    _fail_writes_with_enospc(monkeypatch)
    out = tmp_path / "out"
    status, _, err = _run(["generate", "--skip-validation", "--params", params, out], capsys)
    assert status == 74 and "No space left on device" in _one_line(err) and str(out) in err
    assert not out.exists()


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str):
    """A tmpfs of ``size`` mounted on ``folder`` (root only); skips when it cannot be mounted."""
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); ENOSPC is covered by injection")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_really_full_file_system_exits_74_and_leaves_it_empty(tmp_path, capsys):
    """On a 64 KiB tmpfs the dataset cannot fit: exit 74 naming the path, and the file system is
    as empty as before (complements the injected ENOSPC tests)."""
    doc = document(small("asl"), small("ground_truth"), small("structural", modality="T1w"))
    params = _params(tmp_path, doc)
    with small_tmpfs(tmp_path / "disk", "64k") as disk:
        out = disk / "out"
        status, _, err = _run(["generate", "--skip-validation", "--params", params, out], capsys)
        assert status == 74, err
        assert "No space left on device" in _one_line(err) and str(out) in err
        assert list(disk.iterdir()) == []


# --------------------------------------------------------------------------------------------
# item 4: `asldro output params|hrgt` never overwrite without --overwrite; through symlinks


def test_output_params_refuses_an_existing_file(tmp_path, capsys):
    target = tmp_path / "params.json"
    target.write_text("my edited parameters")
    status, _, err = _run(["output", "params", target], capsys)
    assert status == 73 and "--overwrite" in _one_line(err) and str(target) in err
    assert target.read_text() == "my edited parameters"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json"]


def test_output_params_overwrite_writes_through_a_symlink(tmp_path, capsys):
    real = tmp_path / "shared" / "defaults.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "defaults.json"
    link.symlink_to(real)
    status, _, err = _run(["output", "params", link, "--overwrite"], capsys)
    assert status == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["image_series"]
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["defaults.json"]


def test_output_params_refuses_an_existing_file_behind_a_symlink(tmp_path, capsys):
    real = tmp_path / "real.json"
    real.write_text("keep")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    status, _, err = _run(["output", "params", link], capsys)
    assert status == 73 and _one_line(err)
    assert real.read_text() == "keep" and link.is_symlink()


def test_output_params_through_a_dangling_symlink_creates_its_target(tmp_path, capsys):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made.json")
    status, _, err = _run(["output", "params", link], capsys)
    assert status == 0, err
    assert link.is_symlink() and json.loads((tmp_path / "made.json").read_text())


def test_output_hrgt_refuses_existing_files(tmp_path, capsys):
    name = "hrgt_icbm_2009a_nls_3t"
    (tmp_path / f"{name}.json").write_text("mine")
    before = snapshot(tmp_path)
    status, _, err = _run(["output", "hrgt", name, tmp_path], capsys)
    assert status == 73 and f"{name}.json" in _one_line(err) and "--overwrite" in err
    assert snapshot(tmp_path) == before


def test_output_hrgt_overwrite_replaces_both_files(tmp_path, capsys):
    name = "hrgt_icbm_2009a_nls_3t"
    (tmp_path / f"{name}.json").write_text("old")
    (tmp_path / f"{name}.nii.gz").write_text("old")
    status, _, err = _run(["output", "hrgt", name, tmp_path, "--overwrite"], capsys)
    assert status == 0, err
    assert json.loads((tmp_path / f"{name}.json").read_text())["quantities"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.json", f"{name}.nii.gz"]


# --------------------------------------------------------------------------------------------
# item 13: file names too long for the file system, --n-procs rule and message


def test_a_label_too_long_for_the_file_system_is_refused_up_front(tmp_path, capsys):
    out = tmp_path / "out"
    params = _params(tmp_path, TINY)
    label = "a" * 300
    status, _, err = _run(
        ["generate", "--params", params, out, "--participant-label", label], capsys
    )
    assert status == 64
    assert "255" in _one_line(err) and "file name" in err
    assert not out.exists()


def test_the_longest_label_the_file_system_allows_works_and_one_more_is_refused(tmp_path, capsys):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    longest = "b" * (name_max - LONGEST_TAIL)
    params = _params(tmp_path, TINY)
    out = tmp_path / "out"
    argv = ["generate", "--skip-validation", "--params", params, out, "--participant-label"]
    status, _, err = _run(argv + [longest + "b"], capsys)
    assert status == 64 and _one_line(err)
    assert not out.exists()
    status, _, err = _run(argv + [longest], capsys)
    assert status == 0, err
    assert max(len(p.name) for p in out.rglob("*")) == name_max


@pytest.mark.parametrize("value", ["-1", "0"])
def test_n_procs_message_states_the_rule_it_applies(value, tmp_path, capsys):
    status, _, err = _run(["generate", tmp_path / "out", "--n-procs", value], capsys)
    assert status == 64 and ">= 1" in _one_line(err) and ">= 0" not in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# item 12: the resolved parameters per participant; --seed recorded so the file reproduces


def test_params_file_per_participant_reproduces_it(tmp_path, capsys):
    params = _params(tmp_path, TINY)
    first, second = tmp_path / "first", tmp_path / "second"
    status, _, err = _run(
        ["generate", "--skip-validation", "--params", params, first, "--seed", "7"], capsys
    )
    assert status == 0, err
    recorded = first / "code" / "sub-01_dro_params.json"
    assert not (first / "code" / "dro_params.json").exists()
    status, _, err = _run(["generate", "--skip-validation", "--params", recorded, second], capsys)
    assert status == 0, err
    asl = Path("sub-01") / "perf" / "sub-01_asl.nii.gz"
    assert (first / asl).read_bytes() == (second / asl).read_bytes()
    sidecar = "derivatives/groundtruth/sub-01/perf/sub-01_desc-groundtruth_cbf.json"
    assert json.loads((first / sidecar).read_text())["Sources"] == [
        "bids:raw:code/sub-01_dro_params.json"
    ]


def test_overwrite_replaces_only_an_asldro_archive(tmp_path, capsys):
    params = _params(tmp_path, TINY)
    foreign = tmp_path / "backup.tar.gz"
    foreign.write_bytes(b"\x1f\x8b not asldro's")
    status, _, err = _run(
        ["generate", "--skip-validation", "--overwrite", "--params", params, foreign], capsys
    )
    assert status == 73 and "not an asldro archive" in _one_line(err)
    assert foreign.read_bytes() == b"\x1f\x8b not asldro's"
    real = tmp_path / "keep" / "dro.zip"
    real.parent.mkdir()
    link = tmp_path / "dro.zip"
    link.symlink_to(real)
    argv = ["generate", "--skip-validation", "--params", params, link]
    assert _run(argv, capsys)[0] == 0
    first = real.read_bytes()
    status, _, err = _run(argv, capsys)
    assert status == 73 and "--overwrite" in _one_line(err)
    assert _run(argv + ["--overwrite", "--seed", "5"], capsys)[0] == 0
    assert link.is_symlink() and real.read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert sorted(p.name for p in real.parent.iterdir()) == ["dro.zip"]


def test_planned_file_names_are_the_files_written(tmp_path):
    """The up-front name check sees exactly the files the writer then writes (separate m0scan,
    two ground truths, complex structural)."""
    from asldro.api import as_params, generate_participant, load_params_ground_truth
    from asldro.bids.writer import planned_files
    from asldro.output import m0_pairs

    doc = document(
        small("asl", acq_matrix=[8, 8, 4], asl_context="m0scan m0scan"),
        small("asl", acq_matrix=[8, 8, 4], asl_context="control label"),
        small("ground_truth", acq_matrix=[8, 8, 4]),
        small("ground_truth", acq_matrix=[8, 8, 4]),
        small("structural", acq_matrix=[8, 8, 4], modality="T1w", output_image_type="complex"),
    )
    params = as_params(doc)
    ground_truth = load_params_ground_truth(params)
    planned = planned_files("7", params, ground_truth, m0_pairs(params))
    written = generate_participant(params, tmp_path, "7", ground_truth=ground_truth)
    assert sorted(planned) == sorted(p.relative_to(tmp_path).as_posix() for p in written)
