"""Deterministic NIfTI-1 writing (docs/bids.md §7; docs/physics.md D15, D16)."""

# pylint: disable=missing-function-docstring

from __future__ import annotations

import gzip
import zlib
from concurrent.futures import ThreadPoolExecutor

import nibabel as nib
import numpy as np
import pytest

from asldro.bids.nifti import MIN_GZ_BYTES, nifti_gz_bytes

AFFINE = np.array(
    [[0.0, 0.0, 4.0, -20.0], [-3.0, 0.0, 0.0, 30.0], [0.0, 3.0, 0.0, -40.0], [0.0, 0.0, 0.0, 1.0]]
)


def _read(content: bytes) -> nib.Nifti1Image:
    return nib.Nifti1Image.from_bytes(gzip.decompress(content))


def test_header_of_a_4d_image():
    data = np.random.default_rng(1).normal(size=(8, 9, 10, 4))
    image = _read(nifti_gz_bytes(data, AFFINE, repetition_time=4.5))
    header = image.header
    assert header["sizeof_hdr"] == 348 and header["magic"] == b"n+1"
    assert int(header["qform_code"]) == 1 and int(header["sform_code"]) == 1
    assert header.get_xyzt_units() == ("mm", "sec")
    np.testing.assert_allclose(header.get_zooms(), (3.0, 3.0, 4.0, 4.5))
    np.testing.assert_allclose(image.affine, AFFINE)
    np.testing.assert_allclose(header.get_qform(), AFFINE, atol=1e-6)
    assert image.get_data_dtype() == np.float32
    assert np.isnan(header["scl_slope"]) or header["scl_slope"] in (0, 1)
    np.testing.assert_array_equal(image.get_fdata(dtype=np.float32), data.astype(np.float32))


def test_4d_needs_a_repetition_time():
    with pytest.raises(ValueError):
        nifti_gz_bytes(np.zeros((8, 8, 8, 2)), AFFINE)


def test_large_image_round_trips_as_one_gzip_member():
    data = np.random.default_rng(2).normal(size=(120, 110, 100)).astype(np.float32)  # > 4 MiB
    content = nifti_gz_bytes(data, AFFINE)
    decompressor = zlib.decompressobj(31)
    raw = decompressor.decompress(content)
    assert decompressor.eof and decompressor.unused_data == b""
    assert len(raw) == 352 + data.nbytes
    np.testing.assert_array_equal(_read(content).get_fdata(dtype=np.float32), data)


def test_identical_input_gives_identical_bytes_with_zero_mtime():
    data = np.random.default_rng(3).normal(size=(120, 110, 100))
    first = nifti_gz_bytes(data, AFFINE)
    assert first == nifti_gz_bytes(data.copy(), AFFINE)
    assert first[:2] == b"\x1f\x8b" and first[4:8] == b"\x00\x00\x00\x00"


def test_tiny_compressible_image_is_at_least_348_bytes():
    content = nifti_gz_bytes(np.zeros((8, 8, 8)), AFFINE)
    assert len(content) >= MIN_GZ_BYTES
    assert not _read(content).get_fdata().any()


def test_integer_labels():
    labels = np.arange(8 * 8 * 8, dtype=np.uint16).reshape(8, 8, 8) % 5
    image = _read(nifti_gz_bytes(labels, AFFINE, dtype=np.int16))
    assert image.get_data_dtype() == np.int16
    np.testing.assert_array_equal(np.asarray(image.dataobj), labels)
    with pytest.raises(ValueError):
        nifti_gz_bytes(labels + 40000, AFFINE, dtype=np.int16)


def test_complex_data_is_refused():
    with pytest.raises(TypeError):
        nifti_gz_bytes(np.ones((8, 8, 8), dtype=np.complex64), AFFINE)


def _several_chunks() -> np.ndarray:
    """Float32 noise of about 10 MiB: a header chunk and three 4 MiB payload chunks."""
    return np.random.default_rng(4).normal(size=(140, 140, 130)).astype(np.float32)


def test_gzip_bytes_do_not_depend_on_the_thread_count():
    data = _several_chunks()
    one = nifti_gz_bytes(data, AFFINE, threads=1)
    assert all(nifti_gz_bytes(data, AFFINE, threads=n) == one for n in (2, 3, 16))
    np.testing.assert_array_equal(_read(one).get_fdata(dtype=np.float32), data)


class _RecordingPool(ThreadPoolExecutor):
    """A thread pool that remembers how many workers each instance was given."""

    sizes: list[int] = []

    def __init__(self, max_workers=None, **kwargs):
        _RecordingPool.sizes.append(max_workers)
        super().__init__(max_workers=max_workers, **kwargs)


@pytest.mark.parametrize("threads, pools", [(1, []), (2, [2]), (64, [4])])
def test_gzip_uses_the_threads_it_is_given_never_more_than_its_chunks(threads, pools, monkeypatch):
    """The budget, not the CPUs of the machine: 1 thread deflates in this thread, more use a
    pool of that size (at most one worker per chunk: here 4)."""
    import asldro.bids.nifti as nifti

    monkeypatch.setattr(_RecordingPool, "sizes", [])
    monkeypatch.setattr(nifti, "ThreadPoolExecutor", _RecordingPool)
    nifti_gz_bytes(_several_chunks(), AFFINE, threads=threads)
    assert _RecordingPool.sizes == pools


@pytest.mark.parametrize("threads", [0, -1])
def test_a_thread_count_below_one_is_refused(threads):
    with pytest.raises(ValueError, match=f"threads: expected an integer >= 1, got {threads}"):
        nifti_gz_bytes(np.zeros((8, 8, 8)), AFFINE, threads=threads)
