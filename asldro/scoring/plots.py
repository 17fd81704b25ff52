"""The optional pictures of ``asldro score --plots`` (docs/score.md §5): the error map
(estimate − truth) in a few slices, and a Bland–Altman plot of the brain's voxels. They need
matplotlib, the optional extra ``asldro[plots]``; it is imported only here, only when asked
for, and drawn with the Agg canvas (no display, no pyplot state)."""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np

from asldro.exit_codes import UsageError

#: Slices of the error map drawn (at most), evenly spread over the slices holding brain.
SLICES = 4
#: The colour scale of the error map spans ± this percentile of |error| in the brain.
ERROR_PERCENTILE = 99.0
#: Bland–Altman limits of agreement: bias ± this many standard deviations.
AGREEMENT_SD = 1.96


def require_matplotlib() -> None:
    """A usage error (exit 64) when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401  # pylint: disable=unused-import  # only: can it be imported
    except ImportError as err:
        raise UsageError(
            "--plots needs matplotlib, which this Python lacks: install the optional extra "
            "(pip install 'asldro[plots]')"
        ) from err


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def brain_slices(brain: np.ndarray, count: int = SLICES) -> list[int]:
    """Up to ``count`` indices along the third voxel axis, evenly spread over the slices that
    hold brain voxels (all slices when none does)."""
    holding = np.flatnonzero(brain.any(axis=(0, 1)))
    if holding.size == 0:
        holding = np.arange(brain.shape[2])
    picks = np.linspace(0, holding.size - 1, min(count, holding.size))
    return sorted({int(holding[int(round(p))]) for p in picks})


# pylint: disable-next=too-many-locals  # one figure: its parts in drawing order
def error_map_png(
    error: np.ndarray,
    brain: np.ndarray,
    units: str,
    title: str,
    voxel_size: Sequence[float] = (1.0, 1.0, 1.0),
) -> bytes:
    """Slices of ``error`` (3-D, the map's grid) inside ``brain``, diverging colours centred
    on 0, drawn with the voxels' aspect ratio (``voxel_size`` in mm)."""
    from matplotlib.figure import Figure

    slices = brain_slices(brain)
    inside = error[brain & np.isfinite(error)]
    limit = float(np.percentile(np.abs(inside), ERROR_PERCENTILE)) if inside.size else 0.0
    limit = limit if limit > 0 else 1.0
    shown = np.where(brain, error, np.nan)
    figure = Figure(figsize=(3.2 * len(slices) + 1.2, 3.6))
    axes = figure.subplots(1, len(slices), squeeze=False)[0]
    image: Any = None
    for axis, index in zip(axes, slices):
        image = axis.imshow(
            shown[:, :, index].T,
            origin="lower",
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            aspect=float(voxel_size[1]) / float(voxel_size[0]),
        )
        axis.set_title(f"slice k={index}", fontsize=9)
        axis.set_axis_off()
    figure.suptitle(title, fontsize=10)
    colorbar = figure.colorbar(image, ax=list(axes), shrink=0.85)
    colorbar.set_label(f"estimate - truth ({units})" if units else "estimate - truth")
    return _png(figure)


# pylint: disable-next=too-many-locals  # one figure: its parts in drawing order
def bland_altman_png(
    truth: np.ndarray,
    estimate: np.ndarray,
    groups: Sequence[tuple[str, np.ndarray]],
    units: str,
    title: str,
) -> bytes:
    """The difference (estimate − truth) against the mean of the two for the brain's voxels
    (1-D arrays), each of ``groups`` (name, boolean selection) in its own colour, with the bias
    and the limits of agreement."""
    from matplotlib.figure import Figure

    mean = (estimate + truth) / 2.0
    difference = estimate - truth
    figure = Figure(figsize=(6.4, 4.8))
    axis = figure.add_subplot()
    rest = np.ones(truth.shape, dtype=bool)
    for name, selection in groups:
        axis.scatter(mean[selection], difference[selection], s=4, alpha=0.5, label=name)
        rest &= ~selection
    if rest.any():
        axis.scatter(mean[rest], difference[rest], s=4, alpha=0.3, color="grey", label="other")
    if difference.size:
        bias = float(np.mean(difference))
        spread = float(np.std(difference))
        axis.axhline(bias, color="black", linewidth=1, label=f"bias {bias:.4g}")
        for sign in (-1, 1):
            axis.axhline(
                bias + sign * AGREEMENT_SD * spread, color="black", linestyle="--", linewidth=1
            )
    unit = f" ({units})" if units else ""
    axis.set_xlabel(f"(estimate + truth) / 2{unit}")
    axis.set_ylabel(f"estimate - truth{unit}")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8, markerscale=2)
    return _png(figure)
