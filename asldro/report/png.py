"""A tiny, deterministic PNG encoder for the report's slice images (8-bit RGB, no metadata):
the same pixels always give the same bytes, so a rerun writes a byte-identical report."""

from __future__ import annotations

import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COMPRESSION_LEVEL = 6


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def encode_png(rgb: np.ndarray) -> bytes:
    """The PNG file of ``rgb``, an array of shape (rows, columns, 3) of uint8 (row 0 at the
    top). Raises ValueError for any other shape or type."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected (rows, columns, 3) uint8 pixels, got {rgb.shape} {rgb.dtype}")
    rows, columns = int(rgb.shape[0]), int(rgb.shape[1])
    if rows < 1 or columns < 1:
        raise ValueError(f"an image needs at least one pixel, got {rows}x{columns}")
    scanlines = np.zeros((rows, 1 + 3 * columns), dtype=np.uint8)  # filter type 0 per row
    scanlines[:, 1:] = np.ascontiguousarray(rgb).reshape(rows, 3 * columns)
    header = struct.pack(">IIBBBBB", columns, rows, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), COMPRESSION_LEVEL))
        + _chunk(b"IEND", b"")
    )
