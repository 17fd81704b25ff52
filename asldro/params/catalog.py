# pylint: disable=too-many-lines  # the one table of every parameter: a row per key, in one module so each fact is stated once
"""Every parameter of the parameter file, stated once (docs/design.md "Facts in one place").

One :class:`Parameter` row per (series type, key): its kind (with range, choices, pattern), unit,
default, per-volume policy, a one-line description, where it comes from, and its BIDS mapping.
Everything else is derived from these rows:

* ``asldro/params/schema.json`` and ``asldro/params/defaults.json`` (generated and committed:
  ``python -m asldro.params.generate``; a test fails when they are stale);
* the typed series records of :mod:`asldro.params.types` (checked field for field in a test);
* the sidecars (:mod:`asldro.bids.sidecars` walks :data:`SIDECAR_FIELDS`);
* the README's parameter table (generated between markers).

Derived acquisition facts (``PostLabelingDelay``, ``M0Type``, ``TotalAcquiredPairs`` ...) are
:class:`Derived` rows: the BIDS field, which sidecars carry it, and the one function that computes
it (named here, implemented in :mod:`asldro.bids.derived`). Fixed fields are :class:`Fixed` rows.

Units: s, mm, degrees, T. The kinds (number with range, choice, tokens ...) are in
:mod:`asldro.params.kinds`; each maps to JSON Schema Draft 2020-12.
"""

from __future__ import annotations

import copy
import enum
import math
from dataclasses import dataclass
from typing import Any, Mapping

from asldro.params.kinds import (
    NO_DEFAULT,
    AnyOf,
    Array,
    Boolean,
    Choice,
    Field,
    Integer,
    Kind,
    Named,
    Number,
    Record,
    Table,
    Tagged,
    Text,
    Tokens,
    Variants,
)

from asldro.labels import LABEL_CHARACTERS
from asldro.params import slices
from asldro.params.builtin import BUILTIN_GROUND_TRUTHS, DEFAULT_TISSUE_MODEL, TISSUE_MODELS

SERIES_TYPES = ("asl", "structural", "ground_truth")
GLOBAL = "global_configuration"
DEVELOP_TOKENS = ("m0scan", "control", "label")
"""The volume types of ASLDRO develop (and of ASLDRO 2.x): its ``{m0scan, control, label}``
objects require all three, and background suppression's ``apply_to_asl_context`` names them."""
VENDOR_TOKENS = ("deltam", "cbf", "noRF")
"""The BIDS volume types of vendor exports (issue 12): ``deltam`` (the subtraction control -
label), ``cbf`` (a CBF map, mL/100g/min) and ``noRF`` (a noise scan without RF excitation),
spelled as BIDS spells them (docs/physics.md §5.8)."""
ASL_TOKENS = DEVELOP_TOKENS + VENDOR_TOKENS
NEEDS_M0_TOKENS = ("control", "label", "deltam")
"""The volume types whose ΔM needs an M0 to be quantified: a run of only cbf (and noRF) volumes
is calibrated already, so its M0Type is Absent and background suppression is fine there."""
CONTEXT_KEY = "asl_context"
"""The key whose tokens the :attr:`PerVolume.PER_TOKEN` keys of a series follow."""


# --------------------------------------------------------------------------------------------
# Per-volume policy and the BIDS mapping


class PerVolume(enum.Enum):
    """How a parameter relates to the volumes of an asl series."""

    SCALAR = "scalar"
    """One value for the series."""
    PER_TOKEN = "per-token"
    """A number for every volume, or one per ``asl_context`` token; resolved as one per token
    (ASLDRO 2.x's array form, so the resolved file stays ASLDRO-2.x-loadable)."""
    PER_PHASE = "per-phase"
    """A number for every phase, or a list with one per phase (ASLDRO develop's multiphase
    ``signal_time``); resolved as given: a number stays a number, a list a list. The volumes
    are the phases (outer) times the ``asl_context`` tokens (inner),
    :attr:`asldro.params.types.AslSeries.volumes`."""


class Collapse(enum.Enum):
    """How a parameter's values become a sidecar field."""

    VALUE = "value"
    """The value as it is (a float for numbers)."""
    SCALAR_OR_LIST = "scalar-or-list"
    """One value per volume; a scalar when all volumes share it (docs/bids.md §6)."""


@dataclass(frozen=True)
class Bids:
    """Where a parameter goes in BIDS.

    ``sidecars`` names the sidecars that carry the field (``asl``, ``m0scan``, ``structural``);
    ``table`` names a lookup of :mod:`asldro.bids.fields` (``fields.json``) that converts the
    value (e.g. ``label_type`` ``pcasl`` → ``PCASL``); ``when`` names a condition of
    :data:`CONDITIONS` under which the field is written (``None``: always).
    """

    field: str
    sidecars: tuple[str, ...]
    collapse: Collapse = Collapse.VALUE
    table: str | None = None
    when: str | None = None


@dataclass(frozen=True)
class Parameter:  # pylint: disable=too-many-instance-attributes  # a catalog row: every fact once
    """One parameter of one or more series types (or of ``global_configuration``).

    ``default`` may be a ``{token: value}`` mapping for a :attr:`PerVolume.PER_TOKEN` key (the
    default fitted to the context: TR 10 s for m0scan, 5 s for control/label).
    """

    name: str
    series: tuple[str, ...]
    kind: Kind
    unit: str
    default: Any
    description: str
    per_volume: PerVolume = PerVolume.SCALAR
    bids: Bids | None = None
    origin: str = "ASLDRO 2.x"
    group: str | None = None
    """The field of the typed series that gathers this key with others (``motion``: the six
    rigid-motion keys make one :class:`asldro.params.types.Motion`); None: a field of its own."""
    required: bool = False
    """The key must be given (``ground_truth``); its default is then only the defaults file's."""
    in_defaults_file: bool = True
    """Whether the defaults file states the key (docs/physics.md §2.5 has no
    ``ground_truth_modulate``; a resolved file always has it)."""
    resolved_when_absent: bool = True
    """Whether the resolved file states the default of an absent key. False for the keys ASLDRO
    develop (``gkm_model``, ``output_image_type`` and ``background_suppression`` of asl) or
    asldro (``m0scan_phases``) added with a default: a file without them resolves to the document it
    resolved to before they existed (ASLDRO 2.2.0 files reproduce byte for byte), and the typed
    series takes the default."""

    def field(self) -> Field:
        """The parameter as an entry of its series' :class:`Record` (a per-token default,
        ``{token: value}``, is not a value of the key and is left out of the schema)."""
        default = self.default
        if isinstance(default, Mapping) and self.per_volume is PerVolume.PER_TOKEN:
            default = NO_DEFAULT
        return Field(self.name, self.kind, self.unit, self.description, default)


@dataclass(frozen=True)
class Derived:
    """A BIDS field computed from several parameters by the function ``rule`` of
    :mod:`asldro.bids.derived` (implemented once there)."""

    field: str
    sidecars: tuple[str, ...]
    rule: str
    description: str
    when: str | None = None


@dataclass(frozen=True)
class Fixed:
    """A BIDS field with the same value in every dataset asldro writes (for now)."""

    field: str
    sidecars: tuple[str, ...]
    value: Any
    description: str
    when: str | None = None


CONDITIONS: Mapping[str, str] = {
    "pasl": "label_type is pasl",
    "not_pasl": "label_type is casl or pcasl",
    "inversion_recovery": "acq_contrast is ir",
    "bolus_cut_off": "label_type is pasl and bolus_cut_off_technique is given",
    "two_d": "mr_acq_type is 2D",
    "multiband": "mr_acq_type is 2D and multiband_factor > 1",
    "background_suppression": "background_suppression is true or an object",
    "cbf_volumes": "asl_context has cbf volumes",
}
"""The conditions a BIDS row may carry (``when``), with their meaning; the functions that
test them live with the sidecar writer, keyed by these names."""


# --------------------------------------------------------------------------------------------
# Shared kinds

SECONDS_0_100 = Number(minimum=0, maximum=100)
POSITIVE_SECONDS = Number(exclusive_minimum=0)
NON_NEGATIVE = Number(minimum=0)
ANGLE_DEGREES = Number(minimum=-180, maximum=180)
TRANSLATION_MM = Number(minimum=-1000, maximum=1000)
ACQ_MATRIX = Array(Integer(exclusive_minimum=0), min_items=3, max_items=3)
ACQ_CONTRAST = Choice(("ge", "se", "ir"))
RANDOM_SEED = Integer(minimum=0)


