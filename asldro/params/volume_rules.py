"""The rules of the vendor volume types ``deltam``, ``cbf`` and ``noRF`` that the schema cannot
state (docs/physics.md §5.8): a per-context object names every token the context uses, and a
subtraction or a CBF map has no phase, so it cannot be written as a complex image."""

from __future__ import annotations

from typing import Any, Mapping

#: The volume types that carry a perfusion weighting (an asl run needs one, BIDS
#: TotalAcquiredPairs > 0).
PERFUSION_VOLUMES = ("control", "label", "deltam", "cbf")

#: What each volume type without a phase is (the line that refuses complex output says it).
PHASELESS_VOLUMES = {
    "deltam": "the magnitude subtraction |control| - |label|",
    "cbf": "a CBF map",
}


def missing_context_keys(value: Mapping[str, Any], tokens: tuple[str, ...]) -> list[str]:
    """The tokens of ``tokens`` (in their first order) a per-context object has no value for;
    the schema requires ASLDRO develop's three, so these are the vendor tokens the context
    uses."""
    return [token for token in dict.fromkeys(tokens) if token not in value]


def missing_key_text(where: str, token: str) -> str:
    """The line for a per-context object at ``where`` without the key ``token``."""
    return (
        f"{where}.{token}: missing (asl_context has {token} volumes, so the object needs a "
        f"{token} value)"
    )


def image_type_problem(resolved: Mapping[str, Any], where: str) -> tuple[str, str] | None:
    """``(key, line)`` when a resolved asl ``series_parameters`` (at ``where``) asks for complex
    output with ``deltam`` or ``cbf`` volumes (the first such token is named), else None; a
    ``noRF`` volume (complex noise) may be complex."""
    context = resolved.get("asl_context")
    if resolved.get("output_image_type") != "complex" or not isinstance(context, str):  # or INVALID
        return None
    token = next((t for t in context.split(" ") if t in PHASELESS_VOLUMES), None)
    if token is None:
        return None
    return (
        "output_image_type",
        f"{where}.output_image_type: 'complex' is not possible with {token} volumes in "
        f"asl_context: a {token} volume is {PHASELESS_VOLUMES[token]} and has no phase; use "
        "'magnitude'",
    )


def context_problem(resolved: Mapping[str, Any], where: str) -> tuple[str, str] | None:
    """``(key, line)`` when the ``asl_context`` of a resolved asl ``series_parameters`` has noRF
    volumes but no control, label, deltam or cbf volume: a noise scan belongs to the run it
    was acquired with (an m0scan-only series is a separate M0 and stays allowed)."""
    context = resolved.get("asl_context")
    if not isinstance(context, str):  # INVALID: its problem is reported already
        return None
    tokens = context.split(" ")
    if "noRF" not in tokens or any(token in PERFUSION_VOLUMES for token in tokens):
        return None
    return (
        "asl_context",
        f"{where}.asl_context: {context!r} has noRF volumes but no control, label, deltam or "
        "cbf volume; put the noise scans in the series of the run they belong to",
    )
