#!/usr/bin/env python3
"""Markdown tables from a benchmark results file (``bench/run.py`` writes and prints them).

Usage: ``python bench/table.py [bench/results/bench.json]`` (prints markdown for the README).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "bench.json"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _ratio(theirs: float | None, ours: float | None) -> str:
    if not theirs or not ours:
        return ""
    return f"{theirs / ours:.1f}x"


def comparison_lines(comp: dict[str, Any]) -> list[str]:
    """ASLDRO 2.2.0 versus asldro on each tool's default parameter file."""
    theirs = comp.get("asldro_2_2_0")
    keys = [
        "asldro_2_2_0",
        "ours_generate",
        "ours_generate_zip",
        "ours_generate_validate",
        "ours_validate",
    ]
    rows = []
    for key in keys:
        row = comp.get(key)
        if not row or not row.get("runs"):
            continue
        rows.append(
            [
                row["name"],
                str(row["runs"]),
                _num(row["wall_s"]),
                _num(row["cpu_s"]),
                _num(row["rss_mb"], 0),
                _num(row.get("load1"), 1),
                (
                    ""
                    if not key.startswith("ours_gen")
                    else _ratio(theirs and theirs["wall_s"], row["wall_s"])
                ),
                (
                    ""
                    if not key.startswith("ours_gen")
                    else _ratio(theirs and theirs["rss_mb"], row["rss_mb"])
                ),
            ]
        )
    lines = [
        "**Default parameter file** (medians; ratio = ASLDRO 2.2.0 / row; load = 1-minute load"
        " average before the run, other processes included)",
        "",
    ]
    lines += _table(
        ["run", "runs", "wall s", "CPU s", "peak RSS MB", "load", "wall ratio", "RSS ratio"], rows
    )
    cost = comp.get("validation_cost_s")
    if cost is not None:
        lines += ["", f"Self-validation adds {_num(cost)} s to a run (generate + validation "]
        lines[-1] += "minus generate, medians)."
    return lines


def startup_lines(startup: dict[str, Any]) -> list[str]:
    """Start-up times."""
    rows = [
        [row["name"], str(row["runs"]), _num(row["wall_s"] * 1000, 0), _num(row["rss_mb"], 0)]
        for row in startup.values()
    ]
    return ["**Start-up**", ""] + _table(["command", "runs", "wall ms", "peak RSS MB"], rows)


def scaling_lines(scaling: dict[str, Any]) -> list[str]:
    """asl scaling with the linear fit, and participants in parallel."""
    fit = scaling.get("fit", {})
    rows = []
    for row in scaling.get("asl", []):
        residual = ""
        if row.get("fit_a_s") and row.get("wall_s"):
            residual = f" ({100 * (row['wall_s'] - row['fit_a_s']) / row['fit_a_s']:+.0f}%)"
        rows.append(
            [
                str(row["volumes"]),
                "x".join(map(str, row["matrix"])),
                str(row["runs"]),
                _num(row["wall_s"]),
                _num(row.get("cpu_s")),
                _num(row.get("s_per_volume"), 3),
                _num(row.get("marginal_s_per_volume"), 3),
                _num(row.get("rss_mb"), 0),
                "failed" if "error" in row else _num(row.get("fit_a_s")) + residual,
                _num(row.get("fit_b_s")),
            ]
        )
    lines = ["**asl series scaling** (motion and noise on, no validation)", ""]
    lines += _table(
        [
            "volumes",
            "matrix",
            "runs",
            "wall s",
            "CPU s",
            "s/volume",
            "marginal s/volume (fit B)",
            "peak RSS MB",
            "fit A s (residual)",
            "fit B s",
        ],
        rows,
    )
    if fit:
        lines += [
            "",
            f"Fit A: wall = {_num(fit.get('a_fixed_s'))} s + "
            f"{_num(fit.get('a_s_per_mvoxel_volume'), 3)} s per million (volumes x acquired "
            f"voxels), R^2 = {_num(fit.get('a_r2'), 3)}.",
            f"Fit B: wall = {_num(fit.get('b_fixed_s'))} s + {_num(fit.get('b_s_per_volume'), 3)}"
            f" s per volume + {_num(fit.get('b_s_per_mvoxel_volume'), 3)} s per million (volumes"
            f" x acquired voxels), R^2 = {_num(fit.get('b_r2'), 3)}.",
            f"The ground_truth series alone (64x64x12) takes {_num(fit.get('ground_truth_only_s'))}"
            " s (the fixed cost: start-up, ground truth, dataset files).",
        ]
        if fit.get("rss_fixed_mb") is not None:
            lines.append(
                f"Peak memory: {_num(fit.get('rss_fixed_mb'), 0)} MB + "
                f"{_num(fit.get('rss_mb_per_mvoxel_volume'), 1)} MB per million (volumes x "
                f"acquired voxels), R^2 = {_num(fit.get('rss_r2'), 3)} (the series is streamed to "
                "disk: the slope is the records of the volumes and the report)."
            )
    participants = scaling.get("participants", [])
    if participants:
        rows = [
            [
                str(row["participants"]),
                str(row["runs"]),
                _num(row["wall_s"]),
                _num(row.get("s_per_participant")),
                _num(row.get("rss_mb"), 0),
                _num(row.get("tree_rss_mb"), 0),
                _num(row.get("cpu_s")),
                _num(row.get("load1"), 1),
            ]
            for row in participants
        ]
        lines += ["", "**Participants** (default parameter file, `--n-procs 2`, no validation)", ""]
        lines += _table(
            [
                "participants",
                "runs",
                "wall s",
                "s/participant",
                "peak RSS MB (largest process)",
                "peak RSS MB (all processes)",
                "CPU s",
                "load",
            ],
            rows,
        )
    return lines


