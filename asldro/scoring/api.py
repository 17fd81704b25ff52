"""``asldro.score``: a pipeline's maps (CBF, ATT, aBV, aBAT) against the ground truth of a
dataset asldro generated (docs/score.md).

Everything is checked and computed before anything is written: the arguments, the output
folder, then each map (readable, one 3-D volume, its quantity, its participant, the same world
space as the ground truth and overlapping it, at least one region voxel); only when every map
is scored is the derivative written (built beside, then swapped in), so a failure leaves no
partial output.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from asldro.exit_codes import UsageError
from asldro.scoring import DEFAULT_PURITY, QUANTITIES
from asldro.scoring.errors import ScoreError
from asldro.scoring.statistics import COLUMNS, IN_UNITS, region_statistics
from asldro.scoring.truth import (
    BRAIN,
    GroundTruth,
    OnGrid,
    Volume,
    participants,
    read_ground_truth,
    read_volume,
    same_world_space,
)


@dataclass(frozen=True)
class MapScore:
    """The scores of one map: the quantity, participant and units, how the truth was formed,
    one row per region (the columns of the table), and the files written (``tsv``, ``json``,
    and with plots ``errormap``, ``blandaltman``)."""

    map: Path
    quantity: str
    participant: str
    units: str
    truth: str
    rows: tuple[Mapping[str, Any], ...]
    files: Mapping[str, Path]

    def row(self, region: str) -> Mapping[str, Any]:
        """The row of ``region`` (an abbreviation such as ``GM``, or ``brain``)."""
        for row in self.rows:
            if row["region"] == region:
                return row
        raise KeyError(f"{self.map}: no region {region!r}")


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score` wrote: the derivative folder, the scores of each map (in the order
    given) and the validation report (None when not validated)."""

    output: Path
    maps: tuple[MapScore, ...]
    validation: Any = None


@dataclass(frozen=True)
class _Scored:  # pylint: disable=too-many-instance-attributes  # a map's result and its names
    """A map scored, before anything is written."""

    volume: Volume
    given: str
    quantity: str
    participant: str
    units: str
    truth_method: str
    rows: tuple[dict[str, Any], ...]
    folder: str
    stem: str
    sources: tuple[str, ...]
    excluded: dict[str, int]
    pictures: Any = None  # (error 3-D, brain mask, truth 1-D, estimate 1-D, groups)


def _purity(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"--purity: expected a number in (0, 1], got {value!r}")
    if not (math.isfinite(value) and 0 < value <= 1):
        raise UsageError(f"--purity: expected a number in (0, 1], got {value!r}")
    return float(value)


