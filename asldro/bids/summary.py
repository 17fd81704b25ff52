"""The cohort summary of a dataset (docs/bids-app.md, "The group level"): per group, the number
of participants and the distribution (n, mean, sd, min, median, max) of each numeric column
asldro wrote in ``participants.tsv`` (the drawn truth of a cohort), written as
``code/cohort_summary.tsv`` (:data:`asldro.bids.dataset.COHORT_SUMMARY`) and printed by the
group level. ``asldro generate`` and ``run.py group`` both call :func:`write_cohort_summary`.

Groups are the values of the ``group`` column, or one group ``all`` when there is none. A
dataset without asldro columns (no cohort) gets no summary.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from asldro.bids.atomic import write_text_atomic
from asldro.bids.dataset import (
    COHORT_SUMMARY,
    MISSING_VALUE,
    record_cohort_summary,
    recorded_participant_columns,
)
from asldro.bids.checks import read_json_object

GROUP_COLUMN = "group"
ALL_GROUP = "all"
SUMMARY_HEADER = ("group", "column", "units", "n", "mean", "sd", "min", "median", "max")


@dataclass(frozen=True)
class Distribution:
    """The values of one numeric column within one group."""

    group: str
    column: str
    units: str
    values: tuple[float, ...]

    def statistics(self) -> dict[str, float | None]:
        """n, mean, sd (sample, n - 1; None below 2 values), min, median, max."""
        values = self.values
        return {
            "n": len(values),
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values),
            "median": statistics.median(values),
            "max": max(values),
        }


@dataclass(frozen=True)
class CohortSummary:
    """Participants per group (in order) and the distributions of the numeric columns."""

    groups: dict[str, int]
    distributions: tuple[Distribution, ...]

    def tsv(self) -> str:
        """The summary table: one row per (group, column), :data:`SUMMARY_HEADER` columns."""
        lines = ["\t".join(SUMMARY_HEADER)]
        for item in self.distributions:
            stats = item.statistics()
            cells = [item.group, item.column, item.units or MISSING_VALUE]
            cells += [_number(stats[key]) for key in SUMMARY_HEADER[3:]]
            lines.append("\t".join(cells))
        return "".join(f"{line}\n" for line in lines)

    def lines(self) -> list[str]:
        """What the group level prints: the participants per group, then one line per
        distribution."""
        counts = ", ".join(f"{group} {count}" for group, count in self.groups.items())
        shown = [f"cohort: {sum(self.groups.values())} participant(s) by group: {counts}"]
        for item in self.distributions:
            stats = item.statistics()
            units = f" [{item.units}]" if item.units else ""
            numbers = " ".join(f"{key}={_number(stats[key])}" for key in SUMMARY_HEADER[3:])
            shown.append(f"  {item.group} {item.column}{units}: {numbers}")
        return shown


def _number(value: float | None) -> str:
    """A summary cell: 6 significant digits, ``n/a`` for None."""
    if value is None:
        return MISSING_VALUE
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def _float(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_participants(root: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and the rows (column -> cell) of the dataset's ``participants.tsv``."""
    try:
        text = (Path(root) / "participants.tsv").read_text(encoding="utf-8")
    except OSError:
        return [], []
    lines = [line for line in text.splitlines() if line]
    if not lines:
        return [], []
    header = lines[0].split("\t")
    return header, [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def cohort_summary(root: Path) -> CohortSummary | None:
    """The summary of the asldro columns of the dataset at ``root``; None without any (no
    cohort). A column is numeric when every cell that is not ``n/a`` is a finite number."""
    root = Path(root)
    asldro_columns = recorded_participant_columns(root)
    header, rows = read_participants(root)
    if not asldro_columns or not rows:
        return None
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        group = row.get(GROUP_COLUMN, ALL_GROUP) if GROUP_COLUMN in header else ALL_GROUP
        groups.setdefault(group or MISSING_VALUE, []).append(row)
    described = read_json_object(root / "participants.json") or {}
    distributions = []
    for column in (c for c in asldro_columns if c in header and c != GROUP_COLUMN):
        present = [row[column] for row in rows if row.get(column, MISSING_VALUE) != MISSING_VALUE]
        if present and all(_float(cell) is not None for cell in present):
            entry = described.get(column)
            units = str(entry.get("Units", "")) if isinstance(entry, dict) else ""
            distributions += _column_distributions(column, units, groups)
    counts = {group: len(groups[group]) for group in sorted(groups)}
    return CohortSummary(counts, tuple(distributions))


def _column_distributions(
    column: str, units: str, groups: dict[str, list[dict[str, str]]]
) -> list[Distribution]:
    """The distribution of numeric ``column`` in each group that has a value of it."""
    found = []
    for group in sorted(groups):
        values = (_float(row.get(column, MISSING_VALUE)) for row in groups[group])
        kept = tuple(value for value in values if value is not None)
        if kept:
            found.append(Distribution(group, column, units, kept))
    return found


def write_cohort_summary(root: Path) -> CohortSummary | None:
    """Write :data:`~asldro.bids.dataset.COHORT_SUMMARY` of the dataset at ``root`` (recorded
    as asldro's file) and return the summary (None, nothing written, without asldro columns).
    A file asldro did not write at that place is left as it is (the summary is returned)."""
    summary = cohort_summary(root)
    if summary is not None and record_cohort_summary(root):
        write_text_atomic(Path(root) / COHORT_SUMMARY, summary.tsv())
    return summary
