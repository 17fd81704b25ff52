"""A cohort end to end (issue 14 "must show", engine side): three participants with drawn
physiology, lesion and motion; each participant's ground-truth CBF shows its drawn grey-matter
value, its provenance records the draws and columns, the dataset is valid, and a participant
regenerated alone is byte-identical."""

from __future__ import annotations

import hashlib
import json

import nibabel as nib
import numpy as np
import pytest

from asldro.api import generate

from .conftest import document, small

LABELS = ["01", "02", "03"]
COHORT = {
    "seed": 5,
    "tissues": {
        "grey_matter": {
            "perfusion_rate": {"distribution": "normal", "mean": 60, "sd": 8},
            "transit_time": {"distribution": "truncnormal", "mean": 1.0, "sd": 0.2, "min": 0.5},
        }
    },
    "groups": [
        {"name": "control", "participants": ["01"]},
        {
            "name": "patient",
            "share": 1.0,
            "tissues": {
                "grey_matter": {"perfusion_rate": {"distribution": "normal", "mean": 35, "sd": 5}}
            },
        },
    ],
    "motion": {"scenario": "jitter", "translation_sd": 0.3, "rotation_sd": 0.2},
    "lesions": {
        "probability": 0.5,
        "radius": {"distribution": "uniform", "min": 8, "max": 12},
        "centre": [28.0, -10.0, 22.0],
        "values": {"perfusion_rate": {"scale": 0.5}},
    },
}


def _doc() -> dict:
    return document(
        small("asl", asl_context="m0scan control label"),
        small("ground_truth"),
        small("structural"),
        cohort=COHORT,
    )


def _hashes(folder, label: str) -> dict[str, str]:
    files = [p for p in folder.rglob("*") if p.is_file() and f"sub-{label}" in str(p)]
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module", name="cohort_dataset")
def fixture_cohort_dataset(tmp_path_factory):
    """A validated three-participant cohort dataset: (folder, generate result)."""
    out = tmp_path_factory.mktemp("cohort") / "dro"
    return out, generate(_doc(), out, participant_labels=LABELS, validate=True, report=False)


def _map(path) -> np.ndarray:
    return np.asarray(nib.load(path).dataobj, dtype=np.float64)


def _probseg(root, label: str, tissue: str) -> np.ndarray:
    return _map(root / "anat" / f"sub-{label}_label-{tissue}_desc-groundtruth_probseg.nii.gz")


def _provenance(out, label: str) -> dict:
    return json.loads((out / "code" / "provenance" / f"sub-{label}.json").read_text())


def test_the_cohort_dataset_is_valid(cohort_dataset):
    _, result = cohort_dataset
    for report in result.validation.datasets:
        assert not report.findings, report


def test_each_participants_ground_truth_cbf_shows_its_drawn_grey_matter_value(cohort_dataset):
    out, _ = cohort_dataset
    drawn = {}
    for label in LABELS:
        record = _provenance(out, label)["cohort"]
        value = record["tissues"]["grey_matter"]["perfusion_rate"]["value"]
        drawn[label] = value
        root = out / "derivatives" / "groundtruth" / f"sub-{label}"
        cbf = _map(root / "perf" / f"sub-{label}_desc-groundtruth_cbf.nii.gz")
        grey, white = (_probseg(root, label, tissue) for tissue in ("GM", "WM"))
        lesion = root / "anat" / f"sub-{label}_label-COHORTLESION_desc-groundtruth_probseg.nii.gz"
        healthy = ~(_map(lesion) > 0) if lesion.exists() else np.ones(cbf.shape, bool)
        # each voxel is the fraction-weighted mixture: CBF = f_GM * drawn + f_WM * 20 (CSF 0)
        use = healthy & (grey > 0.5)
        assert use.sum() > 50
        assert np.allclose(cbf[use], grey[use] * value + white[use] * 20.0, rtol=1e-5, atol=1e-4)
    assert len(set(drawn.values())) == 3
    assert drawn["01"] > 45 > max(drawn["02"], drawn["03"])  # control vs patient means


def test_the_provenance_has_the_draws_and_the_participant_columns(cohort_dataset):
    out, _ = cohort_dataset
    for label in LABELS:
        provenance = _provenance(out, label)
        record = provenance["cohort"]
        columns = provenance["participant"]["columns"]
        names = [column["name"] for column in columns]
        assert names[:3] == ["group", "grey_matter_perfusion_rate", "grey_matter_transit_time"]
        assert names[3:5] == ["lesion", "lesion_radius"]
        assert {column["name"]: column["value"] for column in columns}["group"] == record["group"]
        assert record["motion"][0]["series_index"] == 1
        assert record["tissues"]["grey_matter"]["perfusion_rate"]["stream"]["entropy"] == 5
        resolved = json.loads((out / "code" / f"sub-{label}_dro_params.json").read_text())
        assert resolved["global_configuration"]["cohort"]["seed"] == 5
    assert _provenance(out, "01")["cohort"]["group"] == "control"


def test_a_participant_regenerated_alone_is_byte_identical(cohort_dataset, tmp_path):
    out, _ = cohort_dataset
    alone = tmp_path / "alone"
    generate(_doc(), alone, participant_labels=["02"], validate=False, report=False)
    assert _hashes(alone, "02") == _hashes(out, "02")
    assert len(_hashes(alone, "02")) > 20


def test_two_processes_give_the_same_participants(cohort_dataset, tmp_path):
    out, _ = cohort_dataset
    parallel = tmp_path / "parallel"
    generate(_doc(), parallel, participant_labels=LABELS, n_procs=2, validate=False, report=False)
    for label in LABELS:
        assert _hashes(parallel, label) == _hashes(out, label), label
