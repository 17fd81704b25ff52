"""Python warnings as the user sees them: one ``<prog>: warning: <message>`` line each, once
per run, also when they were raised in a worker process.

The front doors (``asldro``, ``run.py``) wrap a run in :func:`one_line_warnings`; a process pool
runs its jobs through :func:`call_collecting_warnings` and passes what they collected to
:func:`reissue` in the parent, so that a warning raised by several workers is printed once, in
the same format as one raised in the parent. Only the standard library is imported here.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from typing import Any, Callable, Iterable, Iterator, TextIO

#: A warning collected in a worker: category, message, file name, line number (all picklable).
CollectedWarning = tuple[type[Warning], str, str, int]

#: The warning registry of :func:`reissue` (shows a re-issued warning once, as Python would).
_REISSUE_REGISTRY: dict[Any, Any] = {}


def warning_line(prog: str, message: Warning | str) -> str:
    """``<prog>: warning: <message>`` on one line (runs of white space become one space)."""
    return f"{prog}: warning: {' '.join(str(message).split())}"


@contextlib.contextmanager
def one_line_warnings(prog: str) -> Iterator[None]:
    """For the duration: print each warning as :func:`warning_line` on stderr, without the
    source location, and each distinct message once. The warning filters in force (``-W``,
    ``PYTHONWARNINGS``) still apply; everything is restored afterwards."""
    shown: set[tuple[type, str]] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        del filename, lineno, line
        text = warning_line(prog, message)
        if (category, text) not in shown:
            shown.add((category, text))
            print(text, file=file or sys.stderr, flush=True)

    with warnings.catch_warnings():  # also resets the "once per location" registries
        warnings.showwarning = show
        yield


def call_collecting_warnings(
    function: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> tuple[Any, tuple[CollectedWarning, ...]]:
    """Call ``function(*args, **kwargs)`` (in a worker process) and return its result with
    the warnings it raised, collected instead of printed; see :func:`reissue`."""
    with warnings.catch_warnings(record=True) as caught:
        result = function(*args, **kwargs)
    collected = tuple((w.category, str(w.message), w.filename, w.lineno) for w in caught)
    return result, collected


def reissue(collected: Iterable[CollectedWarning]) -> None:
    """Raise again, in this process, warnings collected by :func:`call_collecting_warnings`
    (with their original location; shown once however many workers raised them)."""
    for category, message, filename, lineno in collected:
        warnings.warn_explicit(message, category, filename, lineno, registry=_REISSUE_REGISTRY)
