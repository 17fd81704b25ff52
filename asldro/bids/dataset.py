"""Dataset-level files of the raw dataset and of the ground-truth derivative (docs/bids.md §1, §9,
§10): dataset_description.json, README.md, CHANGES, participants.tsv/.json, and the derivative's
descriptions.tsv, desc-groundtruth_dseg.tsv and .bidsignore; and what asldro wrote in a dataset
(how it recognises its own datasets and files, so that it never replaces anyone else's).

Every file is written atomically (temp + ``os.replace``) and only when its content changes, so
parallel participant jobs writing into one folder do no harm. A dataset is asldro's when its
``dataset_description.json`` names asldro in ``GeneratedBy``; the files of each participant are
those its provenance file (``code/provenance/sub-<label>.json``) lists.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from asldro import __version__
from asldro.bids.atomic import write_bytes_atomic, write_text_atomic
from asldro.bids.fields import fields
from asldro.labels import subject_label
from asldro.jsonable import json_bytes

GENERATOR = "asldro"
HIDDEN_PREFIX = ".asldro"  # .asldro-tmp-*, .asldro-scratch-*, .asldro.lock
# Written by earlier versions (one parameter file for the whole dataset).
LEGACY_FILES = ("code/dro_params.json",)
#: The list of files asldro wrote in a dataset without participant provenance (a derivative).
FILES_RECORD = "code/provenance/files.json"
#: The cohort summary of the participants' asldro columns (``asldro.bids.summary``).
COHORT_SUMMARY = "code/cohort_summary.tsv"
#: The names of the participants.tsv columns asldro wrote (its values are the drawn truth, the
#: other columns are the user's); only written once a participant has such columns.
PARTICIPANT_COLUMNS_RECORD = "code/provenance/participants_columns.json"


def groundtruth_root(output_dir: Path) -> Path:
    """The ground-truth derivative dataset folder (docs/bids.md §1)."""
    return Path(output_dir) / fields()["groundtruth_dir"]


def generated_by() -> list[dict[str, Any]]:
    """``GeneratedBy`` (docs/bids.md §10): name, version, description and, only when the
    environment variable ``ASLDRO_CONTAINER`` holds an image tag, the docker container."""
    entry: dict[str, Any] = {
        "Name": GENERATOR,
        "Version": __version__,
        "Description": fields()["dataset"]["GeneratedByDescription"],
    }
    tag = os.environ.get("ASLDRO_CONTAINER")
    if tag:
        entry["Container"] = {"Type": "docker", "Tag": tag}
    return [entry]


def raw_dataset_description(ground_truth_description: str) -> dict[str, Any]:
    """The raw ``dataset_description.json`` (docs/bids.md §10)."""
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
    """The ground-truth derivative ``dataset_description.json`` (docs/bids.md §9)."""
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


def tissue_abbreviation(name: str, index: int) -> str:
    """The abbreviation of tissue ``name`` (label ``index``) in ``desc-groundtruth_dseg.tsv``,
    also the ``label-`` entity of its ``probseg`` (``grey_matter`` -> ``GM``)."""
    return _tissue_row(name, index)[2]


def _tissue_row(name: str, index: int) -> tuple[int, str, str]:
    known = fields()["tissues"].get(name)
    if known:
        return index, known["name"], known["abbreviation"]
    words = [w for w in re.split(r"[^0-9a-zA-Z]+", name) if w]
    abbreviation = "".join(w[0] for w in words).upper() if len(words) > 1 else name.upper()
    return index, " ".join(words) or name, abbreviation or f"L{index}"


def dseg_tsv(segmentation: Mapping[str, int], existing: str | None = None) -> str:
    """``desc-groundtruth_dseg.tsv``: EVERY label of ``segmentation`` plus background 0
    (docs/bids.md §9; docs/physics.md D18), merged with the rows of an ``existing`` table."""
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


def participant_params_path(label: str) -> str:
    """Where the resolved parameters of participant ``label`` go, relative to the raw root."""
    return f"code/sub-{label}_dro_params.json"


def provenance_path(label: str) -> str:
    """Where the provenance of participant ``label`` goes, relative to the raw root."""
    return f"code/provenance/sub-{label}.json"


def participant_validation_path(label: str) -> str:
    """Where a participant job writes the validation report of participant ``label`` (its
    subject and the dataset-level files, docs/bids-app.md), relative to the raw root."""
    return f"code/sub-{label}_validation.json"


def _dataset_file_paths(root: Path) -> dict[str, Path]:
    """Every dataset-level file asldro writes (raw and ground-truth derivative), by role."""
    gt_root = groundtruth_root(root)
    return {
        "raw_description": root / "dataset_description.json",
        "raw_readme": root / "README.md",
        "raw_changes": root / "CHANGES",
        "participants_tsv": root / "participants.tsv",
        "participants_json": root / "participants.json",
        "gt_description": gt_root / "dataset_description.json",
        "gt_readme": gt_root / "README.md",
        "gt_descriptions": gt_root / "descriptions.tsv",
        "gt_dseg": gt_root / f"desc-{fields()['groundtruth_desc']}_dseg.tsv",
        "gt_bidsignore": gt_root / ".bidsignore",
    }


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _with_source(existing: Any, fresh: dict[str, Any]) -> dict[str, Any] | None:
    """An asldro ``dataset_description.json`` already there, with ``fresh``'s ground truth added
    to ``SourceDatasets`` when missing; None when there is nothing to change (or it is not
    asldro's: then it is never touched)."""
    if not describes_asldro_dataset(existing):
        return None
    sources = existing.get("SourceDatasets")
    sources = list(sources) if isinstance(sources, list) else []
    new = [entry for entry in fresh["SourceDatasets"] if entry not in sources]
    if not new:
        return None
    return {**existing, "SourceDatasets": sources + new}


def ensure_dataset_files(
    output_dir: Path,
    *,
    ground_truth_description: str,
    segmentation: Mapping[str, int] | None = None,
    extra_suffixes: Iterable[str] = (),
) -> list[Path]:
    """Write the dataset-level files of the raw dataset and of the ground-truth derivative
    (docs/bids.md §9, §10), atomically. Returns the files whose content changed.

    A file already there is asldro's or its user's: it is kept as it is (a README the user
    edited stays), except that the derivative's ``desc-groundtruth_dseg.tsv`` and
    ``.bidsignore`` gain the rows and patterns new data need, and an asldro
    ``dataset_description.json`` gains a new ground truth in ``SourceDatasets``.

    Parameters
    ----------
    output_dir : Path
        Root of the raw dataset.
    ground_truth_description : str
        Human description of the ground truth (``SourceDatasets``, README).
    segmentation : Mapping, optional
        Tissue name -> label; when given, merged into ``desc-groundtruth_dseg.tsv``.
    extra_suffixes : iterable of str
        Suffixes of extra ground-truth quantities, added to the derivative ``.bidsignore``.
    """
    paths = _dataset_file_paths(Path(output_dir))
    descriptions = {
        "raw_description": raw_dataset_description(ground_truth_description),
        "gt_description": derivative_dataset_description(ground_truth_description),
    }
    files: dict[Path, bytes] = {}
    for role, content in _new_dataset_files(descriptions, ground_truth_description).items():
        path = paths[role]
        if not (path.exists() or path.is_symlink()):
            files[path] = content
    for role, fresh in descriptions.items():
        path = paths[role]
        if path not in files:
            merged = _with_source(_read_json(path), fresh)
            if merged is not None:
                files[path] = json_bytes(merged)
    bidsignore = paths["gt_bidsignore"]
    files[bidsignore] = _bidsignore(_read(bidsignore), extra_suffixes).encode()
    if segmentation is not None:
        dseg_path = paths["gt_dseg"]
        files[dseg_path] = dseg_tsv(segmentation, _read(dseg_path)).encode()
    return [path for path, content in files.items() if write_bytes_atomic(path, content)]


def _new_dataset_files(
    descriptions: Mapping[str, dict[str, Any]], ground_truth_description: str
) -> dict[str, bytes]:
    """The content of each dataset-level file (by role) of a new dataset: the two
    ``dataset_description.json`` of ``descriptions``, the READMEs, CHANGES and the derivative's
    ``descriptions.tsv``."""
    desc = fields()["groundtruth_desc"]
    return {
        "raw_description": json_bytes(descriptions["raw_description"]),
        "raw_readme": _text("readme_raw", ground_truth_description).encode(),
        "raw_changes": _text("changes", ground_truth_description).encode(),
        "gt_description": json_bytes(descriptions["gt_description"]),
        "gt_readme": _text("readme_derivative", ground_truth_description).encode(),
        "gt_descriptions": (
            "desc_id\tdescription\n"
            f"desc-{desc}\tGround truth the raw dataset was simulated from, on the grid of "
            "a ground_truth series (no res entity) or of the raw series its res entity names\n"
            "desc-brain\tGround-truth brain mask: the tissues fill at least half of the voxel\n"
        ).encode(),
    }


# --------------------------------------------------------------------------------------------
# What asldro wrote: recognising its datasets and the files in them


def describes_asldro_dataset(description: Any) -> bool:
    """True for a ``dataset_description.json`` document whose ``GeneratedBy`` names asldro."""
    generated = description.get("GeneratedBy") if isinstance(description, dict) else None
    return isinstance(generated, list) and any(
        isinstance(entry, dict) and entry.get("Name") == GENERATOR for entry in generated
    )


def is_asldro_dataset(root: Path) -> bool:
    """True when ``root`` holds an asldro ``dataset_description.json`` (GeneratedBy asldro)."""
    return describes_asldro_dataset(_read_json(Path(root) / "dataset_description.json"))


def is_asldro_temporary(name: str) -> bool:
    """True for the hidden entries of running or killed asldro runs (``.asldro-tmp-*``,
    ``.asldro-scratch-*``, the ``.asldro.lock`` dataset lock)."""
    return name.startswith(HIDDEN_PREFIX)


def subject_files_written(root: Path, label: str) -> set[str] | None:
    """The files asldro wrote for participant ``label`` (POSIX paths relative to the raw root),
    read from its provenance file; None when there is no asldro provenance for it."""
    root = Path(root)
    provenance = _asldro_provenance(root, label)
    if provenance is None:
        return None
    files = {provenance_path(label)} | _listed(provenance.get("files"))
    from asldro.bids.validate import is_validation_report

    if is_validation_report(root / participant_validation_path(label)):
        files.add(participant_validation_path(label))
    sessions = [s for s in provenance.get("sessions") or () if isinstance(s, dict)]
    for entry in [provenance, *sessions]:  # the series of the participant or of each session
        for series in entry.get("series") or ():
            if isinstance(series, dict):
                files |= _listed(series.get("files"))
    if isinstance(provenance.get("parameters"), str):
        files.add(provenance["parameters"])
    return files


def _listed(names: Any) -> set[str]:
    """The file names of a provenance ``files`` list (anything else in it ignored)."""
    return (
        {name for name in names or () if isinstance(name, str)}
        if isinstance(names, list)
        else set()
    )


def _foreign_below(root: Path, folder: Path, owned: set[str]) -> list[Path]:
    """Entries under ``folder`` asldro did not write: files, symlinks and other non-folders not
    in ``owned`` (folders themselves hold no data: an empty one is nobody's loss)."""
    if not (folder.exists() or folder.is_symlink()):
        return []
    if folder.is_symlink() or not folder.is_dir():
        return [] if folder.relative_to(root).as_posix() in owned else [folder]
    found = []
    for current, dirs, files in os.walk(folder):
        here = Path(current)
        dirs[:] = [d for d in sorted(dirs) if not is_asldro_temporary(d)]
        for name in sorted(files) + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            if is_asldro_temporary(name) and not path.is_symlink():
                continue
            if path.relative_to(root).as_posix() not in owned:
                found.append(path)
    return found


def foreign_subject_files(root: Path, label: str) -> list[Path]:
    """What asldro did not write among the files it would replace for participant ``label``
    (``sub-<label>``, its ground truth and its ``code/`` files); empty when all are asldro's."""
    root = Path(root)
    owned = subject_files_written(root, label) or set()
    found = []
    for folder in (root / f"sub-{label}", groundtruth_root(root) / f"sub-{label}"):
        found += _foreign_below(root, folder, owned)
    for relative in (
        provenance_path(label),
        participant_params_path(label),
        participant_validation_path(label),
    ):
        found += _foreign_below(root, root / relative, owned)
    return sorted(found)


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Remove the temporary folders killed asldro processes left in the dataset at ``root``
    (their owner lock is free); return them."""
    from asldro.bids.atomic import remove_stale_temp_dirs

    root = Path(root)
    removed: list[Path] = []
    for folder in (root, groundtruth_root(root), root / "code"):
        removed += remove_stale_temp_dirs(folder)
    return removed


def files_record(files: Iterable[str], **details: Any) -> dict[str, Any]:
    """The document of :data:`FILES_RECORD`: what asldro wrote in a dataset that has no
    participant provenance (a derivative such as ``asldro quantify``'s), with ``details``."""
    return {"generated_by": f"{GENERATOR} {__version__}", **details, "files": sorted(set(files))}


def read_files_record(root: Path) -> dict[str, Any] | None:
    """The :data:`FILES_RECORD` document of the dataset at ``root`` when asldro wrote it."""
    record = _read_json(Path(root) / FILES_RECORD)
    if isinstance(record, dict) and str(record.get("generated_by", "")).startswith(GENERATOR):
        return record
    return None


def recorded_files(root: Path) -> set[str]:
    """The files the dataset's :data:`FILES_RECORD` lists (and the record itself)."""
    record = read_files_record(root)
    if record is None:
        return set()
    files = record.get("files")
    listed = files if isinstance(files, list) else []
    return {FILES_RECORD} | {name for name in listed if isinstance(name, str)}


def dataset_files_written(root: Path) -> set[str]:
    """Every file asldro wrote in the dataset at ``root`` (POSIX paths relative to it)."""
    from asldro.bids.validate import REPORT_PATH

    root = Path(root)
    if read_files_record(root) is not None:  # a derivative that lists its files
        return recorded_files(root) | {REPORT_PATH.as_posix()}
    owned = {path.relative_to(root).as_posix() for path in _dataset_file_paths(root).values()}
    owned.add(REPORT_PATH.as_posix())
    owned.add((groundtruth_root(root) / REPORT_PATH).relative_to(root).as_posix())
    owned.update(LEGACY_FILES)
    record = _asldro_record(root)
    if record:
        owned.add(PARTICIPANT_COLUMNS_RECORD)
        if record.get("summary") == COHORT_SUMMARY:
            owned.add(COHORT_SUMMARY)
    for provenance in sorted((root / "code" / "provenance").glob("sub-*.json")):
        label = provenance.name[len("sub-") : -len(".json")]
        owned |= subject_files_written(root, label) or set()
    owned |= _derivative_files_written(root)
    return owned


def _derivative_files_written(root: Path) -> set[str]:
    """The files asldro wrote in the asldro derivative datasets under ``root/derivatives/``
    other than the ground truth (whose files the participants' provenance lists), e.g.
    ``asldro quantify``'s, relative to ``root``; symlinked folders are not followed."""
    owned: set[str] = set()
    folder = root / "derivatives"
    if not folder.is_dir() or folder.is_symlink():
        return owned
    for derivative in sorted(folder.iterdir()):
        if (
            derivative.is_symlink()
            or not derivative.is_dir()
            or derivative == groundtruth_root(root)
        ):
            continue
        if is_asldro_dataset(derivative):
            prefix = derivative.relative_to(root).as_posix()
            owned |= {f"{prefix}/{name}" for name in dataset_files_written(derivative)}
    return owned


def foreign_files(root: Path) -> list[Path]:
    """Everything under ``root`` asldro did not write (sorted); empty for a pure asldro dataset.

    asldro's hidden temporary entries (``.asldro-*``, ``.asldro.lock``) count as its own.
    """
    root = Path(root)
    return sorted(_foreign_below(root, root, dataset_files_written(root)))


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


#: The participants whose asldro columns :func:`update_participants` refreshes: all present.
ALL_PARTICIPANTS = None
MISSING_VALUE = "n/a"


def participant_columns(provenance: Any) -> list[dict[str, Any]]:
    """The participants.tsv columns of a participant's provenance document (its
    ``"participant": {"columns": [...]}`` entry, in order): each a dict with ``name``,
    ``value`` (JSON string, number or null) and the participants.json entries
    ``Description`` (required), ``Units`` and ``Levels`` (optional). Entries without a string
    name or description are skipped; none without the key (no cohort)."""
    participant = provenance.get("participant") if isinstance(provenance, dict) else None
    columns = participant.get("columns") if isinstance(participant, dict) else None
    return [
        column
        for column in columns or ()
        if isinstance(column, dict)
        and isinstance(column.get("name"), str)
        and column["name"] not in ("", "participant_id")
        and isinstance(column.get("Description"), str)
    ]


def tsv_cell(value: Any) -> str:
    """A participants.tsv cell for a JSON ``value``: ``n/a`` for null (and non-finite numbers),
    numbers as Python writes them (shortest round-trip form), strings with tabs and line breaks
    replaced by spaces."""
    if value is None or isinstance(value, bool):
        return MISSING_VALUE if value is None else str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value) if math.isfinite(value) else MISSING_VALUE
    text = re.sub(r"[\t\r\n]+", " ", str(value)).strip()
    return text or MISSING_VALUE


def _parse_table(existing: str | None) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The header (after ``participant_id``) and the rows (id -> column -> cell) of an
    ``existing`` participants.tsv; nothing when it has no ``participant_id`` first column."""
    lines = (existing or "").splitlines()
    if not lines or lines[0].split("\t")[0] != "participant_id":
        return [], {}
    header = lines[0].split("\t")[1:]
    rows = {}
    for line in lines[1:]:
        cells = line.split("\t")
        if cells[0]:
            padded = (cells[1:] + [MISSING_VALUE] * len(header))[: len(header)]
            rows[cells[0]] = dict(zip(header, padded))
    return header, rows


def participants_tsv(
    labels: Iterable[str],
    existing: str | None = None,
    columns: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    asldro_columns: Iterable[str] = (),
) -> str:
    """``participants.tsv`` listing exactly ``labels`` (in order), merged with an ``existing``
    table: its columns and cells are kept (a user's ``age``, ``sex``...; the asldro columns of
    participants not in ``columns``), ``n/a`` where a row has no value.

    ``columns`` maps a label to its asldro columns (:func:`participant_columns`): those rows'
    cells of the columns named in ``asldro_columns`` or in ``columns`` are replaced (``n/a``
    for an asldro column the participant no longer has). New columns follow the existing ones,
    in the participants' column order."""
    header, rows = _parse_table(existing)
    columns = columns or {}
    owned = set(asldro_columns)
    for given in columns.values():
        for column in given:
            owned.add(column["name"])
            if column["name"] not in header:
                header.append(column["name"])
    body = []
    for label in labels:
        row = dict(rows.get(f"sub-{label}", {}))
        if label in columns:
            row.update({name: MISSING_VALUE for name in owned})
            row.update({c["name"]: tsv_cell(c.get("value")) for c in columns[label]})
        body.append("\t".join([f"sub-{label}", *(row.get(n, MISSING_VALUE) for n in header)]))
    return "\t".join(["participant_id", *header]) + "\n" + "".join(f"{line}\n" for line in body)


def participants_json(existing: Any, columns: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """``participants.json``: an ``existing`` document (the user's column descriptions) with
    asldro's ``participant_id`` description added when missing and, for each asldro column of
    ``columns``, its ``Description``, ``Units`` and ``Levels`` (other keys of its entry kept)."""
    document = dict(existing) if isinstance(existing, dict) else {}
    for column, description in fields()["participants_json"].items():
        document.setdefault(column, description)
    for column in columns:
        entry = document.get(column["name"])
        entry = dict(entry) if isinstance(entry, dict) else {}
        for key in ("Description", "Units", "Levels"):
            if column.get(key) is not None:
                entry[key] = column[key]
            else:
                entry.pop(key, None)
        document[column["name"]] = entry
    return document


def _asldro_provenance(root: Path, label: str) -> dict[str, Any] | None:
    """The provenance document of participant ``label`` when asldro wrote it, else None."""
    provenance = _read_json(root / provenance_path(label))
    if (
        isinstance(provenance, dict)
        and provenance.get("participant_id") == f"sub-{label}"
        and str(provenance.get("generated_by", "")).startswith(GENERATOR)
    ):
        return provenance
    return None


def _asldro_record(root: Path) -> dict[str, Any]:
    """The :data:`PARTICIPANT_COLUMNS_RECORD` document when asldro wrote it, else empty."""
    record = _read_json(Path(root) / PARTICIPANT_COLUMNS_RECORD)
    if isinstance(record, dict) and str(record.get("generated_by", "")).startswith(GENERATOR):
        return record
    return {}


def recorded_participant_columns(root: Path) -> list[str]:
    """The participants.tsv columns asldro wrote in the dataset at ``root``
    (:data:`PARTICIPANT_COLUMNS_RECORD`; empty when there is none or it is not asldro's)."""
    names = _asldro_record(root).get("columns")
    return [name for name in names or () if isinstance(name, str)]


def record_cohort_summary(root: Path) -> bool:
    """Note in :data:`PARTICIPANT_COLUMNS_RECORD` that asldro writes :data:`COHORT_SUMMARY`
    (so that it is known as asldro's file); False (nothing noted) when there is no record or a
    file asldro did not write is at that place."""
    root = Path(root)
    record = _asldro_record(root)
    if not record:
        return False
    if record.get("summary") == COHORT_SUMMARY:
        return True
    if (root / COHORT_SUMMARY).exists() or (root / COHORT_SUMMARY).is_symlink():
        return False
    write_bytes_atomic(
        root / PARTICIPANT_COLUMNS_RECORD, json_bytes({**record, "summary": COHORT_SUMMARY})
    )
    return True


def present_participants(root: Path) -> list[str]:
    """Labels of the ``sub-<label>`` folders of the raw dataset at ``root`` (BIDS labels
    only), sorted."""
    return sorted(
        label
        for label in (subject_label(p.name) for p in Path(root).iterdir() if p.is_dir())
        if label is not None
    )


def update_participants(output_dir: Path, touched: Iterable[str] | None = ()) -> list[str]:
    """Merge ``participants.tsv`` and ``participants.json`` atomically (docs/bids.md §10).
    Returns the labels.

    The rows are exactly the ``sub-*`` folders present (sorted); the columns and cells of the
    existing table are kept (the user's columns, the other participants' values), except the
    asldro columns of the participants ``touched`` (labels; :data:`ALL_PARTICIPANTS`, None: every
    participant present), read from their provenance (:func:`participant_columns`).
    participants.json gains the description of asldro's columns; the user's descriptions are
    kept. Parallel jobs serialise on an exclusive lock of the dataset folder. Without asldro
    columns the files are those of a dataset with the ``participant_id`` column only."""
    root = Path(output_dir)
    paths = _dataset_file_paths(root)
    with _participants_lock(root):
        labels = present_participants(root)
        chosen = labels if touched is None else [t for t in dict.fromkeys(touched) if t in labels]
        columns = {label: participant_columns(_asldro_provenance(root, label)) for label in chosen}
        known = _record_columns(root, columns)
        tsv = participants_tsv(labels, _read(paths["participants_tsv"]), columns, known)
        write_text_atomic(paths["participants_tsv"], tsv)
        described = {c["name"]: c for given in columns.values() for c in given}
        existing = _read_json(paths["participants_json"])
        document = participants_json(existing, described.values())
        if document != existing:
            write_bytes_atomic(paths["participants_json"], json_bytes(document))
    return labels


def _record_columns(root: Path, columns: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[str]:
    """Add the names of ``columns`` (label -> its columns) to
    :data:`PARTICIPANT_COLUMNS_RECORD` (written only when a name is new); return the names
    recorded before."""
    known = recorded_participant_columns(root)
    new = [c["name"] for given in columns.values() for c in given if c["name"] not in known]
    if new:
        record = {
            **_asldro_record(root),
            "generated_by": f"{GENERATOR} {__version__}",
            "columns": list(dict.fromkeys([*known, *new])),
        }
        write_bytes_atomic(root / PARTICIPANT_COLUMNS_RECORD, json_bytes(record))
    return known
