"""Sphinx configuration of the asldro documentation site (issue 17).

Build it as ``.ci/run`` does (warnings are errors)::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

The pages are the Markdown files of ``docs/`` (myst-parser), the README's sections (included, not
copied: ``getting-started.md``, ``bids-app.md``, ``containers.md``, ``slurm.md``),
``CHANGELOG.md``, and two pages made at build time by ``docs/_ext/asldro_docs.py``: the
parameter reference from ``asldro/params/catalog.py`` and the Python API from the docstrings.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(DOCS / "_ext"), str(ROOT)]

project = "asldro"
author = "asldro developers"
release = (ROOT / "version").read_text(encoding="utf-8").strip()
version = release
copyright = "asldro developers"  # pylint: disable=redefined-builtin  # Sphinx's setting name

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "asldro_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]

myst_heading_anchors = 4
"""GitHub-style anchors for headings down to ####, so the documents' own tables of contents
(``[4 General kinetic model](#4-general-kinetic-model)``) work on the site as on GitHub."""

autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = False
napoleon_numpy_docstring = True

html_theme = "alabaster"
html_title = f"asldro {release}"
html_theme_options = {
    "description": "Digital reference objects for ASL MRI, as BIDS datasets",
    # the parameter tables have seven columns: use the window's width
    "page_width": "95%",
    "body_max_width": "none",
    "sidebar_width": "230px",
}
