#!/usr/bin/env python3
"""Profile one benchmark case with cProfile and print where the time goes.

Usage: ``python bench/profile_case.py {default,asl,realistic} [--volumes N] [--matrix 96x96x24]
[--top N]``

``default`` is ``asldro generate`` on the default parameter file (no validation); ``asl`` is the
scaling case (one asl series, motion and noise on); ``realistic`` is issue 16's realistic
multi-PLD protocol (``bench/protocols.py``). The profile is saved under
``bench/results/`` (open it with ``python -m pstats`` or snakeviz).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

# bench/protocols.py and bench/run.py (pylint may resolve the app's run.py instead)
from protocols import realistic_params  # noqa: E402  pylint: disable=wrong-import-position

# pylint: disable-next=wrong-import-position,no-name-in-module
from run import asl_params  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    """Profile a case in this process and print the top functions."""
    parser = argparse.ArgumentParser(
        prog="bench/profile_case.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("case", choices=["default", "asl", "realistic"])
    parser.add_argument("--volumes", type=int, default=30)
    parser.add_argument("--matrix", default="96x96x24")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    profiler, status, wall = _profile(args.case, args.volumes, args.matrix)
    name = args.case if args.case != "asl" else f"asl-{args.volumes}-{args.matrix}"
    out = BENCH / "results" / f"profile-{name}.prof"
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(out))
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(args.top)
        print(f"== {name}: by {order} (exit {status}, {wall:.2f} s under the profiler)")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip()))
    print(f"profile written to {out}")
    return 0


def _profile(case: str, volumes: int, matrix: str) -> tuple[cProfile.Profile, int, float]:
    """Run ``asldro generate`` (no validation) on the ``case``'s parameters in this process
    under cProfile; returns the profile, the exit status and the wall time (s)."""
    from asldro.cli import main as asldro_main
    from asldro.params import default_params

    with tempfile.TemporaryDirectory(prefix="asldro-profile-") as scratch:
        params = Path(scratch) / "params.json"
        base = json.loads(json.dumps(default_params()))
        if case == "asl":
            base = asl_params(base, volumes, [int(n) for n in matrix.split("x")])
        elif case == "realistic":
            base = realistic_params(base)
        params.write_text(json.dumps(base), encoding="utf-8")
        command = ["generate", "--params", str(params), str(Path(scratch) / "ds")]
        command.append("--skip-validation")
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        status = asldro_main(command)
        profiler.disable()
        wall = time.perf_counter() - start
    return profiler, status, wall


if __name__ == "__main__":
    raise SystemExit(main())
