"""The ``ground_truth`` series (physics.md §1 table): every ground-truth quantity moved and
resampled to ``acq_matrix``; no noise, no random numbers.

How each quantity is carried to the acquisition grid depends on what it is (issue 9 item 8):

* additive quantities (CBF, M0) and the relaxation times are **volume means** over the voxel
  (box average, partial volume);
* **transit time** is not additive: the voxel holds the **perfusion-weighted mean**
  ``sum(f*CBF*ATT) / sum(f*CBF)`` over the ground-truth voxels (``f``: the fraction of each
  inside the acquisition voxel), which is what a multi-PLD kinetic fit estimates, and 0 where
  the voxel holds no perfusion (CSF's 1000 s "never arrives" is not averaged into tissue);
* ``seg_label`` takes the **majority label** (physics.md D2), so no label absent from the input
  ever appears.

Each map's record (``GroundTruthMap.derivation``) says in words how its value was formed; the
derivative sidecar's ``Description`` carries it.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from asldro.image import Image
from asldro.params.types import GroundTruthSeries
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.filters import Acquire
from asldro.pipelines.records import GroundTruthMap, voxel_size
from asldro.pipelines.types import SeriesResult

#: Quantities averaged with perfusion as the weight, and that weight.
PERFUSION_WEIGHTED = ("transit_time",)
PERFUSION = "perfusion_rate"
#: Quantities whose volume mean is not what a fit to the partial-volume signal would give.
RELAXATION_TIMES = ("t1", "t2", "t2_star")
#: A voxel whose mean CBF is at most this fraction of the truth's largest CBF holds no perfusion
#: (rounding of the rotated resampling leaves ~1e-12 where the true weight is 0).
NO_PERFUSION = 1e-9


def _grid_text(gt_affine: np.ndarray) -> str:
    sizes = np.linalg.norm(np.asarray(gt_affine)[:3, :3], axis=0)
    return "x".join(f"{size:.4g}" for size in sizes) + " mm ground truth"


def derivation(quantity: str, gt_affine: np.ndarray, resampled: bool) -> str:
    """How the ground-truth derivative of ``quantity`` was formed, in one or two sentences."""
    truth = _grid_text(gt_affine)
    zero = "0 where the voxel holds no perfusion (CBF = 0, e.g. CSF and outside the brain)."
    if not resampled:
        own = f"Per voxel: the ground truth's own value (the acquisition grid is the {truth} grid)"
        return f"{own}; {zero}" if quantity in PERFUSION_WEIGHTED else f"{own}."
    if quantity == "seg_label":
        return (
            "Per voxel: the label covering the largest part of the voxel (ties go to the lowest "
            f"label) in the {truth}, after the series' motion."
        )
    if quantity in PERFUSION_WEIGHTED:
        return (
            "Per voxel: the perfusion-weighted mean over the voxel, sum(f*CBF*ATT)/sum(f*CBF) "
            f"over the voxels of the {truth} (f: the fraction of each inside the voxel, after the "
            f"series' motion), which is what a multi-PLD kinetic fit estimates; {zero}"
        )
    text = (
        f"Per voxel: the mean over the voxel's volume of the {truth}, after the series' motion "
        "(a partial-volume average)"
    )
    if quantity in RELAXATION_TIMES:
        return f"{text}; not the value a fit to the voxel's partial-volume signal would give."
    return f"{text}."


def _perfusion_weighted(
    context: SimulationContext, quantity: str, acquire: Acquire
) -> tuple[np.ndarray, tuple]:
    """``sum(f*CBF*x) / sum(f*CBF)`` on the acquisition grid, 0 where the voxel holds no
    perfusion; kept within the range of ``x`` over the perfused ground truth."""
    gt = context.ground_truth
    maps = context.maps([PERFUSION, quantity])
    perfusion, values = maps[PERFUSION], maps[quantity]
    weights = acquire(Image(data=perfusion, affine=gt.affine)).data
    weighted = acquire(Image(data=perfusion * values, affine=gt.affine))
    perfused_truth = values[perfusion > 0]
    floor = NO_PERFUSION * float(np.max(perfusion, initial=0.0))
    out = np.zeros_like(weights)
    if perfused_truth.size:
        np.divide(weighted.data, weights, out=out, where=weights > floor)
        np.clip(out, perfused_truth.min(), perfused_truth.max(), out=out, where=weights > floor)
    history = weighted.history + (
        {"filter": "perfusion_weighted_mean", "weight": PERFUSION, "no_perfusion_below": floor},
    )
    return out, history


def simulate_ground_truth(
    context: SimulationContext, series: GroundTruthSeries, index: int
) -> SeriesResult:
    """Resample every ground-truth quantity; ``index`` is the 1-based series position."""
    gt = context.ground_truth
    tables = all(gt.is_table(name) for name in gt.maps)
    if tables:  # every quantity and the majority label share one set of fractions
        context.fractions(series.acq_matrix, series.motion)
    acquire = context.acquire(series.acq_matrix, series.motion, tables=tables)
    resampler = acquire.resampler
    images, records = {}, {}
    for quantity in gt.quantities:
        if quantity == "seg_label":
            data = context.majority_labels(series.acq_matrix, series.motion).astype(np.uint16)
            history = ({"filter": "majority_labels", "motion": asdict(series.motion)},)
        elif quantity in PERFUSION_WEIGHTED and PERFUSION in gt.maps:
            weighted, history = _perfusion_weighted(context, quantity, acquire)
            data = weighted.astype(np.float32)
        else:
            values = context.maps([quantity])[quantity]
            acquired = acquire(Image(data=values, affine=gt.affine))
            data = acquired.data.astype(np.float32)
            history = acquired.history
        images[quantity] = Image(data=data, affine=resampler.target.affine, history=history)
        records[quantity] = GroundTruthMap(
            series=series,
            quantity=quantity,
            units=gt.units.get(quantity, ""),
            magnetic_field_strength=gt.parameters["magnetic_field_strength"],
            voxel_size=voxel_size(images[quantity]),
            derivation=derivation(quantity, gt.affine, not resampler.is_identity),
            segmentation=gt.segmentation if quantity == "seg_label" else None,
        )
    return SeriesResult(index, "ground_truth", series.description, series, images, records)