def per_phase(element: Kind) -> AnyOf:
    """A number for every phase, or a non-empty list with one per phase (the number of phases
    is the loader's cross-field rule: two lists must have the same length)."""
    return AnyOf(
        (element, Array(element, min_items=1)),
        "a number or a non-empty list of numbers (one per phase)",
    )


def per_token(element: Kind, *objects: Kind, objects_text: str = "") -> AnyOf:
    """A number for all volumes, or a list with one per ``asl_context`` token (its length is
    the loader's cross-field rule: it depends on ``asl_context``), or one of the object forms
    ``objects`` (ASLDRO develop: ``{m0scan, control, label}``, a distribution) that the loader
    turns into that list."""
    words = "a number or a list of numbers (one per asl_context volume)"
    return AnyOf((element, Array(element), *objects), f"{words}{objects_text}")


def per_context(element: Kind) -> Record:
    """ASLDRO develop's ``{"m0scan": v, "control": v, "label": v}``: one value per kind of
    volume, those three required (:data:`DEVELOP_TOKENS`), plus ``deltam``, ``cbf``, ``noRF``
    where the context uses them (a loader rule: the schema cannot see the context); the loader
    lists ``v[token]`` for each ``asl_context`` token (docs/physics.md §2.3)."""
    return Record(tuple(Field(token, element) for token in ASL_TOKENS), required=DEVELOP_TOKENS)


DISTRIBUTION_TAG = "distribution"
DISTRIBUTION_SEED = 0
"""The default ``seed`` of a distribution object (ASLDRO develop's)."""


def _distribution_seed() -> Field:
    return Field(
        "seed",
        Integer(minimum=0),
        description="seed of this key's own numpy default_rng (independent of random_seed)",
        default=DISTRIBUTION_SEED,
    )


DISTRIBUTION = Variants(
    DISTRIBUTION_TAG,
    (
        (
            "gaussian",
            Record(
                (Field("mean", Number()), Field("sd", Number(minimum=0)), _distribution_seed()),
                required=("mean", "sd"),
            ),
        ),
        (
            "uniform",
            Record(
                (Field("min", Number()), Field("max", Number()), _distribution_seed()),
                required=("min", "max"),
            ),
        ),
    ),
)
"""ASLDRO develop's motion distributions: one value per ``asl_context`` token drawn with
``numpy.random.default_rng(seed).normal(mean, sd, n)`` or ``.uniform(min, max, n)``, rounded to
4 decimals (:mod:`asldro.params.distributions`)."""

INTERPOLATION = Choice(("linear", "continuous", "nearest"))
_INTERPOLATION_NOTE = (
    "; accepted and recorded for ASLDRO develop files, with no effect: asldro samples the "
    "ground truth with partial-volume boxes (docs/physics.md §6.3), not by interpolation"
)


# --------------------------------------------------------------------------------------------
# Ground-truth quantities and scalar parameters: their physical ranges are the rules of
# image_override, parameter_override, the ground-truth files and every map after overrides and
# modulation (asldro.groundtruth.modify reads them through asldro.params.rules).

ARTERIAL_QUANTITIES = ("abv", "abat")
"""The optional quantities of the arterial component (docs/physics.md §4.9): a ground truth
without them has none; ``image_override`` and ``ground_truth_modulate`` may create them."""
ARTERIAL_ARRIVAL_LEAD = 0.3
"""s: the default aBAT is ``transit_time`` minus this, clipped at 0, where aBV > 0 (Fabber's
prior ``batart = bat - 0.3``)."""

QUANTITIES: tuple[Field, ...] = (
    Field(
        "perfusion_rate",
        Number(minimum=0, maximum=1000),
        "ml/100g/min",
        "CBF; no tissue perfuses faster than 1000 ml/100g/min",
    ),
    Field(
        "transit_time",
        Number(minimum=0),
        "s",
        "Arterial transit time; a large value (the built-ins' CSF: 1000 s) means labelled "
        "blood never arrives",
    ),
    Field("t1", SECONDS_0_100, "s", "Longitudinal relaxation time T1"),
    Field("t2", SECONDS_0_100, "s", "Transverse relaxation time T2"),
    Field("t2_star", SECONDS_0_100, "s", "Effective transverse relaxation time T2*"),
    Field(
        "m0",
        Number(minimum=0, maximum=1e12),
        "arbitrary",
        "Equilibrium magnetisation; the bound keeps every simulated image within float32",
    ),
    Field(
        "seg_label",
        Number(minimum=0, maximum=65535),
        "",
        "Tissue label; rounded to the nearest integer label (uint16)",
    ),
    Field(
        "abv",
        Number(minimum=0, maximum=1),
        "fraction",
        "Arterial blood volume aBV, the volume fraction of the voxel holding labelled arterial "
        "blood (the macrovascular component, docs/physics.md §4.9); optional: absent means 0 "
        "(no arterial signal)",
    ),
    Field(
        "abat",
        Number(minimum=0),
        "s",
        "Arterial bolus arrival time aBAT; optional: where abv > 0 and no abat is given, "
        f"transit_time - {ARTERIAL_ARRIVAL_LEAD} s clipped at 0 (Fabber's prior)",
    ),
)
"""The known ground-truth quantities (any other quantity of a ground-truth file, an extra, takes
any finite number: :data:`OTHER_QUANTITY`)."""

OTHER_QUANTITY = Number()
"""The kind of a quantity that is not in :data:`QUANTITIES`."""

SCALAR_PARAMETERS: tuple[Field, ...] = (
    Field(
        "lambda_blood_brain",
        Number(exclusive_minimum=0, maximum=1),
        "ml/g",
        "Blood-brain partition coefficient",
    ),
    Field(
        "t1_arterial_blood",
        Number(exclusive_minimum=0, maximum=100),
        "s",
        "T1 of arterial blood",
    ),
    Field(
        "magnetic_field_strength",
        Number(exclusive_minimum=0, maximum=30),
        "T",
        "Main field; no MRI magnet reaches 30 T",
    ),
)
"""The scalar ground-truth parameters (``parameter_override`` admits only these; a ground-truth
JSON may hold others, kept as they are)."""


def quantity(name: str) -> Field:
    """The row of a known quantity (:data:`QUANTITIES`)."""
    return next(row for row in QUANTITIES if row.name == name)


def scalar_parameter(name: str) -> Field:
    """The row of a scalar ground-truth parameter (:data:`SCALAR_PARAMETERS`)."""
    return next(row for row in SCALAR_PARAMETERS if row.name == name)


ASL = ("asl",)
STRUCTURAL = ("structural",)
GROUND_TRUTH = ("ground_truth",)
SEQUENCE_SIDECARS = ("asl", "m0scan", "structural")
ASL_SIDECARS = ("asl", "m0scan")
_PER_TOKEN_NOTE = "; one per asl_context token or one number for all"
_PER_CONTEXT_NOTE = (
    ", or {m0scan, control, label} (ASLDRO develop; plus deltam, cbf, noRF when asl_context "
    "has them)"
)
_CONTEXT_TEXT = ", or {m0scan, control, label}"
_DISTRIBUTION_NOTE = ", or a distribution object drawn as ASLDRO develop draws it (4 decimals)"

# Rows that several series types share are made by one function each (the fact is stated once;
# each series type gets its own row so that its keys keep ASLDRO's order in the resolved file).


def _motion(series: str, axes: str) -> tuple[Parameter, ...]:
    """The rigid-motion keys in the order ``axes`` names them (``zyx`` or ``xyz`` rotations):
    per token for asl, one value for the other series (applied as T·Rx·Ry·Rz about the world
    origin, docs/physics.md §6)."""
    per_volume = PerVolume.PER_TOKEN if series == "asl" else PerVolume.SCALAR
    note = _PER_TOKEN_NOTE + _DISTRIBUTION_NOTE if series == "asl" else ""
    rows = []
    for prefix, words, unit, kind, order in (
        ("rot", "Rotation about", "degrees", ANGLE_DEGREES, axes),
        ("transl", "Translation along", "mm", TRANSLATION_MM, "xyz"),
    ):
        for axis in order:
            rows.append(
                Parameter(
                    f"{prefix}_{axis}",
                    (series,),
                    (
                        per_token(kind, DISTRIBUTION, objects_text=", or a distribution object")
                        if series == "asl"
                        else kind
                    ),
                    unit,
                    0.0,
                    f"{words} {axis}, {unit}{note}",
                    per_volume,
                    group="motion",
                )
            )
    return tuple(rows)


def _acq_matrix(series: str, default: list[int]) -> Parameter:
    return Parameter(
        "acq_matrix",
        (series,),
        ACQ_MATRIX,
        "voxels",
        default,
        "Acquisition matrix (x, y, z); the field of view is the ground truth's",
    )


