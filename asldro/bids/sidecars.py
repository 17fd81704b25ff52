"""JSON sidecars and the aslcontext table (bids-asl.md §3–§6, §8, §9; physics.md D20, D21).

Functions here turn an :class:`asldro.image.Image` (its ``meta``, see ``asldro.pipelines.types``)
into the dict that is written as a BIDS sidecar. Units: s, degrees, T, mm.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from asldro import __version__
from asldro.bids.fields import fields
from asldro.image import Image


def scalar_or_list(values: Sequence[float]) -> float | list[float]:
    """One value when all are equal, else the per-volume list (bids-asl.md §6)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("no values")
    return values[0] if all(v == values[0] for v in values) else values


def _per_volume(meta: Mapping[str, Any], key: str, count: int) -> list[float]:
    value = meta[key]
    values = [float(value)] * count if np.isscalar(value) else [float(v) for v in value]
    if len(values) != count:
        raise ValueError(f"meta {key!r} has {len(values)} values for {count} volumes")
    return values


def _number(value: Any) -> float | int:
    """A JSON number: integers stay integers (e.g. 3 T), everything else is a float."""
    number = float(value)
    return int(number) if number.is_integer() and isinstance(value, (int, np.integer)) else number


def aslcontext_tsv(context: Sequence[str]) -> str:
    """``*_aslcontext.tsv`` text: header ``volume_type``, one row per volume (bids-asl.md §6)."""
    allowed = {"control", "label", "m0scan", "deltam", "cbf", "noRF", "n/a"}
    bad = [t for t in context if t not in allowed]
    if bad:
        raise ValueError(f"invalid aslcontext volume types {bad}")
    return "volume_type\n" + "".join(f"{t}\n" for t in context)


def total_acquired_pairs(context: Sequence[str]) -> int:
    """Number of control–label pairs (bids-asl.md §3, §6).

    BIDS requires a value > 0; for a label-only (or control-only) series this is the number of
    label (or control) volumes, a documented project convention.
    """
    controls, labels = context.count("control"), context.count("label")
    pairs = min(controls, labels) if controls and labels else max(controls, labels)
    if pairs <= 0:
        raise ValueError("an asl run needs at least one control or label volume")
    return pairs


def m0_type(
    context: Sequence[str], *, has_separate_m0: bool, m0_uniform_value: float | None
) -> dict[str, Any]:
    """``M0Type`` (and ``M0Estimate``) by the project rule (bids-asl.md §5).

    Included when the context has m0scan rows; Separate when an m0scan file with identical
    entities exists; both is a configuration error; else Estimate with ``M0Estimate`` when the
    ground-truth M0 is uniform (and > 0), else Absent.
    """
    included = "m0scan" in context
    if included and has_separate_m0:
        raise ValueError("M0Type cannot be both Included and Separate")
    if included:
        return {"M0Type": "Included"}
    if has_separate_m0:
        return {"M0Type": "Separate"}
    if m0_uniform_value is not None and float(m0_uniform_value) > 0:
        return {"M0Type": "Estimate", "M0Estimate": float(m0_uniform_value)}
    return {"M0Type": "Absent"}


def post_labeling_delay(label_type: str, label_duration: float, signal_time: float) -> float:
    """PLD in s: ``signal_time - label_duration`` for (P)CASL, ``signal_time`` (TI) for PASL
    (bids-asl.md §3; physics.md D21)."""
    if label_type == "pasl":
        return float(signal_time)
    return float(signal_time) - float(label_duration)


def _sequence_fields(meta: Mapping[str, Any], count: int) -> dict[str, Any]:
    """Generic MRI fields shared by asl, m0scan and structural sidecars (bids-asl.md §3, §8)."""
    contrast = fields()["contrasts"][str(meta["acq_contrast"]).lower()]
    out: dict[str, Any] = {
        "MagneticFieldStrength": _number(meta["magnetic_field_strength"]),
        "MRAcquisitionType": str(meta.get("mr_acq_type", "3D")),
        "ScanningSequence": contrast["ScanningSequence"],
        "PulseSequenceType": contrast["PulseSequenceType"],
        "EchoTime": scalar_or_list(_per_volume(meta, "echo_time", count)),
        "FlipAngle": float(meta["excitation_flip_angle"]),
    }
    if meta.get("inversion_time") is not None and str(meta["acq_contrast"]).lower() == "ir":
        out["InversionTime"] = float(meta["inversion_time"])
    if meta.get("voxel_size") is not None:
        out["AcquisitionVoxelSize"] = [float(v) for v in meta["voxel_size"]]
    return out