def _dataset_root(dataset: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    from asldro.bids.checks import read_json_object

    root = Path(dataset)
    if not str(dataset).strip() or not root.is_dir():
        raise UsageError(f"{dataset}: not a folder (name a dataset asldro generated)")
    description = read_json_object(root / "dataset_description.json")
    if description is None:
        raise ScoreError(
            f"{root / 'dataset_description.json'}: missing or not a JSON object: {root} is not "
            "a BIDS dataset"
        )
    return root, description


def _map_paths(maps: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    if isinstance(maps, (str, os.PathLike)):
        maps = [maps]
    paths = [Path(m) for m in maps]
    if not paths:
        raise UsageError("name at least one map to score")
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{path}: no such file (a map to score)")
    return paths


def _quantity_of(volume: Volume, given: str | None, where: str) -> str:
    if given is not None:
        return given
    if volume.suffix in QUANTITIES:
        return volume.suffix
    raise UsageError(
        f"{where}: cannot tell the quantity from the name (it does not end in "
        f"{', '.join('_' + q for q in QUANTITIES)}); give --quantity"
    )


def _participant_of(volume: Volume, chosen: str | None, root: Path, where: str) -> str:
    named = volume.entities.get("sub") if volume.path.name.startswith("sub-") else None
    if named and chosen and named != chosen:
        raise UsageError(
            f"{where}: the map is of sub-{named}, not of sub-{chosen} (--participant-label)"
        )
    if named or chosen:
        return str(named or chosen)
    known = participants(root)
    if len(known) == 1:
        return known[0]
    raise UsageError(
        f"{where}: the name does not say whose map it is and the ground truth has "
        f"{len(known)} participants; give --participant-label"
    )


def _units(volume: Volume) -> str | None:
    from asldro.bids.checks import image_stem, read_json_object

    stem = image_stem(volume.path)
    sidecar = read_json_object(volume.path.with_name(f"{stem}.json")) if stem else None
    units = sidecar.get("Units") if sidecar else None
    return units if isinstance(units, str) else None


def _same_units(first: str, second: str) -> bool:
    return first.replace(" ", "").lower() == second.replace(" ", "").lower()


def _output_stem(volume: Volume, participant: str, quantity: str) -> tuple[str, str]:
    """(folder, stem) of the map's files in the derivative: a BIDS name keeps its stem; any
    other name becomes ``sub-<l>_desc-<its letters and digits>_<quantity>``."""
    from asldro.bids.checks import image_stem

    stem = image_stem(volume.path) or volume.path.name
    session = volume.entities.get("ses") if stem.startswith("sub-") else None
    folder = f"sub-{participant}/" + (f"ses-{session}/" if session else "") + "perf"
    if stem.startswith("sub-"):
        return folder, stem
    desc = re.sub(r"[^0-9a-zA-Z]", "", stem) or "map"
    return folder, f"sub-{participant}_desc-{desc}_{quantity}"


def _source(path: Path, root: Path) -> str:
    resolved, base = path.resolve(), root.resolve()
    if base in resolved.parents:
        return f"bids:raw:{resolved.relative_to(base).as_posix()}"
    return resolved.as_uri()


def _check_space(volume: Volume, truth: GroundTruth, where: str) -> None:
    reference = next(iter(truth.volumes), None)
    if reference is not None and not same_world_space(volume, reference):
        raise ScoreError(
            f"{where}: in another world space than the ground truth (NIfTI xform code "
            f"{volume.space_code}, the ground truth's {reference.space_code}): asldro score "
            "compares maps in the subject's own space, not in a template space"
        )


# pylint: disable-next=too-many-locals,too-many-arguments  # one map: the steps in order
def _score_map(
    path: Path,
    root: Path,
    *,
    quantity: str | None,
    participant: str | None,
    purity: float,
    plots: bool,
) -> _Scored:
    where = str(path)
    volume = read_volume(path, root)
    suffix = _quantity_of(volume, quantity, where)
    label = _participant_of(volume, participant, root, where)
    session = volume.entities.get("ses") if volume.path.name.startswith("sub-") else None
    truth = read_ground_truth(root, label, session)
    _check_space(volume, truth, where)
    grid = OnGrid(truth, volume.grid, purity)
    truth_values, defined, method = grid.quantity(suffix)
    truth_volume = truth.with_suffix(suffix)[0]
    truth_units = _units(truth_volume) or ""
    map_units = _units(volume)
    if map_units is not None and truth_units and not _same_units(map_units, truth_units):
        raise ScoreError(
            f"{where}: Units {map_units!r} (its sidecar), the ground truth's are {truth_units!r}"
        )
    regions = grid.regions()
    inside = grid.inside()
    if not inside.any():
        raise ScoreError(
            f"{where}: no voxel of the map lies inside the ground truth's field of view (not the "
            "same world space?)"
        )
    estimate = volume.data(root)
    finite = np.isfinite(estimate)
    usable = inside & finite & defined
    brain = next(r.mask for r in regions if r.kind == BRAIN)
    if not any((r.mask & usable).any() for r in regions):
        raise ScoreError(
            f"{where}: no voxel to score: every region is empty at purity {purity:g} (inside the "
            f"ground truth: {int(inside.sum())} voxels, brain: {int(brain.sum())}, finite "
            f"estimate: {int(finite.sum())})"
        )
    rows = []
    for region in regions:
        selected = region.mask & usable
        numbers = region_statistics(estimate[selected], truth_values[selected])
        if numbers["n_voxels"] == 0:
            warnings.warn(
                f"{where}: region {region.name} has no voxel to score (purity {purity:g}; "
                "inside the ground truth, estimate finite, truth defined)"
            )
        rows.append(
            {
                "region": region.name,
                "name": region.description,
                "kind": region.kind,
                "mask": region.mask_source,
                **numbers,
            }
        )
    excluded = {
        "brain_voxels_partly_outside_the_ground_truth": int((brain & ~inside).sum()),
        "brain_voxels_with_a_non_finite_estimate": int((brain & inside & ~finite).sum()),
        "brain_voxels_where_the_truth_is_undefined": int(
            (brain & inside & finite & ~defined).sum()
        ),
    }
    if excluded["brain_voxels_with_a_non_finite_estimate"]:
        warnings.warn(
            f"{where}: {excluded['brain_voxels_with_a_non_finite_estimate']} brain voxels hold "
            "NaN or Inf and are left out"
        )
    if grid.coarser:
        warnings.warn(
            f"{where}: the finest ground truth ({', '.join(sorted(set(grid.coarser)))}) is coarser "
            "than the map: its voxels are split, not averaged"
        )
    folder, stem = _output_stem(volume, label, suffix)
    pictures = None
    if plots:
        in_brain = brain & usable
        error = np.where(usable, estimate - truth_values, np.nan)
        groups = [(r.name, (r.mask & usable)[in_brain]) for r in regions if r.kind != BRAIN]
        pictures = (error, in_brain, truth_values[in_brain], estimate[in_brain], groups)
    return _Scored(
        volume=volume,
        given=where,
        quantity=suffix,
        participant=label,
        units=truth_units or map_units or "",
        truth_method=method,
        rows=tuple(rows),
        folder=folder,
        stem=stem,
        sources=(_source(path, root), *(f"bids:raw:{s}" for s in grid.sources)),
        excluded=excluded,
        pictures=pictures,
    )


def _scores_json(scored: _Scored, purity: float) -> dict[str, Any]:
    columns = {
        name: (
            {"Description": text, "Units": scored.units}
            if name in IN_UNITS and scored.units
            else {"Description": text}
        )
        for name, text in COLUMNS.items()
    }
    from asldro import __version__

    return {
        "Map": scored.given,
        "Quantity": scored.quantity,
        "Participant": scored.participant,
        "Units": scored.units,
        "Purity": purity,
        "Truth": scored.truth_method,
        "Sources": list(scored.sources),
        "ExcludedVoxels": scored.excluded,
        "Regions": [dict(row) for row in scored.rows],
        "Columns": columns,
        "DROSoftware": f"asldro {__version__}",
    }


def _map_files(scored: _Scored, purity: float) -> dict[str, bytes]:
    from asldro.jsonable import json_bytes
    from asldro.scoring.writing import ENDINGS, scores_tsv

    base = f"{scored.folder}/{scored.stem}"
    files = {
        f"{base}_{ENDINGS['tsv']}": scores_tsv(scored.rows).encode(),
        f"{base}_{ENDINGS['json']}": json_bytes(_scores_json(scored, purity)),
    }
    if scored.pictures is not None:
        from asldro.scoring.plots import bland_altman_png, error_map_png

        error, brain, truth, estimate, groups = scored.pictures
        title = f"{scored.volume.path.name}: {scored.quantity} estimate - truth"
        files[f"{base}_{ENDINGS['errormap']}"] = error_map_png(
            error, brain, scored.units, title, tuple(scored.volume.grid.voxel_size)
        )
        files[f"{base}_{ENDINGS['blandaltman']}"] = bland_altman_png(
            truth, estimate, groups, scored.units, f"{scored.volume.path.name}: brain voxels"
        )
    return files


# pylint: disable-next=too-many-arguments,too-many-locals  # the command line's options
def score(
    dataset: str | os.PathLike,
    maps: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    participant_label: str | None = None,
    quantity: str | None = None,
    purity: float = DEFAULT_PURITY,
    output_dir: str | os.PathLike | None = None,
    plots: bool = False,
    overwrite: bool = False,
    validate: bool = True,
) -> ScoreResult:
    """Score pipeline maps against the ground truth of ``dataset`` and write the derivative.

    Parameters
    ----------
    dataset : path
        A dataset asldro generated (its ``derivatives/groundtruth``).
    maps : path or sequence of paths
        NIfTI maps (one 3-D volume each) of CBF, ATT, aBV or aBAT in the ground truth's world
        space, on any grid.
    participant_label : str, optional
        Whose ground truth (with or without ``sub-``); default: the ``sub-`` entity of the
        map's name, else the ground truth's only participant.
    quantity : str, optional
        ``cbf``, ``att``, ``abv`` or ``abat`` for every map; default: each map's suffix.
    purity : float
        A voxel belongs to a tissue when the tissue's fraction is at least this (0, 1];
        default 0.9.
    output_dir : path, optional
        The derivative's folder; default ``DATASET/derivatives/asldro-score``.
    plots : bool
        Also draw the error map and a Bland–Altman plot (PNG; needs matplotlib, the extra
        ``asldro[plots]``).
    overwrite : bool
        Replace an earlier asldro score derivative in the output folder.
    validate : bool
        Validate the derivative (own checks, pybids, bids-validator-deno); default true.

    Returns
    -------
    ScoreResult

    Raises
    ------
    UsageError
        Bad arguments (exit 64): a missing map, an unknown quantity or participant, ``--plots``
        without matplotlib.
    ScoreError
        A map or the dataset cannot be scored (exit 65).
    OutputError
        The output folder cannot be created or may not be replaced (exit 73).
    """
    from asldro.options import participant_labels as clean_labels
    from asldro.quantify import writing as derivative
    from asldro.scoring import writing

    if quantity is not None and quantity not in QUANTITIES:
        raise UsageError(f"--quantity {quantity!r}: choose from {', '.join(QUANTITIES)}")
    purity = _purity(purity)
    if plots:
        from asldro.scoring.plots import require_matplotlib

        require_matplotlib()
    labels = clean_labels([participant_label] if participant_label is not None else None)
    if len(labels) > 1:
        raise UsageError("--participant-label: name one participant")
    paths = _map_paths(maps)
    root, source_description = _dataset_root(dataset)
    target = (
        derivative.output_folder(root, output_dir)
        if output_dir is not None
        else (root / "derivatives" / writing.DERIVATIVE_NAME)
    )
    plan = derivative.plan_derivative(target, overwrite=overwrite, command=writing.COMMAND)
    scored = [
        _score_map(
            path,
            root,
            quantity=quantity,
            participant=labels[0] if labels else None,
            purity=purity,
            plots=plots,
        )
        for path in paths
    ]
    stems: dict[str, str] = {}
    for item in scored:
        key = f"{item.folder}/{item.stem}"
        if key in stems:
            raise UsageError(
                f"{item.given} and {stems[key]}: both would be written as {key}_*; score them "
                "into different --output-dir folders"
            )
        stems[key] = item.given
    per_map: dict[str, bytes] = {}
    for item in scored:
        per_map.update(_map_files(item, purity))
    files = writing.derivative_files(
        per_map,
        [(item.given, item.quantity, f"{item.folder}/{item.stem}") for item in scored],
        source_description,
        derivative.raw_uri(root, plan.target),
        str(root.resolve()),
    )
    report = derivative.write_derivative(plan, files, validate=validate)
    results = []
    for item in scored:
        base = plan.target / item.folder
        written = {
            kind: base / f"{item.stem}_{ending}"
            for kind, ending in writing.ENDINGS.items()
            if f"{item.folder}/{item.stem}_{ending}" in files
        }
        results.append(
            MapScore(
                map=item.volume.path,
                quantity=item.quantity,
                participant=item.participant,
                units=item.units,
                truth=item.truth_method,
                rows=item.rows,
                files=written,
            )
        )
    return ScoreResult(output=plan.target, maps=tuple(results), validation=report)
