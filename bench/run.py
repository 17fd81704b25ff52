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
from dataclasses import asdict, dataclass
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
    realistic_params,
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
#: The long series of issue 16: its peak memory is bounded by streaming the volumes to disk.
LONG_CASE = (100, (128, 128, 48))
#: Cohorts of issue 16 (participants on --n-procs 2, then one validation of the dataset).
COHORTS_FULL = (1, 16, 100)
COHORTS_QUICK = (1, 16)
#: How a cohort row writes its participants: one ``asldro generate`` of all (then ``asldro
#: validate``), or ``run.py`` participant jobs of COHORT_JOB labels each (then ``run.py group``).
COHORT_MODES = ("generate", "participant")
COHORT_JOB = 8
#: Issue 16's targets (README "Performance").
LONG_CASE_WALL_S, LONG_CASE_RSS_MB = 24.8, 700.0
REALISTIC_WALL_S, REALISTIC_RSS_MB = 8.0, 700.0
SECTIONS = ("comparison", "startup", "scaling", "multipld", "cohort")


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
    cohorts: tuple[int, ...] = COHORTS_FULL
    cohort_mode: str = "generate"


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
            cohorts=COHORTS_QUICK,
            cohort_mode=args.cohort_mode,
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
        cohort_mode=args.cohort_mode,
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
    same_work = ["--skip-validation", "--no-report"]  # what ASLDRO 2.2.0 does
    rows["ours_generate"] = (
        Series("asldro: generate, no validation, no report", []),
        lambda f: [ours, "generate", "--params", ours_params, str(f / "ds"), *same_work],
    )
    if config.zip_row:
        rows["ours_generate_zip"] = (
            Series("asldro: generate, no validation, no report (.zip)", []),
            lambda f: [ours, "generate", "--params", ours_params, str(f / "dro.zip"), *same_work],
        )
    rows["ours_generate_validate"] = (
        Series("asldro: generate + report + self-validation", []),
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
    out.update(_memory_fit(rows, work))
    return out


def _memory_fit(rows: list[dict[str, Any]], work: Any) -> dict[str, float]:
    """Least-squares fit of the peak RSS: ``rss = fixed + per_mvox * x`` (x as in :func:`_fits`)."""
    import numpy as np

    memory = np.array([r["rss_mb"] for r in rows])
    design = np.stack([np.ones_like(memory), work], axis=1)
    coef = np.linalg.lstsq(design, memory, rcond=None)[0]
    ss_tot = float(np.sum((memory - memory.mean()) ** 2))
    residual = float(np.sum((memory - design @ coef) ** 2))
    return {
        "rss_fixed_mb": float(coef[0]),
        "rss_mb_per_mvoxel_volume": float(coef[1]),
        "rss_r2": 1.0 - residual / ss_tot if ss_tot else 1.0,
    }


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
    if TARGET_CASE not in cases:  # (the full grid holds LONG_CASE; --quick leaves it out)
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


def bench_multi_pld(
    config: Config,
    runner: Runner,
    ours: str,
    base: dict[str, Any],
    keys: Sequence[str] | None = None,
) -> dict:
    """The multi-PLD protocol (issue 11), the same volumes at one PLD for comparison, its 2D
    readout and the realistic protocol of issue 16 (2D, background suppression): wall time,
    CPU time, peak RSS and the pre-run memory estimate; ``keys`` chooses rows."""
    params = runner.folder()
    volumes = 1 + 2 * MULTI_PLD_PAIRS * len(MULTI_PLD_DELAYS)
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
        ("realistic", False, True, "realistic: the 2D series with background suppression"),
    ):
        if keys is not None and key not in keys:
            continue
        path = write_json(
            params / f"{key}.json",
            (
                realistic_params(base)
                if key == "realistic"
                else multi_pld_params(base, one_delay=one_delay, two_d=two_d)
            ),
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
                "background_suppression": key == "realistic",
                "estimate_mib": _estimate_mib(path),
            }
        )
        rows.append(row)
        log(f"multi-PLD {label}: {row['wall_s']:.2f} s, {row['rss_mb']:.0f} MB")
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


