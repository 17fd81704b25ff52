"""The ``ground_truth`` series: how each quantity is carried to the acquisition grid (issue 9
item 8). Transit time is not additive: the derivative holds the perfusion-weighted mean over
each voxel (what a multi-PLD fit estimates), 0 where the voxel has no perfusion."""

import numpy as np
import pytest

from asldro.acquisition import Resampler, acquisition_grid
from asldro.groundtruth import GroundTruth
from asldro.params import default_params, load_params
from asldro.pipelines import generate_series

SEGMENTATION = {"grey_matter": 1, "white_matter": 2, "csf": 3}
PARAMETERS = {"lambda_blood_brain": 0.9, "t1_arterial_blood": 1.65, "magnetic_field_strength": 3}


def _gt_series(acq_matrix, **motion):
    doc = default_params()
    doc["image_series"] = [
        {"series_type": "ground_truth", "series_parameters": {"acq_matrix": acq_matrix, **motion}}
    ]
    return load_params(doc)


def _images(gt, acq_matrix, **motion):
    (result,) = generate_series(_gt_series(acq_matrix, **motion), gt)
    return result.images


def _records(gt, acq_matrix, **motion):
    (result,) = generate_series(_gt_series(acq_matrix, **motion), gt)
    return result.records


def test_default_att_never_mixes_csf_into_tissue(gt3t):
    """The default 64x64x12 derivative: every perfused voxel's ATT lies between GM's 0.8 s and
    WM's 1.2 s (the box average gave 2932 voxels >= 10 s); unperfused voxels hold 0."""
    images = _images(gt3t, [64, 64, 12])
    att, cbf = images["transit_time"].data, images["perfusion_rate"].data
    perfused = cbf > 1e-6 * 60.0
    assert perfused.sum() > 1000
    assert att[perfused].min() >= 0.8 - 1e-5 and att[perfused].max() <= 1.2 + 1e-5
    assert np.all(att[cbf == 0] == 0.0)
    tissue = np.isin(images["seg_label"].data, (1, 2))
    assert np.percentile(att[tissue & perfused], 90) <= 1.2 + 1e-5


def test_att_is_the_perfusion_weighted_mean_of_the_label_fractions(gt3t):
    """sum_l f_l CBF_l ATT_l / sum_l f_l CBF_l, with the label fractions computed here."""
    acq = (40, 48, 36)
    images = _images(gt3t, list(acq))
    grid = acquisition_grid(gt3t.affine, gt3t.shape, acq)
    labels = list(range(int(gt3t.seg.max()) + 1))
    fractions = Resampler(gt3t.affine, gt3t.shape, grid).label_fractions(gt3t.seg, labels)
    cbf, att = gt3t.maps["perfusion_rate"], gt3t.maps["transit_time"]
    weight = np.tensordot(cbf, fractions, axes=(0, 0))
    expected = np.zeros(acq)
    np.divide(
        np.tensordot(cbf * att, fractions, axes=(0, 0)), weight, out=expected, where=weight > 0
    )
    np.testing.assert_allclose(images["transit_time"].data, expected, rtol=1e-5, atol=1e-6)


def test_att_with_rotation_stays_within_the_perfused_tissues(gt3t):
    """Under motion (the rotation path) the weighted mean still lies in [0.8, 1.2] s."""
    images = _images(gt3t, [48, 56, 30], rot_z=12.0, rot_x=-5.0, transl_y=4.0)
    att, cbf = images["transit_time"].data, images["perfusion_rate"].data
    perfused = cbf > 1e-6 * 60.0
    assert att[perfused].min() >= 0.8 - 1e-4 and att[perfused].max() <= 1.2 + 1e-4
    assert np.all(att[cbf == 0] == 0.0)


