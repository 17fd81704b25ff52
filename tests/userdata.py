"""A user's data as tests need it: a real BIDS dataset asldro did not make, a byte-for-byte
snapshot of a folder (hidden files and symlinks included) to prove nothing was touched, and a
parameter file whose ground truth fails only when it is loaded."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path


def make_user_bids_dataset(root: Path) -> Path:
    """A small BIDS dataset made by someone else (not asldro): README, dataset_description.json,
    participants.tsv with age and sex columns, and ``sub-01`` with a T1w and the user's notes."""
    root.mkdir(parents=True)
    (root / "README").write_text("My study. Do not lose this.\n")
    (root / "dataset_description.json").write_text(
        json.dumps(
            {
                "Name": "my study",
                "BIDSVersion": "1.10.1",
                "GeneratedBy": [{"Name": "my-scanner-export", "Version": "3"}],
            }
        )
    )
    (root / "participants.tsv").write_text("participant_id\tage\tsex\nsub-01\t34\tF\n")
    anat = root / "sub-01" / "anat"
    anat.mkdir(parents=True)
    (anat / "sub-01_T1w.nii.gz").write_bytes(gzip.compress(b"\x5c\x01" + bytes(346), mtime=0))
    (anat / "sub-01_T1w.json").write_text('{"RepetitionTime": 2.3}')
    (root / "sub-01" / "notes.txt").write_text("participant moved in run 2\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


def snapshot(root: Path) -> dict[str, object]:
    """Every entry below ``root`` (hidden ones too): file -> bytes, symlink -> ("link", target),
    folder -> "dir". Equal snapshots mean nothing was added, removed or changed."""
    entries: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                entries[relative] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[relative] = "dir"
            else:
                entries[relative] = path.read_bytes()
    return entries


def asldro_leftovers(root: Path) -> list[str]:
    """Hidden temporary entries of asldro (``.asldro-*``) anywhere below ``root``, except the
    dataset lock ``.asldro.lock``."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            if name.startswith(".asldro-"):
                found.append((Path(folder) / name).relative_to(root).as_posix())
    return sorted(found)


def bad_ground_truth_params(folder: Path, name: str = "params.json") -> Path:
    """A parameter file ``folder/name`` that passes parameter validation but whose ground truth
    (``gt.nii.gz`` + ``gt.json`` beside it) fails when loaded: the JSON is valid, the NIfTI is
    not one (a ``GroundTruthError`` naming the file, exit 65)."""
    (folder / "gt.nii.gz").write_text("not a NIfTI")
    (folder / "gt.json").write_text(
        json.dumps(
            {
                "quantities": ["t1"],
                "units": ["s"],
                "segmentation": {},
                "parameters": {
                    "lambda_blood_brain": 0.9,
                    "t1_arterial_blood": 1.65,
                    "magnetic_field_strength": 3,
                },
            }
        )
    )
    params = folder / name
    params.write_text(
        json.dumps(
            {
                "global_configuration": {"ground_truth": "gt.nii.gz"},
                "image_series": [{"series_type": "ground_truth"}],
            }
        )
    )
    return params
