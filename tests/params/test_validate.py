"""The schema fails closed: jsonschema validates, every kind and keyword has its one-line message,
and a keyword without a translator fails the schema build (issue 10, Build 1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from asldro.params import ParamError, load_params
from asldro.params.catalog import PARAMETERS, Parameter, document_kind
from asldro.params.kinds import Boolean, Integer, Number
from asldro.params.validate import (
    ANNOTATIONS,
    APPLICATORS,
    TRANSLATORS,
    DocumentValidator,
    SchemaBuildError,
    check_keywords,
    convert,
    document_schema,
    document_validator,
    validator_for,
)

from .conftest import asl, document

SP0 = "image_series[0].series_parameters"

# One case per kind and keyword, through the real catalog and load_params: (id, document, the
# exact and only message).
FAIL_CLOSED: list[tuple[str, Any, str]] = [
    (
        "enum typo",
        document(asl(label_type="pcsal")),
        f"{SP0}.label_type: \"pcsal\" is not one of casl, pcasl, pasl (did you mean 'pcasl'?)",
    ),
    (
        "tokens pattern",
        document(asl(asl_context="control lable")),
        f"{SP0}.asl_context: unknown token \"lable\" (did you mean 'label'?); tokens are "
        "m0scan, control, label, deltam, cbf, noRF separated by single spaces",
    ),
    (
        "text pattern (nii)",
        document(ground_truth={"nii": "gt.nii.bak", "json": "gt.json"}),
        'global_configuration.ground_truth.nii: expected a path ending in .nii.gz or .nii, got "gt.nii.bak"',
    ),
    (
        "nested object",
        document(ground_truth_modulate={"t1": {"scael": 2}}),
        "global_configuration.ground_truth_modulate.t1.scael: unknown key (did you mean 'scale'?)",
    ),
    (
        "array item",
        document(asl(acq_matrix=[64, 64, 0])),
        f"{SP0}.acq_matrix[2]: 0 must be > 0",
    ),
    (
        "array length",
        document(asl(acq_matrix=[64, 64, 12, 1])),
        f"{SP0}.acq_matrix: expected 3 values, got 4",
    ),
    (
        "anyOf, no option of that type",
        document(asl(echo_time="short")),
        f"{SP0}.echo_time: expected a number or a list of numbers (one per asl_context volume), "
        'or {m0scan, control, label}, got "short"',
    ),
    (
        "anyOf, the option of that type explains",
        document(asl(echo_time=[0.01, "x", 0.01])),
        f'{SP0}.echo_time[1]: expected a number, got "x"',
    ),
    (
        "anyOf of a string and an object",
        document(ground_truth=["gt.nii"]),
        "global_configuration.ground_truth: expected a built-in name, a .nii/.nii.gz path, "
        '{"nii": path, "json": path}, {"nii_file": path, "json_file": path} or '
        '{"probseg": ..., "maps": ...}, got ["gt.nii"]',
    ),
    (
        "integer with a fraction (the type hides the bound)",
        document(asl(random_seed=-2.5)),
        f"{SP0}.random_seed: expected an integer, got -2.5",
    ),
    (
        "closed table",
        document(parameter_override={"t1_blood": 1.6}),
        "global_configuration.parameter_override.t1_blood: unknown key "
        "(did you mean 't1_arterial_blood'?)",
    ),
    (
        "table value range",
        document(image_override={"t2_star": 101}),
        "global_configuration.image_override.t2_star: 101 must be in [0, 100]",
    ),
    (
        "table names",
        document(image_override={"": 1}),
        'global_configuration.image_override: names must be non-empty strings, got ""',
    ),
    (
        "required with its choices",
        document({"series_description": "no type"}),
        "image_series[0].series_type: missing (required; one of asl, structural, ground_truth)",
    ),
    (
        "required in a record",
        document(asl(echo_time={"m0scan": 0.01, "control": 0.01})),
        f"{SP0}.echo_time.label: missing (required)",
    ),
    (
        "text length",
        document(ground_truth=""),
        "global_configuration.ground_truth: must not be empty",
    ),
    (
        "tagged object: the variant's keys",
        document({"series_type": "Ground_Truth", "series_parameters": {"modality": "T1w"}}),
        f"{SP0}.modality: unknown key (allowed: rot_x, rot_y, rot_z, transl_x, transl_y, "
        "transl_z, acq_matrix, interpolation)",
    ),
    (
        "huge integer for a number (no OverflowError)",
        document(asl(desired_snr=10**400)),
        f"{SP0}.desired_snr: expected a number, got 1{'0' * 56}...",
    ),
]


@pytest.mark.parametrize(
    "source, expected", [c[1:] for c in FAIL_CLOSED], ids=[c[0] for c in FAIL_CLOSED]
)
def test_each_kind_fails_closed_with_one_line(source: Any, expected: str) -> None:
    """The exact one-line message of each kind's failure, and nothing else."""
    with pytest.raises(ParamError) as info:
        load_params(source)
    assert info.value.errors == [expected]


