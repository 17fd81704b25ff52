"""The quantifier's BIDS derivative (docs/quantify.md §5): ``derivatives/asldro-quantify/`` (or
``--output-dir``) with ``sub-*/[ses-*/]perf/<entities>_{cbf,att,abv,abat}.nii.gz`` and their
sidecars, ``dataset_description.json`` (DatasetType derivative, GeneratedBy asldro),
``README.md``, ``.bidsignore`` (BIDS has no suffix for these maps) and the record of the files
written (``code/provenance/files.json``), which is how asldro knows them as its own.

The output rules are those of ``asldro generate`` (:mod:`asldro.output`): a missing or empty
folder is created; an earlier asldro quantify derivative is replaced only with ``overwrite`` and
only when every file in it is asldro's; any other folder is refused. The derivative is built in a
hidden folder inside the target and swapped in when complete.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from asldro import __version__
from asldro.bids.atomic import named, write_file
from asldro.bids.dataset import (
    FILES_RECORD,
    files_record,
    generated_by,
    is_asldro_temporary,
    read_files_record,
)
from asldro.bids.fields import fields
from asldro.bids.nifti import nifti_gz_bytes
from asldro.exit_codes import OutputError, UsageError
from asldro.jsonable import json_bytes
from asldro.output import OutputPlan, building, commit, is_archive, plan_output
from asldro.quantify.runs import MAPS, QuantifiedRun

DERIVATIVE_NAME = "asldro-quantify"
COMMAND = "asldro quantify"
BIDSIGNORE = tuple(f"**/*_{suffix}.*" for suffix in MAPS)
DESCRIPTION = (
    "asldro quantify: reference quantification of ASL (white-paper single-PLD formula, "
    "least-squares kinetic-model fit for multi-PLD, the mean of the cbf volumes of a run that "
    "has only those), read from the BIDS files alone"
)


def default_output(dataset: Path) -> Path:
    """``DATASET/derivatives/asldro-quantify``."""
    return Path(dataset) / "derivatives" / DERIVATIVE_NAME


def output_folder(dataset: Path, output_dir: str | os.PathLike | None) -> Path:
    """The derivative's folder: ``output_dir`` or the default. Inside the dataset only
    ``derivatives/<name>`` is allowed (anything else would make the dataset invalid BIDS); an
    archive name is refused (usage errors)."""
    if output_dir is None:
        return default_output(dataset)
    if not str(output_dir).strip():
        raise UsageError("--output-dir is empty: name a folder")
    target = Path(output_dir)
    if is_archive(target):
        raise UsageError(
            f"--output-dir {target}: the derivative is written to a folder, not an archive"
        )
    root = Path(dataset).resolve()
    resolved = Path(os.path.realpath(target))
    if resolved == root or root in resolved.parents:
        parts = resolved.relative_to(root).parts
        if len(parts) != 2 or parts[0] != "derivatives":
            raise UsageError(
                f"--output-dir {target}: inside the dataset a derivative may only be "
                f"derivatives/<name> (anything else makes {dataset} invalid BIDS)"
            )
    return target


def is_quantify_derivative(folder: Path, command: str = COMMAND) -> bool:
    """True when ``folder`` holds a derivative written by ``command`` (default ``asldro
    quantify``; its files record says so)."""
    record = read_files_record(folder)
    return record is not None and record.get("command") == command


def plan_derivative(target: Path, *, overwrite: bool, command: str = COMMAND) -> OutputPlan:
    """Check the output folder before anything is read or written: missing or empty, or an
    earlier derivative of ``command`` (default ``asldro quantify``; replaced with
    ``overwrite``). Raises OutputError."""
    if target.is_dir() and not is_quantify_derivative(target, command):
        if any(not is_asldro_temporary(entry.name) for entry in target.iterdir()):
            raise OutputError(
                f"{target}: exists, is not empty and is not an {command} derivative (no "
                f"{FILES_RECORD} of {command}); {command} writes into a new or empty "
                "folder, or replaces its own earlier result"
            )
    return plan_output(target, overwrite=overwrite)


def raw_uri(dataset: Path, target: Path) -> str:
    """How the derivative names its source: ``../../`` from ``DATASET/derivatives/<name>``,
    else the dataset's ``file:`` URI."""
    root = Path(dataset).resolve()
    if Path(os.path.realpath(target)).parent == root / "derivatives":
        return "../../"
    return root.as_uri() + "/"


