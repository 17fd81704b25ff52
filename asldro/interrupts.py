"""SIGTERM and SIGINT for both front doors (issue 9 item 10).

While :func:`handling_signals` is active, SIGTERM raises :class:`Terminated` and SIGINT raises
``KeyboardInterrupt`` in the main thread, so that every ``finally`` runs: workers and child
processes are stopped, temporary folders removed, a replaced dataset restored. Both derive from
``BaseException``, so ``except Exception`` in the engine never swallows them.

Short critical steps (the renames that swap a dataset into place, removing a temporary folder)
run inside :func:`deferred_signals`: a signal arriving there is acted on when the step is over.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Terminated(BaseException):
    """SIGTERM arrived (e.g. a SLURM time limit or ``docker stop``)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"terminated ({signal.Signals(signum).name})")
        self.signum = signum


class _State(threading.local):  # pylint: disable=too-few-public-methods  # per-thread state
    depth = 0
    pending: int | None = None


_STATE = _State()


def _exception_for(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _on_signal(signum: int, frame: Any) -> None:  # pylint: disable=unused-argument
    if _STATE.depth:
        _STATE.pending = _STATE.pending or signum
        return
    raise _exception_for(signum)


@contextlib.contextmanager
def handling_signals() -> Iterator[None]:
    """Install the SIGTERM/SIGINT handlers for the duration (main thread only; elsewhere the
    process keeps its handlers)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            previous[signum] = signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def signal_pending() -> bool:
    """True when a signal arrived inside the current :func:`deferred_signals` block."""
    return _STATE.pending is not None


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGTERM/SIGINT back during a short critical step; raise them when it is over."""
    _STATE.depth += 1
    try:
        yield
    finally:
        _STATE.depth -= 1
        if not _STATE.depth and _STATE.pending is not None:
            signum, _STATE.pending = _STATE.pending, None
            raise _exception_for(signum)


def worker_signals() -> None:
    """Signal dispositions of a pool worker: SIGINT ignored (Ctrl-C reaches the whole process
    group; the parent stops the workers) and SIGTERM back to the default (die at once)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
