"""The documentation site (issue 17): it builds with Sphinx with warnings as errors, its parameter
reference lists every row of the parameter catalog, and its API page every public name."""

from __future__ import annotations

import html
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import asldro
from asldro.params.catalog import (
    DERIVED,
    FIXED,
    GLOBAL,
    PARAMETERS,
    QUANTITIES,
    SCALAR_PARAMETERS,
    SERIES_TYPES,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
VERSION = (ROOT / "version").read_text(encoding="utf-8").strip()
sys.path.insert(0, str(DOCS / "_ext"))
asldro_docs = importlib.import_module("asldro_docs")


def _sections(markdown: str) -> dict[str, str]:
    """``## title`` -> the Markdown under it."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def _table_rows(markdown: str) -> dict[str, list[str]]:
    """First cell (the key, without backticks or notes) -> the row's cells."""
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[re.match(r"`([^`]+)`", cells[0]).group(1)] = cells
    return rows


def test_parameter_reference_lists_every_catalog_row():
    """Every (series, key) of the catalog is a row of its series' table, with its unit, default,
    origin and BIDS field; every quantity, scalar parameter, derived and fixed field too."""
    sections = _sections(asldro_docs.parameter_reference())
    for series in (GLOBAL, *SERIES_TYPES):
        title = asldro_docs.SERIES_TITLES[series]
        rows = _table_rows(sections[title])
        expected = [row for row in PARAMETERS if series in row.series]
        assert sorted(rows) == sorted(row.name for row in expected), series
        for row in expected:
            key, _kind, unit, _default, origin, bids, description = rows[row.name]
            assert unit == row.unit and origin == row.origin
            assert description == row.description.replace("|", "\\|")
            assert (row.bids is None) == (bids == "—")
            if row.bids is not None:
                assert bids.startswith(f"`{row.bids.field}` (")
            assert key.endswith("(required)") == row.required
    assert set(_table_rows(sections["Ground-truth quantities"])) == {q.name for q in QUANTITIES}
    assert set(_table_rows(sections["Scalar ground-truth parameters"])) == {
        p.name for p in SCALAR_PARAMETERS
    }
    derived = _table_rows(sections["BIDS fields computed from several parameters"])
    assert set(derived) == {row.field for row in DERIVED}
    assert set(_table_rows(sections["BIDS fields with a fixed value"])) == {
        row.field for row in FIXED
    }


def test_parameter_reference_follows_a_new_catalog_row(monkeypatch):
    """Generated, not hand-written: a row added to the catalog appears on the page."""
    extra = PARAMETERS[-1].__class__(
        "a_key_added_later", ("asl",), PARAMETERS[-1].kind, "s", 1.0, "Added by a test"
    )
    monkeypatch.setattr(asldro_docs, "PARAMETERS", (*PARAMETERS, extra))
    rows = _table_rows(_sections(asldro_docs.parameter_reference())["`asl` series"])
    assert rows["a_key_added_later"][2] == "s"


def test_api_page_documents_every_public_name_and_module():
    """Every name of ``asldro.__all__`` and every existing public module (a module added later,
    such as ``asldro.quantify``, is picked up by existing_api_modules)."""
    page = asldro_docs.api_reference()
    for name in asldro.__all__:
        if not name.startswith("__"):
            assert re.search(rf"^\.\. auto\w+:: asldro\.{name}$", page, flags=re.MULTILINE), name
    modules = asldro_docs.existing_api_modules()
    assert "asldro.api" in modules
    for module in modules:
        assert f".. automodule:: {module}\n" in page


def test_api_page_takes_a_module_once_it_exists(monkeypatch):
    """A listed module that is not there yet is left out; once it exists it is documented."""
    monkeypatch.setattr(
        asldro_docs, "API_MODULES", ("asldro.api", "asldro.not_there_yet", "nothere.quantify")
    )
    assert asldro_docs.existing_api_modules() == ["asldro.api"]
    monkeypatch.setattr(asldro_docs, "API_MODULES", ("asldro.api", "asldro.resources"))
    assert ".. automodule:: asldro.resources\n" in asldro_docs.api_reference()


@pytest.fixture(name="site", scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built as .ci/run builds it: ``sphinx -W`` (a warning fails the build)."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(out / "doctrees"),
            str(DOCS),
            str(out / "html"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return out / "html"


def _text(page: Path) -> str:
    """The page's text, tags removed and white space collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    return re.sub(r"\s+", " ", text)


def test_site_has_every_page(site):
    """Getting started, the parameter reference, physics and BIDS with their references, the
    BIDS-App, container and SLURM guides, the API and the changelog."""
    for name, words in {
        "getting-started": "asldro generate [--params P.json] OUT",
        "parameters": "label_efficiency",
        "physics": "Buxton RB, Frank LR",
        "bids": "Clement et al. 2022",
        "bids-app": "OUTPUT_DIR must be missing, empty, or an asldro dataset",
        "containers": "apptainer build",
        "slurm": "sbatch --array=1-20",
        "api": "Generate a BIDS dataset at output",
        "changelog": f"[{VERSION}]",
    }.items():
        assert words in _text(site / f"{name}.html"), name
    assert 'id="asldro.generate"' in (site / "api.html").read_text(encoding="utf-8")


def test_built_parameter_page_lists_every_key(site):
    """The rendered page has each key in its series' section."""
    page = (site / "parameters.html").read_text(encoding="utf-8")
    for series in (GLOBAL, *SERIES_TYPES):
        section_id = re.sub(r"[^a-z0-9]+", "-", series.replace("_", "-")).strip("-")
        match = re.search(rf'<section id="{section_id}(-series)?">(.*?)</section>', page, re.S)
        assert match, series
        for row in PARAMETERS:
            if series in row.series:
                assert f'<span class="pre">{row.name}</span>' in match.group(2), (series, row)
