"""One ``image_series`` entry: validation, defaults and the typed series (physics.md §2.3, §2.4).

Implements D6 (ints coerced, booleans rejected), D9 (optional description), D10 (any case for
enums), D11 (TE > 0, per-volume TE allowed), D12 (unknown keys rejected), D17 (PLD >= 0).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from asldro.params.rules import (
    INVALID,
    check,
    check_keys,
    element_rule,
    fmt,
    is_number,
    is_per_volume,
    join,
    parameter_defaults,
    parameter_rules,
    schema,
    series_types,
    show,
    suggest,
)
from asldro.params.types import AslSeries, GroundTruthSeries, Motion, Series, StructuralSeries

SERIES_KEYS = ("series_type", "series_description", "series_parameters")
MOTION_KEYS = tuple(field.name for field in dataclasses.fields(Motion))
_TYPED = {"asl": AslSeries, "structural": StructuralSeries, "ground_truth": GroundTruthSeries}


def default_description(series_type: str) -> str:
    """``"user description for <series_type>"`` (physics.md §2.5, D9)."""
    return f"user description for {series_type}"


def parse_asl_context(value: Any, path: str, errors: list[str]) -> tuple[str, ...] | None:
    """Tokens of ``asl_context`` in lower case: non-empty, exactly one space between (D10, D13)."""
    rule = parameter_rules("asl")["asl_context"]
    allowed = rule["x-tokens"]
    if not isinstance(value, str):
        errors.append(f"{path}: expected a string of space-separated tokens, got {show(value)}")
        return None
    if not value.strip():
        errors.append(f"{path}: {show(value)} must hold at least one token ({', '.join(allowed)})")
        return None
    if value != " ".join(value.split()) or "  " in value:
        errors.append(
            f"{path}: {show(value)} must have exactly one space between tokens "
            "(no leading, trailing or repeated spaces, no tabs)"
        )
        return None
    tokens = tuple(token.lower() for token in value.split(" "))
    bad = [token for token in tokens if token not in allowed]
    for token in dict.fromkeys(bad):
        hint = suggest(token, allowed)
        extra = f" (did you mean '{hint}'?)" if hint else ""
        errors.append(
            f"{path}: unknown token {show(token)}{extra}; tokens are {', '.join(allowed)} "
            "separated by single spaces"
        )
    return None if bad else tokens


def _per_volume(
    key: str, given: Mapping[str, Any], tokens: tuple[str, ...] | None, path: str, errors: list[str]
) -> Any:
    """One value per asl_context token: a list of that length, a broadcast number, or the
    default fitted to the tokens (physics.md §2.3)."""
    rule = element_rule(parameter_rules("asl")[key])
    if key not in given:
        if tokens is None:
            return INVALID
        default = parameter_defaults("asl")[key]
        if isinstance(default, Mapping):
            return [float(default[token]) for token in tokens]
        return [float(default)] * len(tokens)
    value = given[key]
    if is_number(value):
        number = check(value, rule, path, errors)
        return INVALID if number is INVALID or tokens is None else [number] * len(tokens)
    if not isinstance(value, list):
        errors.append(
            f"{path}: expected a number or a list of numbers (one per asl_context volume), "
            f"got {show(value)}"
        )
        return INVALID
    items = [check(item, rule, join(path, i), errors) for i, item in enumerate(value)]
    if tokens is not None and len(value) != len(tokens):
        errors.append(
            f"{path}: expected {len(tokens)} values (one per asl_context volume), got {len(value)}"
        )
        return INVALID
    return INVALID if any(item is INVALID for item in items) else items


def _timing_problem(echo: float, repetition: float, ti: float, contrast: str) -> str | None:
    """Why ``repetition`` is too short for ``echo`` (and ``ti`` for ir), or None."""
    if contrast == "ir" and repetition < echo + ti:
        return (
            f"{show(repetition)} must be >= echo_time + inversion_time "
            f"({show(echo)} + {show(ti)} = {fmt(echo + ti)}) for acq_contrast 'ir'"
        )
    if repetition < echo:
        return f"{show(repetition)} must be >= echo_time ({show(echo)})"
    return None


def _check_timing(out: dict[str, Any], series_type: str, path: str, errors: list[str]) -> None:
    """TR >= TE per volume; for ir TR >= TE + TI (physics.md §2.3); for (p)casl
    signal_time >= label_duration, i.e. PLD >= 0 (D17). One message per rule."""
    te, tr = out.get("echo_time"), out.get("repetition_time")
    ti, contrast = out.get("inversion_time"), out.get("acq_contrast")
    if INVALID not in (te, tr, ti, contrast) and te is not None:
        if series_type == "asl":
            failing = [
                (i, problem)
                for i, (echo, repetition) in enumerate(zip(te, tr))
                if (problem := _timing_problem(echo, repetition, ti, contrast))
            ]
            if failing:
                first, problem = failing[0]
                more = ", ".join(str(i) for i, _ in failing[1:])
                extra = f" (also volumes {more})" if more else ""
                errors.append(f"{join(path, 'repetition_time')}[{first}]: {problem}{extra}")
        elif problem := _timing_problem(te, tr, ti, contrast):
            errors.append(f"{join(path, 'repetition_time')}: {problem}")
    tau, t, label_type = out.get("label_duration"), out.get("signal_time"), out.get("label_type")
    if series_type == "asl" and INVALID not in (tau, t, label_type) and label_type != "pasl":
        if t < tau:
            errors.append(
                f"{join(path, 'signal_time')}: {show(t)} must be >= label_duration ({show(tau)}) "
                f"for {label_type}: the post-labelling delay signal_time - label_duration "
                f"= {fmt(t - tau)} must be >= 0"
            )


def resolve_parameters(series_type: str, given: Any, path: str, errors: list[str]) -> Any:
    """Validated ``series_parameters`` with every default filled, in defaults.json order."""
    if not isinstance(given, Mapping):
        errors.append(f"{path}: expected an object, got {show(given)}")
        return INVALID
    rules, defaults = parameter_rules(series_type), parameter_defaults(series_type)
    check_keys(given, rules, path, errors)
    tokens = None
    if series_type == "asl":
        tokens = parse_asl_context(
            given.get("asl_context", defaults["asl_context"]), join(path, "asl_context"), errors
        )
    out: dict[str, Any] = {}
    for key, default in defaults.items():
        key_path = join(path, key)
        if key == "asl_context":
            out[key] = INVALID if tokens is None else " ".join(tokens)
        elif is_per_volume(rules[key]):
            out[key] = _per_volume(key, given, tokens, key_path, errors)
        elif key in given:
            out[key] = check(given[key], rules[key], key_path, errors)
        elif default is not None:
            out[key] = check(default, rules[key], key_path, errors)
    _check_timing(out, series_type, path, errors)
    return out


def resolve_series(value: Any, index: int, errors: list[str]) -> Any:
    """Validated, normalised ``image_series[index]`` in ASLDRO layout."""
    path = f"image_series[{index}]"
    if not isinstance(value, Mapping):
        errors.append(f"{path}: expected an object, got {show(value)}")
        return INVALID
    check_keys(value, SERIES_KEYS, path, errors)
    if "series_type" not in value:
        errors.append(
            f"{join(path, 'series_type')}: missing (required; one of {', '.join(series_types())})"
        )
        return INVALID
    type_rule = schema()["$defs"]["series"]["properties"]["series_type"]
    series_type = check(value["series_type"], type_rule, join(path, "series_type"), errors)
    description = value.get("series_description", None)
    if description is not None and not isinstance(description, str):
        errors.append(
            f"{join(path, 'series_description')}: expected a string, got {show(description)}"
        )
    if series_type is INVALID:
        return INVALID
    parameters = resolve_parameters(
        series_type, value.get("series_parameters", {}), join(path, "series_parameters"), errors
    )
    return {
        "series_type": series_type,
        "series_description": (
            description if isinstance(description, str) else default_description(series_type)
        ),
        "series_parameters": parameters,
    }


def _motion(parameters: Mapping[str, Any], volume: int | None) -> Motion:
    if volume is None:
        return Motion(**{key: parameters[key] for key in MOTION_KEYS})
    return Motion(**{key: parameters[key][volume] for key in MOTION_KEYS})


def series_from(resolved: Mapping[str, Any]) -> Series:
    """Typed series from a resolved ``image_series`` entry (fields taken by name)."""
    series_type = resolved["series_type"]
    parameters = resolved["series_parameters"]
    cls = _TYPED[series_type]
    values: dict[str, Any] = {"description": resolved["series_description"]}
    if series_type == "asl":
        tokens = tuple(parameters["asl_context"].split(" "))
        values["asl_context"] = tokens
        values["motion"] = tuple(_motion(parameters, i) for i in range(len(tokens)))
    else:
        values["motion"] = _motion(parameters, None)
    for field in dataclasses.fields(cls):
        if field.name not in values and field.name in parameters:
            item = parameters[field.name]
            values[field.name] = tuple(item) if isinstance(item, list) else item
    return cls(**values)
