#!/usr/bin/env python3
"""What the HTML report (issue 15; docs/report.md) adds to the default run (not a test).

Run from the repository root with the interpreter asldro is installed in (matplotlib too)::

    .venv/bin/python bench/report_cost.py [--repeats N] [--json PATH]

``asldro generate --skip-validation OUT`` on the default parameters, with the report (the
default) and with ``--no-report``, alternately, each run in a fresh process and a new output
folder; prints the medians (wall and CPU time) and their difference, the report's cost, as a
markdown table, and writes them as JSON (default ``bench/results/report.json``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

# pylint: disable-next=wrong-import-position
from measure import Series, run_once  # noqa: E402

DEFAULT_JSON = BENCH / "results" / "report.json"
ROWS = {
    "with_report": ("asldro: generate, no validation (with the report)", []),
    "no_report": ("asldro: generate, no validation, --no-report", ["--no-report"]),
}


def measure(repeats: int, work: Path) -> dict[str, Series]:
    """The two rows, ``repeats`` runs each, alternately (a warm-up run first)."""
    asldro = str(Path(sys.executable).parent / "asldro")
    series = {key: Series(name, []) for key, (name, _) in ROWS.items()}
    run_once([asldro, "generate", "--skip-validation", str(work / "warm")], work)
    for index in range(repeats):
        for key, (_, extra) in ROWS.items():
            out = work / f"{key}-{index}"
            series[key].samples.append(
                run_once([asldro, "generate", "--skip-validation", *extra, str(out)], work)
            )
            shutil.rmtree(out)
    return series


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        series = measure(args.repeats, Path(work))
    rows = {key: s.to_json() for key, s in series.items()}
    cost = {
        unit: rows["with_report"][unit] - rows["no_report"][unit] for unit in ("wall_s", "cpu_s")
    }
    print("| run | runs | wall s | CPU s |\n|---|---|---|---|")
    for row in rows.values():
        print(f"| {row['name']} | {row['runs']} | {row['wall_s']:.2f} | {row['cpu_s']:.2f} |")
    print(f"\nThe report adds {cost['wall_s']:.2f} s wall ({cost['cpu_s']:.2f} s CPU), medians.")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "report_cost": cost}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
