"""``global_configuration`` applied to a ground truth, and the run-time range checks
(docs/physics.md §1 step 2, §2.2, §3.3).

Per quantity, in order: ``image_override`` (fills the whole volume, background included), then
for ``seg_label`` rounding to uint16, then ``ground_truth_modulate`` (``y = scale*x + offset``;
the offset shifts background too). A modulated ``seg_label`` is rounded to uint16 again, because
the label map is always integer here. ``parameter_override`` is merged into the parameters
(``magnetic_field_strength`` included: D14).

The optional arterial quantities (``abv``, ``abat``) may be overridden or modulated although
the ground truth lacks them: they start from 0 (:mod:`asldro.groundtruth.arterial`).

Lookup tables stay lookup tables where they can: overriding or modulating a table quantity
changes the table. In a partial-volume ground truth (docs/physics.md §3.5) a change of
``seg_label`` relabels the tissue components only: the fractions and the tables (the signal) stay,
and the label map becomes the majority label of the relabelled fractions. Otherwise, when
``seg_label`` changes, every table is re-indexed through the old-to-new label mapping; where
old labels with different values merge into one new label, that quantity becomes a dense map
(its voxel values are unchanged, as in ASLDRO where each quantity is a separate image).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import numpy as np

from asldro.groundtruth.arterial import with_named_quantities
from asldro.groundtruth.errors import GroundTruthError
from asldro.acquisition.sampling import majority
from asldro.groundtruth.types import GroundTruth, TissueFractions, read_only
from asldro.params.rules import (
    bounds_text,
    is_number,
    outside_bounds,
    quantity_rule,
    scalar_parameter_rules,
    suggest,
)
from asldro.params.types import GlobalConfig, Modulation

UINT16_MAX = int(np.iinfo(np.uint16).max)

# The physical ranges of quantities and scalar parameters are the parameter file's rules
# (schema.json ``quantity_values`` and ``scalar_parameters``): one table for image_override,
# parameter_override, ground-truth files and the result of modulation.


def _check_names(gt: GroundTruth, names: Mapping[str, object], key: str) -> None:
    available = gt.quantities
    for name in names:
        if name not in available:
            hint = suggest(name, available)
            extra = f" (did you mean '{hint}'?)" if hint else ""
            raise GroundTruthError(
                f"global_configuration.{key}.{name}: unknown quantity{extra}; "
                f"the ground truth has {', '.join(available)}"
            )


def _modulate(values: np.ndarray, modulation: Modulation | None) -> np.ndarray:
    """``y = scale*x + offset`` (docs/physics.md §2.2); a missing scale or offset skips that step.

    An overflow gives Inf silently here: the result is checked (and refused) right after."""
    if modulation is None:
        return values
    out = values
    with np.errstate(over="ignore", invalid="ignore"):
        if modulation.scale is not None:
            out = out * float(modulation.scale)
        if modulation.offset is not None:
            out = out + float(modulation.offset)
    return out


def _to_labels(values: np.ndarray, where: str) -> np.ndarray:
    """Round to the nearest integer and store as uint16 (docs/physics.md §3.3 step 2.2)."""
    rounded = np.rint(values)
    if rounded.size and (
        not np.all(np.isfinite(rounded)) or rounded.min() < 0 or rounded.max() > UINT16_MAX
    ):
        raise GroundTruthError(f"{where}: seg_label must round to integers in 0..{UINT16_MAX}")
    return rounded.astype(np.uint16)


def _new_labels(gt: GroundTruth, global_config: GlobalConfig) -> np.ndarray | None:
    """The old-to-new label mapping (indexed by old label), or None when seg_label is untouched."""
    override = global_config.image_override.get("seg_label")
    modulation = global_config.ground_truth_modulate.get("seg_label")
    if override is None and modulation is None:
        return None
    largest = int(gt.seg.max(initial=0))
    if gt.tissue is not None:
        largest = max(largest, int(gt.tissue.labels.max(initial=0)))
    old = np.arange(largest + 1, dtype=np.float64)
    if override is not None:
        old = np.full_like(old, float(override))
    mapping = _to_labels(old, "image_override.seg_label")
    if modulation is not None:
        modulated = _modulate(mapping.astype(np.float64), modulation)
        mapping = _to_labels(modulated, "ground_truth_modulate.seg_label")
    return mapping


def _relabel(
    gt: GroundTruth, maps: dict[str, np.ndarray], mapping: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Apply an old-to-new label mapping to ``seg`` and re-index the lookup tables."""
    present = np.flatnonzero(np.bincount(gt.seg.ravel(), minlength=mapping.size))
    new_seg = read_only(mapping[gt.seg])
    n_new = int(mapping[present].max(initial=0)) + 1
    new_maps: dict[str, np.ndarray] = {}
    for name, table in maps.items():
        if table.ndim != 1:
            new_maps[name] = table
            continue
        new_table = np.zeros(n_new, dtype=table.dtype)
        new_table[mapping[present]] = table[present]
        if np.array_equal(new_table[mapping[present]], table[present]):
            new_maps[name] = read_only(new_table)
        else:  # labels with different values merged: keep the voxel values as a dense map
            new_maps[name] = read_only(table[gt.seg])
    return new_seg, new_maps