def _dense_truth() -> GroundTruth:
    """A 1 mm truth of 8x8x8 voxels with dense CBF and ATT; CSF (label 3) is unperfused."""
    rng = np.random.default_rng(4)
    seg = rng.integers(1, 4, size=(8, 8, 8)).astype(np.uint16)
    seg[:2, :2, :2] = 3  # one acquisition voxel of CSF only
    cbf = np.where(seg == 3, 0.0, rng.uniform(10, 80, size=seg.shape))
    att = np.where(seg == 3, 1000.0, rng.uniform(0.5, 2.0, size=seg.shape))
    tables = {"t1": [0, 1.3, 0.8, 3.0], "t2": [0, 0.08, 0.1, 0.3], "t2_star": [0, 0.06, 0.05, 0.2]}
    maps = {name: np.array(values, dtype=float) for name, values in tables.items()}
    maps.update(perfusion_rate=cbf, transit_time=att, m0=np.array([0, 75.0, 65.0, 68.0]))
    return GroundTruth(
        affine=np.eye(4),
        shape=seg.shape,
        seg=seg,
        segmentation=SEGMENTATION,
        maps=maps,
        units={},
        parameters=PARAMETERS,
    )


def _blocks(values: np.ndarray) -> np.ndarray:
    """Sum of every 2x2x2 block (the acquisition voxels of a 4x4x4 grid over 8x8x8)."""
    return values.reshape(4, 2, 4, 2, 4, 2).sum(axis=(1, 3, 5))


def test_dense_att_is_the_perfusion_weighted_block_mean():
    """With 2x2x2 true voxels per acquisition voxel the weights are exact: hand-computed sums."""
    gt = _dense_truth()
    images = _images(gt, [4, 4, 4])
    cbf, att = gt.maps["perfusion_rate"], gt.maps["transit_time"]
    weight = _blocks(cbf)
    expected = np.zeros((4, 4, 4))
    np.divide(_blocks(cbf * att), weight, out=expected, where=weight > 0)
    np.testing.assert_allclose(images["transit_time"].data, expected, rtol=1e-6)
    assert images["transit_time"].data[0, 0, 0] == 0.0  # the CSF-only voxel
    np.testing.assert_allclose(images["perfusion_rate"].data, weight / 8, rtol=1e-6)


def test_att_on_the_ground_truth_grid_is_the_truth_where_perfused(gt3t):
    """Acquisition grid = ground-truth grid: the truth itself, 0 in CSF (never arrives)."""
    images = _images(gt3t, list(gt3t.shape))
    att = images["transit_time"].data
    expected = np.where(gt3t.dense("perfusion_rate") > 0, gt3t.dense("transit_time"), 0.0)
    np.testing.assert_array_equal(att, expected.astype(np.float32))


@pytest.mark.parametrize(
    "quantity, words",
    [
        ("transit_time", ("perfusion-weighted mean", "sum(f*CBF*ATT)/sum(f*CBF)", "0 where")),
        ("perfusion_rate", ("mean over the voxel's volume",)),
        ("m0", ("mean over the voxel's volume",)),
        ("t1", ("mean over the voxel's volume", "not the value a fit")),
        ("t2", ("mean over the voxel's volume", "not the value a fit")),
        ("t2_star", ("mean over the voxel's volume", "not the value a fit")),
        ("seg_label", ("label covering the largest part",)),
    ],
)
def test_every_derivative_says_how_it_was_formed(gt3t, quantity, words):
    """Each ground-truth image carries how its value was formed from the 1 mm truth."""
    derivation = _records(gt3t, [64, 64, 12])[quantity].derivation
    assert "1x1x1 mm ground truth" in derivation
    for word in words:
        assert word in derivation, derivation


def test_derivation_on_the_ground_truth_grid_says_it_is_the_truth(gt3t):
    """Without resampling the description does not claim an average."""
    derivation = _records(gt3t, list(gt3t.shape))["t1"].derivation
    assert "the ground truth's own value" in derivation
    assert "mean" not in derivation


