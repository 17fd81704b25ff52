"""The kinds of values a parameter may take (the vocabulary of :mod:`asldro.params.catalog`).

Each kind knows its JSON Schema Draft 2020-12 (``schema()``), the words for what it expects
(``expected()``, used in messages), its JSON type, and the kind of each of its parts
(:func:`select`, :func:`child`): the generator, the validator and the loader walk a document with
them (:mod:`asldro.params.validate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Union

NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()
"""The default of a parameter that is absent from the resolved file unless given."""


# pylint: disable-next=too-many-return-statements  # one return per JSON type
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


@dataclass(frozen=True)
class Number:
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
class Integer:
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
class Boolean:
    """``true`` or ``false`` (not ``"yes"``, not 0/1)."""

    json_type = "boolean"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this kind."""
        return {"type": "boolean"}

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "true or false"


@dataclass(frozen=True)
class Choice:
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
class Text:
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
class Tokens:
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

    def resolved(self, container: Any) -> Record:
        """The object as a :class:`Record` for ``container``: the field has the kind its tag (in
        any case) selects, or :data:`UNDESCRIBED` when the tag names no variant."""
        tag = container.get(self.tag) if isinstance(container, Mapping) else None
        variants = dict(self.variants)
        variant = variants.get(self.tag_kind.canonical(tag)) if isinstance(tag, str) else None
        return Record(
            (
                Field(self.tag, self.tag_kind),
                *self.fields,
                Field(self.field, UNDESCRIBED if variant is None else variant),
            )
        )


@dataclass(frozen=True)
class Variants:
    """An object whose ``tag`` (one of the variants' names, any case) selects the rest of its
    keys: ``{"distribution": "gaussian", "mean": 1, "sd": 0.1}`` or ``{"distribution":
    "uniform", "min": 0, "max": 1}``. Each variant is a :class:`Record` of the keys besides the
    tag (its ``required`` keys must be given; any other key is unknown)."""

    tag: str
    variants: tuple[tuple[str, Record], ...]
    json_type = "object"

    @property
    def tag_kind(self) -> Choice:
        """The kind of the tag: one of the variant names."""
        return Choice(tuple(name for name, _ in self.variants))

    def schema(self) -> dict[str, Any]:
        """The JSON Schema: the tag, and one ``if``/``then`` per variant stating the variant's
        keys (the ``then`` lists the tag too, so that ``additionalProperties`` there refuses
        every other key)."""
        branches = []
        for name, record in self.variants:
            then: dict[str, Any] = {"required": [self.tag, *record.required]}
            then["additionalProperties"] = False
            then["properties"] = {
                self.tag: {"const": name},
                **{field.name: field.schema() for field in record.fields},
            }
            branches.append(
                {
                    "if": {"required": [self.tag], "properties": {self.tag: {"const": name}}},
                    "then": then,
                }
            )
        return {
            "type": "object",
            "required": [self.tag],
            "properties": {self.tag: self.tag_kind.schema()},
            "allOf": branches,
        }

    def expected(self) -> str:
        """What a value of this kind is, in words."""
        return "an object"

    def resolved(self, container: Any) -> Record:
        """The object as a :class:`Record` for ``container``: the tag and the keys of the
        variant it names (any case); the tag alone when it names none."""
        tag = container.get(self.tag) if isinstance(container, Mapping) else None
        variant = (
            dict(self.variants).get(self.tag_kind.canonical(tag)) if isinstance(tag, str) else None
        )
        fields = () if variant is None else variant.fields
        required = () if variant is None else variant.required
        return Record((Field(self.tag, self.tag_kind), *fields), (self.tag, *required))


Kind = Union[
    Number,
    Integer,
    Boolean,
    Choice,
    Text,
    Tokens,
    Array,
    Table,
    Record,
    AnyOf,
    Named,
    Tagged,
    Variants,
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


UNDESCRIBED = Record(())
"""The kind of an object that nothing describes (the parameters of an entry whose tag names no
variant): its keys have no kind, so walking it checks and converts nothing."""


def select(kind: Kind | None, value: Any) -> Kind | None:
    """The kind that describes ``value`` where ``kind`` is expected: ``kind`` itself; of an
    :class:`AnyOf`, the option of ``value``'s JSON type (an integer option takes any number;
    None when no option, or several, has that type); of a :class:`Tagged` object, the
    :class:`Record` its tag selects."""
    kind = unwrap(kind) if kind is not None else None
    if isinstance(kind, AnyOf):
        found = json_type_of(value)
        matches = [
            option
            for option in kind.options
            if option.json_type == found or (option.json_type == "integer" and found == "number")
        ]
        return select(matches[0], value) if len(matches) == 1 else None
    if isinstance(kind, (Tagged, Variants)):
        return kind.resolved(value)
    return kind


def child(kind: Kind | None, key: Any) -> Kind | None:
    """The kind of the part ``key`` of a value that ``kind`` describes (after :func:`select`):
    a list's item, an object's key (None for an unknown key), a table's name."""
    kind = unwrap(kind) if kind is not None else None
    if isinstance(kind, Array):
        return kind.item
    if isinstance(kind, Record):
        return next((field.kind for field in kind.fields if field.name == key), None)
    if isinstance(kind, Table):
        return next((field.kind for field in kind.known if field.name == key), kind.value)
    return None


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
