"""``global_configuration`` applied to a ground truth, and the run-time range checks (physics.md
§1 step 2, §2.2, §3.3).

Per quantity, in order: ``image_override`` (fills the whole volume, background included), then
for ``seg_label`` rounding to uint16, then ``ground_truth_modulate`` (``y = scale*x + offset``;
the offset shifts background too). A modulated ``seg_label`` is rounded to uint16 again, because
the label map is always integer here. ``parameter_override`` is merged into the parameters
(``magnetic_field_strength`` included: D14).

Lookup tables stay lookup tables where they can: overriding or modulating a table quantity
changes the table. When ``seg_label`` changes, every table is re-indexed through the old-to-new
label mapping; where old labels with different values merge into one new label, that quantity
becomes a dense map (its voxel values are unchanged, as in ASLDRO where each quantity is a
separate image).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from asldro.groundtruth.errors import GroundTruthError
from asldro.groundtruth.types import GroundTruth
from asldro.params.types import GlobalConfig, Modulation

UINT16_MAX = int(np.iinfo(np.uint16).max)

# physics.md §3.3 run-time ranges: quantity -> (low, high); None means unbounded.
QUANTITY_RANGES: Mapping[str, tuple[float, float | None]] = {
    "perfusion_rate": (0.0, None),
    "transit_time": (0.0, None),
    "m0": (0.0, None),
    "t2": (0.0, None),
    "t2_star": (0.0, None),
    "t1": (0.0, 100.0),
}
PARAMETER_RANGES: Mapping[str, tuple[float, float]] = {
    "lambda_blood_brain": (0.0, 1.0),
    "t1_arterial_blood": (0.0, 100.0),
}


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _check_names(gt: GroundTruth, names: Mapping[str, object], key: str) -> None:
    available = gt.quantities
    for name in names:
        if name not in available:
            raise GroundTruthError(
                f"global_configuration.{key}: unknown quantity {name!r}; "
                f"available: {', '.join(available)}"
            )


def _modulate(values: np.ndarray, modulation: Modulation | None) -> np.ndarray:
    """``y = scale*x + offset`` (physics.md §2.2); a missing scale or offset skips that step."""
    if modulation is None:
        return values
    out = values
    if modulation.scale is not None:
        out = out * float(modulation.scale)
    if modulation.offset is not None:
        out = out + float(modulation.offset)
    return out


def _to_labels(values: np.ndarray, where: str) -> np.ndarray:
    """Round to the nearest integer and store as uint16 (physics.md §3.3 step 2.2)."""
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
    old = np.arange(int(gt.seg.max(initial=0)) + 1, dtype=np.float64)
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
    new_seg = _readonly(mapping[gt.seg])
    n_new = int(mapping[present].max(initial=0)) + 1
    new_maps: dict[str, np.ndarray] = {}
    for name, table in maps.items():
        if table.ndim != 1:
            new_maps[name] = table
            continue
        new_table = np.zeros(n_new, dtype=table.dtype)
        new_table[mapping[present]] = table[present]
        if np.array_equal(new_table[mapping[present]], table[present]):
            new_maps[name] = _readonly(new_table)
        else:  # labels with different values merged: keep the voxel values as a dense map
            new_maps[name] = _readonly(table[gt.seg])
    return new_seg, new_maps


def _in_range(values: np.ndarray, low: float, high: float | None) -> bool:
    return bool(np.all(values >= low)) and (high is None or bool(np.all(values <= high)))


def check_ranges(gt: GroundTruth, where: str = "ground truth") -> None:
    """Raise :class:`GroundTruthError` when a value is outside the run-time ranges of
    physics.md §3.3 (f, dt, M0, T2, T2* >= 0; T1 in [0, 100]; lambda in [0, 1]; T1b in [0, 100]).

    Lookup tables are checked on the labels present in ``seg`` only.
    """
    present = None
    for name, (low, high) in QUANTITY_RANGES.items():
        if name not in gt.maps:
            continue
        values = gt.maps[name]
        if _in_range(values, low, high):
            continue
        if values.ndim == 1:  # a failing entry may belong to a label absent from seg
            if present is None:
                present = np.bincount(gt.seg.ravel(order="K"), minlength=1) > 0
            values = values[: present.size][present]
            if _in_range(values, low, high):
                continue
        bound = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise GroundTruthError(
            f"{where}: {name} must be {bound}; found values from "
            f"{np.min(values):g} to {np.max(values):g}"
        )
    for name, (low, high) in PARAMETER_RANGES.items():
        value = gt.parameters.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GroundTruthError(f"{where}: parameter {name} must be a number, got {value!r}")
        if not low <= value <= high:
            raise GroundTruthError(
                f"{where}: parameter {name} must be in [{low:g}, {high:g}], got {value!r}"
            )


def apply_global_config(gt: GroundTruth, global_config: GlobalConfig) -> GroundTruth:
    """Apply ``image_override``, ``ground_truth_modulate`` and ``parameter_override``
    (physics.md §3.3 steps 2 and 4, §2.2), then :func:`check_ranges`.

    Parameters
    ----------
    gt : GroundTruth
        The loaded ground truth (not changed).
    global_config : GlobalConfig
        ``global_configuration`` of the parameter file.

    Returns
    -------
    GroundTruth
        A new ground truth; ``gt`` itself when nothing applies.
    """
    overrides = dict(global_config.image_override)
    modulations = dict(global_config.ground_truth_modulate)
    _check_names(gt, overrides, "image_override")
    _check_names(gt, modulations, "ground_truth_modulate")
    if not overrides and not modulations and not global_config.parameter_override:
        check_ranges(gt)
        return gt
    maps: dict[str, np.ndarray] = {}
    for name, values in gt.maps.items():
        out = values
        if name in overrides:
            out = np.full(values.shape, float(overrides[name]), dtype=np.float64)
        out = _modulate(out, modulations.get(name))
        maps[name] = out if out is values else _readonly(np.asarray(out))
    seg = gt.seg
    mapping = _new_labels(gt, global_config)
    if mapping is not None:
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
    )
    check_ranges(result, "global_configuration")
    return result
