"""Atomic writes: temporary folders of killed runs are told apart from live ones and removed."""

from asldro.bids.atomic import OWNER_LOCK, TMP_PREFIX, remove_stale_temp_dirs, temp_dir


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
