"""The view of a participant job (docs/bids-app.md, "What a participant job validates"): a
small dataset holding what one job wrote or touched, validated in place of the whole dataset so
that a job's validation does not grow with the participants already in the folder.

The view of participants ``labels`` holds the dataset-level files of the raw dataset and of
each derivative dataset under ``derivatives/`` (their descriptions, READMEs, ``.bidsignore``,
...), a ``participants.tsv`` with only the header and the rows of ``labels``, and the
``sub-<label>`` folders of ``labels`` in the raw dataset and in every derivative. It leaves out
``code/``, ``sourcedata/``, hidden entries (asldro's temporary folders) and every other
participant. Files are hard links (a copy where the file system refuses them): asldro replaces
files by renaming a new one into place, so a link keeps the content it had when the view was made.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable, Iterator, Sequence

#: Top-level entries a view never holds (validators skip them; they grow with the dataset).
LEFT_OUT = frozenset({"code", "sourcedata", "derivatives"})
KEPT_HIDDEN = frozenset({".bidsignore"})
PARTICIPANTS_TSV = "participants.tsv"


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link of ``source`` (of the file a symlink names) at ``target``; a copy when
    the file system refuses links."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _files_below(folder: Path) -> Iterator[Path]:
    """The files under ``folder`` (symlinks followed as files), skipping hidden entries."""
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and (Path(current) / name).is_file():
                yield Path(current) / name


def _dataset_entries(root: Path, labels: Sequence[str]) -> Iterator[Path]:
    """The top-level entries of the dataset at ``root`` a view of ``labels`` holds."""
    wanted = {f"sub-{label}" for label in labels}
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name in LEFT_OUT or (name.startswith(".") and name not in KEPT_HIDDEN):
            continue
        if name.startswith("sub-"):
            if name in wanted and entry.is_dir():
                yield entry
            continue
        yield entry


def _participants_rows(text: str, labels: Iterable[str]) -> str:
    """``participants.tsv`` ``text`` with its header and the rows of ``labels`` only."""
    ids = {f"sub-{label}" for label in labels}
    lines = text.splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if line.split("\t")[0].rstrip("\r\n") in ids]
    return "".join(kept)


def _copy_dataset(root: Path, labels: Sequence[str], target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in _dataset_entries(root, labels):
        if entry.name == PARTICIPANTS_TSV and entry.is_file():
            text = entry.read_text(encoding="utf-8")
            (target / PARTICIPANTS_TSV).write_text(
                _participants_rows(text, labels), encoding="utf-8"
            )
        elif entry.is_dir():
            for path in _files_below(entry):
                _link_or_copy(path, target / path.relative_to(root))
        elif entry.is_file():
            _link_or_copy(entry, target / entry.name)


def participant_view(root: Path, labels: Sequence[str], target: Path) -> Path:
    """Make at ``target`` (a new folder, on the same file system as ``root`` for links) the
    view of participants ``labels`` of the dataset at ``root`` (the module's docstring) and
    return it. Relative paths in the view are those of the dataset, so the findings of a
    validation of the view name the dataset's files."""
    root, target = Path(root), Path(target)
    target.mkdir(parents=True)
    _copy_dataset(root, labels, target)
    derivatives = root / "derivatives"
    if derivatives.is_dir():
        for folder in sorted(derivatives.iterdir()):
            if folder.is_dir() and not folder.name.startswith("."):
                _copy_dataset(folder, labels, target / "derivatives" / folder.name)
    return target
