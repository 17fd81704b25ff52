"""Lesions end to end (issue 13 item 3, "must show"): a generated lesion dataset passes the
three validation layers, its values are in the ground-truth derivative at the lesion's centre,
its label in the dseg and desc-groundtruth_dseg.tsv, and ``asldro score`` reports it as a region."""

from __future__ import annotations

import csv
import json

import nibabel as nib
import numpy as np
import pytest

from asldro.api import generate
from asldro.cli import main

from .conftest import document, small

#: World point (mm) deep in the white matter of the built-in ground truth's left hemisphere.
CENTRE = [28.0, -10.0, 22.0]
LESION = {
    "shape": "sphere",
    "name": "infarct",
    "centre": CENTRE,
    "radius": 15,
    "values": {"perfusion_rate": 15.0, "transit_time": 2.0},
}


def _at(image: nib.Nifti1Image, point) -> float:
    """The voxel value of ``image`` at world ``point``."""
    index = np.rint(np.linalg.solve(image.affine[:3, :3], np.asarray(point) - image.affine[:3, 3]))
    return float(np.asarray(image.dataobj)[tuple(int(i) for i in index)])


@pytest.fixture(scope="module", name="lesion_dataset")
def fixture_lesion_dataset(tmp_path_factory):
    """A validated dataset with one lesion: (folder, generate result)."""
    out = tmp_path_factory.mktemp("lesion") / "dro"
    doc = document(
        small("asl", asl_context="m0scan control label", acq_matrix=[40, 48, 36]),
        small("ground_truth", acq_matrix=[66, 78, 63]),
        small("structural", acq_matrix=[40, 48, 36]),
        lesions=[LESION],
    )
    return out, generate(doc, out, validate=True)


def test_a_lesion_dataset_passes_the_three_validation_layers(lesion_dataset):
    _, result = lesion_dataset
    assert result.validation.datasets
    for report in result.validation.datasets:
        assert not report.findings, report
        assert {"own", "pybids"} <= set(report.layers)
        assert any(layer.startswith("bids-validator-deno") for layer in report.layers)


def test_the_lesion_values_label_and_dseg_row_are_in_the_ground_truth_derivative(lesion_dataset):
    out, _ = lesion_dataset
    root = out / "derivatives" / "groundtruth"
    rows = (root / "desc-groundtruth_dseg.tsv").read_text().splitlines()
    assert "4\tinfarct\tINFARCT" in rows
    sub = root / "sub-01"
    for prefix in ("sub-01", "sub-01_res-asl"):
        cbf = nib.load(sub / "perf" / f"{prefix}_desc-groundtruth_cbf.nii.gz")
        att = nib.load(sub / "perf" / f"{prefix}_desc-groundtruth_att.nii.gz")
        assert _at(cbf, CENTRE) == pytest.approx(15.0, rel=1e-5)
        assert _at(att, CENTRE) == pytest.approx(2.0, rel=1e-5)
        probseg = nib.load(sub / "anat" / f"{prefix}_label-INFARCT_desc-groundtruth_probseg.nii.gz")
        assert _at(probseg, CENTRE) == pytest.approx(1.0, abs=1e-6)
        far = [-CENTRE[0], CENTRE[1], CENTRE[2]]  # the other hemisphere: healthy white matter
        assert _at(probseg, far) == 0.0 and _at(cbf, far) > 15.0
    dseg = nib.load(sub / "anat" / "sub-01_desc-groundtruth_dseg.nii.gz")
    assert _at(dseg, CENTRE) == 4
    sidecar = json.loads((sub / "perf" / "sub-01_desc-groundtruth_cbf.json").read_text())
    assert "Inside the lesions (infarct" in sidecar["Description"]
    resolved = json.loads((out / "code" / "sub-01_dro_params.json").read_text())
    assert resolved["global_configuration"]["lesions"] == [LESION]


def test_asldro_score_reports_the_lesion_as_a_region(lesion_dataset, tmp_path, capsys):
    out, _ = lesion_dataset
    truth = nib.load(
        out / "derivatives/groundtruth/sub-01/perf/sub-01_res-asl_desc-groundtruth_cbf.nii.gz"
    )
    estimate = tmp_path / "sub-01_cbf.nii.gz"
    nib.save(nib.Nifti1Image(np.asarray(truth.dataobj) * 0.8, truth.affine), estimate)
    scores = tmp_path / "scores"
    assert (
        main(["score", "--skip-validation", "--output-dir", str(scores), str(out), str(estimate)])
        == 0
    )
    capsys.readouterr()
    with open(scores / "sub-01/perf/sub-01_cbf_scores.tsv", encoding="utf-8", newline="") as stream:
        rows = {row["region"]: row for row in csv.DictReader(stream, delimiter="\t")}
    assert list(rows) == ["GM", "WM", "CSF", "INFARCT", "brain"]
    lesion = rows["INFARCT"]
    assert lesion["kind"] == "label" and lesion["name"] == "infarct"
    assert "label-INFARCT_desc-groundtruth_probseg" in lesion["mask"]
    assert int(lesion["n_voxels"]) > 0
    # voxels >= 90 % lesion: the rest of each is healthy tissue (CBF 20 or 60)
    assert 15.0 <= float(lesion["mean_truth"]) < 15.0 + 0.1 * 60.0
    assert float(lesion["relative_bias"]) == pytest.approx(-0.2, abs=1e-6)
    assert rows["GM"]["kind"] == "tissue"


def test_a_lesion_outside_the_field_of_view_is_one_line_exit_65_and_no_output(tmp_path, capsys):
    params = tmp_path / "p.json"
    outside = {**LESION, "centre": [0.0, 400.0, 0.0]}
    params.write_text(json.dumps(document(small("asl"), lesions=[outside])))
    out = tmp_path / "out"
    status = main(["generate", "--params", str(params), str(out)])
    err = capsys.readouterr().err
    assert status == 65
    assert err.strip().splitlines() == [
        "asldro: global_configuration.lesions[0].centre: [0, 400, 0] mm is outside the ground "
        "truth's field of view"
    ] or (len(err.strip().splitlines()) == 1 and "outside the ground truth's field of view" in err)
    assert not out.exists()
