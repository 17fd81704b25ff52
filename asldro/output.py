"""The output location of both front doors: what asldro may write, create or replace, checked
before anything is touched, and the build-beside-then-swap that replaces a dataset only once the
new one is complete (docs/design.md "Never lose a user's data"; issue 9).

The rules, stated once:

* A folder asldro writes into is empty (asldro's own hidden ``.asldro*`` entries aside) or an
  asldro dataset: its ``dataset_description.json`` names asldro in ``GeneratedBy``.
* ``asldro generate --overwrite`` replaces an asldro dataset only when every file in it is one
  asldro wrote (the dataset-level files, and each participant's files as its provenance lists
  them); an archive only when it holds an asldro dataset.
* ``run.py participant`` adds or replaces participants of an asldro dataset and never touches its
  other files; a participant is replaced only when all its files are asldro's.
* A file named by the user (``asldro output params FILE``) is replaced only with ``--overwrite``,
  through a symlink (the link stays), keeping the file's permissions.
* Every file name must fit the file system (NAME_MAX, PATH_MAX): checked up front (exit 64).

The dataset is built in a hidden, owner-locked ``.asldro-tmp-*`` folder inside the output folder
(or beside an archive), so a killed run's leftovers are recognised and removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from asldro.exit_codes import OutputError, UsageError

ARCHIVE_SUFFIXES = (".zip", ".tar.gz")
# Longest hidden path asldro puts between the output folder and a file's own relative path while
# building (``.asldro-tmp-XXXXXXXX/dataset/.asldro-tmp-XXXXXXXX/raw/``), with room to spare.
BUILD_PATH_OVERHEAD = 64

__all__ = ["OutputError", "NameTooLongError", "plan_output", "building", "commit"]


class NameTooLongError(UsageError):
    """A file name asldro would write does not fit the file system (exit 64)."""


# --------------------------------------------------------------------------------------------
# Checks that write nothing


def output_path(text: str | os.PathLike) -> Path:
    """The output path given on the command line; an empty one is a usage error (it would name
    the current folder)."""
    if not str(text).strip():
        raise UsageError("the output path is empty: name a folder or a .zip / .tar.gz file")
    return Path(text)


def is_archive(path: Path) -> bool:
    """True when ``path`` names an archive (``.zip`` or ``.tar.gz``)."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _visible_entries(folder: Path) -> list[Path]:
    """Entries of ``folder`` other than asldro's own hidden ones."""
    from asldro.bids.dataset import is_asldro_temporary

    return sorted(p for p in folder.iterdir() if not is_asldro_temporary(p.name))


def _not_asldro(folder: Path) -> str:
    return (
        f"{folder}: not an asldro dataset (no dataset_description.json with GeneratedBy "
        "asldro) and not empty"
    )


def _foreign_message(folder: Path, foreign: Sequence[Path], what: str) -> str:
    first = foreign[0].relative_to(folder).as_posix()
    return (
        f"{folder}: holds {len(foreign)} file(s) asldro did not write (first: {first}); "
        f"{what} replaces only what asldro wrote: move them away first"
    )


