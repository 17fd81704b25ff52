"""The small helpers behind the messages (value display, paths, suggestions, bounds) and the
physical ranges of ground-truth quantities and parameters, read from the catalog.

There is no schema interpreter here: the one validator is jsonschema
(:mod:`asldro.params.validate`). :mod:`asldro.groundtruth.modify` checks the maps and
parameters of a ground truth with :func:`quantity_rule`, :func:`scalar_parameter_rules` and
:func:`outside_bounds`.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Iterable, Mapping

from asldro.params.catalog import OTHER_QUANTITY, QUANTITIES, SCALAR_PARAMETERS

INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()
"""A value that failed validation (its problem is already reported)."""


def quantity_rule(name: str) -> Mapping[str, Any]:
    """The rule (JSON Schema) for values of ground-truth quantity ``name`` (``image_override``,
    and every map after overrides and modulation): its physical range (catalog
    ``QUANTITIES``), or any finite number for an extra."""
    kind = next((row.kind for row in QUANTITIES if row.name == name), OTHER_QUANTITY)
    return kind.schema()


def scalar_parameter_rules() -> Mapping[str, Mapping[str, Any]]:
    """Rule (JSON Schema) of every known scalar ground-truth parameter (``parameter_override``
    and the ``parameters`` of a ground-truth JSON; catalog ``SCALAR_PARAMETERS``), by name."""
    return {row.name: row.kind.schema() for row in SCALAR_PARAMETERS}


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
    """Extend a JSON path: ``a.b`` for keys, ``a[0]`` for list indices, ``a[""]`` for an empty
    key."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not key:
        return f"{path}[{show(key)}]"
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
    """``<path>.<key>: unknown key (did you mean '<closest>'?)`` (docs/physics.md §10.2 D12)."""
    valid = list(valid)
    hint = suggest(key, valid)
    where = join(path, key) if isinstance(key, (str, int)) else f"{path}[{show(key)}]"
    if hint is not None:
        return f"{where}: unknown key (did you mean '{hint}'?)"
    return f"{where}: unknown key (allowed: {', '.join(valid)})"


def is_number(value: Any) -> bool:
    """A JSON number: int or float, never a boolean (docs/physics.md §10.2 D6)."""
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
