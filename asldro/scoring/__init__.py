"""Scoring a pipeline's map against the ground truth of a generated dataset (docs/score.md):
the ground-truth derivative of the map's quantity on the map's grid (or volume-averaged onto
it), masks per tissue and per label (probseg at a purity, else the dseg), and per region the
bias, relative bias, RMSE, Pearson r and the fraction of voxels within 10 %, written as a small
BIDS derivative (TSV + JSON, optional PNGs). ``asldro score DATASET MAP ...`` on the command
line, :func:`asldro.score` in Python.

Modules: :mod:`~asldro.scoring.truth` (the ground-truth derivative: its files, the truth and
masks on a map's grid), :mod:`~asldro.scoring.statistics` (one region's numbers),
:mod:`~asldro.scoring.plots` (the PNGs, matplotlib), :mod:`~asldro.scoring.writing` (the
derivative), :mod:`~asldro.scoring.api` (the whole). The names below are imported lazily, so
that the command line stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# The API names are resolved lazily by __getattr__ below.
# pylint: disable=undefined-all-variable
__all__ = ["QUANTITIES", "DEFAULT_PURITY", "ScoreError", "ScoreResult", "MapScore", "score"]
# pylint: enable=undefined-all-variable

#: The quantities a map can hold, by the suffix its file name ends in.
QUANTITIES = ("cbf", "att", "abv", "abat")
#: Default purity: a voxel belongs to a tissue when that tissue fills at least this fraction.
DEFAULT_PURITY = 0.9

_LAZY = {
    "score": "asldro.scoring.api",
    "ScoreResult": "asldro.scoring.api",
    "MapScore": "asldro.scoring.api",
    "ScoreError": "asldro.scoring.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'asldro.scoring' has no attribute {name!r}")
