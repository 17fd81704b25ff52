"""Datasets of the scorer's tests: a ground truth of 6 mm blocks of one tissue each on a 1 mm
grid (written here with nibabel), generated noiselessly by ``asldro generate`` with its ASL and
ground_truth series on a 2 mm grid, so that any 3 mm grid aligned with the blocks holds pure
voxels and the truth of any grid shifted by whole millimetres is the mean over the 1 mm cells
it covers (computed here, independently of asldro's resampling)."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np

SHAPE_1MM = (24, 24, 12)
ORIGIN = np.array([-12.0, -12.0, -6.0])  # world position of 1 mm voxel (0, 0, 0)
BLOCK = 6
# labels: background, grey matter, white matter, csf, lesion
CBF = np.array([0.0, 60.0, 20.0, 0.0, 30.0])
ATT = np.array([0.0, 0.8, 1.2, 1000.0, 1.5])
NAMES = {"grey_matter": 1, "white_matter": 2, "csf": 3, "lesion": 4}
ABBREVIATIONS = {1: "GM", 2: "WM", 3: "CSF", 4: "LES"}


def labels_1mm() -> np.ndarray:
    """The label of every 1 mm voxel: blocks of 6 mm; the blocks at the low x and y edges are
    background, the others cycle through the four tissues."""
    blocks = np.zeros((4, 4, 2), dtype=np.int64)
    for bx in range(1, 4):
        for by in range(1, 4):
            for bz in range(2):
                blocks[bx, by, bz] = 1 + (bx + 2 * by + bz) % 4
    return np.kron(blocks, np.ones((BLOCK,) * 3, dtype=np.int64))


def affine(voxel: float, first_cell: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """The affine of a grid of ``voxel`` mm whose voxel 0 starts at 1 mm cell ``first_cell``."""
    matrix = np.diag([voxel, voxel, voxel, 1.0])
    matrix[:3, 3] = ORIGIN - 0.5 + np.asarray(first_cell) + voxel / 2.0
    return matrix


def cells(values: np.ndarray, voxel: int, first_cell: tuple[int, int, int], shape) -> np.ndarray:
    """The 1 mm cells of each voxel of a ``voxel`` mm grid: shape ``(*shape, voxel**3)``."""
    x0, y0, z0 = first_cell
    region = values[
        x0 : x0 + voxel * shape[0], y0 : y0 + voxel * shape[1], z0 : z0 + voxel * shape[2]
    ]
    blocks = region.reshape(shape[0], voxel, shape[1], voxel, shape[2], voxel)
    return blocks.transpose(0, 2, 4, 1, 3, 5).reshape(*shape, voxel**3)


def expected_truth(voxel: int, first_cell, shape) -> dict[str, np.ndarray]:
    """The volume-mean CBF, the perfusion-weighted ATT (NaN where no perfusion) and each
    label's fraction on a grid of whole-millimetre voxels, from the 1 mm truth."""
    seg = labels_1mm()
    cbf = cells(CBF[seg], voxel, first_cell, shape)
    att = cells(ATT[seg], voxel, first_cell, shape)
    labels = cells(seg, voxel, first_cell, shape)
    weight = cbf.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.where(weight > 0, (cbf * att).sum(axis=-1) / weight, np.nan)
    fractions = {index: (labels == index).mean(axis=-1) for index in range(5)}
    return {"cbf": cbf.mean(axis=-1), "att": weighted, "fractions": fractions}


def write_ground_truth(folder: Path) -> None:
    """The 1 mm ground truth in ASLDRO's 5-D format (gt.nii.gz, gt.json)."""
    seg = labels_1mm()
    tables = {
        "perfusion_rate": CBF,
        "transit_time": ATT,
        "t1": np.array([0.0, 1.33, 0.83, 3.0, 1.5]),
        "t2": np.array([0.0, 0.08, 0.11, 0.3, 0.1]),
        "t2_star": np.array([0.0, 0.066, 0.053, 0.2, 0.06]),
        "m0": np.array([0.0, 75.0, 65.0, 100.0, 70.0]),
    }
    stack = np.stack([table[seg] for table in tables.values()] + [seg.astype(float)], axis=-1)
    nib.save(nib.Nifti1Image(stack[:, :, :, np.newaxis, :], affine(1.0)), folder / "gt.nii.gz")
    (folder / "gt.json").write_text(
        json.dumps(
            {
                "quantities": [*tables, "seg_label"],
                "units": ["ml/100g/min", "s", "s", "s", "s", "", ""],
                "segmentation": NAMES,
                "parameters": {
                    "lambda_blood_brain": 0.9,
                    "t1_arterial_blood": 1.65,
                    "magnetic_field_strength": 3,
                },
            }
        )
    )


def generate_block_dataset(folder: Path) -> Path:
    """``folder/dro``: the block ground truth generated with its ASL and ground_truth series on
    the 2 mm grid (12 x 12 x 6), no noise."""
    from asldro.api import generate

    folder.mkdir(parents=True, exist_ok=True)
    write_ground_truth(folder)
    matrix = [n // 2 for n in SHAPE_1MM]
    params = {
        "global_configuration": {"ground_truth": "gt.nii.gz"},
        "image_series": [
            {
                "series_type": "asl",
                "series_parameters": {
                    "asl_context": "m0scan control label",
                    "acq_matrix": matrix,
                    "desired_snr": 0,
                },
            },
            {"series_type": "ground_truth", "series_parameters": {"acq_matrix": matrix}},
        ],
    }
    path = folder / "params.json"
    path.write_text(json.dumps(params))
    dataset = folder / "dro"
    generate(str(path), str(dataset), validate=False)
    return dataset


def write_map(path: Path, values: np.ndarray, matrix: np.ndarray, **sidecar) -> Path:
    """A float32 NIfTI map (and its sidecar when ``sidecar`` is given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(np.asarray(values, dtype=np.float32), matrix)
    image.header.set_sform(matrix, code=1)
    image.header.set_qform(matrix, code=1)
    nib.save(image, path)
    if sidecar:
        stem = path.name.split(".")[0]
        path.with_name(f"{stem}.json").write_text(json.dumps(sidecar))
    return path