def _acq_contrast(series: str) -> Parameter:
    return Parameter(
        "acq_contrast",
        (series,),
        ACQ_CONTRAST,
        "",
        "se",
        "MRI signal model: ge (gradient echo), se (spin echo), ir (inversion recovery)",
        bids=Bids("ScanningSequence", _sidecars(series), table="contrasts"),
    )


def _desired_snr(series: str, default: float) -> Parameter:
    return Parameter(
        "desired_snr",
        (series,),
        NON_NEGATIVE,
        "",
        default,
        "SNR of the noise added (sigma = mean tissue signal / SNR); 0 means no noise",
    )


def _random_seed(series: str) -> Parameter:
    return Parameter(
        "random_seed",
        (series,),
        RANDOM_SEED,
        "",
        0,
        "Seed of the noise streams (with the participant label, series and volume)",
    )


def _inversion_rows(series: str) -> tuple[Parameter, ...]:
    """Excitation and inversion flip angles and the inversion time."""
    return (
        Parameter(
            "excitation_flip_angle",
            (series,),
            ANGLE_DEGREES,
            "degrees",
            90.0,
            "Excitation flip angle (ge, ir; spin echo uses and reports 90)",
            bids=Bids("FlipAngle", _sidecars(series)),
        ),
        Parameter(
            "inversion_flip_angle",
            (series,),
            ANGLE_DEGREES,
            "degrees",
            180.0,
            "Inversion flip angle (ir only)",
        ),
        Parameter(
            "inversion_time",
            (series,),
            NON_NEGATIVE,
            "s",
            1.0,
            "Inversion time (ir only)",
            bids=Bids("InversionTime", _sidecars(series), when="inversion_recovery"),
        ),
    )


def _sidecars(series: str) -> tuple[str, ...]:
    return ASL_SIDECARS if series == "asl" else (series,)


def _interpolation(series: str) -> Parameter:
    return Parameter(
        "interpolation",
        (series,),
        INTERPOLATION,
        "",
        NO_DEFAULT,
        "ASLDRO develop's resampling interpolation" + _INTERPOLATION_NOTE,
        origin="ASLDRO develop",
    )


IMAGE_TYPE = Choice(("magnitude", "complex"))
STRUCTURAL_MODALITIES = (
    "T1w",
    "T2w",
    "FLAIR",
    "anat",
    "PDw",
    "T2starw",
    "inplaneT1",
    "inplaneT2",
    "PDT2",
    "UNIT1",
)
"""ASLDRO 2.2.0's modalities and ASLDRO develop's; each is a BIDS anat suffix (``anat`` is
written as T1w), :mod:`asldro.bids.fields` ``structural_suffixes``."""


NIFTI_PATH = Text(pattern=r"\.nii(\.gz)?$", means="a path ending in .nii.gz or .nii")
JSON_PATH = Text(pattern=r"\.json$", means="a path ending in .json")
GROUND_TRUTH_FILE_KEYS = (("nii", "json"), ("nii_file", "json_file"))
"""The two object forms of a ground-truth file pair, (NIfTI key, JSON key): ASLDRO's and
MRImageTools'. An object gives exactly one of them (:mod:`asldro.params.gtsource`)."""

SUBJECT_KEYS = ("probseg", "maps", "values", "template")
"""The keys of a subject-specific ground truth built from tissue probability maps (issue 13;
docs/physics.md §3.6, :mod:`asldro.params.subject`); an object gives them or a file pair."""
PROBSEG_TISSUES = {"GM": "grey_matter", "WM": "white_matter", "CSF": "csf"}
"""The tissues of a probseg (the BIDS ``label-`` values) and their names in the built-ins'
segmentation (``asldro/groundtruth/tissues.json``)."""
VALUE_TISSUES = (*PROBSEG_TISSUES, "background")
"""The tissues whose values ``ground_truth.values`` may set (background: the rest of a voxel)."""
PROBSEG_CONVENTIONS = ("fsl_fast", "bids")
"""How a probseg folder names its maps: FSL FAST ``*_pve_0/1/2`` (CSF, GM, WM) or BIDS
derivatives (fMRIPrep) ``*_label-GM|WM|CSF_probseg``."""
PROBSEG_FOLDER_KEYS = ("folder", "convention", "participant", "session", "space")
"""The keys of a probseg given as a folder (the filters apply to the BIDS convention)."""
MAP_QUANTITIES = (
    "perfusion_rate",
    "transit_time",
    "t1",
    "t2",
    "t2_star",
    "m0",
    "abv",
    "abat",
)
"""The ground-truth quantities that ``ground_truth.maps`` and ``ground_truth.values`` may give
(every quantity of :data:`QUANTITIES` but the label map)."""

BOLUS_CUT_OFF_TECHNIQUES = ("QUIPSSII", "Q2TIPS", "QUIPSS")
"""The PASL bolus cut-offs (docs/physics.md §4.8; ``asldro.physics.bolus.CUT_OFF_TECHNIQUES``)."""
BOLUS_CUT_OFF_DEFAULT_TI1 = 0.8
"""s: TI1 of a bolus cut-off given without ``bolus_cut_off_delay_time`` (the PASL TI1 of the
ASL white paper, Alsop et al. 2015, as commonly cited)."""
Q2TIPS_DEFAULT_TI1S = 1.6
"""s: TI1s, the last saturation pulse, of a Q2TIPS cut-off given without times (the Siemens
PICORE Q2TIPS protocols' saturation stop time, as in the BIDS example asl003 [0.7, 1.6])."""


def default_bolus_cut_off_delay_time(technique: str) -> float | list[float]:
    """``bolus_cut_off_delay_time`` of ``technique`` when it is not given: TI1, or [TI1, TI1s]
    for Q2TIPS."""
    if technique == "Q2TIPS":
        return [BOLUS_CUT_OFF_DEFAULT_TI1, Q2TIPS_DEFAULT_TI1S]
    return BOLUS_CUT_OFF_DEFAULT_TI1


DISPERSION_TAG = "type"
DISPERSION_GAMMA_S = math.exp(2.0)
"""1/s: Fabber's prior of the gamma kernel's sharpness (log s = 2)."""
DISPERSION_GAMMA_P = math.exp(-0.3) / math.exp(2.0)
"""s: Fabber's prior of the gamma kernel's time to peak (log(s*p) = -0.3)."""
DISPERSION_GAUSS_SIGMA = math.exp(-1.6)
"""s: Fabber's prior of the Gaussian kernel's width (log sigma = -1.6, 0.2019 s)."""
DISPERSION = Variants(
    DISPERSION_TAG,
    (
        ("none", Record(())),
        (
            "gamma",
            Record(
                (
                    Field(
                        "s",
                        Number(exclusive_minimum=0),
                        "1/s",
                        "sharpness of the gamma kernel",
                        DISPERSION_GAMMA_S,
                    ),
                    Field(
                        "p",
                        NON_NEGATIVE,
                        "s",
                        "time to peak of the gamma kernel",
                        DISPERSION_GAMMA_P,
                    ),
                )
            ),
        ),
        (
            "gauss",
            Record(
                (
                    Field(
                        "sigma",
                        Number(exclusive_minimum=0),
                        "s",
                        "width of the Gaussian kernel",
                        DISPERSION_GAUSS_SIGMA,
                    ),
                )
            ),
        ),
    ),
)
"""The ``dispersion`` object: its ``type`` selects the kernel and its parameters (docs/physics.md
§4.10, ``asldro.physics.dispersion.Dispersion``); a parameter left out takes its default."""

SUPPRESSIBLE_TOKENS = DEVELOP_TOKENS
"""The volume types background suppression may be applied to (ASLDRO develop's
``apply_to_asl_context``; deltam and cbf volumes follow their control and label)."""

