"""The scorer's derivative (docs/score.md §5): ``derivatives/asldro-score/`` (or
``--output-dir``) with, per map, ``sub-<l>/[ses-<s>/]perf/<stem>_scores.tsv`` and
``_scores.json`` (and with ``--plots`` ``_errormap.png`` and ``_blandaltman.png``), plus
``dataset_description.json``, ``README.md``, ``.bidsignore`` (BIDS has no names for these files)
and ``code/provenance/files.json``. The output rules, the build beside and the swap are those of
``asldro quantify`` (:mod:`asldro.quantify.writing`)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from asldro import __version__
from asldro.bids.dataset import FILES_RECORD, files_record
from asldro.jsonable import json_bytes
from asldro.scoring.statistics import COLUMNS

DERIVATIVE_NAME = "asldro-score"
COMMAND = "asldro score"
#: What each map's files are called: ``<stem>_<ending>``.
ENDINGS = {
    "tsv": "scores.tsv",
    "json": "scores.json",
    "errormap": "errormap.png",
    "blandaltman": "blandaltman.png",
}
BIDSIGNORE = tuple(f"**/*_{ending}" for ending in ENDINGS.values())
DESCRIPTION = (
    "asldro score: a pipeline's maps against the ground truth of the DRO, per tissue and label "
    "(bias, relative bias, RMSE, Pearson r, fraction within 10 %)"
)


def dataset_description(source: dict[str, Any], raw: str) -> dict[str, Any]:
    """The derivative's ``dataset_description.json`` (the rule of ``asldro quantify``'s)."""
    from asldro.quantify.writing import dataset_description as derivative_description

    return derivative_description(
        source,
        raw,
        title="asldro score: maps scored against the ground truth of",
        generator_description=DESCRIPTION,
    )


def readme(maps: Sequence[tuple[str, str, str]]) -> str:
    """The derivative's ``README.md``; ``maps`` are (map, quantity, output stem)."""
    lines = [
        "# asldro score",
        "",
        f"Written by asldro {__version__} (`asldro score`): each map below compared with the "
        "ground truth of the raw dataset (`derivatives/groundtruth`), carried to the map's grid, "
        "per tissue and label of `desc-groundtruth_dseg.tsv` (masks from the probseg at the "
        "purity chosen, else the dseg) and over the brain. Per map: `_scores.tsv` (one row per "
        "region: n voxels, mean truth, mean estimate, bias, relative bias, RMSE, Pearson r, "
        "fraction within 10 %), `_scores.json` (the same numbers, the columns' meaning, the "
        "truth and masks used) and, with `--plots`, `_errormap.png` and `_blandaltman.png`. BIDS "
        "has no names for these files, so `.bidsignore` lists them.",
        "",
        "Maps:",
        "",
    ]
    for source, quantity, stem in maps:
        lines.append(f"* `{source}` ({quantity}): `{stem}_scores.tsv`")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def scores_tsv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The table: a header of :data:`~asldro.scoring.statistics.COLUMNS`, one row per region
    (``n/a`` for a missing number)."""
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(_cell(row[column]) for column in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


def derivative_files(
    per_map: Mapping[str, bytes],
    maps: Sequence[tuple[str, str, str]],
    source_description: dict[str, Any],
    raw: str,
    source: str,
) -> dict[str, bytes]:
    """Every file of the derivative (relative path -> content): the maps' files ``per_map``
    and the dataset-level files; ``raw`` is the URI of the source dataset, ``source`` its
    path."""
    files = dict(per_map)
    files["dataset_description.json"] = json_bytes(dataset_description(source_description, raw))
    files["README.md"] = readme(maps).encode()
    files[".bidsignore"] = "".join(f"{pattern}\n" for pattern in BIDSIGNORE).encode()
    record = files_record(
        [*files, FILES_RECORD], command=COMMAND, source=source, maps=[m[0] for m in maps]
    )
    files[FILES_RECORD] = json_bytes(record)
    return files
