"""A subject-specific ground truth in the parameter file: ``ground_truth: {"probseg": ...,
"maps": ..., "values": ..., "template": ...}`` (issue 13 item 4; docs/physics.md §3.6).

The rules here are those the schema cannot state: the keys are not mixed with a file pair;
``probseg`` is either a folder (with a naming ``convention`` and, for BIDS, entity filters) or
one file per tissue; relative paths resolve against the parameter file's folder; every file
exists. A folder is resolved to its three files here, so the resolved parameter file (under
``code/`` of a dataset) records exactly which maps were used:

* ``fsl_fast``: ``<prefix>_pve_0``, ``_pve_1``, ``_pve_2`` ``.nii[.gz]`` directly in the folder
  (FSL FAST's partial-volume estimates of a T1-weighted image: 0 CSF, 1 GM, 2 WM); one prefix.
* ``bids``: ``*_label-GM|WM|CSF_probseg.nii[.gz]`` anywhere below the folder (a BIDS derivative
  dataset such as fMRIPrep's), grouped by their other entities; exactly one complete set must
  remain after the filters ``participant`` (``sub-``), ``session`` (``ses-``), ``space``.
* absent ``convention``: the one convention that finds a complete set.

The image contents (dimensions, values, overlap) are checked when the ground truth is built
(:mod:`asldro.groundtruth.maps`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from asldro.labels import SUBJECT_PREFIX
from asldro.params.builtin import BUILTIN_GROUND_TRUTHS
from asldro.params.catalog import (
    GROUND_TRUTH_FILE_KEYS,
    PROBSEG_CONVENTIONS,
    PROBSEG_FOLDER_KEYS,
    PROBSEG_TISSUES,
    SUBJECT_KEYS,
)
from asldro.params.rules import INVALID
from asldro.params.types import SubjectMaps
from asldro.params.validate import JsonPath, Problem, text_path

FAST_PATTERN = re.compile(r"^(?P<prefix>.*)_pve_(?P<index>[012])\.nii(\.gz)?$")
"""An FSL FAST partial-volume estimate: ``<prefix>_pve_<class>.nii[.gz]``."""
FAST_CLASSES = {"0": "CSF", "1": "GM", "2": "WM"}
"""FAST's classes of a T1-weighted image (``-t 1``, 3 classes), darkest first."""
BIDS_PATTERN = re.compile(r"^(?P<stem>.+)_probseg\.nii(\.gz)?$")
"""A BIDS probabilistic segmentation: ``<entities>_probseg.nii[.gz]``."""
BIDS_FILTERS = {"participant": "sub", "session": "ses", "space": "space"}
"""The filters of a BIDS probseg folder and the entity each selects."""


class _Refusal(Exception):
    """A probseg folder that cannot be resolved; the message is the problem's text."""


def is_subject(value: Mapping[str, Any]) -> bool:
    """True when a ground-truth object gives any key of the subject-specific form."""
    return any(key in value for key in SUBJECT_KEYS)


def absolute_path(text: str, folder: Path) -> Path:
    """``text`` (``~`` expanded) resolved against ``folder`` when relative, normalised: how
    every path of a parameter file is read (relative to the parameter file's folder)."""
    return Path(os.path.normpath(folder / Path(text).expanduser()))


def _entities(stem: str) -> dict[str, str]:
    """The ``key-value`` entities of a BIDS file name stem (pieces without ``-`` ignored)."""
    pairs = (piece.split("-", 1) for piece in stem.split("_") if "-" in piece)
    return dict(pairs)


def _fast_sets(folder: Path) -> dict[str, dict[str, Path]]:
    """{prefix: {tissue: file}} of the FAST estimates directly in ``folder``."""
    sets: dict[str, dict[str, Path]] = {}
    for file in sorted(folder.iterdir()):
        match = FAST_PATTERN.match(file.name)
        if match and file.is_file():
            sets.setdefault(match["prefix"], {})[FAST_CLASSES[match["index"]]] = file
    return sets


