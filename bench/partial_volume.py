#!/usr/bin/env python3
"""Partial volume (issue 13): the default run's time by tissue model, and PNG renderings.

``time`` runs the default parameter file (no validation) ``--repeats`` times in fresh processes
for each tissue model and prints the median wall time; ``--source DIR`` runs the asldro found in
``DIR`` instead (e.g. an export of the commit before partial volume: its runs ignore the tissue
model, which it does not know)::

    .venv/bin/python bench/partial_volume.py time --repeats 3
    .venv/bin/python bench/partial_volume.py time --repeats 3 --source /tmp/before

``render DATASET OUT_DIR`` writes PNGs of a few axial slices of the first asl volume and of the
grey-matter probseg at the asl grid and at the grid of the ground_truth series (written by a
small numpy + zlib PNG encoder: matplotlib is not a dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

_RUN = """
import sys
from pathlib import Path
from asldro.api import generate
from asldro.params import default_params
doc = default_params()
if sys.argv[2] != "none":
    doc["global_configuration"]["tissue_model"] = sys.argv[2]
generate(doc, Path(sys.argv[1]), validate=False)
"""


def time_default_run(model: str, repeats: int, source: Path | None) -> list[float]:
    """Wall times (s) of the default run with ``model`` (``none``: the key left out)."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="asldro-pv-") as scratch:
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", _RUN, str(Path(scratch) / "out"), model],
                check=True,
                env=env,
                cwd=scratch,
            )
            times.append(time.perf_counter() - start)
    return times


def png_bytes(image: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of a 2-D array scaled to its own range (row 0 at the top)."""
    data = np.asarray(image, dtype=np.float64)
    low, high = float(np.min(data)), float(np.max(data))
    scaled = np.zeros(data.shape) if high <= low else (data - low) / (high - low)
    pixels = np.round(scaled * 255).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def montage(volume: np.ndarray, slices: Sequence[int], zoom: int) -> np.ndarray:
    """Axial slices side by side, the anterior side up, each enlarged ``zoom`` times."""
    tiles = [np.rot90(volume[:, :, k]) for k in slices]
    row = np.concatenate(tiles, axis=1)
    return np.kron(row, np.ones((zoom, zoom)))


def render(dataset: Path, out: Path) -> list[Path]:
    """PNGs of the first asl volume and the GM probseg (asl grid, ground_truth series grid)."""
    import nibabel as nib

    out.mkdir(parents=True, exist_ok=True)
    gt = dataset / "derivatives" / "groundtruth" / "sub-01" / "anat"
    wanted = {
        "asl_volume0.png": (next((dataset / "sub-01" / "perf").glob("*_asl.nii.gz")), 0),
        "probseg_GM_asl_grid.png": (
            gt / "sub-01_res-asl_label-GM_desc-groundtruth_probseg.nii.gz",
            None,
        ),
        "probseg_GM_ground_truth_grid.png": (
            gt / "sub-01_label-GM_desc-groundtruth_probseg.nii.gz",
            None,
        ),
    }
    written = []
    for name, (path, volume) in wanted.items():
        if not path.is_file():
            continue
        data = np.asarray(nib.load(path).dataobj, dtype=np.float64)
        if volume is not None and data.ndim == 4:
            data = data[..., volume]
        depth = data.shape[2]
        slices = [int(depth * f) for f in (0.35, 0.5, 0.65)]
        zoom = max(1, 256 // data.shape[1])
        target = out / name
        target.write_bytes(png_bytes(montage(data, slices, zoom)))
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``time`` or ``render``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    timing = commands.add_parser("time")
    timing.add_argument("--repeats", type=int, default=3)
    timing.add_argument("--source", type=Path)
    timing.add_argument("--models", nargs="+", default=["single_label", "partial_volume"])
    drawing = commands.add_parser("render")
    drawing.add_argument("dataset", type=Path)
    drawing.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "render":
        for path in render(args.dataset, args.out):
            print(f"wrote {path}")
        return 0
    results = {}
    for model in args.models:
        times = time_default_run(model, args.repeats, args.source)
        results[model] = {"median_s": statistics.median(times), "runs_s": times}
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
