"""Reader and writer of the ASLDRO ground-truth format (docs/physics.md §3.1).

A NIfTI of shape ``(X, Y, Z, 1, Q)`` (volume ``q`` on the 5th axis is quantity ``q``) plus a JSON
with exactly the keys ``quantities``, ``units``, ``segmentation`` and ``parameters``.

Unlike ASLDRO, any voxel size and orientation is kept: the affine is read from the file and
written back unchanged (ASLDRO silently assumed 1 mm RAS).

Compaction on read: ``seg_label`` is rounded to uint16 and every quantity that is constant
within each label becomes a lookup table; other quantities stay dense (float32 kept, anything
else as float64). A file without ``seg_label`` gets an all-zero ``seg`` and every quantity is
kept dense (a single label could not tell tissues apart, and dense is what the file says).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from asldro.groundtruth.errors import GroundTruthError
from asldro.groundtruth.types import (
    REQUIRED_PARAMETERS,
    REQUIRED_QUANTITIES,
    GroundTruth,
    read_only,
)
from asldro.jsonable import json_bytes, to_jsonable
from asldro.params.jsonfile import JsonFileError, read_json_file

JSON_KEYS = ("quantities", "units", "segmentation", "parameters")
SEG_QUANTITY = "seg_label"
UINT16_MAX = int(np.iinfo(np.uint16).max)
MAX_LABELS_FOR_SCAN = 256  # above this, first occurrences come from np.unique (one sort)
MAX_AFFINE_CONDITION = 1e12  # condition number above which the affine counts as singular


def json_path_for(nifti_path: str | Path) -> Path:
    """The JSON beside a NIfTI: ``x.nii`` or ``x.nii.gz`` -> ``x.json`` (docs/physics.md §2.1)."""
    path = Path(nifti_path)
    name = path.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".json")
    return path.with_suffix(".json")


def _read_json(json_path: Path) -> dict[str, Any]:
    try:
        doc = read_json_file(json_path, "ground-truth JSON")
    except JsonFileError as exc:
        raise GroundTruthError(str(exc)) from None
    if not isinstance(doc, dict):
        raise GroundTruthError(f"{json_path}: expected a JSON object with keys {JSON_KEYS}")
    return doc


def check_affine(affine: np.ndarray, where: Path | str) -> None:
    """Refuse a voxel-to-world matrix that is not finite or not invertible (a zero voxel size,
    collinear axes): the acquisition grid and motion are computed through its inverse."""
    affine = np.asarray(affine, dtype=np.float64)
    if not np.all(np.isfinite(affine)):
        problem = "holds non-finite values"
    else:
        singular_values = np.linalg.svd(affine[:3, :3], compute_uv=False)
        if singular_values[-1] > singular_values[0] / MAX_AFFINE_CONDITION:
            return
        problem = "is singular (a voxel axis of zero length, or two axes parallel)"
    rows = "; ".join(" ".join(f"{v:g}" for v in row) for row in np.asarray(affine)[:3])
    raise GroundTruthError(
        f"{where}: the affine (voxel-to-world matrix: sform, else qform) {problem}: [{rows}]"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_json(doc: dict[str, Any], where: Path) -> None:
    """Check the four keys of docs/physics.md §3.1 and their content."""
    missing = [key for key in JSON_KEYS if key not in doc]
    if missing:
        raise GroundTruthError(f"{where}: missing key(s) {', '.join(missing)}")
    extra = [key for key in doc if key not in JSON_KEYS]
    if extra:
        raise GroundTruthError(
            f"{where}: unexpected key(s) {', '.join(extra)}; allowed: {', '.join(JSON_KEYS)}"
        )
    quantities, units = doc["quantities"], doc["units"]
    if not isinstance(quantities, list) or not all(isinstance(q, str) for q in quantities):
        raise GroundTruthError(f"{where}: quantities must be a list of strings")
    if len(set(quantities)) != len(quantities):
        raise GroundTruthError(f"{where}: quantities contains duplicates")
    absent = [q for q in REQUIRED_QUANTITIES if q not in quantities]
    if absent:
        raise GroundTruthError(f"{where}: quantities lacks required {', '.join(absent)}")
    if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
        raise GroundTruthError(f"{where}: units must be a list of strings (one per quantity)")
    if len(units) != len(quantities):
        raise GroundTruthError(
            f"{where}: {len(units)} units for {len(quantities)} quantities (one per quantity)"
        )
    segmentation = doc["segmentation"]
    if not isinstance(segmentation, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= UINT16_MAX
        for v in segmentation.values()
    ):
        raise GroundTruthError(f"{where}: segmentation must map tissue names to labels 0..65535")
    parameters = doc["parameters"]
    if not isinstance(parameters, dict):
        raise GroundTruthError(f"{where}: parameters must be a JSON object")
    absent = [p for p in REQUIRED_PARAMETERS if p not in parameters]
    if absent:
        raise GroundTruthError(f"{where}: parameters lacks required {', '.join(absent)}")
    for name in REQUIRED_PARAMETERS:
        if not _is_number(parameters[name]) or not math.isfinite(parameters[name]):
            raise GroundTruthError(
                f"{where}: parameters.{name} must be a number, got {parameters[name]!r}"
            )


def _load_volumes(nifti_path: Path, n_quantities: int) -> tuple[np.ndarray, np.ndarray]:
    import nibabel as nib

    try:
        img = cast(nib.Nifti1Image, nib.load(nifti_path))  # NIfTI-1 or -2 (a subclass)
    except FileNotFoundError as exc:
        raise GroundTruthError(f"{nifti_path}: file not found") from exc
    except Exception as exc:  # nibabel raises several types for unreadable files
        raise GroundTruthError(f"{nifti_path}: not a readable NIfTI ({exc})") from exc
    shape = img.shape
    if len(shape) != 5 or shape[3] != 1:
        raise GroundTruthError(f"{nifti_path}: expected a 5-D image (X, Y, Z, 1, Q), got {shape}")
    if shape[4] != n_quantities:
        raise GroundTruthError(
            f"{nifti_path}: {shape[4]} volumes on axis 5 but {n_quantities} quantities in the JSON"
        )
    affine = np.array(img.affine, dtype=np.float64)
    check_affine(affine, nifti_path)
    data = np.asanyarray(img.dataobj)
    if data.dtype not in (np.float32, np.float64):
        data = data.astype(np.float64)
    return data[:, :, :, 0, :], affine


def _memory_order(arr: np.ndarray) -> Literal["C", "F"]:
    return "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"


def label_voxels(seg: np.ndarray) -> tuple[int, np.ndarray, tuple[np.ndarray, ...]]:
    """Table length (``seg.max() + 1``), the labels present, and one voxel index per label
    (the first in memory order)."""
    order = _memory_order(seg)
    flat_seg = seg.ravel(order=order)  # a view when seg is contiguous
    counts = np.bincount(flat_seg, minlength=1)
    labels = np.flatnonzero(counts)
    if labels.size <= MAX_LABELS_FOR_SCAN:
        first = np.array([int(np.argmax(flat_seg == label)) for label in labels], dtype=np.intp)
    else:
        first = np.unique(flat_seg, return_index=True)[1]
    return counts.size, labels, np.unravel_index(first, seg.shape, order=order)


def compact(
    values: np.ndarray,
    seg: np.ndarray,
    voxels: tuple[int, np.ndarray, tuple[np.ndarray, ...]] | None = None,
) -> np.ndarray:
    """A float64 lookup table of length ``seg.max() + 1`` when ``values`` is constant within
    every label of ``seg`` (absent labels get 0), else ``values`` itself.

    ``voxels`` is :func:`label_voxels` of ``seg``, to share the work between quantities.
    """
    size, labels, first = label_voxels(seg) if voxels is None else voxels
    table = np.zeros(size, dtype=np.float64)
    table[labels] = values[first]
    expanded = table[seg]
    if np.array_equal(expanded, values):
        return table
    if np.isnan(table).any() and np.array_equal(expanded, values, equal_nan=True):
        return table
    return values


def _to_seg(values: np.ndarray, where: Path) -> np.ndarray:
    rounded = np.rint(values)
    if not np.all(np.isfinite(rounded)) or rounded.min() < 0 or rounded.max() > UINT16_MAX:
        raise GroundTruthError(f"{where}: seg_label must round to integers in 0..{UINT16_MAX}")
    return rounded.astype(np.uint16)


def read_ground_truth(nifti_path: str | Path, json_path: str | Path | None = None) -> GroundTruth:
    """Read an ASLDRO-format ground truth (docs/physics.md §3.1, §3.3 step 1).

    Parameters
    ----------
    nifti_path : path
        The 5-D ``(X, Y, Z, 1, Q)`` NIfTI.
    json_path : path, optional
        Its JSON; by default the file with the same stem beside the NIfTI.

    Returns
    -------
    GroundTruth
        Lookup tables where a quantity is constant within every label, dense maps otherwise.

    Raises
    ------
    GroundTruthError
        One line naming the file and the problem.
    """
    nifti_path = Path(nifti_path)
    json_path = json_path_for(nifti_path) if json_path is None else Path(json_path)
    doc = _read_json(json_path)
    _validate_json(doc, json_path)
    quantities: list[str] = doc["quantities"]
    volumes, affine = _load_volumes(nifti_path, len(quantities))
    shape = volumes.shape[:3]
    if SEG_QUANTITY in quantities:
        seg = _to_seg(volumes[..., quantities.index(SEG_QUANTITY)], nifti_path)
        voxels = label_voxels(seg)
    else:
        seg = np.zeros(shape, dtype=np.uint16)
        voxels = None  # no labels: every quantity stays dense
    maps: dict[str, np.ndarray] = {}
    for index, name in enumerate(quantities):
        if name == SEG_QUANTITY:
            continue
        values = volumes[..., index]
        stored = values if voxels is None else compact(values, seg, voxels)
        if stored is values:  # dense: copy out of the (possibly memory-mapped) file data
            stored = np.array(values, order="K")
        maps[name] = read_only(stored)
    return GroundTruth(
        affine=read_only(affine),
        shape=shape,
        seg=read_only(seg),
        segmentation=doc["segmentation"],
        maps=maps,
        units=dict(zip(quantities, doc["units"])),
        parameters=doc["parameters"],
        quantity_order=tuple(quantities),
    )


def ground_truth_json(gt: GroundTruth) -> dict[str, Any]:
    """The JSON document of docs/physics.md §3.1 for ``gt`` (exactly the four keys)."""
    quantities = list(gt.quantities)
    return {
        "quantities": quantities,
        "units": [gt.units.get(name, "") for name in quantities],
        "segmentation": {name: int(label) for name, label in gt.segmentation.items()},
        "parameters": {name: to_jsonable(value) for name, value in gt.parameters.items()},
    }


def write_ground_truth(
    gt: GroundTruth, nifti_path: str | Path, json_path: str | Path | None = None
) -> tuple[Path, Path]:
    """Write ``gt`` as a 5-D float64 NIfTI-1 ``(X, Y, Z, 1, Q)`` and JSON (docs/physics.md §3.1).

    The affine is written unchanged as sform and qform (code 1). ``.nii.gz`` files are
    gzip-compressed deterministically (nibabel writes mtime 0). Returns the two paths written.

    The format holds one tissue per voxel: a partial-volume ground truth (docs/physics.md §3.5)
    is written as its single-label view, ``seg_label`` the majority tissue of each voxel and
    every lookup-table quantity that tissue's value
    (:meth:`~asldro.groundtruth.types.GroundTruth.majority_values`).
    """
    import nibabel as nib

    nifti_path = Path(nifti_path)
    json_path = json_path_for(nifti_path) if json_path is None else Path(json_path)
    doc = ground_truth_json(gt)
    data = np.empty((*gt.shape, 1, len(doc["quantities"])), dtype=np.float64, order="F")
    for index, name in enumerate(doc["quantities"]):
        data[:, :, :, 0, index] = (
            gt.dense(name) if name == SEG_QUANTITY else gt.majority_values(name)
        )
    img = nib.Nifti1Image(data, gt.affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_sform(gt.affine, code=1)
    img.set_qform(gt.affine, code=1)
    try:
        nib.save(img, nifti_path)
        json_path.write_bytes(json_bytes(doc))
    except OSError as exc:
        raise GroundTruthError(
            f"{exc.filename or nifti_path}: cannot write ({exc.strerror or exc})"
        ) from exc
    return nifti_path, json_path