def _bids_sets(folder: Path, filters: Mapping[str, str]) -> dict[str, dict[str, Path]]:
    """{entities without label: {tissue: file}} of the probseg files below ``folder`` that
    pass ``filters`` ({entity: value})."""
    sets: dict[str, dict[str, Path]] = {}
    for file in sorted(folder.rglob("*_probseg.nii*")):
        match = BIDS_PATTERN.match(file.name)
        if not match or not file.is_file():
            continue
        entities = _entities(match["stem"])
        tissue = entities.pop("label", None)
        if tissue not in PROBSEG_TISSUES:
            continue
        if any(entities.get(key) != value for key, value in filters.items()):
            continue
        key = "_".join(f"{name}-{value}" for name, value in entities.items())
        if tissue in sets.setdefault(key, {}):
            raise _Refusal(
                f"two label-{tissue} probseg files with the entities {key}: "
                f"{json.dumps(str(sets[key][tissue]))} and {json.dumps(str(file))}; give the "
                'files {"GM": path, "WM": path, "CSF": path}'
            )
        sets[key][tissue] = file
    return sets


def _complete(sets: Mapping[str, Mapping[str, Path]]) -> dict[str, Mapping[str, Path]]:
    return {key: files for key, files in sets.items() if set(files) == set(PROBSEG_TISSUES)}


def _one_set(convention: str, folder: Path, filters: Mapping[str, str]) -> dict[str, Path]:
    """The one complete set of ``convention`` in ``folder``, or a refusal saying why not."""
    if convention == "fsl_fast":
        found, what = _fast_sets(folder), "<prefix>_pve_0/1/2.nii[.gz] (FSL FAST)"
    else:
        found, what = _bids_sets(folder, filters), "*_label-GM|WM|CSF_probseg.nii[.gz] (BIDS)"
    complete = _complete(found)
    if not complete:
        partial = "; ".join(
            f"{key or 'no entities'}: {', '.join(sorted(files))} only"
            for key, files in found.items()
        )
        shown = ", ".join(f"{name} {value!r}" for name, value in filters.items())
        raise _Refusal(
            f"no complete set of {what} in {json.dumps(str(folder))}"
            + (f" with {shown}" if shown else "")
            + (f" ({partial})" if partial else "")
        )
    if len(complete) == 1:
        return dict(next(iter(complete.values())))
    if convention == "fsl_fast":
        prefixes = ", ".join(json.dumps(prefix) for prefix in complete)
        raise _Refusal(
            f"several FSL FAST sets in {json.dumps(str(folder))} (prefixes {prefixes}); give the "
            'files {"GM": path, "WM": path, "CSF": path}'
        )
    subjects = sorted({_entities(key).get("sub", "") for key in complete})
    if len(subjects) > 1 and "sub" not in filters:
        labels = ", ".join(f"sub-{label}" for label in subjects if label)
        raise _Refusal(
            f"probseg maps of several participants in {json.dumps(str(folder))} ({labels}): "
            'give "participant" or the files {"GM": path, "WM": path, "CSF": path}'
        )
    sets = ", ".join(complete)
    raise _Refusal(
        f"several probseg sets in {json.dumps(str(folder))} ({sets}): narrow them with "
        '"session" or "space", or give the files {"GM": path, "WM": path, "CSF": path}'
    )


