"""One region's numbers (docs/score.md §4): the estimate ``e`` against the truth ``t`` over
the region's ``n`` voxels.

=====================  ==========================================================================
``n_voxels``           voxels in the region (inside the ground truth, estimate finite, truth
                       defined)
``mean_truth``         mean(t)
``mean_estimate``      mean(e)
``bias``               mean(e − t)
``relative_bias``      bias / mean(t) (null when mean(t) is 0)
``rmse``               sqrt(mean((e − t)²))
``pearson_r``          the correlation of e and t (null when either is constant: a piecewise
                       constant truth in pure tissue has no variance to correlate with)
``within_10_percent``  the fraction of voxels with |e − t| ≤ 0.1·|t|
=====================  ==========================================================================
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The columns of the scores table, in order, with what each holds (the JSON's ``Columns``).
COLUMNS = {
    "region": "The region: a label's abbreviation in desc-groundtruth_dseg.tsv, or brain",
    "name": "The label's name (brain: every label)",
    "kind": "tissue, label (a dseg label that is not a tissue, e.g. a lesion) or brain",
    "mask": "How the region's mask was made (probseg at the purity, or dseg)",
    "n_voxels": "Voxels of the region scored (inside the ground truth, estimate finite, truth "
    "defined)",
    "mean_truth": "Mean of the ground truth over the region",
    "mean_estimate": "Mean of the map over the region",
    "bias": "Mean of (estimate - truth)",
    "relative_bias": "bias / mean_truth (n/a when mean_truth is 0)",
    "rmse": "Root mean square of (estimate - truth)",
    "pearson_r": "Pearson correlation of estimate and truth (n/a when either is constant)",
    "within_10_percent": "Fraction of voxels with |estimate - truth| <= 0.1 |truth|",
}
#: The columns that carry the map's units.
IN_UNITS = ("mean_truth", "mean_estimate", "bias", "rmse")
#: Relative spread below which a set of values counts as constant (no correlation).
CONSTANT = 1e-9
WITHIN = 0.1


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _constant(values: np.ndarray) -> bool:
    scale = float(np.max(np.abs(values), initial=0.0))
    return float(np.std(values)) <= CONSTANT * max(scale, np.finfo(float).tiny)


def region_statistics(estimate: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """The numbers of the table for the voxel values ``estimate`` and ``truth`` (1-D, same
    length; finite). An empty region gives ``n_voxels`` 0 and None elsewhere."""
    estimate = np.asarray(estimate, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    count = int(truth.size)
    if count == 0:
        return {"n_voxels": 0, **{key: None for key in list(COLUMNS)[5:]}}
    error = estimate - truth
    mean_truth = float(np.mean(truth))
    bias = float(np.mean(error))
    pearson = None
    if count > 1 and not _constant(truth) and not _constant(estimate):
        pearson = _finite_or_none(float(np.corrcoef(estimate, truth)[0, 1]))
    return {
        "n_voxels": count,
        "mean_truth": mean_truth,
        "mean_estimate": float(np.mean(estimate)),
        "bias": bias,
        "relative_bias": bias / mean_truth if mean_truth != 0 else None,
        "rmse": float(np.sqrt(np.mean(error**2))),
        "pearson_r": pearson,
        "within_10_percent": float(np.mean(np.abs(error) <= WITHIN * np.abs(truth))),
    }
