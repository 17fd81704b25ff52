#!/usr/bin/env python3
"""Speed of ``asldro quantify`` on a 64×64×40 brain (issue 11 item 8; not a test).

Run from the repository root with the interpreter asldro is installed in::

    .venv/bin/python bench/quantify_speed.py [--repeats N] [--matrix 64x64x40] [--pairs 8]
                                             [--models full consensus ...] [--json PATH]

The brain is the built-in 3 T ground truth box-averaged onto the matrix (``asldro generate`` of
a ground_truth series: CBF, ATT, T1 and M0 maps). From it the script writes a multi-PLD pCASL
BIDS dataset (m0scan + 6 PLDs × ``--pairs`` pairs, labelling duration 1.8 s, ΔM of the ``full``
model, Gaussian noise of 1 % of the mean tissue M0 on every volume, background included, as a
scanner's) and a single-PLD one, then times ``asldro quantify`` on each in a fresh process
(median wall and CPU time, peak RSS), without validation (and once with it). Results are printed
as markdown and written as JSON (default ``bench/results/quantify.json``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

# pylint: disable-next=wrong-import-position
from measure import Series, run_once  # noqa: E402

DEFAULT_JSON = BENCH / "results" / "quantify.json"
PLDS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
LABEL_DURATION = 1.8
NOISE_FRACTION = 0.01
MODELS_AVAILABLE = ("full", "consensus", "whitepaper")


def brain_maps(
    matrix: tuple[int, int, int], work: Path
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """CBF, ATT, T1 and M0 of the built-in 3 T ground truth on ``matrix`` (and its affine)."""
    import subprocess

    import nibabel as nib

    params = work / "gt-params.json"
    params.write_text(
        json.dumps(
            {
                "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
                "image_series": [
                    {
                        "series_type": "ground_truth",
                        "series_parameters": {"acq_matrix": list(matrix)},
                    }
                ],
            }
        )
    )
    asldro = str(Path(sys.executable).parent / "asldro")
    subprocess.run(
        [asldro, "generate", "--skip-validation", "--params", str(params), str(work / "gt")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    folder = work / "gt" / "derivatives" / "groundtruth" / "sub-01"
    files = {
        "cbf": "perf/sub-01_desc-groundtruth_cbf.nii.gz",
        "att": "perf/sub-01_desc-groundtruth_att.nii.gz",
        "t1": "anat/sub-01_desc-groundtruth_T1map.nii.gz",
        "m0": "anat/sub-01_desc-groundtruth_M0map.nii.gz",
    }
    maps = {
        name: np.asarray(nib.load(str(folder / rel)).dataobj, np.float64)
        for name, rel in files.items()
    }
    affine = nib.load(str(folder / files["cbf"])).affine
    return maps, affine


def _series(
    maps: dict[str, np.ndarray], plds: Sequence[float], pairs: int
) -> tuple[np.ndarray, list[str], list[float]]:
    """Noisy volumes (float32), their aslcontext rows and PLDs: an m0scan, then ``pairs``
    control/label pairs per PLD (ΔM of the ``full`` model)."""
    from asldro.physics import gkm

    tissue = maps["m0"] > 0
    sigma = NOISE_FRACTION * float(maps["m0"][tissue].mean())
    volumes, types, pld_list = [maps["m0"]], ["m0scan"], [0.0]
    for pld in plds:
        dm = gkm.delta_m(
            "pcasl",
            maps["cbf"],
            maps["att"],
            maps["t1"],
            maps["m0"],
            label_duration=LABEL_DURATION,
            signal_time=LABEL_DURATION + pld,
            label_efficiency=0.85,
            lambda_blood_brain=0.9,
            t1_arterial_blood=1.65,
        )
        for _ in range(pairs):
            volumes += [0.9 * maps["m0"], 0.9 * maps["m0"] - dm]
            types += ["control", "label"]
            pld_list += [pld, pld]
    data = np.stack(volumes, axis=-1)
    noise = np.random.default_rng(0).normal(0.0, sigma, data.shape)
    return (data + noise).astype(np.float32), types, pld_list


def write_run(
    root: Path, maps: dict[str, np.ndarray], affine: np.ndarray, plds: Sequence[float], pairs: int
) -> tuple[int, int]:
    """A pCASL BIDS dataset at ``root`` with ``pairs`` pairs at each of ``plds``; returns the
    number of volumes and of voxels whose (noisy) M0 is > 0."""
    import nibabel as nib

    data, types, pld_list = _series(maps, plds, pairs)
    perf = root / "sub-01" / "perf"
    perf.mkdir(parents=True)
    (root / "dataset_description.json").write_text(
        json.dumps({"Name": "quantify bench", "BIDSVersion": "1.10.1", "DatasetType": "raw"})
    )
    nib.save(nib.Nifti1Image(data, affine), perf / "sub-01_asl.nii.gz")
    (perf / "sub-01_aslcontext.tsv").write_text("volume_type\n" + "".join(f"{t}\n" for t in types))
    sidecar = {
        "ArterialSpinLabelingType": "PCASL",
        "PostLabelingDelay": plds[0] if len(set(plds)) == 1 else pld_list,
        "LabelingDuration": LABEL_DURATION,
        "BackgroundSuppression": False,
        "M0Type": "Included",
        "TotalAcquiredPairs": pairs * len(plds),
        "RepetitionTimePreparation": 5.0,
        "MagneticFieldStrength": 3,
        "MRAcquisitionType": "3D",
        "EchoTime": 0.01,
        "LabelingEfficiency": 0.85,
    }
    (perf / "sub-01_asl.json").write_text(json.dumps(sidecar))
    return data.shape[-1], int(np.count_nonzero(data[..., 0] > 0))


def _time(name: str, command: list[str], work: Path, repeats: int, out: Path) -> Series:
    series = Series(name, command)
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        series.samples.append(run_once(command, work))
    return series


def build(work: Path, matrix: tuple[int, int, int], pairs: int) -> dict[str, int]:
    """Write the multi-PLD and single-PLD datasets under ``work`` (run in a child process, so
    that the measured commands do not inherit this memory through fork)."""
    maps, affine = brain_maps(matrix, work)
    volumes, fitted = write_run(work / "multi", maps, affine, PLDS, pairs)
    write_run(work / "single", maps, affine, (1.8,), pairs)
    return {"volumes": volumes, "voxels_quantified": fitted}


def main(argv: Sequence[str] | None = None) -> int:
    """Build the datasets, time the commands, print and save the table."""
    import subprocess

    parser = argparse.ArgumentParser(
        prog="bench/quantify_speed.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--matrix", default="64x64x40")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--models", nargs="+", default=["full"], choices=MODELS_AVAILABLE)
    parser.add_argument("--arterial", action="store_true", help="also time --arterial")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args(argv)
    matrix = tuple(int(n) for n in args.matrix.split("x"))
    if args.build is not None:
        facts = build(args.build, matrix, args.pairs)  # type: ignore[arg-type]
        (args.build / "facts.json").write_text(json.dumps(facts))
        return 0
    asldro = str(Path(sys.executable).parent / "asldro")
    with tempfile.TemporaryDirectory(prefix="asldro-quantify-bench-") as temp:
        work = Path(temp)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--build",
                str(work),
                "--matrix",
                args.matrix,
                "--pairs",
                str(args.pairs),
            ],
            check=True,
        )
        facts = json.loads((work / "facts.json").read_text())
        rows = _measure(asldro, work, args)
    print(
        f"matrix {args.matrix}, {facts['volumes']} volumes; {facts['voxels_quantified']} voxels "
        "with M0 > 0 (noisy m0scan: the voxels quantified)\n"
    )
    print("| case | runs | wall s | CPU s | peak RSS MB |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.name} | {len(row.samples)} | {row.median('wall_s'):.2f} | "
            f"{row.median('cpu_s'):.2f} | {row.median('rss_mb'):.0f} |"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    summary = {"matrix": args.matrix, **facts, "rows": [row.to_json() for row in rows]}
    args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return 0


def _measure(asldro: str, work: Path, args: argparse.Namespace) -> list[Series]:
    """Time ``asldro quantify`` on the single-PLD dataset and on the multi-PLD one per model."""
    multi = f"{len(PLDS)} PLDs × {args.pairs} pairs"
    cases = [("single PLD, white-paper formula", work / "single", [])]
    for model in args.models:
        cases.append((f"{multi}, fit {model}", work / "multi", ["--model", model]))
        if args.arterial:
            cases.append(
                (
                    f"{multi}, fit {model} + arterial",
                    work / "multi",
                    ["--model", model, "--arterial"],
                )
            )
    out = work / "out"
    rows = []
    for name, dataset, options in cases:
        command = [asldro, "quantify", str(dataset), "--output-dir", str(out), "--skip-validation"]
        rows.append(_time(name, command + options, work, args.repeats, out))
    validated = [asldro, "quantify", str(work / "multi"), "--output-dir", str(out)]
    rows.append(
        _time(
            f"{multi}, fit {args.models[0]}, with validation",
            validated + ["--model", args.models[0]],
            work,
            1,
            out,
        )
    )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
