"""``run.py``: the BIDS-App command line (bids-asl.md §11; DESIGN.md "BIDS-App command line").

::

    run.py [BIDS_DIR] OUTPUT_DIR {participant,group} [--participant-label L [L ...]]
           [--params FILE] [--seed N] [--n-procs N] [--skip-bids-validation] [--version] [--debug]

The two-positional form is primary; with three, ``BIDS_DIR`` is accepted for BIDS-App runners
and never read or written. Exit statuses follow the BIDS-Apps execution specification:
0 ok, 1 unexpected failure, 16 the dataset failed validation, 17 unknown analysis level,
64 usage, 65 invalid parameters or ground truth, 66 no participants (group), 73 the output
cannot be created, 74 I/O error, 130 interrupted (SIGINT), 143 terminated (SIGTERM).
Errors are one line on stderr (``run.py: error: ...``); ``--debug`` adds the traceback.

Nothing heavy is imported at module level: ``run.py --version`` must not load numpy.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn, Sequence

from bids_app.levels import AppError, ExitCode

PROG = "run.py"
LEVELS = ("participant", "group")
LABEL_PATTERN = re.compile(r"[0-9a-zA-Z+]+")  # BIDS label format (schema objects.formats.label)
DEFAULT_LABEL = "01"


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


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _memory_size(text: str) -> int:
    from asldro.pipelines.memory import parse_memory_size

    try:
        return parse_memory_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    """The ``run.py`` argument parser (bids-asl.md §11).

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
            "73 cannot create output, 74 I/O error"
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
        help=f"participant label(s), with or without 'sub-' (default: {DEFAULT_LABEL})",
    )
    parser.add_argument(
        "--params", metavar="FILE", help="ASLDRO parameter file (JSON); default: built-in defaults"
    )
    parser.add_argument(
        "--seed",
        type=_non_negative_int,
        metavar="N",
        help="replace every series' random_seed; noise streams derive from (seed, label)",
    )
    parser.add_argument(
        "--n-procs",
        "--n_procs",
        dest="n_procs",
        type=_positive_int,
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
        type=_memory_size,
        metavar="SIZE",
        help="refuse a run whose estimated peak memory exceeds SIZE (e.g. 16G, 800M; binary "
        "units); default: the memory available on this machine",
    )
    parser.add_argument("-v", "--version", action="version", version=version())
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def clean_labels(values: Sequence[str] | None) -> tuple[str, ...]:
    """Participant labels without a leading ``sub-``, de-duplicated in order (bids-asl.md §11).

    Raises ``AppError`` (exit 64) for anything that is not a BIDS label (``../x``, ``a_b``, ``""``).
    """
    labels: list[str] = []
    for value in values or ():
        label = value[4:] if value.startswith("sub-") else value
        if not LABEL_PATTERN.fullmatch(label):
            raise AppError(
                ExitCode.USAGE,
                f"participant label {value!r} is not a BIDS label (letters, digits and + only)",
            )
        if label not in labels:
            labels.append(label)
    return tuple(labels)


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
        return run_group(output_dir, labels, validate=not args.skip_validation)
    return run_participant(
        output_dir,
        labels or (DEFAULT_LABEL,),
        params_file=args.params,
        seed=args.seed,
        n_procs=args.n_procs,
        validate=not args.skip_validation,
        max_memory=args.max_memory,
    )


def _classify(err: BaseException) -> int:
    """Exit status of an exception raised by the engine (bids-asl.md §11 table)."""

    def engine_type(module: str, name: str) -> Any:
        loaded = sys.modules.get(module)
        return getattr(loaded, name, None) if loaded is not None else None

    if isinstance(err, AppError):
        return err.status
    data_errors = tuple(
        t
        for t in (
            engine_type("asldro.params.errors", "ParamError"),
            engine_type("asldro.groundtruth.errors", "GroundTruthError"),
            engine_type("asldro.groundtruth", "GroundTruthError"),
        )
        if t is not None
    )
    if data_errors and isinstance(err, data_errors):
        return ExitCode.DATA
    output_error = engine_type("asldro.api", "OutputError")
    if output_error is not None and isinstance(err, output_error):
        return ExitCode.CANT_CREATE
    if isinstance(err, OSError):
        return ExitCode.IO_ERROR
    return ExitCode.FAILURE


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, (AppError,)) or _classify(err) in (ExitCode.DATA, ExitCode.CANT_CREATE):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class _Terminated(Exception):
    """SIGTERM arrived (e.g. a SLURM time limit); unwinds so that temporary folders go."""


def _on_sigterm(signum: int, frame: Any) -> NoReturn:  # pylint: disable=unused-argument
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the BIDS-App; returns the exit status (bids-asl.md §11).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments without the program name; default ``sys.argv[1:]``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    previous = None
    try:
        try:
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:  # not the main thread: keep the default handler
            previous = None
        args = build_parser().parse_intermixed_args(argv)
        return int(_run(args))
    except _ParserExit as done:
        return done.status
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except _Terminated:
        print(f"{PROG}: error: terminated (SIGTERM); temporary files removed", file=sys.stderr)
        return ExitCode.TERMINATED
    except Exception as err:  # pylint: disable=broad-except  # one line, never a traceback
        if debug:
            traceback.print_exc()
        print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
        for line in getattr(err, "details", ()):
            print(line, file=sys.stderr)
        return int(_classify(err))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