def check_folder_is_usable(folder: Path) -> None:
    """``folder`` is a folder or can be made one (its nearest existing ancestor is a folder)."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder")
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        raise OutputError(f"{folder}: cannot be created ({ancestor} is not a folder)")


def check_dataset_folder(folder: Path, labels: Iterable[str] = ()) -> None:
    """The rule of ``run.py``: ``folder`` is missing, empty or an asldro dataset, and each
    participant of ``labels`` already there holds only files asldro wrote. Raises OutputError."""
    from asldro.bids.dataset import foreign_subject_files, is_asldro_dataset

    check_folder_is_usable(folder)
    if not folder.is_dir() or not _visible_entries(folder):
        return
    if not is_asldro_dataset(folder):
        raise OutputError(_not_asldro(folder) + "; choose an empty or new output folder")
    for label in labels:
        foreign = foreign_subject_files(folder, label)
        if foreign:
            raise OutputError(_foreign_message(folder, foreign, f"replacing sub-{label}"))


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not (path.exists() or path.is_symlink()) and path != path.parent:
        path = path.parent
    return path


def check_name_lengths(folder: Path, relative_paths: Iterable[str], *, what: str) -> None:
    """Every file name of ``relative_paths`` (below ``folder``) fits the file system's NAME_MAX,
    and every path (with the hidden build folders) its PATH_MAX. Raises NameTooLongError naming
    ``what`` (e.g. the participant label) otherwise."""
    ancestor = _existing_ancestor(folder)
    probe = ancestor if ancestor.is_dir() else ancestor.parent
    name_max = os.pathconf(probe, "PC_NAME_MAX")
    path_max = os.pathconf(probe, "PC_PATH_MAX")
    base = len(os.fsencode(str(folder.absolute()))) + BUILD_PATH_OVERHEAD
    for relative in relative_paths:
        for name in relative.split("/"):
            if len(os.fsencode(name)) > name_max:
                raise NameTooLongError(
                    f"{what}: the file name {_shorten(name)} would be {len(os.fsencode(name))} "
                    f"bytes; the file system of {probe} allows {name_max} (NAME_MAX)"
                )
        if base + len(os.fsencode(relative)) > path_max:
            raise NameTooLongError(
                f"{what}: the path {folder}/{_shorten(relative)} would be longer than the "
                f"{path_max} bytes the file system of {probe} allows (PATH_MAX)"
            )


def _shorten(text: str, keep: int = 24) -> str:
    return text if len(text) <= 2 * keep + 3 else f"{text[:keep]}...{text[-keep:]}"


def check_participant_names(
    folder: Path,
    params: Any,
    ground_truth: Any,
    labels: Sequence[str],
    sessions: Sequence[str] = (),
) -> None:
    """Every file of every participant of ``labels`` (in each of ``sessions``) fits the file
    system (see :func:`check_name_lengths`), found from the parameters without simulating."""
    from asldro.bids.writer import planned_files

    pairs = m0_pairs(params)
    for label in labels:
        files = planned_files(label, params, ground_truth, pairs, sessions)
        check_name_lengths(folder, files, what=f"participant label {_shorten(label)!r}")


def m0_pairs(params: Any) -> dict[int, int]:
    """m0scan-only series -> the asl series it calibrates, 1-based as the writer numbers them."""
    from asldro.params import m0_pairing

    return {m0 + 1: asl + 1 for m0, asl in m0_pairing(params).items()}


# --------------------------------------------------------------------------------------------
# Folders this run creates (and removes again when it fails)


def create_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the folders made, outermost first.

    Raises OutputError (exit 73) when it cannot be made or written into.
    """
    check_folder_is_usable(folder)
    missing = []
    path = folder.absolute()
    while not path.exists():
        missing.append(path)
        path = path.parent
    missing.reverse()
    made: list[Path] = []
    try:
        for path in missing:
            path.mkdir()
            made.append(path)
        with tempfile.TemporaryFile(dir=folder, prefix=".asldro-probe-"):
            pass
    except OSError as err:
        remove_created(made)
        raise OutputError(f"{folder}: cannot write here ({err.strerror or err})") from err
    return made


def remove_created(made: Sequence[Path]) -> None:
    """Remove the folders of ``made`` (from :func:`create_folder`) that are empty again."""
    for path in reversed(made):
        with contextlib.suppress(OSError):
            path.rmdir()


# --------------------------------------------------------------------------------------------
# asldro generate: plan, build beside, swap


@dataclass
class OutputPlan:
    """Where ``asldro generate`` writes and what it replaces (all checked, nothing written)."""

    target: Path  # the output folder, or the archive (symlinks resolved)
    archive: bool
    replaces: bool  # an asldro dataset or archive is there and will be replaced
    created: list[Path] = field(default_factory=list)  # folders made by this run

    @property
    def build_parent(self) -> Path:
        """Where the hidden build folder goes (same file system as the target)."""
        return self.target.parent if self.archive else self.target


