"""The one validator of a parameter document: ``jsonschema`` (Draft 2020-12) against the schema
generated from the catalog, with every error translated to one line naming the JSON path, the
value and the rule (docs/physics.md §10.2 D6, D10, D12, D13).

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

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Sequence

from asldro.params.catalog import DOCUMENT
from asldro.params.kinds import (
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
    Variants,
    child,
    json_type_of,
    names_of,
    select,
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


def first_name_problem(
    names: dict[str, int], name: str, index: int, path: JsonPath, why: str = ""
) -> Problem | None:
    """The rule "names of a list's entries differ in more than case": None (and ``name``
    remembered in ``names``, lower case -> first index) for the first entry of that name, else
    the problem at ``path[index].name`` naming the entry it repeats (``why``: a reason after
    it)."""
    first = names.setdefault(name.lower(), index)
    if first == index:
        return None
    where = text_path((*path, index))
    list_name = text_path(path).rsplit(".", 1)[-1]
    return Problem(
        (*path, index, "name"),
        f"{where}.name: {json.dumps(name)} is the name of {list_name}[{first}] too{why}",
    )


# --------------------------------------------------------------------------------------------
# Walking a document with its kinds


def _step(kind: Kind | None, value: Any, key: Any) -> tuple[Kind | None, Any]:
    """The kind and the value of ``value[key]`` when ``value`` has kind ``kind`` (the value is
    None where ``key`` is absent)."""
    try:
        item = value[key]
    except (KeyError, IndexError, TypeError):
        item = None
    return child(select(kind, value), key), item


def kind_at(root: Kind | None, document: Any, path: Sequence[Any]) -> Kind | None:
    """The catalog kind of the value at ``path`` (None where the document leaves the catalog:
    an unknown key, an unknown series type)."""
    kind, value = root, document
    for key in path:
        kind, value = _step(kind, value, key)
    return kind


def canonical(kind: Kind | None, value: Any) -> Any:
    """``value`` (a copy) with every enum value and token in its canonical spelling when it
    matches one in any case (D10); everything else as given."""
    holder = select(kind, value)
    if isinstance(holder, (Choice, Tokens)) and isinstance(value, str):
        return holder.canonical(value)
    if isinstance(value, Mapping):
        return {key: canonical(child(holder, key), item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(child(holder, i), item) for i, item in enumerate(value)]
    return value


def convert(kind: Kind | None, value: Any) -> Any:
    """A valid ``value`` (a copy) with numbers as float and integers as int (D6); the keys of
    an object in the catalog's order, those of a ``{name: value}`` table as given."""
    holder = select(kind, value)
    if isinstance(holder, Number):
        return float(value)
    if isinstance(holder, Integer):
        return int(value)
    if isinstance(holder, Array):
        return [convert(holder.item, item) for item in value]
    if isinstance(holder, Record):
        return {f.name: convert(f.kind, value[f.name]) for f in holder.fields if f.name in value}
    if isinstance(holder, Table):
        return {name: convert(child(holder, name), item) for name, item in value.items()}
    return value


def _rank(kind: Kind | None, value: Any, key: Any) -> int:
    """The position of ``key`` among its siblings: list index, the catalog's key order (unknown
    keys first, as ``-1``), a table's own order."""
    if isinstance(key, int):
        return key
    holder = select(kind, value)
    if isinstance(holder, Table):
        keys = list(value) if isinstance(value, Mapping) else []
        return keys.index(key) if key in keys else len(keys)
    names = names_of(holder) if holder is not None else ()
    return names.index(key) if key in names else -1


def ordered(problems: Iterable[Problem], root: Kind | None, document: Any) -> list[str]:
    """The messages in document order (the catalog's key order; a rule across keys after the
    keys' own problems), each once."""

    def rank(problem: Problem) -> tuple[int, ...]:
        kind, value, out = root, document, []
        for key in problem.path:
            out.append(_rank(kind, value, key))
            kind, value = _step(kind, value, key)
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
    """What translators need besides the error: the schema (for local ``$ref``), the root kind
    and the document."""

    schema: Mapping[str, Any]
    root: Kind | None
    document: Any


