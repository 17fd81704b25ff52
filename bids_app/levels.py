"""The two analysis levels of the BIDS-App (bids-asl.md §11; DESIGN.md "BIDS-App command line").

``participant`` writes ``sub-<label>`` for each label, then (holding the dataset lock) rebuilds
``participants.tsv`` and self-validates. ``group`` rebuilds ``participants.tsv``/``.json`` from
the ``sub-*`` folders present, validates and prints a summary. Only this module and
:mod:`bids_app.cli` know about analysis levels and exit codes; the engine (:mod:`asldro`) is
imported lazily so that ``run.py --version`` stays fast.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

LOCK_NAME = ".asldro.lock"
SCRATCH_PREFIX = ".asldro-scratch-"
TEMP_PATTERN = ".asldro-tmp-*"  # asldro.bids.atomic.TMP_PREFIX
# Cache and temporary-file variables redirected into the output folder (DESIGN.md "Principles":
# only the output folder is written). bids-validator-deno caches in ~/.cache/deno otherwise,
# found through the password database even when HOME is unset.
CACHE_VARIABLES = ("DENO_DIR", "MPLCONFIGDIR", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME")
VALIDATION_ATTEMPTS = 20


class ExitCode(enum.IntEnum):
    """Exit statuses of the BIDS-Apps execution specification (bids-asl.md §11)."""

    OK = 0
    FAILURE = 1
    INVALID = 16
    UNKNOWN_LEVEL = 17
    USAGE = 64
    DATA = 65
    NO_INPUT = 66
    CANT_CREATE = 73
    IO_ERROR = 74
    INTERRUPTED = 130  # SIGINT (128 + 2)
    TERMINATED = 143  # SIGTERM (128 + 15), e.g. a SLURM time limit


class AppError(Exception):
    """An error with a known exit status; ``details`` are extra lines printed after the message."""

    def __init__(self, status: ExitCode, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.details = tuple(details)


# --------------------------------------------------------------------------------------------
# The output folder: creation, the dataset lock, the scratch folder


def prepare_output_dir(output_dir: Path) -> None:
    """Create ``output_dir`` if missing and check that files can be created in it.

    Raises ``AppError`` (exit 73, bids-asl.md §11) with one line when it cannot be used.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise AppError(ExitCode.CANT_CREATE, f"{output_dir}: exists and is not a folder")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output_dir, prefix=".asldro-probe-"):
            pass
    except OSError as err:
        reason = err.strerror or str(err)
        raise AppError(ExitCode.CANT_CREATE, f"{output_dir}: cannot write here ({reason})") from err


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


def _generate_one(params: Any, output_dir: str, label: str, seed: int | None) -> str:
    """Worker: write ``sub-<label>`` (module-level so that a process pool can pickle it)."""
    from asldro.api import generate_participant

    generate_participant(params, output_dir, label, seed=seed)
    return label


def generate_participants(
    params: Any, output_dir: Path, labels: Sequence[str], *, seed: int | None, n_procs: int
) -> None:
    """Generate every label, in ``n_procs`` processes when there are several (§11 participant).

    Each participant's random streams come from (seed, label) in the engine, so the result
    does not depend on the order or the parallelism.
    """
    if n_procs > 1 and len(labels) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(n_procs, len(labels))) as pool:
            futures = [
                pool.submit(_generate_one, params, str(output_dir), label, seed) for label in labels
            ]
            for future in futures:
                label = future.result()
                print(f"wrote sub-{label}", flush=True)
    else:
        for label in labels:
            _generate_one(params, str(output_dir), label, seed)
            print(f"wrote sub-{label}", flush=True)


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
    from asldro.bids.atomic import remove_stale_temp_dirs

    found: list[Path] = []
    for folder in (output_dir, output_dir / "derivatives" / "groundtruth", output_dir / "code"):
        remove_stale_temp_dirs(folder)
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