def multi_pld_lines(multi: dict[str, Any]) -> list[str]:
    """The multi-PLD protocol and the same volumes at one PLD."""
    rows = [
        [
            row["name"],
            str(row["volumes"]),
            "x".join(map(str, row["matrix"])),
            str(row["runs"]),
            _num(row["wall_s"]),
            _num(row.get("cpu_s")),
            _num(row.get("rss_mb"), 0),
            _num(row.get("estimate_mib"), 0),
            _num(row.get("load1"), 1),
        ]
        for row in multi.get("rows", [])
    ]
    lines = [
        "**Multi-PLD protocol** (pCASL, label duration 1.8 s, PLDs 0.5 to 3.0 s, one m0scan; "
        "motion and noise on, no validation; realistic = 2D interleaved with slice timing and "
        "background suppression; estimate = the pre-run peak-memory estimate)",
        "",
    ]
    return lines + _table(
        [
            "series",
            "volumes",
            "matrix",
            "runs",
            "wall s",
            "CPU s",
            "peak RSS MB",
            "estimate MiB",
            "load",
        ],
        rows,
    )


def cohort_lines(cohort: dict[str, Any]) -> list[str]:
    """Cohorts on two processes, with one validation of the dataset."""
    rows = [
        [
            str(row["participants"]),
            row["mode"],
            _num(row["generate_s"]),
            _num(row["validate_s"]),
            _num(row["s_per_participant"]),
            _num(row.get("rss_mb"), 0),
            _num(row.get("tree_rss_mb"), 0),
            _num(row.get("cpu_s")),
            _num(row.get("load1"), 1),
            (
                ", ".join(_num(t, 1) for t in row["jobs_s"])
                if len(row.get("jobs_s", [])) > 1
                else ""
            ),
        ]
        for row in cohort.get("rows", [])
    ]
    lines = [
        "**Cohorts** (default parameter file, `--n-procs 2`, no validation, then one validation of"
        " the dataset; s/participant includes it; mode generate = `asldro generate` + `asldro "
        "validate`, participant = `run.py` participant jobs + `run.py group`)",
        "",
    ]
    return lines + _table(
        [
            "participants",
            "mode",
            "generate s",
            "validate s",
            "s/participant",
            "peak RSS MB (largest process)",
            "peak RSS MB (all processes)",
            "CPU s",
            "load",
            "each job s",
        ],
        rows,
    )


