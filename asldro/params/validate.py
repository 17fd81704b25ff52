"""The one validator of a parameter document: ``jsonschema`` (Draft 2020-12) against the schema
generated from the catalog, with every error translated to one line naming the JSON path, the
value and the rule (physics.md §10.2 D6, D10, D12, D13).

* Before validation, enum values and ``asl_context`` tokens given in any case are put in their
  canonical spelling (D10, :func:`canonical`); after it, numbers are stored as float and integers
  as int (D6, :func:`convert`).
* Numbers are finite: NaN and infinities are refused as "expected a number"; booleans are never
  numbers; ``3.0`` is an integer.
* Each JSON Schema keyword that can fail has a translator in :data:`TRANSLATORS`; the keywords
  that only hold subschemas are in :data:`APPLICATORS` and the pure annotations in
  :data:`ANNOTATIONS`. A schema that uses any other keyword is refused when the validator is
  built (:func:`check_keywords`): nothing passes silently because no one translates it.

The words of a message come from the catalog kind at the error's place (``expected a string of
space-separated tokens``, ``expected a path ending in .json``), found by walking the document
with :meth:`Kind.child`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

from asldro.params.catalog import (
    DOCUMENT,
    AnyOf,
    Array,
    Choice,
    Integer,
    Kind,
    Named,
    Number,
    Record,
    Table,
    Tagged,
    Text,
    Tokens,
    json_type_of,
    names_of,
    unwrap,
)
from asldro.params.rules import bounds_text, join, show, suggest, unknown_key_message

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

JsonPath = tuple[Any, ...]
"""A place in a document: keys and list indices from the root."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where (``path``) and the one-line message (``text``,
    starting with the path). ``after``: a rule across the keys under ``path`` (reported after
    those keys' own problems)."""

    path: JsonPath
    text: str
    after: bool = False


class SchemaBuildError(ValueError):
    """The schema uses a keyword that no translator explains (or is not a valid schema)."""


def text_path(path: Iterable[Any]) -> str:
    """``image_series[0].series_parameters.echo_time`` for a path of keys and indices."""
    out = ""
    for key in path:
        out = join(out, key)
    return out


# --------------------------------------------------------------------------------------------
# Walking a document with its kinds


def _step(kind: Kind | None, value: Any, key: Any) -> Kind | None:
    """The kind of ``value[key]`` when ``value`` has kind ``kind``."""
    holder = kind.select(value) if kind is not None else None
    return holder.child(key, value) if holder is not None else None


def kind_at(root: Kind, document: Any, path: Sequence[Any]) -> Kind | None:
    """The catalog kind of the value at ``path`` (None where the document leaves the catalog:
    an unknown key, an unknown series type)."""
    kind, value = root, document
    for key in path:
        kind = _step(kind, value, key)
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            value = None
    return kind


def canonical(kind: Kind | None, value: Any) -> Any:
    """``value`` (a copy) with every enum value and token in its canonical spelling when it
    matches one in any case (D10); everything else as given."""
    holder = kind.select(value) if kind is not None else None
    if holder is None:
        return value
    if isinstance(holder, (Choice, Tokens)) and isinstance(value, str):
        return holder.canonical(value)
    if isinstance(value, Mapping):
        return {key: canonical(holder.child(key, value), item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(holder.child(i, value), item) for i, item in enumerate(value)]
    return value


def convert(kind: Kind, value: Any) -> Any:
    """A valid ``value`` (a copy) with numbers as float and integers as int (D6); the keys of
    an object in the catalog's order, those of a ``{name: value}`` table as given."""
    holder = unwrap(kind).select(value)
    if isinstance(holder, Number):
        return float(value)
    if isinstance(holder, Integer):
        return int(value)
    if isinstance(holder, Array):
        return [convert(holder.item, item) for item in value]
    if isinstance(holder, Record):
        return {f.name: convert(f.kind, value[f.name]) for f in holder.fields if f.name in value}
    if isinstance(holder, Table):
        return {name: convert(holder.child(name, value), item) for name, item in value.items()}
    return value


def _rank(kind: Kind | None, value: Any, key: Any) -> int:
    """The position of ``key`` among its siblings: list index, the catalog's key order (unknown
    keys first, as ``-1``), a table's own order."""
    if isinstance(key, int):
        return key
    holder = kind.select(value) if kind is not None else None
    holder = unwrap(holder) if holder is not None else None
    if isinstance(holder, Table):
        keys = list(value) if isinstance(value, Mapping) else []
        return keys.index(key) if key in keys else len(keys)
    names = names_of(holder) if holder is not None else ()
    return names.index(key) if key in names else -1


def ordered(problems: Iterable[Problem], root: Kind | None, document: Any) -> list[str]:
    """The messages in document order (the catalog's key order), each once."""

    def rank(problem: Problem) -> tuple[int, ...]:
        kind, value, out = root, document, []
        for key in problem.path:
            out.append(_rank(kind, value, key))
            kind = _step(kind, value, key)
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                value = None
        return (*out, 1 << 30) if problem.after else tuple(out)

    return list(dict.fromkeys(p.text for p in sorted(problems, key=rank)))


class Failures:
    """Where the problems of a document lie, for the code that resolves it afterwards."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self._paths = [problem.path for problem in problems]

    def clean(self, path: JsonPath) -> bool:
        """True when no problem lies at, above or below ``path``: its value is valid."""
        n = len(path)
        return not any(p[:n] == path or path[: len(p)] == p for p in self._paths)

    def broken(self, path: JsonPath) -> bool:
        """True when a problem lies at or above ``path``: the value as a whole is invalid (a
        problem inside it, such as an unknown key, leaves it usable)."""
        return any(path[: len(p)] == p for p in self._paths)


# --------------------------------------------------------------------------------------------
# Translators: one per JSON Schema keyword that can fail


@dataclass(frozen=True)
class _Context:
    """What a translator needs: the schema (for local ``$ref``), the root kind, the document."""

    schema: Mapping[str, Any]
    root: Kind | None
    document: Any

    def kind(self, path: Sequence[Any]) -> Kind | None:
        """The catalog kind at ``path`` (an :class:`AnyOf` as such)."""
        return kind_at(self.root, self.document, path) if self.root is not None else None

    def kind_of(self, path: Sequence[Any], value: Any) -> Kind | None:
        """The catalog kind that describes ``value`` at ``path``: of an :class:`AnyOf`, the
        option of ``value``'s JSON type (the branch whose failure is being explained)."""
        kind = self.kind(path)
        return kind.select(value) or kind if kind is not None else None

    def resolve(self, schema: Any) -> Any:
        """Follow a local ``$ref``."""
        while isinstance(schema, Mapping) and "$ref" in schema:
            target: Any = self.schema
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = target
        return schema


_TYPE_WORDS = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "null": "null",
}


def _where(error: Any) -> tuple[JsonPath, str]:
    path = tuple(error.absolute_path)
    return path, text_path(path)


def _type(context: _Context, error: Any) -> list[Problem]:
    path, where = _where(error)
    kind = context.kind_of(path, error.instance)
    if kind is not None:
        words = kind.expected()
    else:
        types = error.validator_value
        types = [types] if isinstance(types, str) else list(types)
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
    return [Problem(path, f"{where}: expected {words}, got {show(error.instance)}")]


def _enum(context: _Context, error: Any) -> list[Problem]:  # pylint: disable=unused-argument
    path, where = _where(error)
    choices = [str(choice) for choice in error.validator_value]
    hint = suggest(error.instance, choices) if isinstance(error.instance, str) else None
    extra = f" (did you mean '{hint}'?)" if hint else ""
    return [
        Problem(path, f"{where}: {show(error.instance)} is not one of {', '.join(choices)}{extra}")
    ]


def _const(context: _Context, error: Any) -> list[Problem]:  # pylint: disable=unused-argument
    path, where = _where(error)
    return [Problem(path, f"{where}: {show(error.instance)} must be {show(error.validator_value)}")]


def _bound(context: _Context, error: Any) -> list[Problem]:  # pylint: disable=unused-argument
    path, where = _where(error)
    return [Problem(path, f"{where}: {show(error.instance)} must be {bounds_text(error.schema)}")]


def _items_count(context: _Context, error: Any) -> list[Problem]:  # pylint: disable=unused-argument
    path, where = _where(error)
    low, high = error.schema.get("minItems"), error.schema.get("maxItems")
    count = len(error.instance)
    if low is not None and low == high:
        rule = f"expected {low} values"
    elif error.validator == "minItems":
        rule = f"expected at least {low} values"
    else:
        rule = f"expected at most {high} values"
    return [Problem(path, f"{where}: {rule}, got {count}")]


def _min_length(context: _Context, error: Any) -> list[Problem]:  # pylint: disable=unused-argument
    path, where = _where(error)
    if len(error.relative_schema_path) >= 2 and error.relative_schema_path[-2] == "propertyNames":
        return [
            Problem(path, f"{where}: names must be non-empty strings, got {show(error.instance)}")
        ]
    length = error.validator_value
    rule = "must not be empty" if length == 1 else f"must be at least {length} characters long"
    return [Problem(path, f"{where}: {rule}")]


def _token_problems(kind: Tokens, value: str, path: JsonPath, where: str) -> list[Problem]:
    """Why ``value`` is not a string of ``kind``'s tokens: no token, bad spacing, or the unknown
    tokens (each once, with the closest valid one)."""
    allowed = ", ".join(kind.tokens)
    if not value.strip():
        return [Problem(path, f"{where}: {show(value)} must hold at least one token ({allowed})")]
    if value != " ".join(value.split()):
        return [
            Problem(
                path,
                f"{where}: {show(value)} must have exactly one space between tokens "
                "(no leading, trailing or repeated spaces, no tabs)",
            )
        ]
    out = []
    for token in dict.fromkeys(t for t in value.split(" ") if t not in kind.tokens):
        hint = suggest(token, kind.tokens)
        extra = f" (did you mean '{hint}'?)" if hint else ""
        out.append(
            Problem(
                path,
                f"{where}: unknown token {show(token)}{extra}; tokens are {allowed} "
                "separated by single spaces",
            )
        )
    return out


def _pattern(context: _Context, error: Any) -> list[Problem]:
    path, where = _where(error)
    kind = context.kind_of(path, error.instance)
    if isinstance(kind, Tokens):
        return _token_problems(kind, error.instance, path, where)
    if isinstance(kind, Text) and kind.means:
        return [Problem(path, f"{where}: expected {kind.means}, got {show(error.instance)}")]
    return [
        Problem(
            path,
            f"{where}: {show(error.instance)} does not match the pattern {error.validator_value}",
        )
    ]


def _required(context: _Context, error: Any) -> list[Problem]:
    path, where = _where(error)
    out = []
    for key in error.validator_value:
        if key in error.instance:
            continue
        kind = context.kind((*path, key))
        kind = unwrap(kind) if kind is not None else None  # absent: no option to select
        hint = ""
        if isinstance(kind, Choice):
            hint = f"; one of {', '.join(kind.values)}"
        elif isinstance(kind, Array) and kind.min_items is None:
            hint = "; may be an empty list"
        out.append(Problem((*path, key), f"{join(where, key)}: missing (required{hint})"))
    return out


def _additional(context: _Context, error: Any) -> list[Problem]:  # pylint: disable=unused-argument
    path, where = _where(error)
    known = list(error.schema.get("properties", {}))
    return [
        Problem((*path, key), unknown_key_message(where, key, known))
        for key in error.instance
        if key not in known
    ]


def _matches(schema_type: Any, found: str | None) -> bool:
    types = [schema_type] if isinstance(schema_type, str) else list(schema_type or ())
    return found in types or (found == "number" and "integer" in types)


def _any_of(context: _Context, error: Any) -> list[Problem]:
    """The option of the instance's JSON type explains the failure; when no option (or several)
    has that type, the instance is of the wrong kind altogether."""
    path, where = _where(error)
    found = json_type_of(error.instance)
    options = [context.resolve(option) for option in error.validator_value]
    matching = [i for i, option in enumerate(options) if _matches(option.get("type"), found)]
    if len(matching) == 1:
        inner = [e for e in error.context if e.relative_schema_path[0] == matching[0]]
        return translate(context, inner)
    kind = context.kind(path)
    if kind is not None:
        words = kind.expected()
    else:
        words = " or ".join(_TYPE_WORDS.get(o.get("type"), "another value") for o in options)
    return [Problem(path, f"{where}: expected {words}, got {show(error.instance)}")]


TRANSLATORS: Mapping[str, Callable[[_Context, Any], list[Problem]]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minimum": _bound,
    "maximum": _bound,
    "exclusiveMinimum": _bound,
    "exclusiveMaximum": _bound,
    "minItems": _items_count,
    "maxItems": _items_count,
    "minLength": _min_length,
    "pattern": _pattern,
    "required": _required,
    "additionalProperties": _additional,
    "anyOf": _any_of,
}
"""The message of each JSON Schema keyword that fails on its own."""


def _one(value: Any) -> list[tuple[str, Any]]:
    return [("", value)]


def _each(value: Any) -> list[tuple[str, Any]]:
    return [(f"/{i}", item) for i, item in enumerate(value)]


def _values(value: Any) -> list[tuple[str, Any]]:
    return [(f"/{name}", item) for name, item in value.items()]


def _schema_or_flag(value: Any) -> list[tuple[str, Any]]:
    return [] if isinstance(value, bool) else [("", value)]


APPLICATORS: Mapping[str, Callable[[Any], list[tuple[str, Any]]]] = {
    "properties": _values,
    "items": _one,
    "additionalProperties": _schema_or_flag,
    "propertyNames": _one,
    "anyOf": _each,
    "allOf": _each,
    "if": _one,
    "then": _one,
    "else": _one,
    "$defs": _values,
    "$ref": lambda value: [],
}
"""Keywords that hold subschemas (with how to find them, as JSON-pointer suffixes); their
failures are their subschemas' failures, which jsonschema reports with the inner keyword
(``allOf``, ``then``, ``properties``, ``items``, ``$ref``), never on their own (``if`` only
selects ``then``)."""

ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "x-unit"}
)
"""Keywords that never fail (``x-unit``: the unit of a value, asldro's own annotation)."""


