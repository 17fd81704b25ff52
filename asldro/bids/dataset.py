"""Dataset-level files of the raw dataset and of the ground-truth derivative (bids-asl.md §1, §9,
§10): dataset_description.json, README.md, CHANGES, code/dro_params.json, participants.tsv/.json,
and the derivative's descriptions.tsv, desc-groundtruth_dseg.tsv and .bidsignore.

Every file is written atomically (temp + ``os.replace``) and only when its content changes, so
parallel participant jobs writing into one folder do no harm.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from asldro import __version__
from asldro.bids.atomic import write_bytes_atomic, write_text_atomic
from asldro.bids.fields import fields
from asldro.bids.jsonable import json_bytes

_SUBJECT_DIR = re.compile(r"^sub-([0-9a-zA-Z+]+)$")


def groundtruth_root(output_dir: Path) -> Path:
    """The ground-truth derivative dataset folder (bids-asl.md §1)."""
    return Path(output_dir) / fields()["groundtruth_dir"]


def generated_by() -> list[dict[str, Any]]:
    """``GeneratedBy`` (bids-asl.md §10): name, version, description and, only when the
    environment variable ``ASLDRO_CONTAINER`` holds an image tag, the docker container."""
    entry: dict[str, Any] = {
        "Name": "asldro",
        "Version": __version__,
        "Description": fields()["dataset"]["GeneratedByDescription"],
    }
    tag = os.environ.get("ASLDRO_CONTAINER")
    if tag:
        entry["Container"] = {"Type": "docker", "Tag": tag}
    return [entry]


def raw_dataset_description(ground_truth_description: str) -> dict[str, Any]:
    """The raw ``dataset_description.json`` (bids-asl.md §10)."""
    facts = fields()["dataset"]
    return {
        "Name": facts["Name"],
        "BIDSVersion": fields()["bids_version"],
        "DatasetType": "raw",
        "License": facts["License"],
        "Authors": list(facts["Authors"]),
        "GeneratedBy": generated_by(),
        "SourceDatasets": [{"Description": ground_truth_description}],
    }


def derivative_dataset_description(ground_truth_description: str) -> dict[str, Any]:
    """The ground-truth derivative ``dataset_description.json`` (bids-asl.md §9)."""
    return {
        "Name": fields()["derivative"]["Name"],
        "BIDSVersion": fields()["bids_version"],
        "DatasetType": "derivative",
        "License": fields()["dataset"]["License"],
        "Authors": list(fields()["dataset"]["Authors"]),
        "GeneratedBy": generated_by(),
        "SourceDatasets": [{"URL": "bids::", "Description": ground_truth_description}],
        "DatasetLinks": {"raw": "../../"},
    }


def _text(lines_key: str, ground_truth_description: str) -> str:
    lines = fields()[lines_key]
    return (
        "\n".join(lines).format(version=__version__, ground_truth=ground_truth_description) + "\n"
    )


def _tissue_row(name: str, index: int) -> tuple[int, str, str]:
    known = fields()["tissues"].get(name)
    if known:
        return index, known["name"], known["abbreviation"]
    words = [w for w in re.split(r"[^0-9a-zA-Z]+", name) if w]
    abbreviation = "".join(w[0] for w in words).upper() if len(words) > 1 else name.upper()
    return index, " ".join(words) or name, abbreviation or f"L{index}"


def dseg_tsv(segmentation: Mapping[str, int], existing: str | None = None) -> str:
    """``desc-groundtruth_dseg.tsv``: EVERY label of ``segmentation`` plus background 0
    (bids-asl.md §9; physics.md D18), merged with the rows of an ``existing`` table."""
    rows: dict[int, tuple[int, str, str]] = {}
    for line in (existing or "").splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) >= 3 and cells[0].isdigit():
            rows[int(cells[0])] = (int(cells[0]), cells[1], cells[2])
    if 0 not in rows and 0 not in segmentation.values():
        rows[0] = _tissue_row("background", 0)
    for name, index in segmentation.items():
        rows[int(index)] = _tissue_row(str(name), int(index))
    body = "".join(f"{i}\t{n}\t{a}\n" for i, n, a in (rows[k] for k in sorted(rows)))
    return "index\tname\tabbreviation\n" + body


def _bidsignore(existing: str | None, extra_suffixes: Iterable[str]) -> str:
    patterns = set(fields()["groundtruth_bidsignore"])
    patterns |= {f"**/*_{suffix}.*" for suffix in extra_suffixes}
    patterns |= {line.strip() for line in (existing or "").splitlines() if line.strip()}
    return "".join(f"{p}\n" for p in sorted(patterns))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def ensure_dataset_files(
    output_dir: Path,
    *,
    resolved_params: Mapping,
    ground_truth_description: str,
    segmentation: Mapping[str, int] | None = None,
    extra_suffixes: Iterable[str] = (),
) -> list[Path]:
    """Write (idempotently, atomically) the dataset-level files of the raw dataset and of the
    ground-truth derivative (bids-asl.md §9, §10). Returns the files whose content changed.

    Parameters
    ----------
    output_dir : Path
        Root of the raw dataset.
    resolved_params : Mapping
        The resolved parameter document, written to ``code/dro_params.json``.
    ground_truth_description : str
        Human description of the ground truth (``SourceDatasets``, README).
    segmentation : Mapping, optional
        Tissue name -> label; when given, merged into ``desc-groundtruth_dseg.tsv``.
    extra_suffixes : iterable of str
        Suffixes of extra ground-truth quantities, added to the derivative ``.bidsignore``.
    """
    root = Path(output_dir)
    gt_root = groundtruth_root(root)
    desc = fields()["groundtruth_desc"]
    files: dict[Path, bytes] = {
        root
        / "dataset_description.json": json_bytes(raw_dataset_description(ground_truth_description)),
        root / "README.md": _text("readme_raw", ground_truth_description).encode(),
        root / "CHANGES": _text("changes", ground_truth_description).encode(),
        root / "code" / "dro_params.json": json_bytes(resolved_params),
        gt_root
        / "dataset_description.json": json_bytes(
            derivative_dataset_description(ground_truth_description)
        ),
        gt_root / "README.md": _text("readme_derivative", ground_truth_description).encode(),
        gt_root
        / "descriptions.tsv": (
            "desc_id\tdescription\n"
            f"desc-{desc}\tGround truth the raw dataset was simulated from, on the grid of "
            "a ground_truth series\n"
        ).encode(),
        gt_root
        / ".bidsignore": _bidsignore(_read(gt_root / ".bidsignore"), extra_suffixes).encode(),
    }
    if segmentation is not None:
        dseg_path = gt_root / f"desc-{desc}_dseg.tsv"
        files[dseg_path] = dseg_tsv(segmentation, _read(dseg_path)).encode()
    return [path for path, content in files.items() if write_bytes_atomic(path, content)]


@contextlib.contextmanager
def _participants_lock(root: Path) -> Iterator[None]:
    """Serialise participants.tsv updates of parallel jobs (an exclusive ``flock`` on the
    dataset folder itself, so no lock file is left behind) where the file system allows it."""
    try:
        import fcntl

        handle = os.open(root, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def update_participants(output_dir: Path) -> list[str]:
    """Rewrite ``participants.tsv`` (``participant_id`` column = exactly the ``sub-*`` folders
    present, sorted) and ``participants.json`` atomically (bids-asl.md §10). Returns the labels."""
    root = Path(output_dir)
    with _participants_lock(root):
        labels = sorted(
            match.group(1)
            for match in (_SUBJECT_DIR.match(p.name) for p in root.iterdir() if p.is_dir())
            if match
        )
        tsv = "participant_id\n" + "".join(f"sub-{label}\n" for label in labels)
        write_text_atomic(root / "participants.tsv", tsv)
        write_bytes_atomic(root / "participants.json", json_bytes(fields()["participants_json"]))
    return labels