def floor_lines(floors: dict[str, Any]) -> list[str]:
    """Computational floors of the default run."""
    lines = ["**Floors** (in-process, this machine)", ""]
    gz = floors.get("structural_gzip")
    if not gz:
        if floors.get("import_s") is None:
            return []
        row = [
            "python + import numpy, nibabel, scipy (fresh process)",
            _num(floors["import_s"]),
            "",
        ]
        return lines + _table(["operation", "s", "throughput"], [row])
    rows = [
        [
            f"gzip level 1, RLE (the writer's setting) of {gz['file']} ({gz['raw_mb']:.1f} MB)",
            _num(gz["level1_rle_s"]),
            f"{gz['level1_rle_mb_per_s']:.0f} MB/s",
        ],
        [
            f"the writer's chunked gzip on {gz.get('level1_rle_threads', '?')} threads",
            _num(gz.get("level1_rle_threads_s")),
            (
                f"{gz['raw_mb'] / gz['level1_rle_threads_s']:.0f} MB/s"
                if gz.get("level1_rle_threads_s")
                else ""
            ),
        ],
        [
            "gzip level 1, default strategy, same data",
            _num(gz["level1_default_s"]),
            f"{gz['level1_default_mb_per_s']:.0f} MB/s",
        ],
        ["gunzip of the same file", _num(gz["gunzip_s"]), ""],
    ]
    if "structural_noise_draw_s" in floors:
        rows.append(
            [
                "complex Gaussian noise draw, 197x233x189 (float64)",
                _num(floors["structural_noise_draw_s"]),
                "",
            ]
        )
    if floors.get("import_s") is not None:
        rows.append(
            ["python + import numpy, nibabel, scipy (fresh process)", _num(floors["import_s"]), ""]
        )
    if floors.get("default_run_floor_s"):
        rows.append(
            [
                "sum of the default run's floors (import + noise draw + the writer's gzip)",
                _num(floors["default_run_floor_s"]),
                "",
            ]
        )
    return lines + _table(["operation", "s", "throughput"], rows)


def target_lines(targets: list[dict[str, Any]]) -> list[str]:
    """Targets of issues 6 and 16: met or not, and by what factor."""
    rows = []
    for t in targets:
        unit = t["unit"]
        higher = t.get("higher", unit == "x")  # (results of before issue 16: ratios only)
        limit = f"{'>=' if higher else '<='} {t['limit']:g} {unit}"
        if t.get("measured") is None:
            rows.append([t["target"], limit, "not measured", ""])
            continue
        verdict = "met" if t["met"] else "NOT met"
        rows.append(
            [
                t["target"],
                limit,
                f"{t['measured']:.2f} {unit}",
                f"{verdict} ({t['factor']:.2f}x {'margin' if t['met'] else 'short'})",
            ]
        )
    return ["**Targets**", ""] + _table(["target", "limit", "measured", "verdict"], rows)


def render(results: dict[str, Any]) -> str:
    """All tables as one markdown text."""
    machine = results.get("machine", {})
    versions = results.get("versions", {})
    ours = versions.get("asldro", {})
    theirs = versions.get("asldro_2_2_0", {})
    lines = [
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('memory_gib', '?')} GiB, {machine.get('os', '?')}, "
        f"Python {machine.get('python', '?')}; load average at start "
        f"{machine.get('load_at_start')}, at end {machine.get('load_at_end')}; "
        f"{machine.get('date', '')}.",
        f"asldro {ours.get('asldro', '?')} (numpy {ours.get('numpy', '?')})"
        + (
            f"; ASLDRO {theirs.get('asldro')} (numpy {theirs.get('numpy')}, "
            f"nibabel {theirs.get('nibabel')}, nilearn {theirs.get('nilearn')})"
            if theirs
            else ""
        )
        + ".",
        "",
    ]
    for key, function in (
        ("comparison", comparison_lines),
        ("startup", startup_lines),
        ("scaling", scaling_lines),
        ("multi_pld", multi_pld_lines),
        ("cohort", cohort_lines),
        ("floors", floor_lines),
    ):
        if results.get(key):
            lines += function(results[key]) + [""]
    lines += target_lines(results.get("targets", []))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tables of a results file."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else DEFAULT_JSON
    print(render(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
