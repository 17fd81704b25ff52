"""Small synthetic ground truths and an independent ASLDRO-format file writer for the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from asldro.groundtruth import GroundTruth

SHAPE = (20, 24, 16)
QUANTITIES = ["perfusion_rate", "transit_time", "t1", "t2", "t2_star", "m0", "seg_label"]
UNITS = ["ml/100g/min", "s", "s", "s", "s", "", ""]
# per-label values (label 0, 1, 2, 3) chosen by hand for the synthetic object
TABLES = {
    "perfusion_rate": [0.0, 55.0, 25.0, 0.0],
    "transit_time": [0.0, 0.7, 1.3, 1000.0],
    "t1": [0.0, 1.4, 0.9, 4.0],
    "t2": [0.0, 0.09, 0.07, 0.5],
    "t2_star": [0.0, 0.05, 0.04, 0.3],
    "m0": [0.0, 80.0, 70.0, 90.0],
}
PARAMETERS = {"lambda_blood_brain": 0.9, "t1_arterial_blood": 1.65, "magnetic_field_strength": 3}
SEGMENTATION = {"grey_matter": 1, "white_matter": 2, "csf": 3}


def rotation_xyz(ax: float, ay: float, az: float) -> np.ndarray:
    """Rx(ax) @ Ry(ay) @ Rz(az), angles in radians."""
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rx @ ry @ rz


def oblique_affine() -> np.ndarray:
    """2 mm voxels, rotated 20/-10/30 degrees, x flipped, arbitrary translation."""
    affine = np.eye(4)
    affine[:3, :3] = rotation_xyz(*np.radians([20.0, -10.0, 30.0])) @ np.diag([-2.0, 2.0, 2.0])
    affine[:3, 3] = [17.5, -40.25, 12.0]
    return affine


def nested_seg(shape: tuple[int, int, int] = SHAPE) -> np.ndarray:
    """Label map: background shell, CSF box, WM box inside, a GM block inside that."""
    seg = np.zeros(shape, dtype=np.uint16)
    seg[2:-2, 2:-2, 2:-2] = 3
    seg[4:-4, 4:-4, 4:-4] = 2
    seg[6:12, 6:14, 5:9] = 1
    return seg


def volumes(seg: np.ndarray) -> dict[str, np.ndarray]:
    """Dense float64 volumes of the synthetic object (seg_label included)."""
    out = {name: np.asarray(table)[seg] for name, table in TABLES.items()}
    out["seg_label"] = seg.astype(np.float64)
    return out


def write_asldro_files(
    folder: Path,
    vols: dict[str, np.ndarray],
    affine: np.ndarray,
    doc: dict[str, Any] | None = None,
    stem: str = "gt",
    dtype: Any = np.float64,
) -> tuple[Path, Path]:
    """Write a 5-D NIfTI + JSON pair with nibabel directly (independent of the code under test)."""
    names = list(vols)
    stack = np.stack([vols[name] for name in names], axis=-1)[:, :, :, np.newaxis, :]
    nifti = folder / f"{stem}.nii.gz"
    nib.save(nib.Nifti1Image(stack.astype(dtype), affine), nifti)
    if doc is None:
        units = dict(zip(QUANTITIES, UNITS))
        doc = {
            "quantities": names,
            "units": [units.get(name, "") for name in names],
            "segmentation": SEGMENTATION,
            "parameters": PARAMETERS,
        }
    json_path = folder / f"{stem}.json"
    json_path.write_text(json.dumps(doc), encoding="utf-8")
    return nifti, json_path


def synthetic_gt(affine: np.ndarray | None = None) -> GroundTruth:
    """The synthetic object as a compact GroundTruth (all quantities lookup tables)."""
    seg = nested_seg()
    return GroundTruth(
        affine=oblique_affine() if affine is None else affine,
        shape=seg.shape,
        seg=seg,
        segmentation=SEGMENTATION,
        maps={name: np.array(table) for name, table in TABLES.items()},
        units=dict(zip(QUANTITIES, UNITS)),
        parameters=PARAMETERS,
        quantity_order=tuple(QUANTITIES),
    )


@pytest.fixture(name="small_gt")
def fixture_small_gt() -> GroundTruth:
    """A 20x24x16 oblique 2 mm ground truth with four labels."""
    return synthetic_gt()
