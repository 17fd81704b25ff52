"""The ``ground_truth`` series (physics.md §1 table): every ground-truth quantity moved and
resampled to ``acq_matrix``; no noise, no random numbers.

Continuous quantities are box-averaged (partial volume); ``seg_label`` takes the majority
label (physics.md D2), so no label absent from the input ever appears.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from asldro.image import Image
from asldro.params.types import GroundTruthSeries
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.types import SeriesResult


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
    common = {
        "series_type": "ground_truth",
        "magnetic_field_strength": gt.parameters["magnetic_field_strength"],
        "voxel_size": tuple(float(v) for v in resampler.target.voxel_size),
        "acq_matrix": tuple(series.acq_matrix),
        "motion": asdict(series.motion),
    }
    images = {}
    for quantity in gt.quantities:
        if quantity == "seg_label":
            data = context.majority_labels(series.acq_matrix, series.motion).astype(np.uint16)
            meta = {"segmentation": dict(gt.segmentation)}
            history = ({"filter": "majority_labels", "motion": common["motion"]},)
        else:
            values = context.maps([quantity])[quantity]
            acquired = acquire(Image(data=values, affine=gt.affine))
            data = acquired.data.astype(np.float32)
            meta = {}
            history = acquired.history
        images[quantity] = Image(
            data=data,
            affine=resampler.target.affine,
            meta={**common, **meta, "quantity": quantity, "units": gt.units.get(quantity, "")},
            history=history,
        )
    return SeriesResult(index, "ground_truth", series.description, series, images)
