"""``asldro``: ASLDRO-compatible command line (physics.md §2.5, DESIGN.md "Errors").

Commands::

    asldro generate [--params P.json] OUT          OUT: a folder, or .zip / .tar.gz
    asldro output params FILE.json                  the default parameter file
    asldro output hrgt NAME DIR                     a built-in ground truth in ASLDRO's 5-D format
    asldro validate DIR                             validate a dataset (three layers)

Exit status: 0 ok, 1 unexpected failure, 16 the dataset failed validation, 64 usage error,
65 bad parameters or ground truth, 73 the output cannot be created. Errors are one line on
stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Sequence

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 16
EXIT_USAGE = 64
EXIT_DATA = 65
EXIT_CANT_CREATE = 73

PROG = "asldro"
BUILTIN_NAMES = ("hrgt_icbm_2009a_nls_3t", "hrgt_icbm_2009a_nls_1.5t")


class UsageError(Exception):
    """A command-line usage error (exit 64)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _version() -> str:
    from asldro import __version__

    return __version__


def _memory_size(text: str) -> int:
    from asldro.pipelines.memory import parse_memory_size

    try:
        return parse_memory_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    """The ``asldro`` argument parser (all sub-commands)."""
    parser = _Parser(
        prog=PROG,
        description="Generate digital reference objects for ASL MRI as validated BIDS datasets.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gen = commands.add_parser("generate", help="generate a DRO as a BIDS dataset")
    gen.add_argument("output", help="output folder, or an archive path ending in .zip or .tar.gz")
    gen.add_argument("--params", help="parameter file (JSON); default: the built-in defaults")
    gen.add_argument(
        "--participant-label",
        "--participant_label",
        nargs="+",
        default=["01"],
        metavar="LABEL",
        help="participant label(s) to generate (default: 01)",
    )
    gen.add_argument("--seed", type=int, help="replace every series' random_seed")
    gen.add_argument("--n-procs", type=int, default=1, help="participants generated in parallel")
    gen.add_argument(
        "--skip-validation",
        action="store_true",
        help="do not validate the generated dataset (validation is on by default)",
    )
    gen.add_argument(
        "--overwrite", action="store_true", help="replace the contents of a non-empty output"
    )
    gen.add_argument(
        "--max-memory",
        type=_memory_size,
        metavar="SIZE",
        help="refuse a run whose estimated peak memory exceeds SIZE (e.g. 16G, 800M; binary "
        "units); default: the memory available on this machine",
    )

    out = commands.add_parser("output", help="write the default parameters or a ground truth")
    what = out.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser)
    out_params = what.add_parser("params", help="write the default parameter file")
    out_params.add_argument("file", help="JSON file to write")
    out_hrgt = what.add_parser(
        "hrgt",
        help="write a built-in ground truth (ASLDRO 5-D NIfTI + JSON)",
        description="Built-in ground truths: " + ", ".join(BUILTIN_NAMES),
    )
    out_hrgt.add_argument("name", help="one of: " + ", ".join(BUILTIN_NAMES))
    out_hrgt.add_argument("folder", help="existing folder to write <name>.nii.gz and .json into")

    val = commands.add_parser("validate", help="validate a BIDS dataset written by asldro")
    val.add_argument("dataset", help="dataset folder")
    val.add_argument(
        "--layers",
        nargs="+",
        default=["own", "pybids", "bids-validator"],
        choices=["own", "pybids", "bids-validator"],
        help="validation layers to run (default: all three)",
    )
    return parser


def _print_report(report) -> None:
    for line in report.summary_lines():
        print(line)
    if not report.ok:
        for finding in report.findings:
            if getattr(finding, "severity", "") == "error":
                print(f"  {finding}", file=sys.stderr)


