"""The two analysis levels of the BIDS-App (docs/bids.md §11; docs/design.md, "BIDS-App
command line").

``participant`` writes ``sub-<label>`` for each label (progress on stderr), then (holding the
dataset lock) merges its rows into ``participants.tsv`` and makes a view of what it wrote, which
it validates without the lock: a job's cost does not grow with the participants already there.
``group`` merges every participant's columns into ``participants.tsv``/``.json``, writes the
cohort summary, validates the whole dataset once and prints a summary. Only this module and
:mod:`bids_app.cli` know about analysis levels; the exit statuses are the engine's one table
(:mod:`asldro.exit_codes`), and what may be written where is the engine's one rule
(:mod:`asldro.output`: an empty folder or an asldro dataset). The engine is imported lazily so
that ``run.py --version`` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from asldro.exit_codes import ExitCode, StatusError
from asldro.progress import Progress

LOCK_NAME = ".asldro.lock"
SCRATCH_PREFIX = ".asldro-scratch-"
TEMP_PATTERN = ".asldro-tmp-*"  # asldro.bids.atomic.TMP_PREFIX
# Cache and temporary-file variables redirected into the output folder (docs/design.md "Principles":
# only the output folder is written). bids-validator-deno caches in ~/.cache/deno otherwise,
# found through the password database even when HOME is unset.
CACHE_VARIABLES = ("DENO_DIR", "MPLCONFIGDIR", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME")
VALIDATION_ATTEMPTS = 20


class AppError(StatusError):
    """An error with a known exit status; ``details`` are extra lines printed after the message."""

    def __init__(self, status: ExitCode, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message, status, details)


# --------------------------------------------------------------------------------------------
# The output folder: creation, the dataset lock, the scratch folder


def prepare_output_dir(output_dir: Path, labels: Sequence[str] = ()) -> list[Path]:
    """Check that ``output_dir`` may be written (missing, empty or an asldro dataset whose
    participants of ``labels`` hold only asldro's files), then create it if missing and check
    that files can be created in it. Returns the folders made (``asldro.output``).

    Raises ``OutputError`` (exit 73) with one line when it cannot or may not be used.
    """
    from asldro.output import check_dataset_folder, create_folder

    check_dataset_folder(output_dir, labels)
    return create_folder(output_dir)


@contextlib.contextmanager
def dataset_lock(output_dir: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<output_dir>/.asldro.lock`` (waits for other holders).

    Concurrent participant jobs (SLURM arrays) and the group job serialise the rewrite of
    ``participants.tsv`` and the validation under it. The lock file stays in place; it is a
    dotfile, which bids-validator-deno and pybids ignore.
    """
    import fcntl

    fd = os.open(output_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def scratch_environment(output_dir: Path) -> Iterator[Path]:
    """Point temporary files and tool caches at a hidden folder inside ``output_dir``.

    Sets ``TMPDIR`` (unless it names a writable folder) and every unset variable of
    ``CACHE_VARIABLES`` for the duration, then removes the folder and restores the environment.
    A folder left by a killed run is removed by the next run that finds it unlocked
    (``asldro.bids.atomic.temp_dir``).
    """
    from asldro.bids.atomic import temp_dir

    with temp_dir(output_dir, SCRATCH_PREFIX) as scratch:
        saved = {name: os.environ.get(name) for name in (*CACHE_VARIABLES, "TMPDIR")}
        saved_tempdir = tempfile.tempdir
        try:
            for name in CACHE_VARIABLES:
                if not saved[name]:
                    os.environ[name] = str(scratch)
            current = saved["TMPDIR"]
            if not (current and os.path.isdir(current) and os.access(current, os.W_OK | os.X_OK)):
                os.environ["TMPDIR"] = str(scratch)
                tempfile.tempdir = None  # recomputed from TMPDIR on next use
            yield scratch
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            tempfile.tempdir = saved_tempdir


# --------------------------------------------------------------------------------------------
# Parameters and generation


def load_run_params(params_file: str | None) -> Any:
    """The validated parameters (``asldro.params.load_params``), or the defaults when None.

    ``ParamError`` propagates (exit 65).
    """
    from asldro.api import as_params

    return as_params(params_file)


# --------------------------------------------------------------------------------------------
# Participants and validation


def subject_folders(output_dir: Path) -> list[str]:
    """Labels of the ``sub-*`` folders of the raw dataset, sorted."""
    return sorted(
        entry.name[4:]
        for entry in output_dir.glob("sub-*")
        if entry.is_dir() and not entry.name.startswith(".")
    )


def leftover_temporaries(output_dir: Path) -> list[Path]:
    """Remove the engine's temporary folders left by killed runs (their owner lock is free);
    return those that remain (a run is writing, or they are not ours)."""
    from asldro.bids.dataset import groundtruth_root, remove_stale_temporaries

    remove_stale_temporaries(output_dir)
    found: list[Path] = []
    for folder in (output_dir, groundtruth_root(output_dir), output_dir / "code"):
        found.extend(sorted(folder.glob(TEMP_PATTERN)))
    return found


def _snapshot(output_dir: Path) -> tuple[tuple[str, int], ...]:
    """Names and change times of the subject folders (raw and ground truth) and participants."""
    entries = []
    for folder in (output_dir, output_dir / "derivatives" / "groundtruth"):
        for path in sorted(folder.glob("sub-*")) + [folder / "participants.tsv"]:
            with contextlib.suppress(OSError):
                entries.append((str(path), path.stat().st_mtime_ns))
    return tuple(entries)


def finalise_participants(
    output_dir: Path,
    labels: Sequence[str],
    validate: bool,
    *,
    scratch: Path,
    report_pages: Mapping[str, str] | None = None,
) -> Any:
    """The end of a participant job: under the dataset lock, merge participants.tsv/json (the
    columns of ``labels`` from their provenance), write the report pages of ``labels`` (with
    ``report_pages``, which holds those the worker processes composed, docs/report.md; None
    writes none) and make the job's view in ``scratch``
    (:func:`asldro.bids.view.participant_view`: the dataset-level files, the rows and the
    folders of ``labels``); then, without the lock, validate the view (every layer) and write
    the report to each participant's ``code/sub-<label>_validation.json`` and into its pages.

    The cost does not grow with the participants already in the folder, and concurrent jobs
    validate in parallel; the group level validates the whole dataset. Returns the validation
    report (None when ``validate`` is false). Raises ``AppError`` as :func:`finalise_dataset`.
    """
    from asldro.bids.dataset import update_participants

    with dataset_lock(output_dir):
        update_participants(output_dir, touched=labels)
        pages = _write_pages(
            output_dir, labels if report_pages is not None else (), (False, validate), report_pages
        )
        if not validate:
            return None
        from asldro.bids.view import participant_view

        view = participant_view(output_dir, labels, scratch / "view")
    from asldro.bids.dataset import participant_validation_path
    from asldro.bids.validate import validate_dataset, write_report_file

    report = validate_dataset(view, scratch_dir=scratch)
    for label in labels:
        write_report_file(report, output_dir / participant_validation_path(label))
    if pages:
        from asldro.report import refresh_validation

        refresh_validation(output_dir, pages, report.to_dict())
    _raise_problem(output_dir, report)
    return report


def finalise_dataset(
    output_dir: Path,
    validate: bool,
    *,
    dataset_page: bool = False,
) -> tuple[Any, Any]:
    """The group level's work under the dataset lock: merge participants.tsv/json (every
    participant's columns from its provenance), write the cohort summary
    (``asldro.bids.summary``), write (``dataset_page``) the dataset page (docs/report.md),
    then validate the whole dataset (unless skipped; the report goes to ``code/validation.json``)
    and fill the validation summary into every report page of the dataset.

    Returns the validation report (None when skipped) and the cohort summary (None without
    asldro columns). A concurrent participant job may rename its subject into place during
    validation; when the subject folders changed while a validation failed, the step is
    repeated (at most ``VALIDATION_ATTEMPTS`` times).
    Raises ``AppError`` with exit 16 when the dataset does not validate, exit 1 when a
    validator could not run (and no layer that ran found an error).
    """
    from asldro.bids.dataset import ALL_PARTICIPANTS, update_participants
    from asldro.bids.summary import write_cohort_summary

    report = summary = None
    with dataset_lock(output_dir):
        pages = None
        for _ in range(VALIDATION_ATTEMPTS):
            before = _snapshot(output_dir)
            update_participants(output_dir, touched=ALL_PARTICIPANTS)
            summary = write_cohort_summary(output_dir)
            if pages is None:
                pages = _write_pages(output_dir, (), (dataset_page, validate))
            if not validate:
                return None, summary
            from asldro.bids.validate import validate_dataset

            # the report goes in code/; deno's scratch in OUTPUT_DIR (the only folder written)
            report = validate_dataset(output_dir, write_report=True, scratch_dir=output_dir)
            if report.ok or _snapshot(output_dir) == before:
                break
            print("note: participants changed during validation; validating again", flush=True)
        if pages:
            from asldro.report import refresh_validation

            refresh_validation(output_dir, None)
    _raise_problem(output_dir, report)
    return report, summary


def _raise_problem(output_dir: Path, report: Any) -> None:
    """``AppError`` (exit 16 invalid, 1 could not run) when ``report`` has a problem."""
    problem = report.problem() if report is not None else None
    if problem and report is not None:  # (a problem comes from a report)
        from asldro.bids.validate import INVALID

        raise AppError(
            ExitCode.INVALID if report.status == INVALID else ExitCode.FAILURE,
            f"{output_dir}: {problem}",
            details=[*report.summary_lines(), *_finding_lines(report)],
        )


def _reports_wanted(report: bool | None) -> bool:
    """:func:`asldro.report.reports_wanted` (imported when called)."""
    from asldro.report import reports_wanted

    return reports_wanted(report)


def _write_pages(
    output_dir: Path,
    labels: Sequence[str],
    dataset_page_validate: tuple[bool, bool],
    composed: Mapping[str, str] | None = None,
) -> list[Path]:
    """The report pages of ``labels`` (those ``composed`` holds already composed) and, with
    ``dataset_page_validate[0]``, the dataset page, their validation section pending when
    ``dataset_page_validate[1]``; none written (an empty list) when neither is asked for or a
    file asldro did not write is in the way."""
    dataset_page, validate = dataset_page_validate
    if not (labels or dataset_page):
        return []
    from asldro.report import write_reports

    written = write_reports(
        output_dir, labels, dataset_page=dataset_page, validated=validate, composed=composed
    )
    return written or []


def _finding_lines(report: Any) -> list[str]:
    """The findings of a validation report, one indented line each (errors first):
    ``  ERROR CODE file: message [layer]`` (``asldro.bids.checks.Finding.line``)."""
    return [f"  {line}" for line in report.finding_lines()]


def _print_report(report: Any, scope: Sequence[str] = ()) -> None:
    """The summary on stdout and the (warning) findings of a valid dataset on stderr; with the
    labels of a participant job (``scope``), first the line saying what was validated."""
    if report is not None:
        if scope:
            shown = " ".join(f"sub-{label}" for label in scope)
            print(f"validated {shown} with the dataset-level files (the group level validates all)")
        for line in report.summary_lines():
            print(line, flush=True)
        for line in _finding_lines(report):
            print(line, file=sys.stderr)


# --------------------------------------------------------------------------------------------
# The levels


# pylint: disable-next=too-many-locals  # the level's documented keyword arguments
def run_participant(
    output_dir: Path,
    labels: Sequence[str],
    *,
    params_file: str | None,
    seed: int | None,
    n_procs: int,
    validate: bool,
    max_memory: int | None = None,
    report: bool | None = None,
    sessions: Sequence[str] = (),
    quiet: bool = False,
) -> int:
    """Participant level (docs/bids.md §11): generate ``sub-<label>`` (with every one of
    ``sessions``, docs/bids.md §1.1; none given: the parameter file's,
    ``asldro.api.sessions_for``) for each label (none: the parameter file's ``subject_label``,
    else 01), with progress on stderr (none with ``quiet``:
    :class:`asldro.progress.Progress`), merge participants.tsv, write the
    participants' report pages (``report``: as :func:`asldro.api.generate`'s; docs/report.md)
    and validate what the job wrote (:func:`finalise_participants`). Returns the exit status.

    The ground truth and the estimated peak memory are checked before anything is written
    (``max_memory`` replaces the machine's available memory as the limit). The run may use the
    CPUs of ``asldro.resources.thread_budget`` (``ASLDRO_THREADS``, else the CPUs available),
    shared by the ``n_procs`` processes."""
    from asldro.output import remove_created

    checked = _checked_run(
        output_dir, (labels, sessions), params_file, n_procs, max_memory, seed=seed
    )
    labels = checked[1]
    report = _reports_wanted(report)  # exit 69 before anything is written, if required
    created = prepare_output_dir(output_dir, labels)
    try:
        validation = _generate_and_finalise(
            output_dir,
            checked,
            seed=seed,
            n_procs=n_procs,
            validate=validate,
            pages=report,
            quiet=quiet,
        )
    except BaseException:
        remove_created(created)  # no partial output: the folders this run made, if empty
        raise
    _print_report(validation, scope=labels)
    return ExitCode.OK


def _generate_and_finalise(
    output_dir: Path,
    checked: tuple[Any, tuple[str, ...], tuple[str, ...], Any, int],
    *,
    seed: int | None,
    n_procs: int,
    validate: bool,
    pages: bool,
    quiet: bool,
) -> Any:
    """Write the participants (``checked``: :func:`_checked_run`'s parameters, labels,
    sessions, ground truth and thread budget) with progress on stderr, then
    :func:`finalise_participants`, in the run's scratch folder. Returns the validation
    report."""
    labels = checked[1]
    with scratch_environment(output_dir) as scratch:
        with Progress(len(labels), quiet=quiet) as progress:
            composed = _write_participants(
                output_dir, checked, (seed, n_procs), validate if pages else None, progress
            )
        return finalise_participants(
            output_dir, labels, validate, scratch=scratch, report_pages=composed
        )


def _write_participants(
    output_dir: Path,
    checked: tuple[Any, tuple[str, ...], tuple[str, ...], Any, int],
    seed_procs: tuple[int | None, int],
    pages_validated: bool | None,
    progress: Any,
) -> dict[str, str] | None:
    """Write the participants of ``checked`` (:func:`_generate_and_finalise`) with
    ``seed_procs``' seed and processes; with ``pages_validated`` not None their report pages
    are composed by the worker processes (returned; None: no pages)."""
    from asldro.api import ReportPages, generate_participants

    params, labels, sessions, ground_truth, threads = checked
    # the engine's one participant path: workers are killed at once on SIGTERM/SIGINT or a
    # failure
    composed = generate_participants(
        params,
        output_dir,
        labels,
        seed=seed_procs[0],
        n_procs=seed_procs[1],
        ground_truth=ground_truth,
        on_written=progress.participant_done,
        threads=threads,
        sessions=sessions,
        pages=None if pages_validated is None else ReportPages(validated=pages_validated),
    )
    return None if pages_validated is None else composed


def _checked_run(
    output_dir: Path,
    labels_sessions: tuple[Sequence[str], Sequence[str]],
    params_file: str | None,
    n_procs: int,
    max_memory: int | None,
    *,
    seed: int | None = None,
) -> tuple[Any, tuple[str, ...], tuple[str, ...], Any, int]:
    """Everything the participant level checks before anything is written: the thread budget,
    the parameters (and so the labels and sessions of ``labels_sessions``, when none were
    given), the output folder, then the ground truth, the peak memory and the file names
    (``asldro.api.preflight``). Returns the parameters, the labels, the sessions, the ground
    truth and the budget."""
    from asldro import api
    from asldro.output import check_dataset_folder
    from asldro.resources import thread_budget

    threads = thread_budget()
    params = load_run_params(params_file)
    labels = api.participant_labels_for(params, labels_sessions[0])
    sessions = api.sessions_for(params, tuple(labels_sessions[1]) or None)
    check_dataset_folder(output_dir, labels)
    ground_truth = api.preflight(
        params, output_dir, labels, n_procs, max_memory, threads, sessions=sessions, seed=seed
    )
    return params, labels, sessions, ground_truth, threads


def run_group(
    output_dir: Path, labels: Sequence[str], *, validate: bool, report: bool | None = None
) -> int:
    """Group level (docs/bids.md §11): merge participants.tsv/json (rows: the ``sub-*``
    folders; every participant's columns from its provenance), write the cohort summary
    (``code/cohort_summary.tsv``), the dataset report page (``report``: as
    :func:`asldro.api.generate`'s; docs/report.md), validate the whole dataset and print a
    summary (participants, cohort groups and distributions). Returns the exit status.

    Labels given with ``--participant-label`` must all be present (exit 66 otherwise).
    """
    if not output_dir.is_dir():
        raise AppError(
            ExitCode.NO_INPUT,
            f"{output_dir}: no such folder (run the participant level first)",
        )
    from asldro.output import check_dataset_folder

    check_dataset_folder(output_dir)  # group rewrites participants.tsv: asldro datasets only
    present = subject_folders(output_dir)
    if not present:
        raise AppError(
            ExitCode.NO_INPUT,
            f"{output_dir}: no participants (sub-* folders) found; run the participant level first",
        )
    missing = [label for label in labels if label not in present]
    if missing:
        raise AppError(
            ExitCode.NO_INPUT,
            f"{output_dir}: participant(s) not found: " + ", ".join(f"sub-{m}" for m in missing),
        )
    dataset_page = _reports_wanted(report)
    prepare_output_dir(output_dir)
    with scratch_environment(output_dir):
        validation, summary = finalise_dataset(output_dir, validate, dataset_page=dataset_page)
    print(f"{output_dir}: {len(present)} participant(s): " + " ".join(f"sub-{p}" for p in present))
    if summary is not None:
        for line in summary.lines():
            print(line)
    leftovers = leftover_temporaries(output_dir)
    if leftovers:
        print(
            f"note: {len(leftovers)} hidden temporary item(s) ({TEMP_PATTERN}) in use by "
            "another run or not made by asldro; remove them when no run is writing here",
            file=sys.stderr,
        )
    _print_report(validation)
    if validation is None:
        print("validation skipped (--skip-bids-validation)", file=sys.stderr)
    return ExitCode.OK
