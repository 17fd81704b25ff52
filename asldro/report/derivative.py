"""The report's BIDS derivative, ``derivatives/asldro-report/`` (docs/report.md): the participant
pages ``sub-<label>/sub-<label>.html``, the dataset page ``index.html``,
``dataset_description.json`` (DatasetType derivative, GeneratedBy asldro), ``README.md``,
``.bidsignore`` (BIDS has no rule for HTML files) and the record of the files written
(``code/provenance/files.json``), which is how asldro knows them as its own (``asldro generate
--overwrite`` replaces them with the dataset).

The report never replaces a file asldro did not write: a file there that is not in the record
(or a folder without one) stops the report with a one-line warning, and the dataset is written
as usual. Every file is written atomically (:mod:`asldro.bids.atomic`).
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

from asldro import __version__
from asldro.bids.atomic import write_bytes_atomic, write_text_atomic
from asldro.bids.dataset import FILES_RECORD, files_record, generated_by, recorded_files
from asldro.bids.fields import fields
from asldro.exit_codes import ExitCode, StatusError
from asldro.jsonable import json_bytes

DERIVATIVE_NAME = "asldro-report"
COMMAND = "asldro report"
PLOTTING_MODULE = "matplotlib"
EXTRA = "plots"
BIDSIGNORE = ("*.html", "sub-*/*.html")
DESCRIPTION = (
    "asldro report: HTML pages that show, per participant, the ground truth beside the data "
    "generated from it, and the dataset's participants and validation"
)
SKIPPED_NOTE = "not validated (validation was skipped)"
PENDING_NOTE = "validation not run yet"


class ReportUnavailableError(StatusError):
    """The report was asked for (``--report``) but matplotlib is not installed (exit 69)."""

    exit_status = ExitCode.UNAVAILABLE


class ReportWarning(UserWarning):
    """The report is not written (matplotlib missing, or a file asldro did not write is in
    the way); the dataset is."""


def report_dir(dataset: Path) -> Path:
    """``DATASET/derivatives/asldro-report``."""
    return Path(dataset) / "derivatives" / DERIVATIVE_NAME


def plotting_available() -> bool:
    """True when matplotlib can be imported (the ``plots`` extra is installed)."""
    return importlib.util.find_spec(PLOTTING_MODULE) is not None


def missing_plotting_message() -> str:
    """Why there is no report, and how to get one."""
    return (
        f"no report: {PLOTTING_MODULE} is not installed in this Python; install asldro's "
        f"'{EXTRA}' extra (pip install 'asldro[{EXTRA}]') for the HTML report, or pass "
        "--no-report"
    )


def reports_wanted(report: bool | None) -> bool:
    """Whether to write the report: ``False`` never; ``True`` always (exit 69 when matplotlib
    is missing, checked before anything is written); ``None`` (the default) when matplotlib
    is installed, else one warning and no report."""
    if report is False:
        return False
    if plotting_available():
        return True
    if report:
        raise ReportUnavailableError(
            f"--report: {PLOTTING_MODULE} is not installed in this Python; install asldro's "
            f"'{EXTRA}' extra (pip install 'asldro[{EXTRA}]')"
        )
    warnings.warn(missing_plotting_message(), ReportWarning, stacklevel=2)
    return False


def description() -> dict[str, Any]:
    """The derivative's ``dataset_description.json``."""
    return {
        "Name": "asldro report: visual report of the synthetic ASL dataset",
        "BIDSVersion": fields()["bids_version"],
        "DatasetType": "derivative",
        "License": fields()["dataset"]["License"],
        "Authors": list(fields()["dataset"]["Authors"]),
        "GeneratedBy": [{**generated_by()[0], "Description": DESCRIPTION}],
        "SourceDatasets": [{"URL": "../../"}],
        "DatasetLinks": {"raw": "../../"},
    }


def readme() -> str:
    """The derivative's ``README.md``."""
    return (
        "# asldro report\n\n"
        f"Written by asldro {__version__}. Open `index.html` (the dataset: participants, their "
        "drawn physiology, the validation) or `sub-<label>/sub-<label>.html` (a participant: "
        "the ground truth beside the data generated from it, motion, noise, the kinetic "
        "curve, the parameters and the validation). The pages are self-contained (pictures "
        "inline, no script, nothing fetched); BIDS has no rule for HTML files, so "
        "`.bidsignore` lists them.\n"
    )


def _foreign(folder: Path, names: Iterable[str]) -> str | None:
    """The first of ``names`` (relative to ``folder``) that exists and that asldro did not
    write (None when every one is absent or asldro's)."""
    owned = recorded_files(folder)
    for name in names:
        path = folder / name
        if (path.exists() or path.is_symlink()) and name not in owned:
            return name
    if folder.is_dir() and not owned and any(folder.iterdir()):
        return next(p.name for p in sorted(folder.iterdir()))
    return None


def write_files(dataset: Path, pages: dict[str, str]) -> list[Path] | None:
    """Write ``pages`` (file name -> HTML) and the derivative's own files into the report
    folder of ``dataset``. Returns the pages written, or None (with a :class:`ReportWarning`)
    when a file in the way is not asldro's: nothing is then written."""
    folder = report_dir(dataset)
    files: dict[str, bytes] = {
        "dataset_description.json": json_bytes(description()),
        "README.md": readme().encode(),
        ".bidsignore": "".join(f"{p}\n" for p in BIDSIGNORE).encode(),
    }
    blocking = _foreign(folder, [*files, FILES_RECORD, *pages])
    if blocking is not None:
        warnings.warn(
            f"no report: {folder / blocking} exists and asldro did not write it (asldro "
            "replaces only its own files); move it away to get the report",
            ReportWarning,
            stacklevel=2,
        )
        return None
    listed = recorded_files(folder) - {FILES_RECORD}
    record = files_record([*listed, *files, *pages, FILES_RECORD], command=COMMAND)
    write_bytes_atomic(folder / FILES_RECORD, json_bytes(record))  # first: lists what follows
    for name, content in files.items():
        write_bytes_atomic(folder / name, content)
    written = []
    for name, text in pages.items():
        write_text_atomic(folder / name, text)
        written.append(folder / name)
    return written


def recorded_pages(dataset: Path) -> list[Path]:
    """The report pages asldro wrote in ``dataset`` (those of its files record present)."""
    folder = report_dir(dataset)
    return sorted(
        folder / name
        for name in recorded_files(folder)
        if name.endswith(".html") and (folder / name).is_file()
    )


def fill_validation(pages: Sequence[Path], section: str) -> None:
    """Replace the validation section of each page asldro wrote among ``pages`` by
    ``section`` (atomically; a page without the section is left as it is)."""
    from asldro.report.html import with_validation

    for path in pages:
        folder = next((p for p in path.parents if (p / FILES_RECORD).is_file()), None)
        if folder is None or path.relative_to(folder).as_posix() not in recorded_files(folder):
            continue
        text = path.read_text(encoding="utf-8")
        updated = with_validation(text, section)
        if updated is not None and updated != text:
            write_text_atomic(path, updated)