def bench_cohort(config: Config, runner: Runner, ours: str, base: dict[str, Any]) -> dict:
    """Cohorts of the default parameter file (issue 16): ``count`` participants on
    ``--n-procs 2`` without validation, then one validation of the whole dataset; per
    participant including that validation. ``config.cohort_mode`` ``participant`` writes them
    as run.py participant jobs of :data:`COHORT_JOB` labels (each job's time is kept: it must not
    grow with the participants already there) and validates with ``run.py group``."""
    default_file = write_json(runner.folder() / "default.json", base)
    rows = []
    for count in config.cohorts:
        folder = runner.folder()
        row = _cohort_row(config.cohort_mode, ours, default_file, folder, count)
        log(
            f"cohort {count}: {row['generate_s']:.1f} s + validation {row['validate_s']:.1f} s"
            f" = {row['s_per_participant']:.2f} s/participant"
        )
        rows.append(row)
        shutil.rmtree(folder, ignore_errors=True)
    return {"rows": rows}


def _cohort_commands(
    mode: str, ours: str, default_file: Path, out: Path, labels: list[str]
) -> tuple[list[list[str]], list[str]]:
    """The commands that write a cohort of ``labels`` into ``out`` and the one that validates
    it, in ``mode`` (:data:`COHORT_MODES`)."""
    if mode == "participant":
        run_py = [sys.executable, str(REPO / "run.py"), str(out)]
        jobs = [
            run_py
            + ["participant", "--params", str(default_file), "--n-procs", "2"]
            + ["--skip-bids-validation", "--participant-label", *labels[i : i + COHORT_JOB]]
            for i in range(0, len(labels), COHORT_JOB)
        ]
        return jobs, run_py + ["group"]
    generate = [ours, "generate", "--params", str(default_file), str(out), "--skip-validation"]
    generate += ["--n-procs", "2", "--participant-label", *labels]
    return [generate], [ours, "validate", str(out)]


def _cohort_row(
    mode: str, ours: str, default_file: Path, folder: Path, count: int
) -> dict[str, Any]:
    """One cohort row: write ``count`` participants, then validate the dataset once."""
    labels = [f"{i + 1:03d}" for i in range(count)]
    jobs, validate = _cohort_commands(mode, ours, default_file, folder / "ds", labels)
    samples = [asdict(run_once(argv, folder, tree=True)) for argv in jobs]
    checked = asdict(run_once(validate, folder, tree=True))
    generate_s = sum(sample["wall_s"] for sample in samples)
    return {
        "participants": count,
        "mode": mode,
        "generate_s": generate_s,
        "validate_s": checked["wall_s"],
        "wall_s": generate_s + checked["wall_s"],
        "s_per_participant": (generate_s + checked["wall_s"]) / count,
        "rss_mb": max(sample["rss_mb"] for sample in [*samples, checked]),
        "tree_rss_mb": max(sample.get("tree_rss_mb") or 0.0 for sample in samples),
        "cpu_s": sum(sample["cpu_s"] for sample in [*samples, checked]),
        "load1": samples[0].get("load1"),
        "jobs_s": [round(sample["wall_s"], 2) for sample in samples],
        "command": [_short(a) for a in jobs[0][:9]] + ["..."],
        "validate_command": [_short(a) for a in validate],
    }


