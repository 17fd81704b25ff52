"""Synthetic subject data as FSL FAST and fMRIPrep write it: small tissue probability maps and
quantity maps on grids of their own (issue 13 item 4), for the tests of
``ground_truth: {"probseg": ..., "maps": ...}``."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

#: The probseg grid: 2 mm voxels, world (0, 0, 0) at the centre of the 40 x 48 x 40 grid.
PROBSEG_SHAPE = (40, 48, 40)
PROBSEG_AFFINE = np.array(
    [[2.0, 0, 0, -39.0], [0, 2.0, 0, -47.0], [0, 0, 2.0, -39.0], [0, 0, 0, 1]]
)
#: Radii (mm) of the synthetic head: WM inside WM_RADIUS, GM to GM_RADIUS, CSF to CSF_RADIUS,
#: each boundary a linear ramp RAMP mm wide (partial volume).
WM_RADIUS, GM_RADIUS, CSF_RADIUS, RAMP = 14.0, 24.0, 30.0, 4.0


def world_coordinates(shape: tuple[int, ...], affine: np.ndarray) -> np.ndarray:
    """World (mm) coordinates of every voxel centre, ``(3, *shape)``."""
    index = np.indices(shape, dtype=np.float64).reshape(3, -1)
    world = affine[:3, :3] @ index + affine[:3, 3:4]
    return world.reshape((3, *shape))


def _ramp(radius: np.ndarray, edge: float) -> np.ndarray:
    """1 well inside ``edge``, 0 well outside, linear over :data:`RAMP` mm."""
    return np.clip((edge + RAMP / 2 - radius) / RAMP, 0.0, 1.0)


def probabilities() -> dict[str, np.ndarray]:
    """GM, WM and CSF probabilities (float32) of the synthetic head on the probseg grid; they
    sum to 1 inside the head and fall to 0 outside."""
    radius = np.linalg.norm(world_coordinates(PROBSEG_SHAPE, PROBSEG_AFFINE), axis=0)
    inside_wm, inside_gm, inside_csf = (
        _ramp(radius, r) for r in (WM_RADIUS, GM_RADIUS, CSF_RADIUS)
    )
    return {
        "WM": inside_wm.astype(np.float32),
        "GM": (inside_gm - inside_wm).astype(np.float32),
        "CSF": (inside_csf - inside_gm).astype(np.float32),
    }


def save(data: np.ndarray, affine: np.ndarray, path: Path) -> Path:
    """``data`` as a NIfTI-1 at ``path`` (sform and qform code 1); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(np.asarray(data), affine)
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1)
    nib.save(image, path)
    return path


def write_fast(folder: Path, prefix: str = "T1_fast", maps: dict | None = None) -> Path:
    """FSL FAST's ``<prefix>_pve_0/1/2.nii.gz`` (CSF, GM, WM) in ``folder``."""
    maps = probabilities() if maps is None else maps
    for index, tissue in (("0", "CSF"), ("1", "GM"), ("2", "WM")):
        save(maps[tissue], PROBSEG_AFFINE, folder / f"{prefix}_pve_{index}.nii.gz")
    return folder


def write_bids(root: Path, participant: str = "01", space: str | None = None) -> Path:
    """An fMRIPrep-style derivative: ``sub-<p>/anat/sub-<p>[_space-<s>]_label-<T>_probseg``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(
        '{"Name": "fmriprep", "BIDSVersion": "1.10.1", "DatasetType": "derivative"}'
    )
    space_entity = f"_space-{space}" if space else ""
    for tissue, values in probabilities().items():
        name = f"sub-{participant}{space_entity}_label-{tissue}_probseg.nii.gz"
        save(values, PROBSEG_AFFINE, root / f"sub-{participant}" / "anat" / name)
    return root


def rotated_affine(degrees: float = 20.0, voxel: float = 2.0, shape=(44, 52, 44)) -> np.ndarray:
    """A grid of ``voxel`` mm rotated by ``degrees`` about z, centred on world (0, 0, 0)."""
    angle = np.deg2rad(degrees)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    linear = rotation * voxel
    centre = (np.array(shape) - 1) / 2
    affine = np.eye(4)
    affine[:3, :3] = linear
    affine[:3, 3] = -linear @ centre
    return affine


#: CBF of the two halves of the synthetic CBF map (ml/100g/min): world x > 0 and x < 0.
CBF_RIGHT, CBF_LEFT = 80.0, 30.0


def write_cbf_map(path: Path, shape=(44, 52, 44), degrees: float = 20.0) -> Path:
    """A CBF map on a rotated 2 mm grid: :data:`CBF_RIGHT` where world x > 0, else
    :data:`CBF_LEFT` (by voxel centre)."""
    affine = rotated_affine(degrees, 2.0, shape)
    x = world_coordinates(shape, affine)[0]
    return save(np.where(x > 0, CBF_RIGHT, CBF_LEFT).astype(np.float32), affine, path)


#: The problems :func:`write_spoilt` can make, and words its refusal must hold.
SPOILT = {
    "negative probability": ("probseg.GM", "T1_fast_pve_1", "[0, 1]", "-0.2"),
    "probability above 1": ("probseg.WM", "T1_fast_pve_2", "[0, 1]"),
    "non-finite probseg": ("probseg.CSF", "1 non-finite"),
    "non-finite map": ("maps.perfusion_rate", "cbf.nii.gz", "1 non-finite"),
    "4-D map": ("maps.perfusion_rate", "3-D", "2 volumes"),
    "map elsewhere": ("maps.perfusion_rate", "does not overlap"),
    "negative cbf": ("maps.perfusion_rate", "cbf.nii.gz", "in [0, 1000]", "-5"),
    "different grids": ("probseg", "affine differing by up to 2 mm", "share one grid"),
}


def write_spoilt(folder: Path, problem: str) -> dict:
    """A FAST folder ``folder/fast`` and a CBF map ``folder/cbf.nii.gz``, one of them spoilt by
    ``problem`` (one of :data:`SPOILT`); the ``ground_truth`` value that uses them (paths
    relative to ``folder``)."""
    maps = probabilities()
    cbf_shape, cbf_affine = (44, 52, 44), rotated_affine(20.0, 2.0, (44, 52, 44))
    cbf = np.full(cbf_shape, 50.0, np.float32)
    if problem == "negative probability":
        maps["GM"][20, 20, 20] = -0.2
    elif problem == "probability above 1":
        maps["WM"] = maps["WM"] * 100
    elif problem == "non-finite probseg":
        maps["CSF"][3, 3, 3] = np.nan
    elif problem == "non-finite map":
        cbf[1, 2, 3] = np.inf
    elif problem == "4-D map":
        cbf = np.stack([cbf, cbf], axis=-1)
    elif problem == "map elsewhere":
        cbf_affine = cbf_affine.copy()
        cbf_affine[:3, 3] += 500.0
    elif problem == "negative cbf":
        cbf[:] = -5.0
    write_fast(folder / "fast", maps=maps)
    if problem == "different grids":
        shifted = PROBSEG_AFFINE.copy()
        shifted[0, 3] += 2.0
        save(maps["CSF"], shifted, folder / "fast" / "T1_fast_pve_0.nii.gz")
    save(cbf, cbf_affine, folder / "cbf.nii.gz")
    return {"probseg": {"folder": "fast"}, "maps": {"perfusion_rate": "cbf.nii.gz"}}
