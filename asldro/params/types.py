"""Typed, immutable parameter objects (docs/physics.md §2).

These are what the rest of the engine consumes; ``asldro.params.load`` builds them from an
ASLDRO 2.x parameter file after validation. Units: s, mm, degrees.

Each field of a series is the catalog row of that name (``asldro/params/catalog.py``), or the
``group`` several rows share (``motion``: the six rigid-motion keys), or one of
:data:`NON_PARAMETER_FIELDS`; a test checks them field for field against the catalog, and
``asldro.params.series.series_from`` fills them from the catalog rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Union

from asldro.omit import OMIT_WHEN_EMPTY
from asldro.params.background import SuppressionSettings
from asldro.params.background import settings as suppression_settings
from asldro.params.catalog import DISPERSION_TAG
from asldro.params.cohort import Cohort
from asldro.params.lesions import Lesion
from asldro.params.slices import DEFAULT_SLICE_READOUT_TIME, series_slice_timing

NON_PARAMETER_FIELDS = ("description", "series_type", "added_motion")
"""Fields of the typed series that are not parameters: ``description`` (the entry's
``series_description``), ``series_type`` and an asl series' ``added_motion`` (a cohort's drawn
motion per volume, docs/cohort.md)."""


@dataclass(frozen=True)
class Modulation:
    """``y = scale * x + offset`` applied to a ground-truth quantity (docs/physics.md §2.2)."""

    scale: float | None = None
    offset: float | None = None


@dataclass(frozen=True)
class SubjectMaps:
    """A subject-specific ground truth from tissue probability maps (docs/physics.md §3.6), its
    paths absolute and its files found: ``probseg`` {GM, WM, CSF: file}, ``maps`` {quantity:
    file}, ``values`` {quantity: {tissue: value}} and the built-in ``template`` whose tissue
    values and scalar parameters fill the rest."""

    probseg: Mapping[str, Path]
    maps: Mapping[str, Path]
    values: Mapping[str, Mapping[str, float]]
    template: str


@dataclass(frozen=True)
class GroundTruthSource:
    """Where the ground truth comes from: a built-in name, a NIfTI + JSON pair, or tissue
    probability maps (``subject``)."""

    name: str | None = None
    nifti: Path | None = None
    json: Path | None = None
    subject: SubjectMaps | None = None


@dataclass(frozen=True)
class GlobalConfig:  # pylint: disable=too-many-instance-attributes  # a field per catalog key
    """``global_configuration`` of the parameter file (docs/physics.md §2.2); ``subject_label``
    is the participant label when the command line gives none (already without ``-``);
    ``tissue_model`` the tissue model of a built-in ground truth when given; ``lesions`` the
    lesions of ``global_configuration.lesions``; ``cohort`` its cohort."""

    ground_truth: GroundTruthSource
    image_override: Mapping[str, float]
    parameter_override: Mapping[str, float]
    ground_truth_modulate: Mapping[str, Modulation]
    subject_label: str | None = None
    tissue_model: str | None = None
    """``partial_volume`` or ``single_label`` (docs/physics.md §3.5); None: not given (a built-in
    is then partial-volume, a file single-label)."""
    lesions: tuple[Lesion, ...] = ()
    """The lesions inserted into the ground truth, in order (docs/physics.md §3.7)."""
    cohort: Cohort | None = None
    """``global_configuration.cohort`` (docs/cohort.md); None without one."""


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

    def plus(self, other: "Motion") -> "Motion":
        """The motion whose six parameters are the sums of this one's and ``other``'s (a
        cohort's motion is added to the series' own, docs/cohort.md)."""
        return Motion(
            rot_x=self.rot_x + other.rot_x,
            rot_y=self.rot_y + other.rot_y,
            rot_z=self.rot_z + other.rot_z,
            transl_x=self.transl_x + other.transl_x,
            transl_y=self.transl_y + other.transl_y,
            transl_z=self.transl_z + other.transl_z,
        )

    @property
    def is_identity(self) -> bool:
        """True when every rotation and translation is zero."""
        return not any(
            (self.rot_x, self.rot_y, self.rot_z, self.transl_x, self.transl_y, self.transl_z)
        )


@dataclass(frozen=True)
class LabelTiming:
    """The labelling timing of one phase of an asl series (s): the label duration τ and the
    signal time t (time from the start of labelling to the excitation; (p)CASL PLD = t - τ,
    PASL TI = t). ΔM depends on the series only through it, so it is computed once per
    distinct timing. ``slice_delay`` is the time from the excitation of the reference slice
    (``signal_time`` after the start of labelling) to the excitation of a later slice of a 2D
    readout: ΔM is read at :attr:`readout_time`, while background-suppression pulses keep
    their times before the reference excitation (docs/physics.md §5.7, §6.8)."""

    label_duration: float
    signal_time: float
    slice_delay: float = 0.0

    @property
    def readout_time(self) -> float:
        """Time from the start of labelling to this excitation: ``signal_time +
        slice_delay``."""
        return self.signal_time + self.slice_delay if self.slice_delay else self.signal_time


@dataclass(frozen=True)
class AslVolume:  # pylint: disable=too-many-instance-attributes  # the facts of one volume
    """One volume of an asl series, in acquisition order (:attr:`AslSeries.volumes`).

    ``index`` is its 0-based position in the 4-D image (and its noise stream's volume index);
    ``token`` its ``asl_context`` token, ``token_index`` that token's position in
    ``asl_context`` (the per-token values are the token's); ``phase`` the 0-based index of its
    phase (entry of ``signal_time`` / ``label_duration``).
    """

    index: int
    token: str
    token_index: int
    phase: int
    label_duration: float
    signal_time: float
    echo_time: float
    repetition_time: float
    motion: Motion

    @property
    def timing(self) -> LabelTiming:
        """The (label_duration, signal_time) of this volume's phase."""
        return LabelTiming(self.label_duration, self.signal_time)


def bolus_cut_off(technique: str | None, delay_time: Any) -> Any:
    """The ``asldro.physics.bolus.BolusCutOff`` of ``bolus_cut_off_technique`` and
    ``bolus_cut_off_delay_time`` (TI1, or [TI1, TI1s] for Q2TIPS), None without a technique.
    Raises ValueError where the physics refuses the times (e.g. TI1 > TI1s)."""
    if technique is None:
        return None
    from asldro.physics.bolus import BolusCutOff  # lazy: importing asldro.params stays light

    if isinstance(delay_time, (list, tuple)):
        return BolusCutOff(technique, delay_time[0], delay_time[1])
    return BolusCutOff(technique, delay_time)


def dispersion_kernel(dispersion: Mapping[str, Any] | None) -> Any:
    """The ``asldro.physics.dispersion.Dispersion`` of a resolved ``dispersion`` object (its
    ``type`` and kernel parameters), None when absent or of type none."""
    if dispersion is None or dispersion.get(DISPERSION_TAG) == "none":
        return None
    from asldro.physics.dispersion import Dispersion  # lazy, as above

    parameters = {key: value for key, value in dispersion.items() if key != DISPERSION_TAG}
    return Dispersion(dispersion[DISPERSION_TAG], **parameters)


def per_phase(value: float | tuple[float, ...], phases: int) -> tuple[float, ...]:
    """A per-phase key as one value per phase: a number repeats, a tuple is as given."""
    if isinstance(value, tuple):
        return value
    return (value,) * phases


@dataclass(frozen=True)
class AslSeries:  # pylint: disable=too-many-instance-attributes  # one field per parameter
    """An ``asl`` series (docs/physics.md §2.3).

    Per-token tuples (``echo_time``, ``repetition_time``, ``motion``): one entry per
    ``asl_context`` token. Per-phase keys (``label_duration``, ``signal_time``): a number, or a
    tuple with one entry per phase, as the parameter file gives them. The volumes the series
    acquires are :attr:`volumes` (the one expansion rule); read per-volume facts from there.
    """

    description: str
    asl_context: tuple[str, ...]
    label_type: str  # "casl" | "pcasl" | "pasl"
    label_duration: float | tuple[float, ...]
    signal_time: float | tuple[float, ...]
    m0scan_phases: str  # "all" | "first"
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
    bolus_cut_off_technique: str | None = None  # "QUIPSSII" | "Q2TIPS" | "QUIPSS" (PASL)
    bolus_cut_off_delay_time: float | tuple[float, ...] | None = None  # TI1 or (TI1, TI1s)
    dispersion: Mapping[str, Any] | None = None  # {"type": ..., kernel parameters}
    vascular_crushing: bool = False
    background_suppression: bool | Mapping[str, Any] = False
    mr_acq_type: str = "3D"  # "3D" | "2D"
    slice_timing: tuple[float, ...] | None = None
    slice_readout_time: float = DEFAULT_SLICE_READOUT_TIME
    slice_order: str = "ascending"  # "ascending" | "descending" | "interleaved"
    multiband_factor: int = 1
    series_type: str = "asl"
    added_motion: tuple[Motion, ...] = field(default=(), metadata={OMIT_WHEN_EMPTY: True})
    """Motion added to each volume's (one per entry of :attr:`volumes`; empty: none): a
    cohort's drawn motion (docs/cohort.md)."""

    @property
    def bolus_cut_off(self) -> Any:
        """The PASL bolus cut-off (``asldro.physics.bolus.BolusCutOff``), None without one."""
        return bolus_cut_off(self.bolus_cut_off_technique, self.bolus_cut_off_delay_time)

    @property
    def suppression(self) -> SuppressionSettings | None:
        """The background suppression of the series (:mod:`asldro.params.background`), None
        without one."""
        return suppression_settings(self.background_suppression)

    def suppressed(self, token: str) -> bool:
        """Whether the static signal of ``token`` volumes is background suppressed."""
        found = self.suppression
        return found is not None and token in found.apply_to

    @property
    def dispersion_kernel(self) -> Any:
        """The bolus dispersion (``asldro.physics.dispersion.Dispersion``), None without one
        (``dispersion`` absent or of type none)."""
        return dispersion_kernel(self.dispersion)

    @cached_property
    def readout_slice_timing(self) -> tuple[float, ...] | None:
        """The SliceTiming of the readout (s): for 2D one time per slice of ``acq_matrix[2]``
        (slice k is excited at ``signal_time + readout_slice_timing[k]``), None for 3D (the one
        rule, :func:`asldro.params.slices.series_slice_timing`)."""
        return series_slice_timing(
            self.mr_acq_type,
            self.acq_matrix[2],
            self.slice_timing,
            self.slice_readout_time,
            self.slice_order,
            self.multiband_factor,
        )

    @cached_property
    def phases(self) -> tuple[LabelTiming, ...]:
        """The timing of each phase: as many phases as the longest per-phase key has entries
        (one when both are numbers); a number repeats in every phase (the loader has checked
        that two lists have the same length)."""
        lengths = [len(v) for v in (self.label_duration, self.signal_time) if isinstance(v, tuple)]
        count = max(lengths, default=1)
        taus = per_phase(self.label_duration, count)
        times = per_phase(self.signal_time, count)
        return tuple(LabelTiming(tau, t) for tau, t in zip(taus, times))

    @cached_property
    def volumes(self) -> tuple[AslVolume, ...]:
        """Every volume in acquisition order: phases outer, ``asl_context`` tokens inner
        (ASLDRO develop's order); the per-token values repeat in every phase; with
        ``m0scan_phases`` ``"first"`` the m0scan tokens are acquired in the first phase only."""
        volumes: list[AslVolume] = []
        for phase, timing in enumerate(self.phases):
            for token_index, token in enumerate(self.asl_context):
                if token == "m0scan" and phase > 0 and self.m0scan_phases == "first":
                    continue
                volumes.append(
                    AslVolume(
                        index=len(volumes),
                        token=token,
                        token_index=token_index,
                        phase=phase,
                        label_duration=timing.label_duration,
                        signal_time=timing.signal_time,
                        echo_time=self.echo_time[token_index],
                        repetition_time=self.repetition_time[token_index],
                        motion=self._volume_motion(token_index, len(volumes)),
                    )
                )
        return tuple(volumes)

    def _volume_motion(self, token_index: int, volume_index: int) -> Motion:
        """The motion of a volume: its token's, plus the added motion of the volume."""
        own = self.motion[token_index]
        return own.plus(self.added_motion[volume_index]) if self.added_motion else own

    @property
    def volume_tokens(self) -> tuple[str, ...]:
        """The token of every volume, in acquisition order (the rows of aslcontext.tsv)."""
        return tuple(volume.token for volume in self.volumes)


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
