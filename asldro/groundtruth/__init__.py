"""Ground truth: built-ins, the ASLDRO 5-D file format, and global-configuration modifiers.

``load_ground_truth`` is the entry point for the engine (docs/physics.md §1 step 2, §3).
"""

from __future__ import annotations

from typing import Sequence

from asldro.groundtruth.arterial import with_default_abat
from asldro.groundtruth.builtin import BUILTIN_GROUND_TRUTHS, builtin_ground_truth
from asldro.groundtruth.errors import GroundTruthError
from asldro.groundtruth.io import read_ground_truth, write_ground_truth
from asldro.groundtruth.maps import describe as describe_subject
from asldro.groundtruth.maps import subject_ground_truth
from asldro.groundtruth.lesions import insert_lesions
from asldro.groundtruth.modify import apply_global_config, check_ranges
from asldro.groundtruth.types import GroundTruth
from asldro.params.lesions import Lesion
from asldro.params.types import GlobalConfig, GroundTruthSource

__all__ = [
    "BUILTIN_GROUND_TRUTHS",
    "GroundTruth",
    "GroundTruthError",
    "apply_global_config",
    "builtin_ground_truth",
    "finish_ground_truth",
    "load_base_ground_truth",
    "load_ground_truth",
    "read_ground_truth",
    "write_ground_truth",
]


def load_ground_truth(
    source: GroundTruthSource, global_config: GlobalConfig | None = None
) -> GroundTruth:
    """Load a ground truth by built-in name, from a NIfTI + JSON pair or from tissue probability
    maps (:mod:`asldro.groundtruth.maps`), then apply
    ``global_config`` (overrides, modulation, parameter overrides) and the run-time range checks
    (docs/physics.md §3.3), then insert its lesions (§3.7); where ``abv`` is given without
    ``abat``, the default ``abat`` (:func:`asldro.groundtruth.arterial.with_default_abat`):
    :func:`finish_ground_truth` of :func:`load_base_ground_truth`.

    Parameters
    ----------
    source : GroundTruthSource
        ``name`` of a built-in, ``nifti`` (and optionally ``json``; default: same stem), or
        ``subject`` (probseg and quantity maps).
    global_config : GlobalConfig, optional
        ``global_configuration`` of the parameter file; ``None`` applies nothing but the checks.

    A built-in or a ground truth from probseg maps is partial-volume unless
    ``global_config.tissue_model`` is ``single_label`` (docs/physics.md §3.5, §3.6); a file is
    single-label.

    Raises
    ------
    GroundTruthError
        Unknown name, unreadable or invalid file, unknown quantity, a value out of range,
        ``tissue_model`` partial_volume for a file, or a lesion that cannot be inserted.
    """
    base = load_base_ground_truth(source, global_config)
    return finish_ground_truth(base, () if global_config is None else global_config.lesions)


def finish_ground_truth(gt: GroundTruth, lesions: Sequence[Lesion]) -> GroundTruth:
    """``gt`` (a base ground truth, :func:`load_base_ground_truth`) with ``lesions`` inserted
    (docs/physics.md §3.7), then the default ``abat`` where ``abv`` is given without it. A
    cohort (docs/cohort.md) calls it per participant, after its tissue values."""
    return with_default_abat(insert_lesions(gt, lesions))


def load_base_ground_truth(
    source: GroundTruthSource, global_config: GlobalConfig | None = None
) -> GroundTruth:
    """The ground truth of :func:`load_ground_truth` before its lesions and the default
    ``abat``: loaded, with ``global_config`` applied and its values checked."""
    tissue_model = None if global_config is None else global_config.tissue_model
    if source.name is not None:
        # the default model by default: the cached value of builtin_ground_truth(name)
        gt = (
            builtin_ground_truth(source.name)
            if tissue_model is None
            else builtin_ground_truth(source.name, tissue_model)
        )
        where = f"built-in ground truth {source.name}"
    elif source.subject is not None:
        gt = subject_ground_truth(source.subject, tissue_model)
        where = describe_subject(source.subject)
    elif source.nifti is not None:
        if tissue_model == "partial_volume":
            raise GroundTruthError(
                f"global_configuration.tissue_model: 'partial_volume' needs a built-in ground "
                f"truth; {source.nifti} is an ASLDRO-format file, which holds one tissue per "
                "voxel (use 'single_label' or leave tissue_model out)"
            )
        gt = read_ground_truth(source.nifti, source.json)
        where = str(source.nifti)
    else:
        raise GroundTruthError("ground_truth: neither a built-in name nor a NIfTI path was given")
    if global_config is None:
        check_ranges(gt, where)
        return gt
    return apply_global_config(gt, global_config, where)
