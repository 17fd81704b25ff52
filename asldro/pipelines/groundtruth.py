"""The ``ground_truth`` series (docs/physics.md §1 table): every ground-truth quantity moved and
resampled to ``acq_matrix``; no noise, no random numbers.

How each quantity is carried to the acquisition grid depends on what it is (issue 9 item 8):

* additive quantities (CBF, M0) and the relaxation times are **volume means** over the voxel
  (box average, partial volume);
* **transit time** is not additive: the voxel holds the **perfusion-weighted mean**
  ``sum(f*CBF*ATT) / sum(f*CBF)`` over the ground-truth voxels (``f``: the fraction of each
  inside the acquisition voxel), which is what a multi-PLD kinetic fit estimates, and 0 where
  the voxel holds no perfusion (CSF's 1000 s "never arrives" is not averaged into tissue);
  likewise the **arterial arrival time** ``abat`` is the aBV-weighted mean
  ``sum(f*aBV*aBAT) / sum(f*aBV)``, 0 where the voxel holds no arterial blood, and ``abv``
  (additive) is the volume mean;
* ``seg_label`` takes the **majority label** (docs/physics.md D2), so no label absent from the input
  ever appears.

Each map's record (``GroundTruthMap.derivation``) says in words how its value was formed; the
derivative sidecar's ``Description`` carries it.

Every grid also gets the **tissue derivatives** (issue 13 item 2, :func:`tissue_derivatives`):
one ``probseg`` per tissue (the fraction of the voxel the tissue fills: the box average of the
1 mm tissue fractions, or of the label masks of a single-label ground truth) and a
``brain_mask`` (1 where the tissues fill at least :data:`BRAIN_MASK_MIN_TISSUE` of the voxel).
At the grid of an asl or structural series (:func:`series_grid_derivatives`, the object as in
the series' first volume; not for a series on the ground-truth grid itself) they come with CBF
and ATT (:data:`SERIES_GRID_QUANTITIES`), so a
pipeline's output can be compared with the truth on its own grid.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Union, cast

import numpy as np

from asldro.acquisition import Resampler, acquisition_grid
from asldro.groundtruth.types import GroundTruth
from asldro.image import Filter, Image, apply_pipeline
from asldro.params.types import AslSeries, GroundTruthSeries, Motion, StructuralSeries
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.filters import MajorityLabels, PerfusionWeightedMean
from asldro.pipelines.records import GroundTruthMap, voxel_size
from asldro.pipelines.types import SeriesResult

#: Quantities averaged with another quantity as the weight: {quantity: weight}.
WEIGHTED_MEANS = {"transit_time": "perfusion_rate", "abat": "abv"}
#: How each weight is named in the derivations, and where it is zero.
_WEIGHT_WORDS = {
    "perfusion_rate": (
        "perfusion-weighted",
        "CBF",
        "ATT",
        "0 where the voxel holds no perfusion (CBF = 0, e.g. CSF and outside the brain).",
    ),
    "abv": (
        "aBV-weighted",
        "aBV",
        "aBAT",
        "0 where the voxel holds no arterial blood (aBV = 0).",
    ),
}
#: Quantities whose volume mean is not what a fit to the partial-volume signal would give.
RELAXATION_TIMES = ("t1", "t2", "t2_star")
#: A voxel whose mean CBF is at most this fraction of the truth's largest CBF holds no perfusion
#: (rounding of the rotated resampling leaves ~1e-12 where the true weight is 0).
NO_PERFUSION = 1e-9


def _grid_text(gt_affine: np.ndarray) -> str:
    sizes = np.linalg.norm(np.asarray(gt_affine)[:3, :3], axis=0)
    return "x".join(f"{size:.4g}" for size in sizes) + " mm ground truth"


#: How a voxel of a partial-volume ground truth holds its tissues (docs/physics.md §3.5).
PARTIAL_VOLUME_TEXT = (
    "Each voxel of the partial-volume ground truth holds grey matter, white matter and CSF in "
    "its tissue fractions (a built-in's from the ICBM 2009a probability maps, a subject's from "
    "its tissue probability maps), each tissue with its own values"
)


def derivation(
    quantity: str,
    gt_affine: np.ndarray,
    resampled: bool,
    partial_volume: bool = False,
    composition: str = "",
) -> str:
    """How the ground-truth derivative of ``quantity`` was formed, in one or two sentences
    (``partial_volume``: the ground truth carries tissue fractions, docs/physics.md §3.5;
    ``composition``: how its voxels are made, when not :data:`PARTIAL_VOLUME_TEXT`, e.g. with
    lesions, §3.7)."""
    if partial_volume:
        first = _partial_volume_derivation(quantity, gt_affine, resampled)
        return f"{first} {composition or PARTIAL_VOLUME_TEXT}."
    truth = _grid_text(gt_affine)
    weight = WEIGHTED_MEANS.get(quantity)
    if not resampled:
        own = f"Per voxel: the ground truth's own value (the acquisition grid is the {truth} grid)"
        return f"{own}; {_WEIGHT_WORDS[weight][3]}" if weight else f"{own}."
    if quantity == "seg_label":
        return (
            "Per voxel: the label covering the largest part of the voxel (ties go to the lowest "
            f"label) in the {truth}, after the series' motion."
        )
    if weight:
        weighted, by, of, zero = _WEIGHT_WORDS[weight]
        return (
            f"Per voxel: the {weighted} mean over the voxel, sum(f*{by}*{of})/sum(f*{by}) "
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


def _partial_volume_derivation(quantity: str, gt_affine: np.ndarray, resampled: bool) -> str:
    """The first sentence of :func:`derivation` for a partial-volume ground truth."""
    truth = _grid_text(gt_affine)
    where = (
        f"over the voxel, after the series' motion, of the {truth}"
        if resampled
        else f"in the voxel of the {truth} (the acquisition grid is its grid)"
    )
    if quantity == "seg_label":
        return (
            f"Per voxel: the tissue with the largest fraction {where} (ties go to the lowest "
            "label), the fractions being box averages of the 1 mm tissue fractions."
        )
    weight = WEIGHTED_MEANS.get(quantity)
    if weight:
        weighted, by, of, zero = _WEIGHT_WORDS[weight]
        return (
            f"Per voxel: the {weighted} mean sum(F*{by}*{of})/sum(F*{by}) over the tissues "
            f"{where} (F: the volume of each tissue inside the voxel), which is what a multi-PLD "
            f"kinetic fit estimates; {zero}"
        )
    text = (
        f"Per voxel: the volume mean sum(F*value)/sum(F) over the tissues {where} "
        "(F: the volume of each tissue inside the voxel)"
    )
    if quantity in RELAXATION_TIMES:
        return f"{text}; not the value a fit to the voxel's partial-volume signal would give."
    return f"{text}."


def build_ground_truth_pipeline(
    context: SimulationContext, series: GroundTruthSeries, quantity: str
) -> tuple[Image, tuple[Filter, ...]]:
    """What the derivative of ``quantity`` starts from (its ground-truth values on the
    ground-truth grid) and the filters that carry it to the acquisition grid: the majority label
    for ``seg_label``, the weighted mean of :data:`WEIGHTED_MEANS` (transit time by CBF, aBAT by
    aBV), else the volume mean."""
    gt = context.ground_truth
    tables = all(gt.is_table(name) for name in gt.maps)
    if tables:  # every quantity and the majority label share one set of fractions
        context.fractions(series.acq_matrix, series.motion)
    acquire = context.acquire(series.acq_matrix, series.motion, tables=tables)
    if quantity == "seg_label":
        resampler = acquire.resampler
        fractions = None
        if not resampler.is_identity:
            fractions = context.fractions(series.acq_matrix, series.motion)
            if gt.tissue is not None:  # the majority tissue of the voxel's tissue fractions
                fractions = gt.tissue.per_label(fractions)
        labels = MajorityLabels(resampler, series.motion, fractions)
        return Image(data=gt.seg, affine=gt.affine), (labels,)
    weight = WEIGHTED_MEANS.get(quantity)
    if weight is not None and weight in gt.maps:
        maps = context.maps([weight, quantity])
        weights, values = maps[weight], maps[quantity]
        weighted_truth = values[weights > 0]
        weighted_mean = PerfusionWeightedMean(
            weight=weight,
            weights=acquire(Image(data=weights, affine=gt.affine)).data,
            no_perfusion_below=NO_PERFUSION * float(np.max(weights, initial=0.0)),
            value_range=(
                (weighted_truth.min(), weighted_truth.max()) if weighted_truth.size else None
            ),
        )
        return Image(data=weights * values, affine=gt.affine), (acquire, weighted_mean)
    values = context.maps([quantity])[quantity]
    return Image(data=values, affine=gt.affine), (acquire,)


#: The quantities written at the grid of every asl and structural series (with the tissue
#: derivatives): the volume-mean CBF and the perfusion-weighted ATT.
SERIES_GRID_QUANTITIES = ("perfusion_rate", "transit_time")
#: A voxel is inside the brain mask when its tissues (every label but background 0) fill at
#: least this fraction of it.
BRAIN_MASK_MIN_TISSUE = 0.5
#: Key prefix of the ground-truth derivatives among the images of an asl or structural series.
DERIVATIVE_KEY = "groundtruth:"

GridSeries = Union[GroundTruthSeries, AslSeries, StructuralSeries]


def _tissue_fractions(context: SimulationContext, series: GroundTruthSeries) -> np.ndarray:
    """Fraction of every label (row = label) in every voxel of the series' grid."""
    gt = context.ground_truth
    resampler = context.resampler(series.acq_matrix, series.motion)
    if gt.tissue is not None:
        return gt.tissue.per_label(context.fractions(series.acq_matrix, series.motion))
    if resampler.is_identity:  # the label masks themselves, one at a time (no float64 stack)
        labels = np.arange(context.n_labels)
        return (gt.seg[np.newaxis] == labels[:, None, None, None]).astype(np.float32)
    return context.fractions(series.acq_matrix, series.motion)