FLAG = Parameter("flag", ("asl",), Boolean(), "", False, "A test-only switch")
SHARE = Parameter("share", ("asl",), Number(minimum=0, maximum=1), "", 0.5, "A test fraction")


@pytest.fixture(name="test_catalog", scope="module")
def fixture_test_catalog() -> DocumentValidator:
    """A validator of documents whose asl series have two test-local rows (a Boolean, which the
    catalog does not have yet, and a bounded Number)."""
    return validator_for(document_kind((*PARAMETERS, FLAG, SHARE)))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("yes", f'{SP0}.flag: expected true or false, got "yes"'),
        (1, f"{SP0}.flag: expected true or false, got 1"),
        (None, f"{SP0}.flag: expected true or false, got null"),
    ],
)
def test_boolean_refuses_yes(test_catalog: DocumentValidator, value: Any, expected: str) -> None:
    """A Boolean row takes true or false only (rules.check let "yes" through)."""
    assert test_catalog.messages(document(asl(flag=value))) == [expected]


def test_boolean_accepts_true_and_false(test_catalog: DocumentValidator) -> None:
    """true and false pass, and stay booleans."""
    for value in (True, False):
        assert test_catalog.messages(document(asl(flag=value))) == []
        assert convert(FLAG.kind, value) is value


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, f"{SP0}.share: expected a number, got true"),
        (float("inf"), f"{SP0}.share: expected a number, got Infinity"),
        (float("nan"), f"{SP0}.share: expected a number, got NaN"),
        ("0.5", f'{SP0}.share: expected a number, got "0.5"'),
        (2, f"{SP0}.share: 2 must be in [0, 1]"),
    ],
)
def test_number_rules(test_catalog: DocumentValidator, value: Any, expected: str) -> None:
    """Numbers: booleans, strings and non-finite values refused, bounds enforced."""
    assert test_catalog.messages(document(asl(share=value))) == [expected]


def test_ints_are_numbers_and_stored_as_float(test_catalog: DocumentValidator) -> None:
    """An int passes for a number and is converted to float; 3.0 passes for an integer."""
    assert test_catalog.messages(document(asl(share=1))) == []
    assert convert(SHARE.kind, 1) == 1.0 and isinstance(convert(SHARE.kind, 1), float)
    assert convert(Integer(), 3.0) == 3 and isinstance(convert(Integer(), 3.0), int)


def test_case_is_normalised_before_validation(test_catalog: DocumentValidator) -> None:
    """Enum values and tokens in another case are valid (D10), typos are not."""
    source = document({"series_type": "ASL", "series_parameters": {"label_type": "PCasl"}})
    assert test_catalog.messages(source) == []
    assert document_validator().messages(document(asl(asl_context="Control LABEL"))) == []


# ---------------------------------------------------------------------------------------------
# The schema build