@dataclass(frozen=True)
class _Failure:
    """One jsonschema error in its document: where it is, in words, and the kind found there."""

    context: _Context
    error: Any

    @property
    def path(self) -> JsonPath:
        """The place of the failing value."""
        return tuple(self.error.absolute_path)

    @property
    def where(self) -> str:
        """The place in words: ``image_series[0].series_parameters.echo_time``."""
        return text_path(self.path)

    @property
    def instance(self) -> Any:
        """The failing value."""
        return self.error.instance

    def kind(self, path: Sequence[Any] | None = None) -> Kind | None:
        """The catalog kind at ``path`` (default: the failure's place; an :class:`AnyOf` as
        such)."""
        return kind_at(
            self.context.root, self.context.document, self.path if path is None else path
        )

    def kind_of_instance(self) -> Kind | None:
        """The catalog kind that describes the failing value: of an :class:`AnyOf`, the option
        of the value's JSON type (the branch whose failure is explained)."""
        kind = self.kind()
        return select(kind, self.instance) or kind

    def resolve(self, schema: Any) -> Any:
        """Follow a local ``$ref`` of the schema."""
        while isinstance(schema, Mapping) and "$ref" in schema:
            target: Any = self.context.schema
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = target
        return schema

    def problem(self, text: str, path: JsonPath | None = None) -> Problem:
        """A problem at the failure's place (or ``path``)."""
        return Problem(self.path if path is None else path, text)


_TYPE_WORDS = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "null": "null",
}


def _type(failure: _Failure) -> list[Problem]:
    kind = failure.kind_of_instance()
    if kind is not None:
        words = kind.expected()
    else:
        types = failure.error.validator_value
        types = [types] if isinstance(types, str) else list(types)
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
    return [failure.problem(f"{failure.where}: expected {words}, got {show(failure.instance)}")]


def _enum(failure: _Failure) -> list[Problem]:
    choices = [str(choice) for choice in failure.error.validator_value]
    value = failure.instance
    hint = suggest(value, choices) if isinstance(value, str) else None
    extra = f" (did you mean '{hint}'?)" if hint else ""
    text = f"{failure.where}: {show(value)} is not one of {', '.join(choices)}{extra}"
    return [failure.problem(text)]


def _const(failure: _Failure) -> list[Problem]:
    const = show(failure.error.validator_value)
    return [failure.problem(f"{failure.where}: {show(failure.instance)} must be {const}")]


def _bound(failure: _Failure) -> list[Problem]:
    bounds = bounds_text(failure.error.schema)
    return [failure.problem(f"{failure.where}: {show(failure.instance)} must be {bounds}")]


def _items_count(failure: _Failure) -> list[Problem]:
    low, high = failure.error.schema.get("minItems"), failure.error.schema.get("maxItems")
    if low is not None and low == high:
        rule = f"expected {low} values"
    elif failure.error.validator == "minItems":
        rule = f"expected at least {low} value{'' if low == 1 else 's'}"
    else:
        rule = f"expected at most {high} values"
    return [failure.problem(f"{failure.where}: {rule}, got {len(failure.instance)}")]


def _min_length(failure: _Failure) -> list[Problem]:
    schema_path = failure.error.relative_schema_path
    if len(schema_path) >= 2 and schema_path[-2] == "propertyNames":
        name = show(failure.instance)
        return [failure.problem(f"{failure.where}: names must be non-empty strings, got {name}")]
    length = failure.error.validator_value
    rule = "must not be empty" if length == 1 else f"must be at least {length} characters long"
    return [failure.problem(f"{failure.where}: {rule}")]


def _token_problems(kind: Tokens, failure: _Failure) -> list[Problem]:
    """Why the value is not a string of ``kind``'s tokens: no token, bad spacing, or the unknown
    tokens (each once, with the closest valid one)."""
    value, where = failure.instance, failure.where
    allowed = ", ".join(kind.tokens)
    if not value.strip():
        return [failure.problem(f"{where}: {show(value)} must hold at least one token ({allowed})")]
    if value != " ".join(value.split()):
        return [
            failure.problem(
                f"{where}: {show(value)} must have exactly one space between tokens "
                "(no leading, trailing or repeated spaces, no tabs)"
            )
        ]
    out = []
    for token in dict.fromkeys(t for t in value.split(" ") if t not in kind.tokens):
        hint = suggest(token, kind.tokens)
        extra = f" (did you mean '{hint}'?)" if hint else ""
        out.append(
            failure.problem(
                f"{where}: unknown token {show(token)}{extra}; tokens are {allowed} "
                "separated by single spaces"
            )
        )
    return out