def dataset_description(
    source: dict[str, Any],
    raw: str,
    *,
    title: str = "asldro quantify: CBF (and ATT) of",
    generator_description: str = DESCRIPTION,
) -> dict[str, Any]:
    """The derivative's ``dataset_description.json``: ``Name`` is ``title`` and the source's
    name (``asldro score`` passes its own title and description)."""
    generator = {**generated_by()[0], "Description": generator_description}
    name = source.get("Name") if isinstance(source.get("Name"), str) else "an ASL dataset"
    description: dict[str, Any] = {
        "Name": f"{title} {name}",
        "BIDSVersion": fields()["bids_version"],
        "DatasetType": "derivative",
    }
    if isinstance(source.get("License"), str):
        description["License"] = source["License"]
    description.update(
        {
            "Authors": list(fields()["dataset"]["Authors"]),
            "GeneratedBy": [generator],
            "SourceDatasets": [{"URL": raw}],
            "DatasetLinks": {"raw": raw},
        }
    )
    return description


def readme(runs: Sequence[QuantifiedRun]) -> str:
    """The derivative's ``README.md``."""
    lines = [
        "# asldro quantify",
        "",
        f"Written by asldro {__version__} (`asldro quantify`): the reference quantification of "
        "the ASL runs of the raw dataset, read from its BIDS files alone (NIfTI, sidecars, "
        "aslcontext.tsv). Single-PLD runs: CBF by the white paper's formula (Alsop et al. 2015, "
        "Eq. 1 or Eq. 2). Multi-PLD runs: CBF and ATT (and aBV, aBAT with the arterial "
        "component) by a voxel-wise least-squares fit of a kinetic model. Runs with cbf volumes "
        "and no control/label or deltam volume: CBF is the mean of their cbf volumes. Each "
        "map's sidecar "
        "states the method and every constant used (Description, QuantificationParameters).",
        "",
        "Maps: `_cbf` (mL/100g/min), `_att` (s), `_abv` (volume fraction), `_abat` (s); BIDS "
        "has no suffix for them yet, so `.bidsignore` lists them.",
        "",
        "Runs:",
        "",
    ]
    for run in runs:
        lines.append(f"* `{run.plan.relative}`: {', '.join(f'_{s}' for s in run.maps)}")
    return "\n".join(lines) + "\n"


def map_sidecar(run: QuantifiedRun, suffix: str) -> dict[str, Any]:
    """The sidecar of one map."""
    units, what = MAPS[suffix]
    return {
        "Description": f"{what}, {run.method}",
        "Units": units,
        "SkullStripped": False,
        "Sources": [f"bids:raw:{source}" for source in run.plan.sources],
        "QuantificationParameters": run.parameters,
        "DROSoftware": f"asldro {__version__}",
    }


def derivative_files(
    runs: Sequence[QuantifiedRun], source_description: dict[str, Any], raw: str, source: str
) -> dict[str, bytes]:
    """Every file of the derivative (relative path -> content); ``raw`` is the URI of the
    source dataset (:func:`raw_uri`), ``source`` its path."""
    files: dict[str, bytes] = {}
    for run in runs:
        for suffix, values in run.maps.items():
            stem = f"{run.plan.folder}/{run.plan.stem}_{suffix}"
            files[f"{stem}.nii.gz"] = nifti_gz_bytes(values, run.plan.affine)
            files[f"{stem}.json"] = json_bytes(map_sidecar(run, suffix))
    files["dataset_description.json"] = json_bytes(dataset_description(source_description, raw))
    files["README.md"] = readme(runs).encode()
    files[".bidsignore"] = "".join(f"{pattern}\n" for pattern in BIDSIGNORE).encode()
    record = files_record(
        [*files, FILES_RECORD],
        command=COMMAND,
        source=source,
        runs=[run.plan.relative for run in runs],
    )
    files[FILES_RECORD] = json_bytes(record)
    return files


def report_name(target: Path) -> str:
    """How the validation report names the derivative: ``derivatives/<name>`` when it is one of
    a dataset's, else its folder."""
    resolved = Path(os.path.realpath(target))
    return f"derivatives/{resolved.name}" if resolved.parent.name == "derivatives" else str(target)


def write_derivative(plan: OutputPlan, files: dict[str, bytes], *, validate: bool) -> Any:
    """Build the derivative in a hidden folder inside the target, validate it there (its report
    in ``code/validation.json``) unless ``validate`` is false, and swap it in. Returns the
    validation report (None when not validated). Write errors name the file at its final
    place."""
    with building(plan) as area:
        for relative, content in files.items():
            path = area.dataset / relative
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_file(path, content)
            except OSError as err:
                raise named(err, plan.target / relative) from err
        report = None
        if validate:
            name = report_name(plan.target)
            from asldro.bids.validate import validate_derivative

            report = validate_derivative(
                area.dataset, name=name, write_report=True, scratch_dir=area.temp
            )
        commit(plan, area)
    return report
