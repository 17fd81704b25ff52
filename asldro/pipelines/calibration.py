"""What calibrates each asl series, known before simulating (docs/bids.md §5): a
background-suppressed series must have an M0, because its control volumes are suppressed and
ASLPrep refuses ``BackgroundSuppression`` with ``M0Type: Absent`` (kinetics reference §3.1)."""

from __future__ import annotations

from typing import Any

from asldro.params.catalog import NEEDS_M0_TOKENS
from asldro.params.errors import ParamError
from asldro.params.pairing import m0_pairing, m0_type_of
from asldro.params.types import AslSeries, DroParams
from asldro.pipelines.context import SimulationContext


def check_suppressed_series_calibrated(params: DroParams, ground_truth: Any) -> None:
    """Raise ParamError (exit 65) naming each background-suppressed asl series whose M0Type
    would be Absent: no m0scan volumes, no separate m0scan series, and no uniform M0 (the
    series' ``m0`` or a uniform ground-truth M0) for ``M0Estimate``. Series without volumes to
    quantify (cbf, noRF only) need none."""
    calibrated = set(m0_pairing(params).values())
    context = SimulationContext(ground_truth)
    problems = []
    for index, series in enumerate(params.series):
        if not isinstance(series, AslSeries) or series.suppression is None:
            continue
        if not any(token in NEEDS_M0_TOKENS for token in series.asl_context):
            continue
        replace = {} if series.m0 is None else {"m0": series.m0}
        uniform = context.uniform_value(context.maps(("m0",), replace)["m0"])
        kind = m0_type_of(
            included="m0scan" in series.asl_context,
            separate=index in calibrated,
            uniform_m0=uniform,
        )
        if kind == "Absent":
            problems.append(
                f"image_series[{index}].series_parameters.background_suppression: the series "
                "would have M0Type Absent (no m0scan volume, no separate m0scan series, no "
                "uniform M0), and its suppressed control cannot calibrate CBF (ASLPrep refuses "
                "it): add m0scan to asl_context, an m0scan-only asl series, or the series' m0"
            )
    if problems:
        raise ParamError(problems)
