"""Which asl series a separate (m0scan-only) asl series calibrates (docs/bids.md §2, §5)."""

from __future__ import annotations

from typing import Sequence, cast

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
