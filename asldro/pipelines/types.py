"""What the series pipelines hand to the BIDS writer.

Image ``meta`` keys (units: s, mm, degrees, T):

asl image (4-D, float32, one volume per ``asl_context`` token)
    series_type="asl", asl_context (tuple of "m0scan"/"control"/"label"), label_type
    ("casl"/"pcasl"/"pasl"), label_duration, signal_time, post_label_delay (t - tau for (p)casl,
    t for pasl: physics.md D21), label_efficiency, acq_contrast ("se"/"ge"/"ir"),
    echo_time (tuple, per volume), repetition_time (tuple, per volume), excitation_flip_angle
    (90 for se), inversion_flip_angle and inversion_time (ir only, else None),
    magnetic_field_strength, lambda_blood_brain, t1_arterial_blood, m0_uniform_value (the M0
    value when the ground-truth M0 map is uniform, else None), voxel_size (3 floats),
    acq_matrix, desired_snr, noise_sigma (None without noise), noise_reference,
    random_seed, seeds (per-volume SeedSequence entropy, JSON-able), motion (tuple of per-volume
    dicts rot_x..transl_z), mr_acq_type="3D", image_type="magnitude".
structural image (3-D; float32 magnitude, or complex64 when output_image_type is "complex")
    series_type="structural", acq_contrast, echo_time, repetition_time, excitation_flip_angle,
    inversion_flip_angle, inversion_time (None unless ir), modality, output_image_type,
    magnetic_field_strength, voxel_size, acq_matrix, desired_snr, noise_sigma, noise_reference,
    random_seed, seeds, motion (dict), mr_acq_type="3D".
ground-truth images (3-D; float32, ``seg_label`` uint16), one per quantity
    series_type="ground_truth", quantity, units, magnetic_field_strength, voxel_size,
    acq_matrix, motion (dict), segmentation (name -> label, seg_label only).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from asldro.image import Image
from asldro.params.types import Series


@dataclass(frozen=True)
class SeriesResult:
    """One simulated series.

    ``images`` holds ``{"asl": Image}`` for asl, ``{"structural": Image}`` for structural and
    ``{quantity: Image}`` for ground_truth (every ground-truth quantity, ``seg_label`` included).
    ``index`` is the 1-based position of the series in the parameter file.
    """

    index: int
    series_type: str
    description: str
    params: Series
    images: Mapping[str, Image]

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", MappingProxyType(dict(self.images)))
