"""Own check NON_FINITE_VALUES (issue 9 item 5): a dataset whose images hold NaN or Inf fails.

Broken variants of the hand-made valid dataset (tests/bids/fixtures_validate.py); only the own
layer runs, so these tests are fast.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro.bids.checks import check_non_finite_values
from asldro.bids.validate import validate_dataset
from tests.bids.fixtures_validate import (  # pylint: disable=unused-import
    asl_paths,
    fixture_dataset,
    fixture_valid_dataset_template,
)

GT = "derivatives/groundtruth"


def _poison(path: Path, index: tuple, value: float) -> None:
    """Rewrite an image with one voxel replaced, keeping its header."""
    image = nib.load(path)
    data = np.asanyarray(image.dataobj).copy()
    data[index] = value
    nib.save(nib.Nifti1Image(data, image.affine, image.header), path)


def _own(root: Path) -> list:
    report = validate_dataset(root, layers=("own",), write_report=False)
    return [f for f in report.findings if f.code == "NON_FINITE_VALUES"]


def test_valid_dataset_has_no_non_finite_finding(dataset: Path) -> None:
    """The finite hand-made dataset is not flagged."""
    assert not check_non_finite_values(dataset)
    assert not _own(dataset)


def test_nan_in_one_asl_volume_fails_naming_file_count_and_volume(dataset: Path) -> None:
    """Two NaN voxels in volume 3 of the ASL series: one error naming the file and the volume."""
    asl = asl_paths(dataset)["asl"]
    _poison(asl, (1, 2, 3, 3), np.nan)
    _poison(asl, (4, 4, 4, 3), np.nan)
    (finding,) = _own(dataset)
    assert finding.severity == "error"
    assert finding.file == "sub-01/perf/sub-01_asl.nii.gz"
    assert finding.dataset == "raw"
    assert "2 non-finite values" in finding.message and "volume 3" in finding.message


def test_inf_in_the_t1w_fails(dataset: Path) -> None:
    """A 3-D structural image with +Inf."""
    _poison(dataset / "sub-01" / "anat" / "sub-01_T1w.nii.gz", (0, 0, 0), np.inf)
    (finding,) = _own(dataset)
    assert finding.file == "sub-01/anat/sub-01_T1w.nii.gz"
    assert "1 non-finite value" in finding.message


def test_nan_in_a_ground_truth_map_fails_in_the_derivative(dataset: Path) -> None:
    """The derivative dataset is checked too (an M0map of NaN must not pass)."""
    t1map = dataset / GT / "sub-01" / "anat" / "sub-01_desc-groundtruth_T1map.nii.gz"
    _poison(t1map, (slice(None), slice(None), 0), np.nan)
    (finding,) = _own(dataset)
    assert finding.dataset == GT
    assert finding.file == "sub-01/anat/sub-01_desc-groundtruth_T1map.nii.gz"
    assert "64 non-finite values" in finding.message


def test_integer_images_are_finite_by_type(dataset: Path) -> None:
    """The uint16 segmentation is not read voxel by voxel and never flagged."""
    dseg = dataset / GT / "sub-01" / "anat" / "sub-01_desc-groundtruth_dseg.nii.gz"
    assert nib.load(dseg).get_data_dtype().kind == "u"
    assert not check_non_finite_values(dataset / GT)


def test_truncated_image_does_not_crash_the_check(dataset: Path) -> None:
    """A cut-off .nii.gz is reported by the format checks and validators, not by a traceback."""
    asl = asl_paths(dataset)["asl"]
    asl.write_bytes(asl.read_bytes()[:600])
    assert not check_non_finite_values(dataset)


@pytest.mark.parametrize("chunk", [7, 1000, 1 << 22])
@pytest.mark.parametrize("layout", ["plain", "gzip", "two_members", "trailing_zeros"])
def test_streamed_counts_match_the_image_whatever_the_chunks(tmp_path, monkeypatch, chunk, layout):
    """Issue 16: the image is inflated in large chunks by one zlib inflater; the counts per
    volume are those of the image's data whatever the chunk size, over several gzip members
    and with bytes after the last one. The last voxel of the last volume is read too (the
    check used to start at the loaded header's vox_offset, 0, and missed the last 88 voxels).
    """
    from asldro.bids import checks

    monkeypatch.setattr(checks, "STREAM_CHUNK", chunk)
    data = np.random.default_rng(16).standard_normal((9, 8, 5, 4)).astype(np.float32)
    data[1, 2, 3, 1] = np.nan
    data[0, 0, 0, 3], data[8, 7, 4, 3] = np.inf, -np.inf
    plain = tmp_path / "x.nii"
    nib.save(nib.Nifti1Image(data, np.eye(4)), plain)
    raw = plain.read_bytes()
    path = tmp_path / ("x.nii" if layout == "plain" else "y.nii.gz")
    if layout == "gzip":
        path.write_bytes(gzip.compress(raw))
    elif layout == "two_members":
        path.write_bytes(gzip.compress(raw[:1234]) + gzip.compress(raw[1234:]))
    elif layout == "trailing_zeros":
        path.write_bytes(gzip.compress(raw) + b"\0" * 16)
    expected = [int(np.count_nonzero(~np.isfinite(data[..., v]))) for v in range(4)]
    assert checks._non_finite_per_volume(path) == expected  # pylint: disable=protected-access


def test_a_truncated_image_counts_the_volumes_it_holds(tmp_path):
    """A gzip stream cut short gives the counts of its complete volumes (the validators report
    the truncation)."""
    from asldro.bids import checks

    data = np.zeros((16, 16, 8, 6), dtype=np.float32)
    data[..., 0] = np.nan
    plain = tmp_path / "x.nii"
    nib.save(nib.Nifti1Image(data, np.eye(4)), plain)
    raw = plain.read_bytes()
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(gzip.compress(raw[: 352 + 3 * 16 * 16 * 8 * 4 + 100])[:-8])
    counts = checks._non_finite_per_volume(cut)  # pylint: disable=protected-access
    assert counts[0] == 16 * 16 * 8 and counts[1:] == [0] * (len(counts) - 1)
    assert 1 <= len(counts) <= 3
