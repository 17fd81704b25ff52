"""Which asl series a separate (m0scan-only) asl series calibrates (docs/bids.md §2, §5)."""

from __future__ import annotations

from typing import Mapping, Sequence, cast

from asldro.params.errors import ParamError
from asldro.params.types import AslSeries, DroParams

_M0 = "m0scan"


def pair_contexts(contexts: Sequence[tuple[str, ...] | None]) -> tuple[dict[int, int], list[str]]:
    """Pair each m0scan-only series with the asl series it calibrates; also list the problems.

    ``contexts[i]`` is the token tuple of series ``i`` if it is an asl series, else ``None``.
    An m0scan-only series calibrates the nearest preceding asl series with control/label
    tokens, else the nearest following one. Errors: no such series; two m0scan-only series
    for one asl series; an asl series with m0scan rows that also gets a separate M0
    (M0Type cannot be both Included and Separate, docs/bids.md §5).
    """
    m0_only = [i for i, ctx in enumerate(contexts) if ctx and all(t == _M0 for t in ctx)]
    perfusion = [i for i, ctx in enumerate(contexts) if ctx and any(t != _M0 for t in ctx)]
    pairs: dict[int, int] = {}
    errors: list[str] = []
    for i in m0_only:
        before = [j for j in perfusion if j < i]
        after = [j for j in perfusion if j > i]
        if not before and not after:
            errors.append(
                f"image_series[{i}]: an m0scan-only asl series needs an asl series with "
                "control/label volumes to calibrate"
            )
            continue
        target = before[-1] if before else after[0]
        owner = next((k for k, v in pairs.items() if v == target), None)
        if owner is not None:
            errors.append(
                f"image_series[{i}]: this m0scan-only asl series would calibrate "
                f"image_series[{target}], which image_series[{owner}] already calibrates "
                "(one separate M0 per asl series)"
            )
            continue
        if _M0 in cast(tuple[str, ...], contexts[target]):  # a perfusion series: not None
            errors.append(
                f"image_series[{i}]: this m0scan-only asl series would calibrate "
                f"image_series[{target}], whose asl_context already has m0scan volumes "
                "(M0Type cannot be both Included and Separate)"
            )
            continue
        pairs[i] = target
    return pairs, errors


def image_type_problems(pairs: Mapping[int, int], image_types: Sequence[str | None]) -> list[str]:
    """An m0scan-only series must have the ``output_image_type`` of the asl series it
    calibrates: BIDS pairs an m0scan with the asl image of the same entities, ``part``
    included, so a complex asl run needs a complex m0scan (part-mag with part-mag, part-phase
    with part-phase) and a magnitude run a magnitude one. ``image_types[i]`` is series ``i``'s
    (None: not an asl series, or unknown)."""
    out = []
    for m0_index, asl_index in pairs.items():
        mine, theirs = image_types[m0_index], image_types[asl_index]
        if mine is not None and theirs is not None and mine != theirs:
            out.append(
                f"image_series[{m0_index}].series_parameters.output_image_type: {mine!r}, but "
                f"the asl series it calibrates (image_series[{asl_index}]) is {theirs!r}; a "
                "separate m0scan is paired with the asl image of the same part, so give both "
                "the same output_image_type"
            )
    return out


def m0_pairing(params: DroParams) -> dict[int, int]:
    """0-based index of each m0scan-only asl series -> index of the asl series it calibrates.

    Raises
    ------
    ParamError
        When the pairing rule of :func:`pair_contexts` fails (never for loaded parameters:
        ``load_params`` already checked it).
    """
    contexts = [s.asl_context if isinstance(s, AslSeries) else None for s in params.series]
    pairs, errors = pair_contexts(contexts)
    if errors:
        raise ParamError(errors)
    return pairs


def m0_type_of(
    *, included: bool, separate: bool, uniform_m0: float | None, needs_m0: bool = True
) -> str:
    """The ``M0Type`` of an asl run (docs/bids.md §5), the one rule: Included when its context
    has m0scan volumes, Separate when an m0scan-only series calibrates it, Absent when it needs
    no M0 (``needs_m0`` False: only cbf and noRF volumes, calibrated already), else Estimate when
    the M0 used is uniform and > 0 (``uniform_m0``; with ``M0Estimate``), else Absent. Raises
    ValueError for Included and Separate at once."""
    if included and separate:
        raise ValueError("M0Type cannot be both Included and Separate")
    if included:
        return "Included"
    if separate:
        return "Separate"
    if needs_m0 and uniform_m0 is not None and float(uniform_m0) > 0:
        return "Estimate"
    return "Absent"
