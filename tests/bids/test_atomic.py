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
