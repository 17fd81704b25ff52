"""Every parameter of the parameter file, stated once (DESIGN.md "Facts in one place").

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

Units: s, mm, degrees, T. Kinds map to JSON Schema Draft 2020-12 (:meth:`Kind.schema`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Mapping, Union

SERIES_TYPES = ("asl", "structural", "ground_truth")
GLOBAL = "global_configuration"
ASL_TOKENS = ("m0scan", "control", "label")


# --------------------------------------------------------------------------------------------
# Kinds: what a value may be. Each knows its JSON Schema; nothing else is needed to validate.


@dataclass(frozen=True)
class Number:
    """A finite number (ints accepted and stored as float; booleans refused)."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return _bounded({"type": "number"}, self)


@dataclass(frozen=True)
class Integer:
    """A whole number (a float such as 3.0 is refused; booleans refused)."""

    minimum: int | None = None
    maximum: int | None = None
    exclusive_minimum: int | None = None
    exclusive_maximum: int | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return _bounded({"type": "integer"}, self)


@dataclass(frozen=True)
class Boolean:
    """``true`` or ``false`` (not ``"yes"``, not 0/1)."""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice:
    """One of ``values``; the input may use any case, the canonical spelling is stored (D10)."""

    values: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return {"type": "string", "enum": list(self.values)}


@dataclass(frozen=True)
class Text:
    """A string, optionally matching ``pattern`` (a regular expression, searched)."""

    pattern: str | None = None
    min_length: int | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        out: dict[str, Any] = {"type": "string"}
        if self.min_length is not None:
            out["minLength"] = self.min_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out


@dataclass(frozen=True)
class Tokens:
    """Space-separated tokens from ``tokens`` (any case on input), exactly one space between."""

    tokens: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        alternatives = "|".join(self.tokens)
        return {"type": "string", "pattern": f"^({alternatives})( ({alternatives}))*$"}


@dataclass(frozen=True)
class Array:
    """A list of ``item`` values."""

    item: "Kind"
    min_items: int | None = None
    max_items: int | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        out: dict[str, Any] = {"type": "array"}
        if self.min_items is not None:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        out["items"] = self.item.schema()
        return out


@dataclass(frozen=True)
class Table:
    """An object ``{name: value}``; ``names`` (when given) are the only names allowed."""

    value: "Kind"
    names: tuple[str, ...] | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        if self.names is None:
            return {
                "type": "object",
                "propertyNames": {"minLength": 1},
                "additionalProperties": self.value.schema(),
            }
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: self.value.schema() for name in self.names},
        }


@dataclass(frozen=True)
class Record:
    """An object with a fixed set of optional keys (``required`` must be present)."""

    fields: tuple[tuple[str, "Kind"], ...]
    required: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        out: dict[str, Any] = {"type": "object"}
        if self.required:
            out["required"] = list(self.required)
        out["additionalProperties"] = False
        out["properties"] = {name: kind.schema() for name, kind in self.fields}
        return out


@dataclass(frozen=True)
class AnyOf:
    """One of several kinds (e.g. a number or a list of numbers)."""

    options: tuple["Kind", ...]

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return {"anyOf": [option.schema() for option in self.options]}


Kind = Union[Number, Integer, Boolean, Choice, Text, Tokens, Array, Table, Record, AnyOf]

_BOUNDS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("exclusive_minimum", "exclusiveMinimum"),
    ("exclusive_maximum", "exclusiveMaximum"),
)


def _bounded(out: dict[str, Any], kind: Number | Integer) -> dict[str, Any]:
    for attribute, keyword in _BOUNDS:
        bound = getattr(kind, attribute)
        if bound is not None:
            out[keyword] = bound
    return out


# --------------------------------------------------------------------------------------------
# Per-volume policy and the BIDS mapping


class PerVolume(enum.Enum):
    """How a parameter relates to the volumes of an asl series."""

    SCALAR = "scalar"
    """One value for the series."""
    PER_TOKEN = "per-token"
    """A number for every volume, or one per ``asl_context`` token; resolved as one per token
    (ASLDRO 2.x's array form, so the resolved file stays ASLDRO-2.x-loadable)."""


class Collapse(enum.Enum):
    """How a parameter's values become a sidecar field."""

    VALUE = "value"
    """The value as it is (a float for numbers)."""
    SCALAR_OR_LIST = "scalar-or-list"
    """One value per volume; a scalar when all volumes share it (bids-asl.md §6)."""


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


NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()
"""The default of a parameter that is absent from the resolved file unless given."""


@dataclass(frozen=True)
class Parameter:
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


def per_token(element: Kind) -> AnyOf:
    """A number for all volumes, or a non-empty list with one per ``asl_context`` token."""
    return AnyOf((element, Array(element, min_items=1)))


ASL = ("asl",)
STRUCTURAL = ("structural",)
GROUND_TRUTH = ("ground_truth",)
SEQUENCE_SIDECARS = ("asl", "m0scan", "structural")
ASL_SIDECARS = ("asl", "m0scan")
_PER_TOKEN_NOTE = "; one per asl_context token or one number for all"

# Rows that several series types share are made by one function each (the fact is stated once;
# each series type gets its own row so that its keys keep ASLDRO's order in the resolved file).


def _motion(series: str, axes: str) -> tuple[Parameter, ...]:
    """The rigid-motion keys in the order ``axes`` names them (``zyx`` or ``xyz`` rotations):
    per token for asl, one value for the other series (applied as T·Rx·Ry·Rz about the world
    origin, physics.md §6)."""
    per_volume = PerVolume.PER_TOKEN if series == "asl" else PerVolume.SCALAR
    note = _PER_TOKEN_NOTE if series == "asl" else ""
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
                    per_token(kind) if series == "asl" else kind,
                    unit,
                    0.0,
                    f"{words} {axis}, {unit}{note}",
                    per_volume,
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
                    (("nii", Text(pattern=r"\.nii(\.gz)?$")), ("json", Text(pattern=r"\.json$"))),
                    required=("nii", "json"),
                ),
            )
        ),
        "",
        "hrgt_icbm_2009a_nls_3t",
        "A built-in name, a path to an ASLDRO-format 5-D .nii/.nii.gz with its .json beside it, "
        'or {"nii": path, "json": path}; relative paths resolve against the parameter file',
    ),
    Parameter(
        "image_override",
        (GLOBAL,),
        Table(Number()),
        "",
        {},
        "Ground-truth quantities replaced by one value everywhere, {quantity: value}",
    ),
    Parameter(
        "parameter_override",
        (GLOBAL,),
        Table(Number()),
        "",
        {},
        "Ground-truth scalar parameters replaced, {name: value} (lambda_blood_brain, "
        "t1_arterial_blood, magnetic_field_strength)",
    ),
    Parameter(
        "ground_truth_modulate",
        (GLOBAL,),
        Table(Record((("scale", Number()), ("offset", Number())))),
        "",
        NO_DEFAULT,
        "Ground-truth quantities rescaled, {quantity: {scale, offset}}: y = scale * x + offset",
    ),
)

ASL_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "asl_context",
        ASL,
        Tokens(ASL_TOKENS),
        "",
        "m0scan control label",
        "Volume types in acquisition order, space-separated (m0scan, control, label)",
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
        SECONDS_0_100,
        "s",
        1.8,
        "Label duration tau (PASL: the bolus width, written as BolusCutOffDelayTime)",
        bids=Bids("LabelingDuration", ("asl",), when="not_pasl"),
    ),
    Parameter(
        "signal_time",
        ASL,
        SECONDS_0_100,
        "s",
        3.6,
        "Time from the start of labelling to the excitation; (p)CASL PLD = signal_time - "
        "label_duration >= 0, PASL TI = signal_time",
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
        Number(exclusive_minimum=0, maximum=1),
        "mL/g",
        NO_DEFAULT,
        "Per-series blood-brain partition coefficient (replaces the ground truth's, D8)",
    ),
    Parameter(
        "t1_arterial_blood",
        ASL,
        Number(exclusive_minimum=0, maximum=100),
        "s",
        NO_DEFAULT,
        "Per-series arterial blood T1 (replaces the ground truth's, D8)",
    ),
    Parameter(
        "m0",
        ASL,
        NON_NEGATIVE,
        "",
        NO_DEFAULT,
        "Per-series uniform M0 (replaces the ground-truth M0 map, D8)",
    ),
    Parameter(
        "echo_time",
        ASL,
        per_token(POSITIVE_SECONDS),
        "s",
        0.01,
        "Echo time (> 0)" + _PER_TOKEN_NOTE,
        PerVolume.PER_TOKEN,
        Bids("EchoTime", ASL_SIDECARS, Collapse.SCALAR_OR_LIST),
    ),
    Parameter(
        "repetition_time",
        ASL,
        per_token(POSITIVE_SECONDS),
        "s",
        {"m0scan": 10.0, "control": 5.0, "label": 5.0},
        "Repetition time, >= echo_time (+ inversion_time for ir)"
        + _PER_TOKEN_NOTE
        + " (default 10 s for m0scan, 5 s for control and label)",
        PerVolume.PER_TOKEN,
        Bids("RepetitionTimePreparation", ASL_SIDECARS, Collapse.SCALAR_OR_LIST),
    ),
    *_motion("asl", "zyx"),
    _acq_matrix("asl", [64, 64, 12]),
    _acq_contrast("asl"),
    _desired_snr("asl", 100.0),
    _random_seed("asl"),
    *_inversion_rows("asl"),
)

