"""Run one command in a fresh process and measure wall time, CPU time and peak memory.

Peak RSS comes from the kernel (``os.wait4``: the ``ru_maxrss`` of the command and of the
children it waited for, i.e. the largest single process, the same figure as GNU ``time -f %M``).
With ``tree=True`` the resident memory of the whole process tree is also sampled every
``TREE_INTERVAL`` seconds from ``/proc`` and its peak reported (parallel workers add up there).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

TREE_INTERVAL = 0.05
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1e6


class CommandFailed(RuntimeError):
    """A benchmarked command exited non-zero (its stderr tail is in the message)."""


@dataclass(frozen=True)
class Sample:
    """One run of one command."""

    wall_s: float
    cpu_s: float
    rss_mb: float
    tree_rss_mb: float | None
    load1: float


@dataclass
class Series:
    """Repeated runs of one command, summarised by medians."""

    name: str
    command: list[str]
    samples: list[Sample] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def median(self, key: str) -> float | None:
        """Median of one :class:`Sample` field over the runs (None if never measured)."""
        values = [getattr(s, key) for s in self.samples if getattr(s, key) is not None]
        return statistics.median(values) if values else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary with every sample."""
        return {
            "name": self.name,
            "command": self.command,
            "runs": len(self.samples),
            "wall_s": self.median("wall_s"),
            "cpu_s": self.median("cpu_s"),
            "rss_mb": self.median("rss_mb"),
            "tree_rss_mb": self.median("tree_rss_mb"),
            "load1": self.median("load1"),
            "wall_s_min": min((s.wall_s for s in self.samples), default=None),
            "wall_s_max": max((s.wall_s for s in self.samples), default=None),
            "samples": [asdict(s) for s in self.samples],
            **self.extra,
        }


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces: split after its closing parenthesis
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (0 if it is gone)."""
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE_BYTES
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, ()))
    return total


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(TREE_INTERVAL):
            self.peak = max(self.peak, tree_rss_bytes(self.pid))


def run_once(
    command: Sequence[str],
    cwd: Path,
    *,
    tree: bool = False,
    timeout: float = 1800.0,
    env: dict[str, str] | None = None,
) -> Sample:
    """Run ``command`` in ``cwd`` (stdout/stderr to files there) and measure it.

    Raises :class:`CommandFailed` on a non-zero exit status or a time-out.
    """
    cwd.mkdir(parents=True, exist_ok=True)
    err_path = cwd / "bench.stderr"
    load1 = os.getloadavg()[0]
    returncode, wall, usage, tree_peak = _run_measured(
        command, cwd, tree=tree, timeout=timeout, env=env
    )
    if returncode != 0:
        tail = err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        raise CommandFailed(
            f"{' '.join(command)} exited {returncode} after {wall:.1f} s: " + " | ".join(tail)
        )
    return Sample(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss * 1024 / MB,
        tree_rss_mb=tree_peak / MB if tree_peak is not None else None,
        load1=load1,
    )


def _run_measured(
    command: Sequence[str],
    cwd: Path,
    *,
    tree: bool,
    timeout: float,
    env: dict[str, str] | None,
) -> tuple[int, float, Any, int | None]:
    """Run ``command`` in ``cwd`` with stdout/stderr to ``bench.stdout``/``bench.stderr`` there,
    killed after ``timeout`` s; returns its exit status, wall time (s), resource usage
    (``os.wait4``) and, with ``tree``, the peak resident bytes of its process tree."""
    with open(cwd / "bench.stdout", "wb") as out, open(cwd / "bench.stderr", "wb") as err:
        start = time.perf_counter()
        # pylint: disable-next=consider-using-with  # reaped below with os.wait4 for its rusage
        proc = subprocess.Popen(list(command), cwd=cwd, stdout=out, stderr=err, env=env)
        sampler = _TreeSampler(proc.pid) if tree else None
        if sampler:
            sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        if sampler:
            sampler.done.set()
            sampler.join()
    return proc.returncode, wall, usage, sampler.peak if sampler else None
