"""The two pages: a participant's (``sub-<label>.html``) and the dataset's (``index.html``),
composed from what :mod:`asldro.report.reading` read (docs/report.md)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from asldro.report import figures
from asldro.report.html import escape, image, page, panel, table, validation_section
from asldro.report.reading import (
    AslSeriesView,
    Motion,
    ParticipantView,
    brain_centre,
    read_participants_table,
)

DATASET_PAGE = "index.html"
GROUP_COLUMN = "group"


def participant_page_name(label: str) -> str:
    """Where participant ``label``'s page goes in the report derivative: in a ``sub-<label>``
    folder (a derivative without subject folders draws bids-validator-deno's
    SUBJECT_FOLDERS warning)."""
    return f"sub-{label}/sub-{label}.html"


def _noise_rows(noise: Mapping[str, Any]) -> list[tuple[str, str]]:
    names = {
        "noise_sigma": "noise σ (per channel)",
        "noise_reference": "noise reference (mean |reference| in tissue)",
        "desired_snr": "desired SNR (reference / σ)",
    }
    return [(names[key], f"{float(value):.6g}") for key, value in noise.items() if key in names]


def _asl_section(series: AslSeriesView, centre: np.ndarray | None) -> list[str]:
    parts = [f"<h2>ASL: {escape(series.relative)}</h2>"]
    facts = []
    if series.label_type:
        facts.append(("labelling", series.label_type))
    if series.volume_types:
        counts = {t: series.volume_types.count(t) for t in dict.fromkeys(series.volume_types)}
        facts.append(("volumes", ", ".join(f"{n} {t}" for t, n in counts.items())))
    if series.curve is not None:
        plds = sorted(set(series.curve.post_labeling_delays))
        facts.append(("sampled PLDs (s)", ", ".join(f"{p:g}" for p in plds)))
    facts += _noise_rows(series.noise)
    if facts:
        parts.append(table(("", ""), facts))
    parts += [f'<p class="note">{escape(note)}</p>' for note in series.notes]
    parts += [panel(figures.slice_panel(volume, centre)) for volume in series.images]
    if series.curve is not None:
        parts.append("<h3>kinetic curve</h3>")
        parts.append(
            f'<p class="note">mean ΔM (mean(control) − mean(label) per PLD) of the acquired '
            f"data in the GM and WM masks of {escape(series.curve.mask_source)} (nearest "
            "neighbour on the ASL grid); measured points only, no model curve</p>"
        )
        parts.append(image(figures.kinetic_plot(series.curve), "kinetic curve", "plot"))
    parts += _motion(series.motion)
    return parts


def _motion(motion: Motion | None) -> list[str]:
    """The motion traces; one line instead when no volume moved."""
    if motion is None:
        return []
    parts = ["<h3>motion per volume</h3>"]
    if not motion.values.any():
        count = motion.values.shape[0]
        parts.append(
            f'<p class="note">no motion: all {count} volume(s) at the reference position</p>'
        )
    else:
        parts.append(image(figures.motion_plot(motion), "motion traces", "plot"))
    return parts


def participant_page(view: ParticipantView, validation: str) -> str:
    """The HTML of a participant's report: its images, or a section per session."""
    body = [
        f"<p>{escape(view.description)}</p>",
        f'<p><a href="../{DATASET_PAGE}">dataset report</a> (written by the group level and by '
        "<code>asldro generate</code>)</p>",
        '<p class="note">Slices through the centre of mass of the brain (ground-truth '
        "segmentation); radiological orientation in the coronal and axial views (the "
        "subject's right on the left).</p>",
    ]
    if view.sessions:
        names = ", ".join(f"ses-{escape(session)}" for session, _ in view.sessions)
        body.append(f"<p>{len(view.sessions)} session(s): {names}</p>")
    shown: list[tuple[str | None, ParticipantView]] = [*view.sessions] or [(None, view)]
    for session, images in shown:
        body += _images(images, session)
    body.append("<h2>Parameters</h2>")
    if view.parameters:
        body.append(
            f'<p class="note">code/sub-{escape(view.label)}_dro_params.json: the resolved '
            "parameters this participant was made with</p>"
        )
        body.append(table(("parameter", "value"), view.parameters))
    else:
        body.append('<p class="note">no resolved parameter file in code/</p>')
    return page(f"asldro report: sub-{view.label}", body, validation)