def _tissue_text(context: SimulationContext, resampled: bool) -> str:
    source = (
        "the 1 mm tissue fractions"
        if context.partial_volume
        else "the voxels of the ground truth's label map holding the tissue"
    )
    how = "box average over the voxel, after the series' motion, of" if resampled else "value of"
    return f"the {how} {source}"


def _brain_mask(
    segmentation: Mapping[str, int], tissue: np.ndarray, facts: dict
) -> tuple[Image, GroundTruthMap]:
    """The brain mask of the summed tissue fractions ``tissue`` (1 where at least
    :data:`BRAIN_MASK_MIN_TISSUE`), and its record (``facts``: series, field, voxel size)."""
    image = Image(
        data=(tissue >= BRAIN_MASK_MIN_TISSUE).astype(np.uint8), affine=facts.pop("affine")
    )
    tissues = ", ".join(t.replace("_", " ") for t, l in segmentation.items() if l > 0)
    record = GroundTruthMap(
        quantity="brain_mask",
        units="",
        derivation=(
            f"1 where the tissues ({tissues}) "
            f"fill at least {BRAIN_MASK_MIN_TISSUE:g} of the voxel (the sum of their probseg), "
            "else 0."
        ),
        **facts,
    )
    return image, record


def tissue_derivatives(
    context: SimulationContext, series: GroundTruthSeries, owner: GridSeries
) -> tuple[dict[str, Image], dict[str, GroundTruthMap]]:
    """The ``probseg`` of every tissue of the segmentation and the ``brain_mask`` at the grid
    of ``series`` (keys ``probseg_<tissue>`` and ``brain_mask``); ``owner`` is the series the
    records belong to."""
    gt = context.ground_truth
    resampler = context.resampler(series.acq_matrix, series.motion)
    fractions = _tissue_fractions(context, series)
    affine = resampler.target.affine
    images: dict[str, Image] = {}
    records: dict[str, GroundTruthMap] = {}
    facts: dict = {
        "series": owner,
        "magnetic_field_strength": gt.parameters["magnetic_field_strength"],
        "voxel_size": voxel_size(Image(data=fractions[0], affine=affine)),
    }
    how = _tissue_text(context, not resampler.is_identity)
    tissue = np.zeros(resampler.target.shape, dtype=np.float64)
    for name, label in gt.segmentation.items():
        part = fractions[label] if label < len(fractions) else np.zeros_like(tissue)
        if label > 0:
            tissue += part
        images[f"probseg_{name}"] = Image(data=np.asarray(part, dtype=np.float32), affine=affine)
        records[f"probseg_{name}"] = GroundTruthMap(
            quantity="probseg",
            units="",
            derivation=(
                f"Per voxel: the fraction of the voxel's volume that is "
                f"{name.replace('_', ' ')}, {how}."
            ),
            segmentation={name: label},
            **facts,
        )
    images["brain_mask"], records["brain_mask"] = _brain_mask(
        gt.segmentation, tissue, {**facts, "affine": affine}
    )
    return images, records


