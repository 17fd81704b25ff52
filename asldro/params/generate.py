"""Write the files made from the catalog: ``python -m asldro.params.generate [--check]``.

* ``asldro/params/schema.json``: the JSON Schema (Draft 2020-12) of a parameter file, the one
  the loader validates with (:func:`asldro.params.validate.document_schema`);
* ``asldro/params/defaults.json``: the defaults of every key (docs/physics.md §2.3-§2.5);
* the parameter tables of ``README.md``, between ``<!-- parameters:start -->`` and
  ``<!-- parameters:end -->``.

``--check`` writes nothing and exits 1 naming each file that is not what the catalog makes (a
test runs it). Edit ``asldro/params/catalog.py``, then run this module.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from asldro.params.catalog import (
    DEFAULTS_FILE_SERIES,
    GLOBAL,
    PARAMETERS,
    QUANTITIES,
    SCALAR_PARAMETERS,
    Parameter,
    PerVolume,
    defaults_file_global,
    parameters,
)
from asldro.params.kinds import (
    NO_DEFAULT,
    AnyOf,
    Array,
    Boolean,
    Choice,
    Field,
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
)
from asldro.params.rules import bounds_text
from asldro.params.validate import document_schema

ROOT = Path(__file__).resolve().parents[2]
"""The source tree this module belongs to (README.md is at its top)."""

SCHEMA_FILE = Path("asldro/params/schema.json")
DEFAULTS_FILE = Path("asldro/params/defaults.json")
README_FILE = Path("README.md")
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"

EXIT_STALE = 1
EXIT_USAGE = 64

_DEFAULTS_COMMENT = (
    "Defaults of the ASLDRO 2.x parameter file (docs/physics.md §2.3-§2.5), generated from "
    "asldro/params/catalog.py by python -m asldro.params.generate. Per-volume keys of an asl "
    "series (PerVolume.PER_TOKEN in the catalog) take a number (same for every volume) or an "
    "object {token: number} keyed by asl_context token. null means 'no default: absent unless "
    "given'. The keys added after ASLDRO 2.2.0 with a default ("
    + ", ".join(
        f"{row.name} of {'/'.join(row.series)}"
        for row in PARAMETERS
        if not row.resolved_when_absent
    )
    + ") take it when absent but a resolved file states them only when given."
)


# --------------------------------------------------------------------------------------------
# JSON files


def _compact(value: Any, indent: int = 0) -> str:
    """JSON with two-space indents, a list or object of plain values kept on one line."""
    plain = not any(isinstance(v, (list, dict)) and v for v in _items(value))
    if not isinstance(value, (list, dict)) or not value or plain:
        return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    inner = " " * (indent + 2)
    if isinstance(value, list):
        parts = [inner + _compact(item, indent + 2) for item in value]
        return "[\n" + ",\n".join(parts) + "\n" + " " * indent + "]"
    parts = [f"{inner}{json.dumps(k)}: {_compact(v, indent + 2)}" for k, v in value.items()]
    return "{\n" + ",\n".join(parts) + "\n" + " " * indent + "}"


def _items(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def _spread(value: Mapping[str, Any], indent: int = 0) -> str:
    """An object over one line per key (its values as :func:`_compact` makes them)."""
    inner = " " * (indent + 2)
    parts = [f"{inner}{json.dumps(k)}: {_compact(v, indent + 2)}" for k, v in value.items()]
    return "{\n" + ",\n".join(parts) + "\n" + " " * indent + "}"


def defaults_document() -> dict[str, Any]:
    """The content of ``defaults.json``: the defaults file's ``global_configuration``, the
    series order of the defaults file, and every key's default per series type (``null``:
    absent unless given)."""
    return {
        "_comment": _DEFAULTS_COMMENT,
        "global_configuration": defaults_file_global(),
        "series_order": list(DEFAULTS_FILE_SERIES),
        "series_parameters": {
            kind: {
                name: None if row.default is NO_DEFAULT else row.default
                for name, row in parameters(kind).items()
            }
            for kind in DEFAULTS_FILE_SERIES
        },
    }


def defaults_text() -> str:
    """The text of ``defaults.json`` (the global defaults one per line, as in ASLDRO's file)."""
    document = defaults_document()
    parts = [
        f"  {json.dumps(key)}: "
        + (_spread(value, 2) if key == "global_configuration" else _compact(value, 2))
        for key, value in document.items()
    ]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def schema_text() -> str:
    """The text of ``schema.json``."""
    return json.dumps(document_schema(), indent=2) + "\n"


# --------------------------------------------------------------------------------------------
# The README tables


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    return f"`{json.dumps(value)}`"


# pylint: disable-next=too-many-branches  # one branch per kind of the catalog
def summary(kind: Kind) -> str:
    """A kind in a few words for the README: ``number in [0, 100]``, ``one of ge, se, ir``."""
    words = None
    if isinstance(kind, Named):
        words = kind.title or summary(kind.kind)
    elif isinstance(kind, (Number, Integer)):
        name = "number" if isinstance(kind, Number) else "integer"
        bounds = bounds_text(kind.schema())
        words = f"{name} {bounds}" if bounds else name
    elif isinstance(kind, Boolean):
        words = "true or false"
    elif isinstance(kind, Choice):
        words = "one of " + ", ".join(f"`{value}`" for value in kind.values)
    elif isinstance(kind, Tokens):
        words = "space-separated " + ", ".join(f"`{token}`" for token in kind.tokens)
    elif isinstance(kind, Text):
        words = kind.means or ("non-empty text" if kind.min_length else "text")
    elif isinstance(kind, Array):
        if kind.min_items is not None and kind.min_items == kind.max_items:
            words = f"{kind.min_items} × {summary(kind.item)}"
        else:
            words = f"list of {summary(kind.item)}"
    elif isinstance(kind, Record):
        words = "{" + ", ".join(f"{f.name}: {summary(f.kind)}" for f in kind.fields) + "}"
    elif isinstance(kind, Table):
        if kind.value is None:
            words = "{" + ", ".join(f.name for f in kind.known) + ": number}"
        else:
            known = " (the known names have their own ranges)" if kind.known else ""
            words = "{name: " + summary(kind.value) + "}" + known
    elif isinstance(kind, AnyOf):
        words = " or ".join(summary(option) for option in kind.options)
    elif isinstance(kind, Tagged):
        words = "object"
    elif isinstance(kind, Variants):
        words = " or ".join(
            "{"
            + ", ".join(
                [f"{kind.tag}: `{name}`", *(_field_words(record, f) for f in record.fields)]
            )
            + "}"
            for name, record in kind.variants
        )
    return words or type(kind).__name__


def _field_words(record: Record, field: Field) -> str:
    """A key of an object kind for the README: ``name`` (required) or ``name = default``."""
    if field.name in record.required or field.default is NO_DEFAULT:
        return field.name
    default = field.default
    if isinstance(default, float):  # a computed default (e**2) in a readable precision
        default = float(f"{default:.6g}")
    return f"{field.name} = {json.dumps(default)}"


def _type_cell(row: Parameter) -> str:
    if row.per_volume is PerVolume.PER_TOKEN and isinstance(row.kind, AnyOf):
        words = f"{summary(row.kind.options[0])}, per token"
        objects = row.kind.options[2:]  # after the number and the list: the object forms
        if objects:
            words += "; or " + " or ".join(summary(option) for option in objects)
        return words
    if row.per_volume is PerVolume.PER_PHASE and isinstance(row.kind, AnyOf):
        return f"{summary(row.kind.options[0])}, or a list of them (one per phase)"
    return summary(row.kind)


def _default_cell(row: Parameter) -> str:
    if row.default is NO_DEFAULT:
        return "absent unless given"
    if isinstance(row.default, Mapping) and row.per_volume is PerVolume.PER_TOKEN:
        return ", ".join(f"{token}: {_code(value)}" for token, value in row.default.items())
    return _code(row.default)


def readme_tables() -> str:
    """The README block between the markers (the markers included)."""
    lines = [
        START,
        "<!-- generated from asldro/params/catalog.py by python -m asldro.params.generate; "
        "edit the catalog, not this table -->",
        "",
        "| Key | Series | Type / range | Unit | Default | Description |",
        "|---|---|---|---|---|---|",
    ]
    for row in PARAMETERS:
        series = ", ".join("global" if s == GLOBAL else s for s in row.series)
        cells: tuple[str, ...] = (
            f"`{row.name}`",
            series,
            _type_cell(row),
            row.unit,
            _default_cell(row),
            row.description,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    for title, rows in (
        (
            "Ground-truth quantities (`image_override`, `ground_truth_modulate`; every map is "
            "checked against these ranges after overrides and modulation; other quantities of a "
            "ground-truth file take any finite number):",
            QUANTITIES,
        ),
        (
            "Scalar ground-truth parameters (`parameter_override` admits only these):",
            SCALAR_PARAMETERS,
        ),
    ):
        lines += ["", title, "", "| Name | Range | Unit | Description |", "|---|---|---|---|"]
        for field in rows:
            cells = (f"`{field.name}`", summary(field.kind), field.unit, field.description)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append(END)
    return "\n".join(lines)


def with_tables(readme: str) -> str:
    """``readme`` with its parameter block replaced by :func:`readme_tables`.

    Raises
    ------
    ValueError
        When the markers are missing or out of order.
    """
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {START} ... {END} block")
    return readme[:start] + readme_tables() + readme[end + len(END) :]


# --------------------------------------------------------------------------------------------
# The command


def expected_files(root: Path) -> dict[Path, str]:
    """Each generated file under ``root`` with the text the catalog makes.

    Raises
    ------
    ValueError
        When ``README.md`` cannot be read or has no parameter block.
    """
    readme = root / README_FILE
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"{readme}: cannot read ({err.strerror or err})") from None
    try:
        tables = with_tables(text)
    except ValueError as err:
        raise ValueError(f"{readme}: {err}") from None
    return {
        root / SCHEMA_FILE: schema_text(),
        root / DEFAULTS_FILE: defaults_text(),
        readme: tables,
    }


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the generated files; the exit status is 0, 1 when a
    file is stale (``--check``) or cannot be made, 64 for bad arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m asldro.params.generate",
        description="Write schema.json, defaults.json and the README parameter tables from "
        "asldro/params/catalog.py.",
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the source tree (default: %(default)s)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as err:
        return EXIT_USAGE if err.code else 0
    try:
        files = expected_files(args.root)
    except ValueError as err:
        print(f"asldro.params.generate: error: {err}", file=sys.stderr)
        return EXIT_STALE
    stale = [path for path, text in files.items() if _current(path) != text]
    if args.check:
        for path in stale:
            print(
                f"asldro.params.generate: {path} is stale (run python -m asldro.params.generate)",
                file=sys.stderr,
            )
        return EXIT_STALE if stale else 0
    for path in stale:
        try:
            path.write_text(files[path], encoding="utf-8")
        except OSError as err:
            print(f"asldro.params.generate: error: {path}: {err.strerror or err}", file=sys.stderr)
            return EXIT_STALE
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