def _tie_truth() -> GroundTruth:
    """1x3x4 voxels (labels below, one row of z per y) whose 1x2x3 acquisition voxel (0, 1, 2)
    holds exactly half label 2 and half label 3 (see the test)."""
    seg = np.array([[[2, 2, 3, 3], [1, 1, 3, 3], [1, 1, 3, 2]]], dtype=np.uint16)
    tables = {
        name: np.array(values)
        for name, values in {
            "perfusion_rate": [0.0, 60.0, 20.0, 0.0],
            "transit_time": [0.0, 0.8, 1.2, 1000.0],
            "t1": [0.0, 1.3, 0.8, 4.0],
            "t2": [0.0, 0.08, 0.07, 0.4],
            "t2_star": [0.0, 0.06, 0.05, 0.3],
            "m0": [0.0, 80.0, 70.0, 90.0],
        }.items()
    }
    return GroundTruth(
        affine=np.eye(4),
        shape=seg.shape,
        seg=seg,
        segmentation=SEGMENTATION,
        maps=tables,
        units={},
        parameters=PARAMETERS,
    )


def test_majority_label_tie_goes_to_the_lowest_label_in_the_shipped_series():
    """docs/physics.md D2: a tie goes to the lowest label, however the fractions round.

    Acquisition voxel (0, 1, 2) covers y in [1.0, 2.5] (weights 1/3 for y=1, 2/3 for y=2) and
    z in [13/6, 3.5] (weights 1/4 for z=2, 3/4 for z=3): label 2 (y=2, z=3) has 2/3 * 3/4 = 1/2,
    label 3 has 1/3 * 1/4 + 1/3 * 3/4 + 2/3 * 1/4 = 1/2. In floating point label 2 gets
    0.4999999999999998; the tie rule still gives 2, and the other voxels their clear majority.
    """
    seg_label = _images(_tie_truth(), [1, 2, 3])["seg_label"].data
    assert seg_label.dtype == np.uint16
    np.testing.assert_array_equal(seg_label[0], [[2, 3, 3], [1, 1, 2]])


def _arterial_truth() -> GroundTruth:
    """:func:`_dense_truth` with a dense aBV (0 in CSF) and aBAT."""
    truth = _dense_truth()
    rng = np.random.default_rng(5)
    abv = np.where(truth.seg == 3, 0.0, rng.uniform(0.005, 0.02, size=truth.shape))
    abat = rng.uniform(0.3, 1.5, size=truth.shape)
    return GroundTruth(
        affine=truth.affine,
        shape=truth.shape,
        seg=truth.seg,
        segmentation=truth.segmentation,
        maps={**truth.maps, "abv": abv, "abat": abat},
        units={"abv": "fraction", "abat": "s"},
        parameters=truth.parameters,
    )


def test_abv_is_the_block_mean_and_abat_the_abv_weighted_mean():
    """aBV is additive (the volume mean); aBAT is the aBV-weighted mean, sum(f*aBV*aBAT) /
    sum(f*aBV), 0 where the voxel holds no arterial blood (the CSF-only voxel)."""
    gt = _arterial_truth()
    images = _images(gt, [4, 4, 4])
    abv, abat = gt.maps["abv"], gt.maps["abat"]
    weight = _blocks(abv)
    expected = np.zeros((4, 4, 4))
    np.divide(_blocks(abv * abat), weight, out=expected, where=weight > 0)
    np.testing.assert_allclose(images["abat"].data, expected, rtol=1e-6)
    assert images["abat"].data[0, 0, 0] == 0.0
    np.testing.assert_allclose(images["abv"].data, weight / 8, rtol=1e-6)
    records = _records(gt, [4, 4, 4])
    assert "aBV-weighted mean" in records["abat"].derivation
    assert "sum(f*aBV*aBAT)/sum(f*aBV)" in records["abat"].derivation
    assert "0 where the voxel holds no arterial blood" in records["abat"].derivation
    assert "mean over the voxel's volume" in records["abv"].derivation
