"""Hand-made BIDS datasets for the self-validation tests.

The valid dataset follows docs/bids.md §1 (layout), §3 (the tested-valid PCASL sidecar), §4 (m0scan),
§6 (aslcontext), §7 (NIfTI-1 float32 gz, 8x8x8), §9 (ground-truth derivative) and §10
(dataset-level files). Nothing here is produced by the code under test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

SUBJECT = "01"
ASL_CONTEXT = ("control", "label") * 3
TR_ASL = 4.5

ASL_SIDECAR: dict[str, Any] = {
    "MagneticFieldStrength": 3,
    "MRAcquisitionType": "3D",
    "EchoTime": 0.012,
    "FlipAngle": 90,
    "RepetitionTimePreparation": TR_ASL,
    "ArterialSpinLabelingType": "PCASL",
    "PostLabelingDelay": 1.8,
    "LabelingDuration": 1.8,
    "BackgroundSuppression": False,
    "M0Type": "Separate",
    "TotalAcquiredPairs": 3,
    "PCASLType": "balanced",
    "VascularCrushing": False,
    "AcquisitionVoxelSize": [3, 3, 3],
    "LabelingEfficiency": 0.85,
}

M0_SIDECAR: dict[str, Any] = {
    "IntendedFor": f"bids::sub-{SUBJECT}/perf/sub-{SUBJECT}_asl.nii.gz",
    "EchoTime": 0.012,
    "RepetitionTimePreparation": 10.0,
    "MRAcquisitionType": "3D",
    "MagneticFieldStrength": 3,
    "AcquisitionVoxelSize": [3, 3, 3],
}

T1W_SIDECAR: dict[str, Any] = {
    "MagneticFieldStrength": 3,
    "ScanningSequence": "SE",
    "SequenceVariant": "NONE",
    "MRAcquisitionType": "3D",
    "EchoTime": 0.005,
    "RepetitionTime": 0.3,
    "FlipAngle": 90,
}

README_TEXT = (
    "# Synthetic ASL test dataset\n\n"
    "A small hand-made dataset used by the asldro test-suite to exercise the self-validation "
    "layers (own consistency checks, pybids indexing and bids-validator-deno). The images are "
    "8x8x8 float32 NIfTI-1 volumes filled with smooth synthetic values; they carry no anatomy.\n"
)

GT_README_TEXT = (
    "# Ground truth\n\n"
    "Ground-truth maps for the hand-made asldro test dataset: T1 map in seconds, CBF in "
    "mL/100g/min, and a segmentation with the labels listed in desc-groundtruth_dseg.tsv. "
    "The cbf files are listed in .bidsignore because BIDS has no CBF suffix.\n"
)


def write_json(path: Path, content: Any) -> None:
    """Write ``content`` as indented JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def edit_json(path: Path, *, drop: tuple[str, ...] = (), **changes: Any) -> None:
    """Update the keys ``changes`` and delete the keys ``drop`` of a JSON object file."""
    content = read_json(path)
    content.update(changes)
    for key in drop:
        content.pop(key, None)
    write_json(path, content)