def _relabel_components(gt: GroundTruth, mapping: np.ndarray) -> GroundTruth:
    """A partial-volume ground truth with its components relabelled through ``mapping`` (old
    label -> new): the fractions and tables are unchanged, ``seg`` is the majority label of
    the fractions summed per new label."""
    assert gt.tissue is not None  # a partial-volume ground truth
    tissue = TissueFractions(gt.tissue.values, read_only(mapping[gt.tissue.labels]))
    per_label = tissue.per_label(tissue.values)
    labels = np.arange(per_label.shape[0], dtype=np.uint16)
    seg = read_only(majority(per_label, labels).astype(np.uint16))
    return dataclasses.replace(gt, seg=seg, tissue=tissue)


def _label_counts(gt: GroundTruth) -> np.ndarray:
    """The volume of each table entry (voxel counts of ``seg``, or the tissue volumes)."""
    return gt.component_volumes


def _finite_values(name: str, values: np.ndarray, counts: np.ndarray, where: str) -> np.ndarray:
    """The values that matter (a table's entries for labels present in ``seg``, or the dense
    map); raise when any of them is NaN or infinite, counting the voxels affected."""
    if values.ndim == 1:  # an entry of a label absent from seg holds no voxel
        present = counts > 0
        values = values[: counts.size]
        finite = np.isfinite(values)
        bad = int(counts[present & ~finite].sum())
        values = values[present]
    else:
        finite = np.isfinite(values)
        bad = int(finite.size - np.count_nonzero(finite))
    if bad:
        raise GroundTruthError(
            f"{where}: {name} has {bad} non-finite values (NaN or infinite) in the ground "
            "truth; every value must be a finite number"
        )
    return values


def _check_quantity(name: str, values: np.ndarray, counts: np.ndarray, where: str) -> None:
    """Finite values within the quantity's physical range (schema.json ``quantity_values``)."""
    values = _finite_values(name, values, counts, where)
    rule = quantity_rule(name)
    if values.size and np.any(outside_bounds(values, rule)):
        raise GroundTruthError(
            f"{where}: {name} must be {bounds_text(rule)}; found values from "
            f"{np.min(values):g} to {np.max(values):g}"
        )


def _check_parameters(parameters: Mapping[str, object], where: Callable[[str], str]) -> None:
    """Known scalar parameters are numbers within range (schema.json ``scalar_parameters``);
    other parameters of a ground-truth JSON are kept as they are."""
    for name, rule in scalar_parameter_rules().items():
        value = parameters.get(name)
        if value is None:
            continue
        if not is_number(value):
            raise GroundTruthError(
                f"{where(name)}: parameter {name} must be a number, got {value!r}"
            )
        if outside_bounds(value, rule):
            raise GroundTruthError(
                f"{where(name)}: parameter {name} must be {bounds_text(rule)}, got {value!r}"
            )


