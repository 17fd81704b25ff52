"""Ground truth: built-ins, the ASLDRO 5-D file format, and global-configuration modifiers.

``load_ground_truth`` is the entry point for the engine (docs/physics.md §1 step 2, §3).
"""

from __future__ import annotations

from asldro.groundtruth.arterial import with_default_abat
from asldro.groundtruth.builtin import BUILTIN_GROUND_TRUTHS, builtin_ground_truth
from asldro.groundtruth.errors import GroundTruthError
from asldro.groundtruth.io import read_ground_truth, write_ground_truth
from asldro.groundtruth.modify import apply_global_config, check_ranges
from asldro.groundtruth.types import GroundTruth
from asldro.params.types import GlobalConfig, GroundTruthSource

__all__ = [
    "BUILTIN_GROUND_TRUTHS",
    "GroundTruth",
    "GroundTruthError",
    "apply_global_config",
    "builtin_ground_truth",
    "load_ground_truth",
    "read_ground_truth",
    "write_ground_truth",
]


def load_ground_truth(
    source: GroundTruthSource, global_config: GlobalConfig | None = None
) -> GroundTruth:
    """Load a ground truth by built-in name or from a NIfTI + JSON pair, then apply
    ``global_config`` (overrides, modulation, parameter overrides) and the run-time range checks
    (docs/physics.md §3.3); where ``abv`` is given without ``abat``, the default ``abat``
    (:func:`asldro.groundtruth.arterial.with_default_abat`).

    Parameters
    ----------
    source : GroundTruthSource
        ``name`` of a built-in, or ``nifti`` (and optionally ``json``; default: same stem).
    global_config : GlobalConfig, optional
        ``global_configuration`` of the parameter file; ``None`` applies nothing but the checks.

    Raises
    ------
    GroundTruthError
        Unknown name, unreadable or invalid file, unknown quantity, or a value out of range.
    """
    if source.name is not None:
        gt = builtin_ground_truth(source.name)
        where = f"built-in ground truth {source.name}"
    elif source.nifti is not None:
        gt = read_ground_truth(source.nifti, source.json)
        where = str(source.nifti)
    else:
        raise GroundTruthError("ground_truth: neither a built-in name nor a NIfTI path was given")
    if global_config is None:
        check_ranges(gt, where)
    else:
        gt = apply_global_config(gt, global_config, where)
    return with_default_abat(gt)