@pytest.mark.parametrize(
    "keyword, value",
    [
        ("not", {"type": "string"}),
        ("dependentRequired", {"a": ["b"]}),
        ("multipleOf", 2),
        ("uniqueItems", True),
        ("oneOf", [{"type": "string"}, {"type": "number"}]),
        ("patternProperties", {"^x": {"type": "number"}}),
        ("format", "email"),
        ("x-per-volume", True),
    ],
)
def test_keyword_without_translator_fails_the_build(keyword: str, value: Any) -> None:
    """A schema keyword that no translator explains is an error when the schema is built,
    wherever it sits (here inside properties, anyOf and $defs)."""
    for schema, pointer in (
        ({"type": "object", "properties": {"x": {keyword: value}}}, "#/properties/x"),
        ({"anyOf": [{"type": "number"}, {keyword: value}]}, "#/anyOf/1"),
        ({"$defs": {"d": {"items": {keyword: value}}}}, "#/$defs/d/items"),
    ):
        message = re.escape(f"{pointer}/{keyword}: JSON Schema keyword {keyword!r} has no")
        with pytest.raises(SchemaBuildError, match=f"^{message}"):
            DocumentValidator(schema)


@dataclass(frozen=True)
class _Even(Integer):
    """A test kind whose schema uses a keyword that nothing translates."""

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "multipleOf": 2}


def test_a_kind_emitting_an_unknown_keyword_fails_the_build() -> None:
    """A catalog row whose kind emits an untranslated keyword: the validator cannot be built."""
    row = Parameter("pairs", ("asl",), _Even(), "", 2, "A test-only even count")
    with pytest.raises(SchemaBuildError, match="multipleOf"):
        validator_for(document_kind((*PARAMETERS, row)))


def test_the_generated_schema_builds() -> None:
    """The catalog's schema uses translated keywords, applicators and annotations only."""
    check_keywords(document_schema())
    assert document_validator().schema == document_schema()


def test_the_catalog_schema_is_a_valid_draft_2020_12_schema() -> None:
    """The run-time validator skips the meta-schema check of the catalog's schema (issue 16
    item 2): this is where it is made."""
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(document_schema())


def test_an_invalid_schema_fails_the_build() -> None:
    """A schema that is not Draft 2020-12 (a type that does not exist) is refused too."""
    with pytest.raises(SchemaBuildError, match="not a valid Draft 2020-12 schema"):
        DocumentValidator({"type": "decimal"})


def test_translators_applicators_and_annotations_do_not_overlap_wrongly() -> None:
    """An annotation is never a translated keyword (it would then never be checked)."""
    assert not ANNOTATIONS & set(TRANSLATORS)
    assert not ANNOTATIONS & set(APPLICATORS)


# ---------------------------------------------------------------------------------------------
# Translators without a catalog kind (a schema given as such): generic words


@pytest.mark.parametrize(
    "schema, value, expected",
    [
        ({"const": 2}, 3, "x: 3 must be 2"),
        ({"type": "number"}, "s", 'x: expected a number, got "s"'),
        ({"type": ["string", "null"]}, 1, "x: expected a string or null, got 1"),
        ({"pattern": "^a"}, "b", 'x: "b" does not match the pattern ^a'),
        ({"minLength": 3}, "ab", "x: must be at least 3 characters long"),
        ({"maxItems": 1}, [1, 2], "x: expected at most 1 values, got 2"),
        ({"minItems": 2}, [1], "x: expected at least 2 values, got 1"),
        ({"exclusiveMaximum": 1}, 1, "x: 1 must be < 1"),
        ({"enum": ["se", "ge"]}, "sge", "x: \"sge\" is not one of se, ge (did you mean 'se'?)"),
        (
            {"anyOf": [{"type": "number"}, {"type": "array"}]},
            "s",
            'x: expected a number or a list, got "s"',
        ),
        (
            {"type": "object", "required": ["a"], "properties": {"a": {}}},
            {},
            "x.a: missing (required)",
        ),
    ],
)
def test_generic_translations(schema: dict[str, Any], value: Any, expected: str) -> None:
    """Each translator also speaks without a catalog kind (const is only emitted inside if)."""
    validator = DocumentValidator({"type": "object", "properties": {"x": schema}})
    assert validator.messages({"x": value}) == [expected]
