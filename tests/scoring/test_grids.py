"""``asldro score`` of maps on other grids than the ground truth's (docs/score.md §2, §3): the
ground truth at 2 mm volume-averaged onto 3 mm maps, aligned with the tissue blocks, shifted
by 1 mm so that voxels straddle them, and with a flipped axis; the truth, the masks and the
numbers are checked against values computed here from the 1 mm truth (tests/scoring/datasets.py),
not with asldro's resampling."""

import json

import nibabel as nib
import numpy as np
import pytest

from asldro.scoring import score
from asldro.scoring.truth import WEIGHTED
from tests.scoring import datasets

BIAS = 1.1


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return datasets.generate_block_dataset(tmp_path_factory.mktemp("blocks"))


def _expected_rows(truth, fractions, purity=0.9):
    """Per label: (n voxels, mean truth) over the voxels whose label fraction >= purity, and
    whose truth is defined (finite)."""
    rows = {}
    for index, abbreviation in datasets.ABBREVIATIONS.items():
        mask = (fractions[index] >= purity) & np.isfinite(truth)
        rows[abbreviation] = (int(mask.sum()), float(truth[mask].mean()) if mask.any() else None)
    brain = (1.0 - fractions[0] >= purity) & np.isfinite(truth)
    rows["brain"] = (int(brain.sum()), float(truth[brain].mean()))
    return rows


def _check(result_map, expected, bias=BIAS):
    for region, (count, mean_truth) in expected.items():
        row = result_map.row(region)
        assert row["n_voxels"] == count, region
        if count == 0:
            assert row["mean_truth"] is None
            continue
        np.testing.assert_allclose(row["mean_truth"], mean_truth, rtol=1e-6)
        if mean_truth == 0:
            assert row["relative_bias"] is None
            continue
        np.testing.assert_allclose(row["relative_bias"], bias - 1, rtol=1e-5)
        np.testing.assert_allclose(row["mean_estimate"], bias * mean_truth, rtol=1e-5)


@pytest.mark.parametrize("quantity", ["cbf", "att"])
@pytest.mark.parametrize(
    "first_cell, shape",
    [
        ((0, 0, 0), (8, 8, 4)),  # aligned: every 3 mm voxel in one 6 mm block
        ((1, 0, 0), (7, 8, 4)),  # shifted by 1 mm: every other voxel straddles two blocks
        ((1, 2, 1), (7, 7, 3)),  # shifted along every axis
    ],
)
def test_a_3mm_map_is_scored_against_the_2mm_truth_volume_averaged(
    dataset, tmp_path, quantity, first_cell, shape
):
    expected = datasets.expected_truth(3, first_cell, shape)
    truth = expected[quantity]
    path = datasets.write_map(
        tmp_path / f"sub-01_{quantity}.nii.gz",
        np.nan_to_num(truth) * BIAS,
        datasets.affine(3.0, first_cell),
    )
    result = score(dataset, [path], output_dir=tmp_path / "scores", validate=False)
    (scored,) = result.maps
    assert scored.quantity == quantity
    assert "volume-averaged" in scored.truth or "averaged onto" in scored.truth
    _check(scored, _expected_rows(truth, expected["fractions"]))
    table = scored.files["tsv"].read_text().splitlines()
    assert table[0].split("\t")[:5] == ["region", "name", "kind", "mask", "n_voxels"]
    assert [line.split("\t")[0] for line in table[1:]] == ["GM", "WM", "CSF", "LES", "brain"]
    assert [line.split("\t")[2] for line in table[1:]] == [
        "tissue", "tissue", "tissue", "label", "brain"
    ]  # fmt: skip
    document = json.loads(scored.files["json"].read_text())
    assert document["Quantity"] == quantity and document["Purity"] == 0.9
    assert [r["region"] for r in document["Regions"]] == ["GM", "WM", "CSF", "LES", "brain"]


