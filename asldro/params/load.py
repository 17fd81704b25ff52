"""Load an ASLDRO 2.x parameter file into :class:`DroParams` (docs/physics.md §2; D6-D19).

All problems of a file are collected and raised together as one :class:`ParamError`
before anything is computed.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Mapping

from asldro.params.catalog import (
    DEFAULTS_FILE_SERIES,
    DOCUMENT,
    GLOBAL,
    default_description,
    defaults_file_global,
    parameters,
)
from asldro.params.errors import ParamError
from asldro.params.gtsource import global_config_from, resolve_global
from asldro.params.jsonfile import JsonFileError, read_json_file
from asldro.params.pairing import image_type_problems, pair_contexts
from asldro.params.rules import INVALID, show
from asldro.params.series import resolve_series, series_from
from asldro.params.types import DroParams
from asldro.params.validate import Failures, Problem, canonical, document_validator, ordered


def _read(path: Path) -> Any:
    """Parse a JSON file; every failure is a ParamError naming the file (and line/column)."""
    try:
        return read_json_file(path, "parameter file")
    except JsonFileError as err:
        raise ParamError(str(err)) from None


def _asl_contexts(series: list[Any]) -> list[tuple[str, ...] | None] | None:
    """Tokens of every asl series (None for other types); None if any type or context is unknown."""
    contexts: list[tuple[str, ...] | None] = []
    for entry in series:
        if entry is INVALID:
            return None
        if entry["series_type"] != "asl":
            contexts.append(None)
            continue
        resolved = entry["series_parameters"]
        if resolved is INVALID or resolved["asl_context"] is INVALID:
            return None
        contexts.append(tuple(resolved["asl_context"].split(" ")))
    return contexts


def _asl_image_types(series: list[Any]) -> list[str | None]:
    """The ``output_image_type`` of every asl series (its default when absent; None for other
    series types and invalid values)."""
    default = parameters("asl")["output_image_type"].default
    out: list[str | None] = []
    for entry in series:
        resolved = entry["series_parameters"] if entry["series_type"] == "asl" else INVALID
        value = resolved.get("output_image_type", default) if resolved is not INVALID else None
        out.append(value if isinstance(value, str) else None)
    return out


def resolve_document(document: Any, folder: Path) -> dict[str, Any]:
    """The resolved document (ASLDRO layout, defaults filled, enums normalised, per-volume
    arrays expanded, ground-truth paths absolute); raises ParamError listing every problem.

    The document is validated against the generated schema first (jsonschema); the rules across
    keys and the ground-truth files are checked on the values that passed."""
    if not isinstance(document, Mapping):
        raise ParamError(f"parameters: expected a JSON object, got {show(document)}")
    document = canonical(DOCUMENT, document)
    problems = document_validator().problems(document)
    failures = Failures(problems)
    resolved: dict[str, Any] = {}
    if GLOBAL in document:
        resolved[GLOBAL] = resolve_global(document[GLOBAL], folder, failures, problems)
    series = document.get("image_series")
    if isinstance(series, list):
        resolved["image_series"] = [
            resolve_series(entry, i, failures, problems) for i, entry in enumerate(series)
        ]
        contexts = _asl_contexts(resolved["image_series"])
        if contexts is not None:
            pairs, texts = pair_contexts(contexts)
            texts += image_type_problems(pairs, _asl_image_types(resolved["image_series"]))
            problems.extend(Problem(("image_series",), text, True) for text in texts)
    if problems:
        raise ParamError(ordered(problems, DOCUMENT, document))
    return resolved


def load_params(
    source: str | os.PathLike[str] | Mapping[str, Any],
    base_dir: str | os.PathLike[str] | None = None,
) -> DroParams:
    """Validate an ASLDRO 2.x parameter file (docs/physics.md §2) and return typed parameters.

    Parameters
    ----------
    source : str, os.PathLike or Mapping
        Path to a JSON file, or an already-parsed document (left unchanged).
    base_dir : str or os.PathLike, optional
        Folder that relative ground-truth paths resolve against. Default: the parameter
        file's folder, or the current directory for a Mapping.

    Raises
    ------
    ParamError
        Listing every problem (path, value, rule), for invalid JSON, a missing file or a
        missing ground-truth file too.
    """
    if isinstance(source, Mapping):
        document: Any = copy.deepcopy(dict(source))
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
    elif isinstance(source, (str, os.PathLike)):
        file = Path(source).expanduser()
        document = _read(file)
        folder = Path(base_dir) if base_dir is not None else file.parent
    else:
        raise ParamError(f"parameters: expected a file path or a mapping, got {show(source)}")
    resolved = resolve_document(document, folder.absolute())
    return DroParams(
        global_config=global_config_from(resolved["global_configuration"]),
        series=tuple(series_from(s) for s in resolved["image_series"]),
        resolved=resolved,
    )


def default_params() -> dict[str, Any]:
    """The defaults file (docs/physics.md §2.5): GT by name (D19), series asl, ground_truth,
    structural, each described ``"user description for <type>"`` with every default filled."""
    document = {
        GLOBAL: defaults_file_global(),
        "image_series": [
            {"series_type": kind, "series_description": default_description(kind)}
            for kind in DEFAULTS_FILE_SERIES
        ],
    }
    resolved = resolve_document(document, Path.cwd())
    resolved[GLOBAL] = defaults_file_global()
    return resolved
