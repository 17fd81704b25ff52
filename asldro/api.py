"""The engine's front: parameters in, a BIDS dataset out (DESIGN.md, "The flow").

``generate`` is what ``asldro generate`` and the BIDS-App call; ``generate_participant`` writes
one subject and is what parallel participant jobs run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from asldro.params.types import DroParams

ARCHIVE_SUFFIXES = (".zip", ".tar.gz")


class OutputError(OSError):
    """The output location cannot be created or is not usable (exit status 73)."""


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` did: the output folder or archive, participants, validation report."""

    output: Path
    participants: tuple[str, ...]
    validation: Any = None


def as_params(params: DroParams | Mapping[str, Any] | str | os.PathLike | None) -> DroParams:
    """Load ``params`` (a DroParams, a parsed dict, a path, or None for the defaults)."""
    from asldro.params import default_params, load_params

    if isinstance(params, DroParams):
        return params
    return load_params(default_params() if params is None else params)


def generate_participant(
    params: DroParams, output_dir: str | os.PathLike, label: str, *, seed: int | None = None
) -> list[Path]:
    """Simulate every series for participant ``label`` and write ``sub-<label>`` atomically.

    ``seed`` replaces every series' ``random_seed`` when given; the noise streams are derived
    from (seed, label, series, volume), so a label always reproduces bit for bit.
    """
    from asldro.bids import write_participant
    from asldro.groundtruth import load_ground_truth
    from asldro.params import m0_pairing
    from asldro.pipelines import generate_series, provenance

    ground_truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    results = generate_series(params, ground_truth, participant_label=label, seed=seed)
    pairs = {m0 + 1: asl + 1 for m0, asl in m0_pairing(params).items()}
    return write_participant(
        Path(output_dir),
        label,
        results,
        m0_pairs=pairs,
        resolved_params=params.resolved,
        provenance=provenance(results, participant_label=label, seed=seed),
        ground_truth_description=describe_ground_truth(params),
    )


def describe_ground_truth(params: DroParams) -> str:
    """One line naming the ground truth the dataset was simulated from."""
    source = params.global_config.ground_truth
    if source.name:
        return f"built-in ground truth {source.name} (ICBM 2009a nonlinear symmetric templates)"
    return f"ground truth read from {Path(source.nifti).name}"


def _prepare_output(output_dir: Path, overwrite: bool) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError(f"{output_dir}: exists and is not a folder")
    if output_dir.is_dir() and any(output_dir.iterdir()):
        if not overwrite:
            raise OutputError(
                f"{output_dir}: folder is not empty (use --overwrite to replace its contents)"
            )
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=output_dir, prefix=".asldro-tmp-probe-"):
            pass
    except OSError as err:
        raise OutputError(f"{output_dir}: cannot write here ({err.strerror or err})") from err


def generate(
    params: DroParams | Mapping[str, Any] | str | os.PathLike | None,
    output: str | os.PathLike,
    *,
    participant_labels: Sequence[str] = ("01",),
    seed: int | None = None,
    validate: bool = True,
    overwrite: bool = False,
    n_procs: int = 1,
    max_memory: int | None = None,
) -> GenerateResult:
    """Generate a BIDS dataset at ``output`` (a folder, or a ``.zip``/``.tar.gz`` archive).

    Raises ``ParamError`` (bad parameters; ``MemoryLimitError`` when the estimated peak memory
    exceeds ``max_memory`` bytes, default the memory available), ``GroundTruthError`` (bad
    ground truth) or ``OutputError`` (the output cannot be written) before anything is left
    behind; the ground truth and the memory are checked before the output is touched.
    """
    from asldro.bids import update_participants
    from asldro.pipelines.memory import check_memory

    params = as_params(params)
    check_memory(
        params, participants=len(participant_labels), parallel=n_procs, max_memory=max_memory
    )
    output = Path(output)
    archive = output.name.endswith(ARCHIVE_SUFFIXES)
    created = False
    if archive:
        if output.exists() and not overwrite:
            raise OutputError(f"{output}: exists (use --overwrite to replace it)")
        if not output.parent.is_dir():
            raise OutputError(f"{output.parent}: folder does not exist")
        dataset = Path(tempfile.mkdtemp(prefix=".asldro-tmp-", dir=output.parent))
    else:
        created = not output.exists()
        _prepare_output(output, overwrite)
        _clear_folder(output)
        dataset = output
    labels = tuple(participant_labels)
    try:
        _generate_all(params, dataset, labels, seed=seed, n_procs=n_procs)
        update_participants(dataset)
        report = None
        if validate:
            from asldro.bids.validate import validate_dataset

            report = validate_dataset(dataset)
        if archive:
            from asldro.bids import write_archive

            write_archive(dataset, output)
    except BaseException:
        # No partial output: remove what this call wrote (and the folder if it made it).
        if archive or created:
            shutil.rmtree(dataset, ignore_errors=True)
        else:
            _clear_folder(dataset)
        raise
    if archive:
        shutil.rmtree(dataset, ignore_errors=True)
    return GenerateResult(output=output, participants=labels, validation=report)


def _generate_all(
    params: DroParams, dataset: Path, labels: Sequence[str], *, seed: int | None, n_procs: int
) -> None:
    if n_procs > 1 and len(labels) > 1:
        with ProcessPoolExecutor(max_workers=n_procs) as pool:
            futures = [
                pool.submit(generate_participant, params, dataset, label, seed=seed)
                for label in labels
            ]
            for future in futures:
                future.result()
    else:
        for label in labels:
            generate_participant(params, dataset, label, seed=seed)


def _clear_folder(folder: Path) -> None:
    """Remove the contents of ``folder`` (the folder itself stays)."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
