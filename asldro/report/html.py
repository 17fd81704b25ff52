"""The report pages as self-contained HTML: inline CSS, every picture a ``data:image/png`` URI, no
script, no font, nothing fetched from anywhere (docs/report.md).

The validation summary sits between :data:`VALIDATION_START` and :data:`VALIDATION_END`, so it
can be filled in once the dataset (the report derivative included) has been validated, and
refreshed by a later run (the group level) without redrawing the pictures.
"""

from __future__ import annotations

import base64
import html
from typing import Any, Iterable, Mapping, Sequence

from asldro import __version__
from asldro.report.figures import SlicePanel

VALIDATION_START = "<!-- asldro-report:validation -->"
VALIDATION_END = "<!-- /asldro-report:validation -->"
LAYER_NAMES = {"own": "own checks", "pybids": "pybids", "bids-validator": "bids-validator-deno"}
#: Findings listed in full below the counts (the rest are counted only).
MAX_FINDINGS = 50

STYLE = """
body{font-family:sans-serif;margin:16px 24px;color:#111;background:#fff;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #999;margin-top:1.6em}
h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.4em 0}
td,th{border:1px solid #bbb;padding:2px 8px;text-align:left;vertical-align:top;font-size:.9em}
th{background:#eee}
code{font-size:.9em;word-break:break-all}
.panel{display:flex;align-items:flex-end;gap:6px;margin:4px 0 14px 0;flex-wrap:wrap}
.panel figure{margin:0}
.panel figcaption{font-size:.75em;color:#333}
.slice{image-rendering:pixelated;background:#000;display:block}
.bar{display:flex;align-items:stretch;gap:4px;font-size:.75em}
.bar .ticks{display:flex;flex-direction:column;justify-content:space-between}
.note{color:#333;font-style:italic}
.ok{font-weight:bold}.bad{font-weight:bold;text-decoration:underline}
details{margin:.5em 0}
""".strip()


def escape(text: Any) -> str:
    """``text`` as HTML text."""
    return html.escape(str(text), quote=True)


def data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI of ``png``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def image(png: bytes, alt: str, css_class: str = "", size: tuple[int, int] | None = None) -> str:
    """An ``<img>`` of ``png``."""
    attributes = f' class="{css_class}"' if css_class else ""
    if size is not None:
        attributes += f' width="{size[0]}" height="{size[1]}"'
    return f'<img src="{data_uri(png)}" alt="{escape(alt)}"{attributes}>'


def _number(value: float) -> str:
    return f"{value:.4g}"


def panel(figure: SlicePanel) -> str:
    """A volume's three slices and its colour bar, with its title and source file."""
    slices = "".join(
        f"<figure>{image(s.png, f'{figure.title}, {s.view}', 'slice', (s.width, s.height))}"
        f"<figcaption>{escape(s.view)}</figcaption></figure>"
        for s in figure.slices
    )
    height = max(s.height for s in figure.slices)
    colour_bar = image(figure.colorbar, f"colour bar of {figure.title}", "slice", (12, height))
    scale = (
        f'<div class="bar">{colour_bar}'
        f'<div class="ticks"><span>{_number(figure.high)}</span>'
        f"<span>{escape(figure.unit)}</span><span>{_number(figure.low)}</span></div></div>"
    )
    return (
        f"<h3>{escape(figure.title)}</h3>"
        f'<div class="note">{escape(figure.source)}</div>'
        f'<div class="panel">{slices}{scale}</div>'
    )


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], raw: bool = False) -> str:
    """A table; cells are escaped unless ``raw``."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if raw else escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def page(title: str, body: Sequence[str], validation: str) -> str:
    """The whole page; ``validation`` is the validation section's content."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        + "".join(body)
        + "<h2>Validation</h2>"
        + VALIDATION_START
        + validation
        + VALIDATION_END
        + f'<hr><div class="note">written by asldro {escape(__version__)}</div>'
        + "</body></html>\n"
    )


def _layer_key(layer: str) -> str:
    return "bids-validator" if layer.startswith("bids-validator") else layer


def validation_section(document: Mapping[str, Any] | None, note: str = "") -> str:
    """The validation summary of a ``code/validation.json`` document: for each dataset and each
    layer the counts of errors and warnings, then the findings. ``note`` explains a missing
    document (validation skipped, or not yet run)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("datasets"), list):
        return (
            f'<p class="note">{escape(note or "no validation report (code/validation.json)")}</p>'
        )
    status = str(document.get("status", ""))
    rows = []
    findings = []
    for dataset in document["datasets"]:
        if not isinstance(dataset, Mapping):
            continue
        found = [f for f in dataset.get("findings") or () if isinstance(f, Mapping)]
        findings += found
        for layer in dataset.get("layers") or ():
            key = _layer_key(str(layer))
            errors = sum(1 for f in found if f.get("layer") == key and f.get("severity") == "error")
            warnings = sum(
                1 for f in found if f.get("layer") == key and f.get("severity") == "warning"
            )
            rows.append((dataset.get("dataset", ""), layer, errors, warnings))
    verdict = "bad" if status != "valid" else "ok"
    parts = [
        f'<p>status: <span class="{verdict}">{escape(status)}</span></p>',
        table(("dataset", "layer", "errors", "warnings"), rows),
    ]
    if findings:
        lines = [
            (
                f.get("severity", ""),
                f.get("code", ""),
                f"{f.get('dataset', '')}: {f.get('file', '')}",
                f.get("message", ""),
                LAYER_NAMES.get(str(f.get("layer")), f.get("layer", "")),
            )
            for f in findings[:MAX_FINDINGS]
        ]
        more = len(findings) - len(lines)
        parts.append(table(("severity", "code", "where", "message", "layer"), lines))
        if more > 0:
            parts.append(
                f'<p class="note">and {more} more finding(s): see code/validation.json</p>'
            )
    return "".join(parts)


def with_validation(text: str, section: str) -> str | None:
    """``text`` (a page) with its validation section replaced by ``section``; None when the
    page has no validation section."""
    start = text.find(VALIDATION_START)
    end = text.find(VALIDATION_END, start + 1)
    if start < 0 or end < 0:
        return None
    return text[: start + len(VALIDATION_START)] + section + text[end:]