def _generate(args: argparse.Namespace) -> int:
    from asldro.api import generate
    from asldro.params import load_params, default_params

    labels = [_clean_label(label) for label in args.participant_label]
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"{PROG} generate: --seed must be >= 0, got {args.seed}")
    if args.n_procs < 1:
        raise UsageError(f"{PROG} generate: --n-procs must be >= 1, got {args.n_procs}")
    params = load_params(args.params) if args.params else load_params(default_params())
    result = generate(
        params,
        args.output,
        participant_labels=labels,
        seed=args.seed,
        validate=not args.skip_validation,
        overwrite=args.overwrite,
        n_procs=args.n_procs,
        max_memory=args.max_memory,
    )
    print(f"wrote {result.output} ({len(result.participants)} participant(s))")
    if result.validation is not None:
        _print_report(result.validation)
        if not result.validation.ok:
            return EXIT_INVALID
    return EXIT_OK


def _clean_label(label: str) -> str:
    import re

    label = label[4:] if label.startswith("sub-") else label
    if not re.fullmatch(r"[0-9a-zA-Z+]+", label):
        raise UsageError(
            f"{PROG}: participant label {label!r} is not a BIDS label (letters, digits and + only)"
        )
    return label


def _output_params(args: argparse.Namespace) -> int:
    from asldro.params import default_params

    target = Path(args.file)
    if not target.parent.is_dir():
        from asldro.api import OutputError

        raise OutputError(f"{target.parent}: folder does not exist")
    text = json.dumps(default_params(), indent=2) + "\n"
    tmp = target.with_name(f".{target.name}.asldro-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    print(f"wrote {target}")
    return EXIT_OK


def _output_hrgt(args: argparse.Namespace) -> int:
    from asldro.api import OutputError
    from asldro.groundtruth import builtin_ground_truth, write_ground_truth

    if args.name not in BUILTIN_NAMES:
        raise UsageError(
            f"{PROG} output hrgt: unknown ground truth {args.name!r} "
            f"(choose from {', '.join(BUILTIN_NAMES)})"
        )
    folder = Path(args.folder)
    if not folder.is_dir():
        raise OutputError(f"{folder}: folder does not exist")
    nifti = folder / f"{args.name}.nii.gz"
    write_ground_truth(builtin_ground_truth(args.name), nifti, folder / f"{args.name}.json")
    print(f"wrote {nifti} and {nifti.with_suffix('').with_suffix('.json')}")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from asldro.bids.validate import validate_dataset

    dataset = Path(args.dataset)
    if not dataset.is_dir():
        raise UsageError(f"{PROG} validate: {dataset} is not a folder")
    report = validate_dataset(dataset, layers=tuple(args.layers))
    _print_report(report)
    return EXIT_OK if report.ok else EXIT_INVALID


def _exit_status(err: BaseException) -> int:
    from asldro.api import OutputError
    from asldro.groundtruth import GroundTruthError
    from asldro.params import ParamError

    if isinstance(err, UsageError):
        return EXIT_USAGE
    if isinstance(err, (ParamError, GroundTruthError)):
        return EXIT_DATA
    if isinstance(err, OutputError):
        return EXIT_CANT_CREATE
    return EXIT_FAILURE


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Show a warning as one ``asldro: warning: ...`` line (no source line)."""
    del category, filename, lineno, line
    print(f"{PROG}: warning: {message}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``asldro`` command line; returns the exit status."""
    import warnings

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if not debug:
        warnings.showwarning = _one_line_warning
    try:
        args = build_parser().parse_args(argv)
        if args.command is None or (args.command == "output" and args.what is None):
            raise UsageError(f"{PROG}: a command is required (see '{PROG} --help')")
        handler = {
            "generate": _generate,
            "validate": _validate,
            "output": _output_params if getattr(args, "what", None) == "params" else _output_hrgt,
        }[args.command]
        return handler(args)
    except SystemExit as err:  # --help and --version
        return int(err.code or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as err:  # pylint: disable=broad-except  # one line, never a traceback
        if debug:
            traceback.print_exc()
        message = str(err) if isinstance(err, UsageError) else f"{PROG}: error: {err}"
        print(message.splitlines()[0] if message else f"{PROG}: error", file=sys.stderr)
        return _exit_status(err)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