def test_a_flipped_axis_gives_the_same_numbers(dataset, tmp_path):
    first_cell, shape = (1, 0, 0), (7, 8, 4)
    expected = datasets.expected_truth(3, first_cell, shape)
    matrix = datasets.affine(3.0, first_cell)
    flipped = matrix @ np.array(
        [[-1.0, 0, 0, shape[0] - 1], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    )  # voxel i of the flipped grid is voxel (n - 1 - i) of the other
    values = np.nan_to_num(expected["cbf"])[::-1] * BIAS
    path = datasets.write_map(tmp_path / "sub-01_cbf.nii.gz", values, flipped)
    (scored,) = score(dataset, path, output_dir=tmp_path / "scores", validate=False).maps
    _check(scored, _expected_rows(expected["cbf"], expected["fractions"]))


def test_a_map_on_the_truth_grid_uses_that_truth_as_it_is(dataset, tmp_path):
    truth_file = dataset / "derivatives/groundtruth/sub-01/perf/sub-01_desc-groundtruth_cbf.nii.gz"
    image = nib.load(truth_file)
    values = np.asarray(image.dataobj, dtype=np.float64)
    matrix = image.affine.copy()
    matrix[:3, 3] += 5e-5  # within the tolerance of 1e-4 mm
    path = datasets.write_map(tmp_path / "sub-01_cbf.nii.gz", values * BIAS, matrix)
    (scored,) = score(dataset, path, output_dir=tmp_path / "scores", validate=False).maps
    assert "on the map's grid" in scored.truth
    expected = datasets.expected_truth(2, (0, 0, 0), image.shape)
    _check(scored, _expected_rows(expected["cbf"], expected["fractions"]))
    # the generator's probseg on this grid (the label fractions of a single-label truth)
    assert "probseg" in scored.row("GM")["mask"] and ">= 0.9" in scored.row("GM")["mask"]


def _write_probseg(dataset, abbreviation, values, matrix):
    folder = dataset / "derivatives/groundtruth/sub-01/anat"
    return datasets.write_map(
        folder / f"sub-01_label-{abbreviation}_probseg.nii.gz", values, matrix
    )


def test_probseg_masks_at_the_purity(dataset, tmp_path):
    """With probsegs in the ground truth, a tissue's voxels are those whose fraction reaches the
    purity; a label without probseg keeps the dseg; brain is the sum of the probsegs."""
    copy = tmp_path / "dro"
    import shutil

    shutil.copytree(dataset, copy)
    for generated in (copy / "derivatives/groundtruth/sub-01/anat").glob("*_probseg.*"):
        generated.unlink()  # this test's own probsegs replace the generator's
    shape = (12, 12, 6)
    matrix = datasets.affine(2.0)
    fractions = datasets.expected_truth(2, (0, 0, 0), shape)["fractions"]
    gm = fractions[1] * 0.95
    rng = np.random.default_rng(3)
    partial = (fractions[2] == 1) & (rng.random(shape) < 0.5)  # half of WM: 0.85 GM, 0.15 WM
    gm[partial] = 0.85
    wm = np.where(partial, 0.15, fractions[2])
    csf = fractions[3] + 0.05 * fractions[1]
    for abbreviation, values in (("GM", gm), ("WM", wm), ("CSF", csf)):
        _write_probseg(copy, abbreviation, values, matrix)
    cbf = datasets.expected_truth(2, (0, 0, 0), shape)["cbf"]
    path = datasets.write_map(tmp_path / "sub-01_cbf.nii.gz", cbf * BIAS, matrix)
    strict = score(copy, path, output_dir=tmp_path / "strict", validate=False).maps[0]
    loose = score(copy, path, output_dir=tmp_path / "loose", purity=0.8, validate=False).maps[0]
    assert strict.row("GM")["n_voxels"] == int((fractions[1] == 1).sum())
    assert loose.row("GM")["n_voxels"] == int((fractions[1] == 1).sum() + partial.sum())
    assert strict.row("WM")["n_voxels"] == int((fractions[2] == 1).sum() - partial.sum())
    assert "probseg" in strict.row("GM")["mask"] and ">= 0.9" in strict.row("GM")["mask"]
    assert "purity unknown" in strict.row("LES")["mask"]  # no probseg: the dseg
    assert "sum of the probsegs" in strict.row("brain")["mask"]
    np.testing.assert_allclose(loose.row("GM")["relative_bias"], BIAS - 1, rtol=1e-5)


def test_the_weights_are_those_of_the_ground_truth_derivative():
    """att and abat are averaged as the generator forms them (its table of weighted means)."""
    from asldro.bids.naming import groundtruth_suffix
    from asldro.pipelines.groundtruth import WEIGHTED_MEANS

    engine = {
        groundtruth_suffix(quantity)[1]: groundtruth_suffix(weight)[1]
        for quantity, weight in WEIGHTED_MEANS.items()
    }
    assert engine == WEIGHTED