def _pattern(failure: _Failure) -> list[Problem]:
    kind = failure.kind_of_instance()
    if isinstance(kind, Tokens):
        return _token_problems(kind, failure)
    if isinstance(kind, Text) and kind.means:
        return [
            failure.problem(f"{failure.where}: expected {kind.means}, got {show(failure.instance)}")
        ]
    pattern = failure.error.validator_value
    return [
        failure.problem(
            f"{failure.where}: {show(failure.instance)} does not match the pattern {pattern}"
        )
    ]


def _required(failure: _Failure) -> list[Problem]:
    out = []
    for key in failure.error.validator_value:
        if key in failure.instance:
            continue
        kind = failure.kind((*failure.path, key))
        kind = unwrap(kind) if kind is not None else None  # absent: no option to select
        hint = ""
        if isinstance(kind, Choice):
            hint = f"; one of {', '.join(kind.values)}"
        elif isinstance(kind, Array) and kind.min_items is None:
            hint = "; may be an empty list"
        text = f"{join(failure.where, key)}: missing (required{hint})"
        out.append(failure.problem(text, (*failure.path, key)))
    return out


def _additional(failure: _Failure) -> list[Problem]:
    known = list(failure.error.schema.get("properties", {}))
    return [
        failure.problem(unknown_key_message(failure.where, key, known), (*failure.path, key))
        for key in failure.instance
        if key not in known
    ]


def _matches(schema_type: Any, found: str | None) -> bool:
    types = [schema_type] if isinstance(schema_type, str) else list(schema_type or ())
    return found in types or (found == "number" and "integer" in types)


def _any_of(failure: _Failure) -> list[Problem]:
    """The option of the value's JSON type explains the failure; when no option (or several)
    has that type, the value is of the wrong kind altogether."""
    found = json_type_of(failure.instance)
    options = [failure.resolve(option) for option in failure.error.validator_value]
    matching = [i for i, option in enumerate(options) if _matches(option.get("type"), found)]
    if len(matching) == 1:
        inner = [e for e in failure.error.context if e.relative_schema_path[0] == matching[0]]
        return translate(failure.context, inner)
    kind = failure.kind()
    if kind is not None:
        words = kind.expected()
    else:
        words = " or ".join(_TYPE_WORDS.get(o.get("type"), "another value") for o in options)
    return [failure.problem(f"{failure.where}: expected {words}, got {show(failure.instance)}")]


TRANSLATORS: Mapping[str, Callable[[_Failure], list[Problem]]] = {
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
        out.extend(TRANSLATORS[error.validator](_Failure(context, error)))
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
    elif isinstance(kind, Variants):
        parts = [f.kind for _, record in kind.variants for f in record.fields]
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


def _is_number(_checker: Any, instance: Any) -> bool:
    """A JSON number that is finite (and representable): never a boolean, NaN or infinity."""
    return (
        isinstance(instance, (int, float)) and not isinstance(instance, bool) and _finite(instance)
    )


def _is_integer(_checker: Any, instance: Any) -> bool:
    """A whole number: an int, or a finite float without a fraction (``3.0``); never a bool."""
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    return isinstance(instance, float) and _finite(instance) and instance.is_integer()


class DocumentValidator:
    """Validates documents against ``schema`` (built once; every keyword checked to have a
    translator) and explains each error in the words of ``kind`` (the catalog's, or None).

    ``meta_check`` validates ``schema`` against the Draft 2020-12 meta-schema first; the
    catalog's own schema skips it at run time (it is the largest fixed cost of a run's start,
    issue 16 item 2) because its tests check it."""

    def __init__(
        self, schema: Mapping[str, Any], kind: Kind | None = None, *, meta_check: bool = True
    ) -> None:
        import jsonschema  # lazy: importing asldro.params stays light

        check_keywords(schema)
        try:
            if meta_check:
                jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as err:
            raise SchemaBuildError(f"not a valid Draft 2020-12 schema: {err.message}") from None
        checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
            {"number": _is_number, "integer": _is_integer}
        )
        # types-jsonschema leaves validators.extend unannotated
        cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
            jsonschema.Draft202012Validator, type_checker=checker
        )
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


def validator_for(kind: Kind, *, meta_check: bool = True) -> DocumentValidator:
    """A validator of documents of ``kind`` against its generated schema."""
    return DocumentValidator(document_schema(kind), kind, meta_check=meta_check)


@lru_cache(maxsize=None)
def document_validator() -> DocumentValidator:
    """The validator of parameter files (the catalog's schema, built once; its meta-schema
    check is left to the tests: ``tests/params/test_validate.py``)."""
    return validator_for(DOCUMENT, meta_check=False)
