"""Typed, immutable parameter objects (docs/physics.md §2).

These are what the rest of the engine consumes; ``asldro.params.load`` builds them from an
ASLDRO 2.x parameter file after validation. Units: s, mm, degrees.

Each field of a series is the catalog row of that name (``asldro/params/catalog.py``), or the
``group`` several rows share (``motion``: the six rigid-motion keys), or one of
:data:`NON_PARAMETER_FIELDS`; a test checks them field for field against the catalog, and
``asldro.params.series.series_from`` fills them from the catalog rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Union

NON_PARAMETER_FIELDS = ("description", "series_type")
"""Fields of the typed series that are not parameters: ``description`` (the entry's
``series_description``) and ``series_type``."""


@dataclass(frozen=True)
class Modulation:
    """``y = scale * x + offset`` applied to a ground-truth quantity (docs/physics.md §2.2)."""

    scale: float | None = None
    offset: float | None = None


@dataclass(frozen=True)
class GroundTruthSource:
    """Where the ground truth comes from: a built-in name, or a NIfTI + JSON pair."""

    name: str | None = None
    nifti: Path | None = None
    json: Path | None = None


@dataclass(frozen=True)
class GlobalConfig:
    """``global_configuration`` of the parameter file (docs/physics.md §2.2); ``subject_label``
    is the participant label when the command line gives none (already without ``-``)."""

    ground_truth: GroundTruthSource
    image_override: Mapping[str, float]
    parameter_override: Mapping[str, float]
    ground_truth_modulate: Mapping[str, Modulation]
    subject_label: str | None = None


@dataclass(frozen=True)
class Motion:
    """Rigid motion of one volume: rotations in degrees about the world origin, translations in mm.

    Applied as ``M = T(transl) * Rx(rot_x) * Ry(rot_y) * Rz(rot_z)`` (docs/physics.md §6).
    """

    rot_x: float = 0.0
    rot_y: float = 0.0
    rot_z: float = 0.0
    transl_x: float = 0.0
    transl_y: float = 0.0
    transl_z: float = 0.0

    @property
    def is_identity(self) -> bool:
        """True when every rotation and translation is zero."""
        return not any(
            (self.rot_x, self.rot_y, self.rot_z, self.transl_x, self.transl_y, self.transl_z)
        )


@dataclass(frozen=True)
class AslSeries:  # pylint: disable=too-many-instance-attributes  # one field per parameter
    """An ``asl`` series (docs/physics.md §2.3); per-volume tuples: one entry per context token."""

    description: str
    asl_context: tuple[str, ...]
    label_type: str  # "casl" | "pcasl" | "pasl"
    label_duration: float
    signal_time: float
    label_efficiency: float
    acq_matrix: tuple[int, int, int]
    acq_contrast: str  # "ge" | "se" | "ir"
    excitation_flip_angle: float
    inversion_flip_angle: float
    inversion_time: float
    desired_snr: float
    random_seed: int
    echo_time: tuple[float, ...]
    repetition_time: tuple[float, ...]
    motion: tuple[Motion, ...]
    lambda_blood_brain: float | None = None
    t1_arterial_blood: float | None = None
    m0: float | None = None
    interpolation: str | None = None  # recorded only (partial-volume sampling supersedes it)
    output_image_type: str = "magnitude"  # "magnitude" | "complex"
    gkm_model: str = "full"  # "full" | "whitepaper" | "consensus"
    background_suppression: bool | Mapping[str, Any] = False
    series_type: str = "asl"


@dataclass(frozen=True)
class StructuralSeries:  # pylint: disable=too-many-instance-attributes  # one field per parameter
    """A ``structural`` series (docs/physics.md §2.4)."""

    description: str
    acq_matrix: tuple[int, int, int]
    acq_contrast: str  # "ge" | "se" | "ir"
    echo_time: float
    repetition_time: float
    excitation_flip_angle: float
    inversion_flip_angle: float
    inversion_time: float
    desired_snr: float
    random_seed: int
    output_image_type: str  # "magnitude" | "complex"
    modality: str  # catalog STRUCTURAL_MODALITIES
    motion: Motion
    interpolation: str | None = None  # recorded only (partial-volume sampling supersedes it)
    series_type: str = "structural"


@dataclass(frozen=True)
class GroundTruthSeries:
    """A ``ground_truth`` series (docs/physics.md §2.4)."""

    description: str
    acq_matrix: tuple[int, int, int]
    motion: Motion
    interpolation: tuple[str, str] | None = None  # recorded only (see AslSeries.interpolation)
    series_type: str = "ground_truth"


Series = Union[AslSeries, StructuralSeries, GroundTruthSeries]


@dataclass(frozen=True)
class DroParams:
    """A validated parameter file.

    ``resolved`` is the same content as a JSON-able ASLDRO 2.x document with every default
    filled in (ground-truth paths made absolute); writing it out and loading it again gives
    an equal ``DroParams``.
    """

    global_config: GlobalConfig
    series: tuple[Series, ...]
    resolved: Mapping[str, Any]
