"""``./run.py`` as separate processes: concurrent SLURM-style jobs, SIGKILL midway, and a run
that may write only into OUTPUT_DIR with HOME unset (docs/bids.md §11; docs/design.md "Principles").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.bids_app.conftest import (
    RUN_PY,
    app_env,
    full_validation,
    participants,
    run_app,
    small_document,
    tree,
)
from tests.processes import (
    alive,
    hidden_partial_subject,
    kill_all,
    sigterm_while_writing,
    validator_processes,
    wait_until,
)
from tests.userdata import asldro_leftovers

LABELS = ("01", "02", "03", "04")


@pytest.mark.slow
def test_four_participant_jobs_at_once_then_group(tmp_path, small_params):
    """Four participant processes started together into one folder (as a SLURM array does),
    then one group job: every job succeeds and the dataset lists all four and validates."""
    out = tmp_path / "out"  # created by the jobs themselves, concurrently
    jobs = [
        subprocess.Popen(  # pylint: disable=consider-using-with
            [str(RUN_PY), *(["/dev/null"] if i % 2 else []), str(out), "participant"]
            + ["--participant-label", label, "--params", str(small_params)],
            env=app_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, label in enumerate(LABELS)
    ]
    results = [(job.wait(), *job.communicate()) for job in jobs]
    for rc, stdout, stderr in results:
        assert rc == 0, stdout + stderr
        assert "raw dataset: OK" in stdout
    done = run_app(out, "group")
    assert done.returncode == 0, done.stderr
    assert "4 participant(s): sub-01 sub-02 sub-03 sub-04" in done.stdout
    assert participants(out) == [f"sub-{label}" for label in LABELS]
    report = full_validation(out)
    assert report.ok, report.summary_lines()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".asldro.lock"]


def start_participant_jobs(out: Path, labels: list[str], params: Path) -> list[subprocess.Popen]:
    """One ``run.py participant`` process per label, all started at once (a SLURM array)."""
    return [
        subprocess.Popen(  # pylint: disable=consider-using-with
            [str(RUN_PY), str(out), "participant", "--participant-label", label]
            + ["--params", str(params)],
            env=app_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label in labels
    ]


COHORT = {
    "seed": 2,
    "tissues": {
        "grey_matter": {"perfusion_rate": {"distribution": "normal", "mean": 60.0, "sd": 5.0}}
    },
    "groups": [
        {"name": "control", "participants": ["01", "03", "05", "07"]},
        {"name": "patient", "participants": ["02", "04", "06", "08"]},
    ],
}


@pytest.mark.slow
def test_eight_participant_jobs_at_once_keep_every_row_and_column(tmp_path):
    """Eight participant processes of a cohort at once into one folder, then the group job
    (issue 14): each job validates its own view, the dataset is valid, participants.tsv has the
    eight rows with every participant's drawn columns (as its provenance says), and a column
    the user added before the run keeps its values."""
    params = tmp_path / "cohort.json"
    document = small_document()
    document["global_configuration"]["cohort"] = COHORT
    params.write_text(json.dumps(document))
    out = tmp_path / "out"
    first = run_app(out, "participant", "--params", params, "--skip-bids-validation")
    assert first.returncode == 0, first.stderr
    (out / "participants.tsv").write_text("participant_id\tage\nsub-01\t33\n")
    labels = [f"{n:02d}" for n in range(1, 9)]  # sub-01 is written again, concurrently
    jobs = start_participant_jobs(out, labels, params)
    results = [(job.wait(), *job.communicate()) for job in jobs]
    for label, (rc, stdout, stderr) in zip(labels, results):
        assert rc == 0, stdout + stderr
        assert f"validated sub-{label} with the dataset-level files" in stdout
        assert f"wrote sub-{label} (1/1)" in stderr.splitlines()
    done = run_app(out, "group")
    assert done.returncode == 0, done.stderr
    assert f"8 participant(s): {' '.join(f'sub-{label}' for label in labels)}" in done.stdout
    rows = [line.split("\t") for line in (out / "participants.tsv").read_text().splitlines()]
    assert rows[0] == ["participant_id", "age", "group", "grey_matter_perfusion_rate"]
    assert [row[:3] for row in rows[1:]] == [
        [f"sub-{label}", "33" if label == "01" else "n/a", group]
        for label, group in zip(labels, ["control", "patient"] * 4)
    ]
    for label, row in zip(labels, rows[1:]):
        provenance = json.loads((out / "code" / "provenance" / f"sub-{label}.json").read_text())
        drawn = {c["name"]: c["value"] for c in provenance["participant"]["columns"]}
        assert float(row[3]) == pytest.approx(drawn["grey_matter_perfusion_rate"], rel=1e-9)
    assert len({row[3] for row in rows[1:]}) == 8  # each participant's own draw
    assert sorted(p.name for p in (out / "code").glob("sub-*_validation.json")) == [
        f"sub-{label}_validation.json" for label in labels
    ]
    report = full_validation(out)
    assert report.ok, report.summary_lines()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".asldro.lock"]


@pytest.mark.slow
def test_sigkill_midway_leaves_nothing_partial_and_a_rerun_completes(tmp_path, small_params):
    out, reference = tmp_path / "out", tmp_path / "reference"
    argv = [str(RUN_PY), str(out), "participant", "--participant-label", "01"]
    argv += ["--params", str(small_params), "--seed", "5"]
    job = subprocess.Popen(  # pylint: disable=consider-using-with
        argv, env=app_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while job.poll() is None and not hidden_partial_subject(out):
            time.sleep(0.001)
    finally:
        job.send_signal(signal.SIGKILL)
        rc = job.wait()
    assert rc == -signal.SIGKILL, "the run ended before it could be killed"

    # The reference: the same participant written by an uninterrupted run.
    done = run_app(
        reference,
        "participant",
        "--participant-label",
        "01",
        "--params",
        small_params,
        "--seed",
        "5",
        "--skip-bids-validation",
    )
    assert done.returncode == 0, done.stderr
    complete = tree(reference / "sub-01")

    # Killed midway: the raw subject is absent or complete, never partial; participants.tsv
    # names no absent subject.
    visible = out / "sub-01"
    assert not visible.exists() or tree(visible) == complete
    if (out / "participants.tsv").exists() and not visible.exists():
        assert participants(out) == []
    assert not [p for p in out.iterdir() if p.name.startswith("sub-") and p != visible]

    # A rerun completes it, reproducing the uninterrupted result bit for bit.
    done = run_app(*argv[1:])
    assert done.returncode == 0, done.stderr
    assert tree(out / "sub-01") == complete
    assert participants(out) == ["sub-01"]
    report = full_validation(out)
    assert report.ok, report.summary_lines()
    # The killed run's scratch and writer temporary folders are gone: their owner lock was
    # free, so the rerun removed them; nothing hidden is left for group to report.
    assert not list(out.glob(".asldro-scratch-*"))
    assert not list(out.glob(".asldro-tmp-*"))
    done = run_app(out, "group")
    assert done.returncode == 0, done.stderr
    assert "hidden temporary item" not in done.stderr


# --------------------------------------------------------------------------------------------
# Only OUTPUT_DIR is written, with HOME unset (strace records every file-system write)

WRITE_CALLS = {
    "creat",
    "mkdir",
    "mkdirat",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "rmdir",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "truncate",
}
OPEN_CALLS = {"open", "openat"}
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+)")
PATH_ARG = re.compile(r'(?:(?:AT_FDCWD|\d+)<(?P<dir>[^>]*)>,\s*)?"(?P<path>[^"]*)"')


def written_paths(trace_files: list[Path]) -> set[str]:
    """Absolute paths created, opened for writing, renamed or removed by successful calls in
    ``strace -ff -y`` output files (one per process, so no call is split across lines)."""
    paths = set()
    for file in trace_files:
        for line in file.read_text(errors="replace").splitlines():
            match = CALL.match(line)
            if not match or int(match["ret"]) < 0:
                continue
            name, args = match["name"], match["args"]
            if name in OPEN_CALLS:
                if not any(flag in args for flag in WRITE_FLAGS):
                    continue
            elif name not in WRITE_CALLS:
                continue
            for arg in PATH_ARG.finditer(args):
                path = arg["path"]
                if not path.startswith("/"):
                    path = os.path.join(arg["dir"] or "<unknown cwd>", path)
                paths.add(os.path.normpath(path))
    return paths


def strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    done = subprocess.run(
        ["strace", "-qq", "-o", os.devnull, "true"], capture_output=True, check=False
    )
    return done.returncode == 0


@pytest.mark.slow
def test_only_output_dir_is_written_with_home_unset(tmp_path, small_params):
    """Participant (two labels in two processes) and group with HOME unset, TMPDIR pointing to a
    read-only folder and a read-only working directory. Under strace (when it can run), every
    write must land in OUTPUT_DIR, apart from /dev/null and the POSIX semaphores of the process
    pool in /dev/shm; without strace only the run itself is checked."""
    traced = strace_works()
    out = tmp_path / "out"
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o555)
    env = app_env(HOME=None, TMPDIR=str(locked), XDG_CACHE_HOME=None, DENO_DIR=None)
    traces = tmp_path / "traces"
    traces.mkdir()
    calls = ",".join(sorted(OPEN_CALLS | WRITE_CALLS))
    try:
        for level, extra in (
            ("participant", ["--participant-label", "01", "02", "--n-procs", "2"]),
            ("group", []),
        ):
            command = ["strace", "-ff", "-y", "-qq", "-e", f"trace={calls}"] if traced else []
            command += ["-o", str(traces / level)] if traced else []
            command += [str(RUN_PY), str(out), level]
            command += [*extra, "--params", str(small_params)] if level == "participant" else []
            done = subprocess.run(
                command, env=env, cwd=locked, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stderr
    finally:
        locked.chmod(0o755)
    assert list(locked.iterdir()) == []
    assert participants(out) == ["sub-01", "sub-02"]
    report = full_validation(out)
    assert report.ok, report.summary_lines()
    # Scratch folders (TMPDIR, caches) were inside OUTPUT_DIR and are gone.
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".asldro.lock"]
    if not traced:
        pytest.skip("strace is not installed or ptrace is not allowed: writes not traced")
    written = written_paths(sorted(traces.iterdir()))
    inside = {p for p in written if p == str(out) or p.startswith(str(out) + os.sep)}
    assert any(p.endswith("sub-02_asl.nii.gz") for p in inside)  # the trace sees the writes
    outside = written - inside
    stray = {p for p in outside if p != os.devnull and not p.startswith("/dev/shm/")}
    assert not stray, sorted(stray)


@pytest.mark.slow
def test_sigterm_cleans_up_and_exits_143(tmp_path, small_params):
    """SIGTERM (a SLURM time limit) unwinds: exit 143, no subject, no temporary folders, and the
    output folder this run created is removed again."""
    out = tmp_path / "out"
    job = subprocess.Popen(  # pylint: disable=consider-using-with
        [str(RUN_PY), str(out), "participant", "--params", str(small_params)],
        env=app_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while job.poll() is None and not list(out.glob(".asldro-scratch-*")):
            time.sleep(0.005)
    finally:
        job.send_signal(signal.SIGTERM)
        _, stderr = job.communicate()
    assert job.returncode == 143, stderr
    assert stderr == "run.py: error: terminated (SIGTERM); temporary files removed\n"
    assert not out.exists() or not [p for p in out.iterdir() if p.name != ".asldro.lock"]


@pytest.mark.slow
def test_sigterm_with_two_processes_stops_the_workers_at_once(tmp_path, small_params):
    """Four labels on two processes (issue 9 item 10): SIGTERM while the first subjects are being
    written kills the workers at once (no subject is finished afterwards), removes every
    temporary folder and exits 143."""
    out = tmp_path / "out"
    argv = [str(RUN_PY), str(out), "participant", "--n-procs", "2", "--params", str(small_params)]
    argv += ["--participant-label", *LABELS]
    job = subprocess.Popen(  # pylint: disable=consider-using-with
        argv, env=app_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    stderr, workers = sigterm_while_writing(job, out)
    try:
        assert job.returncode == 143, stderr
        assert workers and alive(workers) == []
        finished = [p.name for p in out.glob("sub-*")] if out.exists() else []
        assert len(finished) < len(LABELS)  # it did not go on writing every subject
        if out.exists():
            assert asldro_leftovers(out) == []
    finally:
        kill_all(workers)


@pytest.mark.slow
def test_validator_temporaries_of_a_killed_run_are_removed_by_the_next(tmp_path, small_params):
    """SIGKILL while bids-validator-deno runs leaves its hidden work folder (deno cache
    included); the next run removes it, as the README says."""
    out = tmp_path / "out"
    argv = [str(RUN_PY), str(out), "participant", "--params", str(small_params)]
    job = subprocess.Popen(  # pylint: disable=consider-using-with
        argv, env=app_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(job, lambda: bool(validator_processes(out)))
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait()
        kill_all(validator_processes(out))
    # a participant job validates its view inside the run's scratch folder
    left = list(out.glob(".asldro-scratch-*/.asldro-tmp-deno-*"))
    assert left, "the validator's folder was not there"
    done = run_app(out, "participant", "--params", small_params, "--participant-label", "02")
    assert done.returncode == 0, done.stderr
    assert asldro_leftovers(out) == []
