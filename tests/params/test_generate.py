"""The files made from the catalog are committed as the catalog makes them (issue 10, Build 1):
schema.json, defaults.json and the README parameter tables; ``--check`` names each stale one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from asldro.params import default_params
from asldro.params.catalog import GLOBAL, PARAMETERS, parameters
from asldro.params.generate import (
    DEFAULTS_FILE,
    END,
    README_FILE,
    ROOT,
    SCHEMA_FILE,
    START,
    defaults_document,
    expected_files,
    main,
)
from asldro.params.validate import document_schema

GENERATED = (SCHEMA_FILE, DEFAULTS_FILE, README_FILE)


def test_committed_files_are_what_the_catalog_makes() -> None:
    """schema.json, defaults.json and README.md are up to date (else: run the generator)."""
    for path, text in expected_files(ROOT).items():
        assert (
            path.read_text(encoding="utf-8") == text
        ), f"{path} is stale: run python -m asldro.params.generate"


def test_check_passes_on_the_tree() -> None:
    """``python -m asldro.params.generate --check`` exits 0 on the committed tree."""
    assert main(["--check"]) == 0


@pytest.fixture(name="tree")
def fixture_tree(tmp_path: Path) -> Path:
    """A copy of the three generated files in a scratch source tree."""
    for relative in GENERATED:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, tmp_path / relative)
    return tmp_path


def test_check_names_each_stale_file_and_writes_nothing(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-edited schema and README table: --check exits 1 naming both (not defaults.json)
    and changes nothing; the generator then rewrites both and --check passes."""
    schema = tree / SCHEMA_FILE
    schema.write_text(schema.read_text().replace('"exclusiveMinimum": 0', '"minimum": 0', 1))
    readme = tree / README_FILE
    readme.write_text(
        readme.read_text().replace("| `label_type` | asl |", "| `label_type` | ASL |")
    )
    before = {relative: (tree / relative).read_bytes() for relative in GENERATED}
    assert main(["--check", "--root", str(tree)]) == 1
    err = capsys.readouterr().err
    assert f"{schema} is stale" in err and f"{readme} is stale" in err
    assert str(tree / DEFAULTS_FILE) not in err
    assert {relative: (tree / relative).read_bytes() for relative in GENERATED} == before
    assert main(["--root", str(tree)]) == 0
    assert main(["--check", "--root", str(tree)]) == 0
    for relative in GENERATED:
        assert (tree / relative).read_bytes() == (ROOT / relative).read_bytes()


def test_missing_generated_file_is_stale(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A deleted defaults.json is reported, and written again."""
    (tree / DEFAULTS_FILE).unlink()
    assert main(["--check", "--root", str(tree)]) == 1
    assert f"{tree / DEFAULTS_FILE} is stale" in capsys.readouterr().err
    assert main(["--root", str(tree)]) == 0
    assert (tree / DEFAULTS_FILE).read_bytes() == (ROOT / DEFAULTS_FILE).read_bytes()


def test_readme_without_markers_is_an_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the markers the tables have no place: exit 1, README.md named, nothing written."""
    readme = tree / README_FILE
    readme.write_text(readme.read_text().replace(START, "").replace(END, ""))
    schema_before = (tree / SCHEMA_FILE).read_bytes()
    assert main(["--root", str(tree)]) == 1
    err = capsys.readouterr().err
    assert f"{readme}: no {START} ... {END} block" in err
    assert (tree / SCHEMA_FILE).read_bytes() == schema_before


def test_bad_argument_is_a_usage_error() -> None:
    """An unknown option exits 64."""
    assert main(["--bogus"]) == 64


def test_readme_has_one_row_per_catalog_row() -> None:
    """Between the markers: one table row per catalog row, in catalog order, key and series."""
    text = (ROOT / README_FILE).read_text(encoding="utf-8")
    block = text[text.index(START) : text.index(END)]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    keyed = [(line.split(" | ")[0][3:-1], line.split(" | ")[1]) for line in rows[: len(PARAMETERS)]]
    expected = [
        (row.name, ", ".join("global" if s == GLOBAL else s for s in row.series))
        for row in PARAMETERS
    ]
    assert keyed == expected


def test_schema_json_is_the_schema_the_loader_uses() -> None:
    """The committed schema.json is the schema validated against at run time."""
    committed = json.loads((ROOT / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert committed == document_schema()


def test_defaults_json_is_what_default_params_fills_in() -> None:
    """defaults.json's global configuration is the defaults file's; each series' defaults are
    the resolved defaults (a per-token default fitted to m0scan control label)."""
    committed = json.loads((ROOT / DEFAULTS_FILE).read_text(encoding="utf-8"))
    assert committed == defaults_document()
    params = default_params()
    assert committed["global_configuration"] == params["global_configuration"]
    series = {s["series_type"]: s["series_parameters"] for s in params["image_series"]}
    assert list(series) == committed["series_order"]
    for kind, defaults in committed["series_parameters"].items():
        rows = parameters(kind)
        present = [
            key
            for key, value in defaults.items()
            if value is not None and rows[key].resolved_when_absent
        ]
        assert list(series[kind]) == present
    assert series["asl"]["repetition_time"] == [10.0, 5.0, 5.0]
    assert series["asl"]["echo_time"] == [0.01] * 3
