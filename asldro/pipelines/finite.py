"""Simulated data must be finite before anything is written (docs/design.md "Garbage is refused").

Inputs are finite and range-checked, but extreme valid values (a tiny ``desired_snr`` makes
sigma = reference / snr overflow float32) can still give NaN or Inf. The simulation runs with
floating-point warnings silenced (:func:`quiet_float_errors`) and every image is checked here
instead, so the user gets one error naming the series rather than warnings and a broken file.
"""

from __future__ import annotations

import numpy as np

from asldro.image import Image
from asldro.params.errors import ParamError
from asldro.pipelines.types import SeriesResult


class SimulationError(ParamError):
    """The parameters drive a simulated value beyond the representable range (exit 65)."""


def quiet_float_errors() -> np.errstate:
    """A context without overflow/invalid warnings (per thread: enter it in worker threads)."""
    return np.errstate(over="ignore", invalid="ignore")


def _non_finite_counts(data: np.ndarray) -> list[int]:
    """Non-finite values per volume (one entry for a 3-D image), one volume at a time."""
    if data.dtype.kind in "biu":
        return [0]
    volumes = [data] if data.ndim < 4 else [data[..., v] for v in range(data.shape[-1])]
    return [int(volume.size - np.count_nonzero(np.isfinite(volume))) for volume in volumes]


def require_finite(result: SeriesResult) -> None:
    """Raise :class:`SimulationError` when an image of ``result`` holds NaN or Inf (a streamed
    image is checked volume by volume as it is read)."""
    for name, image in result.images.items():
        if not isinstance(image, Image):
            continue  # a StreamedImage: each volume is checked as it is simulated
        counts = _non_finite_counts(np.asarray(image.data))
        total = sum(counts)
        if not total:
            continue
        where = f" in {name}" if result.series_type == "ground_truth" else ""
        if len(counts) > 1:
            bad = [str(v) for v, count in enumerate(counts) if count]
            shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
            where += f" in volume{'s' if len(bad) > 1 else ''} {shown}"
        raise non_finite_error(
            f"image_series[{result.index - 1}] ({result.series_type})", total, where
        )


def non_finite_error(series: str, count: int, where: str) -> SimulationError:
    """The error of ``count`` non-finite values of ``series`` (``image_series[i] (type)``),
    ``where`` (`` in volume 3``) in it; one rule for a whole series and a streamed volume."""
    return SimulationError(
        f"{series}: the simulation produced {count} non-finite values (NaN or infinite){where}, "
        "beyond the float32 range of the output; nothing was written (check desired_snr, m0 and "
        "the ground-truth overrides)"
    )
