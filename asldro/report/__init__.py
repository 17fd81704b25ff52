"""The HTML report of a written dataset (issue 15; docs/report.md): a page per participant (the
ground truth beside the data generated from it) and a page for the dataset, in the BIDS
derivative ``derivatives/asldro-report/``. It reads the written dataset only, never the
engine's internals, and needs matplotlib (the ``plots`` extra), imported only here.

``asldro generate`` writes every page; the BIDS-App's participant level writes its
participants' pages and the group level the dataset page. The pages are written before the
dataset is validated (so the derivative is validated with the rest) and their validation
section is filled in afterwards (:func:`refresh_validation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from asldro.report.derivative import (
    DERIVATIVE_NAME,
    PENDING_NOTE,
    SKIPPED_NOTE,
    ReportUnavailableError,
    ReportWarning,
    fill_validation,
    plotting_available,
    recorded_pages,
    report_dir,
    reports_wanted,
    write_files,
)

__all__ = [
    "DERIVATIVE_NAME",
    "import_plotting_in_background",
    "participant_pages",
    "ReportUnavailableError",
    "ReportWarning",
    "plotting_available",
    "refresh_validation",
    "report_dir",
    "reports_wanted",
    "write_reports",
]


def write_reports(
    dataset: str | Path,
    labels: Sequence[str],
    *,
    dataset_page: bool,
    validated: bool,
    threads: int | None = None,
    composed: Mapping[str, str] | None = None,
) -> list[Path] | None:
    """Write the page of each participant of ``labels`` (and, with ``dataset_page``, the
    dataset page ``index.html``) into ``DATASET/derivatives/asldro-report``. Their validation
    section says the validation is still to come (``validated``) or was skipped. The images
    are read on ``threads`` threads (``asldro.resources.thread_budget``). ``composed``: pages
    already composed by :func:`participant_pages` (by the worker processes that wrote the
    participants); the others are composed here.

    Returns the pages written, or None (with a :class:`ReportWarning`) when a file asldro did
    not write is in the way."""
    from asldro.report.pages import DATASET_PAGE, dataset_page as compose_dataset_page

    root = Path(dataset)
    pages = _pages_of(root, labels, composed or {}, validated, threads)
    section = _pending_section(validated)
    if dataset_page:
        folder = report_dir(root)
        linked = {p.relative_to(folder).as_posix() for p in recorded_pages(root)} | set(pages)
        pages[DATASET_PAGE] = compose_dataset_page(root, linked, section)
    return write_files(root, pages)


def _pages_of(
    root: Path,
    labels: Sequence[str],
    composed: Mapping[str, str],
    validated: bool,
    threads: int | None,
) -> dict[str, str]:
    """The pages of ``labels``: those ``composed`` holds, the others composed here."""
    from asldro.report.pages import participant_page_name

    names = [participant_page_name(label) for label in labels]
    pages = {name: composed[name] for name in names if name in composed}
    missing = [label for label, name in zip(labels, names) if name not in pages]
    pages.update(participant_pages(root, missing, validated=validated, threads=threads))
    return pages


def _pending_section(validated: bool) -> str:
    """The validation section of a page written before the validation (or without one)."""
    from asldro.report.pages import validation_html

    return validation_html(None, PENDING_NOTE if validated else SKIPPED_NOTE)


def participant_pages(
    dataset: str | Path,
    labels: Sequence[str],
    *,
    validated: bool,
    threads: int | None = None,
) -> dict[str, str]:
    """The page of each participant of ``labels`` (path in the report -> HTML), composed from
    the participants' files in ``dataset`` (each page reads its own participant only, so it can
    be composed as soon as that participant is written: a worker process of a cohort composes
    the page of the participant it wrote, issue 16), for :func:`write_reports`' ``composed``.
    The images are read ahead on ``threads`` threads."""
    if not labels:
        return {}
    return _participant_pages(Path(dataset), labels, _pending_section(validated), threads)


def _participant_pages(
    root: Path, labels: Sequence[str], section: str, threads: int | None
) -> dict[str, str]:
    """The page of each participant of ``labels`` (path in the report -> HTML), the images
    read ahead on ``threads`` threads."""
    from asldro.report.pages import participant_page, participant_page_name
    from asldro.report.reading import ImageLoader, participant_images, read_participant
    from asldro.resources import thread_budget

    pages = {}
    with ImageLoader(thread_budget(threads)) as loader:
        loader.prefetch(path for label in labels for path in participant_images(root, label))
        _import_plotting()  # while the images decompress
        for label in labels:
            view = read_participant(root, label, loader)
            pages[participant_page_name(label)] = participant_page(view, section)
    return pages


def refresh_validation(
    dataset: str | Path,
    pages: Sequence[Path] | None = None,
    validation: Mapping[str, Any] | None = None,
) -> None:
    """Fill the validation section of ``pages`` (default: every page asldro wrote in the
    dataset's report) from the ``validation`` report document (default: the dataset's
    ``code/validation.json``; a participant job passes the report of its own validation)."""
    from asldro.report.pages import validation_html
    from asldro.report.reading import read_validation

    root = Path(dataset)
    chosen = recorded_pages(root) if pages is None else list(pages)
    document = read_validation(root) if validation is None else validation
    fill_validation(chosen, validation_html(document))


def import_plotting_in_background() -> None:
    """Start importing matplotlib on a daemon thread (about half a second of the report's
    time), so that it overlaps the simulation; :func:`write_reports` then finds it imported
    (or waits for the import to finish). Only for a run that simulates in this process (no
    worker processes are forked while the import may be running)."""
    import threading

    threading.Thread(target=_import_plotting, name="asldro-import-matplotlib", daemon=True).start()


def _import_plotting() -> None:
    """Import the parts of matplotlib the pictures use."""
    # pylint: disable=import-outside-toplevel,unused-import  # importing is the work here
    import matplotlib.backends.backend_agg
    import matplotlib.figure
    from matplotlib import colormaps