def bench_floors(dataset: Path | None, repeats: int = 5) -> dict[str, Any]:
    """What bounds the default run: gzip of the structural image, its noise draw, and the
    interpreter with numpy, nibabel and scipy imported (a fresh process, median of
    ``repeats``)."""
    import numpy as np

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="asldro-floor-") as scratch:
        argv = [sys.executable, "-c", "import numpy, nibabel, scipy.ndimage"]
        run_once(argv, Path(scratch))  # warm the page cache
        samples = [run_once(argv, Path(scratch)) for _ in range(repeats)]
    out["import_s"] = statistics.median(sample.wall_s for sample in samples)
    if dataset is not None:
        structural = next(iter(sorted(dataset.glob("sub-*/anat/*T1w.nii.gz"))), None)
        if structural is not None:
            out["structural_gzip"] = _gzip_floors(structural)
            shape = (197, 233, 189)
            rng = np.random.default_rng(0)
            out["structural_noise_draw_s"] = _median_time(
                lambda: rng.standard_normal((2,) + shape, dtype=np.float64)
            )
            out["default_run_floor_s"] = (
                out["import_s"]
                + out["structural_noise_draw_s"]
                + out["structural_gzip"]["level1_rle_threads_s"]
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
            targets.append(
                {"target": name, "limit": limit, "unit": unit, "higher": higher, "measured": None}
            )
            return
        met = measured >= limit if higher else measured <= limit
        targets.append(
            {
                "target": name,
                "limit": limit,
                "unit": unit,
                "higher": higher,
                "measured": measured,
                "met": met,
                "factor": (measured / limit) if higher else (limit / measured),
            }
        )

    comp = results.get("comparison", {})
    gen = comp.get("ours_generate", {})
    add("default params, generation: wall", gen.get("wall_s"), 1.5, "s", False)
    add("default params, generation: peak RSS", gen.get("rss_mb"), 600.0, "MB", False)
    ratios = comp.get("ratios")
    if ratios:
        add("faster than ASLDRO 2.2.0 (wall ratio, same work)", ratios["wall"], 20.0, "x", True)
        add("less memory than ASLDRO 2.2.0 (RSS ratio)", ratios["rss"], 10.0, "x", True)
    floor = results.get("floors", {}).get("default_run_floor_s")
    if floor and gen.get("wall_s"):
        add("default params: wall / sum of its floors", gen["wall_s"] / floor, 1.5, "x", False)
    asl_rows = results.get("scaling", {}).get("asl", [])

    def case(wanted: tuple[int, tuple[int, int, int]]) -> dict[str, Any]:
        found = (r for r in asl_rows if (r["volumes"], tuple(r["matrix"])) == wanted)
        return next(found, {})

    add(
        "asl 100 volumes 96x96x24, motion + noise: wall",
        case(TARGET_CASE).get("wall_s"),
        10.0,
        "s",
        False,
    )
    long_row = case(LONG_CASE)
    add(
        "asl 100 volumes 128x128x48, motion: peak RSS",
        long_row.get("rss_mb"),
        LONG_CASE_RSS_MB,
        "MB",
        False,
    )
    add(
        "asl 100 volumes 128x128x48, motion: wall",
        long_row.get("wall_s"),
        LONG_CASE_WALL_S,
        "s",
        False,
    )
    realistic = next(
        (r for r in results.get("multi_pld", {}).get("rows", []) if r.get("key") == "realistic"), {}
    )
    add("realistic multi-PLD protocol: wall", realistic.get("wall_s"), REALISTIC_WALL_S, "s", False)
    add(
        "realistic multi-PLD protocol: peak RSS",
        realistic.get("rss_mb"),
        REALISTIC_RSS_MB,
        "MB",
        False,
    )
    cohorts = results.get("cohort", {}).get("rows", [])
    largest = max(cohorts, key=lambda r: r["participants"], default={})
    if largest:
        add(
            f"cohort of {largest['participants']} incl. group validation: s/participant",
            largest["s_per_participant"],
            1.0,
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
        choices=list(SECTIONS) + ["realistic"],
        help="run only these sections (realistic: the realistic row of multipld alone)",
    )
    parser.add_argument(
        "--cohort-mode",
        choices=COHORT_MODES,
        default="generate",
        help="cohort rows: one asldro generate + asldro validate (default), or run.py "
        "participant jobs + run.py group",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print the tables, write the JSON results."""
    args = build_parser().parse_args(argv)
    config = make_config(args)
    sections = set(args.only or SECTIONS)
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
        if "multipld" in sections or "realistic" in sections:
            keys = None if "multipld" in sections else ["realistic"]
            results["multi_pld"] = bench_multi_pld(config, runner, ours, base, keys)
        if "cohort" in sections:
            results["cohort"] = bench_cohort(config, runner, ours, base)
        results["floors"] = bench_floors(dataset, config.startup_repeats)
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