BACKGROUND_SUPPRESSION = Record(
    (
        Field(
            "sat_pulse_time",
            POSITIVE_SECONDS,
            "s",
            description="presaturation -> excitation of the reference slice (default 4 s: "
            "docs/physics.md §5.7 lists every default)",
        ),
        Field(
            "inv_pulse_times",
            Array(POSITIVE_SECONDS),
            "s",
            description="each inversion -> excitation, any order (used sorted by time); "
            "absent: optimised",
        ),
        Field(
            "pulse_efficiency",
            AnyOf(
                (Choice(("realistic", "ideal")), Number(minimum=-1, maximum=0)),
                '"realistic", "ideal" or a number in [-1, 0]',
            ),
            description="inversion efficiency: ideal (-1), realistic (Maleki 2012, per T1) or "
            "a number",
        ),
        Field(
            "t1_opt",
            Array(POSITIVE_SECONDS),
            "s",
            description="T1s the optimised times null (default: the ground truth's T1s)",
        ),
        Field(
            "sat_pulse_time_opt",
            POSITIVE_SECONDS,
            "s",
            description="time after the presaturation the optimisation nulls at (default "
            "sat_pulse_time; the times are shifted by the difference)",
        ),
        Field(
            "num_inv_pulses",
            Integer(exclusive_minimum=0),
            description="number of optimised inversions",
        ),
        Field(
            "apply_to_asl_context",
            Array(Choice(SUPPRESSIBLE_TOKENS)),
            description="volume types whose static signal is suppressed",
        ),
        Field(
            "alpha_bs_per_pulse",
            Number(exclusive_minimum=0, maximum=1),
            description="asldro: extra efficiency of each inversion on the label (Woods' "
            "alpha_BS loss per pulse); absent: none",
        ),
    )
)
"""ASLDRO develop's background-suppression object (MRImageTools' is a subset) and asldro's
``alpha_bs_per_pulse``; ``true`` stands for develop's defaults
(:func:`asldro.params.background.true_object`), the rules across keys are
:mod:`asldro.params.background`'s."""


SUBJECT_FIELDS: tuple[Field, ...] = (
    Field(
        "probseg",
        Record(
            (
                Field("folder", Text(min_length=1), description="A folder of probseg maps"),
                Field(
                    "convention",
                    Choice(PROBSEG_CONVENTIONS),
                    description="How the folder names its maps; absent: the one that matches",
                ),
                Field("participant", Text(min_length=1), description="BIDS: the sub- label"),
                Field("session", Text(min_length=1), description="BIDS: the ses- label"),
                Field("space", Text(min_length=1), description="BIDS: the space- label"),
                *(
                    Field(tissue, NIFTI_PATH, description=f"The {tissue} probability map")
                    for tissue in PROBSEG_TISSUES
                ),
            )
        ),
        description="Tissue probability maps: a folder (with a convention) or one file per "
        "tissue {GM, WM, CSF}",
    ),
    Field(
        "maps",
        Table(None, tuple(Field(name, NIFTI_PATH) for name in MAP_QUANTITIES)),
        description="Quantity maps {quantity: NIfTI path}, any grid in the same world space",
    ),
    Field(
        "values",
        Table(
            None,
            tuple(
                Field(
                    name,
                    Table(
                        None,
                        tuple(Field(tissue, quantity(name).kind) for tissue in VALUE_TISSUES),
                    ),
                )
                for name in MAP_QUANTITIES
            ),
        ),
        description="Per-tissue values {quantity: {tissue: value}} replacing the template's",
    ),
    Field(
        "template",
        Choice(BUILTIN_GROUND_TRUTHS),
        description="The built-in whose tissue values and scalar parameters are used",
        default=BUILTIN_GROUND_TRUTHS[0],
    ),
)
"""The keys of a subject-specific ground truth (:data:`SUBJECT_KEYS`)."""


# --------------------------------------------------------------------------------------------
# Lesions (issue 13 item 3; docs/physics.md §3.7): the kinds of global_configuration.lesions.

LESION_SHAPES = ("sphere", "ellipsoid", "mask")
"""The shapes of a lesion: a sphere or a (rotated) ellipsoid at world coordinates, or a mask."""
LESION_EDGES = ("sharp", "smooth")
"""How a lesion's membership falls from 1 to 0 at its surface (docs/physics.md §3.7)."""
LESION_DEFAULT_EDGE_WIDTH = 2.0
"""mm: the width of a smooth edge given without ``edge_width``."""
LESION_NAME = Text(
    pattern="^[A-Za-z][A-Za-z0-9]*$",
    means="a name of letters and digits starting with a letter (it becomes a BIDS label)",
)
LESION_SCALE = Record(
    (Field("scale", Number(minimum=0), description="factor applied to each tissue's value"),),
    required=("scale",),
)
LESION_VALUES = Table(
    AnyOf((OTHER_QUANTITY, LESION_SCALE)),
    tuple(
        Field(
            row.name,
            AnyOf(
                (row.kind, LESION_SCALE),
                f"a number (the value, {row.unit or 'no unit'}) or {{\"scale\": factor}}",
            ),
            row.unit,
        )
        for row in QUANTITIES
        if row.name != "seg_label"
    ),
)
"""``{quantity: value}`` inside a lesion: a number replaces every tissue's value, ``{"scale": s}``
multiplies it; any quantity of the ground truth but ``seg_label`` (the lesion's own ``label``)."""
WORLD_POINT_MM = Array(Number(), min_items=3, max_items=3)
_LESION_COMMON = (
    Field(
        "name",
        LESION_NAME,
        description="the lesion's name in desc-groundtruth_dseg.tsv "
        "(default lesion<n>, n its 1-based position)",
    ),
    Field(
        "label",
        Integer(minimum=1, maximum=65535),
        description="its label in the dseg (default: one above every label before it)",
    ),
    Field("values", LESION_VALUES, description="quantities inside the lesion", default={}),
)
_LESION_EDGE = (
    Field(
        "edge",
        Choice(LESION_EDGES),
        description="sharp (the exact partial coverage of each "
        "voxel) or smooth (a raised-cosine ramp centred on the surface)",
        default="sharp",
    ),
    Field(
        "edge_width",
        Number(exclusive_minimum=0),
        "mm",
        "width of a smooth edge (membership 1 to 0), centred on the surface",
        LESION_DEFAULT_EDGE_WIDTH,
    ),
)
LESION = Variants(
    "shape",
    (
        (
            "sphere",
            Record(
                (
                    *_LESION_COMMON,
                    Field("centre", WORLD_POINT_MM, "mm", "world coordinates of the centre"),
                    Field("radius", Number(exclusive_minimum=0), "mm", "radius"),
                    *_LESION_EDGE,
                ),
                required=("centre", "radius"),
            ),
        ),
        (
            "ellipsoid",
            Record(
                (
                    *_LESION_COMMON,
                    Field("centre", WORLD_POINT_MM, "mm", "world coordinates of the centre"),
                    Field(
                        "radii",
                        Array(Number(exclusive_minimum=0), min_items=3, max_items=3),
                        "mm",
                        "semi-axes along x, y, z before the rotation",
                    ),
                    Field(
                        "rotation",
                        Array(ANGLE_DEGREES, min_items=3, max_items=3),
                        "degrees",
                        "rotation [x, y, z] about the centre, applied as Rx·Ry·Rz (the motion "
                        "convention)",
                        [0.0, 0.0, 0.0],
                    ),
                    *_LESION_EDGE,
                ),
                required=("centre", "radii"),
            ),
        ),
        (
            "mask",
            Record(
                (
                    *_LESION_COMMON,
                    Field(
                        "mask",
                        NIFTI_PATH,
                        description="a 3-D NIfTI of any grid in the ground truth's world space, "
                        "values in [0, 1] (the membership); relative paths resolve against the "
                        "parameter file",
                    ),
                ),
                required=("mask",),
            ),
        ),
    ),
)
"""One lesion of ``global_configuration.lesions`` (docs/physics.md §3.7)."""


# --------------------------------------------------------------------------------------------
# Cohorts (issue 14 items 1-2; docs/cohort.md): the kinds of global_configuration.cohort.

