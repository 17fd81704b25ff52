#!/usr/bin/env python3
"""Benchmarks of asldro (GitHub issue 6): versus ASLDRO 2.2.0, scaling, start-up, floors, and
the multi-PLD protocol of issue 11.

Run from the repository root with the interpreter asldro is installed in::

    .venv/bin/python bench/run.py [--quick] [--skip-asldro] [--json PATH]

Every figure is the median of repeated runs of a command in a fresh process (wall time, CPU
time, peak RSS). ASLDRO 2.2.0 is installed on first use into ``bench/.asldro-2.2.0-venv``.
The tables are printed as markdown and the results written as JSON
(default ``bench/results/bench.json``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

# pylint: disable-next=wrong-import-position
from measure import CommandFailed, Series, run_once  # noqa: E402

# pylint: disable-next=wrong-import-position
from table import render  # noqa: E402

# pylint: disable-next=wrong-import-position
from protocols import (  # noqa: E402
    MULTI_PLD_DELAYS,
    MULTI_PLD_MATRIX,
    MULTI_PLD_PAIRS,
    multi_pld_params,
)

REPO = BENCH.parent
DEFAULT_JSON = BENCH / "results" / "bench.json"
ASLDRO_VENV = BENCH / ".asldro-2.2.0-venv"
ASLDRO_SPEC = "asldro==2.2.0"
#: ASLDRO 2.2.0 pins numpy 1.19, nibabel 3.1, nilearn 0.6 and jsonschema 3.2, which do not
#: build on current Python: it is installed without its pins, then with these.
ASLDRO_DEPS = ("numpy<2", "scipy", "nibabel", "nilearn", "jsonschema")
VERSION_PACKAGES = ("asldro", "numpy", "scipy", "nibabel", "nilearn", "jsonschema")

MATRICES_FULL = ((64, 64, 12), (96, 96, 24), (128, 128, 48))
VOLUMES_FULL = (3, 30, 100)
PARTICIPANTS_FULL = (1, 4, 16)
TARGET_CASE = (100, (96, 96, 24))


@dataclass(frozen=True)
class Config:  # pylint: disable=too-many-instance-attributes  # one field per knob of a run
    """How much to run."""

    repeats: int
    asldro_repeats: int
    matrices: tuple[tuple[int, int, int], ...]
    volumes: tuple[int, ...]
    participants: tuple[int, ...]
    startup_repeats: int
    validate_repeats: int
    #: stop repeating a scaling case once its runs add up to this many seconds
    case_budget_s: float
    skip_asldro: bool
    zip_row: bool


def make_config(args: argparse.Namespace) -> Config:
    """Full run (medians of 5) or ``--quick`` (fewer repeats and sizes)."""
    if args.quick:
        return Config(
            repeats=args.repeats or 3,
            asldro_repeats=args.asldro_repeats or 1,
            matrices=MATRICES_FULL[:2],
            volumes=(3, 30),
            participants=(1, 4),
            startup_repeats=3,
            validate_repeats=1,
            case_budget_s=5.0,
            skip_asldro=args.skip_asldro,
            zip_row=False,
        )
    return Config(
        repeats=args.repeats or 5,
        asldro_repeats=args.asldro_repeats or args.repeats or 5,
        matrices=MATRICES_FULL,
        volumes=VOLUMES_FULL,
        participants=PARTICIPANTS_FULL,
        startup_repeats=10,
        validate_repeats=args.repeats or 5,
        case_budget_s=40.0,
        skip_asldro=args.skip_asldro,
        zip_row=True,
    )


def log(message: str) -> None:
    """Progress on stderr (the tables go to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the two tools


def our_asldro() -> str:
    """The ``asldro`` console script of the interpreter running the benchmark."""
    candidate = Path(sys.executable).parent / "asldro"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("asldro")
    if not found:
        raise SystemExit("bench: the asldro command is not installed (pip install -e .)")
    return found


def _pip(venv: Path, *args: str) -> None:
    command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args]
    for attempt in (1, 2):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return
        log(f"pip install {' '.join(args)} failed (attempt {attempt}): {result.stderr[-400:]}")
    raise SystemExit(f"bench: could not install {' '.join(args)} into {venv}")


