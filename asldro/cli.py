"""``asldro``: ASLDRO-compatible command line (docs/physics.md §2.5, docs/design.md "Errors").

Commands::

    asldro generate [--params P.json] OUT          OUT: a folder, or .zip / .tar.gz
    asldro output params FILE.json                  the default parameter file
    asldro output hrgt NAME DIR                     a built-in ground truth in ASLDRO's 5-D format
    asldro validate DIR [--report FILE]             validate a dataset (three layers)
    asldro quantify DATASET [--output-dir DIR] ...  CBF (and ATT) of any BIDS ASL dataset, as
                                                    a derivative (docs/quantify.md)
    asldro score DATASET MAP [MAP ...] ...          a pipeline's maps against the ground truth,
                                                    per tissue, as a derivative (docs/score.md)

Exit status (:class:`asldro.exit_codes.ExitCode`, shared with ``run.py``): 0 ok, 1 unexpected
failure (also: a validator could not run), 16 the dataset failed validation, 64 usage error,
65 bad parameters or ground truth, 69 this Python lacks asldro's dependencies, 73 the output
cannot be created or may not be replaced, 74 I/O error (e.g. a full disk), 130 interrupted
(SIGINT), 143 terminated (SIGTERM). Errors are one line on stderr (``asldro: error: ...``),
followed for a validation by one line per finding (``  ERROR CODE file: message [layer]``,
warnings likewise); ``--debug`` shows the traceback. Python warnings are one line each, once:
``asldro: warning: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from asldro.exit_codes import ExitCode, UsageError, report_error
from asldro.options import (
    DEFAULT_PARTICIPANT_LABEL,
    efficiency,
    memory_size,
    non_negative_int,
    number_or_path,
    participant_labels,
    positive_number,
    process_count,
)
from asldro.progress import Progress

EXIT_OK = ExitCode.OK
EXIT_INVALID = ExitCode.INVALID
EXIT_FAILURE = ExitCode.FAILURE

PROG = "asldro"
BUILTIN_NAMES = ("hrgt_icbm_2009a_nls_3t", "hrgt_icbm_2009a_nls_1.5t")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        raise UsageError(f"{command}: {message}" if command else message)


def _version() -> str:
    from asldro import __version__

    return __version__


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
        metavar="LABEL",
        help="participant label(s) to generate (default: the parameter file's subject_label, "
        f"else {DEFAULT_PARTICIPANT_LABEL})",
    )
    gen.add_argument(
        "--seed", type=non_negative_int, help="replace every series' random_seed (>= 0)"
    )
    gen.add_argument(
        "--n-procs",
        type=process_count,
        default=1,
        help="participants generated in parallel processes (>= 1; default: 1)",
    )
    gen.add_argument(
        "--skip-validation",
        action="store_true",
        help="do not validate the generated dataset (validation is on by default)",
    )
    gen.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing dataset or archive written by asldro (nothing else)",
    )
    add_report_options(gen)
    add_quiet_option(gen)
    gen.add_argument(
        "--max-memory",
        type=memory_size,
        metavar="SIZE",
        help="refuse a run whose estimated peak memory exceeds SIZE (e.g. 16G, 800M; binary "
        "units); default: the memory available on this machine",
    )

    out = commands.add_parser("output", help="write the default parameters or a ground truth")
    what = out.add_subparsers(dest="what", metavar="WHAT", parser_class=_Parser)
    out_params = what.add_parser("params", help="write the default parameter file")
    out_params.add_argument("file", help="JSON file to write")
    out_params.add_argument(
        "--overwrite", action="store_true", help="replace the file if it exists"
    )
    out_hrgt = what.add_parser(
        "hrgt",
        help="write a built-in ground truth (ASLDRO 5-D NIfTI + JSON)",
        description="Built-in ground truths: " + ", ".join(BUILTIN_NAMES),
    )
    out_hrgt.add_argument("name", help="one of: " + ", ".join(BUILTIN_NAMES))
    out_hrgt.add_argument("folder", help="existing folder to write <name>.nii.gz and .json into")
    out_hrgt.add_argument(
        "--overwrite", action="store_true", help="replace <name>.nii.gz and .json if they exist"
    )
    out_hrgt.add_argument(
        "--tissue-model",
        choices=("partial_volume", "single_label"),
        default="partial_volume",
        help="partial_volume (default): seg_label is each voxel's majority tissue and every "
        "quantity that tissue's value (the file format holds one tissue per voxel); "
        "single_label: the label map of asldro before partial volume",
    )

    val = commands.add_parser(
        "validate",
        help="validate a BIDS dataset (writes nothing into it)",
        description="Validate a dataset with the own checks, pybids and bids-validator-deno. "
        "Nothing is written into the dataset. Exit 0 valid, 16 invalid, 1 a validator could "
        "not run.",
    )
    val.add_argument("dataset", help="dataset folder")
    val.add_argument(
        "--report",
        metavar="FILE",
        help="also write the full report as JSON to FILE (an existing FILE is replaced only "
        "if it is an asldro validation report)",
    )
    val.add_argument(
        "--layers",
        nargs="+",
        default=["own", "pybids", "bids-validator"],
        choices=["own", "pybids", "bids-validator"],
        help="validation layers to run (default: all three)",
    )
    _add_quantify_parser(commands)
    _add_score_parser(commands)
    return parser


def add_report_options(parser: argparse.ArgumentParser) -> None:
    """``--report`` / ``--no-report`` (docs/report.md); the same on ``run.py``."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--report",
        dest="report",
        action="store_const",
        const=True,
        default=None,
        help="require the HTML report in derivatives/asldro-report (exit 69 before anything "
        "is written when matplotlib is missing); default: written when matplotlib is "
        "installed, else one warning",
    )
    choice.add_argument(
        "--no-report",
        dest="report",
        action="store_const",
        const=False,
        help="do not write the HTML report",
    )


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress on stderr (``asldro.progress``); the same on ``run.py``."""
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (default: a bar on a terminal, else one line per "
        "participant)",
    )


def _add_derivative_options(parser: argparse.ArgumentParser, command: str) -> None:
    """The output options of a command that writes a derivative (``quantify``, ``score``): its
    folder, replacing its own earlier result, and skipping its validation."""
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        help=f"derivative folder (default: DATASET/derivatives/asldro-{command}); new, empty, "
        f"or an earlier asldro {command} result (replaced with --overwrite)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace an earlier asldro {command} derivative (nothing else)",
    )
    parser.add_argument(
        "--skip-validation", action="store_true", help="do not validate the derivative"
    )


def _add_quantify_parser(commands) -> None:
    """``asldro quantify`` (docs/quantify.md)."""
    from asldro.quantify.models import DEFAULT_MODEL, MODELS

    quant = commands.add_parser(
        "quantify",
        help="quantify CBF (and ATT) of a BIDS ASL dataset into a derivative",
        description="Quantify every ASL run of a BIDS dataset from its files alone (NIfTI, "
        "sidecars, aslcontext.tsv): single PLD with the white paper's formula, multi-PLD with a "
        "least-squares fit of a kinetic model, a run of cbf volumes only (Units mL/100g/min, "
        "one PLD) as their mean. Background suppression: no correction unless "
        "--bs-efficiency-per-pulse. Writes a BIDS derivative (default "
        "DATASET/derivatives/asldro-quantify) and validates it. Exit 0 ok, 16 the derivative "
        "failed validation, 64 usage, 65 the dataset cannot be quantified, 73 the output folder "
        "cannot be written or replaced.",
    )
    quant.add_argument("dataset", help="BIDS dataset folder")
    quant.add_argument(
        "--participant-label",
        "--participant_label",
        nargs="+",
        metavar="LABEL",
        help="quantify only these participants (default: all)",
    )
    quant.add_argument(
        "--model",
        choices=MODELS,
        default=DEFAULT_MODEL,
        help=f"kinetic model of the multi-PLD fit (default: {DEFAULT_MODEL}); single-PLD runs "
        "always use the white paper's formula",
    )
    quant.add_argument(
        "--arterial",
        action="store_true",
        help="also fit the arterial component of multi-PLD runs (writes _abv and _abat)",
    )
    quant.add_argument(
        "--lambda",
        dest="lambda_blood_brain",
        type=positive_number,
        metavar="VALUE",
        help="blood-brain partition coefficient (default: 0.9)",
    )
    quant.add_argument(
        "--t1-blood",
        type=positive_number,
        metavar="SECONDS",
        help="T1 of arterial blood (default: 1.35 s at 1.5 T, 1.65 s at 3 T, 2.087 s at 7 T)",
    )
    quant.add_argument(
        "--labeling-efficiency",
        type=positive_number,
        metavar="ALPHA",
        help="labelling efficiency (default: the sidecar's LabelingEfficiency, else 0.85 "
        "PCASL, 0.68 CASL, 0.98 PASL)",
    )
    quant.add_argument(
        "--t1-tissue",
        type=number_or_path,
        metavar="SECONDS|MAP",
        help="tissue T1 of the full model: seconds, or a NIfTI T1 map on the runs' grid "
        "(default: 1.3 s)",
    )
    quant.add_argument(
        "--m0-tr-correction",
        type=positive_number,
        metavar="T1",
        help="divide each M0 volume by 1 - exp(-TR/T1) with this tissue T1 in s (default: no "
        "correction)",
    )
    quant.add_argument(
        "--bs-efficiency-per-pulse",
        type=efficiency,
        metavar="X",
        help="for runs with BackgroundSuppression true: multiply the labelling efficiency by "
        "X**BackgroundSuppressionNumberPulses, 0 < X <= 1 (ASLPrep's 0.95**N heuristic as an "
        "explicit option; default: 1, no correction, exact for ideal inversions)",
    )
    _add_derivative_options(quant, "quantify")


def _add_score_parser(commands) -> None:
    """``asldro score`` (docs/score.md)."""
    from asldro.scoring import DEFAULT_PURITY, QUANTITIES

    scoring = commands.add_parser(
        "score",
        help="score a pipeline's maps against the ground truth, per tissue",
        description="Compare maps of CBF, ATT, aBV or aBAT (any grid in the ground truth's "
        "world space) with the ground truth of a dataset asldro generated, carried to each "
        "map's grid: per tissue and label (masks from the probseg at --purity, else the dseg) "
        "and over the brain, the bias, relative bias, RMSE, Pearson r and fraction of voxels "
        "within 10 %%. Writes a TSV and a JSON per map into a derivative (default "
        "DATASET/derivatives/asldro-score) and validates it. Exit 0 ok, 16 the derivative "
        "failed validation, 64 usage, 65 a map cannot be scored, 73 the output folder cannot "
        "be written or replaced.",
    )
    scoring.add_argument("dataset", help="a dataset asldro generated")
    scoring.add_argument("maps", nargs="+", metavar="MAP", help="NIfTI map(s) to score")
    scoring.add_argument(
        "--participant-label",
        "--participant_label",
        metavar="LABEL",
        help="whose ground truth (default: the sub- entity of the map's name, else the only "
        "participant)",
    )
    scoring.add_argument(
        "--quantity",
        choices=QUANTITIES,
        help="what every map holds (default: the suffix of its name, e.g. _cbf)",
    )
    scoring.add_argument(
        "--purity",
        type=positive_number,
        default=DEFAULT_PURITY,
        metavar="FRACTION",
        help="a voxel belongs to a tissue when its fraction is at least this, in (0, 1] "
        f"(default: {DEFAULT_PURITY:g})",
    )
    scoring.add_argument(
        "--plots",
        action="store_true",
        help="also write an error-map and a Bland-Altman PNG per map (needs matplotlib: "
        "pip install 'asldro[plots]')",
    )
    _add_derivative_options(scoring, "score")


def _report_status(report, where: Path) -> int:
    """Print a validation report and return the exit status: the summary on stdout; on stderr
    the verdict (``asldro: error: WHERE: the dataset failed validation`` or ``...: validation
    could not run: ...``) and one line per finding. 0 valid, 16 invalid, 1 could not run."""
    from asldro.bids.validate import INVALID, NOT_RUN

    for line in report.summary_lines():
        print(line, flush=True)
    problem = report.problem()
    if problem:
        print(f"{PROG}: error: {where}: {problem}", file=sys.stderr)
    for line in report.finding_lines():
        print(f"  {line}", file=sys.stderr)
    return {INVALID: EXIT_INVALID, NOT_RUN: EXIT_FAILURE}.get(report.status, EXIT_OK)


def _generate(args: argparse.Namespace) -> int:
    from asldro.api import generate
    from asldro.output import output_path

    labels = participant_labels(args.participant_label)
    output_path(args.output)  # an empty output path is a usage error before anything else
    with Progress(len(labels) or 1, quiet=args.quiet) as progress:
        result = generate(
            args.params,
            args.output,
            participant_labels=labels,
            seed=args.seed,
            validate=not args.skip_validation,
            overwrite=args.overwrite,
            n_procs=args.n_procs,
            on_written=progress.participant_done,
            max_memory=args.max_memory,
            report=args.report,
        )
    print(f"wrote {result.output} ({len(result.participants)} participant(s))")
    if result.validation is not None:
        return _report_status(result.validation, result.output)
    return EXIT_OK


def _output_params(args: argparse.Namespace) -> int:
    from asldro.output import output_path, write_user_file
    from asldro.params import default_params

    text = json.dumps(default_params(), indent=2) + "\n"
    target = write_user_file(output_path(args.file), text.encode(), overwrite=args.overwrite)
    print(f"wrote {target}")
    return EXIT_OK


def _output_hrgt(args: argparse.Namespace) -> int:
    from asldro.output import OutputError, output_path, user_file_target

    if args.name not in BUILTIN_NAMES:
        raise UsageError(
            f"output hrgt: unknown ground truth {args.name!r} "
            f"(choose from {', '.join(BUILTIN_NAMES)})"
        )
    folder = output_path(args.folder)
    if not folder.is_dir():
        raise OutputError(f"{folder}: folder does not exist")
    names = (f"{args.name}.nii.gz", f"{args.name}.json")
    for name in names:  # both checked before either is written
        user_file_target(folder / name, overwrite=args.overwrite)
    written = _place_builtin_ground_truth(
        args.name, folder, names, overwrite=args.overwrite, tissue_model=args.tissue_model
    )
    print(f"wrote {written[0]} and {written[1]}")
    return EXIT_OK


def _place_builtin_ground_truth(
    name: str,
    folder: Path,
    files: tuple[str, str],
    *,
    overwrite: bool,
    tissue_model: str = "partial_volume",
) -> list[Path]:
    """Write the built-in ground truth ``name`` as ``files`` (NIfTI, JSON) in a temporary folder
    inside ``folder``, then put both in place; a write failure is an I/O error naming the
    file at its final place."""
    from asldro.bids.atomic import named, temp_dir
    from asldro.groundtruth import GroundTruthError, builtin_ground_truth, write_ground_truth
    from asldro.output import place_user_file

    ground_truth = builtin_ground_truth(name, tissue_model)
    with temp_dir(folder) as temp:
        try:
            write_ground_truth(ground_truth, temp / files[0], temp / files[1])
        except GroundTruthError as err:  # a write failure: an I/O error at its final place
            if isinstance(err.__cause__, OSError):
                raise named(err.__cause__, folder / files[0]) from err
            raise
        return [place_user_file(temp / n, folder / n, overwrite=overwrite) for n in files]


def _validate(args: argparse.Namespace) -> int:
    from asldro.api import OutputError
    from asldro.bids.validate import check_report_file, validate_dataset, write_report_file

    dataset = Path(args.dataset)
    if not dataset.is_dir():
        raise UsageError(f"{PROG} validate: {dataset} is not a folder")
    report_file = Path(args.report) if args.report else None
    if report_file is not None:
        try:
            check_report_file(report_file)  # refuse before validating, not after
        except OSError as err:
            raise OutputError(f"{err} (--report)") from err
    report = validate_dataset(dataset, layers=tuple(args.layers))
    if report_file is not None:
        try:
            write_report_file(report, report_file)
        except OSError as err:
            raise OutputError(f"{report_file}: cannot write the report ({err})") from err
    return _report_status(report, dataset)


def _quantify(args: argparse.Namespace) -> int:
    from asldro.quantify.api import quantify

    result = quantify(
        args.dataset,
        output_dir=args.output_dir,
        model=args.model,
        arterial=args.arterial,
        participant_labels=participant_labels(args.participant_label),
        lambda_blood_brain=args.lambda_blood_brain,
        t1_arterial_blood=args.t1_blood,
        label_efficiency=args.labeling_efficiency,
        t1_tissue=args.t1_tissue,
        m0_tr_correction=args.m0_tr_correction,
        bs_efficiency_per_pulse=args.bs_efficiency_per_pulse,
        overwrite=args.overwrite,
        validate=not args.skip_validation,
    )
    for run, maps in result.maps.items():
        print(f"{run}: {', '.join('_' + suffix for suffix in maps)}")
    print(f"wrote {result.output} ({len(result.maps)} run(s))")
    if result.validation is not None:
        return _report_status(result.validation, result.output)
    return EXIT_OK


def _score(args: argparse.Namespace) -> int:
    from asldro.scoring.api import score

    result = score(
        args.dataset,
        args.maps,
        participant_label=args.participant_label,
        quantity=args.quantity,
        purity=args.purity,
        output_dir=args.output_dir,
        plots=args.plots,
        overwrite=args.overwrite,
        validate=not args.skip_validation,
    )
    for scored in result.maps:
        print(f"{scored.map} ({scored.quantity}, sub-{scored.participant}):")
        for row in scored.rows:
            print("  " + _score_line(row, scored.units))
    print(f"wrote {result.output} ({len(result.maps)} map(s))")
    if result.validation is not None:
        return _report_status(result.validation, result.output)
    return EXIT_OK


def _score_line(row, units: str) -> str:
    """One region's numbers in one line."""

    def number(value, spec: str = ".4g") -> str:
        return "n/a" if value is None else format(value, spec)

    relative = row["relative_bias"]
    return (
        f"{row['region']:<6} n={row['n_voxels']:<6} truth {number(row['mean_truth'])} "
        f"estimate {number(row['mean_estimate'])} {units} bias {number(row['bias'], '+.4g')} "
        f"({'n/a' if relative is None else format(100 * relative, '+.3g') + ' %'}) "
        f"RMSE {number(row['rmse'])} r {number(row['pearson_r'], '.4f')} "
        f"within 10 % {number(row['within_10_percent'], '.1%')}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``asldro`` command line; returns the exit status.

    Warnings are printed as ``asldro: warning: ...``, once each (Python's own format with
    ``--debug``)."""
    from asldro.warning_lines import one_line_warnings

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    with contextlib.nullcontext() if debug else one_line_warnings(PROG):
        return _main(argv, debug)


def _main(argv: list[str], debug: bool) -> int:
    from asldro.interrupts import handling_signals

    try:
        with handling_signals():
            args = build_parser().parse_args(argv)
            if args.command is None or (args.command == "output" and args.what is None):
                raise UsageError(f"a command is required (see '{PROG} --help')")
            handler = {
                "generate": _generate,
                "validate": _validate,
                "quantify": _quantify,
                "score": _score,
                "output": (
                    _output_params if getattr(args, "what", None) == "params" else _output_hrgt
                ),
            }[args.command]
            return handler(args)
    except SystemExit as err:  # --help and --version
        return int(err.code or 0)
    except BaseException as err:  # pylint: disable=broad-except  # one line, never a traceback
        return report_error(err, PROG, debug=debug)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
