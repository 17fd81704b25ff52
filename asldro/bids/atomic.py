"""Atomic file and directory replacement inside the output folder (docs/design.md, "Writes are
atomic").

Temporary files live in hidden, owner-locked directories (``.asldro-tmp-*``) next to their target
(same file system, so ``os.replace`` is atomic). They are removed on failure, and those left by a
killed process (its lock is free) are removed by the next temporary directory made beside them.
:func:`write_file` is the one place file contents are written and :func:`write_atomic` the one
write-beside-then-rename; errors are re-raised naming the file at its final place (``write(2)``
failing with ENOSPC names no file).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Iterator

TMP_PREFIX = ".asldro-tmp-"


def write_file(path: Path, content: bytes) -> None:
    """Create (or truncate) ``path`` and write ``content`` into it."""
    with open(path, "wb") as handle:
        handle.write(content)


def named(err: OSError, path: Path | str) -> OSError:
    """``err`` (same type, errno and reason) naming ``path`` as the file concerned."""
    renamed = type(err)(err.errno, err.strerror or str(err), str(path))
    return renamed if isinstance(renamed, OSError) else OSError(err.errno, str(err), str(path))


def _replace(temporary: Path, target: Path) -> Path:
    os.replace(temporary, target)
    return target


def write_atomic(
    target: Path,
    produce: Callable[[Path], object],
    *,
    place: Callable[[Path, Path], Path] | None = None,
) -> Path:
    """The one atomic writer: ``produce(temporary)`` writes the content into a temporary file
    (in an owner-locked temp directory beside ``target``, removed whatever happens), then
    ``place(temporary, target)`` puts it in place (default: ``os.replace``). Returns what
    ``place`` returns (the file written).

    Errors while producing (and of the default ``os.replace``) are re-raised naming ``target``;
    a ``place`` given raises its own errors.
    """
    target = Path(target)
    with temp_dir(target.parent) as tmp:
        temporary = tmp / target.name
        try:
            produce(temporary)
            if place is None:
                return _replace(temporary, target)
        except OSError as err:
            raise named(err, target) from err
        return place(temporary, target)


def write_bytes_atomic(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` atomically (:func:`write_atomic`), creating its folder.
    Errors name ``path``.

    Returns False (and writes nothing) when the file already holds exactly ``content``, so
    concurrent callers writing identical content do no harm.
    """
    path = Path(path)
    try:
        if path.is_file() and path.read_bytes() == content:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda temporary: write_file(temporary, content))
    return True


def write_text_atomic(path: Path, text: str) -> bool:
    """UTF-8 text version of :func:`write_bytes_atomic`."""
    return write_bytes_atomic(path, text.encode("utf-8"))


OWNER_LOCK = ".owner.lock"


@contextlib.contextmanager
def temp_dir(parent: Path, prefix: str = TMP_PREFIX) -> Iterator[Path]:
    """A hidden temporary directory inside ``parent``, removed on exit whatever happens.

    While it exists its owner holds an exclusive ``flock`` on ``<dir>/.owner.lock``, so a
    directory left by a killed process (SIGKILL, node failure) can be told from a live one and
    removed by :func:`remove_stale_temp_dirs`. Stale ones are removed before a new one is made.
    The lock file is locked under another name and only then renamed to ``.owner.lock``: a
    cleaner in another process never sees an unlocked lock file of a live directory.
    """
    import fcntl

    from asldro.interrupts import deferred_signals

    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_dirs(parent, prefix)
    path = owner = None
    try:
        with deferred_signals():  # a signal inside mkdtemp would leave a folder nobody owns
            path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        unnamed = path / f"{OWNER_LOCK}.new"
        owner = os.open(unnamed, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(owner, fcntl.LOCK_EX)
        os.rename(unnamed, path / OWNER_LOCK)
        yield path
    finally:
        with deferred_signals():  # a second signal must not leave it half removed
            if path is not None:
                shutil.rmtree(path, ignore_errors=True)
            if owner is not None:
                os.close(owner)


def remove_stale_temp_dirs(parent: Path, prefix: str = TMP_PREFIX) -> list[Path]:
    """Remove ``<parent>/<prefix>*`` directories whose owner is gone (their lock is free).

    Directories without an owner lock (being created, or made by someone else) are kept.
    Returns the directories removed.
    """
    import fcntl

    removed = []
    for folder in Path(parent).glob(prefix + "*"):
        if not folder.is_dir():
            continue
        try:
            fd = os.open(folder / OWNER_LOCK, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live process owns it
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def move_aside(target: Path, trash: Path) -> None:
    """Rename ``target`` (if present) into the ``trash`` directory (same file system)."""
    if target.exists() or target.is_symlink():
        os.rename(target, trash / f"old-{uuid.uuid4().hex}-{target.name}")


def put_in_place(source: Path, target: Path, trash: Path) -> None:
    """Move ``source`` to ``target``, first moving any existing ``target`` into ``trash``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    move_aside(target, trash)
    os.rename(source, target)