def finalise_dataset(output_dir: Path, validate: bool) -> Any:
    """Under the dataset lock: rebuild participants.tsv/json, then validate (unless skipped).

    Returns the validation report (None when skipped). A concurrent participant job may rename
    its subject into place during validation; when the subject folders changed while a
    validation failed, the step is repeated (at most ``VALIDATION_ATTEMPTS`` times).
    Raises ``AppError`` (exit 16) when the dataset does not validate.
    """
    from asldro.bids import update_participants

    report = None
    with dataset_lock(output_dir):
        for _ in range(VALIDATION_ATTEMPTS):
            before = _snapshot(output_dir)
            update_participants(output_dir)
            if not validate:
                return None
            from asldro.bids.validate import validate_dataset

            report = validate_dataset(output_dir)
            if report.ok or _snapshot(output_dir) == before:
                break
            print("note: participants changed during validation; validating again", flush=True)
    if report is not None and not report.ok:
        raise AppError(
            ExitCode.INVALID,
            f"{output_dir}: the dataset failed validation",
            details=[*report.summary_lines(), *_error_lines(report)],
        )
    return report


def _error_lines(report: Any) -> list[str]:
    """The error findings of a validation report, one line each:
    ``  CODE dataset/file: message [layer]``."""
    lines = []
    for finding in getattr(report, "findings", ()):
        if str(getattr(finding, "severity", "error")).lower() != "error":
            continue
        dataset, file = getattr(finding, "dataset", ""), getattr(finding, "file", "")
        where = "/".join(part for part in (dataset, file) if part and part != "raw") or "."
        code, message = getattr(finding, "code", "ERROR"), getattr(finding, "message", finding)
        layer = getattr(finding, "layer", "")
        text = f"{code} {where}: {message}" + (f" [{layer}]" if layer else "")
        lines.append("  " + " ".join(text.split()))
    return lines


def _print_report(report: Any) -> None:
    if report is not None:
        for line in report.summary_lines():
            print(line)


# --------------------------------------------------------------------------------------------
# The levels


def run_participant(
    output_dir: Path,
    labels: Sequence[str],
    *,
    params_file: str | None,
    seed: int | None,
    n_procs: int,
    validate: bool,
    max_memory: int | None = None,
) -> int:
    """Participant level (bids-asl.md §11): generate ``sub-<label>`` for each label, rebuild
    participants.tsv and self-validate the dataset. Returns the exit status.

    The ground truth and the estimated peak memory are checked before anything is written
    (``max_memory`` replaces the machine's available memory as the limit)."""
    from asldro.pipelines.memory import check_memory

    params = load_run_params(params_file)  # before anything is written
    check_memory(params, participants=len(labels), parallel=n_procs, max_memory=max_memory)
    created = not output_dir.exists()
    prepare_output_dir(output_dir)
    try:
        with scratch_environment(output_dir):
            generate_participants(params, output_dir, labels, seed=seed, n_procs=n_procs)
            report = finalise_dataset(output_dir, validate)
    except BaseException:
        if created:  # no partial output: remove the folder this run made if nothing is in it
            with contextlib.suppress(OSError):
                output_dir.rmdir()
        raise
    _print_report(report)
    return ExitCode.OK


def run_group(output_dir: Path, labels: Sequence[str], *, validate: bool) -> int:
    """Group level (bids-asl.md §11): rebuild participants.tsv/json from the ``sub-*`` folders,
    validate the whole dataset and print a summary. Returns the exit status.

    Labels given with ``--participant-label`` must all be present (exit 66 otherwise).
    """
    if not output_dir.is_dir():
        raise AppError(
            ExitCode.NO_INPUT,
            f"{output_dir}: no such folder (run the participant level first)",
        )
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
    prepare_output_dir(output_dir)
    with scratch_environment(output_dir):
        report = finalise_dataset(output_dir, validate)
    print(f"{output_dir}: {len(present)} participant(s): " + " ".join(f"sub-{p}" for p in present))
    leftovers = leftover_temporaries(output_dir)
    if leftovers:
        print(
            f"note: {len(leftovers)} hidden temporary item(s) ({TEMP_PATTERN}) in use by "
            "another run or not made by asldro; remove them when no run is writing here",
            file=sys.stderr,
        )
    _print_report(report)
    if report is None:
        print("validation skipped (--skip-bids-validation)", file=sys.stderr)
    return ExitCode.OK
