"""The report's pictures: orthogonal slices (PNG, colour-mapped with matplotlib's colour maps and
encoded by :mod:`asldro.report.png`) and plots (matplotlib, Agg, PNG without metadata), all
returned as bytes so that the page holds them as ``data:`` URIs.

Colour maps are viridis, cividis and gray only: monotonic in lightness, so readable in greyscale
and by colour-blind readers; lines differ by style and marker as well as by colour.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from asldro.report.png import encode_png
from asldro.report.reading import KineticCurve, Motion, Volume

#: Displayed size of a slice: pixels per millimetre.
PIXELS_PER_MM = 0.9
#: Display range of a map: these percentiles of its non-zero voxels.
LOW_PERCENTILE, HIGH_PERCENTILE = 1.0, 99.5
#: The percentiles are taken over at most about this many voxels (every n-th voxel).
PERCENTILE_SAMPLE = 200_000
PLOT_DPI = 80
#: Line styles and markers of the plots' series, in order (greyscale-readable).
STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (1, 1)), "x"))


@dataclass(frozen=True)
class Slice:
    """One slice picture: PNG bytes and its displayed size (CSS pixels)."""

    view: str
    png: bytes
    width: int
    height: int


@dataclass(frozen=True)
class SlicePanel:
    """The three slices of a volume, its display range and colour bar."""

    title: str
    slices: tuple[Slice, ...]
    low: float
    high: float
    unit: str
    colorbar: bytes
    source: str


def lookup_table(cmap: str) -> np.ndarray:
    """(256, 3) uint8 colours of a matplotlib colour map."""
    from matplotlib import colormaps

    return np.rint(colormaps[cmap](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)


def display_range(volume: Volume) -> tuple[float, float]:
    """The value range shown: robust percentiles of the finite non-zero voxels (a
    segmentation: 0 to its largest label)."""
    flat = volume.data.reshape(-1)
    step = max(1, flat.size // PERCENTILE_SAMPLE)
    values = flat[::step][np.isfinite(flat[::step])]  # a regular sample: the same every run
    if volume.unit == "label":
        return 0.0, float(max(values.max(initial=0.0), 1.0))
    nonzero = values[values != 0]
    if nonzero.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(nonzero, [LOW_PERCENTILE, HIGH_PERCENTILE])
    low = min(float(low), 0.0) if low > 0 and volume.cmap == "gray" else float(low)
    if not high > low:
        high = low + (abs(low) or 1.0)
    return low, float(high)


def _colour(values: np.ndarray, low: float, high: float, table: np.ndarray) -> np.ndarray:
    scaled = np.clip((np.nan_to_num(values) - low) / (high - low), 0.0, 1.0)
    return table[np.rint(scaled * 255).astype(np.intp)]


def voxel_at(volume: Volume, world: np.ndarray | None) -> tuple[int, int, int]:
    """The voxel of ``volume`` nearest to ``world`` (mm), inside the grid (the grid centre
    when ``world`` is None)."""
    shape = np.array(volume.data.shape)
    if world is None:
        i, j, k = (int(v) for v in shape[:3] // 2)
        return i, j, k
    index = np.linalg.inv(volume.affine) @ np.append(world, 1.0)
    i, j, k = (int(v) for v in np.clip(np.rint(index[:3]), 0, shape[:3] - 1))
    return i, j, k


def planes(
    volume: Volume, world_centre: np.ndarray | None
) -> dict[str, tuple[np.ndarray, float, float]]:
    """The sagittal, coronal and axial planes of ``volume`` through ``world_centre`` as
    pictures (row 0 at the top) with their pixel width and height in mm: RAS+ data, superior
    (or anterior) up, and the subject's right on the left of the coronal and axial views
    (radiological order)."""
    i, j, k = voxel_at(volume, world_centre)
    zx, zy, zz = volume.zooms
    cuts = {
        "sagittal": (volume.data[i, :, :], zy, zz),
        "coronal": (volume.data[:, j, :], zx, zz),
        "axial": (volume.data[:, :, k], zx, zy),
    }
    pictures = {}
    for view, (plane, across, up) in cuts.items():
        picture = np.flipud(plane.T)
        pictures[view] = (picture if view == "sagittal" else picture[:, ::-1], across, up)
    return pictures


def slice_panel(volume: Volume, world_centre: np.ndarray | None) -> SlicePanel:
    """The three slices of ``volume`` through ``world_centre`` (:func:`planes`), coloured on
    one display range, with the colour bar."""
    low, high = display_range(volume)
    table = lookup_table(volume.cmap)
    slices = []
    for view, (picture, across, up) in planes(volume, world_centre).items():
        slices.append(
            Slice(
                view,
                encode_png(_colour(picture, low, high, table)),
                max(1, int(round(picture.shape[1] * across * PIXELS_PER_MM))),
                max(1, int(round(picture.shape[0] * up * PIXELS_PER_MM))),
            )
        )
    colour_bar = encode_png(np.repeat(table[::-1][:, np.newaxis, :], 12, axis=1))
    return SlicePanel(
        volume.title, tuple(slices), low, high, volume.unit, colour_bar, volume.source
    )


# --------------------------------------------------------------------------------------------
# plots


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=PLOT_DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.17, top=0.88, wspace=0.35)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _colours(count: int) -> list[Any]:
    from matplotlib import colormaps

    return [colormaps["viridis"](x) for x in np.linspace(0.0, 0.85, max(count, 1))]


def motion_plot(motion: Motion) -> bytes:
    """Translations (mm) and rotations (degrees) of each volume, one line per axis."""
    figure = _figure(7.5, 3.0)
    translate, rotate = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    volumes = np.arange(motion.values.shape[0])
    colours = _colours(3)
    for axes, prefix, unit in ((translate, "transl", "mm"), (rotate, "rot", "degrees")):
        names = [n for n in motion.names if n.startswith(prefix)]
        for index, name in enumerate(names):
            style, marker = STYLES[index % len(STYLES)]
            axes.plot(
                volumes,
                motion.values[:, motion.names.index(name)],
                linestyle=style,
                marker=marker,
                color=colours[index % 3],
                label=name,
            )
        axes.set_xlabel("volume")
        axes.set_ylabel(unit)
        axes.set_title("translation" if prefix == "transl" else "rotation")
        if names:
            axes.legend(fontsize="small")
        axes.grid(True, alpha=0.3)
    return _png(figure)


def kinetic_plot(curve: KineticCurve) -> bytes:
    """Mean ΔM in GM and WM against the PLD, with each sampled PLD marked."""
    figure = _figure(6.0, 3.2)
    axes = figure.add_subplot()
    plds = np.array(curve.post_labeling_delays)
    order = np.argsort(plds)
    for pld in np.unique(plds):
        axes.axvline(pld, color="0.6", linestyle=":", linewidth=1)
    colours = _colours(len(curve.means))
    for index, (tissue, means) in enumerate(curve.means.items()):
        style, marker = STYLES[index % len(STYLES)]
        axes.plot(
            plds[order],
            np.array(means)[order],
            linestyle=style,
            marker=marker,
            color=colours[index],
            markersize=7,
            label=f"{tissue} ({curve.voxels[tissue]} voxels)",
        )
    axes.set_xlabel("post-labelling delay (s); dotted: sampled PLDs")
    axes.set_ylabel("mean ΔM (a.u.)")
    axes.set_title("kinetic curve: mean ΔM per tissue")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    if plds.size == 1:
        axes.set_xlim(plds[0] - 0.5, plds[0] + 0.5)
    return _png(figure)


def histogram_plot(column: str, groups: Mapping[str, Sequence[float]]) -> bytes:
    """Histograms of one participants.tsv column, one per group (stepped outlines, hatched)."""
    figure = _figure(4.0, 2.8)
    axes = figure.add_subplot()
    values = [v for vs in groups.values() for v in vs]
    edges = np.histogram_bin_edges(values, bins=min(10, max(1, len(set(values)))))
    if edges[0] == edges[-1]:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    colours = _colours(len(groups))
    hatches = ("", "//", "\\\\", "xx", "..", "oo")
    for index, (group, data) in enumerate(groups.items()):
        axes.hist(
            data,
            bins=edges,
            histtype="stepfilled",
            alpha=0.45,
            color=colours[index],
            hatch=hatches[index % len(hatches)],
            edgecolor="black",
            label=f"{group} (n={len(data)})",
        )
    axes.set_xlabel(column)
    axes.set_ylabel("participants")
    if len(groups) > 1 or next(iter(groups), "") != "all":
        axes.legend(fontsize="small")
    return _png(figure)
