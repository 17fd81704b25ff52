"""The data behind validation: ``schema.json`` and ``defaults.json``, and a checker for one value.

The checker interprets the subset of JSON Schema used by ``schema.json`` (``type``, ``enum``,
``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum``, ``minItems``/``maxItems``,
``items``, local ``$ref``) and returns the normalised value: numbers as float (ints accepted,
booleans and non-finite values rejected; physics.md §10.2 D6), integers as int, enum strings in
their canonical spelling whatever the input case (D10). Messages name path, value and rule (D13).
"""

from __future__ import annotations

import difflib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

_HERE = Path(__file__).resolve().parent

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()
"""Returned by :func:`check` when the value failed (the messages are in ``errors``)."""


@lru_cache(maxsize=None)
def schema() -> Mapping[str, Any]:
    """The JSON Schema of a (normalised) parameter file, ``asldro/params/schema.json``."""
    return json.loads((_HERE / "schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def defaults() -> Mapping[str, Any]:
    """The defaults of physics.md §2.3-§2.5, ``asldro/params/defaults.json``."""
    return json.loads((_HERE / "defaults.json").read_text(encoding="utf-8"))


def series_types() -> tuple[str, ...]:
    """The series types, ``("asl", "structural", "ground_truth")`` (physics.md §2.1)."""
    return tuple(schema()["$defs"]["series"]["properties"]["series_type"]["enum"])


def parameter_rules(series_type: str) -> Mapping[str, Mapping[str, Any]]:
    """Schema rule of every ``series_parameters`` key of ``series_type``, keyed by name."""
    return schema()["$defs"][f"{series_type}_parameters"]["properties"]


def quantity_rule(name: str) -> Mapping[str, Any]:
    """The rule for values of ground-truth quantity ``name`` (``image_override``, and every map
    after overrides and modulation): its physical range, or any finite number for an extra."""
    values = schema()["$defs"]["quantity_values"]
    return values["properties"].get(name, values["additionalProperties"])


def scalar_parameter_rules() -> Mapping[str, Mapping[str, Any]]:
    """Rule of every known scalar ground-truth parameter (``parameter_override`` and the
    ``parameters`` of a ground-truth JSON), keyed by name."""
    return schema()["$defs"]["scalar_parameters"]["properties"]


def parameter_defaults(series_type: str) -> Mapping[str, Any]:
    """Default of every ``series_parameters`` key of ``series_type`` (``None``: no default)."""
    return defaults()["series_parameters"][series_type]


def resolve(rule: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/<name>``), merging the sibling keywords."""
    while "$ref" in rule:
        target = schema()
        for part in rule["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        rule = {**target, **{k: v for k, v in rule.items() if k != "$ref"}}
    return rule


def is_per_volume(rule: Mapping[str, Any]) -> bool:
    """True for an asl key with one value per ``asl_context`` token (``x-per-volume``)."""
    return bool(rule.get("x-per-volume"))


def element_rule(rule: Mapping[str, Any]) -> Mapping[str, Any]:
    """The rule of one volume's value of a per-volume key (first branch of its ``anyOf``)."""
    return resolve(rule["anyOf"][0])


def show(value: Any) -> str:
    """A value as it would appear in JSON, shortened to one readable piece of a message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def fmt(number: float) -> str:
    """A bound or computed number without a spurious ``.0`` or float noise."""
    return f"{number:.12g}"


def join(path: str, key: str | int) -> str:
    """Extend a JSON path: ``a.b`` for keys, ``a[0]`` for list indices."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def suggest(word: str, options: Iterable[str]) -> str | None:
    """The valid name closest to a mistyped ``word`` (difflib, then case and substrings)."""
    options = list(options)
    lowered = {option.lower(): option for option in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return lowered[close[0]]
    if len(word) >= 3:
        containing = [o for o in options if word.lower() in o.lower() or o.lower() in word.lower()]
        if containing:
            return min(containing, key=len)
    return None


def unknown_key_message(path: str, key: str, valid: Iterable[str]) -> str:
    """``<path>.<key>: unknown key (did you mean '<closest>'?)`` (physics.md §10.2 D12)."""
    valid = list(valid)
    hint = suggest(key, valid)
    where = join(path, key) if isinstance(key, str) and key else f"{path}[{show(key)}]"
    if hint is not None:
        return f"{where}: unknown key (did you mean '{hint}'?)"
    return f"{where}: unknown key (allowed: {', '.join(valid)})"


def check_keys(
    value: Mapping[str, Any], valid: Iterable[str], path: str, errors: list[str]
) -> None:
    """Report every key of ``value`` that is not in ``valid``."""
    valid = list(valid)
    for key in value:
        if key not in valid:
            errors.append(unknown_key_message(path, key, valid))


def is_number(value: Any) -> bool:
    """A JSON number: int or float, never a boolean (physics.md §10.2 D6)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def bounds_text(rule: Mapping[str, Any]) -> str | None:
    """The bounds of a number rule as text: ``in [0, 1]``, ``in (0, 100]``, ``>= 0``."""
    low = rule.get("minimum", rule.get("exclusiveMinimum"))
    high = rule.get("maximum", rule.get("exclusiveMaximum"))
    low_open = "exclusiveMinimum" in rule
    high_open = "exclusiveMaximum" in rule
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{fmt(low)}, {fmt(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {fmt(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {fmt(high)}"
    return None


def outside_bounds(values: Any, rule: Mapping[str, Any]) -> Any:
    """True where ``values`` (a number, or element-wise for a numpy array) breaks the rule's
    ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum``; NaN counts as outside."""
    inside = values == values  # pylint: disable=comparison-with-itself  # False only for NaN
    if "minimum" in rule:
        inside = inside & (values >= rule["minimum"])
    if "exclusiveMinimum" in rule:
        inside = inside & (values > rule["exclusiveMinimum"])
    if "maximum" in rule:
        inside = inside & (values <= rule["maximum"])
    if "exclusiveMaximum" in rule:
        inside = inside & (values < rule["exclusiveMaximum"])
    return ~inside if hasattr(inside, "shape") else not inside


def _check_number(value: Any, rule: Mapping[str, Any], path: str, errors: list[str]) -> Any:
    integer = rule.get("type") == "integer"
    kind = "an integer" if integer else "a number"
    if not is_number(value) or not math.isfinite(value):
        errors.append(f"{path}: expected {kind}, got {show(value)}")
        return INVALID
    if integer and value != int(value):
        errors.append(f"{path}: expected an integer, got {show(value)}")
        return INVALID
    number = int(value) if integer else float(value)
    if outside_bounds(number, rule):
        errors.append(f"{path}: {show(value)} must be {bounds_text(rule)}")
        return INVALID
    return number


def _check_string(value: Any, rule: Mapping[str, Any], path: str, errors: list[str]) -> Any:
    if not isinstance(value, str):
        errors.append(f"{path}: expected a string, got {show(value)}")
        return INVALID
    if "enum" in rule:
        canonical = {option.lower(): option for option in rule["enum"]}
        if value.lower() not in canonical:
            hint = suggest(value, rule["enum"])
            extra = f" (did you mean '{hint}'?)" if hint else ""
            errors.append(f"{path}: {show(value)} is not one of {', '.join(rule['enum'])}{extra}")
            return INVALID
        return canonical[value.lower()]
    if len(value) < rule.get("minLength", 0):
        errors.append(f"{path}: must not be empty")
        return INVALID
    return value


def _check_array(value: Any, rule: Mapping[str, Any], path: str, errors: list[str]) -> Any:
    if not isinstance(value, list):
        errors.append(f"{path}: expected a list, got {show(value)}")
        return INVALID
    low, high = rule.get("minItems"), rule.get("maxItems")
    if low is not None and low == high and len(value) != low:
        errors.append(f"{path}: expected {low} values, got {len(value)}")
        return INVALID
    if low is not None and len(value) < low:
        errors.append(f"{path}: expected at least {low} values, got {len(value)}")
        return INVALID
    if high is not None and len(value) > high:
        errors.append(f"{path}: expected at most {high} values, got {len(value)}")
        return INVALID
    items = [
        check(item, rule.get("items", {}), join(path, i), errors) for i, item in enumerate(value)
    ]
    return INVALID if any(item is INVALID for item in items) else items


def check(value: Any, rule: Mapping[str, Any], path: str, errors: list[str]) -> Any:
    """Check ``value`` against a schema ``rule``; return it normalised, or :data:`INVALID`.

    Every failure appends one message ``"<path>: <value> <rule>"`` to ``errors``.
    """
    rule = resolve(rule)
    kind = rule.get("type")
    if kind in ("number", "integer"):
        return _check_number(value, rule, path, errors)
    if kind == "string":
        return _check_string(value, rule, path, errors)
    if kind == "array":
        return _check_array(value, rule, path, errors)
    if kind == "object" and not isinstance(value, Mapping):
        errors.append(f"{path}: expected an object, got {show(value)}")
        return INVALID
    return value