def write_nifti(
    path: Path, shape: tuple[int, ...], *, tr: float = 1.0, dtype: type = np.float32
) -> None:
    """Write a NIfTI-1 image with a 3 mm grid, sform/qform code 1 and mm/s units (§7)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(shape) * 1000 + shape[-1])
    data = (100.0 + 10.0 * rng.standard_normal(shape)).astype(dtype)
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    image = nib.Nifti1Image(data, affine)
    image.header.set_xyzt_units("mm", "sec")
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    if len(shape) == 4:
        zooms = image.header.get_zooms()
        image.header.set_zooms(zooms[:3] + (tr,))
    nib.save(image, str(path))


def write_aslcontext(path: Path, rows: tuple[str, ...], header: str = "volume_type") -> None:
    """Write an aslcontext TSV with one column (§6)."""
    path.write_text("\n".join((header,) + tuple(rows)) + "\n", encoding="utf-8")


def perf_dir(root: Path, subject: str = SUBJECT) -> Path:
    """The ``perf/`` folder of a subject."""
    return root / f"sub-{subject}" / "perf"


def asl_paths(root: Path, subject: str = SUBJECT) -> dict[str, Path]:
    """Paths of the ASL, aslcontext and m0scan files of a subject."""
    base = perf_dir(root, subject) / f"sub-{subject}"
    return {
        "asl": Path(f"{base}_asl.nii.gz"),
        "asl_json": Path(f"{base}_asl.json"),
        "context": Path(f"{base}_aslcontext.tsv"),
        "m0": Path(f"{base}_m0scan.nii.gz"),
        "m0_json": Path(f"{base}_m0scan.json"),
    }


def write_subject(root: Path, subject: str = SUBJECT) -> None:
    """Write the raw files of one subject: T1w, ASL (6 volumes), aslcontext, m0scan."""
    anat = root / f"sub-{subject}" / "anat"
    write_nifti(anat / f"sub-{subject}_T1w.nii.gz", (8, 8, 8))
    write_json(anat / f"sub-{subject}_T1w.json", T1W_SIDECAR)
    paths = asl_paths(root, subject)
    write_nifti(paths["asl"], (8, 8, 8, len(ASL_CONTEXT)), tr=TR_ASL)
    write_json(paths["asl_json"], ASL_SIDECAR)
    write_aslcontext(paths["context"], ASL_CONTEXT)
    write_nifti(paths["m0"], (8, 8, 8))
    m0_sidecar = dict(M0_SIDECAR)
    m0_sidecar["IntendedFor"] = f"bids::sub-{subject}/perf/sub-{subject}_asl.nii.gz"
    write_json(paths["m0_json"], m0_sidecar)


def write_participants(root: Path, subjects: tuple[str, ...]) -> None:
    """Write participants.tsv and participants.json (§10)."""
    rows = ["participant_id\tage"] + [f"sub-{label}\tn/a" for label in subjects]
    (root / "participants.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    write_json(
        root / "participants.json",
        {"age": {"Description": "age of the synthetic participant", "Units": "year"}},
    )


def write_groundtruth(root: Path, subject: str = SUBJECT) -> Path:
    """Write ``derivatives/groundtruth`` (§9) and return its root."""
    gt = root / "derivatives" / "groundtruth"
    write_json(
        gt / "dataset_description.json",
        {
            "Name": "asldro test ground truth",
            "BIDSVersion": "1.10.1",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "asldro-tests", "Version": "0"}],
            "SourceDatasets": [{"URL": "bids::"}],
            "Authors": ["Test Author One", "Test Author Two"],
            "License": "CC0",
        },
    )
    (gt / "README.md").write_text(GT_README_TEXT, encoding="utf-8")
    (gt / ".bidsignore").write_text("**/*_cbf.*\n**/*_att.*\n", encoding="utf-8")
    (gt / "descriptions.tsv").write_text(
        "desc_id\tdescription\ndesc-groundtruth\tground truth used by the simulation\n",
        encoding="utf-8",
    )
    (gt / "desc-groundtruth_dseg.tsv").write_text(
        "index\tname\tabbreviation\n0\tbackground\tBG\n1\tgrey matter\tGM\n"
        "2\twhite matter\tWM\n3\tcerebrospinal fluid\tCSF\n",
        encoding="utf-8",
    )
    anat = gt / f"sub-{subject}" / "anat"
    perf = gt / f"sub-{subject}" / "perf"
    write_nifti(anat / f"sub-{subject}_desc-groundtruth_T1map.nii.gz", (8, 8, 8))
    write_json(
        anat / f"sub-{subject}_desc-groundtruth_T1map.json",
        {"SkullStripped": False, "Units": "s", "Description": "T1 ground truth"},
    )
    write_nifti(anat / f"sub-{subject}_desc-groundtruth_dseg.nii.gz", (8, 8, 8), dtype=np.uint16)
    write_json(
        anat / f"sub-{subject}_desc-groundtruth_dseg.json",
        {"SkullStripped": False, "Description": "segmentation ground truth"},
    )
    write_nifti(perf / f"sub-{subject}_desc-groundtruth_cbf.nii.gz", (8, 8, 8))
    write_json(
        perf / f"sub-{subject}_desc-groundtruth_cbf.json",
        {"SkullStripped": False, "Units": "mL/100g/min", "Description": "CBF ground truth"},
    )
    return gt


def make_valid_dataset(root: Path, subjects: tuple[str, ...] = (SUBJECT,)) -> Path:
    """Write a complete valid raw dataset with a ground-truth derivative under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    write_json(
        root / "dataset_description.json",
        {
            "Name": "asldro validation test dataset",
            "BIDSVersion": "1.10.1",
            "DatasetType": "raw",
            "License": "CC0",
            "Authors": ["Test Author One", "Test Author Two"],
            "GeneratedBy": [{"Name": "asldro-tests", "Version": "0"}],
        },
    )
    (root / "README.md").write_text(README_TEXT, encoding="utf-8")
    write_participants(root, subjects)
    for label in subjects:
        write_subject(root, label)
        write_groundtruth(root, label)
    return root


@pytest.fixture(name="valid_dataset_template", scope="session")
def fixture_valid_dataset_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid dataset written once per session; copy it before changing it."""
    return make_valid_dataset(tmp_path_factory.mktemp("template") / "ds")


@pytest.fixture(name="dataset")
def fixture_dataset(valid_dataset_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the valid dataset that a test may break."""
    target = tmp_path / "ds"
    shutil.copytree(valid_dataset_template, target)
    return target


@pytest.fixture(name="hermetic_deno")
def fixture_hermetic_deno(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point DENO_DIR at a per-session cache folder so that tests never touch HOME."""
    cache = tmp_path_factory.getbasetemp() / "deno-cache"
    cache.mkdir(exist_ok=True)
    monkeypatch.setenv("DENO_DIR", str(cache))
    return cache
