"""Deterministic archives (docs/physics.md D15; ASLDRO's ``generate OUT.zip|.tar.gz``)."""

# pylint: disable=redefined-outer-name,missing-function-docstring

from __future__ import annotations

import gzip
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from asldro.bids import write_archive


@pytest.fixture
def dataset(tmp_path) -> Path:
    root = tmp_path / "ds"
    (root / "sub-01" / "perf").mkdir(parents=True)
    (root / "sub-01" / "perf" / "sub-01_asl.json").write_text('{"M0Type": "Absent"}\n')
    (root / "sub-01" / "perf" / "sub-01_asl.nii.gz").write_bytes(gzip.compress(b"x" * 400))
    (root / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.10.1"}\n')
    (root / "derivatives" / "groundtruth").mkdir(parents=True)
    (root / "derivatives" / "groundtruth" / ".bidsignore").write_text("**/*_cbf.*\n")
    (root / ".asldro-tmp-123").mkdir()
    (root / ".asldro-tmp-123" / "partial.nii.gz").write_bytes(b"partial")
    (root / "code").mkdir()
    (root / "code" / ".participants.lock").write_bytes(b"")
    return root


EXPECTED = [
    "dataset_description.json",
    "derivatives/groundtruth/.bidsignore",
    "sub-01/perf/sub-01_asl.json",
    "sub-01/perf/sub-01_asl.nii.gz",
]


def test_zip_listing_and_content(dataset, tmp_path):
    target = write_archive(dataset, tmp_path / "out.zip")
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == EXPECTED
        assert archive.read("sub-01/perf/sub-01_asl.json") == b'{"M0Type": "Absent"}\n'
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_tar_gz_listing_and_content(dataset, tmp_path):
    target = write_archive(dataset, tmp_path / "out.tar.gz")
    assert target.read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip header mtime 0
    with tarfile.open(target, "r:gz") as archive:
        assert archive.getnames() == EXPECTED
        members = archive.getmembers()
        assert {m.mtime for m in members} == {members[0].mtime}
        assert {(m.uid, m.gid, m.uname) for m in members} == {(0, 0, "")}
        content = archive.extractfile("dataset_description.json").read()
    assert content == (dataset / "dataset_description.json").read_bytes()


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_archives_are_deterministic(dataset, tmp_path, suffix):
    first = write_archive(dataset, tmp_path / f"a{suffix}").read_bytes()
    for path in dataset.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = write_archive(dataset, tmp_path / f"b{suffix}").read_bytes()
    assert first == second


def test_archive_inside_the_dataset_skips_itself(dataset):
    target = write_archive(dataset, dataset / "self.zip")
    target = write_archive(dataset, dataset / "self.zip")  # second run sees the first archive
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == EXPECTED
    assert not list(dataset.glob(".asldro-tmp-*self.zip"))


def test_unknown_extension_is_rejected(dataset, tmp_path):
    with pytest.raises(ValueError, match=".zip or .tar.gz"):
        write_archive(dataset, tmp_path / "out.tar")
    assert not (tmp_path / "out.tar").exists()


def test_missing_dataset_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_archive(tmp_path / "nope", tmp_path / "out.zip")
    assert not list(tmp_path.iterdir())