def check_ranges(gt: GroundTruth, where: str = "ground truth") -> None:
    """Raise :class:`GroundTruthError` (message starting with ``where``) when a quantity holds a
    non-finite value (the count of voxels is given) or a value outside its physical range, or a
    known parameter is outside its range (schema.json ``quantity_values``, ``scalar_parameters``:
    f in [0, 1000], dt >= 0, T1, T2, T2* in [0, 100], M0 in [0, 1e12], lambda in (0, 1],
    T1b in (0, 100], B0 in (0, 30]).

    Lookup tables are checked on the labels present in ``seg`` only.
    """
    counts = _label_counts(gt)
    for name, values in gt.maps.items():
        _check_quantity(name, values, counts, where)
    _check_parameters(gt.parameters, lambda name: where)


def apply_global_config(
    gt: GroundTruth, global_config: GlobalConfig, source: str = "ground truth"
) -> GroundTruth:
    """Apply ``image_override``, ``ground_truth_modulate`` and ``parameter_override``
    (docs/physics.md §3.3 steps 2 and 4, §2.2), then check every value.

    A non-finite value of the ground truth itself is blamed on ``source`` (the file or built-in
    name), unless ``image_override`` replaces that quantity; a value out of range after the
    configuration is blamed on the override or modulation that produced it (else on ``source``).

    Parameters
    ----------
    gt : GroundTruth
        The loaded ground truth (not changed).
    global_config : GlobalConfig
        ``global_configuration`` of the parameter file.
    source : str
        What the ground truth is, for messages (a file path or a built-in name).

    Returns
    -------
    GroundTruth
        A new ground truth; ``gt`` itself when nothing applies.
    """
    overrides = dict(global_config.image_override)
    modulations = dict(global_config.ground_truth_modulate)
    gt = with_named_quantities(gt, [*overrides, *modulations])
    _check_names(gt, overrides, "image_override")
    _check_names(gt, modulations, "ground_truth_modulate")
    if not overrides and not modulations and not global_config.parameter_override:
        check_ranges(gt, source)
        return gt
    counts = _label_counts(gt)
    for name, values in gt.maps.items():
        if name not in overrides:
            _finite_values(name, values, counts, source)
    maps: dict[str, np.ndarray] = {}
    for name, values in gt.maps.items():
        out = values
        if name in overrides:
            out = np.full(values.shape, float(overrides[name]), dtype=np.float64)
        out = _modulate(out, modulations.get(name))
        maps[name] = out if out is values else read_only(np.asarray(out))
    seg = gt.seg
    mapping = _new_labels(gt, global_config)
    if mapping is not None and gt.tissue is None:
        seg, maps = _relabel(gt, maps, mapping)
    result = GroundTruth(
        affine=gt.affine,
        shape=gt.shape,
        seg=seg,
        segmentation=gt.segmentation,
        maps=maps,
        units=gt.units,
        parameters={**gt.parameters, **global_config.parameter_override},
        quantity_order=gt.quantity_order,
        tissue=gt.tissue,
    )
    if mapping is not None and gt.tissue is not None:
        result = _relabel_components(result, mapping)

    def blame(name: str) -> str:
        for key, names in (("ground_truth_modulate", modulations), ("image_override", overrides)):
            if name in names:
                return f"global_configuration.{key}.{name}"
        return source

    counts = _label_counts(result)
    for name, values in result.maps.items():
        _check_quantity(name, values, counts, blame(name))
    _check_parameters(
        result.parameters,
        lambda name: (
            f"global_configuration.parameter_override.{name}"
            if name in global_config.parameter_override
            else source
        ),
    )
    return result
