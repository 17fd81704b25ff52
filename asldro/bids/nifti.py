"""Deterministic NIfTI-1 ``.nii.gz`` bytes (docs/bids.md §7; docs/physics.md D15, D16).

The header is NIfTI-1, qform and sform codes 1 (scanner), ``xyzt_units`` mm + s, and for 4-D
data pixdim[4] = the repetition time. The gzip member is assembled here with header mtime 0, so
identical input gives byte-identical files. Compression uses level 1 with the run-length
strategy (noisy float32 hardly compresses; this is ~3x faster than the default strategy), and
large images are deflated in chunks on the threads the caller gives (its share of the run's
budget, ``asldro.resources``); the bytes do not depend on how many.
"""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from asldro.resources import check_thread_count

MIN_GZ_BYTES = 348
_VOX_OFFSET = 352
_CHUNK = 4 << 20  # bytes per independently deflated chunk
_GZIP_HEADER = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"  # mtime 0, OS unknown


def nifti_header(
    shape: tuple[int, ...],
    affine: np.ndarray,
    dtype: np.dtype,
    *,
    repetition_time: float | None = None,
):
    """A NIfTI-1 header for ``shape``/``affine``/``dtype`` (docs/physics.md D16).

    qform and sform codes are 1, units mm and s, ``scl_slope`` unset (no scaling); for 4-D data
    pixdim[4] is ``repetition_time`` (s), required > 0.
    """
    import nibabel as nib

    header = nib.Nifti1Header()
    header.set_data_dtype(dtype)
    header.set_data_shape(shape)
    affine = np.asarray(affine, dtype=np.float64)
    header.set_qform(affine, code=1)
    header.set_sform(affine, code=1)
    header.set_xyzt_units("mm", "sec")
    if len(shape) == 4:
        if repetition_time is None or not repetition_time > 0:
            raise ValueError("a 4-D NIfTI needs a repetition time > 0 for pixdim[4]")
        zooms = list(header.get_zooms())
        zooms[3] = float(repetition_time)
        header.set_zooms(zooms)
    header["vox_offset"] = _VOX_OFFSET
    return header


def nifti_gz_bytes(
    data: np.ndarray,
    affine: np.ndarray,
    *,
    dtype: np.dtype | type = np.float32,
    repetition_time: float | None = None,
    compresslevel: int = 1,
    threads: int = 1,
) -> bytes:
    """Gzipped NIfTI-1 file content for ``data`` cast to ``dtype`` (docs/bids.md §7).

    The result is at least 348 bytes (the legacy validator's minimum): a tiny, highly
    compressible image is stored without compression instead. A large image is deflated on at
    most ``threads`` threads (an integer >= 1, else ``ValueError``); the bytes are the same for
    any number.
    """
    threads = check_thread_count(threads)
    dtype = np.dtype(dtype)
    if np.iscomplexobj(data) and dtype.kind != "c":
        raise TypeError("complex data: write magnitude and phase parts separately")
    array = np.asarray(data)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError(f"values do not fit in {dtype}")
    array = array.astype(dtype, copy=False)
    header = nifti_header(array.shape, affine, dtype, repetition_time=repetition_time)
    raw = header.binaryblock + b"\x00" * (_VOX_OFFSET - len(header.binaryblock))
    payload = array.tobytes(order="F")
    out = gzip_member(raw, payload, compresslevel, threads)
    if len(out) < MIN_GZ_BYTES:
        out = gzip_member(raw, payload, 0, threads)
    return out


def gzip_member(head: bytes, payload: bytes, level: int, threads: int = 1) -> bytes:
    """One gzip member (RFC 1952) with mtime 0 and OS "unknown": deflate of ``head + payload``.

    Large inputs are deflated in fixed 4 MiB chunks on up to ``threads`` threads (each chunk
    ends with a sync flush, so the concatenation is one valid deflate stream, as pigz does).
    Chunk borders do not depend on the number of threads, so the bytes are always the same.
    """
    data = memoryview(head + payload) if len(payload) < _CHUNK else None
    chunks = (
        [data]
        if data is not None
        else [memoryview(head)]
        + [memoryview(payload)[i : i + _CHUNK] for i in range(0, len(payload), _CHUNK)]
    )
    last = len(chunks) - 1

    def deflate(numbered: tuple[int, memoryview]) -> bytes:
        number, chunk = numbered
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
        flush = zlib.Z_FINISH if number == last else zlib.Z_SYNC_FLUSH
        return compressor.compress(chunk) + compressor.flush(flush)

    workers = min(len(chunks), threads)
    if len(chunks) > 2 and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            body = b"".join(pool.map(deflate, enumerate(chunks)))
    else:
        body = b"".join(map(deflate, enumerate(chunks)))
    crc = zlib.crc32(payload, zlib.crc32(head))
    size = (len(head) + len(payload)) & 0xFFFFFFFF
    return _GZIP_HEADER + body + struct.pack("<II", crc, size)