def _quantity_maps(
    context: SimulationContext,
    series: GroundTruthSeries,
    quantities: tuple[str, ...],
    owner: GridSeries,
) -> tuple[dict[str, Image], dict[str, GroundTruthMap]]:
    """Each of ``quantities`` carried to the grid of ``series``."""
    gt = context.ground_truth
    resampler = context.resampler(series.acq_matrix, series.motion)
    images, records = {}, {}
    for quantity in quantities:
        derived = apply_pipeline(*build_ground_truth_pipeline(context, series, quantity))
        images[quantity] = Image(
            data=derived.data if quantity == "seg_label" else derived.data.astype(np.float32),
            affine=resampler.target.affine,
            history=derived.history,
        )
        records[quantity] = GroundTruthMap(
            series=owner,
            quantity=quantity,
            units=gt.units.get(quantity, ""),
            magnetic_field_strength=gt.parameters["magnetic_field_strength"],
            voxel_size=voxel_size(images[quantity]),
            derivation=derivation(
                quantity,
                gt.affine,
                not resampler.is_identity,
                context.partial_volume,
                gt.composition,
            ),
            segmentation=gt.segmentation if quantity == "seg_label" else None,
        )
    return images, records


def simulate_ground_truth(
    context: SimulationContext, series: GroundTruthSeries, index: int
) -> SeriesResult:
    """Resample every ground-truth quantity and add the tissue derivatives; ``index`` is the
    1-based series position."""
    images, records = _quantity_maps(context, series, context.ground_truth.quantities, series)
    tissue_images, tissue_records = tissue_derivatives(context, series, series)
    return SeriesResult(
        index,
        "ground_truth",
        series.description,
        series,
        {**images, **tissue_images},
        {**records, **tissue_records},
    )


