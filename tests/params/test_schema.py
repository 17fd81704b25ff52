"""schema.json and defaults.json are consistent data (the single source of rules and defaults)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

import asldro.params
from asldro.params import (
    AslSeries,
    GroundTruthSeries,
    Motion,
    StructuralSeries,
    default_params,
    load_params,
)

from .conftest import asl, document, structural

PACKAGE = Path(asldro.params.__file__).parent
SCHEMA = json.loads((PACKAGE / "schema.json").read_text())
DEFAULTS = json.loads((PACKAGE / "defaults.json").read_text())
TYPED = {"asl": AslSeries, "structural": StructuralSeries, "ground_truth": GroundTruthSeries}
MOTION_KEYS = {field.name for field in dataclasses.fields(Motion)}


def test_schema_is_valid_json_schema() -> None:
    """schema.json is a valid Draft 2020-12 schema."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("series_type", sorted(TYPED))
def test_schema_and_defaults_list_the_same_keys(series_type: str) -> None:
    """Every schema key has an entry in defaults.json (null: no default) and vice versa."""
    properties = SCHEMA["$defs"][f"{series_type}_parameters"]["properties"]
    assert set(properties) == set(DEFAULTS["series_parameters"][series_type])


@pytest.mark.parametrize("series_type", sorted(TYPED))
def test_every_key_reaches_the_typed_series(series_type: str) -> None:
    """Each series_parameters key is a field of the typed series (or a Motion component)."""
    fields = {field.name for field in dataclasses.fields(TYPED[series_type])}
    for key in DEFAULTS["series_parameters"][series_type]:
        assert key in fields or key in MOTION_KEYS or key == "asl_context", key


def test_resolved_documents_validate_against_schema(tmp_path: Path) -> None:
    """The resolved document (defaults and a varied file) satisfies schema.json."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    validator.validate(default_params())
    (tmp_path / "g.nii").write_bytes(b"")
    (tmp_path / "g.json").write_text("{}")
    varied = load_params(
        document(
            asl(asl_context="CONTROL label", rot_z=3, lambda_blood_brain=0.9, m0=10),
            asl(asl_context="m0scan"),
            structural(modality="flair", acq_contrast="IR", repetition_time=9),
            ground_truth=str(tmp_path / "g.nii"),
            ground_truth_modulate={"t1": {"offset": 0.1}},
        )
    )
    validator.validate(varied.resolved)


def test_schema_rejects_what_the_loader_rejects() -> None:
    """The schema itself flags an unknown key and a non-positive echo time."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    bad = default_params()
    bad["image_series"][0]["series_parameters"]["snr"] = 3
    assert not validator.is_valid(bad)
    bad = default_params()
    bad["image_series"][2]["series_parameters"]["echo_time"] = 0
    assert not validator.is_valid(bad)


def test_per_volume_keys_are_the_eight_of_physics_md() -> None:
    """physics.md §2.3: echo_time, repetition_time, rot_*, transl_* are the per-volume keys."""
    properties = SCHEMA["$defs"]["asl_parameters"]["properties"]
    per_volume = {key for key, rule in properties.items() if rule.get("x-per-volume")}
    assert per_volume == {"echo_time", "repetition_time"} | MOTION_KEYS