COHORT_QUANTITIES = (
    "perfusion_rate",
    "transit_time",
    "t1",
    "t2",
    "t2_star",
    "m0_scale",
    "abv",
    "abat",
)
"""The per-tissue quantities a cohort draws, in column order: the ground truth's quantities of
those names, and ``m0_scale`` (a factor on the tissue's ``m0``)."""
COHORT_DISTRIBUTIONS = ("normal", "truncnormal", "uniform", "lognormal", "fixed")
"""The distributions of a drawn value (docs/cohort.md "Distributions")."""
COHORT_DEFAULT_SEED = 0
"""The ``seed`` of a cohort given without one (``--seed`` replaces it)."""
COHORT_LESION_DEFAULT_NAME = "cohortlesion"
"""The dseg name of the cohort's lesion given without ``name``."""
COHORT_MOTION_SCENARIOS = ("none", "jitter", "drift", "jumps")
"""The motion scenarios of a cohort (docs/cohort.md "Motion")."""
COHORT_DISTRIBUTION = Named(
    "cohort_distribution",
    Variants(
        DISTRIBUTION_TAG,
        (
            (
                "normal",
                Record(
                    (
                        Field("mean", Number(), description="mean"),
                        Field("sd", Number(minimum=0), description="standard deviation"),
                    ),
                    required=("mean", "sd"),
                ),
            ),
            (
                "truncnormal",
                Record(
                    (
                        Field("mean", Number(), description="mean of the parent normal"),
                        Field(
                            "sd",
                            Number(exclusive_minimum=0),
                            description="standard deviation of the parent normal",
                        ),
                        Field("min", Number(), description="lower bound (absent: none)"),
                        Field("max", Number(), description="upper bound (absent: none)"),
                    ),
                    required=("mean", "sd"),
                ),
            ),
            (
                "uniform",
                Record(
                    (
                        Field("min", Number(), description="lower bound"),
                        Field("max", Number(), description="upper bound (>= min)"),
                    ),
                    required=("min", "max"),
                ),
            ),
            (
                "lognormal",
                Record(
                    (
                        Field("mean", Number(exclusive_minimum=0), description="mean of the value"),
                        Field(
                            "sd", Number(minimum=0), description="standard deviation of the value"
                        ),
                    ),
                    required=("mean", "sd"),
                ),
            ),
            ("fixed", Record((Field("value", Number(), description="the value"),), ("value",))),
        ),
    ),
    "a distribution {distribution: normal (mean, sd), truncnormal (mean, sd, min, max), "
    "uniform (min, max), lognormal (mean, sd of the value) or fixed (value)}",
)
"""A drawn value: normal, truncated normal, uniform, log-normal (mean and SD of the value) or
fixed (:mod:`asldro.params.cohort`)."""
COHORT_NUMBER = AnyOf((Number(), COHORT_DISTRIBUTION), 'a number or a {"distribution": ...} object')
"""A number, or a distribution it is drawn from."""
COHORT_TISSUE = Table(None, tuple(Field(name, COHORT_DISTRIBUTION) for name in COHORT_QUANTITIES))
"""``{quantity: distribution}`` of one tissue."""
COHORT_TISSUES = Named(
    "cohort_tissues",
    Table(COHORT_TISSUE),
    "{tissue: {quantity: distribution}} (quantities perfusion_rate, transit_time, t1, t2, "
    "t2_star, m0_scale, abv, abat)",
)
"""``{tissue: {quantity: distribution}}``: tissues named as the ground truth's segmentation."""
PER_AXIS_SD = AnyOf(
    (Number(minimum=0), Array(Number(minimum=0), min_items=3, max_items=3)),
    "a number >= 0 (every axis) or [x, y, z]",
)
PER_AXIS_END = AnyOf(
    (Number(), Array(Number(), min_items=3, max_items=3), COHORT_DISTRIBUTION),
    'a number (every axis), [x, y, z] or a {"distribution": ...} drawn per axis',
)
_MOTION_SD = (
    Field("translation_sd", PER_AXIS_SD, "mm", "standard deviation of each translation", 0.0),
    Field("rotation_sd", PER_AXIS_SD, "degrees", "standard deviation of each rotation", 0.0),
)
COHORT_MOTION = Named(
    "cohort_motion",
    Variants(
        "scenario",
        (
            ("none", Record(())),
            ("jitter", Record(_MOTION_SD)),
            (
                "drift",
                Record(
                    (
                        Field(
                            "translation",
                            PER_AXIS_END,
                            "mm",
                            "translation reached at the last volume",
                            0.0,
                        ),
                        Field(
                            "rotation",
                            PER_AXIS_END,
                            "degrees",
                            "rotation reached at the last volume",
                            0.0,
                        ),
                    )
                ),
            ),
            (
                "jumps",
                Record(
                    (
                        Field(
                            "count",
                            Integer(minimum=0),
                            description="the number of jumps (at volumes drawn without repeats)",
                        ),
                        Field(
                            "rate",
                            Number(minimum=0, maximum=1),
                            description="the probability of a jump at each volume after the first",
                        ),
                        *(
                            Field(field.name, field.kind, field.unit, field.description + " step")
                            for field in _MOTION_SD
                        ),
                    )
                ),
            ),
        ),
    ),
    "a motion {scenario: none, jitter (translation_sd, rotation_sd), drift (translation, "
    "rotation) or jumps (count or rate, translation_sd, rotation_sd)}",
)
"""The motion of every asl volume, added to the series' own (docs/cohort.md "Motion")."""
COHORT_LESION_VALUES = Table(
    None,
    tuple(
        Field(
            row.name,
            AnyOf(
                (Number(), LESION_SCALE, COHORT_DISTRIBUTION),
                'a number (the value), {"scale": factor} or a {"distribution": ...} of the '
                "value",
            ),
            row.unit,
        )
        for row in QUANTITIES
        if row.name != "seg_label"
    ),
)
COHORT_LESION = Named(
    "cohort_lesion",
    Record(
        (
            Field(
                "probability",
                Number(minimum=0, maximum=1),
                description="the probability that a participant has the lesion",
            ),
            Field("shape", Choice(("sphere",)), description="the lesion's shape", default="sphere"),
            Field("radius", COHORT_NUMBER, "mm", "radius (> 0 when drawn)"),
            Field(
                "centre",
                Array(COHORT_NUMBER, min_items=3, max_items=3),
                "mm",
                "world coordinates of the centre, each a number or a distribution",
            ),
            Field(
                "name",
                LESION_NAME,
                description="the lesion's name in desc-groundtruth_dseg.tsv (default "
                f"{COHORT_LESION_DEFAULT_NAME})",
            ),
            Field(
                "label",
                Integer(minimum=1, maximum=65535),
                description="its label in the dseg (default: one above every label before it)",
            ),
            Field(
                "values",
                COHORT_LESION_VALUES,
                description="quantities inside the lesion",
                default={},
            ),
            *_LESION_EDGE,
        ),
        required=("probability", "radius", "centre"),
    ),
    "a lesion {probability, radius, centre, values, name, label, edge, edge_width}",
)
"""The cohort's lesion: present with ``probability``, a sphere of drawn radius and centre."""
COHORT_GROUP_NAME = Text(
    pattern="^[A-Za-z0-9][A-Za-z0-9_+]*$",
    means="letters, digits, _ and +, starting with a letter or digit",
)
COHORT_GROUP = Record(
    (
        Field("name", COHORT_GROUP_NAME, description="the group's name (participants.tsv)"),
        Field(
            "share",
            Number(minimum=0, maximum=1),
            description="the expected fraction of the participants in the group",
        ),
        Field(
            "participants",
            Array(
                Text(
                    pattern=f"^(sub-)?[{LABEL_CHARACTERS}]+$",
                    means="a participant label (letters, digits and +)",
                ),
                min_items=1,
            ),
            description="participant labels that are in the group",
        ),
        Field("tissues", COHORT_TISSUES, description="distributions replacing the cohort's"),
        Field("lesions", COHORT_LESION, description="the group's lesion instead of the cohort's"),
        Field("motion", COHORT_MOTION, description="the group's motion instead of the cohort's"),
    ),
    required=("name",),
)
COHORT_SESSION_LABEL = Text(
    pattern=f"^(ses-)?[{LABEL_CHARACTERS}]+$", means="a BIDS session label (letters, digits, +)"
)
COHORT = Record(
    (
        Field(
            "seed",
            Integer(minimum=0),
            description="seed of every draw (--seed replaces it)",
            default=COHORT_DEFAULT_SEED,
        ),
        Field("tissues", COHORT_TISSUES, description="{tissue: {quantity: distribution}}"),
        Field("groups", Array(COHORT_GROUP, min_items=1), description="the groups"),
        Field("motion", COHORT_MOTION, description="the motion scenario of the asl series"),
        Field("lesions", COHORT_LESION, description="a lesion some participants have"),
        Field(
            "sessions",
            AnyOf(
                (Integer(minimum=1), Array(COHORT_SESSION_LABEL, min_items=1)),
                "a count >= 1 or a list of session labels",
            ),
            description="test-retest sessions: a count (labels 1..n) or a list of labels",
        ),
    )
)
"""``global_configuration.cohort`` (docs/cohort.md)."""


# --------------------------------------------------------------------------------------------
# The catalog. Row order is the order of the resolved file (and of defaults.json).