def check_keywords(schema: Any, pointer: str = "#") -> None:
    """Raise :class:`SchemaBuildError` for the first keyword of ``schema`` (or of any subschema)
    that is neither translated, an applicator, nor an annotation."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, Mapping):
        raise SchemaBuildError(f"{pointer}: a schema must be an object or a boolean")
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS:
            continue
        if keyword not in TRANSLATORS and keyword not in APPLICATORS:
            raise SchemaBuildError(
                f"{pointer}/{keyword}: JSON Schema keyword {keyword!r} has no translator to a "
                "one-line message (asldro.params.validate.TRANSLATORS); it would pass or fail "
                "unexplained"
            )
        for suffix, subschema in APPLICATORS.get(keyword, lambda value: [])(value):
            check_keywords(subschema, f"{pointer}/{keyword}{suffix}")


def translate(context: _Context, errors: Iterable[Any]) -> list[Problem]:
    """The problems of jsonschema ``errors``: a type error at a place hides the other errors at
    that same place (``3.5`` for an integer ``>= 0`` is "expected an integer" only)."""
    errors = list(errors)
    typed = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    out: list[Problem] = []
    for error in errors:
        if error.validator != "type" and tuple(error.absolute_path) in typed:
            continue
        out.extend(TRANSLATORS[error.validator](context, error))
    return out


# --------------------------------------------------------------------------------------------
# Schemas and validators


def _named(kind: Kind, found: dict[str, Named]) -> None:
    """Collect every :class:`Named` kind under ``kind`` (first occurrence first)."""
    if isinstance(kind, Named):
        if kind.name not in found:
            found[kind.name] = kind
            _named(kind.kind, found)
        return
    parts: list[Any] = []
    if isinstance(kind, Array):
        parts = [kind.item]
    elif isinstance(kind, Record):
        parts = [f.kind for f in kind.fields]
    elif isinstance(kind, Table):
        parts = [f.kind for f in kind.known] + ([kind.value] if kind.value else [])
    elif isinstance(kind, Tagged):
        parts = [f.kind for f in kind.fields] + [k for _, k in kind.variants]
    elif isinstance(kind, AnyOf):
        parts = list(kind.options)
    for part in parts:
        _named(part, found)


def document_schema(kind: Kind = DOCUMENT) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of a parameter file of ``kind``: what
    ``asldro/params/schema.json`` holds for the catalog's document."""
    named: dict[str, Named] = {}
    _named(kind, named)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "asldro parameter file (ASLDRO 2.x format)",
        "description": (
            "Generated from asldro/params/catalog.py by python -m asldro.params.generate; do not "
            "edit. The loader also accepts enum values and asl_context tokens in any case "
            "(normalised first) and checks the rules across keys in code (per-volume lengths "
            "against asl_context, TR >= TE (+ TI), PLD >= 0, m0scan pairing, ground-truth files). "
            "Numbers are finite. x-unit annotates a value's unit."
        ),
        **kind.schema(),
        "$defs": {name: item.definition() for name, item in named.items()},
    }


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _is_number(checker: Any, instance: Any) -> bool:  # pylint: disable=unused-argument
    """A JSON number that is finite (and representable): never a boolean, NaN or infinity."""
    return (
        isinstance(instance, (int, float)) and not isinstance(instance, bool) and _finite(instance)
    )