def _filters(probseg: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key, entity in BIDS_FILTERS.items():
        if key in probseg:
            value = str(probseg[key])
            if key == "participant" and value.startswith(SUBJECT_PREFIX):
                value = value[len(SUBJECT_PREFIX) :]
            out[entity] = value
    return out


def _folder_files(probseg: Mapping[str, Any], folder: Path, where: str) -> dict[str, Path]:
    """The three files of a probseg folder (module docstring), or a refusal."""
    if not folder.is_dir():
        raise _Refusal(f"{where}.folder: {json.dumps(str(folder))} is not a folder")
    filters = _filters(probseg)
    # the entity filters select BIDS files: with them, the convention is BIDS
    convention = probseg.get("convention", "bids" if filters else None)
    if convention == "fsl_fast" and filters:
        keys = ", ".join(json.dumps(key) for key in BIDS_FILTERS if key in probseg)
        raise _Refusal(f"{where}: {keys} select BIDS entities; they need convention 'bids'")
    try:
        if convention is not None:
            return _one_set(convention, folder, filters)
        found = {}
        for candidate in PROBSEG_CONVENTIONS:
            try:
                found[candidate] = _one_set(candidate, folder, filters)
            except _Refusal:
                continue
        if len(found) == 1:
            return next(iter(found.values()))
        if found:
            raise _Refusal(
                f"{json.dumps(str(folder))} holds maps of both conventions: give "
                f"\"convention\" ({', '.join(PROBSEG_CONVENTIONS)})"
            )
        return _one_set("fsl_fast", folder, filters)
    except _Refusal as refusal:
        raise _Refusal(f"{where}: {refusal}") from None


def _probseg_files(probseg: Mapping[str, Any], folder: Path, where: str) -> dict[str, Path]:
    """{GM, WM, CSF: absolute file} of the ``probseg`` object, or a refusal."""
    explicit = [key for key in PROBSEG_TISSUES if key in probseg]
    by_folder = [key for key in PROBSEG_FOLDER_KEYS if key in probseg]
    if explicit and by_folder:
        raise _Refusal(
            f"{where}: give a folder or the files {{GM, WM, CSF}}, not both (got "
            f"{', '.join(json.dumps(key) for key in probseg)})"
        )
    if by_folder:
        if "folder" not in probseg:
            raise _Refusal(f"{where}.folder: missing (required with {', '.join(by_folder)})")
        return _folder_files(probseg, absolute_path(probseg["folder"], folder), where)
    missing = [key for key in PROBSEG_TISSUES if key not in probseg]
    if missing:
        raise _Refusal(
            f"{where}: missing {', '.join(missing)} (give a folder, or one file per tissue "
            '{"GM": path, "WM": path, "CSF": path})'
        )
    return {tissue: absolute_path(probseg[tissue], folder) for tissue in PROBSEG_TISSUES}


def resolve_subject(
    value: Mapping[str, Any], folder: Path, path: JsonPath, problems: list[Problem]
) -> Any:
    """The resolved subject-specific ``ground_truth`` (already valid against the schema):
    ``{"probseg": {GM, WM, CSF: absolute file}, "maps": {quantity: absolute file}, "values":
    ..., "template": name}``, every file existing; else INVALID, with the problems added."""
    where = text_path(path)
    pairs = [key for keys in GROUND_TRUTH_FILE_KEYS for key in keys if key in value]
    if pairs:
        given = ", ".join(json.dumps(key) for key in pairs)
        problems.append(
            Problem(
                path,
                f"{where}: {given} name a ground-truth file; a ground truth from probseg maps "
                "gives no file pair (use one form or the other)",
            )
        )
        return INVALID
    if "probseg" not in value:
        given = ", ".join(json.dumps(key) for key in SUBJECT_KEYS if key in value)
        problems.append(
            Problem(
                (*path, "probseg"),
                f"{where}.probseg: missing (required with {given}): the tissue probability "
                "maps the ground truth is built on",
            )
        )
        return INVALID
    try:
        probseg = _probseg_files(value["probseg"], folder, f"{where}.probseg")
    except _Refusal as refusal:
        problems.append(Problem((*path, "probseg"), str(refusal)))
        return INVALID
    maps = {name: absolute_path(file, folder) for name, file in value.get("maps", {}).items()}
    missing = [
        Problem(
            (*path, kind, key), f"{where}.{kind}.{key}: file {json.dumps(str(file))} does not exist"
        )
        for kind, files in (("probseg", probseg), ("maps", maps))
        for key, file in files.items()
        if not file.is_file()
    ]
    if missing:
        problems.extend(missing)
        return INVALID
    return {
        "probseg": {tissue: str(file) for tissue, file in probseg.items()},
        "maps": {name: str(file) for name, file in maps.items()},
        "values": {name: dict(per_tissue) for name, per_tissue in value.get("values", {}).items()},
        "template": value.get("template", BUILTIN_GROUND_TRUTHS[0]),
    }


def subject_maps_from(resolved: Mapping[str, Any]) -> SubjectMaps:
    """The typed :class:`SubjectMaps` of a resolved subject-specific ``ground_truth``."""
    return SubjectMaps(
        probseg={tissue: Path(file) for tissue, file in resolved["probseg"].items()},
        maps={name: Path(file) for name, file in resolved["maps"].items()},
        values={
            name: {tissue: float(value) for tissue, value in per_tissue.items()}
            for name, per_tissue in resolved["values"].items()
        },
        template=resolved["template"],
    )