GLOBAL_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "ground_truth",
        (GLOBAL,),
        AnyOf(
            (
                Text(min_length=1),
                Record(
                    tuple(
                        Field(key, kind)
                        for keys in GROUND_TRUTH_FILE_KEYS
                        for key, kind in zip(keys, (NIFTI_PATH, JSON_PATH))
                    )
                    + SUBJECT_FIELDS
                ),
            ),
            'a built-in name, a .nii/.nii.gz path, {"nii": path, "json": path}, '
            '{"nii_file": path, "json_file": path} or {"probseg": ..., "maps": ...}',
        ),
        "",
        "hrgt_icbm_2009a_nls_3t",
        "A built-in name, a path to an ASLDRO-format 5-D .nii/.nii.gz with its .json beside it, "
        '{"nii": path, "json": path} (ASLDRO) or {"nii_file": path, "json_file": path} '
        "(MRImageTools; exactly one of the two forms), or a subject-specific ground truth "
        '{"probseg": ..., "maps": ..., "values": ..., "template": ...} built from tissue '
        "probability maps (docs/physics.md §3.6); relative paths resolve against the "
        "parameter file",
        required=True,
    ),
    Parameter(
        "tissue_model",
        (GLOBAL,),
        Choice(TISSUE_MODELS),
        "",
        NO_DEFAULT,
        "How each 1 mm voxel of a built-in ground truth is made of tissues: partial_volume "
        "(GM, WM and CSF fractions from the ICBM 2009a probability maps, each voxel's signal "
        f"the fraction-weighted sum of the tissue signals; the default, {DEFAULT_TISSUE_MODEL}, "
        "for a built-in) or single_label (one tissue per voxel, the output of asldro before "
        "issue 13); an ASLDRO-format file is single-label (partial_volume is refused for it)",
        origin="asldro",
    ),
    Parameter(
        "image_override",
        (GLOBAL,),
        Table(OTHER_QUANTITY, QUANTITIES),
        "",
        {},
        "Ground-truth quantities replaced by one value everywhere, {quantity: value}",
    ),
    Parameter(
        "parameter_override",
        (GLOBAL,),
        Table(None, SCALAR_PARAMETERS),
        "",
        {},
        "Ground-truth scalar parameters replaced, {name: value} (lambda_blood_brain, "
        "t1_arterial_blood, magnetic_field_strength)",
    ),
    Parameter(
        "ground_truth_modulate",
        (GLOBAL,),
        Table(Record((Field("scale", Number()), Field("offset", Number())))),
        "",
        {},
        "Ground-truth quantities rescaled, {quantity: {scale, offset}}: y = scale * x + offset",
        in_defaults_file=False,
    ),
    Parameter(
        "lesions",
        (GLOBAL,),
        Array(LESION),
        "",
        NO_DEFAULT,
        "Lesions inserted into the ground truth, in order (a later one wins where they "
        "overlap): each a sphere {centre, radius}, an ellipsoid {centre, radii, rotation} (world "
        "mm) or a mask NIfTI, with its name, dseg label, values ({quantity: value or "
        '{"scale": s}}) and edge (sharp or smooth); docs/physics.md §3.7',
        origin="asldro",
    ),
    Parameter(
        "cohort",
        (GLOBAL,),
        COHORT,
        "",
        NO_DEFAULT,
        "A cohort: per-participant physiology drawn from distributions ({seed, tissues: "
        "{tissue: {quantity: distribution}}, groups, motion, lesions, sessions}); every draw "
        "from streams of (seed, participant label), recorded in code/provenance and "
        "participants.tsv; docs/cohort.md",
        origin="asldro",
    ),
    Parameter(
        "subject_label",
        (GLOBAL,),
        Text(
            pattern=f"^[{LABEL_CHARACTERS}-]+$",
            means="a BIDS label (letters, digits and +; a - is removed with a warning)",
        ),
        "",
        NO_DEFAULT,
        "The participant label when the command line gives none (ASLDRO develop; without it and "
        "without --participant-label: 01); a - is not allowed in a BIDS label and is removed "
        "with a warning; --participant-label wins",
        origin="ASLDRO develop",
    ),
)