def plan_output(output: str | os.PathLike, *, overwrite: bool) -> OutputPlan:
    """Check the output of ``asldro generate`` before anything is written (item 2 and 3 rules).

    Raises UsageError (empty path), OutputError (exit 73: not a folder, not empty, not asldro's,
    holding files asldro did not write, parent missing).
    """
    path = output_path(output)
    if is_archive(path):
        return _plan_archive(path, overwrite)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path.absolute()
    check_folder_is_usable(target)
    if not target.is_dir() or not _visible_entries(target):
        return OutputPlan(target, archive=False, replaces=False)
    _check_replaceable(target, overwrite)
    return OutputPlan(target, archive=False, replaces=True)


def _check_replaceable(target: Path, overwrite: bool) -> None:
    from asldro.bids.dataset import foreign_files, is_asldro_dataset

    asldro = is_asldro_dataset(target)
    if not overwrite and asldro:
        raise OutputError(
            f"{target}: folder is not empty (an asldro dataset: --overwrite replaces it)"
        )
    if not overwrite:
        raise OutputError(
            f"{target}: folder is not empty and not an asldro dataset (asldro writes into an "
            "empty folder; --overwrite replaces only a dataset asldro wrote)"
        )
    if not asldro:
        raise OutputError(_not_asldro(target) + "; --overwrite replaces only datasets asldro wrote")
    foreign = foreign_files(target)
    if foreign:
        raise OutputError(_foreign_message(target, foreign, "--overwrite"))


def _plan_archive(path: Path, overwrite: bool) -> OutputPlan:
    from asldro.bids.archive import is_asldro_archive

    target = Path(os.path.realpath(path)) if path.is_symlink() else path.absolute()
    if not target.parent.is_dir():
        raise OutputError(f"{target.parent}: folder does not exist")
    check_name_lengths(target.parent, [target.name], what="the archive name")
    if not (target.exists() or target.is_symlink()):
        return OutputPlan(target, archive=True, replaces=False)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder, not an archive")
    if not overwrite:
        raise OutputError(f"{target}: exists (use --overwrite to replace it)")
    if not is_asldro_archive(target):
        raise OutputError(
            f"{target}: not an asldro archive (no dataset_description.json with GeneratedBy "
            "asldro); --overwrite replaces only archives asldro wrote"
        )
    return OutputPlan(target, archive=True, replaces=True)


@dataclass(frozen=True)
class BuildArea:
    """The hidden folder a dataset is built in: ``dataset`` inside ``temp``."""

    temp: Path
    dataset: Path


@contextlib.contextmanager
def building(plan: OutputPlan) -> Iterator[BuildArea]:
    """Make the folders the plan needs and a hidden, owner-locked build folder; on any failure
    (a signal included) remove the build and the folders this run made. Stale build folders of
    killed runs are removed first."""
    from asldro.bids.atomic import temp_dir

    plan.created = [] if plan.archive else create_folder(plan.target)
    try:
        with contextlib.ExitStack() as stack:
            try:
                temp = stack.enter_context(temp_dir(plan.build_parent))
            except OSError as err:
                raise OutputError(
                    f"{plan.build_parent}: cannot write here ({err.strerror or err})"
                ) from err
            dataset = temp / "dataset"
            dataset.mkdir()
            yield BuildArea(temp, dataset)
    except BaseException:
        remove_created(plan.created)
        raise


def commit(plan: OutputPlan, area: BuildArea) -> None:
    """Put the complete dataset built in ``area`` in place: write the archive, or swap the
    folder's entries (the old asldro dataset goes, the new one comes, in a few renames).

    A SIGTERM/SIGINT arriving during the swap restores the old dataset before it is acted on.
    """
    if plan.archive:
        from asldro.bids.archive import write_archive

        built = write_archive(area.dataset, area.temp / plan.target.name)
        replace_file(built, plan.target)
        return
    _swap_in(plan, area)


