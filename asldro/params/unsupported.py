"""Keys of the ASLDRO develop format that asldro accepts but does not simulate yet.

Each entry of :data:`NOT_SUPPORTED_YET` is one rule: the key, the values that are simulated,
and why the others are refused. A file giving another value is refused with one line naming the
place and the value (exit 65) before anything is computed. When a capability lands, delete its
entry (and its test of the refusal); nothing else refers to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from asldro.params.rules import INVALID, show


@dataclass(frozen=True)
class NotSupportedYet:
    """``key`` of ``series_type`` is simulated only for the values in ``simulated``; ``why``
    says so and what to do instead."""

    series_type: str
    key: str
    simulated: tuple[Any, ...]
    why: str


NOT_SUPPORTED_YET: tuple[NotSupportedYet, ...] = ()
"""The accepted-but-not-simulated values, one rule each (remove an entry to lift it)."""


def refusals(series_type: str, resolved: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """``(key, message)`` for each key of a resolved ``series_parameters`` (at ``where``) whose
    value is not simulated yet."""
    out = []
    for rule in NOT_SUPPORTED_YET:
        if rule.series_type != series_type or rule.key not in resolved:
            continue
        value = resolved[rule.key]
        if value is INVALID:  # its problem is reported already
            continue
        if not any(type(value) is type(ok) and value == ok for ok in rule.simulated):
            text = f"{where}.{rule.key} is not supported yet: got {show(value)}; {rule.why}"
            out.append((rule.key, text))
    return out
