#!/usr/bin/env python3
"""Peak memory: the pre-run estimate (``asldro.pipelines.memory``) against the measured peak RSS.

Usage: ``python bench/memory_estimate.py [--large] [--cases NAME ...]``

Each case runs ``asldro generate --skip-validation`` in a fresh process (``--max-memory 1T``, so
that the check itself never refuses) and takes its peak RSS from the kernel (``os.wait4``,
as GNU ``time -f %M``); the estimate is computed here from the same parameter file. ``--large``
adds ``acq_matrix [400, 400, 400]`` (about 6 GB). The table is printed as markdown.

Calibration (2 cores, 24 GB, ASLDRO_THREADS unset = 2 volume threads; the estimate errs high):

| case | estimate | measured peak RSS | estimate / measured |
|---|---|---|---|
| default run (asl, ground_truth 64x64x12; structural 197x233x189) | 392 MiB | 390 MiB | 1.00 |
| asl 1000 volumes at 64x64x12 | 1.1 GiB | 981 MiB | 1.14 |
| asl 8 volumes at 160x160x160 | 864 MiB | 793 MiB | 1.09 |
| ground_truth 200x200x200, rot_z 5 | 1.5 GiB | 1.4 GiB | 1.05 |
| structural 300x300x300 | 1.7 GiB | 1.7 GiB | 1.02 |
| dense ground-truth file (1 mm, 7 quantities), asl 16 volumes | 1.4 GiB | 1.2 GiB | 1.19 |
| multi-PLD, m0scan + 6 PLDs x 8 pairs at 64x64x40, motion | 632 MiB | 578 MiB | 1.09 |
| dense 2 mm ground-truth file (96x112x48), asl 4 volumes | 214 MiB | 174 MiB | 1.23 |
| the same with gamma dispersion (~150 000 distinct voxels) | 263 MiB | 184 MiB | 1.43 |
| asl 400x400x400 x3 (``--large``) | 5.8 GiB | 5.8 GiB | 1.00 |

Not measured: acq_matrix [700, 700, 700] is estimated at 30.5 GiB (refused in 0.5 s on this
machine), 10 000 volumes at 64x64x12 at 9.2 GiB (the issue measured 9.9 GB = 9.2 GiB).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

# pylint: disable-next=wrong-import-position
from measure import run_once  # noqa: E402

# pylint: disable-next=wrong-import-position
from protocols import multi_pld_params  # noqa: E402

BUILTIN = "hrgt_icbm_2009a_nls_3t"


def _document(*series: dict[str, Any], ground_truth: str = BUILTIN) -> dict[str, Any]:
    return {"global_configuration": {"ground_truth": ground_truth}, "image_series": list(series)}


def _series(series_type: str, **parameters: Any) -> dict[str, Any]:
    return {"series_type": series_type, "series_parameters": parameters}


def _asl(volumes: int, matrix: list[int]) -> dict[str, Any]:
    context = " ".join((["control", "label"] * volumes)[:volumes])
    return _series(
        "asl",
        asl_context=context,
        acq_matrix=matrix,
        echo_time=0.01,
        repetition_time=5.0,
        **{key: 0.0 for key in ("rot_x", "rot_y", "rot_z", "transl_x", "transl_y", "transl_z")},
    )


def _multi_pld() -> dict[str, Any]:
    """The multi-PLD protocol of bench/run.py (m0scan + 6 PLDs x 8 pairs at 64x64x40, motion,
    noise): ``bench/protocols.py``."""
    base = _document(_series("asl"))
    return multi_pld_params(base)


def _dense_ground_truth(folder: Path) -> str:
    """The built-in 3T ground truth written as a file with CBF, T1, T2, T2*, M0 varying by 1 %
    voxel to voxel (so they stay dense maps)."""
    import nibabel as nib
    import numpy as np

    from asldro.groundtruth import builtin_ground_truth, write_ground_truth

    nifti = folder / "dense_gt.nii.gz"
    write_ground_truth(builtin_ground_truth(BUILTIN), nifti)
    image = nib.load(nifti)
    data = np.asanyarray(image.dataobj).copy()
    names = json.loads(nifti.with_name("dense_gt.json").read_text())["quantities"]
    rng = np.random.default_rng(0)
    for name in ("perfusion_rate", "t1", "t2", "t2_star", "m0"):
        data[..., 0, names.index(name)] *= 1 + 0.01 * rng.random(data.shape[:3])
    nib.save(nib.Nifti1Image(data, image.affine, image.header), nifti)
    return str(nifti)


def _dense_small_ground_truth(folder: Path) -> str:
    """A 2 mm ground truth of 96x112x48 voxels (516 096) whose CBF and T1 differ in every
    voxel (the worst case of a dispersed ΔM: one quadrature row per voxel)."""
    import numpy as np

    from asldro.groundtruth import GroundTruth, builtin_ground_truth, write_ground_truth

    truth = builtin_ground_truth(BUILTIN)
    seg = truth.seg[::2, ::2, ::2][:96, :112, :48]
    affine = truth.affine @ np.diag([2.0, 2.0, 2.0, 1.0])
    rng = np.random.default_rng(0)
    maps = {name: np.asarray(table)[seg] for name, table in truth.maps.items()}
    for name in ("perfusion_rate", "t1"):
        maps[name] = maps[name] * (1 + 0.01 * rng.random(seg.shape))
    small = GroundTruth(
        affine=affine,
        shape=seg.shape,
        seg=seg,
        segmentation=truth.segmentation,
        maps=maps,
        units=truth.units,
        parameters=truth.parameters,
    )
    nifti = folder / "dense_small_gt.nii.gz"
    write_ground_truth(small, nifti)
    return str(nifti)


def _dispersed(volumes: int, matrix: list[int]) -> dict[str, Any]:
    series = _asl(volumes, matrix)
    series["series_parameters"]["dispersion"] = {"type": "gamma"}
    return series


CASES: dict[str, Callable[[Path], dict[str, Any] | None]] = {
    "default": lambda folder: None,
    "asl_1000x64x64x12": lambda folder: _document(_asl(1000, [64, 64, 12])),
    "asl_8x160cubed": lambda folder: _document(_asl(8, [160, 160, 160])),
    "gt_200cubed_rotated": lambda folder: _document(
        _series("ground_truth", acq_matrix=[200, 200, 200], rot_z=5.0)
    ),
    "structural_300cubed": lambda folder: _document(
        _series("structural", acq_matrix=[300, 300, 300])
    ),
    "asl_multi_pld_97x64x64x40": lambda folder: _multi_pld(),
    "file_gt_dense_asl16": lambda folder: _document(
        _asl(16, [64, 64, 12]), ground_truth=_dense_ground_truth(folder)
    ),
    "file_gt_dense_small_asl4": lambda folder: _document(
        _asl(4, [64, 64, 24]), ground_truth=_dense_small_ground_truth(folder)
    ),
    "file_gt_dense_dispersion_asl4": lambda folder: _document(
        _dispersed(4, [64, 64, 24]), ground_truth=_dense_small_ground_truth(folder)
    ),
}
LARGE = {"asl_400cubed": lambda folder: _document(_asl(3, [400, 400, 400]))}


def estimate(params_file: Path | None) -> int:
    """The pre-run estimate of ``asldro.pipelines.memory`` for a parameter file."""
    from asldro.api import as_params
    from asldro.groundtruth import load_ground_truth
    from asldro.pipelines.memory import estimate_peak_memory

    params = as_params(params_file)
    ground_truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    return estimate_peak_memory(params, ground_truth).total


def measure(name: str, make: Callable[[Path], Any], work: Path) -> dict[str, Any]:
    """Estimate and measure one case; the output is removed afterwards."""
    from asldro.pipelines.memory import format_bytes

    folder = work / name
    folder.mkdir()
    document = make(folder)
    command = [sys.executable, "-m", "asldro.cli", "generate", "--skip-validation"]
    params = None
    if document is not None:
        params = folder / "params.json"
        params.write_text(json.dumps(document), encoding="utf-8")
        command += ["--params", str(params)]
    command += ["--max-memory", "1T", str(folder / "out")]
    predicted = estimate(params)
    sample = run_once(command, folder / "run")
    measured = sample.rss_mb * 1e6
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "case": name,
        "estimate": format_bytes(predicted),
        "measured": format_bytes(measured),
        "ratio": round(predicted / measured, 2),
        "wall_s": round(sample.wall_s, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cases and print the markdown table."""
    parser = argparse.ArgumentParser(prog="bench/memory_estimate.py", description=__doc__)
    parser.add_argument("--large", action="store_true", help="add acq_matrix [400, 400, 400]")
    parser.add_argument("--cases", nargs="+", help="run only these cases")
    args = parser.parse_args(argv)
    cases = {**CASES, **(LARGE if args.large else {})}
    chosen = args.cases or list(cases)
    print("| case | estimate | measured | ratio | wall s |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="asldro-memory-") as work:
        for name in chosen:
            row = measure(name, cases[name], Path(work))
            print(
                f"| {name} | {row['estimate']} | {row['measured']} | {row['ratio']} | "
                f"{row['wall_s']} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