GROUND_TRUTH_PARAMETERS: tuple[Parameter, ...] = (
    *_motion("ground_truth", "xyz"),
    _acq_matrix("ground_truth", [64, 64, 12]),
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
        Choice(("magnitude", "complex")),
        "",
        "magnitude",
        "magnitude, or complex (written as part-mag and part-phase)",
    ),
    Parameter(
        "modality",
        STRUCTURAL,
        Choice(("T1w", "T2w", "FLAIR", "anat")),
        "",
        "T1w",
        "BIDS suffix of the image (names it only; the contrast comes from acq_contrast); "
        "ASLDRO's anat (its default) is written as T1w with a warning",
    ),
)

PARAMETERS: tuple[Parameter, ...] = (
    *GLOBAL_PARAMETERS,
    *ASL_PARAMETERS,
    *GROUND_TRUTH_PARAMETERS,
    *STRUCTURAL_PARAMETERS,
)
"""Every parameter, in the order of the resolved file."""


DERIVED: tuple[Derived, ...] = (
    Derived(
        "PostLabelingDelay",
        ("asl",),
        "post_labeling_delay",
        "signal_time - label_duration for (p)CASL; signal_time (the inversion time TI) for PASL",
    ),
    Derived(
        "M0Type",
        ("asl",),
        "m0_type",
        "Included (m0scan volumes in the series), Separate (an m0scan file), Estimate (uniform "
        "ground-truth M0, with M0Estimate), else Absent",
    ),
    Derived(
        "TotalAcquiredPairs",
        ("asl",),
        "total_acquired_pairs",
        "number of control-label pairs (label-only or control-only: the number of those volumes)",
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
        "BolusCutOffDelayTime",
        ("asl",),
        "bolus_cut_off_delay_time",
        "PASL: the modelled bolus width (label_duration)",
        when="pasl",
    ),
)
"""BIDS fields computed from several parameters (the rule functions are in
:mod:`asldro.bids.derived`)."""


FIXED: tuple[Fixed, ...] = (
    Fixed("BackgroundSuppression", ("asl",), False, "no background suppression is simulated"),
    Fixed("MRAcquisitionType", SEQUENCE_SIDECARS, "3D", "3-D acquisitions"),
    Fixed("VascularCrushing", ("asl",), False, "no arterial component is simulated"),
    Fixed("BolusCutOffFlag", ("asl",), True, "PASL: a bolus cut-off is modelled", when="pasl"),
    Fixed(
        "BolusCutOffTechnique",
        ("asl",),
        "QUIPSSII",
        "PASL: the bolus width is label_duration",
        when="pasl",
    ),
    Fixed("SequenceVariant", ("structural",), "NONE", "no sequence variant"),
)
"""BIDS fields whose value asldro does not (yet) vary."""


SIDECAR_FIELDS: Mapping[str, tuple[str, ...]] = {
    "asl": (
        "ArterialSpinLabelingType",
        "PostLabelingDelay",
        "BackgroundSuppression",
        "M0Type",
        "TotalAcquiredPairs",
        "RepetitionTimePreparation",
        "MagneticFieldStrength",
        "MRAcquisitionType",
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
    ),
    "m0scan": (
        "RepetitionTimePreparation",
        "MagneticFieldStrength",
        "MRAcquisitionType",
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
    for extra in (*DERIVED, *FIXED):
        if sidecar in extra.sidecars:
            out[extra.field] = extra
    return out