ASL_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        CONTEXT_KEY,
        ASL,
        Tokens(ASL_TOKENS),
        "",
        "m0scan control label",
        "Volume types in acquisition order, space-separated: m0scan, control, label, and the "
        "BIDS vendor types deltam (|control| - |label|), cbf (a white-paper CBF map) and noRF "
        "(noise, no RF excitation)",
    ),
    Parameter(
        "label_type",
        ASL,
        Choice(("casl", "pcasl", "pasl")),
        "",
        "pcasl",
        "Labelling scheme",
        bids=Bids("ArterialSpinLabelingType", ("asl",), table="asl_label_types"),
    ),
    Parameter(
        "label_duration",
        ASL,
        per_phase(SECONDS_0_100),
        "s",
        1.8,
        "Label duration tau (PASL: the natural bolus width, which a bolus cut-off may shorten); "
        "a list gives one per phase (variable labelling duration; (p)CASL only), a number is "
        "used in every phase",
        PerVolume.PER_PHASE,
        origin="ASLDRO 2.x; lists: asldro",
    ),
    Parameter(
        "signal_time",
        ASL,
        per_phase(SECONDS_0_100),
        "s",
        3.6,
        "Time from the start of labelling to the excitation; (p)CASL PLD = signal_time - "
        "label_duration >= 0, PASL TI = signal_time; a list gives one per phase (multi-PLD: "
        "every asl_context token is acquired in each phase, phases outer)",
        PerVolume.PER_PHASE,
        origin="ASLDRO 2.x; lists: ASLDRO develop",
    ),
    Parameter(
        "m0scan_phases",
        ASL,
        Choice(("all", "first")),
        "",
        "all",
        "Phases in which the m0scan tokens of asl_context are acquired: all (ASLDRO develop), "
        "or first (one M0 for the whole multi-PLD series)",
        origin="asldro",
        resolved_when_absent=False,
    ),
    Parameter(
        "label_efficiency",
        ASL,
        Number(minimum=0, maximum=1),
        "",
        0.85,
        "Labelling efficiency alpha",
        bids=Bids("LabelingEfficiency", ("asl",)),
    ),
    Parameter(
        "lambda_blood_brain",
        ASL,
        scalar_parameter("lambda_blood_brain").kind,
        scalar_parameter("lambda_blood_brain").unit,
        NO_DEFAULT,
        "Per-series blood-brain partition coefficient (replaces the ground truth's, D8)",
    ),
    Parameter(
        "t1_arterial_blood",
        ASL,
        scalar_parameter("t1_arterial_blood").kind,
        scalar_parameter("t1_arterial_blood").unit,
        NO_DEFAULT,
        "Per-series arterial blood T1 (replaces the ground truth's, D8)",
    ),
    Parameter(
        "m0",
        ASL,
        quantity("m0").kind,
        quantity("m0").unit,
        NO_DEFAULT,
        "Per-series uniform M0 (replaces the ground-truth M0 map, D8)",
    ),
    Parameter(
        "echo_time",
        ASL,
        per_token(POSITIVE_SECONDS, per_context(POSITIVE_SECONDS), objects_text=_CONTEXT_TEXT),
        "s",
        0.01,
        "Echo time (> 0)" + _PER_TOKEN_NOTE + _PER_CONTEXT_NOTE,
        PerVolume.PER_TOKEN,
        Bids("EchoTime", ASL_SIDECARS, Collapse.SCALAR_OR_LIST),
    ),
    Parameter(
        "repetition_time",
        ASL,
        per_token(POSITIVE_SECONDS, per_context(POSITIVE_SECONDS), objects_text=_CONTEXT_TEXT),
        "s",
        {"m0scan": 10.0, "control": 5.0, "label": 5.0, "deltam": 5.0, "cbf": 5.0, "noRF": 5.0},
        "Repetition time, >= echo_time (+ inversion_time for ir)"
        + _PER_TOKEN_NOTE
        + _PER_CONTEXT_NOTE
        + " (default 10 s for m0scan, 5 s for control, label, deltam, cbf and noRF)",
        PerVolume.PER_TOKEN,
        Bids("RepetitionTimePreparation", ASL_SIDECARS, Collapse.SCALAR_OR_LIST),
    ),
    *_motion("asl", "zyx"),
    _acq_matrix("asl", [64, 64, 12]),
    _acq_contrast("asl"),
    _desired_snr("asl", 100.0),
    _random_seed("asl"),
    *_inversion_rows("asl"),
    _interpolation("asl"),
    Parameter(
        "output_image_type",
        ASL,
        IMAGE_TYPE,
        "",
        "magnitude",
        "magnitude, or complex (written as part-mag and part-phase asl files sharing one "
        "aslcontext, as BIDS allows)",
        origin="ASLDRO develop",
        resolved_when_absent=False,
    ),
    Parameter(
        "gkm_model",
        ASL,
        Choice(("full", "whitepaper", "consensus")),
        "",
        "full",
        "Kinetic model of the tissue signal: full (Buxton 1998, docs/physics.md §4.3-§4.5), "
        "whitepaper (ASLDRO develop: 0 until the bolus has fully arrived, §4.7.1) or consensus "
        "(Woods 2024 Eq. 2-3, §4.7.2); whitepaper and consensus use no tissue T1",
        origin="ASLDRO develop",
        resolved_when_absent=False,
    ),
    Parameter(
        "bolus_cut_off_technique",
        ASL,
        Choice(BOLUS_CUT_OFF_TECHNIQUES),
        "",
        NO_DEFAULT,
        "PASL only: the bolus cut-off (docs/physics.md §4.8): QUIPSSII or Q2TIPS cut the bolus to "
        "min(TI1, label_duration), QUIPSS saturates the imaging slab at TI1; absent: none (the "
        "bolus width is label_duration, BolusCutOffFlag false)",
        bids=Bids("BolusCutOffTechnique", ("asl",), when="bolus_cut_off"),
        origin="asldro",
        resolved_when_absent=False,
    ),
    Parameter(
        "bolus_cut_off_delay_time",
        ASL,
        AnyOf(
            (POSITIVE_SECONDS, Array(POSITIVE_SECONDS, min_items=2, max_items=2)),
            "a number (TI1) or a list [TI1, TI1s] (Q2TIPS)",
        ),
        "s",
        NO_DEFAULT,
        "With bolus_cut_off_technique: TI1, the time from labelling to the (first) saturation "
        "pulse; [TI1, TI1s] (first and last pulse, TI1 <= TI1s) for Q2TIPS; written as "
        f"BolusCutOffDelayTime; default {BOLUS_CUT_OFF_DEFAULT_TI1} (Q2TIPS "
        f"[{BOLUS_CUT_OFF_DEFAULT_TI1}, {Q2TIPS_DEFAULT_TI1S}])",
        origin="asldro",
        resolved_when_absent=False,
    ),
    Parameter(
        "dispersion",
        ASL,
        DISPERSION,
        "",
        NO_DEFAULT,
        "Bolus dispersion of the full model and the arterial component (docs/physics.md "
        "§4.10): {type: none}, {type: gamma, s (1/s), p (s)} (Chappell 2013) or {type: gauss, "
        "sigma (s)} (Hrabe & Lewis 2004); parameters left out take Fabber's priors s = e^2, "
        "p = e^-0.3/e^2, sigma = e^-1.6; absent: none; gkm_model full only",
        origin="asldro",
        resolved_when_absent=False,
    ),
    Parameter(
        "vascular_crushing",
        ASL,
        Boolean(),
        "",
        False,
        "Vascular crushing gradients: true removes the arterial component (abv of the ground "
        "truth) from the signal; written as VascularCrushing",
        bids=Bids("VascularCrushing", ("asl",)),
        origin="asldro",
        resolved_when_absent=False,
    ),
    Parameter(
        "background_suppression",
        ASL,
        AnyOf(
            (Boolean(), BACKGROUND_SUPPRESSION),
            "true, false or a background-suppression object",
        ),
        "",
        False,
        "Background suppression (ASLDRO develop): false (none, ASLDRO 2.2.0), true (a "
        "presaturation 4 s and 4 inversions optimised for the ground truth's T1s) or the object "
        "of pulse times (s before the excitation); docs/physics.md §5.7",
        origin="ASLDRO develop",
        resolved_when_absent=False,
    ),
    Parameter(
        "mr_acq_type",
        ASL,
        Choice(slices.ACQUISITION_TYPES),
        "",
        slices.THREE_D,
        "Readout: 3D (the whole volume excited at once, ASLDRO 2.2.0) or 2D multi-slice (slice k "
        "of acq_matrix[2] excited at signal_time + SliceTiming[k], docs/physics.md §6.8)",
        bids=Bids("MRAcquisitionType", ASL_SIDECARS),
        origin="asldro",
        resolved_when_absent=False,
    ),
    # slice_timing has no default, so it is never resolved when absent (the flag is moot)
    Parameter(
        "slice_timing",
        ASL,
        Array(Number(minimum=0, maximum=100), min_items=1),
        "s",
        NO_DEFAULT,
        "2D: the excitation time of each slice of acq_matrix[2] (in slice order along k) after "
        "the first acquired slice: one per slice, the earliest 0, each below the shortest "
        "repetition_time; not with slice_readout_time or slice_order",
        origin="asldro",
    ),
    Parameter(
        "slice_readout_time",
        ASL,
        Number(exclusive_minimum=0, maximum=100),
        "s",
        slices.DEFAULT_SLICE_READOUT_TIME,
        "2D without slice_timing: the time between two slice excitations (default 0.035 s, "
        "within the 30-50 ms typical of 2D EPI)",
        origin="asldro",
        resolved_when_absent=False,
    ),
    Parameter(
        "slice_order",
        ASL,
        Choice(slices.SLICE_ORDERS),
        "",
        slices.SLICE_ORDERS[0],
        "2D without slice_timing: the excitation order within a band: ascending (0, 1, 2, ...), "
        "descending, or interleaved (0, 2, 4, ... then 1, 3, 5, ...: 1-based odd then even)",
        origin="asldro",
        resolved_when_absent=False,
    ),
    Parameter(
        "multiband_factor",
        ASL,
        Integer(minimum=1),
        "",
        1,
        "2D: slices excited at once (simultaneous multi-slice); divides acq_matrix[2] into that "
        "many bands whose slice times repeat (MultibandAccelerationFactor when > 1)",
        origin="asldro",
        resolved_when_absent=False,
    ),
)

GROUND_TRUTH_PARAMETERS: tuple[Parameter, ...] = (
    *_motion("ground_truth", "xyz"),
    _acq_matrix("ground_truth", [64, 64, 12]),
    Parameter(
        "interpolation",
        GROUND_TRUTH,
        Array(INTERPOLATION, min_items=2, max_items=2),
        "",
        NO_DEFAULT,
        "ASLDRO develop's interpolation of every quantity but seg_label, then of seg_label"
        + _INTERPOLATION_NOTE,
        origin="ASLDRO develop",
    ),
)

STRUCTURAL_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "echo_time",
        STRUCTURAL,
        POSITIVE_SECONDS,
        "s",
        0.005,
        "Echo time (> 0)",
        bids=Bids("EchoTime", STRUCTURAL),
    ),
    Parameter(
        "repetition_time",
        STRUCTURAL,
        POSITIVE_SECONDS,
        "s",
        0.3,
        "Repetition time, >= echo_time (+ inversion_time for ir)",
        bids=Bids("RepetitionTime", STRUCTURAL),
    ),
    *_motion("structural", "xyz"),
    _acq_matrix("structural", [197, 233, 189]),
    _acq_contrast("structural"),
    *_inversion_rows("structural"),
    _desired_snr("structural", 50.0),
    _random_seed("structural"),
    Parameter(
        "output_image_type",
        STRUCTURAL,
        IMAGE_TYPE,
        "",
        "magnitude",
        "magnitude, or complex (written as part-mag and part-phase)",
    ),
    Parameter(
        "modality",
        STRUCTURAL,
        Choice(STRUCTURAL_MODALITIES),
        "",
        "T1w",
        "BIDS suffix of the image (names it only; the contrast comes from acq_contrast); "
        "ASLDRO's anat (its default) is written as T1w with a warning; ASLDRO develop's PDw, "
        "T2starw, inplaneT1, inplaneT2, UNIT1 (a BIDS parametric map: magnitude only) and PDT2 "
        "(refused: BIDS's PDT2 is a two-volume image, a structural series one volume)",
    ),
    _interpolation("structural"),
)

PARAMETERS: tuple[Parameter, ...] = (
    *GLOBAL_PARAMETERS,
    *ASL_PARAMETERS,
    *GROUND_TRUTH_PARAMETERS,
    *STRUCTURAL_PARAMETERS,
)
"""Every parameter, in the order of the resolved file."""


# --------------------------------------------------------------------------------------------
# The document: how the rows make a parameter file (docs/physics.md §2.1).

DEFAULTS_FILE_SERIES = ("asl", "ground_truth", "structural")
"""The series of the defaults file, in its order (docs/physics.md §2.5)."""


def default_description(series_type: str) -> str:
    """The ``series_description`` of a series that gives none: ``"user description for
    <series_type>"`` (docs/physics.md §2.5, D9)."""
    return f"user description for {series_type}"


def defaults_file_global() -> dict[str, Any]:
    """The ``global_configuration`` of the defaults file (docs/physics.md §2.5, D19): the ground
    truth by name, empty ``image_override`` and ``parameter_override`` (a fresh copy)."""
    return {
        row.name: copy.deepcopy(row.default)
        for row in GLOBAL_PARAMETERS
        if row.in_defaults_file and row.default is not NO_DEFAULT
    }


