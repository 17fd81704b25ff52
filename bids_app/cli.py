"""``run.py``: the BIDS-App command line (docs/bids.md §11; docs/design.md "BIDS-App command line").

::

    run.py [BIDS_DIR] OUTPUT_DIR {participant,group} [--participant-label L [L ...]]
           [--params FILE] [--seed N] [--n-procs N] [--skip-bids-validation]
           [--report | --no-report] [--quiet] [--version] [--debug]

The two-positional form is primary; with three, ``BIDS_DIR`` is accepted for BIDS-App runners
and never read or written. Exit statuses follow the BIDS-Apps execution specification
(:class:`asldro.exit_codes.ExitCode`, shared with ``asldro``): 0 ok, 1 unexpected failure,
16 the dataset failed validation, 17 unknown analysis level, 64 usage, 65 invalid parameters or
ground truth, 66 no participants (group), 69 this Python lacks asldro's dependencies, 73 the
output cannot be created or is not an asldro dataset, 74 I/O error, 130 interrupted (SIGINT),
143 terminated (SIGTERM). Errors are one line on stderr (``run.py: error: ...``); ``--debug``
adds the traceback.
Python warnings (also those of worker processes) are one line each, once: ``run.py: warning: ...``.

Nothing heavy is imported at module level: ``run.py --version`` must not load numpy.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from asldro.cli import add_quiet_option, add_report_options
from asldro.exit_codes import UsageError, report_error
from asldro.options import (
    DEFAULT_PARTICIPANT_LABEL,
    memory_size,
    non_negative_int,
    participant_labels,
    process_count,
)
from bids_app.levels import AppError, ExitCode

PROG = "run.py"
LEVELS = ("participant", "group")
DEFAULT_LABEL = DEFAULT_PARTICIPANT_LABEL


class _ParserExit(Exception):
    """argparse finished early (--help, --version) with this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse with its exit 2 mapped to 64 (EX_USAGE) and no ``sys.exit`` of its own."""

    def error(self, message: str) -> NoReturn:
        raise AppError(ExitCode.USAGE, f"{message} (see '{self.prog} --help')")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise _ParserExit(status)


def version() -> str:
    """The project version (the ``version`` file, through ``asldro.__version__``; no numpy)."""
    from asldro import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The ``run.py`` argument parser (docs/bids.md §11).

    The analysis level is a free string here and checked by :func:`main` (unknown -> 17, as the
    execution specification asks; argparse ``choices`` would give a usage error).
    """
    parser = _Parser(
        prog=PROG,
        description=(
            "Generate an ASL digital reference object as a validated BIDS dataset "
            "(BIDS-App). BIDS_DIR is optional and never read or written."
        ),
        epilog=(
            "exit status: 0 ok, 1 failure, 16 dataset failed validation, 17 unknown analysis "
            "level, 64 usage error, 65 invalid parameters, 66 no participants (group), "
            "69 this Python lacks the dependencies, 73 cannot create output or not an asldro "
            "dataset, 74 I/O error, 130 interrupted, 143 terminated"
        ),
    )
    parser.add_argument(
        "bids_dir",
        nargs="?",
        metavar="BIDS_DIR",
        help="placeholder for BIDS-App runners; never read or written",
    )
    parser.add_argument("output_dir", metavar="OUTPUT_DIR", help="the BIDS dataset to write")
    parser.add_argument(
        "analysis_level", metavar="{participant,group}", help="participant or group"
    )
    parser.add_argument(
        "--participant-label",
        "--participant_label",
        dest="participant_label",
        nargs="+",
        metavar="LABEL",
        help="participant label(s), with or without 'sub-' (default: the parameter file's "
        f"subject_label, else {DEFAULT_LABEL})",
    )
    parser.add_argument(
        "--params", metavar="FILE", help="ASLDRO parameter file (JSON); default: built-in defaults"
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        metavar="N",
        help="replace every series' random_seed; noise streams derive from (seed, label)",
    )
    parser.add_argument(
        "--n-procs",
        "--n_procs",
        dest="n_procs",
        type=process_count,
        default=1,
        metavar="N",
        help="participants generated in parallel processes (default: 1)",
    )
    parser.add_argument(
        "--skip-bids-validation",
        "--skip_bids_validator",
        "--skip-bids-validator",
        dest="skip_validation",
        action="store_true",
        help="do not validate the dataset after writing",
    )
    parser.add_argument(
        "--max-memory",
        "--max_memory",
        dest="max_memory",
        type=memory_size,
        metavar="SIZE",
        help="refuse a run whose estimated peak memory exceeds SIZE (e.g. 16G, 800M; binary "
        "units); default: the memory available on this machine",
    )
    add_report_options(parser)
    add_quiet_option(parser)
    parser.add_argument("-v", "--version", action="version", version=version())
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def clean_labels(values: Sequence[str] | None) -> tuple[str, ...]:
    """Participant labels without a leading ``sub-``, de-duplicated in order (docs/bids.md §11;
    the rule is ``asldro.options.participant_labels``, shared with ``asldro generate``).

    Raises ``AppError`` (exit 64) for anything that is not a BIDS label (``../x``, ``a_b``, ``""``).
    """
    try:
        return participant_labels(values)
    except UsageError as err:
        raise AppError(ExitCode.USAGE, str(err)) from None


def _run(args: argparse.Namespace) -> int:
    if args.analysis_level not in LEVELS:
        raise AppError(
            ExitCode.UNKNOWN_LEVEL,
            f"unknown analysis level {args.analysis_level!r} (choose from participant, group)",
        )
    from bids_app.levels import run_group, run_participant

    labels = clean_labels(args.participant_label)
    output_dir = Path(args.output_dir).absolute()
    if args.analysis_level == "group":
        return run_group(output_dir, labels, validate=not args.skip_validation, report=args.report)
    return run_participant(
        output_dir,
        labels,
        params_file=args.params,
        seed=args.seed,
        n_procs=args.n_procs,
        validate=not args.skip_validation,
        max_memory=args.max_memory,
        report=args.report,
        quiet=args.quiet,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the BIDS-App; returns the exit status (docs/bids.md §11).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments without the program name; default ``sys.argv[1:]``.
    """
    from asldro.interrupts import handling_signals
    from asldro.warning_lines import one_line_warnings

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    warnings_shown = contextlib.nullcontext() if debug else one_line_warnings(PROG)
    try:
        with handling_signals(), warnings_shown:
            args = build_parser().parse_intermixed_args(argv)
            return int(_run(args))
    except _ParserExit as done:
        return done.status
    except BaseException as err:  # pylint: disable=broad-except  # one line, never a traceback
        return int(report_error(err, PROG, debug=debug))
