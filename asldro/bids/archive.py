"""Deterministic ``.zip`` / ``.tar.gz`` archives of a dataset folder (docs/physics.md D15).

Entries are the dataset's files relative to its root, sorted, with a fixed timestamp
(1980-01-01), fixed permissions and owner; the gzip header carries mtime 0 and no file name.
Temporary files of running writers (``.asldro-tmp-*``) and lock files are left out. The archive
is written to a temp file beside it (in an owner-locked temp folder) and renamed into place.
An archive is asldro's when its ``dataset_description.json`` names asldro in ``GeneratedBy``.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

from asldro.bids.atomic import TMP_PREFIX, write_atomic

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_MTIME = 315532800  # 1980-01-01T00:00:00Z
_FILE_MODE = 0o644


def archive_members(dataset_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Files under ``dataset_dir`` to archive (relative paths, sorted by POSIX string)."""
    root = Path(dataset_dir)
    members = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(TMP_PREFIX) for part in relative.parts):
            continue
        if path.name.endswith(".lock") or not path.is_file():
            continue
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        members.append(relative)
    return sorted(members, key=lambda p: p.as_posix())


def _write_zip(root: Path, members: list[Path], target: Path) -> None:
    with zipfile.ZipFile(target, "w") as archive:
        for relative in members:
            info = zipfile.ZipInfo(relative.as_posix(), date_time=FIXED_DATE_TIME)
            info.external_attr = (0o100000 | _FILE_MODE) << 16
            info.create_system = 3
            stored = relative.name.endswith((".gz", ".zip"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / relative).read_bytes())


def _write_tar_gz(root: Path, members: list[Path], target: Path) -> None:
    with (
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1) as stream,
        tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for relative in members:
            content = (root / relative).read_bytes()
            info = tarfile.TarInfo(relative.as_posix())
            info.size = len(content)
            info.mtime = FIXED_MTIME
            info.mode = _FILE_MODE
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(content))


def write_archive(dataset_dir: Path, archive_path: Path) -> Path:
    """Archive ``dataset_dir`` into ``archive_path`` (``.zip`` or ``.tar.gz``), deterministically
    and atomically. Returns ``archive_path``."""
    root, target = Path(dataset_dir), Path(archive_path)
    name = target.name.lower()
    if name.endswith(".zip"):
        writer = _write_zip
    elif name.endswith(".tar.gz"):
        writer = _write_tar_gz
    else:
        raise ValueError(f"archive must end in .zip or .tar.gz, got {target.name!r}")
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    members = archive_members(root, exclude=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(target, lambda temporary: writer(root, members, temporary))


DESCRIPTION = "dataset_description.json"


def _archived_description(path: Path) -> bytes | None:
    """The raw ``dataset_description.json`` inside an archive (None when unreadable)."""
    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                return archive.read(DESCRIPTION)
        with tarfile.open(path, "r:gz") as archive:
            member = archive.extractfile(DESCRIPTION)
            return member.read() if member is not None else None
    except (OSError, KeyError, zipfile.BadZipFile, tarfile.TarError, EOFError):
        return None


def is_asldro_archive(path: Path) -> bool:
    """True when the archive at ``path`` holds an asldro dataset (its raw
    ``dataset_description.json`` names asldro in ``GeneratedBy``)."""
    from asldro.bids.dataset import describes_asldro_dataset

    content = _archived_description(Path(path))
    try:
        return content is not None and describes_asldro_dataset(json.loads(content))
    except ValueError:
        return False
