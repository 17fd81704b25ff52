"""A subject-specific ground truth built from tissue probability maps (issue 13 item 4;
docs/physics.md §3.6).

``ground_truth: {"probseg": ..., "maps": ..., "values": ..., "template": ...}`` (the parameter
file's form is resolved by :mod:`asldro.params.subject`) becomes a partial-volume ground truth
(docs/physics.md §3.5) **on the grid of the probseg maps**:

1. The three maps (GM, WM, CSF) must share one grid (shape, and affine within
   :data:`GRID_TOLERANCE` mm), be 3-D (a 4-D file of one volume is taken as 3-D), finite, and
   within ``[0, 1]`` up to :data:`PROBABILITY_TOLERANCE` (rounding of stored probabilities):
   then they are clipped to ``[0, 1]``; where ``GM + WM + CSF > 1`` the three are divided by
   their sum; background is ``1 - GM - WM - CSF``. The fractions are float32 and sum to 1 within
   float32 rounding; ``seg_label`` is their majority tissue.
2. Every quantity is a lookup table of the ``template`` built-in's tissue values
   (``tissues.json``; default the 3 T one), each tissue's value replaced where ``values``
   gives one; the scalar parameters are the template's.
3. A quantity of ``maps`` (any grid and orientation in the same world space, 3-D, finite and
   within the quantity's range, schema.json ``quantity_values``) becomes a dense map on the
   ground-truth grid: the box average (:class:`~asldro.acquisition.sampling.Resampler`,
   docs/physics.md §6.3) of the map over each ground-truth voxel, divided by the part of the
   voxel the map covers, so that values stay within the map's range (no interpolation
   overshoot) and a uniform region keeps its value. Ground-truth voxels the map
   does not cover at all keep the tables' value (the fraction-weighted mixture of the tissues),
   with one warning when tissue lies there; a map that covers no tissue is refused.
4. With any map given, a voxel's signal is computed from its own values (the quantities are
   then dense, docs/physics.md §3.6), so a table of ``transit_time`` (``abat``) is expanded as the
   perfusion- (aBV-) weighted mean of the tissues, not the volume mean (which would mix CSF's
   1000 s "never arrives" into every voxel with some CSF); where the voxel's tissues hold no
   perfusion it is the volume mean.

Every refusal is a :class:`GroundTruthError`: one line naming the parameter, the file and the
rule (exit status 65).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import cast

import numpy as np

from asldro.acquisition.sampling import Grid, Resampler, majority, mix
from asldro.groundtruth.builtin import builtin_tables, tissue_tables
from asldro.groundtruth.errors import GroundTruthError
from asldro.groundtruth.io import check_affine
from asldro.groundtruth.types import GroundTruth, TissueFractions, read_only
from asldro.params.catalog import PROBSEG_TISSUES, quantity
from asldro.params.rules import bounds_text, outside_bounds, quantity_rule
from asldro.params.types import SubjectMaps

WHERE = "global_configuration.ground_truth"
PROBABILITY_TOLERANCE = 1e-3
"""A probability this far below 0 or above 1 is rounding (of a map stored as integers with a
scale, or resampled), clipped; beyond it the map is refused."""
GRID_TOLERANCE = 1e-3
"""mm: the largest difference between the affines of the three probseg maps."""
COVERAGE_MIN = 1e-3
"""The part of a ground-truth voxel a map must cover for the map to give its value: below it the
quotient of (3.2) would amplify the rounding of the rotated box integrals (running sums)."""
ARRIVAL_WEIGHTS = {"transit_time": "perfusion_rate", "abat": "abv"}
"""Arrival times and the quantity that weights their mean over a voxel's tissues: the weights of
the ground-truth derivative's means (:data:`asldro.pipelines.groundtruth.WEIGHTED_MEANS`)."""


