"""The MRI signal of a series on the ground-truth grid (physics.md §5), shared by the asl and
structural series: both carry ``acq_contrast``, the flip angles and the inversion time."""

from __future__ import annotations

from typing import Mapping, Union

import numpy as np

from asldro.params.types import AslSeries, StructuralSeries
from asldro.physics import signal


def excitation_flip_angle(series: Union[AslSeries, StructuralSeries]) -> float:
    """The flip angle used and reported: 90 for spin echo (which ignores it), else the series'."""
    return 90.0 if series.acq_contrast == "se" else float(series.excitation_flip_angle)


def tissue_signal(
    series: Union[AslSeries, StructuralSeries],
    maps: Mapping[str, np.ndarray],
    *,
    repetition_time: float,
    echo_time: float,
    m_enc: np.ndarray | float = 0.0,
) -> np.ndarray:
    """``mri_signal`` of the series' contrast on ``maps`` (m0, t1, t2, t2_star: lookup tables
    or dense maps) for one TR/TE; ``m_enc`` is -ΔM for label volumes (physics.md §5)."""
    return np.asarray(
        signal.mri_signal(
            series.acq_contrast,
            maps["m0"],
            maps["t1"],
            maps["t2"],
            maps["t2_star"],
            repetition_time=repetition_time,
            echo_time=echo_time,
            flip_angle=excitation_flip_angle(series),
            inversion_flip_angle=series.inversion_flip_angle,
            inversion_time=series.inversion_time,
            m_enc=m_enc,
        )
    )
