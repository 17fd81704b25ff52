"""``global_configuration`` of a parameter file (physics.md §2.1, §2.2, §3.2; D19)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from asldro.params.builtin import BUILTIN_GROUND_TRUTHS
from asldro.params.rules import (
    INVALID,
    check,
    check_keys,
    defaults,
    join,
    resolve,
    schema,
    show,
    unknown_key_message,
)
from asldro.params.types import GlobalConfig, GroundTruthSource, Modulation

_NIFTI_SUFFIXES = (".nii.gz", ".nii")


def _rules() -> Mapping[str, Any]:
    return schema()["$defs"]["global_configuration"]


def _absolute(text: str, folder: Path) -> Path:
    return Path(os.path.normpath(folder / Path(text).expanduser()))


def _json_beside(nifti: str) -> str:
    for suffix in _NIFTI_SUFFIXES:
        if nifti.endswith(suffix):
            return nifti[: -len(suffix)] + ".json"
    return nifti + ".json"


def _check_files(paths: Mapping[str, Path], path: str, errors: list[str]) -> None:
    for kind, file in paths.items():
        if not file.is_file():
            errors.append(
                f"{path}: ground truth {kind} file {json.dumps(str(file))} does not exist"
            )


def resolve_ground_truth(value: Any, folder: Path, path: str, errors: list[str]) -> Any:
    """Resolved ``ground_truth``: a built-in name or ``{"nii": abs, "json": abs}`` (files exist).

    Relative paths resolve against ``folder`` (the parameter file's folder).
    """
    if isinstance(value, str):
        if value in BUILTIN_GROUND_TRUTHS:
            return value
        if not value.endswith(_NIFTI_SUFFIXES):
            errors.append(
                f"{path}: {show(value)} is neither a built-in ground truth "
                f"({', '.join(BUILTIN_GROUND_TRUTHS)}) nor a .nii/.nii.gz path"
            )
            return INVALID
        value = {"nii": value, "json": _json_beside(value)}
    elif isinstance(value, Mapping):
        before = len(errors)
        check_keys(value, ("nii", "json"), path, errors)
        for key, suffixes in (("nii", _NIFTI_SUFFIXES), ("json", (".json",))):
            item = value.get(key)
            if key not in value:
                errors.append(f"{join(path, key)}: missing (required)")
            elif not isinstance(item, str) or not item.endswith(suffixes):
                errors.append(
                    f"{join(path, key)}: expected a path ending in {' or '.join(suffixes)}, "
                    f"got {show(item)}"
                )
        if len(errors) > before:
            return INVALID
    else:
        errors.append(
            f"{path}: expected a built-in name, a .nii/.nii.gz path or "
            f'{{"nii": path, "json": path}}, got {show(value)}'
        )
        return INVALID
    files = {"nii": _absolute(value["nii"], folder), "json": _absolute(value["json"], folder)}
    before = len(errors)
    _check_files({"NIfTI": files["nii"], "JSON": files["json"]}, path, errors)
    if len(errors) > before:
        return INVALID
    return {key: str(file) for key, file in files.items()}


def _named_value(
    item: Any, name: str, rule: Mapping[str, Any], path: str, errors: list[str]
) -> Any:
    """One entry of a ``{name: value}`` map: the rule of ``name`` (its ``properties`` entry,
    else ``additionalProperties``; ``false`` there means only the listed names exist)."""
    known = rule.get("properties", {})
    item_rule = known.get(name, rule.get("additionalProperties", {}))
    if item_rule is False:
        errors.append(unknown_key_message(path, name, known))
        return INVALID
    item_rule = resolve(item_rule)
    if item_rule.get("type") != "object":
        return check(item, item_rule, join(path, name), errors)
    if not isinstance(item, Mapping):
        errors.append(f"{join(path, name)}: expected an object, got {show(item)}")
        return INVALID
    check_keys(item, item_rule["properties"], join(path, name), errors)
    item = {
        key: check(item[key], sub_rule, join(join(path, name), key), errors)
        for key, sub_rule in item_rule["properties"].items()
        if key in item
    }
    return INVALID if any(v is INVALID for v in item.values()) else item


def _quantity_map(value: Any, rule: Mapping[str, Any], path: str, errors: list[str]) -> Any:
    """``image_override``, ``parameter_override`` or ``ground_truth_modulate``: names checked
    against the rule's ``properties`` (``parameter_override`` admits no others), values against
    each name's rule. Quantity names are checked against the ground truth when it is loaded."""
    rule = resolve(rule)
    if not isinstance(value, Mapping):
        errors.append(f"{path}: expected an object {{name: value}}, got {show(value)}")
        return INVALID
    out = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name:
            errors.append(f"{path}: names must be non-empty strings, got {show(name)}")
            continue
        item = _named_value(item, name, rule, path, errors)
        if item is not INVALID:
            out[name] = item
    return out


def resolve_global(value: Any, folder: Path, errors: list[str]) -> Any:
    """Validated, normalised ``global_configuration`` with defaults filled (D13, D19)."""
    path = "global_configuration"
    if not isinstance(value, Mapping):
        errors.append(f"{path}: expected an object, got {show(value)}")
        return INVALID
    rules = _rules()
    check_keys(value, rules["properties"], path, errors)
    out: dict[str, Any] = {}
    if "ground_truth" not in value:
        errors.append(f"{join(path, 'ground_truth')}: missing (required)")
        out["ground_truth"] = INVALID
    else:
        out["ground_truth"] = resolve_ground_truth(
            value["ground_truth"], folder, join(path, "ground_truth"), errors
        )
    for key in ("image_override", "parameter_override", "ground_truth_modulate"):
        given = value.get(key, defaults()["global_configuration"].get(key, {}))
        out[key] = _quantity_map(given, rules["properties"][key], join(path, key), errors)
    return out


def global_config_from(resolved: Mapping[str, Any]) -> GlobalConfig:
    """Typed :class:`GlobalConfig` from a resolved ``global_configuration``."""
    truth = resolved["ground_truth"]
    if isinstance(truth, str):
        source = GroundTruthSource(name=truth)
    else:
        source = GroundTruthSource(nifti=Path(truth["nii"]), json=Path(truth["json"]))
    return GlobalConfig(
        ground_truth=source,
        image_override=dict(resolved["image_override"]),
        parameter_override=dict(resolved["parameter_override"]),
        ground_truth_modulate={
            name: Modulation(scale=mod.get("scale"), offset=mod.get("offset"))
            for name, mod in resolved["ground_truth_modulate"].items()
        },
    )
