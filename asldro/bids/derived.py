"""The rules behind the catalog's derived BIDS fields and ``when`` conditions, each implemented
once (:data:`asldro.params.catalog.DERIVED`, :data:`~asldro.params.catalog.CONDITIONS`;
docs/bids.md §3, §5, §6; docs/physics.md D20, D21).

A rule takes the acquisition record (:mod:`asldro.pipelines.records`) and the :class:`Layout`
(what the writer knows of the files around the sidecar) and returns the field's value, or a
mapping of the field and the fields that come with it (``M0Type`` brings ``M0Estimate``).
Units: s, T, mm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from asldro.params import timing
from asldro.pipelines.records import AcquisitionRecord, AslAcquisition


@dataclass(frozen=True)
class Layout:
    """What the writer knows of the files around a sidecar: ``has_separate_m0`` is true for an
    asl run that an m0scan file calibrates."""

    has_separate_m0: bool = False


def json_number(value: Any) -> float | int:
    """A JSON number: integers stay integers (e.g. 3 T), everything else is a float."""
    number = float(value)
    return int(number) if number.is_integer() and isinstance(value, (int, np.integer)) else number


def post_labeling_delay(record: AslAcquisition, layout: Layout = Layout()) -> float:
    """``PostLabelingDelay`` in s: ``signal_time - label_duration`` for (P)CASL, ``signal_time``
    (the inversion time TI) for PASL (docs/bids.md §3; docs/physics.md D21)."""
    del layout  # the PLD depends on the parameters only
    return timing.post_labeling_delay(
        record.value("label_type"), record.value("label_duration"), record.value("signal_time")
    )


def total_acquired_pairs(record: AslAcquisition, layout: Layout = Layout()) -> int:
    """``TotalAcquiredPairs``: the number of control–label pairs (docs/bids.md §3, §6).

    BIDS requires a value > 0; for a label-only (or control-only) series this is the number of
    label (or control) volumes, a documented project convention.
    """
    del layout  # the pairs depend on the volume types only
    context = list(record.value("asl_context"))
    controls, labels = context.count("control"), context.count("label")
    pairs = min(controls, labels) if controls and labels else max(controls, labels)
    if pairs <= 0:
        raise ValueError("an asl run needs at least one control or label volume")
    return pairs


def m0_type(record: AslAcquisition, layout: Layout = Layout()) -> dict[str, Any]:
    """``M0Type`` (and ``M0Estimate``) by the project rule (docs/bids.md §5).

    Included when the context has m0scan rows; Separate when an m0scan file with identical
    entities exists; both is a configuration error; else Estimate with ``M0Estimate`` when the
    M0 used is uniform (and > 0), else Absent.
    """
    included = "m0scan" in record.value("asl_context")
    if included and layout.has_separate_m0:
        raise ValueError("M0Type cannot be both Included and Separate")
    if included:
        return {"M0Type": "Included"}
    if layout.has_separate_m0:
        return {"M0Type": "Separate"}
    uniform = record.m0_uniform_value
    if uniform is not None and float(uniform) > 0:
        return {"M0Type": "Estimate", "M0Estimate": float(uniform)}
    return {"M0Type": "Absent"}


def magnetic_field_strength(record: AcquisitionRecord, layout: Layout = Layout()) -> float | int:
    """``MagneticFieldStrength`` in T: the ground truth's (after ``parameter_override``)."""
    del layout
    return json_number(record.magnetic_field_strength)


def acquisition_voxel_size(record: AcquisitionRecord, layout: Layout = Layout()) -> list[float]:
    """``AcquisitionVoxelSize`` in mm: the voxel edges of the acquisition grid."""
    del layout
    return [float(size) for size in record.voxel_size]


def bolus_cut_off_delay_time(record: AslAcquisition, layout: Layout = Layout()) -> float:
    """``BolusCutOffDelayTime`` of a PASL run: the modelled bolus width (``label_duration``)."""
    del layout
    return float(record.value("label_duration"))


Rule = Callable[[Any, Layout], Any]

RULES: Mapping[str, Rule] = {
    "post_labeling_delay": post_labeling_delay,
    "m0_type": m0_type,
    "total_acquired_pairs": total_acquired_pairs,
    "magnetic_field_strength": magnetic_field_strength,
    "acquisition_voxel_size": acquisition_voxel_size,
    "bolus_cut_off_delay_time": bolus_cut_off_delay_time,
}
"""The rule of each :class:`~asldro.params.catalog.Derived` row, by the name the row gives."""

CONDITIONS: Mapping[str, Callable[[Any], bool]] = {
    "pasl": lambda record: record.value("label_type") == "pasl",
    "not_pasl": lambda record: record.value("label_type") != "pasl",
    "inversion_recovery": lambda record: record.value("acq_contrast") == "ir",
}
"""The test of each named condition of :data:`asldro.params.catalog.CONDITIONS`."""