def _volume_count(image: Image) -> int:
    return int(image.data.shape[3]) if image.data.ndim == 4 else 1


def asl_sidecar(image: Image, *, m0_fields: Mapping[str, Any]) -> dict[str, Any]:
    """``*_asl.json`` (bids-asl.md §3): every REQUIRED and conditional field.

    Parameters
    ----------
    image : Image
        The 4-D asl image with the asl meta keys of ``asldro.pipelines.types``.
    m0_fields : Mapping
        The result of :func:`m0_type` (``M0Type`` and, for Estimate, ``M0Estimate``).
    """
    meta = image.meta
    context = [str(t).lower() for t in meta["asl_context"]]
    count = len(context)
    if _volume_count(image) != count:
        raise ValueError(f"asl image has {_volume_count(image)} volumes, context {count} tokens")
    label_type = str(meta["label_type"]).lower()
    sidecar: dict[str, Any] = {
        "ArterialSpinLabelingType": fields()["asl_label_types"][label_type],
        "PostLabelingDelay": post_labeling_delay(
            label_type, meta["label_duration"], meta["signal_time"]
        ),
        "BackgroundSuppression": False,
        **dict(m0_fields),
        "TotalAcquiredPairs": total_acquired_pairs(context),
        "RepetitionTimePreparation": scalar_or_list(_per_volume(meta, "repetition_time", count)),
        **_sequence_fields(meta, count),
        "VascularCrushing": False,
        "LabelingEfficiency": float(meta["label_efficiency"]),
    }
    if label_type == "pasl":
        sidecar["BolusCutOffFlag"] = True
        sidecar["BolusCutOffTechnique"] = fields()["pasl_bolus_cut_off_technique"]
        sidecar["BolusCutOffDelayTime"] = float(meta["label_duration"])
    else:
        sidecar["LabelingDuration"] = float(meta["label_duration"])
    sidecar["DROSoftware"] = f"asldro {__version__}"
    return sidecar


def m0scan_sidecar(image: Image, *, intended_for: str) -> dict[str, Any]:
    """``*_m0scan.json`` (bids-asl.md §4): IntendedFor (a BIDS URI), EchoTime and the real TR
    as ``RepetitionTimePreparation`` (> 0)."""
    meta = image.meta
    count = _volume_count(image)
    tr = scalar_or_list(_per_volume(meta, "repetition_time", count))
    if min(np.atleast_1d(tr)) <= 0:
        raise ValueError("m0scan RepetitionTimePreparation must be > 0")
    return {
        "IntendedFor": intended_for,
        "RepetitionTimePreparation": tr,
        **_sequence_fields(meta, count),
        "DROSoftware": f"asldro {__version__}",
    }


def structural_sidecar(image: Image, *, part: str | None = None) -> dict[str, Any]:
    """``anat/*.json`` for a structural series (bids-asl.md §8): sequence, TE, TR, FA, TI."""
    meta = image.meta
    sidecar = {
        **_sequence_fields(meta, 1),
        "RepetitionTime": float(meta["repetition_time"]),
        "SequenceVariant": "NONE",
    }
    if part == "phase":
        sidecar["Units"] = "rad"
    sidecar["DROSoftware"] = f"asldro {__version__}"
    return sidecar


def groundtruth_sidecar(
    image: Image, *, sources: Sequence[str] = (), description: str | None = None
) -> dict[str, Any]:
    """Derivative sidecar of a ground-truth map (bids-asl.md §9): ``SkullStripped`` false
    (REQUIRED), ``Units``, ``Description`` (what the quantity is, then how the value was formed
    from the ground truth: ``meta["derivation"]`` of the ground_truth series) and ``Sources``."""
    quantity = str(image.meta["quantity"])
    table = fields()["groundtruth_quantities"].get(quantity, {})
    units = table.get("Units", image.meta.get("units") or "arbitrary")
    what = description or table.get("Description", f"Ground-truth {quantity}")
    how = image.meta.get("derivation")
    sidecar: dict[str, Any] = {
        "SkullStripped": False,
        "Description": f"{what}. {how}" if how else what,
    }
    if units:
        sidecar["Units"] = units
    if image.meta.get("magnetic_field_strength") is not None:
        sidecar["MagneticFieldStrength"] = _number(image.meta["magnetic_field_strength"])
    if image.meta.get("voxel_size") is not None:
        sidecar["AcquisitionVoxelSize"] = [float(v) for v in image.meta["voxel_size"]]
    if sources:
        sidecar["Sources"] = list(sources)
    sidecar["GroundTruthQuantity"] = quantity
    sidecar["DROSoftware"] = f"asldro {__version__}"
    return sidecar
