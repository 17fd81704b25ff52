"""What ``code/provenance/sub-<label>.json`` says of each image: a flat summary of its
acquisition record (the parameters as used and the facts the simulation established).

The summary lists, per record type, named facts in a fixed order (the order of the provenance
files asldro has always written, kept byte for byte). Each fact is the record's
:meth:`~asldro.pipelines.records.AslAcquisition.value`, except ``post_label_delay`` (the catalog's
``PostLabelingDelay`` rule), ``mr_acq_type`` (an asl image's ``mr_acq_type``, with
``slice_timing`` and ``multiband_factor`` after it for 2D; else the catalog's fixed
``MRAcquisitionType``) and, for
an asl image, the facts of its volumes (:data:`ASL_PER_VOLUME`): one entry per volume of the 4-D
image (``AslSeries.volumes``), the label duration and signal time one number when every volume
has the same.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from asldro.bids import derived
from asldro.params import catalog
from asldro.pipelines.records import (
    AcquisitionRecord,
    AslAcquisition,
    GroundTruthMap,
    StructuralAcquisition,
)

ASL_FACTS = (
    "series_type",
    "asl_context",
    "label_type",
    "label_duration",
    "signal_time",
    "post_label_delay",
    "label_efficiency",
    "acq_contrast",
    "echo_time",
    "repetition_time",
    "excitation_flip_angle",
    "inversion_flip_angle",
    "inversion_time",
    "magnetic_field_strength",
    "lambda_blood_brain",
    "t1_arterial_blood",
    "m0_uniform_value",
    "voxel_size",
    "acq_matrix",
    "desired_snr",
    "noise_sigma",
    "noise_reference",
    "random_seed",
    "seeds",
    "motion",
    "mr_acq_type",
    "image_type",
)
"""The facts of an asl image, in order."""

STRUCTURAL_FACTS = (
    "series_type",
    "acq_contrast",
    "echo_time",
    "repetition_time",
    "excitation_flip_angle",
    "inversion_flip_angle",
    "inversion_time",
    "modality",
    "output_image_type",
    "magnetic_field_strength",
    "desired_snr",
    "noise_sigma",
    "noise_reference",
    "random_seed",
    "seeds",
    "motion",
    "mr_acq_type",
)
"""The facts of a structural image after its grid (``voxel_size``, ``acq_matrix``) and, for a
magnitude image, ``image_type``; a complex image's ``image_type`` comes last."""

GROUND_TRUTH_FACTS = (
    "series_type",
    "magnetic_field_strength",
    "voxel_size",
    "acq_matrix",
    "motion",
    "segmentation",
    "derivation",
    "quantity",
    "units",
)
"""The facts of a ground-truth map (``segmentation`` for ``seg_label`` only)."""


ASL_PER_VOLUME: Mapping[str, Callable[[AslAcquisition], Any]] = {
    "asl_context": lambda record: record.per_volume("token"),
    "label_duration": lambda record: derived.scalar_or_list(record.per_volume("label_duration")),
    "signal_time": lambda record: derived.scalar_or_list(record.per_volume("signal_time")),
    "echo_time": lambda record: record.per_volume("echo_time"),
    "repetition_time": lambda record: record.per_volume("repetition_time"),
    "motion": lambda record: record.per_volume("motion"),
}
"""The facts of an asl image that are given per volume (one volume per phase and token)."""


def _fixed(field: str) -> Any:
    return next(row.value for row in catalog.FIXED if row.field == field)


_COMPUTED: Mapping[str, Callable[[Any], Any]] = {
    "post_label_delay": derived.post_labeling_delay,
    "mr_acq_type": lambda record: _fixed("MRAcquisitionType"),
}

TWO_D_FACTS = ("slice_timing", "multiband_factor")
"""The facts a 2D asl image adds after ``mr_acq_type`` (a 3D image's facts are unchanged)."""

_ASL_COMPUTED: Mapping[str, Callable[[AslAcquisition], Any]] = {
    "mr_acq_type": lambda record: record.value("mr_acq_type"),
    "slice_timing": derived.slice_timing,
}


VENDOR_FACTS = ("volume_formation",)
"""The facts an asl image with deltam, cbf or noRF volumes adds at the end: how each of those
volume types was formed (an image without them has the facts it always had)."""


def _facts(record: AcquisitionRecord) -> tuple[str, ...]:
    if isinstance(record, AslAcquisition):
        facts: tuple[str, ...] = ASL_FACTS
        if record.series.readout_slice_timing is not None:
            at = ASL_FACTS.index("mr_acq_type") + 1
            facts = (*ASL_FACTS[:at], *TWO_D_FACTS, *ASL_FACTS[at:])
        return (*facts, *VENDOR_FACTS) if record.volume_formation else facts
    if isinstance(record, StructuralAcquisition):
        grid = ("voxel_size", "acq_matrix")
        if record.image_type == "magnitude":
            return (*grid, "image_type", *STRUCTURAL_FACTS)
        return (*grid, *STRUCTURAL_FACTS, "image_type")
    if isinstance(record, GroundTruthMap):
        if record.segmentation is None:
            return tuple(name for name in GROUND_TRUTH_FACTS if name != "segmentation")
        return GROUND_TRUTH_FACTS
    raise TypeError(f"not an acquisition record: {type(record).__name__}")


def record_summary(record: AcquisitionRecord) -> dict[str, Any]:
    """The named facts of ``record`` in their fixed order (values not yet JSON-converted)."""
    computed: Mapping[str, Callable[[Any], Any]] = _COMPUTED
    if isinstance(record, AslAcquisition):
        computed = {**_COMPUTED, **_ASL_COMPUTED, **ASL_PER_VOLUME}
    return {
        name: computed[name](record) if name in computed else record.value(name)
        for name in _facts(record)
    }