def _is_integer(checker: Any, instance: Any) -> bool:  # pylint: disable=unused-argument
    """A whole number: an int, or a finite float without a fraction (``3.0``); never a bool."""
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    return isinstance(instance, float) and _finite(instance) and instance.is_integer()


class DocumentValidator:
    """Validates documents against ``schema`` (built once; every keyword checked to have a
    translator) and explains each error in the words of ``kind`` (the catalog's, or None)."""

    def __init__(self, schema: Mapping[str, Any], kind: Kind | None = None) -> None:
        import jsonschema  # lazy: importing asldro.params stays light

        check_keywords(schema)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as err:
            raise SchemaBuildError(f"not a valid Draft 2020-12 schema: {err.message}") from None
        checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
            {"number": _is_number, "integer": _is_integer}
        )
        cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=checker)
        self.schema = schema
        self.kind = kind
        self._validator = cls(schema)

    def problems(self, document: Any) -> list[Problem]:
        """The problems of ``document`` (already in canonical case, :func:`canonical`)."""
        context = _Context(self.schema, self.kind, document)
        return translate(context, self._validator.iter_errors(document))

    def messages(self, document: Any) -> list[str]:
        """The one-line messages of ``document`` as given (canonical case first), in order."""
        document = canonical(self.kind, document)
        return ordered(self.problems(document), self.kind, document)


def validator_for(kind: Kind) -> DocumentValidator:
    """A validator of documents of ``kind`` against its generated schema."""
    return DocumentValidator(document_schema(kind), kind)


@lru_cache(maxsize=None)
def document_validator() -> DocumentValidator:
    """The validator of parameter files (the catalog's schema, built once)."""
    return validator_for(DOCUMENT)
