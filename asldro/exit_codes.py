"""The one table of exit statuses of both front doors (``asldro`` and ``run.py``), and the one rule
that turns an error into its status and its one-line message.

The statuses follow the BIDS-Apps execution specification and ``sysexits.h`` (docs/bids.md §11).
Errors that know their status carry it as ``exit_status``; the engine's own error types are
recognised without importing them (only a module already loaded can have raised one), so the
front doors stay fast and work before the numeric stack is importable.
"""

from __future__ import annotations

import enum
import sys
from typing import Iterable

PROJECT_PACKAGES = ("asldro", "bids_app")


class ExitCode(enum.IntEnum):
    """Exit statuses of ``asldro`` and ``run.py``."""

    OK = 0
    FAILURE = 1  # unexpected: a bug
    INVALID = 16  # the dataset failed validation
    UNKNOWN_LEVEL = 17  # run.py: unknown analysis level
    USAGE = 64  # bad arguments (EX_USAGE)
    DATA = 65  # bad parameter file or ground truth (EX_DATAERR)
    NO_INPUT = 66  # run.py group: no dataset or participant (EX_NOINPUT)
    UNAVAILABLE = 69  # this Python lacks asldro's dependencies (EX_UNAVAILABLE)
    CANT_CREATE = 73  # the output cannot be created or may not be replaced (EX_CANTCREAT)
    IO_ERROR = 74  # reading or writing failed, e.g. a full disk (EX_IOERR)
    INTERRUPTED = 130  # SIGINT (128 + 2)
    TERMINATED = 143  # SIGTERM (128 + 15), e.g. a SLURM time limit


class StatusError(Exception):
    """An error that knows its exit status; ``details`` are extra lines printed after it."""

    exit_status: ExitCode = ExitCode.FAILURE

    def __init__(
        self, message: str, status: ExitCode | None = None, details: Iterable[str] = ()
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.exit_status = ExitCode(status)
        self.details = tuple(details)

    @property
    def status(self) -> ExitCode:
        """The exit status."""
        return self.exit_status


class UsageError(StatusError):
    """A command-line usage error (exit 64)."""

    exit_status = ExitCode.USAGE


class OutputError(OSError):
    """The output location cannot be created, or may not be written or replaced (exit 73)."""

    exit_status = ExitCode.CANT_CREATE


def _loaded(module: str, name: str) -> type | None:
    loaded = sys.modules.get(module)
    found = getattr(loaded, name, None) if loaded is not None else None
    return found if isinstance(found, type) else None


def missing_dependency(err: BaseException) -> str | None:
    """The name of the third-party module whose import failed, when ``err`` is that failure."""
    if isinstance(err, ModuleNotFoundError) and err.name:
        top = err.name.split(".")[0]
        if top not in PROJECT_PACKAGES:
            return top
    return None


# pylint: disable-next=too-many-return-statements  # one return per kind of error: the table
def exit_status(err: BaseException) -> ExitCode:
    """The exit status of an error raised by a front door or the engine."""
    from asldro.interrupts import Terminated

    if isinstance(err, Terminated):
        return ExitCode.TERMINATED
    if isinstance(err, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    status = getattr(err, "exit_status", None)
    if isinstance(status, int):
        return ExitCode(status)
    data_errors = tuple(
        t
        for t in (
            _loaded("asldro.params.errors", "ParamError"),
            _loaded("asldro.groundtruth.errors", "GroundTruthError"),
        )
        if t is not None
    )
    if data_errors and isinstance(err, data_errors):
        return ExitCode.DATA
    if missing_dependency(err):
        return ExitCode.UNAVAILABLE
    if isinstance(err, OSError):
        return ExitCode.IO_ERROR
    return ExitCode.FAILURE


def error_text(err: BaseException, program: str) -> str:
    """The one-line message for ``err`` (without the ``program: error:`` prefix).

    Known errors give their own message; an I/O error names the path and the reason; a
    missing dependency says how to get it; an unexpected error adds its type.
    """
    status = exit_status(err)
    module = missing_dependency(err)
    if module:
        return (
            f"this Python ({sys.executable}) lacks the module '{module}' that asldro needs: "
            f"run {program} with the project's environment (.venv/bin/python {program} ..., or "
            "activate .venv first) or install the dependencies into this Python "
            "(python3 -m pip install -e <the asldro checkout>)"
        )
    if status is ExitCode.IO_ERROR and isinstance(err, OSError) and err.strerror:
        where = err.filename if err.filename is not None else ""
        text = f"{where}: {err.strerror}" if where else err.strerror
    else:
        text = str(err)
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())  # one line
    unexpected = status is ExitCode.FAILURE and not isinstance(err, StatusError)
    if unexpected or not text:
        return f"{type(err).__name__}: {text}" if text else type(err).__name__
    return text


def report_error(err: BaseException, program: str, *, debug: bool = False) -> int:
    """Print ``err`` as one line on stderr (``program: error: ...``, then any ``details``; the
    traceback first with ``debug``) and return its exit status."""
    import traceback

    from asldro.interrupts import Terminated

    status = exit_status(err)
    if debug:
        traceback.print_exception(err)
    if isinstance(err, (Terminated, KeyboardInterrupt)):
        what = "terminated (SIGTERM)" if isinstance(err, Terminated) else "interrupted (SIGINT)"
        print(f"{program}: error: {what}; temporary files removed", file=sys.stderr)
        return status
    print(f"{program}: error: {error_text(err, program)}", file=sys.stderr)
    for line in getattr(err, "details", ()):
        print(line, file=sys.stderr)
    return status
