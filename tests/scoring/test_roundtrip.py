"""The recipe of the README through the command line: ``asldro generate`` a noiseless dataset
where the white paper's formula is exact (the ground truth and protocol of
tests/quantify/test_singlepld_roundtrip.py), ``asldro quantify`` it, ``asldro score`` the CBF
map: |relative bias| < 1e-3 in every pure-tissue region with flow; the map ×1.1 gives +10 %
(issue 13, "must show")."""

import csv
import json

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from tests.quantify.test_singlepld_roundtrip import SHAPE, _params, _write_ground_truth

PCASL = {"label_duration": 1.8, "signal_time": 3.6}


@pytest.fixture(scope="module")
def quantified(tmp_path_factory):
    """A generated, quantified dataset: (dataset, CBF map of asldro quantify)."""
    folder = tmp_path_factory.mktemp("roundtrip")
    _write_ground_truth(folder)
    params = _params(folder, "pcasl", **PCASL)
    doc = json.loads(params.read_text())  # the ground truth on the ASL grid, in the derivative
    doc["image_series"].append(
        {"series_type": "ground_truth", "series_parameters": {"acq_matrix": list(SHAPE)}}
    )
    params.write_text(json.dumps(doc))
    dataset = folder / "dro"
    assert main(["generate", "--skip-validation", "--params", str(params), str(dataset)]) == 0
    assert main(["quantify", "--skip-validation", str(dataset)]) == 0
    cbf = dataset / "derivatives/asldro-quantify/sub-01/perf/sub-01_cbf.nii.gz"
    return dataset, cbf


def _rows(path):
    with open(path, encoding="utf-8", newline="") as stream:
        return {row["region"]: row for row in csv.DictReader(stream, delimiter="\t")}


def test_the_quantified_cbf_of_a_white_paper_exact_dataset_scores_no_bias(quantified, capsys):
    dataset, cbf = quantified
    capsys.readouterr()
    assert main(["score", str(dataset), str(cbf)]) == 0
    out = capsys.readouterr().out
    assert "derivative dataset derivatives/asldro-score: OK (0 errors" in out
    folder = dataset / "derivatives/asldro-score/sub-01/perf"
    rows = _rows(folder / "sub-01_cbf_scores.tsv")
    assert set(rows) == {"GM", "WM", "DG", "CSF", "brain"}
    assert rows["DG"]["kind"] == "label" and rows["GM"]["kind"] == "tissue"
    flowing = [region for region in ("GM", "WM", "DG") if float(rows[region]["mean_truth"]) > 0]
    assert flowing == ["GM", "WM", "DG"]
    for region in flowing:
        assert int(rows[region]["n_voxels"]) > 5
        assert abs(float(rows[region]["relative_bias"])) < 1e-3, region
        assert float(rows[region]["within_10_percent"]) == 1.0
    assert rows["CSF"]["relative_bias"] == "n/a"  # no flow: no relative bias
    document = json.loads((folder / "sub-01_cbf_scores.json").read_text())
    assert {r["region"]: r["n_voxels"] for r in document["Regions"]} == {
        region: int(row["n_voxels"]) for region, row in rows.items()
    }
    assert (
        document["Sources"][0]
        == "bids:raw:derivatives/asldro-quantify/sub-01/perf/sub-01_cbf.nii.gz"
    )
    assert main(["validate", str(dataset)]) == 0  # the dataset stays valid with the scores in it


def test_a_map_biased_by_ten_percent_scores_plus_ten_percent(quantified, tmp_path, capsys):
    dataset, cbf = quantified
    image = nib.load(cbf)
    biased = tmp_path / "pipeline" / "biased_cbf.nii.gz"
    biased.parent.mkdir()
    nib.save(nib.Nifti1Image(np.asarray(image.dataobj) * np.float32(1.1), image.affine), biased)
    capsys.readouterr()
    out_dir = tmp_path / "scores"
    assert main(["score", str(dataset), str(biased), "--output-dir", str(out_dir)]) == 0
    assert "+10 %" in capsys.readouterr().out
    rows = _rows(out_dir / "sub-01/perf/sub-01_desc-biasedcbf_cbf_scores.tsv")
    for region in ("GM", "WM", "DG", "brain"):
        assert float(rows[region]["relative_bias"]) == pytest.approx(0.1, abs=2e-4), region
        bias = float(rows[region]["bias"])
        assert bias == pytest.approx(0.1 * float(rows[region]["mean_truth"]), rel=2e-3)
