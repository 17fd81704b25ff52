"""`asldro generate` killed by SIGTERM, SIGINT or SIGKILL (issue 9 item 10): the output is as it
was before, no validator or worker process survives a SIGTERM/SIGINT, no temporary folder is
left, and what a SIGKILL leaves behind is removed by the next run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import document, small
from tests.processes import (
    alive,
    kill_all,
    sigterm_while_writing,
    validator_processes,
    wait_until,
)
from tests.userdata import asldro_leftovers, snapshot

ASLDRO = Path(sys.executable).parent / "asldro"
SMALL = document(small("asl"), small("ground_truth"), small("structural", modality="T1w"))


def _params(folder: Path) -> Path:
    path = folder / "params.json"
    path.write_text(json.dumps(SMALL))
    return path


def _start(*args) -> subprocess.Popen:
    return subprocess.Popen(  # pylint: disable=consider-using-with
        [str(ASLDRO), "generate", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _generate_without_validation(params: Path, out: Path) -> None:
    """``asldro generate --skip-validation`` to completion (it must succeed)."""
    done = subprocess.run(
        [str(ASLDRO), "generate", "--skip-validation", "--params", str(params), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _signal_during_validation(job: subprocess.Popen, out: Path, signum: int) -> str:
    """Wait until the run's bids-validator-deno runs, send ``signum``, return stderr."""
    try:
        wait_until(job, lambda: bool(validator_processes(out)))
    finally:
        job.send_signal(signum)
        _, err = job.communicate(timeout=120)
    return err


@pytest.mark.slow
@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_validation_leaves_nothing(signum, status, tmp_path):
    out = tmp_path / "out"
    job = _start("--params", _params(tmp_path), out)
    try:
        err = _signal_during_validation(job, out, signum)
        assert job.returncode == status, err
        lines = err.splitlines()
        assert lines[0] == "wrote sub-01 (1/1)", err  # progress, before the validation
        assert len(lines) == 2 and "Traceback" not in err, err
        assert validator_processes(out) == []  # killed with the run, not orphaned
        assert not out.exists()  # the run made it: it is gone again
        assert [p.name for p in tmp_path.iterdir()] == ["params.json"]
    finally:
        kill_all(validator_processes(out))


@pytest.mark.slow
def test_sigterm_while_replacing_keeps_the_old_dataset(tmp_path):
    out = tmp_path / "out"
    params = _params(tmp_path)
    _generate_without_validation(params, out)
    before = snapshot(out)
    job = _start("--overwrite", "--seed", "3", "--params", params, out)
    try:
        err = _signal_during_validation(job, out, signal.SIGTERM)
        assert job.returncode == 143, err
        assert validator_processes(out) == []
        assert snapshot(out) == before
    finally:
        kill_all(validator_processes(out))


@pytest.mark.slow
def test_sigterm_stops_the_workers_at_once(tmp_path):
    """Four participants on two processes: SIGTERM while the first ones are being written stops
    the workers; the output folder the run made is removed."""
    out = tmp_path / "out"
    labels = ["--participant-label", "01", "02", "03", "04"]
    job = _start("--skip-validation", "--n-procs", "2", "--params", _params(tmp_path), out, *labels)
    err, workers = sigterm_while_writing(job, out)
    try:
        assert job.returncode == 143, err
        assert workers and alive(workers) == []
        assert not out.exists()
    finally:
        kill_all(workers)


@pytest.mark.slow
def test_what_a_sigkill_leaves_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    params = _params(tmp_path)
    job = _start("--params", params, out)
    try:
        _signal_during_validation(job, out, signal.SIGKILL)
        assert job.returncode == -signal.SIGKILL
    finally:
        kill_all(validator_processes(out))  # an orphan: nothing can stop it on SIGKILL
    assert not list(out.glob("sub-*"))  # nothing visible: the killed run never finished
    _generate_without_validation(params, out)
    assert asldro_leftovers(out) == []
