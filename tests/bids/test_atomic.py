"""Atomic writes: temporary folders of killed runs are told apart from live ones and removed."""

from asldro.bids.atomic import (
    OWNER_LOCK,
    TMP_PREFIX,
    remove_stale_temp_dirs,
    temp_dir,
    write_bytes_atomic,
)


def test_stale_temp_dirs_are_removed_and_live_ones_kept(tmp_path):
    stale = tmp_path / f"{TMP_PREFIX}killed"
    stale.mkdir()
    (stale / OWNER_LOCK).touch()  # its owner is gone: nobody holds the lock
    (stale / "half-written.nii.gz").write_bytes(b"x")
    foreign = tmp_path / f"{TMP_PREFIX}no-lock"
    foreign.mkdir()
    with temp_dir(tmp_path) as live:
        assert not stale.exists()  # making a new one sweeps stale ones
        assert live.is_dir() and foreign.is_dir()
        assert remove_stale_temp_dirs(tmp_path) == []  # live: locked; foreign: no lock file
        assert live.is_dir()
    assert not live.exists()
    assert foreign.is_dir()


def test_temp_dir_is_removed_on_error(tmp_path):
    try:
        with temp_dir(tmp_path) as path:
            (path / "f").write_text("x")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert not list(tmp_path.iterdir())


def test_a_killed_atomic_write_leaves_nothing_the_next_write_keeps(tmp_path):
    """A process killed (SIGKILL) between writing the temporary file and renaming it: the next
    atomic write into that folder removes what it left (issue 9 item 10)."""
    import subprocess
    import sys

    code = (
        "import os, signal; from pathlib import Path; from asldro.bids import atomic; "
        "atomic.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL); "
        f"atomic.write_bytes_atomic(Path({str(tmp_path)!r}) / 'a.txt', b'x')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode == -9, done.stderr
    assert any(p.name.startswith(TMP_PREFIX) for p in tmp_path.iterdir())
    write_bytes_atomic(tmp_path / "b.txt", b"y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]


def test_write_atomic_puts_the_file_in_place_through_the_placer_given(tmp_path):
    from asldro.bids.atomic import write_atomic, write_file

    target = tmp_path / "out.txt"
    assert write_atomic(target, lambda temporary: write_file(temporary, b"one")) == target
    assert target.read_bytes() == b"one"
    placed = []

    def place(temporary, final):
        placed.append((temporary.name, temporary.parent.name.startswith(TMP_PREFIX), final))
        temporary.rename(final)
        return final

    write_atomic(target, lambda temporary: write_file(temporary, b"two"), place=place)
    assert placed == [("out.txt", True, target)] and target.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_failed_write_names_the_target_and_leaves_the_old_file(tmp_path):
    import errno

    import pytest

    from asldro.bids.atomic import write_atomic

    target = tmp_path / "out.txt"
    target.write_bytes(b"old")

    def full_disk(temporary):
        temporary.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as caught:
        write_atomic(target, full_disk)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_validation_reports_are_written_like_every_other_json_file(tmp_path):
    """One JSON converter and one atomic writer: the report's bytes are json_bytes of its
    content (UTF-8 text, not \\u escapes), and nothing is left beside it."""
    from asldro.bids.checks import Finding
    from asldro.bids.validate import DatasetReport, ValidationReport, write_report_file
    from asldro.jsonable import json_bytes

    finding = Finding("SOME_CODE", "error", "sub-01/perf/sub-01_asl.json", "Größe ≠ 3")
    report = ValidationReport(tmp_path, [DatasetReport("raw", tmp_path, ["own"], [finding])])
    path = tmp_path / "report.json"
    write_report_file(report, path)
    assert path.read_bytes() == json_bytes(report.to_dict())
    assert "Größe ≠ 3".encode() in path.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_temp_dir_is_never_seen_unlocked_while_it_is_made(tmp_path, monkeypatch):
    """Another process cleaning stale folders between the owner's creating its lock file and
    locking it must not take the live folder for a stale one (the race that removed a
    participant's files when several jobs shared an output folder)."""
    import fcntl

    real_flock = fcntl.flock
    seen = []

    def flock_after_a_cleanup(fd, operation):
        if operation == fcntl.LOCK_EX:  # the owner's blocking lock: another cleaner runs first
            seen.append(remove_stale_temp_dirs(tmp_path))
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_a_cleanup)
    with temp_dir(tmp_path) as live:
        assert live.is_dir()
        (live / "data").write_text("x")
        assert (live / "data").read_text() == "x"
    assert seen == [[]]
