"""The MRI signal filter of a series (docs/physics.md §5), shared by the asl and structural series:
both carry ``acq_contrast``, the flip angles and the inversion time."""

from __future__ import annotations

from typing import Any, Mapping, Union

import numpy as np

from asldro.params.types import AslSeries, StructuralSeries
from asldro.pipelines.filters import MriSignal, SequenceTiming


def excitation_flip_angle(series: Union[AslSeries, StructuralSeries]) -> float:
    """The flip angle used and reported: 90 for spin echo (which ignores it), else the series'."""
    return 90.0 if series.acq_contrast == "se" else float(series.excitation_flip_angle)


def signal_filter(
    series: Union[AslSeries, StructuralSeries],
    maps: Mapping[str, np.ndarray],
    *,
    repetition_time: float,
    echo_time: float,
    token: str | None = None,
    suppression: Any = None,
    slice_delay: float = 0.0,
) -> MriSignal:
    """The :class:`~asldro.pipelines.filters.MriSignal` filter of the series' contrast on
    ``maps`` (m0, t1, t2, t2_star: lookup tables or dense maps) for one TR/TE; ``token`` is the
    asl volume's ``asl_context`` token (a label volume encodes -ΔM, docs/physics.md §5).
    ``suppression`` (an ``asldro.physics.background_suppression.BackgroundSuppression``): the
    volume is background suppressed, its slice excited ``slice_delay`` after the reference
    (docs/physics.md §5.7)."""
    timing = SequenceTiming(
        repetition_time=repetition_time,
        echo_time=echo_time,
        flip_angle=excitation_flip_angle(series),
        inversion_flip_angle=series.inversion_flip_angle,
        inversion_time=series.inversion_time,
    )
    return MriSignal(
        series.acq_contrast,
        maps,
        timing,
        token,
        suppression=suppression,
        slice_delay=slice_delay,
    )