def _swap_in(plan: OutputPlan, area: BuildArea) -> None:
    from asldro.bids.dataset import foreign_files, is_asldro_dataset
    from asldro.interrupts import deferred_signals, signal_pending

    target, trash = plan.target, area.temp / "replaced"
    trash.mkdir()
    with deferred_signals():
        old = _visible_entries(target)
        if old and not plan.replaces:
            raise OutputError(f"{target}: files appeared while asldro was writing; not replaced")
        if old and (not is_asldro_dataset(target) or foreign_files(target)):
            raise OutputError(f"{target}: changed while asldro was writing; not replaced")
        moved_old: list[str] = []
        moved_new: list[str] = []
        try:
            for entry in old:
                os.rename(entry, trash / entry.name)
                moved_old.append(entry.name)
            for entry in sorted(area.dataset.iterdir()):
                os.rename(entry, target / entry.name)
                moved_new.append(entry.name)
            if signal_pending():
                _roll_back(plan, area, trash, moved_old, moved_new)
        except BaseException:
            _roll_back(plan, area, trash, moved_old, moved_new)
            raise


def _roll_back(
    plan: OutputPlan, area: BuildArea, trash: Path, moved_old: list[str], moved_new: list[str]
) -> None:
    """Undo a partial swap: the new entries back to the build, the old ones back in place."""
    for name in reversed(moved_new):
        os.rename(plan.target / name, area.dataset / name)
    for name in reversed(moved_old):
        os.rename(trash / name, plan.target / name)
    moved_new.clear()
    moved_old.clear()


# --------------------------------------------------------------------------------------------
# Files the user names: asldro output params FILE, asldro output hrgt NAME DIR, archives


def user_file_target(path: Path, *, overwrite: bool) -> Path:
    """The file to write for ``path``: a symlink's target (the link stays a link). Raises
    OutputError when it exists and ``overwrite`` is false, is a folder, or its folder is
    missing."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path.absolute()
    if not target.parent.is_dir():
        raise OutputError(f"{target.parent}: folder does not exist")
    if target.is_dir():
        raise OutputError(f"{path}: is a folder")
    if target.exists() and not overwrite:
        raise OutputError(f"{path}: exists (use --overwrite to replace it)")
    check_name_lengths(target.parent, [target.name], what=str(path))
    return target


def replace_file(source: Path, target: Path) -> None:
    """Move ``source`` onto ``target`` atomically, keeping an existing target's permissions.
    ``source`` must be on ``target``'s file system."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(source, stat.S_IMODE(os.stat(target).st_mode))
    os.replace(source, target)


def place_user_file(source: Path, path: Path, *, overwrite: bool) -> Path:
    """Put the finished file ``source`` (on the same file system) at the file the user named.
    Without ``overwrite`` nothing is ever replaced, even a file that appeared meanwhile (a
    hard link is made, which fails when the name exists). Returns the file written."""
    target = user_file_target(path, overwrite=overwrite)
    if overwrite:
        replace_file(source, target)
        return target
    try:
        os.link(source, target)
    except FileExistsError:
        raise OutputError(f"{path}: exists (use --overwrite to replace it)") from None
    return target


def write_user_file(path: Path, content: bytes, *, overwrite: bool) -> Path:
    """Write ``content`` to the file the user named (see :func:`user_file_target`), atomically
    (temporary file beside it, removed whatever happens). Returns the file written."""
    from asldro.bids.atomic import write_atomic, write_file

    target = user_file_target(path, overwrite=overwrite)
    return write_atomic(
        target,
        lambda temporary: write_file(temporary, content),
        place=lambda temporary, _: place_user_file(temporary, path, overwrite=overwrite),
    )