def _asldro_works(venv: Path) -> bool:
    """True when ASLDRO 2.2.0 and its dependencies import in ``venv``.

    ``-I`` keeps the working directory (this repository, which holds our own ``asldro``) off
    ``sys.path``.
    """
    check = (
        "import importlib.metadata as m, asldro.cli, numpy, scipy, nibabel, nilearn, jsonschema\n"
        f"assert m.version('asldro') == {ASLDRO_SPEC.split('==')[1]!r}"
    )
    python = venv / "bin" / "python"
    if not python.exists():
        return False
    result = subprocess.run([str(python), "-I", "-c", check], capture_output=True, check=False)
    return result.returncode == 0


def ensure_asldro_venv(venv: Path = ASLDRO_VENV) -> Path:
    """Install ASLDRO 2.2.0 into its own virtual environment unless it already runs there."""
    if _asldro_works(venv):
        return venv
    log(f"installing {ASLDRO_SPEC} into {venv.relative_to(REPO)} (once)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    _pip(venv, "--upgrade", "pip")
    _pip(venv, "--no-deps", ASLDRO_SPEC)
    _pip(venv, *ASLDRO_DEPS)
    if not _asldro_works(venv):
        raise SystemExit(f"bench: {ASLDRO_SPEC} does not import in {venv}")
    return venv


def package_versions(python: str) -> dict[str, str]:
    """Versions of the packages that matter, as seen by ``python``."""
    code = (
        "import json, importlib.metadata as m, zlib\n"
        f"names = {list(VERSION_PACKAGES)!r}\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "out['zlib'] = zlib.ZLIB_RUNTIME_VERSION\n"
        "import sys; out['python'] = sys.version.split()[0]\n"
        "print(json.dumps(out))"
    )
    result = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, OS and Python of this machine."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


# --------------------------------------------------------------------------- parameter files


def asl_params(
    base: dict[str, Any], volumes: int, matrix: Sequence[int], *, motion: bool = True
) -> dict[str, Any]:
    """One asl series of ``volumes`` volumes (m0scan(s) then control/label pairs) at ``matrix``.

    Motion varies every volume (rotations up to 2 degrees, translations up to 1 mm); noise is
    on (the default SNR of the asl series).
    """
    series = json.loads(
        json.dumps(next(s for s in base["image_series"] if s["series_type"] == "asl"))
    )
    n_m0 = 1 if volumes % 2 else 2
    context = ["m0scan"] * n_m0 + ["control", "label"] * ((volumes - n_m0) // 2)
    parameters = series["series_parameters"]
    parameters["asl_context"] = " ".join(context)
    parameters["echo_time"] = [0.01] * volumes
    parameters["repetition_time"] = [10.0 if c == "m0scan" else 5.0 for c in context]
    amplitudes = {"rot_x": 1.0, "rot_y": 1.5, "rot_z": 2.0}
    amplitudes.update({"transl_x": 0.5, "transl_y": 1.0, "transl_z": 0.8})
    for phase, (key, amplitude) in enumerate(amplitudes.items()):
        parameters[key] = [
            (
                round(amplitude * math.sin(2 * math.pi * (i + 1) / max(volumes, 4) + phase), 4)
                if motion
                else 0.0
            )
            for i in range(volumes)
        ]
    parameters["acq_matrix"] = list(matrix)
    if not parameters.get("desired_snr"):
        parameters["desired_snr"] = 100.0
    return {**base, "image_series": [series]}


def ground_truth_only_params(base: dict[str, Any]) -> dict[str, Any]:
    """Only the ground_truth series (64x64x12, no motion): the fixed ground-truth cost."""
    series = [s for s in base["image_series"] if s["series_type"] == "ground_truth"]
    return {**base, "image_series": series}


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as JSON and return ``path``."""
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- running


class Runner:
    """Runs commands in numbered scratch folders under one temporary work folder."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.count = 0

    def folder(self) -> Path:
        """A fresh scratch folder."""
        self.count += 1
        path = self.work / f"run-{self.count:03d}"
        path.mkdir()
        return path

    def run(
        self,
        series: Series,
        command: Callable[[Path], list[str]],
        *,
        keep: bool = False,
        tree: bool = False,
    ) -> Path:
        """Run ``command(folder)`` once in a fresh folder, append the sample to ``series``."""
        folder = self.folder()
        argv = command(folder)
        series.command = [_short(a) for a in argv]
        sample = run_once(argv, folder, tree=tree)
        series.samples.append(sample)
        log(f"{series.name}: {sample.wall_s:.2f} s, {sample.rss_mb:.0f} MB")
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
        return folder


def _short(arg: str) -> str:
    """An argument as a reader would type it (paths relative to the repo or a scratch folder)."""
    path = Path(arg)
    if not path.is_absolute():
        return arg
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        pass
    try:  # <tmp>/asldro-bench-*/run-NNN/x -> x
        parts = path.relative_to(tempfile.gettempdir()).parts
    except ValueError:
        return arg
    return str(Path(*parts[2:])) if len(parts) > 2 else arg


def median_of(series: Series, key: str = "wall_s") -> float:
    """Median of a measured field (NaN when nothing was measured)."""
    value = series.median(key)
    return math.nan if value is None else value


# --------------------------------------------------------------------------- sections


Rows = dict[str, tuple[Series, Callable[[Path], list[str]]]]
"""The measured commands of a section: key -> (its series, its command in a fresh folder)."""


def bench_comparison(
    config: Config, runner: Runner, ours: str, asldro_venv: Path | None
) -> tuple[dict[str, Any], Path | None]:
    """Default parameter file of each tool: ASLDRO 2.2.0 and asldro, alternately."""
    rows = _comparison_rows(config, runner.folder(), ours, asldro_venv)
    # warm the page cache and byte-code of our tool (ASLDRO's was warmed by `output params`)
    warm = runner.folder()
    run_once(rows["ours_generate"][1](warm), warm)
    keep = _run_alternately(config, runner, rows, asldro_venv is not None)
    validate = Series("asldro: validate only (asldro validate)", [])
    if keep is not None:
        for _ in range(config.validate_repeats):
            sample = run_once([ours, "validate", str(keep)], runner.folder())
            validate.samples.append(sample)
            log(f"{validate.name}: {sample.wall_s:.2f} s")
        validate.command = [_short(ours), "validate", "ds"]
    result: dict[str, Any] = {name: series.to_json() for name, (series, _) in rows.items()}
    result["ours_validate"] = validate.to_json()
    gen = rows["ours_generate"][0]
    both = rows["ours_generate_validate"][0]
    result["validation_cost_s"] = median_of(both) - median_of(gen)
    if "asldro_2_2_0" in rows:
        result["ratios"] = _ratios(rows["asldro_2_2_0"][0], gen, both)
    return result, keep


def _comparison_rows(config: Config, params: Path, ours: str, asldro_venv: Path | None) -> Rows:
    """The commands of the comparison (their parameter files written into ``params``)."""
    run_once([ours, "output", "params", str(params / "ours.json")], params)
    rows: Rows = {}
    ours_params = str(params / "ours.json")
    if asldro_venv is not None:
        theirs = str(asldro_venv / "bin" / "asldro")
        run_once([theirs, "output", "params", str(params / "theirs.json")], params)
        rows["asldro_2_2_0"] = (
            Series("ASLDRO 2.2.0: generate (.zip)", []),
            lambda f: [
                theirs,
                "generate",
                "--params",
                str(params / "theirs.json"),
                str(f / "dro.zip"),
            ],
        )
    rows["ours_generate"] = (
        Series("asldro: generate, no validation", []),
        lambda f: [ours, "generate", "--params", ours_params, str(f / "ds"), "--skip-validation"],
    )
    if config.zip_row:
        rows["ours_generate_zip"] = (
            Series("asldro: generate, no validation (.zip)", []),
            lambda f: [
                ours,
                "generate",
                "--params",
                ours_params,
                str(f / "dro.zip"),
                "--skip-validation",
            ],
        )
    rows["ours_generate_validate"] = (
        Series("asldro: generate + self-validation", []),
        lambda f: [ours, "generate", "--params", ours_params, str(f / "ds")],
    )
    return rows


def _run_alternately(config: Config, runner: Runner, rows: Rows, with_asldro: bool) -> Path | None:
    """Run the rows in rotating order until each has its repeats; returns the dataset of the
    first validated run (kept for ``asldro validate``)."""
    keep: Path | None = None
    rounds = max(config.repeats, config.asldro_repeats if with_asldro else 0)
    names = list(rows)
    for round_index in range(rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            series, command = rows[name]
            limit = config.asldro_repeats if name == "asldro_2_2_0" else config.repeats
            if len(series.samples) >= limit:
                continue
            is_keeper = name == "ours_generate_validate" and keep is None
            folder = runner.run(series, command, keep=is_keeper)
            if is_keeper:
                keep = folder / "ds"
    return keep


def _ratios(theirs: Series, gen: Series, both: Series) -> dict[str, float]:
    """ASLDRO 2.2.0's medians over ours (generation alone, and with validation)."""
    return {
        "wall": median_of(theirs) / median_of(gen),
        "cpu": median_of(theirs, "cpu_s") / median_of(gen, "cpu_s"),
        "rss": median_of(theirs, "rss_mb") / median_of(gen, "rss_mb"),
        "wall_with_validation": median_of(theirs) / median_of(both),
        "rss_with_validation": median_of(theirs, "rss_mb") / median_of(both, "rss_mb"),
    }


def bench_startup(config: Config, runner: Runner, ours: str, asldro_venv: Path | None) -> dict:
    """``run.py --version``, ``asldro --help`` (and ASLDRO 2.2.0's ``asldro --help``)."""
    commands: dict[str, tuple[str, list[str]]] = {
        "python_floor": ("floor: python -c pass", [sys.executable, "-c", "pass"]),
        "run_py_version": ("run.py --version", [sys.executable, str(REPO / "run.py"), "--version"]),
        "asldro_help": ("asldro --help", [ours, "--help"]),
    }
    if asldro_venv is not None:
        commands["asldro_2_2_0_help"] = (
            "ASLDRO 2.2.0: asldro --help",
            [str(asldro_venv / "bin" / "asldro"), "--help"],
        )
    out: dict[str, Any] = {}
    for key, (name, argv) in commands.items():
        series = Series(name, [_short(a) for a in argv])
        scratch = runner.folder()
        run_once(argv, scratch)  # warm-up
        for _ in range(config.startup_repeats):
            series.samples.append(run_once(argv, scratch))
        log(f"{name}: {median_of(series) * 1000:.0f} ms")
        out[key] = series.to_json()
    return out


def _fits(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Least-squares fits of the asl wall times (x = volumes x acquired voxels, in millions).

    A (the claim to check): ``wall = fixed + per_mvox * x``.
    B (diagnostic): ``wall = fixed + per_volume * volumes + per_mvox * x``; a large
    ``per_volume`` is work done per volume on the ground-truth grid, whatever the matrix.
    """
    import numpy as np

    rows = [r for r in rows if r.get("wall_s")]
    if len(rows) < 3:
        return {}
    wall = np.array([r["wall_s"] for r in rows])
    volumes = np.array([float(r["volumes"]) for r in rows])
    work = np.array([r["volumes"] * r["voxels"] * 1e-6 for r in rows])
    out: dict[str, float] = {}
    for name, columns in (
        ("a", [np.ones_like(wall), work]),
        ("b", [np.ones_like(wall), volumes, work]),
    ):
        design = np.stack(columns, axis=1)
        coef = np.linalg.lstsq(design, wall, rcond=None)[0]
        predicted = design @ coef
        ss_tot = float(np.sum((wall - wall.mean()) ** 2))
        out[f"{name}_fixed_s"] = float(coef[0])
        out[f"{name}_s_per_mvoxel_volume"] = float(coef[-1])
        out[f"{name}_r2"] = 1.0 - float(np.sum((wall - predicted) ** 2)) / ss_tot if ss_tot else 1.0
        if name == "b":
            out["b_s_per_volume"] = float(coef[1])
        for row, value in zip(rows, predicted):
            row[f"fit_{name}_s"] = float(value)
    for row in rows:
        row["marginal_s_per_volume"] = out["b_s_per_volume"] + out["b_s_per_mvoxel_volume"] * (
            row["voxels"] * 1e-6
        )
    return out


def _repeat_case(
    config: Config, runner: Runner, series: Series, command: Callable[[Path], list[str]], **kw: Any
) -> None:
    """Up to ``config.repeats`` runs, fewer once they add up to the case budget."""
    spent = 0.0
    for _ in range(config.repeats):
        runner.run(series, command, **kw)
        spent += series.samples[-1].wall_s
        if spent >= config.case_budget_s and len(series.samples) >= 1:
            break


def bench_scaling(config: Config, runner: Runner, ours: str, base: dict[str, Any]) -> dict:
    """asl series of N volumes at several matrices (motion and noise on), and participants."""
    params = runner.folder()
    gt_file = write_json(params / "gt-only.json", ground_truth_only_params(base))
    gt_series = Series("ground_truth series only (64x64x12)", [])
    _repeat_case(
        config,
        runner,
        gt_series,
        lambda f: [ours, "generate", "--params", str(gt_file), str(f / "ds"), "--skip-validation"],
    )
    cases = [(n, m) for m in config.matrices for n in config.volumes]
    if TARGET_CASE not in cases:
        cases.append(TARGET_CASE)
    asl_rows = [_asl_case(config, runner, ours, params, base, case) for case in cases]
    fit = _fits(asl_rows)
    fit["ground_truth_only_s"] = median_of(gt_series)
    default_file = write_json(params / "default.json", base)
    return {
        "asl": asl_rows,
        "fit": fit,
        "ground_truth_only": gt_series.to_json(),
        "participants": [
            _participants_case(config, runner, ours, default_file, count)
            for count in config.participants
        ],
    }


def _asl_case(
    config: Config,
    runner: Runner,
    ours: str,
    params: Path,
    base: dict[str, Any],
    case: tuple[int, tuple[int, int, int]],
) -> dict[str, Any]:
    """One scaling row: an asl series of ``case`` = (volumes, matrix), parameters in
    ``params``; a failed run is a row with its error."""
    volumes, matrix = case
    label = f"{volumes} vol {'x'.join(map(str, matrix))}"
    path = write_json(
        params / f"asl-{volumes}-{'x'.join(map(str, matrix))}.json",
        asl_params(base, volumes, matrix),
    )
    series = Series(label, [])
    try:
        _repeat_case(
            config,
            runner,
            series,
            lambda f: [ours, "generate", "--params", str(path), str(f / "ds")]
            + ["--skip-validation"],
        )
    except CommandFailed as err:
        log(f"{label}: FAILED {err}")
        series.extra["error"] = str(err)
    row = series.to_json()
    row.update({"volumes": volumes, "matrix": list(matrix), "voxels": math.prod(matrix)})
    if row["wall_s"] is not None:
        row["s_per_volume"] = row["wall_s"] / volumes
    return row


def bench_multi_pld(config: Config, runner: Runner, ours: str, base: dict[str, Any]) -> dict:
    """The multi-PLD protocol (issue 11), and the same volumes at one PLD for comparison:
    wall time, CPU time, peak RSS and the pre-run memory estimate."""
    params = runner.folder()
    volumes = 1 + 2 * MULTI_PLD_PAIRS * len(MULTI_PLD_DELAYS)
    shape = "x".join(map(str, MULTI_PLD_MATRIX))
    rows = []
    for key, one_delay, two_d, label in (
        (
            "multi_pld",
            False,
            False,
            f"m0scan + {len(MULTI_PLD_DELAYS)} PLDs x {MULTI_PLD_PAIRS} pairs",
        ),
        ("one_pld", True, False, f"the same {volumes} volumes at one PLD"),
        ("multi_pld_2d", False, True, "the multi-PLD series, 2D interleaved"),
    ):
        path = write_json(
            params / f"{key}.json", multi_pld_params(base, one_delay=one_delay, two_d=two_d)
        )
        series = Series(label, [])
        _repeat_case(
            config,
            runner,
            series,
            lambda f, path=path: [ours, "generate", "--params", str(path), str(f / "ds")]
            + ["--skip-validation"],
        )
        row = series.to_json()
        row.update(
            {
                "key": key,
                "volumes": volumes,
                "matrix": list(MULTI_PLD_MATRIX),
                "delays": 1 if one_delay else len(MULTI_PLD_DELAYS),
                "readout": "2D" if two_d else "3D",
                "estimate_mib": _estimate_mib(path),
            }
        )
        rows.append(row)
        log(f"multi-PLD {label} at {shape}: {row['wall_s']:.2f} s, {row['rss_mb']:.0f} MB")
    return {"rows": rows}


def _estimate_mib(params_file: Path) -> float:
    """The pre-run peak-memory estimate of ``asldro.pipelines.memory`` (MiB)."""
    from asldro.api import as_params
    from asldro.groundtruth import load_ground_truth
    from asldro.pipelines.memory import MIB, estimate_peak_memory

    params = as_params(params_file)
    truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    return estimate_peak_memory(params, truth).total / MIB


def _participants_case(
    config: Config, runner: Runner, ours: str, default_file: Path, count: int
) -> dict[str, Any]:
    """One row of participants: ``count`` participants of the default parameters on two
    processes."""
    labels = [f"{i + 1:02d}" for i in range(count)]
    series = Series(f"{count} participant(s), --n-procs 2", [])
    _repeat_case(
        config,
        runner,
        series,
        lambda f: [ours, "generate", "--params", str(default_file)]
        + [str(f / "ds"), "--skip-validation", "--n-procs", "2", "--participant-label"]
        + labels,
        tree=True,
    )
    row = series.to_json()
    row["participants"] = count
    row["s_per_participant"] = row["wall_s"] / count
    return row


def bench_floors(dataset: Path | None) -> dict[str, Any]:
    """What bounds the default run: gzip of the structural image, its noise draw, start-up."""
    import numpy as np

    out: dict[str, Any] = {}
    if dataset is not None:
        structural = next(iter(sorted(dataset.glob("sub-*/anat/*T1w.nii.gz"))), None)
        if structural is not None:
            out["structural_gzip"] = _gzip_floors(structural)
            shape = (197, 233, 189)
            rng = np.random.default_rng(0)
            out["structural_noise_draw_s"] = _median_time(
                lambda: rng.standard_normal((2,) + shape, dtype=np.float64)
            )
    return out


def _median_time(function: Callable[[], Any], n: int = 3) -> float:
    """Median wall time (s) of ``n`` calls of ``function``."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _gzip_floors(structural: Path) -> dict[str, Any]:
    """Compression of the structural image's bytes: zlib level 1 with the run-length and with
    the default strategy in one stream, and the writer's own gzip (``asldro.bids.nifti``, chunks
    on the threads of one participant's default budget); and its gunzip."""
    from asldro.bids.nifti import gzip_member
    from asldro.resources import available_cpus

    payload = gzip.decompress(structural.read_bytes())

    def compress(level: int, strategy: int) -> bytes:
        engine = zlib.compressobj(level, zlib.DEFLATED, 31, 8, strategy)
        return engine.compress(payload) + engine.flush()

    raw_mb = len(payload) / 1e6
    threads = available_cpus()  # one participant's default budget, as the writer gets it
    parallel = _median_time(lambda: gzip_member(b"", payload, 1, threads))
    rle = _median_time(lambda: compress(1, zlib.Z_RLE))
    default = _median_time(lambda: compress(1, zlib.Z_DEFAULT_STRATEGY))
    return {
        "file": structural.name,
        "raw_mb": raw_mb,
        "gz_mb": structural.stat().st_size / 1e6,
        "level1_rle_s": rle,
        "level1_rle_mb_per_s": raw_mb / rle,
        "level1_default_s": default,
        "level1_rle_threads": threads,
        "level1_rle_threads_s": parallel,
        "level1_default_mb_per_s": raw_mb / default,
        "gunzip_s": _median_time(lambda: gzip.decompress(structural.read_bytes())),
    }


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 6 with the measured median and whether it is met."""
    targets: list[dict[str, Any]] = []

    def add(name: str, measured: float | None, limit: float, unit: str, higher: bool) -> None:
        if measured is None or (isinstance(measured, float) and math.isnan(measured)):
            targets.append({"target": name, "limit": limit, "unit": unit, "measured": None})
            return
        met = measured >= limit if higher else measured <= limit
        targets.append(
            {
                "target": name,
                "limit": limit,
                "unit": unit,
                "measured": measured,
                "met": met,
                "factor": (measured / limit) if higher else (limit / measured),
            }
        )

    comp = results.get("comparison", {})
    gen = comp.get("ours_generate", {})
    add("default params, generation: wall", gen.get("wall_s"), 3.0, "s", False)
    add("default params, generation: peak RSS", gen.get("rss_mb"), 600.0, "MB", False)
    ratios = comp.get("ratios")
    if ratios:
        add("faster than ASLDRO 2.2.0 (wall ratio)", ratios["wall"], 15.0, "x", True)
        add("less memory than ASLDRO 2.2.0 (RSS ratio)", ratios["rss"], 7.0, "x", True)
    target = next(
        (
            r
            for r in results.get("scaling", {}).get("asl", [])
            if (r["volumes"], tuple(r["matrix"])) == TARGET_CASE
        ),
        None,
    )
    add(
        "asl 100 volumes 96x96x24, motion + noise: wall",
        target.get("wall_s") if target else None,
        10.0,
        "s",
        False,
    )
    startup = results.get("startup", {})
    add("run.py --version", startup.get("run_py_version", {}).get("wall_s"), 0.3, "s", False)
    add("asldro --help", startup.get("asldro_help", {}).get("wall_s"), 0.5, "s", False)
    return targets


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes (~3 min)")
    parser.add_argument("--skip-asldro", action="store_true", help="do not run ASLDRO 2.2.0")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="results file (JSON)")
    parser.add_argument("--repeats", type=int, help="runs per asldro measurement (median)")
    parser.add_argument("--asldro-repeats", type=int, help="runs of ASLDRO 2.2.0 (median)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["comparison", "startup", "scaling", "multipld"],
        help="run only these sections",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print the tables, write the JSON results."""
    args = build_parser().parse_args(argv)
    config = make_config(args)
    sections = set(args.only or ["comparison", "startup", "scaling", "multipld"])
    ours = our_asldro()
    started = time.perf_counter()
    asldro_venv = None if config.skip_asldro else ensure_asldro_venv()
    results: dict[str, Any] = {
        "machine": machine_info(),
        "config": {"quick": bool(args.quick), **vars(config)},
        "versions": {"asldro": package_versions(sys.executable)},
    }
    if asldro_venv is not None:
        results["versions"]["asldro_2_2_0"] = package_versions(str(asldro_venv / "bin" / "python"))
    with tempfile.TemporaryDirectory(prefix="asldro-bench-") as scratch:
        runner = Runner(Path(scratch))
        probe = runner.folder()
        run_once([ours, "output", "params", str(probe / "p.json")], probe)
        base = json.loads((probe / "p.json").read_text(encoding="utf-8"))
        dataset = None
        if "comparison" in sections:
            results["comparison"], dataset = bench_comparison(config, runner, ours, asldro_venv)
        if "startup" in sections:
            results["startup"] = bench_startup(config, runner, ours, asldro_venv)
        if "scaling" in sections:
            results["scaling"] = bench_scaling(config, runner, ours, base)
        if "multipld" in sections:
            results["multi_pld"] = bench_multi_pld(config, runner, ours, base)
        results["floors"] = bench_floors(dataset)
    results["targets"] = evaluate_targets(results)
    results["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["elapsed_s"] = time.perf_counter() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print(render(results))
    log(f"results written to {args.json} ({results['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
