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

import copy
import enum
from dataclasses import dataclass
from typing import Any, Mapping, Union

SERIES_TYPES = ("asl", "structural", "ground_truth")
GLOBAL = "global_configuration"
ASL_TOKENS = ("m0scan", "control", "label")
CONTEXT_KEY = "asl_context"
"""The key whose tokens the :attr:`PerVolume.PER_TOKEN` keys of a series follow."""


# --------------------------------------------------------------------------------------------
# Kinds: what a value may be. Each knows its JSON Schema (``schema()``), the words for what it
# expects (``expected()``, used in messages), its JSON type, and the kind of each of its parts
# (``child()``, ``select()``: how the validator and the loader walk a document).

NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()
"""The default of a parameter that is absent from the resolved file unless given."""


def json_type_of(value: Any) -> str | None:
    """The JSON type of a parsed value (``"number"`` for any int or float, NaN included)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    if value is None:
        return "null"
    return None


class _Leaf:
    """A kind without parts (a number, a string ...)."""

    json_type = ""

    def child(self, key: Any, container: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind of ``container[key]``: a leaf has no parts."""
        return None

    def select(self, value: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind that describes ``value`` (itself; an :class:`AnyOf` picks an option)."""
        return self  # type: ignore[return-value]


@dataclass(frozen=True)
class Number(_Leaf):
    """A finite number (ints accepted and stored as float; booleans refused)."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    json_type = "number"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return _bounded({"type": "number"}, self)

    def expected(self) -> str:
        """What a value of this kind is, in words (``expected <this>, got ...``)."""
        return "a number"


@dataclass(frozen=True)
class Integer(_Leaf):
    """A whole number (3.0 accepted and stored as 3; 3.5 and booleans refused)."""

    minimum: int | None = None
    maximum: int | None = None
    exclusive_minimum: int | None = None
    exclusive_maximum: int | None = None
    json_type = "integer"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return _bounded({"type": "integer"}, self)

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "an integer"


@dataclass(frozen=True)
class Boolean(_Leaf):
    """``true`` or ``false`` (not ``"yes"``, not 0/1)."""

    json_type = "boolean"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return {"type": "boolean"}

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "true or false"


@dataclass(frozen=True)
class Choice(_Leaf):
    """One of ``values``; the input may use any case, the canonical spelling is stored (D10)."""

    values: tuple[str, ...]
    json_type = "string"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return {"type": "string", "enum": list(self.values)}

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "a string"

    def canonical(self, value: str) -> str:
        """``value`` in its canonical spelling when it matches a choice in any case, else as is."""
        return {choice.lower(): choice for choice in self.values}.get(value.lower(), value)


@dataclass(frozen=True)
class Text(_Leaf):
    """A string, optionally matching ``pattern`` (a regular expression, searched); ``means``
    says in words what the pattern asks for (``a path ending in .json``)."""

    pattern: str | None = None
    min_length: int | None = None
    means: str | None = None
    json_type = "string"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        out: dict[str, Any] = {"type": "string"}
        if self.min_length is not None:
            out["minLength"] = self.min_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return self.means or "a string"


@dataclass(frozen=True)
class Tokens(_Leaf):
    """Space-separated tokens from ``tokens`` (any case on input), exactly one space between."""

    tokens: tuple[str, ...]
    json_type = "string"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        alternatives = "|".join(self.tokens)
        return {"type": "string", "pattern": f"^({alternatives})( ({alternatives}))*$"}

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "a string of space-separated tokens"

    def canonical(self, value: str) -> str:
        """Each token of ``value`` in its canonical spelling (any case on input); the spacing,
        and any unknown token, are kept as they are so that the validator can name them."""
        canonical = {token.lower(): token for token in self.tokens}
        return " ".join(canonical.get(piece.lower(), piece) for piece in value.split(" "))


@dataclass(frozen=True)
class Array:
    """A list of ``item`` values."""

    item: Kind
    min_items: int | None = None
    max_items: int | None = None
    json_type = "array"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        out: dict[str, Any] = {"type": "array"}
        if self.min_items is not None:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        out["items"] = self.item.schema()
        return out

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "a list"

    def child(self, key: Any, container: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind of ``container[key]``: every item has the item kind."""
        return self.item

    def select(self, value: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind that describes ``value``: itself."""
        return self


@dataclass(frozen=True)
class Field:
    """One named entry of a :class:`Record` or a :class:`Table`: its kind, unit, one-line
    description and default (annotations of the generated schema)."""

    name: str
    kind: Kind
    unit: str = ""
    description: str = ""
    default: Any = NO_DEFAULT

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the entry: its kind's, with the annotations."""
        out = self.kind.schema()
        if self.description:
            out["description"] = self.description
        if self.unit:
            out["x-unit"] = self.unit
        if self.default is not NO_DEFAULT:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Record:
    """An object with a fixed set of optional keys (``required`` must be present)."""

    fields: tuple[Field, ...]
    required: tuple[str, ...] = ()
    json_type = "object"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        out: dict[str, Any] = {"type": "object"}
        if self.required:
            out["required"] = list(self.required)
        out["additionalProperties"] = False
        out["properties"] = {field.name: field.schema() for field in self.fields}
        return out

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "an object"

    def names(self) -> tuple[str, ...]:
        """The keys, in order."""
        return tuple(field.name for field in self.fields)

    def child(self, key: Any, container: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind of ``container[key]`` (None for an unknown key)."""
        return next((field.kind for field in self.fields if field.name == key), None)

    def select(self, value: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind that describes ``value``: itself."""
        return self


@dataclass(frozen=True)
class Table:
    """An object ``{name: value}``: the names of ``known`` with their own kinds, and any other
    non-empty name with kind ``value`` (``None``: only the known names exist)."""

    value: Kind | None
    known: tuple[Field, ...] = ()
    json_type = "object"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        out: dict[str, Any] = {"type": "object"}
        if self.value is not None:
            out["propertyNames"] = {"minLength": 1}
        if self.known:
            out["properties"] = {field.name: field.schema() for field in self.known}
        out["additionalProperties"] = False if self.value is None else self.value.schema()
        return out

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "an object {name: value}"

    def child(self, key: Any, container: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind of ``container[key]``: a known name's own, else the value kind."""
        return next((field.kind for field in self.known if field.name == key), self.value)

    def select(self, value: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind that describes ``value``: itself."""
        return self


@dataclass(frozen=True)
class AnyOf:
    """One of several kinds of different JSON types (e.g. a number or a list of numbers);
    ``expected_text`` names them in messages (default: the options' words joined by "or")."""

    options: tuple[Kind, ...]
    expected_text: str | None = None
    json_type = ""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return {"anyOf": [option.schema() for option in self.options]}

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return self.expected_text or " or ".join(option.expected() for option in self.options)

    def child(self, key: Any, container: Any) -> Kind | None:
        """The kind of ``container[key]``, through the option that describes ``container``."""
        option = self.select(container)
        return None if option is None else option.child(key, container)

    def select(self, value: Any) -> Kind | None:
        """The option whose JSON type is ``value``'s (an integer option takes any number), or
        None when no option, or more than one, has that type."""
        found = json_type_of(value)
        matches = [
            option
            for option in self.options
            if option.json_type == found or (option.json_type == "integer" and found == "number")
        ]
        return matches[0].select(value) if len(matches) == 1 else None


@dataclass(frozen=True)
class Named:
    """A kind given a name: the generated schema states it once under ``$defs/<name>`` and
    refers to it (``title`` is its schema title)."""

    name: str
    kind: Kind
    title: str = ""

    @property
    def json_type(self) -> str:
        """The named kind's JSON type."""
        return self.kind.json_type

    def schema(self) -> dict[str, Any]:
        """A reference to ``$defs/<name>``."""
        return {"$ref": f"#/$defs/{self.name}"}

    def definition(self) -> dict[str, Any]:
        """The schema stated under ``$defs/<name>``."""
        out = {"title": self.title} if self.title else {}
        return {**out, **self.kind.schema()}

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return self.kind.expected()

    def child(self, key: Any, container: Any) -> Kind | None:
        """The kind of ``container[key]``."""
        return self.kind.child(key, container)

    def select(self, value: Any) -> Kind | None:
        """The kind that describes ``value``."""
        return self.kind.select(value)


@dataclass(frozen=True)
class Tagged:
    """An object whose ``tag`` (one of ``variants``' names, any case) selects the kind of its
    ``field``; ``fields`` are the other keys (an ``image_series`` entry: ``series_type`` selects
    the kind of ``series_parameters``)."""

    tag: str
    field: str
    variants: tuple[tuple[str, Kind], ...]
    fields: tuple[Field, ...] = ()
    json_type = "object"

    @property
    def tag_kind(self) -> Choice:
        """The kind of the tag: one of the variant names."""
        return Choice(tuple(name for name, _ in self.variants))

    def names(self) -> tuple[str, ...]:
        """The keys, in order: the tag, the other fields, the selected field."""
        return (self.tag, *(field.name for field in self.fields), self.field)

    def schema(self) -> dict[str, Any]:
        """The JSON Schema: the keys, and one ``if``/``then`` per variant (the ``if`` requires
        the tag, so that an entry without one gets no variant's rules)."""
        properties: dict[str, Any] = {self.tag: self.tag_kind.schema()}
        properties.update({field.name: field.schema() for field in self.fields})
        properties[self.field] = {"type": "object"}
        return {
            "type": "object",
            "required": [self.tag],
            "additionalProperties": False,
            "properties": properties,
            "allOf": [
                {
                    "if": {"required": [self.tag], "properties": {self.tag: {"const": name}}},
                    "then": {"properties": {self.field: kind.schema()}},
                }
                for name, kind in self.variants
            ],
        }

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "an object"

    def variant(self, container: Any) -> Kind | None:
        """The kind of ``field`` for ``container`` (None when its tag, in any case, is not a
        variant)."""
        tag = container.get(self.tag) if isinstance(container, Mapping) else None
        if not isinstance(tag, str):
            return None
        return dict(self.variants).get(self.tag_kind.canonical(tag))

    def child(self, key: Any, container: Any) -> Kind | None:
        """The kind of ``container[key]``."""
        if key == self.tag:
            return self.tag_kind
        if key == self.field:
            return self.variant(container)
        return next((field.kind for field in self.fields if field.name == key), None)

    def select(self, value: Any) -> Kind | None:  # pylint: disable=unused-argument
        """The kind that describes ``value``: itself."""
        return self


Kind = Union[
    Number, Integer, Boolean, Choice, Text, Tokens, Array, Table, Record, AnyOf, Named, Tagged
]

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


def names_of(kind: Kind) -> tuple[str, ...]:
    """The known keys of an object kind, in order (empty for other kinds)."""
    kind = unwrap(kind)
    if isinstance(kind, (Record, Tagged)):
        return kind.names()
    if isinstance(kind, Table):
        return tuple(field.name for field in kind.known)
    return ()


def unwrap(kind: Kind) -> Kind:
    """The kind behind a :class:`Named` one."""
    while isinstance(kind, Named):
        kind = kind.kind
    return kind


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
    group: str | None = None
    """The field of the typed series that gathers this key with others (``motion``: the six
    rigid-motion keys make one :class:`asldro.params.types.Motion`); None: a field of its own."""
    required: bool = False
    """The key must be given (``ground_truth``); its default is then only the defaults file's."""
    in_defaults_file: bool = True
    """Whether the defaults file states the key (physics.md §2.5 has no
    ``ground_truth_modulate``; a resolved file always has it)."""

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
    """A number for all volumes, or a list with one per ``asl_context`` token (its length is
    the loader's cross-field rule: it depends on ``asl_context``)."""
    return AnyOf(
        (element, Array(element)),
        "a number or a list of numbers (one per asl_context volume)",
    )


# --------------------------------------------------------------------------------------------
# Ground-truth quantities and scalar parameters: their physical ranges are the rules of
# image_override, parameter_override, the ground-truth files and every map after overrides and
# modulation (asldro.groundtruth.modify reads them through asldro.params.rules).

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
                    (
                        Field(
                            "nii",
                            Text(
                                pattern=r"\.nii(\.gz)?$", means="a path ending in .nii.gz or .nii"
                            ),
                        ),
                        Field("json", Text(pattern=r"\.json$", means="a path ending in .json")),
                    ),
                    required=("nii", "json"),
                ),
            ),
            'a built-in name, a .nii/.nii.gz path or {"nii": path, "json": path}',
        ),
        "",
        "hrgt_icbm_2009a_nls_3t",
        "A built-in name, a path to an ASLDRO-format 5-D .nii/.nii.gz with its .json beside it, "
        'or {"nii": path, "json": path}; relative paths resolve against the parameter file',
        required=True,
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
)

ASL_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        CONTEXT_KEY,
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


# --------------------------------------------------------------------------------------------
# The document: how the rows make a parameter file (physics.md §2.1).

DEFAULTS_FILE_SERIES = ("asl", "ground_truth", "structural")
"""The series of the defaults file, in its order (physics.md §2.5)."""


def default_description(series_type: str) -> str:
    """The ``series_description`` of a series that gives none: ``"user description for
    <series_type>"`` (physics.md §2.5, D9)."""
    return f"user description for {series_type}"


def defaults_file_global() -> dict[str, Any]:
    """The ``global_configuration`` of the defaults file (physics.md §2.5, D19): the ground
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
