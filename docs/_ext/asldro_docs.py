"""The pages of the documentation site made at build time (issue 17), never written by hand:

* ``parameters.md``: the parameter reference, every row of ``asldro/params/catalog.py`` (key,
  series, type and range, unit, default, origin, the BIDS field it maps to), the ground-truth
  quantities and scalar parameters, and the BIDS fields derived from several parameters or fixed;
* ``api.md``: the Python API from the docstrings: every name of ``asldro.__all__`` and every
  public module of :data:`API_MODULES` that exists (so a module added later, such as
  ``asldro.quantify``, appears once it is there).

Each page holds a marker line that the ``source-read`` event replaces with the generated
Markdown; a page that lost its marker fails the build.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any, Callable

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from asldro.params.catalog import (
    CONDITIONS,
    DERIVED,
    FIXED,
    GLOBAL,
    PARAMETERS,
    QUANTITIES,
    SCALAR_PARAMETERS,
    SERIES_TYPES,
    Collapse,
    Parameter,
)

# The cell rules of the README's parameter table (one rule: the README and the site agree).
from asldro.params.generate import _cell, _default_cell, _type_cell, summary

API_MODULES = (
    "asldro.api",
    "asldro.cohort",
    "asldro.quantify",
    "asldro.score",
    "asldro.scoring",
    "asldro.analysis",
    "asldro.analysis.quantify",
    "asldro.analysis.score",
)
"""The modules documented whole, when they exist (beside the names of ``asldro.__all__``)."""

SERIES_TITLES = {
    GLOBAL: "`global_configuration`",
    "asl": "`asl` series",
    "ground_truth": "`ground_truth` series",
    "structural": "`structural` series",
}
PARAMETER_COLUMNS = (
    "Key",
    "Type / range",
    "Unit",
    "Default",
    "Origin",
    "BIDS field",
    "Description",
)


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def bids_text(row: Parameter) -> str:
    """The BIDS field a parameter is written as, the sidecars that carry it and how."""
    if row.bids is None:
        return "—"
    words = f"`{row.bids.field}` ({', '.join(row.bids.sidecars)})"
    if row.bids.collapse is Collapse.SCALAR_OR_LIST:
        words += "; one value, or a list with one per volume"
    if row.bids.table:
        words += f"; converted by the `{row.bids.table}` table of asldro/bids/fields.json"
    if row.bids.when:
        words += f"; only when {CONDITIONS[row.bids.when]}"
    return words


def parameter_rows(series: str) -> list[Parameter]:
    """The catalog rows of one series type (or the global configuration), in catalog order."""
    return [row for row in PARAMETERS if series in row.series]


def parameter_reference() -> str:
    """The Markdown of the parameter reference."""
    lines: list[str] = []
    for series in (GLOBAL, *SERIES_TYPES):
        lines += ["", f"## {SERIES_TITLES.get(series, f'`{series}` series')}", ""]
        rows = []
        for row in parameter_rows(series):
            key = f"`{row.name}`" + (" (required)" if row.required else "")
            cells = (key, _type_cell(row), row.unit, _default_cell(row), row.origin)
            rows.append((*cells, bids_text(row), row.description))
        lines += _table(PARAMETER_COLUMNS, rows)
    for title, fields in (
        ("Ground-truth quantities", QUANTITIES),
        ("Scalar ground-truth parameters", SCALAR_PARAMETERS),
    ):
        lines += ["", f"## {title}", ""]
        lines += _table(
            ("Name", "Range", "Unit", "Description"),
            [(f"`{f.name}`", summary(f.kind), f.unit, f.description) for f in fields],
        )
    lines += ["", "## BIDS fields computed from several parameters", ""]
    lines += _table(
        ("BIDS field", "Sidecars", "Value", "Written"),
        [
            (
                f"`{row.field}`",
                ", ".join(row.sidecars),
                row.description,
                f"when {CONDITIONS[row.when]}" if row.when else "always",
            )
            for row in DERIVED
        ],
    )
    lines += ["", "## BIDS fields with a fixed value", ""]
    lines += _table(
        ("BIDS field", "Sidecars", "Value", "Why", "Written"),
        [
            (
                f"`{row.field}`",
                ", ".join(row.sidecars),
                f"`{row.value!r}`",
                row.description,
                f"when {CONDITIONS[row.when]}" if row.when else "always",
            )
            for row in FIXED
        ],
    )
    return "\n".join(lines) + "\n"


def _directive(qualified: str, value: Any) -> str:
    if inspect.isclass(value):
        return f".. autoclass:: {qualified}\n   :members:"
    if callable(value):
        return f".. autofunction:: {qualified}"
    return f".. autodata:: {qualified}\n   :no-value:"


def existing_api_modules() -> list[str]:
    """The modules of :data:`API_MODULES` that are there."""
    found = []
    for name in API_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # its parent package is missing
            spec = None
        if spec is not None:
            found.append(name)
    return found


def api_reference() -> str:
    """The Markdown of the Python API page (autodoc directives in ``eval-rst`` blocks)."""
    asldro = importlib.import_module("asldro")
    names = [name for name in asldro.__all__ if not name.startswith("__")]
    lines = ["", "## The `asldro` package", "", "```{eval-rst}"]
    for name in names:
        lines += [_directive(f"asldro.{name}", getattr(asldro, name)), ""]
    lines += ["```"]
    for module in existing_api_modules():
        lines += ["", f"## `{module}`", "", "```{eval-rst}"]
        lines += [f".. automodule:: {module}", "   :members:", "```"]
    return "\n".join(lines) + "\n"


GENERATED: dict[str, tuple[str, Callable[[], str]]] = {
    "parameters": ("<!-- asldro:parameter-reference -->", parameter_reference),
    "api": ("<!-- asldro:api-reference -->", api_reference),
}
"""Page -> (the marker line the generated Markdown replaces, the function that makes it)."""


def _fill(app: Sphinx, docname: str, source: list[str]) -> None:
    del app  # the event's signature
    if docname not in GENERATED:
        return
    marker, make = GENERATED[docname]
    if marker not in source[0]:
        raise ExtensionError(f"docs/{docname}.md has no {marker} line to fill")
    source[0] = source[0].replace(marker, make())


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the page generators."""
    app.connect("source-read", _fill)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
