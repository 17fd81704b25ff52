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
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

import numpy as np

from asldro.resources import check_thread_count

MIN_GZ_BYTES = 348
_VOX_OFFSET = 352
_CHUNK = 4 << 20  # bytes per independently deflated chunk
#: ``zlib`` window bits of a gzip member, for reading one (header and trailer checked).
GZIP_WBITS = 16 + zlib.MAX_WBITS
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
    array = _cast(np.asarray(data), dtype)
    raw = _header_block(array.shape, affine, dtype, repetition_time=repetition_time)
    payload = array.tobytes(order="F")
    out = gzip_member(raw, payload, compresslevel, threads)
    if len(out) < MIN_GZ_BYTES:
        out = gzip_member(raw, payload, 0, threads)
    return out


def _deflate(chunk: memoryview | bytes, level: int, last: bool) -> bytes:
    """Raw deflate of one chunk: a sync flush ends it, or the final block when ``last`` (so
    the concatenation of the chunks is one valid deflate stream, as pigz does)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
    return compressor.compress(chunk) + compressor.flush(
        zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH
    )


def _gzip_trailer(crc: int, size: int) -> bytes:
    return struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)


def gzip_member(head: bytes, payload: bytes, level: int, threads: int = 1) -> bytes:
    """One gzip member (RFC 1952) with mtime 0 and OS "unknown": deflate of ``head + payload``.

    Large inputs are deflated in fixed 4 MiB chunks on up to ``threads`` threads (each chunk
    ends with a sync flush, so the concatenation is one valid deflate stream, as pigz does).
    Chunk borders do not depend on the number of threads, so the bytes are always the same;
    :class:`NiftiGzStream` writes the same member volume by volume.
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
        return _deflate(chunk, level, number == last)

    workers = min(len(chunks), threads)
    if len(chunks) > 2 and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            body = b"".join(pool.map(deflate, enumerate(chunks)))
    else:
        body = b"".join(map(deflate, enumerate(chunks)))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return _GZIP_HEADER + body + _gzip_trailer(crc, len(head) + len(payload))


def _header_block(shape: tuple[int, ...], affine: np.ndarray, dtype: np.dtype, **header) -> bytes:
    """The 352 bytes before the voxel data: the NIfTI-1 header and its empty extension."""
    block = nifti_header(shape, affine, dtype, **header).binaryblock
    return block + b"\x00" * (_VOX_OFFSET - len(block))


def _cast(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``array`` as ``dtype``; integers must fit (``ValueError``), complex data needs a complex
    ``dtype`` (``TypeError``)."""
    if np.iscomplexobj(array) and dtype.kind != "c":
        raise TypeError("complex data: write magnitude and phase parts separately")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError(f"values do not fit in {dtype}")
    return array.astype(dtype, copy=False)


class NiftiGzStream:  # pylint: disable=too-many-instance-attributes  # a gzip member's state
    """Write a ``.nii.gz`` image volume by volume into ``handle``: the bytes of
    :func:`nifti_gz_bytes` for the whole array, with only a few 4 MiB chunks in memory
    (issue 16 item 1).

    ``shape`` is the image's (3-D, or 4-D with volumes on the last axis); :meth:`write` takes
    the next volumes (a 3-D array is one volume, a 4-D one several), cast to ``dtype`` as they
    come; :meth:`close` writes the rest and checks that every voxel was given. Chunks are
    deflated on up to ``threads`` threads, a few chunks ahead; the bytes do not depend on it.
    An image smaller than one chunk is compressed at :meth:`close` (as a whole, like
    :func:`nifti_gz_bytes`, which may then store it uncompressed).
    """

    def __init__(  # pylint: disable=too-many-arguments  # the keywords of nifti_gz_bytes
        self,
        handle: BinaryIO,
        shape: tuple[int, ...],
        affine: np.ndarray,
        *,
        dtype: np.dtype | type = np.float32,
        repetition_time: float | None = None,
        compresslevel: int = 1,
        threads: int = 1,
    ) -> None:
        self._handle = handle
        self._shape = tuple(int(n) for n in shape)
        self._dtype = np.dtype(dtype)
        self._level = compresslevel
        self._threads = check_thread_count(threads)
        self._head = _header_block(
            self._shape, affine, self._dtype, repetition_time=repetition_time
        )
        self._total = int(np.prod(self._shape)) * self._dtype.itemsize
        self._given = 0
        self._buffer = bytearray()
        self._crc = zlib.crc32(self._head)
        self._pending: deque[Future[bytes]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        if self._total >= _CHUNK:
            self._handle.write(_GZIP_HEADER)
            self._handle.write(_deflate(self._head, self._level, last=False))
            if self._threads > 1:
                self._pool = ThreadPoolExecutor(max_workers=self._threads)

    def write(self, volumes: np.ndarray) -> None:
        """Append the next volume(s) (the shape of the image without its last axis for a 4-D
        image, optionally with a volume axis; the whole image for a 3-D one)."""
        array = _cast(np.asarray(volumes), self._dtype)
        payload = array.tobytes(order="F")
        if self._given + len(payload) > self._total:
            raise ValueError(f"more voxels than the image shape {self._shape} holds")
        self._given += len(payload)
        self._crc = zlib.crc32(payload, self._crc)
        self._buffer += payload
        if self._total < _CHUNK:
            return
        while len(self._buffer) >= _CHUNK:
            last = self._given == self._total and len(self._buffer) == _CHUNK
            self._submit(bytes(self._buffer[:_CHUNK]), last)
            del self._buffer[:_CHUNK]

    def _submit(self, chunk: bytes, last: bool) -> None:
        """Deflate ``chunk`` (on the pool when there is one), keeping at most twice the threads'
        chunks in flight; written in order."""
        if self._pool is None:
            self._handle.write(_deflate(chunk, self._level, last))
            return
        self._pending.append(self._pool.submit(_deflate, chunk, self._level, last))
        while len(self._pending) > 2 * self._threads:
            self._handle.write(self._pending.popleft().result())

    def close(self) -> None:
        """Write what is left and the gzip trailer; ``ValueError`` when voxels are missing."""
        try:
            if self._given != self._total:
                raise ValueError(
                    f"{self._given // self._dtype.itemsize} of the "
                    f"{self._total // self._dtype.itemsize} voxels of {self._shape} were given"
                )
            if self._total < _CHUNK:
                payload = bytes(self._buffer)
                out = gzip_member(self._head, payload, self._level)
                if len(out) < MIN_GZ_BYTES:
                    out = gzip_member(self._head, payload, 0)
                self._handle.write(out)
                return
            if self._buffer:
                self._submit(bytes(self._buffer), last=True)
                self._buffer.clear()
            while self._pending:
                self._handle.write(self._pending.popleft().result())
            self._handle.write(_gzip_trailer(self._crc, len(self._head) + self._total))
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
            self._pool = None
        self._pending.clear()

    def __enter__(self) -> "NiftiGzStream":
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self._shutdown()