def _load(file: Path, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The float64 3-D data and affine of a NIfTI map; refused unless readable, 3-D (or 4-D
    of one volume), with a valid affine and finite values."""
    import nibabel as nib

    place = f"{where} ({file})"
    try:
        img = cast(nib.Nifti1Image, nib.load(file))
    except FileNotFoundError:
        raise GroundTruthError(f"{place}: file not found") from None
    except Exception as exc:  # nibabel raises several types for unreadable files
        raise GroundTruthError(f"{place}: not a readable NIfTI ({exc})") from None
    shape = tuple(int(n) for n in img.shape)
    if len(shape) < 3 or any(n != 1 for n in shape[3:]):
        raise GroundTruthError(
            f"{place}: expected a 3-D image (one volume), got shape {shape}"
            + (f" ({int(np.prod(shape[3:]))} volumes)" if len(shape) > 3 else "")
        )
    affine = np.array(img.affine, dtype=np.float64)
    check_affine(affine, place)
    data = np.asarray(img.dataobj, dtype=np.float64).reshape(shape[:3])
    bad = data.size - int(np.count_nonzero(np.isfinite(data)))
    if bad:
        raise GroundTruthError(
            f"{place}: {bad} non-finite values (NaN or infinite); every value must be a finite "
            "number (set the voxels outside the brain to 0)"
        )
    return data, affine


def _probability(data: np.ndarray, place: str) -> np.ndarray:
    """``data`` clipped to [0, 1]; refused beyond :data:`PROBABILITY_TOLERANCE` of it."""
    low, high = float(data.min(initial=0.0)), float(data.max(initial=0.0))
    if low < -PROBABILITY_TOLERANCE or high > 1.0 + PROBABILITY_TOLERANCE:
        raise GroundTruthError(
            f"{place}: a probability must be in [0, 1] (within {PROBABILITY_TOLERANCE:g} of "
            f"rounding); found values from {low:g} to {high:g}"
        )
    return np.clip(data, 0.0, 1.0, out=data)


def tissue_fractions(probseg: dict[str, Path]) -> tuple[np.ndarray, np.ndarray]:
    """The float32 fractions ``(4, X, Y, Z)`` (background, then the tissues in the label order
    of ``tissues.json``) and the affine of the probseg maps (module docstring, step 1)."""
    labels = tissue_tables()["segmentation"]
    first = next(iter(probseg))
    fractions: np.ndarray | None = None
    affine = np.eye(4)
    for tissue, file in probseg.items():
        place = f"{WHERE}.probseg.{tissue} ({file})"
        data, own_affine = _load(file, f"{WHERE}.probseg.{tissue}")
        if fractions is None:
            fractions = np.zeros((max(labels.values()) + 1, *data.shape), dtype=np.float64)
            affine = own_affine
        elif data.shape != fractions.shape[1:] or not np.allclose(
            own_affine, affine, rtol=0.0, atol=GRID_TOLERANCE
        ):
            offset = (
                float(np.abs(own_affine - affine).max()) if data.shape == fractions.shape[1:] else 0
            )
            raise GroundTruthError(
                f"{place}: its grid (shape {data.shape}"
                + (f", affine differing by up to {offset:g} mm" if offset else "")
                + f") differs from that of {WHERE}.probseg.{first} ({probseg[first]}, shape "
                f"{fractions.shape[1:]}); the three maps must share one grid"
            )
        fractions[labels[PROBSEG_TISSUES[tissue]]] = _probability(data, place)
    assert fractions is not None  # three tissues were read
    total = fractions[1:].sum(axis=0)
    if not np.any(total > 0):
        raise GroundTruthError(f"{WHERE}.probseg: every probability is 0 (no tissue anywhere)")
    over = total > 1.0
    fractions[1:, over] /= total[over]
    fractions[0] = np.clip(1.0 - fractions[1:].sum(axis=0), 0.0, 1.0)
    return fractions.astype(np.float32), affine


def _tables(spec: SubjectMaps, n_labels: int) -> dict[str, np.ndarray]:
    """The template's lookup tables with the per-tissue ``values`` (module docstring, step 2);
    a quantity the template lacks (``abv``, ``abat``) starts from 0."""
    segmentation = {"background": 0, **tissue_tables()["segmentation"]}
    tables = {name: np.array(table) for name, table in builtin_tables(spec.template).items()}
    for name, per_tissue in spec.values.items():
        table = tables.setdefault(name, np.zeros(n_labels, dtype=np.float64))
        for tissue, value in per_tissue.items():
            table[segmentation[PROBSEG_TISSUES.get(tissue, tissue)]] = value
    return {name: read_only(table) for name, table in tables.items()}


def map_on_grid(
    name: str, file: Path, grid: Grid, tissue: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """The map ``file`` of quantity ``name`` on ``grid`` (module docstring, step 3)."""
    place = f"{WHERE}.maps.{name} ({file})"
    data, affine = _load(file, f"{WHERE}.maps.{name}")
    rule = quantity_rule(name)
    if np.any(outside_bounds(data, rule)):
        raise GroundTruthError(
            f"{place}: {name} must be {bounds_text(rule)}; found values from "
            f"{data.min():g} to {data.max():g}"
        )
    resampler = Resampler(affine, data.shape, grid)
    if resampler.is_identity:
        return data
    coverage = resampler.resample(np.ones(data.shape))
    covered = coverage > COVERAGE_MIN
    if not np.any(covered & tissue):
        raise GroundTruthError(
            f"{place}: the map does not overlap the tissue of the probseg maps (its field of "
            f"view covers {int(np.count_nonzero(covered))} of their voxels, none with tissue); "
            "both must be in the same world space"
        )
    outside = int(np.count_nonzero(~covered & tissue))
    if outside:
        warnings.warn(
            f"{place}: {outside} ground-truth voxels with tissue lie outside the map; they keep "
            f"the tissue values of {name} (the template's, or ground_truth.values)",
            stacklevel=3,
        )
    values = resampler.resample(data)
    np.divide(values, coverage, out=values, where=covered)
    # a mean of the map's values lies within their range; the clip removes rounding only
    np.clip(values, data.min(), data.max(), out=values)
    values[~covered] = fallback[~covered]
    return values


def _arrival_mean(
    tables: dict[str, np.ndarray], name: str, fractions: np.ndarray
) -> np.ndarray | None:
    """The weighted mean over each voxel's tissues of the arrival-time table ``name`` (module
    docstring, step 4; the volume mean where the weight is 0), or None without its weight."""
    weight = tables.get(ARRIVAL_WEIGHTS[name])
    if weight is None or name not in tables:
        return None
    total = mix(weight, fractions)
    weighted = mix(weight * tables[name], fractions)
    plain = mix(tables[name], fractions)
    has_weight = total > 0
    np.divide(weighted, total, out=plain, where=has_weight)
    return plain


def _with_maps(
    spec: SubjectMaps,
    tables: dict[str, np.ndarray],
    fractions: np.ndarray,
    seg: np.ndarray,
    partial: bool,
    affine: np.ndarray,
) -> dict[str, np.ndarray]:
    """``tables`` with the quantities of ``spec.maps`` as dense maps on the ground-truth grid
    (module docstring, step 3) and, with any map in a partial-volume ground truth, the
    arrival-time tables expanded as weighted means (step 4)."""
    maps = dict(tables)
    if not spec.maps:
        return maps
    shape = seg.shape
    grid = Grid(shape, affine)
    tissue = fractions[0] < 1.0
    for name, file in spec.maps.items():
        if name not in tables:
            fallback = np.zeros(shape)
        else:
            fallback = mix(tables[name], fractions) if partial else tables[name][seg]
        maps[name] = read_only(map_on_grid(name, file, grid, tissue, fallback))
    if partial:
        for name in ARRIVAL_WEIGHTS:
            mean = None if name in spec.maps else _arrival_mean(tables, name, fractions)
            if mean is not None:
                maps[name] = read_only(mean)
    return maps


def subject_ground_truth(spec: SubjectMaps, tissue_model: str | None = None) -> GroundTruth:
    """The ground truth of ``spec`` (module docstring): partial-volume, or its majority-label
    view for ``tissue_model`` ``single_label``.

    Raises
    ------
    GroundTruthError
        One line naming the parameter, the file and the rule.
    """
    tables_doc = tissue_tables()
    fractions, affine = tissue_fractions(dict(spec.probseg))
    shape = cast(tuple[int, int, int], fractions.shape[1:])
    labels = np.arange(fractions.shape[0], dtype=np.uint16)
    seg = read_only(majority(fractions, labels).astype(np.uint16))
    tables = _tables(spec, fractions.shape[0])
    partial = tissue_model != "single_label"
    maps = _with_maps(spec, tables, fractions, seg, partial, affine)
    order = list(tables_doc["quantity_order"])
    order[-1:-1] = [name for name in maps if name not in order]  # before seg_label
    units = {name: tables_doc["units"].get(name, quantity(name).unit) for name in order}
    return GroundTruth(
        affine=read_only(affine),
        shape=shape,
        seg=seg,
        segmentation=dict(tables_doc["segmentation"]),
        maps=maps,
        units=units,
        parameters=dict(tables_doc["ground_truths"][spec.template]["parameters"]),
        quantity_order=tuple(order),
        tissue=TissueFractions(read_only(fractions), read_only(labels)) if partial else None,
    )


def describe(spec: SubjectMaps, full_paths: bool = True) -> str:
    """What the ground truth is: the probseg maps' folder and the template (``full_paths``
    False: the folder's name only, for a dataset's metadata, which must not hold local paths)."""
    folders = sorted(
        {str(file.parent) if full_paths else file.parent.name for file in spec.probseg.values()}
    )
    return f"ground truth from the probseg maps in {', '.join(folders)} (template {spec.template})"
