"""``asldro.quantify.quantify``: a BIDS ASL dataset in, its CBF (and ATT, aBV, aBAT) maps out as
a BIDS derivative (docs/quantify.md).

Everything is checked before anything is written: the output folder first, then every run's
files and sidecars, then the voxel data are quantified run by run; only when all runs are done
is the derivative written (built beside, then swapped in), so a failure leaves no partial
output.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np

from asldro.exit_codes import UsageError
from asldro.quantify.constants import T1_TISSUE, Constants, Overrides, resolve_constants
from asldro.quantify.errors import QuantifyError
from asldro.quantify.models import DEFAULT_MODEL, MODELS
from asldro.quantify.runs import (
    Options,
    QuantifiedRun,
    TissueT1,
    check_run,
    quantify_cbf_run,
    quantify_run,
)

if TYPE_CHECKING:
    from asldro.quantify.reading import RunPlan


@dataclass(frozen=True)
class QuantifyResult:
    """What :func:`quantify` wrote: the derivative folder, for each ASL run (its path relative
    to the dataset) the map files by suffix (``cbf``, ``att``, ``abv``, ``abat``), and the
    validation report (None when not validated)."""

    output: Path
    maps: Mapping[str, Mapping[str, Path]]
    validation: Any = None

    @property
    def paths(self) -> list[Path]:
        """Every map written (NIfTI files), sorted."""
        return sorted(path for run in self.maps.values() for path in run.values())


def _positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name}: expected a number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{name}: expected a number > 0, got {value!r}")
    return float(value)


def _per_pulse_efficiency(value: float | None) -> float | None:
    """``--bs-efficiency-per-pulse``: a number in (0, 1], or None."""
    name = "--bs-efficiency-per-pulse"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name}: expected a number in (0, 1], got {value!r}")
    if not (math.isfinite(value) and 0 < value <= 1):
        raise UsageError(f"{name}: expected a number in (0, 1], got {value!r}")
    return float(value)


def _run_constants(plan: RunPlan, overrides: Overrides) -> Constants | None:
    """The constants of a run; None for a cbf run (it uses none, so needs none)."""
    if plan.cbf is not None:
        return None
    return resolve_constants(
        plan.metadata.values,
        plan.label_type,
        plan.relative,
        overrides,
        sidecar=plan.metadata.file_of("BackgroundSuppressionNumberPulses"),
    )


def _dataset_root(dataset: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    from asldro.bids.checks import read_json_object

    root = Path(dataset)
    if not str(dataset).strip() or not root.is_dir():
        raise UsageError(f"{dataset}: not a folder (name a BIDS dataset)")
    description_path = root / "dataset_description.json"
    if not description_path.is_file():
        raise QuantifyError(f"{description_path}: missing: {root} is not a BIDS dataset")
    description = read_json_object(description_path)
    if description is None:
        raise QuantifyError(f"{description_path}: not a readable JSON object")
    return root, description


def _selected_runs(root: Path, labels: tuple[str, ...]) -> list[Any]:
    from asldro.bids.checks import find_asl_runs, relative

    runs = find_asl_runs(root)
    if labels:
        missing = [label for label in labels if not (root / f"sub-{label}").is_dir()]
        if missing:
            raise UsageError(f"{root}: no participant {', '.join(f'sub-{m}' for m in missing)}")
        runs = [
            run
            for run in runs
            if relative(run.image, root).split("/")[0] in {f"sub-{label}" for label in labels}
        ]
    if not runs:
        raise QuantifyError(
            f"{root}: no ASL run to quantify (no sub-*/[ses-*/]perf/*_asl.nii[.gz]"
            f"{' of the participants named' if labels else ''})"
        )
    stems: dict[str, str] = {}
    for run in runs:
        rel = relative(run.image, root)
        key = rel[: rel.index("_asl.")]
        if key in stems:
            raise QuantifyError(f"{rel}: the same run as {stems[key]} (two image files)")
        stems[key] = rel
    return runs


def _tissue_t1(value: float | str | os.PathLike | None) -> TissueT1:
    """The ``full`` model's tissue T1: a number (s), or a NIfTI map (s) on the runs' grid."""
    if value is None:
        return TissueT1(T1_TISSUE, f"{T1_TISSUE:g} s (default, as Fabber/BASIL)")
    if isinstance(value, (int, float)):  # a bool too: _positive refuses it (UsageError)
        number = _positive("--t1-tissue", value)
        assert number is not None  # _positive returns None for None only
        return TissueT1(number, f"{number:g} s (given, --t1-tissue)")
    from asldro.quantify.reading import image_data, load_image

    path = Path(value)
    if not path.is_file():
        raise UsageError(f"--t1-tissue {value}: neither a number nor a NIfTI file")
    image = load_image(path, path.parent)
    data = image_data(image, path, path.parent)
    if data.shape[3] != 1:
        raise QuantifyError(
            f"--t1-tissue {value}: a T1 map has one volume, this has {data.shape[3]}"
        )
    return TissueT1(data[..., 0].astype(np.float64), f"map {path.name} (given, --t1-tissue)")


# pylint: disable-next=too-many-arguments,too-many-locals  # the command line's options
def quantify(
    dataset: str | os.PathLike,
    *,
    output_dir: str | os.PathLike | None = None,
    model: str = DEFAULT_MODEL,
    arterial: bool = False,
    participant_labels: Iterable[str] | None = None,
    lambda_blood_brain: float | None = None,
    t1_arterial_blood: float | None = None,
    label_efficiency: float | None = None,
    t1_tissue: float | str | os.PathLike | None = None,
    m0_tr_correction: float | None = None,
    bs_efficiency_per_pulse: float | None = None,
    overwrite: bool = False,
    validate: bool = True,
) -> QuantifyResult:
    """Quantify every ASL run of the BIDS dataset ``dataset`` and write the derivative.

    Parameters
    ----------
    dataset : path
        A BIDS dataset with ASL runs (``sub-*/[ses-*/]perf/*_asl.nii[.gz]``).
    output_dir : path, optional
        The derivative's folder; default ``DATASET/derivatives/asldro-quantify``.
    model : str
        Kinetic model of the multi-PLD fit: ``consensus`` (default), ``whitepaper``, ``full``.
        Single-PLD runs always use the white paper's formula.
    arterial : bool
        Also fit the arterial component (aBV, aBAT) of multi-PLD runs.
    participant_labels : iterable of str, optional
        Quantify only these participants (with or without ``sub-``).
    lambda_blood_brain, t1_arterial_blood, label_efficiency : float, optional
        Replace the default λ, T1 of arterial blood (s) and α (docs/quantify.md §3).
    t1_tissue : float or path, optional
        Tissue T1 of the ``full`` model: a number (s) or a NIfTI T1 map (s) on the runs'
        grid; default 1.3 s.
    m0_tr_correction : float, optional
        T1 (s) of the optional M0 correction ``M0 / (1 − exp(−TR/T1))``; default none.
    bs_efficiency_per_pulse : float, optional
        X in (0, 1]: runs with ``BackgroundSuppression`` true are quantified with the
        labelling efficiency times X**``BackgroundSuppressionNumberPulses``; default none (1).
    overwrite : bool
        Replace an earlier asldro quantify derivative in the output folder.
    validate : bool
        Validate the derivative (own checks, pybids, bids-validator-deno); default true.

    Returns
    -------
    QuantifyResult

    Raises
    ------
    UsageError
        Bad arguments (exit 64).
    QuantifyError
        The dataset cannot be quantified (exit 65).
    OutputError
        The output folder cannot be created or may not be replaced (exit 73).
    """
    from asldro.options import participant_labels as clean_labels
    from asldro.quantify import reading, writing

    if model not in MODELS:
        raise UsageError(f"model {model!r}: choose from {', '.join(MODELS)}")
    if t1_tissue is not None and model != "full":
        warnings.warn(f"--t1-tissue is used by --model full only; --model {model} ignores it")
    overrides = Overrides(
        lambda_blood_brain=_positive("--lambda", lambda_blood_brain),
        t1_arterial_blood=_positive("--t1-blood", t1_arterial_blood),
        label_efficiency=_positive("--labeling-efficiency", label_efficiency),
        bs_efficiency_per_pulse=_per_pulse_efficiency(bs_efficiency_per_pulse),
    )
    tr_t1 = _positive("--m0-tr-correction", m0_tr_correction)
    given = {
        "--arterial": arterial or None,
        "--lambda": lambda_blood_brain,
        "--t1-blood": t1_arterial_blood,
        "--labeling-efficiency": label_efficiency,
        "--t1-tissue": t1_tissue,
        "--m0-tr-correction": m0_tr_correction,
        "--bs-efficiency-per-pulse": bs_efficiency_per_pulse,
    }
    labels = clean_labels(participant_labels)
    root, source_description = _dataset_root(dataset)
    target = writing.output_folder(root, output_dir)
    plan = writing.plan_derivative(target, overwrite=overwrite)
    options = Options(
        model=model,
        arterial=arterial,
        t1_tissue=_tissue_t1(t1_tissue),
        m0_tr_correction=tr_t1,
        given=tuple(name for name, value in given.items() if value is not None),
    )
    plans = [reading.plan_run(run, root) for run in _selected_runs(root, labels)]
    constants = [_run_constants(p, overrides) for p in plans]
    for run_plan in plans:
        check_run(run_plan, options)
    runs: list[QuantifiedRun] = []
    for run_plan, run_constants in zip(plans, constants):
        if run_constants is None:
            runs.append(quantify_cbf_run(run_plan, reading.load_cbf(run_plan, root)))
            continue
        data = reading.load_run(run_plan, root, m0_tr_correction=tr_t1)
        runs.append(quantify_run(run_plan, data, run_constants, options))
    for run in runs:
        for suffix, values in run.maps.items():
            if not np.isfinite(values).all():
                raise RuntimeError(f"{run.plan.relative}: the {suffix} map is not finite")
    files = writing.derivative_files(
        runs, source_description, writing.raw_uri(root, plan.target), str(root.resolve())
    )
    report = writing.write_derivative(plan, files, validate=validate)
    maps = {
        run.plan.relative: {
            suffix: plan.target / f"{run.plan.folder}/{run.plan.stem}_{suffix}.nii.gz"
            for suffix in run.maps
        }
        for run in runs
    }
    return QuantifyResult(output=plan.target, maps=maps, validation=report)