def series_grid_quantities(
    ground_truth: GroundTruth, series: Union[AslSeries, StructuralSeries]
) -> tuple[str, ...] | None:
    """The quantities :func:`series_grid_derivatives` writes at the grid of ``series`` (with the
    tissue maps), or None when it writes none (the series is on the ground-truth grid, unmoved);
    known from the parameters alone (the writer plans file names with it)."""
    motion = series.volumes[0].motion if isinstance(series, AslSeries) else series.motion
    grid = acquisition_grid(ground_truth.affine, ground_truth.shape, series.acq_matrix)
    if motion.is_identity and Resampler(ground_truth.affine, ground_truth.shape, grid).is_identity:
        return None
    return tuple(q for q in SERIES_GRID_QUANTITIES if q in ground_truth.maps)


def series_grid_derivatives(
    context: SimulationContext, result: SeriesResult, acq_matrix: tuple[int, ...], motion: Motion
) -> SeriesResult:
    """``result`` (an asl or structural series) with the ground-truth derivatives at its grid
    (:data:`SERIES_GRID_QUANTITIES` and the tissue derivatives, the object moved by ``motion``:
    its first volume's), under keys starting with :data:`DERIVATIVE_KEY`. A series acquired on
    the ground-truth grid itself, unmoved (the default structural series), gets none: its truth
    is the ground truth, which a ground_truth series of that ``acq_matrix`` writes (writing
    1 mm copies would double the time of the default run)."""
    owner = cast(Union[AslSeries, StructuralSeries], result.params)  # an asl or structural one
    quantities = series_grid_quantities(context.ground_truth, owner)
    if quantities is None:
        return result  # the ground-truth grid itself: a ground_truth series holds that truth
    grid = GroundTruthSeries(
        description=result.description,
        acq_matrix=(int(acq_matrix[0]), int(acq_matrix[1]), int(acq_matrix[2])),
        motion=motion,
    )
    images, records = _quantity_maps(context, grid, quantities, owner)
    tissue_images, tissue_records = tissue_derivatives(context, grid, owner)
    images.update(tissue_images)
    records.update(tissue_records)
    return dataclasses.replace(
        result,
        images={**result.images, **{DERIVATIVE_KEY + k: v for k, v in images.items()}},
        records={**result.records, **{DERIVATIVE_KEY + k: v for k, v in records.items()}},
    )
