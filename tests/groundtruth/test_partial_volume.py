"""The partial-volume built-in ground truth (issue 13 item 1; docs/physics.md §3.5)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from asldro.acquisition.sampling import Grid
from asldro.groundtruth import (
    GroundTruthError,
    builtin,
    builtin_ground_truth,
    load_ground_truth,
    read_ground_truth,
    write_ground_truth,
)
from asldro.params.types import GlobalConfig, GroundTruthSource, Modulation

NAME_3T = "hrgt_icbm_2009a_nls_3t"
TISSUES = ("grey_matter", "white_matter", "csf")


@pytest.fixture(scope="module")
def pv():
    return builtin_ground_truth(NAME_3T, "partial_volume")


@pytest.fixture(scope="module")
def templates():
    folder = builtin.template_dir()

    def load(kind):
        return np.asarray(nib.load(folder / builtin.TEMPLATE_PATTERN.format(kind)).dataobj)

    return load("gm").astype(np.float64), load("wm").astype(np.float64), load("t1")


def test_the_default_built_in_is_partial_volume(pv):
    assert builtin_ground_truth(NAME_3T) is pv
    assert load_ground_truth(GroundTruthSource(name=NAME_3T)).tissue is not None
    assert builtin_ground_truth(NAME_3T, "single_label").tissue is None


def test_fractions_are_non_negative_and_sum_to_one_in_every_voxel(pv):
    fractions = pv.tissue.values
    assert fractions.dtype == np.float32 and fractions.shape == (4, *pv.shape)
    assert fractions.min() >= 0.0
    total = fractions.astype(np.float64).sum(axis=0)
    assert np.max(np.abs(total - 1.0)) < 1e-6


def test_tissue_volumes_within_5_percent_of_the_icbm_maps(pv, templates):
    gm, wm, t1 = templates
    voxel_volume = float(np.prod(Grid(pv.shape, pv.affine).voxel_size))
    labels = pv.segmentation
    expected = {
        "grey_matter": gm.sum() / 255.0,
        "white_matter": wm.sum() / 255.0,
        # the ICBM release nilearn ships has no CSF map: the rest of the intracranial volume
        "csf": np.sum((1.0 - (gm + wm) / 255.0)[t1 != 0]),
    }
    for tissue in TISSUES:
        volume = pv.tissue.values[labels[tissue]].astype(np.float64).sum() * voxel_volume
        assert abs(volume - expected[tissue]) <= 0.05 * expected[tissue], tissue


def test_fractions_follow_the_documented_rule(pv, templates):
    gm, wm, t1 = templates
    inside = t1 != 0
    labels = pv.segmentation
    values = pv.tissue.values
    np.testing.assert_allclose(values[labels["grey_matter"]][inside], gm[inside] / 255.0, atol=1e-7)
    np.testing.assert_allclose(
        values[labels["white_matter"]][inside], wm[inside] / 255.0, atol=1e-7
    )
    assert np.all(values[0][~inside] == 1.0) and np.all(values[1:, ~inside] == 0.0)
    assert np.all(values[0][inside] == 0.0)


def test_over_full_tissue_probabilities_are_scaled_to_one():
    lookup = builtin._fraction_lookup()
    gm, wm = 200, 100  # 300 > 255: impossible as probabilities
    grey, white, csf = lookup[gm << 8 | wm]
    assert grey == pytest.approx(200 / 300) and white == pytest.approx(100 / 300) and csf == 0.0
    assert np.all(lookup >= 0.0)
    np.testing.assert_allclose(lookup.sum(axis=1), 1.0, atol=1e-12)


def test_the_label_map_is_the_majority_tissue(pv):
    values = pv.tissue.values
    best = values.max(axis=0)
    chosen = np.take_along_axis(values, pv.seg[np.newaxis].astype(np.intp), axis=0)[0]
    np.testing.assert_array_equal(chosen, best)
    assert set(np.unique(pv.seg).tolist()) == {0, 1, 2, 3}


def test_a_quantity_of_a_voxel_is_the_fraction_weighted_mean(pv):
    index = tuple(np.argwhere((pv.tissue.values[1] > 0.3) & (pv.tissue.values[2] > 0.3))[0])
    cbf = pv.maps["perfusion_rate"]
    expected = sum(float(pv.tissue.values[(c, *index)]) * cbf[c] for c in range(4))
    assert pv.dense("perfusion_rate")[index] == pytest.approx(expected, rel=1e-12)


def test_the_asldro_file_holds_the_majority_tissue(tmp_path, pv):
    nifti, json_path = write_ground_truth(pv, tmp_path / "pv.nii.gz")
    back = read_ground_truth(nifti, json_path)
    np.testing.assert_array_equal(back.seg, pv.seg)
    for name in ("perfusion_rate", "t1", "m0"):
        assert back.is_table(name)  # one value per tissue: a single-label file
        np.testing.assert_array_equal(back.dense(name), pv.maps[name][pv.seg])


def test_partial_volume_is_refused_for_a_file(tmp_path, pv):
    nifti, _ = write_ground_truth(
        builtin_ground_truth(NAME_3T, "single_label"), tmp_path / "x.nii.gz"
    )
    source = GroundTruthSource(nifti=nifti)
    config = GlobalConfig(source, {}, {}, {}, tissue_model="partial_volume")
    with pytest.raises(GroundTruthError, match="tissue_model: 'partial_volume' needs a built-in"):
        load_ground_truth(source, config)
    single = GlobalConfig(source, {}, {}, {}, tissue_model="single_label")
    assert load_ground_truth(source, single).tissue is None


def test_modulation_changes_the_tissue_values_and_keeps_the_fractions(pv):
    source = GroundTruthSource(name=NAME_3T)
    config = GlobalConfig(source, {"t1": 1.0}, {}, {"perfusion_rate": Modulation(scale=2.0)})
    gt = load_ground_truth(source, config)
    assert gt.tissue is pv.tissue
    np.testing.assert_array_equal(gt.maps["perfusion_rate"], 2.0 * pv.maps["perfusion_rate"])
    assert np.all(gt.maps["t1"] == 1.0)


def test_relabelling_changes_the_labels_not_the_tissues(pv):
    source = GroundTruthSource(name=NAME_3T)
    # GM (1) and WM (2) become label 1 (round(0.6), round(1.2)), CSF (3) label 2 (round(1.8))
    config = GlobalConfig(source, {}, {}, {"seg_label": Modulation(scale=0.6)})
    gt = load_ground_truth(source, config)
    np.testing.assert_array_equal(gt.tissue.values, pv.tissue.values)
    np.testing.assert_array_equal(gt.tissue.labels, [0, 1, 1, 2])
    for name, table in pv.maps.items():
        np.testing.assert_array_equal(gt.maps[name], table)
    merged = gt.tissue.per_label(pv.tissue.values)
    assert merged.shape[0] == 3
    np.testing.assert_allclose(merged[1], pv.tissue.values[1] + pv.tissue.values[2])
    np.testing.assert_array_equal(merged[2], pv.tissue.values[3])
    assert set(np.unique(gt.seg).tolist()) == {0, 1, 2}
