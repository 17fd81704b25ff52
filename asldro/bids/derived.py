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
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from asldro.params import timing
from asldro.params.catalog import NEEDS_M0_TOKENS
from asldro.params.pairing import m0_type_of
from asldro.params.types import AslVolume
from asldro.pipelines.records import AcquisitionRecord, AslAcquisition

M0SCAN = "m0scan"
#: Volume types without labelling: 0 in the per-volume PLD and LabelingDuration arrays (BIDS:
#: "Any image within the time-series without a PLD, for example an m0scan, is indicated by a
#: zero"; a noRF noise scan likewise, docs/bids.md §6).
UNLABELLED = frozenset({M0SCAN, "noRF"})
#: The unit of a cbf volume (BIDS: a cbf row requires ``Units`` in the asl sidecar).
CBF_UNITS = "mL/100g/min"


@dataclass(frozen=True)
class Layout:
    """What the writer knows of the files around a sidecar: ``has_separate_m0`` is true for an
    asl run that an m0scan file calibrates."""

    has_separate_m0: bool = False


def json_number(value: Any) -> float | int:
    """A JSON number: integers stay integers (e.g. 3 T), everything else is a float."""
    number = float(value)
    return int(number) if number.is_integer() and isinstance(value, (int, np.integer)) else number


def scalar_or_list(values: Sequence[float]) -> float | list[float]:
    """One value when all are equal, else the per-volume list (docs/bids.md §6), as floats."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("no values")
    return values[0] if all(v == values[0] for v in values) else values


def labelled_scalar_or_list(
    volumes: Sequence[AslVolume], value: Callable[[AslVolume], float]
) -> float | list[float]:
    """A labelling time of an asl run as BIDS wants it (docs/bids.md §6): one float when every
    control/label volume has the same ``value``, else one per volume with 0 for the m0scan
    volumes and the noRF volumes (which have no labelling, :data:`UNLABELLED`; deltam and cbf
    volumes carry their labelling). ASLPrep counts the distinct values of the whole array,
    so ``[0, 1.8, 1.8]`` would be read as multi-PLD: a single delay is always a scalar. (An
    m0scan-only series, whose provenance records the timing it was given, has no labelled
    volume: its value is then :func:`scalar_or_list` of every volume's.)"""
    labelled = [float(value(v)) for v in volumes if v.token not in UNLABELLED]
    if not labelled:
        return scalar_or_list([value(v) for v in volumes])
    if all(v == labelled[0] for v in labelled):
        return labelled[0]
    return [0.0 if v.token in UNLABELLED else float(value(v)) for v in volumes]


def post_labeling_delay(record: AslAcquisition, layout: Layout = Layout()) -> float | list[float]:
    """``PostLabelingDelay`` in s of every volume (:func:`labelled_scalar_or_list`): the one
    rule of :func:`asldro.params.timing.post_labeling_delay` (``signal_time - label_duration``
    for (P)CASL, ``signal_time`` = TI for PASL, rounded to 1e-9 s; docs/bids.md §3, §6;
    docs/physics.md D21)."""
    del layout  # the PLD depends on the parameters only
    label_type = record.value("label_type")
    return labelled_scalar_or_list(
        record.volumes,
        lambda volume: timing.post_labeling_delay(
            label_type, volume.label_duration, volume.signal_time
        ),
    )


def labeling_duration(record: AslAcquisition, layout: Layout = Layout()) -> float | list[float]:
    """``LabelingDuration`` in s of every volume (:func:`labelled_scalar_or_list`), always a
    float (ASLPrep takes an integer ``2`` for an array; docs/bids.md §3, §6), rounded to
    1e-9 s."""
    del layout
    return labelled_scalar_or_list(
        record.volumes, lambda volume: timing.round_seconds(volume.label_duration)
    )


def total_acquired_pairs(record: AslAcquisition, layout: Layout = Layout()) -> int:
    """``TotalAcquiredPairs``: the number of control–label pairs over all phases (docs/bids.md
    §3, §6; BIDS: "the total number of acquired control-label pairs", bids-examples asl004 has
    48 for 6 PLDs x 8 pairs).

    BIDS requires a value > 0; for a label-only (or control-only) series this is the number of
    label (or control) volumes, and for a series of deltam (or cbf) volumes without control and
    label volumes the number of deltam (else cbf) volumes: each is formed from one control-label
    pair (docs/physics.md §5.8; a scanner's export may average several pairs into one volume,
    bids-examples asl001 has TotalAcquiredPairs 3): documented project conventions. With control
    and label volumes the deltam and cbf volumes are not counted (bids-validator compares the
    value with the control and label counts).
    """
    del layout  # the pairs depend on the volume types only
    tokens = [volume.token for volume in record.volumes]
    controls, labels = tokens.count("control"), tokens.count("label")
    pairs = min(controls, labels) if controls and labels else max(controls, labels)
    if pairs <= 0:
        pairs = tokens.count("deltam") or tokens.count("cbf")
    if pairs <= 0:
        raise ValueError("an asl run needs at least one control, label, deltam or cbf volume")
    return pairs


def m0_type(record: AslAcquisition, layout: Layout = Layout()) -> dict[str, Any]:
    """``M0Type`` (and ``M0Estimate``) by the project rule (docs/bids.md §5).

    Included when the context has m0scan rows; Separate when an m0scan file with identical
    entities exists; both is a configuration error; else Absent for a series whose volumes are
    all cbf (and noRF): they are calibrated already and need no M0; else Estimate with
    ``M0Estimate`` when the M0 used is uniform: the M0 signal scale the images carry (the
    uniform M0 times the readout decay, ``AslAcquisition.m0_estimate``), when > 0; else Absent.
    """
    estimate = record.m0_estimate
    kind = m0_type_of(
        included=any(volume.token == M0SCAN for volume in record.volumes),
        separate=layout.has_separate_m0,
        uniform_m0=estimate,
        needs_m0=any(volume.token in NEEDS_M0_TOKENS for volume in record.volumes),
    )
    if kind == "Estimate":
        assert estimate is not None  # Estimate needs a uniform M0
        return {"M0Type": kind, "M0Estimate": float(estimate)}
    return {"M0Type": kind}


def units(record: AslAcquisition, layout: Layout = Layout()) -> str:
    """``Units`` of an asl run with cbf volumes (BIDS: required with cbf rows): the unit of
    the white paper's CBF, :data:`CBF_UNITS`."""
    del record, layout
    return CBF_UNITS


def magnetic_field_strength(record: AcquisitionRecord, layout: Layout = Layout()) -> float | int:
    """``MagneticFieldStrength`` in T: the ground truth's (after ``parameter_override``)."""
    del layout
    return json_number(record.magnetic_field_strength)


def acquisition_voxel_size(record: AcquisitionRecord, layout: Layout = Layout()) -> list[float]:
    """``AcquisitionVoxelSize`` in mm: the voxel edges of the acquisition grid."""
    del layout
    return [float(size) for size in record.voxel_size]


def bolus_cut_off_flag(record: AslAcquisition, layout: Layout = Layout()) -> bool:
    """``BolusCutOffFlag`` of a PASL run: true when the series has a bolus cut-off
    (``bolus_cut_off_technique``), else false (docs/bids.md §3)."""
    del layout
    return record.value("bolus_cut_off_technique") is not None


def bolus_cut_off_delay_time(
    record: AslAcquisition, layout: Layout = Layout()
) -> float | list[float]:
    """``BolusCutOffDelayTime`` of a PASL run with a bolus cut-off: TI1, or [TI1, TI1s] for
    Q2TIPS (BIDS: the first and last saturation pulse, monotonically increasing), rounded to
    1e-9 s (docs/bids.md §3)."""
    del layout
    delay = record.value("bolus_cut_off_delay_time")
    if isinstance(delay, (tuple, list)):
        return [timing.round_seconds(value) for value in delay]
    return timing.round_seconds(delay)


def slice_timing(record: AslAcquisition, layout: Layout = Layout()) -> list[float]:
    """``SliceTiming`` of a 2D readout in s (docs/bids.md §3): the excitation time of each
    slice along k after the first acquired slice, the one rule of
    :attr:`asldro.params.types.AslSeries.readout_slice_timing` (asl and m0scan sidecars: the
    m0scan volumes are read out the same way)."""
    del layout
    times = record.series.readout_slice_timing
    if times is None:
        raise ValueError("a 3D readout has no SliceTiming")
    return [float(value) for value in times]


def multiband_acceleration_factor(record: AslAcquisition, layout: Layout = Layout()) -> int:
    """``MultibandAccelerationFactor``: the series' ``multiband_factor`` (an integer)."""
    del layout
    return int(record.value("multiband_factor"))


def background_suppression(record: AslAcquisition, layout: Layout = Layout()) -> bool:
    """``BackgroundSuppression``: whether the series has a background-suppression module
    (docs/physics.md §5.7)."""
    del layout
    return record.background_suppression is not None


def _pulse_timing(record: AslAcquisition) -> tuple[tuple[float, ...], int]:
    """The BIDS pulse times and their number (docs/physics.md (5.14)): the inversions after the
    start of labelling of the FIRST phase (BIDS: "only the pulse time of the first PLD"), sorted,
    rounded to 1 ns; the presaturation and inversions before the labelling are in neither."""
    from asldro.physics.background_suppression import bids_pulse_timing

    module = record.background_suppression
    if module is None:
        raise ValueError("the series has no background suppression")
    first = record.series.phases[0]
    label_type = str(record.value("label_type"))
    delay = timing.post_labeling_delay(label_type, first.label_duration, first.signal_time)
    return bids_pulse_timing(
        label_type,
        label_duration=first.label_duration,
        post_labeling_delay=delay,
        inversion_times=module.inversion_times,
    )


def background_suppression_number_pulses(record: AslAcquisition, layout: Layout = Layout()) -> int:
    """``BackgroundSuppressionNumberPulses``: the inversions after the start of labelling
    (:func:`_pulse_timing`)."""
    del layout
    return _pulse_timing(record)[1]


def background_suppression_pulse_time(
    record: AslAcquisition, layout: Layout = Layout()
) -> list[float]:
    """``BackgroundSuppressionPulseTime`` (s after the start of labelling, first PLD, sorted,
    each >= 0; :func:`_pulse_timing`)."""
    del layout
    return list(_pulse_timing(record)[0])


Rule = Callable[[Any, Layout], Any]

RULES: Mapping[str, Rule] = {
    "post_labeling_delay": post_labeling_delay,
    "m0_type": m0_type,
    "labeling_duration": labeling_duration,
    "total_acquired_pairs": total_acquired_pairs,
    "magnetic_field_strength": magnetic_field_strength,
    "acquisition_voxel_size": acquisition_voxel_size,
    "bolus_cut_off_flag": bolus_cut_off_flag,
    "bolus_cut_off_delay_time": bolus_cut_off_delay_time,
    "slice_timing": slice_timing,
    "multiband_acceleration_factor": multiband_acceleration_factor,
    "background_suppression": background_suppression,
    "background_suppression_number_pulses": background_suppression_number_pulses,
    "background_suppression_pulse_time": background_suppression_pulse_time,
    "units": units,
}
"""The rule of each :class:`~asldro.params.catalog.Derived` row, by the name the row gives."""

CONDITIONS: Mapping[str, Callable[[Any], bool]] = {
    "pasl": lambda record: record.value("label_type") == "pasl",
    "not_pasl": lambda record: record.value("label_type") != "pasl",
    "inversion_recovery": lambda record: record.value("acq_contrast") == "ir",
    "bolus_cut_off": lambda record: (
        record.value("label_type") == "pasl" and record.value("bolus_cut_off_technique") is not None
    ),
    "two_d": lambda record: record.value("mr_acq_type") == "2D",
    "multiband": lambda record: (
        record.value("mr_acq_type") == "2D" and record.value("multiband_factor") > 1
    ),
    "background_suppression": lambda record: record.background_suppression is not None,
    "cbf_volumes": lambda record: "cbf" in record.value("asl_context"),
}
"""The test of each named condition of :data:`asldro.params.catalog.CONDITIONS`."""