def series_record(series_type: str, rows: tuple[Parameter, ...] = PARAMETERS) -> Record:
    """The ``series_parameters`` of ``series_type`` (or the ``global_configuration``) made of
    ``rows``: every key optional except the required ones."""
    mine = [row for row in rows if series_type in row.series]
    return Record(
        tuple(row.field() for row in mine), tuple(row.name for row in mine if row.required)
    )


def document_kind(rows: tuple[Parameter, ...] = PARAMETERS) -> Record:
    """The kind of a whole parameter file made of ``rows`` (the catalog's, or a test's): the
    generated ``schema.json`` is its schema."""
    series = Tagged(
        "series_type",
        "series_parameters",
        tuple(
            (
                kind,
                Named(
                    f"{kind}_parameters",
                    series_record(kind, rows),
                    f"series_parameters of a {kind} series",
                ),
            )
            for kind in SERIES_TYPES
        ),
        (
            Field(
                "series_description",
                Text(),
                description="Free text; default: 'user description for <series_type>'",
            ),
        ),
    )
    return Record(
        (
            Field(
                "global_configuration",
                Named("global_configuration", series_record(GLOBAL, rows), "global_configuration"),
            ),
            Field(
                "image_series",
                Array(Named("series", series, "An image_series entry")),
                description="The series to simulate, in order (may be empty)",
            ),
        ),
        required=("global_configuration", "image_series"),
    )


DOCUMENT = document_kind()
"""The kind of a parameter file (:func:`document_kind` of the catalog)."""


DERIVED: tuple[Derived, ...] = (
    Derived(
        "PostLabelingDelay",
        ("asl",),
        "post_labeling_delay",
        "signal_time - label_duration for (p)CASL; signal_time (the inversion time TI) for "
        "PASL; rounded to 1e-9 s; a scalar when every control/label (deltam, cbf) volume has "
        "the same, else one per volume with 0 for m0scan and noRF volumes",
    ),
    Derived(
        "LabelingDuration",
        ("asl",),
        "labeling_duration",
        "label_duration, a float, rounded to 1e-9 s; a scalar when every control/label volume "
        "has the same, else one per volume with 0 for m0scan and noRF volumes",
        when="not_pasl",
    ),
    Derived(
        "M0Type",
        ("asl",),
        "m0_type",
        "Included (m0scan volumes in the series), Separate (an m0scan file), Absent (only cbf "
        "and noRF volumes: no M0 needed), Estimate (uniform ground-truth M0, with M0Estimate = "
        "that M0 times the readout decay of the perfusion volumes' echo), else Absent",
    ),
    Derived(
        "TotalAcquiredPairs",
        ("asl",),
        "total_acquired_pairs",
        "number of control-label pairs over all phases (label-only or control-only: the number "
        "of those volumes; without control and label: the number of deltam, else cbf, volumes)",
    ),
    Derived(
        "Units",
        ("asl",),
        "units",
        "mL/100g/min, the unit of the cbf volumes (BIDS requires Units with cbf rows)",
        when="cbf_volumes",
    ),
    Derived(
        "MagneticFieldStrength",
        SEQUENCE_SIDECARS,
        "magnetic_field_strength",
        "the ground truth's magnetic_field_strength after parameter_override",
    ),
    Derived(
        "AcquisitionVoxelSize",
        SEQUENCE_SIDECARS,
        "acquisition_voxel_size",
        "field of view of the ground truth / acq_matrix, mm",
    ),
    Derived(
        "BolusCutOffFlag",
        ("asl",),
        "bolus_cut_off_flag",
        "PASL: true when bolus_cut_off_technique is given, else false",
        when="pasl",
    ),
    Derived(
        "SliceTiming",
        ASL_SIDECARS,
        "slice_timing",
        "2D: the excitation time of each slice along k after the first acquired slice (s, "
        "slice_timing or made from slice_readout_time, slice_order and multiband_factor); "
        "never for 3D (ASLPrep shifts the delays whenever it is present)",
        when="two_d",
    ),
    Derived(
        "MultibandAccelerationFactor",
        ASL_SIDECARS,
        "multiband_acceleration_factor",
        "2D: multiband_factor, when > 1",
        when="multiband",
    ),
    Derived(
        "BackgroundSuppression",
        ("asl",),
        "background_suppression",
        "true when background_suppression is true or an object, else false",
    ),
    Derived(
        "BackgroundSuppressionNumberPulses",
        ("asl",),
        "background_suppression_number_pulses",
        "the inversions after the start of labelling of the first PLD (the presaturation and "
        "pulses before the labelling excluded, as BIDS says)",
        when="background_suppression",
    ),
    Derived(
        "BackgroundSuppressionPulseTime",
        ("asl",),
        "background_suppression_pulse_time",
        "time of each of those inversions after the start of labelling (PASL: the labelling "
        "pulse) for the first PLD, s, sorted, rounded to 1e-9 s (docs/physics.md (5.14))",
        when="background_suppression",
    ),
    Derived(
        "BolusCutOffDelayTime",
        ("asl",),
        "bolus_cut_off_delay_time",
        "PASL with a bolus cut-off: TI1, or [TI1, TI1s] for Q2TIPS (bolus_cut_off_delay_time), "
        "rounded to 1e-9 s",
        when="bolus_cut_off",
    ),
)
"""BIDS fields computed from several parameters (the rule functions are in
:mod:`asldro.bids.derived`)."""


FIXED: tuple[Fixed, ...] = (
    Fixed("MRAcquisitionType", STRUCTURAL, "3D", "3-D acquisitions (asl: mr_acq_type)"),
    Fixed("SequenceVariant", ("structural",), "NONE", "no sequence variant"),
)
"""BIDS fields whose value asldro does not (yet) vary."""


SIDECAR_FIELDS: Mapping[str, tuple[str, ...]] = {
    "asl": (
        "ArterialSpinLabelingType",
        "PostLabelingDelay",
        "BackgroundSuppression",
        "BackgroundSuppressionNumberPulses",
        "BackgroundSuppressionPulseTime",
        "M0Type",
        "TotalAcquiredPairs",
        "RepetitionTimePreparation",
        "MagneticFieldStrength",
        "MRAcquisitionType",
        "SliceTiming",
        "MultibandAccelerationFactor",
        "ScanningSequence",
        "EchoTime",
        "FlipAngle",
        "InversionTime",
        "AcquisitionVoxelSize",
        "VascularCrushing",
        "LabelingEfficiency",
        "BolusCutOffFlag",
        "BolusCutOffTechnique",
        "BolusCutOffDelayTime",
        "LabelingDuration",
        "Units",
    ),
    "m0scan": (
        "RepetitionTimePreparation",
        "MagneticFieldStrength",
        "MRAcquisitionType",
        "SliceTiming",
        "MultibandAccelerationFactor",
        "ScanningSequence",
        "EchoTime",
        "FlipAngle",
        "InversionTime",
        "AcquisitionVoxelSize",
    ),
    "structural": (
        "MagneticFieldStrength",
        "MRAcquisitionType",
        "ScanningSequence",
        "EchoTime",
        "FlipAngle",
        "InversionTime",
        "AcquisitionVoxelSize",
        "RepetitionTime",
        "SequenceVariant",
    ),
}
"""The order of the fields in each sidecar (a field is written when its row's condition holds).
``M0Type`` brings ``M0Estimate`` with it; the ``contrasts`` table brings ``PulseSequenceType``
after ``ScanningSequence``; ``IntendedFor`` (m0scan) and ``DROSoftware`` are added by the writer."""


# --------------------------------------------------------------------------------------------
# Look-ups


def parameters(series_type: str) -> Mapping[str, Parameter]:
    """The rows of ``series_type`` (or :data:`GLOBAL`), keyed by name, in catalog order."""
    if series_type not in (*SERIES_TYPES, GLOBAL):
        raise KeyError(f"unknown series type {series_type!r}")
    return {row.name: row for row in PARAMETERS if series_type in row.series}


def bids_rows(sidecar: str) -> Mapping[str, Parameter | Derived | Fixed]:
    """Every row that writes a field of ``sidecar`` (``asl``, ``m0scan``, ``structural``), keyed
    by BIDS field; the rows of a series type come from that series' parameters."""
    series_type = "asl" if sidecar in ("asl", "m0scan") else sidecar
    out: dict[str, Parameter | Derived | Fixed] = {}
    for row in parameters(series_type).values():
        if row.bids is not None and sidecar in row.bids.sidecars:
            out[row.bids.field] = row
    extras: tuple[Derived | Fixed, ...] = (*DERIVED, *FIXED)
    for extra in extras:
        if sidecar in extra.sidecars:
            out[extra.field] = extra
    return out
