"""Watching the processes of a run from outside: its validator child, its pool workers (Linux
``/proc``), and waiting for a state of the output folder while the run is alive."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def validator_processes(path: Path) -> list[int]:
    """Live bids-validator(-deno) processes whose command line names ``path``."""
    found = []
    needle = str(path).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"bids-validator" in cmdline and needle in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid``."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def alive(pids: list[int]) -> list[int]:
    """The processes of ``pids`` that still run."""
    return [pid for pid in pids if _alive(pid)]


def kill_all(pids: list[int]) -> None:
    """SIGKILL every process of ``pids`` that still runs (test clean-up)."""
    for pid in alive(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_until(job: subprocess.Popen, condition: Callable[[], bool]) -> None:
    """Poll until ``condition()`` holds; fail if ``job`` ends first."""
    while not condition():
        if job.poll() is not None:
            raise AssertionError(f"the run ended (status {job.returncode}) before the condition")
        time.sleep(0.005)


def hidden_partial_subject(folder: Path) -> bool:
    """True once a hidden temporary folder below ``folder`` holds a NIfTI (writing under way)."""
    try:
        for temp in folder.rglob(".asldro-tmp-*"):
            if temp.is_dir() and any(temp.rglob("*.nii.gz")):
                return True
    except OSError:  # the tree changes while it is read
        return False
    return False


def sigterm_while_writing(job: subprocess.Popen, out: Path) -> tuple[str, list[int]]:
    """Wait until ``job`` (a run with worker processes, stderr piped) is writing a participant
    into ``out``, note its workers, send SIGTERM and wait for it; returns its stderr and the
    workers (the caller checks the exit status and kills what survived)."""
    workers: list[int] = []
    try:
        wait_until(job, lambda: hidden_partial_subject(out))
        workers = children(job.pid)
    finally:
        job.send_signal(signal.SIGTERM)
        _, stderr = job.communicate(timeout=120)
    return stderr, workers
