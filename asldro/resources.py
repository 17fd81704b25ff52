"""The one resource budget of a run (issue 10 item 5; docs/design.md "Facts in one place").

A run may use ``threads`` CPUs at once. The front doors choose it once (:func:`thread_budget`:
given explicitly, else ``ASLDRO_THREADS``, else the CPUs available to the process) and pass it
down: ``n_procs`` participant processes share it (:func:`threads_per_process`), and inside a
participant the volumes of a series run on that many threads (at most
``asldro.pipelines.asl.MAX_VOLUME_THREADS``). Nothing below the front doors reads the
environment or counts CPUs itself.

Nothing here imports the numeric stack, so argument errors stay fast.
"""

from __future__ import annotations

import os

from asldro.exit_codes import UsageError

#: Environment variable that replaces the default budget (an integer >= 1).
THREADS_VARIABLE = "ASLDRO_THREADS"


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the platform has one (Linux;
    a container's or batch job's CPU set), else ``os.cpu_count()``; at least 1."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def _count_problem(value: int) -> str | None:
    """The rule of a thread count: an integer >= 1."""
    return None if value >= 1 else f"expected an integer >= 1, got {value}"


def check_thread_count(threads: int) -> int:
    """``threads`` given to the Python API, checked: an integer >= 1, else ``ValueError``
    naming it."""
    problem = _count_problem(threads)
    if problem:
        raise ValueError(f"threads: {problem}")
    return int(threads)


def thread_budget(threads: int | None = None) -> int:
    """The CPUs a run may use: ``threads`` when given, else ``ASLDRO_THREADS`` when set, else
    :func:`available_cpus`.

    Raises ``ValueError`` for a given count below 1, and ``UsageError`` (exit 64, one line) when
    ``ASLDRO_THREADS`` is not an integer >= 1.
    """
    if threads is not None:
        return check_thread_count(threads)
    text = os.environ.get(THREADS_VARIABLE)
    if text is None:
        return available_cpus()
    if not text.strip().isdigit() or int(text) < 1:
        raise UsageError(f"{THREADS_VARIABLE}: expected an integer >= 1, got {text!r}")
    return int(text)


def worker_processes(n_procs: int, participants: int) -> int:
    """Participant processes a run starts: ``n_procs``, never more than the participants;
    1 means the participants are generated in this process."""
    if n_procs > 1 and participants > 1:
        return min(n_procs, participants)
    return 1


def threads_per_process(threads: int, processes: int) -> int:
    """Each of ``processes`` participant processes' share of a budget of ``threads``
    (at least 1)."""
    return max(1, threads // max(1, processes))