def _images(view: ParticipantView, session: str | None) -> list[str]:
    """The ground truth, ASL runs and structural images of ``view`` (of ``session``, whose
    name then heads its ground truth)."""
    centre = brain_centre(view.ground_truth)
    where = "" if session is None else f" (ses-{escape(session)})"
    body = [f"<h2>Ground truth{where}</h2>"]
    if view.ground_truth:
        body += [panel(figures.slice_panel(volume, centre)) for volume in view.ground_truth]
    else:
        body.append('<p class="note">no ground truth in derivatives/groundtruth</p>')
    for series in view.asl:
        body += _asl_section(series, centre)
    for structural in view.structural:
        body.append(f"<h2>Structural: {escape(structural.relative)}</h2>")
        rows = _noise_rows(structural.noise)
        if rows:
            body.append(table(("", ""), rows))
        body.append(panel(figures.slice_panel(structural.image, centre)))
        body += _motion(structural.motion)
    return body


def _numeric(values: Sequence[str]) -> list[float] | None:
    """The numbers of a column (``n/a`` skipped); None when any other value is not a number."""
    numbers = []
    for value in values:
        if value in ("n/a", ""):
            continue
        try:
            number = float(value)
        except ValueError:
            return None
        if math.isfinite(number):
            numbers.append(number)
    return numbers


def dataset_page(root: Path, linked: set[str], validation: str) -> str:
    """The HTML of the dataset report: participants (with links to their pages among
    ``linked``), histograms of every numeric column of participants.tsv per group, and the
    validation summary."""
    header, rows = read_participants_table(root)
    body = [f"<p>{escape(root.name)}: {len(rows)} participant(s)</p>", "<h2>Participants</h2>"]
    if not header:
        body.append('<p class="note">no participants.tsv</p>')
    else:
        cells = []
        for row in rows:
            label = row[0].removeprefix("sub-")
            name = participant_page_name(label)
            link = (
                f'<a href="{escape(name)}">{escape(row[0])}</a>'
                if name in linked
                else f"{escape(row[0])} (no report)"
            )
            cells.append([link, *(escape(c) for c in row[1:])])
        body.append(table(header, cells, raw=True))
    body += _histograms(header, rows)
    return page("asldro dataset report", body, validation)


def _histograms(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    group_index = header.index(GROUP_COLUMN) if GROUP_COLUMN in header else None
    columns = [i for i, name in enumerate(header) if name not in ("participant_id", GROUP_COLUMN)]
    parts = ["<h2>Drawn physiology</h2>"]
    shown = 0
    for index in columns:
        if _numeric([row[index] for row in rows]) in (None, []):
            continue
        groups: dict[str, list[float]] = {}
        for row in rows:
            numbers = _numeric([row[index]]) or []
            key = row[group_index] if group_index is not None else "all"
            groups.setdefault(key, []).extend(numbers)
        groups = {k: v for k, v in groups.items() if v}
        parts.append(
            image(
                figures.histogram_plot(header[index], groups),
                f"histogram of {header[index]}",
                "plot",
            )
        )
        shown += 1
    if not shown:
        parts.append(
            '<p class="note">participants.tsv has no numeric column besides participant_id '
            "(no drawn physiology to show)</p>"
        )
    return parts


def validation_html(document: Mapping[str, Any] | None, note: str = "") -> str:
    """The validation section of a page (see :func:`asldro.report.html.validation_section`)."""
    return validation_section(document, note)
