"""Series streamed to disk volume by volume (issue 16 item 1): the same bytes as the whole-array
writer, and a non-finite volume mid-series refused with nothing written."""

# pylint: disable=missing-function-docstring

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from asldro.bids.nifti import NiftiGzStream, nifti_gz_bytes
from asldro.bids.writer import write_participant
from asldro.image import Image
from asldro.pipelines.finite import SimulationError
from asldro.pipelines.streamed import StreamedImage
from asldro.pipelines.types import SeriesResult
from asldro.pipelines.asl import simulate_asl
from tests.bids.conftest import PARTICIPANT, _gt_results, _series, tiny_context

AFFINE = np.array(
    [[0.0, 0.0, 4.0, -20.0], [-3.0, 0.0, 0.0, 30.0], [0.0, 3.0, 0.0, -40.0], [0.0, 0.0, 0.0, 1.0]]
)
CHUNK_VOXELS = (4 << 20) // 4  # float32 voxels in one 4 MiB deflate chunk


def _streamed(data: np.ndarray, group: int, threads: int, **header) -> bytes:
    """The stream writer's bytes of ``data``, given ``group`` volumes at a time."""
    out = io.BytesIO()
    with NiftiGzStream(out, data.shape, AFFINE, threads=threads, **header) as stream:
        if data.ndim == 3:
            stream.write(data)
        else:
            for start in range(0, data.shape[3], group):
                stream.write(data[..., start : start + group])
    return out.getvalue()


@pytest.mark.parametrize(
    "shape",
    [
        (4, 5, 6),  # tiny: stored uncompressed (under MIN_GZ_BYTES compressed)
        (16, 16, 8, 5),  # under one chunk: one deflate of header + data
        (64, 64, 32, 9),  # 4.5 chunks: the last one short
        (64, 64, 64, 4),  # exactly 4 chunks: the last full one ends the stream
        (128, 128, 64, 1),  # one volume of exactly 1 chunk
    ],
)
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("group", [1, 2])
def test_streamed_bytes_equal_the_whole_array_writer(shape, threads, group):
    rng = np.random.default_rng(sum(shape))
    data = rng.normal(size=shape).astype(np.float32)
    if len(shape) == 4 and shape[3] > 2:
        data[..., 1] = 0.0  # a compressible volume between noisy ones
    header = {"repetition_time": 2.5} if len(shape) == 4 else {}
    expected = nifti_gz_bytes(data, AFFINE, threads=2, **header)
    assert _streamed(data, group, threads, **header) == expected
    assert np.prod(shape) >= CHUNK_VOXELS or len(expected) < 4 << 20


def test_streamed_integer_image_is_checked_and_cast_like_the_whole_array():
    data = np.arange(4 * 5 * 6, dtype=np.int64).reshape(4, 5, 6)
    out = io.BytesIO()
    with NiftiGzStream(out, data.shape, AFFINE, dtype=np.int16) as stream:
        stream.write(data)
    assert out.getvalue() == nifti_gz_bytes(data, AFFINE, dtype=np.int16)
    with pytest.raises(ValueError, match="do not fit in uint8"):
        NiftiGzStream(io.BytesIO(), data.shape, AFFINE, dtype=np.uint8).write(data + 300)


@pytest.mark.parametrize("volumes", [2, 4])
def test_a_stream_with_missing_or_extra_voxels_is_refused(volumes):
    shape = (8, 8, 8, 3)
    stream = NiftiGzStream(io.BytesIO(), shape, AFFINE, repetition_time=1.0)
    data = np.zeros((8, 8, 8, volumes), dtype=np.float32)
    if volumes > shape[3]:
        with pytest.raises(ValueError, match="more voxels"):
            stream.write(data)
    else:
        stream.write(data)
        with pytest.raises(ValueError, match="of the 1536 voxels"):
            stream.close()


def _streamed_asl(streamed: bool = True) -> SeriesResult:
    """An asl series of 7 volumes with motion per volume, streamed or in memory."""
    parameters = {
        "asl_context": "m0scan control label control label control label",
        "random_seed": 0,
        "rot_z": [0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.5],
        "transl_x": [0.0, 0.5, 1.0, 0.5, 0.0, -0.5, -1.0],
    }
    series = _series("asl", parameters)
    return simulate_asl(tiny_context(), series, 1, participant_label=PARTICIPANT, streamed=streamed)


def test_a_streamed_series_writes_the_bytes_of_the_series_in_memory(tmp_path):
    """The writer given the streamed series writes the same files as given the stacked one
    (the provenance, with its history, included)."""
    streamed, in_memory = _streamed_asl(), _streamed_asl(streamed=False)
    assert isinstance(streamed.images["asl"], StreamedImage)
    for out, result in ((tmp_path / "a", streamed), (tmp_path / "b", in_memory)):
        _write(out, [result, _gt_results(2)])
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert any(str(f).endswith("_asl.nii.gz") for f in files)
    for relative in files:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()


def _poisoned(result: SeriesResult, volume: int) -> SeriesResult:
    """``result`` whose streamed asl image has a NaN in ``volume``."""
    original = result.images["asl"]
    assert isinstance(original, StreamedImage)

    def produce(index: int) -> Image:
        image = original.produce(index)
        if index != volume:
            return image
        data = np.array(image.data)
        data[1, 2, 3] = np.nan
        return Image(data=data, affine=image.affine, history=image.history)

    poisoned = StreamedImage(
        produce=produce,
        shape=original.shape,
        dtype=original.dtype,
        affine=original.affine,
        shared_steps=original.shared_steps,
        threads=2,
        where=original.where,
    )
    images = {**result.images, "asl": poisoned}
    return SeriesResult(
        result.index, result.series_type, result.description, result.params, images, result.records
    )


def _write(out: Path, results) -> list[Path]:
    return write_participant(
        out,
        "01",
        results,
        m0_pairs={},
        resolved_params={"image_series": []},
        provenance=lambda: {"seed": 0},
        ground_truth_description="test ground truth",
    )


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_non_finite_volume_mid_series_is_refused_with_no_partial_output(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(SimulationError) as info:
        _write(out, [_poisoned(_streamed_asl(), 4), _gt_results(2)])
    message = str(info.value)
    assert message.startswith("image_series[0] (asl): ")
    assert "1 non-finite values (NaN or infinite) in volume 4" in message
    assert not out.exists() or not any(out.iterdir())


def test_a_non_finite_volume_keeps_the_previous_subject(tmp_path):
    out = tmp_path / "out"
    _write(out, [_streamed_asl(), _gt_results(2)])
    before = _files(out)
    with pytest.raises(SimulationError):
        _write(out, [_poisoned(_streamed_asl(), 2), _gt_results(2)])
    assert _files(out) == before
