"""The catalog is the one statement of each parameter: the typed series match it field for
field, the loader fills them from its rows, and its facts are the ones docs/physics.md states."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from asldro.params import default_params, load_params
from asldro.params.catalog import (
    GLOBAL,
    SERIES_TYPES,
    PerVolume,
    parameters,
)
from asldro.params.kinds import NO_DEFAULT
from asldro.params.series import _GROUPS
from asldro.params.types import (
    NON_PARAMETER_FIELDS,
    AslSeries,
    GlobalConfig,
    GroundTruthSeries,
    Motion,
    StructuralSeries,
)
from asldro.params.validate import document_schema

from .conftest import asl, document, structural

TYPED = {"asl": AslSeries, "structural": StructuralSeries, "ground_truth": GroundTruthSeries}


def _fields(cls: type) -> set[str]:
    return {field.name for field in dataclasses.fields(cls)}


@pytest.mark.parametrize("series_type", SERIES_TYPES)
def test_typed_series_has_a_field_for_every_row(series_type: str) -> None:
    """Every catalog row of a series type is a field of its typed series (or a field of the
    group the row belongs to, e.g. Motion.rot_x)."""
    fields = _fields(TYPED[series_type])
    for name, row in parameters(series_type).items():
        if row.group is None:
            assert name in fields, f"{TYPED[series_type].__name__} has no field {name}"
        else:
            assert row.group in fields
            assert name in _fields(_GROUPS[row.group])


@pytest.mark.parametrize("series_type", SERIES_TYPES)
def test_every_typed_field_is_a_row_a_group_or_documented(series_type: str) -> None:
    """No field of a typed series lives outside the catalog except the documented ones."""
    rows = parameters(series_type)
    groups = {row.group for row in rows.values() if row.group}
    assert _fields(TYPED[series_type]) <= set(rows) | groups | set(NON_PARAMETER_FIELDS)


@pytest.mark.parametrize("series_type", SERIES_TYPES)
def test_the_motion_group_is_the_motion_record(series_type: str) -> None:
    """The rows of the motion group are exactly Motion's fields."""
    grouped = {name for name, row in parameters(series_type).items() if row.group == "motion"}
    assert grouped == _fields(Motion)


def test_global_config_fields_are_the_global_rows() -> None:
    """GlobalConfig has one field per global_configuration row and no other."""
    assert _fields(GlobalConfig) == set(parameters(GLOBAL))


def test_per_token_keys_are_the_eight_of_physics_md() -> None:
    """docs/physics.md §2.3: echo_time, repetition_time, rot_*, transl_* are the per-volume keys."""
    per_token = {
        name for name, row in parameters("asl").items() if row.per_volume is PerVolume.PER_TOKEN
    }
    assert per_token == {"echo_time", "repetition_time"} | _fields(Motion)


def _varied() -> dict:
    return document(
        asl(
            asl_context="control label m0scan",
            label_type="pasl",
            label_duration=0.7,
            signal_time=1.9,
            label_efficiency=0.95,
            lambda_blood_brain=0.88,
            t1_arterial_blood=1.6,
            m0=12.5,
            echo_time=[0.02, 0.03, 0.04],
            repetition_time=[4, 4.5, 9],
            rot_x=[1, 2, 3],
            rot_y=[4, 5, 6],
            rot_z=[7, 8, 9],
            transl_x=[-1, -2, -3],
            transl_y=[-4, -5, -6],
            transl_z=[-7, -8, -9],
            acq_matrix=[8, 6, 4],
            acq_contrast="ge",
            desired_snr=33,
            random_seed=7,
            excitation_flip_angle=40,
            inversion_flip_angle=170,
            inversion_time=0.8,
        ),
        structural(
            echo_time=0.02,
            repetition_time=2,
            rot_x=1,
            rot_y=2,
            rot_z=3,
            transl_x=4,
            transl_y=5,
            transl_z=6,
            acq_matrix=[5, 6, 7],
            acq_contrast="ir",
            excitation_flip_angle=30,
            inversion_flip_angle=150,
            inversion_time=0.5,
            desired_snr=20,
            random_seed=3,
            output_image_type="complex",
            modality="T2w",
        ),
        {
            "series_type": "ground_truth",
            "series_parameters": {"rot_z": 10, "transl_y": 2, "acq_matrix": [3, 4, 5]},
        },
        image_override={"m0": 4},
        parameter_override={"lambda_blood_brain": 0.9},
        ground_truth_modulate={"t1": {"scale": 1.2}},
    )


@pytest.mark.parametrize("source", [default_params(), _varied()], ids=["defaults", "varied"])
def test_series_from_takes_every_row(source: dict) -> None:
    """Each typed field holds its row's resolved value (lists as tuples, tokens as a tuple, the
    motion rows as one Motion per volume for asl and one Motion otherwise)."""
    params = load_params(source)
    for resolved, series in zip(params.resolved["image_series"], params.series):
        values = resolved["series_parameters"]
        assert series.description == resolved["series_description"]
        assert series.series_type == resolved["series_type"]
        for name, row in parameters(series.series_type).items():
            if name not in values and not row.resolved_when_absent:
                default = None if row.default is NO_DEFAULT else row.default
                assert getattr(series, name) == default  # the typed series has the default
            elif name not in values:
                assert getattr(series, name) is None
            elif row.group is not None and row.per_volume is PerVolume.PER_TOKEN:
                assert [getattr(m, name) for m in getattr(series, row.group)] == values[name]
            elif row.group is not None:
                assert getattr(getattr(series, row.group), name) == values[name]
            elif name == "asl_context":
                assert series.asl_context == tuple(values[name].split(" "))
            else:
                value = values[name]
                assert getattr(series, name) == (tuple(value) if isinstance(value, list) else value)


def test_resolved_documents_validate_against_the_schema(tmp_path: Path) -> None:
    """The resolved document (defaults, and a varied file) satisfies the generated schema, as a
    plain Draft 2020-12 validator sees it."""
    validator = jsonschema.Draft202012Validator(document_schema())
    validator.validate(default_params())
    (tmp_path / "g.nii").write_bytes(b"")
    (tmp_path / "g.json").write_text("{}")
    varied = _varied()
    varied["global_configuration"]["ground_truth"] = str(tmp_path / "g.nii")
    validator.validate(load_params(varied).resolved)
    validator.validate(json.loads(json.dumps(load_params(varied).resolved)))


def test_the_schema_alone_rejects_what_the_loader_rejects() -> None:
    """An unknown key and a zero echo time fail the schema itself, not only the loader."""
    validator = jsonschema.Draft202012Validator(document_schema())
    bad = default_params()
    bad["image_series"][0]["series_parameters"]["snr"] = 3
    assert not validator.is_valid(bad)
    bad = default_params()
    bad["image_series"][2]["series_parameters"]["echo_time"] = 0
    assert not validator.is_valid(bad)


def test_an_entry_without_series_type_gets_no_variant() -> None:
    """The if/then of each series type requires series_type: an entry without one is reported
    once (missing), not checked against all three types' keys."""
    validator = jsonschema.Draft202012Validator(document_schema())
    entry = {"series_parameters": {"asl_context": "label", "modality": "T1w"}}
    errors = list(validator.iter_errors(document(entry)))
    assert [error.validator for error in errors] == ["required"]
