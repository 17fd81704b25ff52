"""``global_configuration`` of a parameter file (docs/physics.md §2.1, §2.2, §3.2; D19, D35).

The rules here that the schema cannot state: a ground-truth object gives exactly one of the two
file-pair forms (ASLDRO's ``{"nii", "json"}``, MRImageTools' ``{"nii_file", "json_file"}``;
resolved as ``{"nii", "json"}`` with absolute paths to files that exist) or the keys of a
subject-specific ground truth (:mod:`asldro.params.subject`), ``subject_label`` loses its ``-``
(not allowed in a BIDS label) with a warning, the ``lesions`` are resolved by
:mod:`asldro.params.lesions` (mask paths made absolute) and the ``cohort`` by
:mod:`asldro.params.cohort`.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Mapping

from asldro.labels import SUBJECT_PREFIX, is_label
from asldro.params.builtin import BUILTIN_GROUND_TRUTHS
from asldro.params.catalog import GLOBAL, GROUND_TRUTH_FILE_KEYS, parameters
from asldro.params.kinds import NO_DEFAULT
from asldro.params.cohort import COHORT_KEY, cohort_from, resolve_cohort
from asldro.params.lesions import LESIONS_KEY, lesions_from, resolve_lesions
from asldro.params.rules import INVALID, show
from asldro.params.subject import absolute_path, is_subject, resolve_subject, subject_maps_from
from asldro.params.types import GlobalConfig, GroundTruthSource, Modulation
from asldro.params.validate import Failures, JsonPath, Problem, convert, text_path

_NIFTI_SUFFIXES = (".nii.gz", ".nii")


def _json_beside(nifti: str) -> str:
    for suffix in _NIFTI_SUFFIXES:
        if nifti.endswith(suffix):
            return nifti[: -len(suffix)] + ".json"
    return nifti + ".json"


def _file_pair(value: Mapping[str, Any], where: str) -> tuple[str, str] | str:
    """The (NIfTI, JSON) paths of a ground-truth object, or why it gives neither form or both."""
    given = [keys for keys in GROUND_TRUTH_FILE_KEYS if any(key in value for key in keys)]
    forms = " or ".join(
        "{" + ", ".join(json.dumps(k) for k in keys) + "}" for keys in GROUND_TRUTH_FILE_KEYS
    )
    keys = ", ".join(json.dumps(key) for key in value) or "none"
    if len(given) > 1:
        return f"{where}: give one of {forms}, not keys of both (got {keys})"
    if not given or not all(key in value for key in given[0]):
        return f"{where}: expected {forms}, got keys {keys}"
    nifti_key, json_key = given[0]
    return value[nifti_key], value[json_key]


def resolve_ground_truth(value: Any, folder: Path, path: JsonPath, problems: list[Problem]) -> Any:
    """Resolved ``ground_truth`` (already valid against the schema): a built-in name, or
    ``{"nii": abs, "json": abs}`` whose files exist (from either object form). Relative paths
    resolve against ``folder`` (the parameter file's folder)."""
    where = text_path(path)
    if isinstance(value, Mapping) and is_subject(value):
        return resolve_subject(value, folder, path, problems)
    if isinstance(value, Mapping):
        pair = _file_pair(value, where)
        if isinstance(pair, str):
            problems.append(Problem(path, pair))
            return INVALID
        value = {"nii": pair[0], "json": pair[1]}
    elif isinstance(value, str):
        if value in BUILTIN_GROUND_TRUTHS:
            return value
        if not value.endswith(_NIFTI_SUFFIXES):
            problems.append(
                Problem(
                    path,
                    f"{where}: {show(value)} is neither a built-in ground truth "
                    f"({', '.join(BUILTIN_GROUND_TRUTHS)}) nor a .nii/.nii.gz path",
                )
            )
            return INVALID
        value = {"nii": value, "json": _json_beside(value)}
    files = {
        "nii": absolute_path(value["nii"], folder),
        "json": absolute_path(value["json"], folder),
    }
    missing = [
        Problem(path, f"{where}: ground truth {kind} file {json.dumps(str(file))} does not exist")
        for kind, file in (("NIfTI", files["nii"]), ("JSON", files["json"]))
        if not file.is_file()
    ]
    if missing:
        problems.extend(missing)
        return INVALID
    return {key: str(file) for key, file in files.items()}


def resolve_global(value: Any, folder: Path, failures: Failures, problems: list[Problem]) -> Any:
    """The validated ``global_configuration`` with defaults filled (D13, D19): every key of the
    catalog (a quantity map left out is empty), the ground truth resolved."""
    path: JsonPath = (GLOBAL,)
    if not isinstance(value, Mapping):
        return INVALID
    out: dict[str, Any] = {}
    for name, row in parameters(GLOBAL).items():
        key_path = (*path, name)
        if not failures.clean(key_path):
            out[name] = INVALID
        elif name in value:
            out[name] = convert(row.kind, value[name])
        elif row.default is not NO_DEFAULT and not row.required:
            out[name] = convert(row.kind, row.default)
    if out.get("ground_truth", INVALID) is not INVALID:
        out["ground_truth"] = resolve_ground_truth(
            out["ground_truth"], folder, (*path, "ground_truth"), problems
        )
    if out.get(LESIONS_KEY, INVALID) is not INVALID:
        out[LESIONS_KEY] = resolve_lesions(out[LESIONS_KEY], folder, (*path, LESIONS_KEY), problems)
    if out.get(COHORT_KEY, INVALID) is not INVALID:
        out[COHORT_KEY] = resolve_cohort(out[COHORT_KEY], (*path, COHORT_KEY), problems)
    if out.get("subject_label", INVALID) is not INVALID:
        out["subject_label"] = resolve_subject_label(
            out["subject_label"], (*path, "subject_label"), problems
        )
    return out


def resolve_subject_label(value: str, path: JsonPath, problems: list[Problem]) -> Any:
    """``subject_label`` without a leading ``sub-`` (as the command line's participant labels)
    and without ``-`` (docs/physics.md D35: ASLDRO develop allows it, a BIDS label does not),
    with one warning when a ``-`` after the prefix was removed; a label that is still not a BIDS
    label is a problem."""
    unprefixed = value[len(SUBJECT_PREFIX) :] if value.startswith(SUBJECT_PREFIX) else value
    label = unprefixed.replace("-", "")
    where = text_path(path)
    if not is_label(label):
        problems.append(
            Problem(path, f"{where}: {show(value)} has no letters or digits besides '-'")
        )
        return INVALID
    if label != unprefixed:
        warnings.warn(
            f"{where}: {show(value)} is not a BIDS label ('-' is not allowed); using "
            f"{show(label)}",
            stacklevel=2,
        )
    return label


def global_config_from(resolved: Mapping[str, Any]) -> GlobalConfig:
    """Typed :class:`GlobalConfig` from a resolved ``global_configuration``."""
    truth = resolved["ground_truth"]
    if isinstance(truth, str):
        source = GroundTruthSource(name=truth)
    elif "probseg" in truth:
        source = GroundTruthSource(subject=subject_maps_from(truth))
    else:
        source = GroundTruthSource(nifti=Path(truth["nii"]), json=Path(truth["json"]))
    return GlobalConfig(
        subject_label=resolved.get("subject_label"),
        tissue_model=resolved.get("tissue_model"),
        lesions=lesions_from(resolved.get(LESIONS_KEY)),
        cohort=cohort_from(resolved.get(COHORT_KEY)),
        ground_truth=source,
        image_override=dict(resolved["image_override"]),
        parameter_override=dict(resolved["parameter_override"]),
        ground_truth_modulate={
            name: Modulation(scale=mod.get("scale"), offset=mod.get("offset"))
            for name, mod in resolved["ground_truth_modulate"].items()
        },
    )
