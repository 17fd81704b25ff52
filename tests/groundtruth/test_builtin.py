"""Built-in ICBM 2009a ground truths (docs/physics.md §3.2)."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from asldro.groundtruth import BUILTIN_GROUND_TRUTHS, GroundTruthError, builtin_ground_truth
from asldro.groundtruth import builtin

NAME_3T = "hrgt_icbm_2009a_nls_3t"
NAME_15T = "hrgt_icbm_2009a_nls_1.5t"
# ASLDRO 2.2.0 voxel counts (docs/physics.md §3.2): ours must be within 25 %
ASLDRO_COUNTS = {"grey_matter": 1_186_556, "white_matter": 572_775, "csf": 95_623}


@pytest.fixture(name="tissue_data", scope="module")
def fixture_tissue_data() -> dict:
    """tissues.json, read directly from the package data file."""
    with builtin.TISSUES_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def test_names_match_the_data(tissue_data):
    assert set(BUILTIN_GROUND_TRUTHS) == set(tissue_data["ground_truths"]) == {NAME_3T, NAME_15T}


@pytest.mark.parametrize("name", [NAME_3T, NAME_15T])
def test_geometry_is_the_icbm_grid(name):
    gt = builtin_ground_truth(name)
    assert gt.shape == (197, 233, 189)
    expected = np.eye(4)
    expected[:3, 3] = [-98.0, -134.0, -72.0]
    np.testing.assert_array_equal(gt.affine, expected)
    # the world origin is HR voxel (98, 134, 72)
    np.testing.assert_array_equal(gt.affine @ [98, 134, 72, 1], [0, 0, 0, 1])
    assert gt.seg.dtype == np.uint16


def test_brain_lies_in_the_documented_box():
    seg = builtin_ground_truth(NAME_3T, "single_label").seg
    idx = np.argwhere(seg > 0)
    low, high = idx.min(axis=0), idx.max(axis=0)
    # docs/physics.md §3.2: i 26-170, j 27-207, k 1-154 (allow one voxel of slack)
    np.testing.assert_allclose(low, [26, 27, 1], atol=1)
    np.testing.assert_allclose(high, [170, 207, 154], atol=1)


@pytest.mark.parametrize("tissue", sorted(ASLDRO_COUNTS))
def test_tissue_counts_within_25_percent_of_asldro(tissue, tissue_data):
    seg = builtin_ground_truth(NAME_3T, "single_label").seg
    count = int(np.count_nonzero(seg == tissue_data["segmentation"][tissue]))
    assert abs(count - ASLDRO_COUNTS[tissue]) <= 0.25 * ASLDRO_COUNTS[tissue]


def test_labels_are_only_background_and_three_tissues():
    assert set(np.unique(builtin_ground_truth(NAME_3T, "single_label").seg).tolist()) == {
        0,
        1,
        2,
        3,
    }


def test_label_rule_holds_against_the_templates():
    """Every voxel obeys the documented rule, checked on the raw templates."""
    folder = builtin.template_dir()

    def load(kind):
        return np.asarray(nib.load(folder / builtin.TEMPLATE_PATTERN.format(kind)).dataobj)

    gm, wm, t1 = load("gm").astype(int), load("wm").astype(int), load("t1")
    seg = builtin_ground_truth(NAME_3T, "single_label").seg
    csf_probability = 1.0 - (gm + wm) / 255.0
    inside = t1 > 0
    assert np.all(seg[~inside] == 0)
    assert np.all(seg[inside] > 0)
    is_csf = seg == 3
    assert np.all(csf_probability[is_csf] >= builtin.CSF_MIN_PROBABILITY - 1e-12)
    assert np.all(csf_probability[(seg == 1) | (seg == 2)] < builtin.CSF_MIN_PROBABILITY)
    assert np.all(gm[seg == 1] >= wm[seg == 1])
    assert np.all(wm[seg == 2] > gm[seg == 2])


@pytest.mark.parametrize("name", [NAME_3T, NAME_15T])
def test_tables_hold_the_tissue_values(name, tissue_data):
    gt = builtin_ground_truth(name)
    labels = {"background": 0, **tissue_data["segmentation"]}
    values = tissue_data["ground_truths"][name]["values"]
    assert set(gt.maps) == set(values)
    for quantity, per_tissue in values.items():
        assert gt.is_table(quantity)
        assert gt.maps[quantity].shape == (4,)
        for tissue, value in per_tissue.items():
            assert gt.maps[quantity][labels[tissue]] == value
    for quantity in gt.maps:
        assert gt.maps[quantity][0] == 0.0  # background holds zeros


def test_field_strength_specific_values_differ(tissue_data):
    """The two built-ins share geometry and perfusion, not relaxation times."""
    gt3, gt15 = builtin_ground_truth(NAME_3T), builtin_ground_truth(NAME_15T)
    assert gt3.seg is gt15.seg
    np.testing.assert_array_equal(gt3.maps["perfusion_rate"], gt15.maps["perfusion_rate"])
    np.testing.assert_array_equal(gt3.maps["m0"], gt15.maps["m0"])
    assert not np.array_equal(gt3.maps["t1"], gt15.maps["t1"])
    assert gt3.parameters["magnetic_field_strength"] == 3
    assert isinstance(gt3.parameters["magnetic_field_strength"], int)
    assert gt15.parameters["magnetic_field_strength"] == 1.5
    assert tissue_data["ground_truths"][NAME_15T]["parameters"] == dict(gt15.parameters)


def test_d22_csf_t1_at_1_5t_is_the_data_value():
    """docs/physics.md D22: ASLDRO's 1.5T data has CSF T1 = 2.06 s (its docs say 3.0 s)."""
    gt = builtin_ground_truth(NAME_15T)
    assert gt.maps["t1"][gt.segmentation["csf"]] == 2.06


@pytest.mark.parametrize("name", [NAME_3T, NAME_15T])
def test_metadata(name):
    gt = builtin_ground_truth(name)
    assert gt.quantity_order == (
        "perfusion_rate",
        "transit_time",
        "t1",
        "t2",
        "t2_star",
        "m0",
        "seg_label",
    )
    assert gt.quantities == gt.quantity_order
    assert dict(gt.segmentation) == {"grey_matter": 1, "white_matter": 2, "csf": 3}
    assert dict(gt.units) == {
        "perfusion_rate": "ml/100g/min",
        "transit_time": "s",
        "t1": "s",
        "t2": "s",
        "t2_star": "s",
        "m0": "",
        "seg_label": "",
    }
    assert (
        gt.parameters["lambda_blood_brain"] == 0.9
    )  # T1b: test_blood_t1_follows_the_field_strength


def test_arrays_are_read_only():
    gt = builtin_ground_truth(NAME_3T)
    with pytest.raises(ValueError):
        gt.seg[100, 100, 100] = 7
    with pytest.raises(ValueError):
        gt.maps["perfusion_rate"][1] = 0.0
    with pytest.raises(ValueError):
        gt.affine[0, 3] = 0.0


def test_build_is_deterministic():
    first = builtin_ground_truth(NAME_3T)
    builtin.cached_builtin_ground_truth.cache_clear()
    builtin.icbm_label_map.cache_clear()
    second = builtin_ground_truth(NAME_3T)
    assert second is not first
    np.testing.assert_array_equal(first.seg, second.seg)
    np.testing.assert_array_equal(first.affine, second.affine)
    for quantity in first.maps:
        np.testing.assert_array_equal(first.maps[quantity], second.maps[quantity])


def test_repeated_calls_return_the_cached_value():
    assert builtin_ground_truth(NAME_3T) is builtin_ground_truth(NAME_3T)


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(GroundTruthError, match="hrgt_icbm_2009a_nls_3t") as info:
        builtin_ground_truth("hrgt_nope")
    assert "hrgt_nope" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_template_is_a_ground_truth_error(monkeypatch):
    builtin.cached_builtin_ground_truth.cache_clear()
    builtin.icbm_label_map.cache_clear()
    builtin._partial_volume.cache_clear()  # pylint: disable=protected-access  # its cache too
    monkeypatch.setattr(builtin, "TEMPLATE_PATTERN", "no_such_template_{}.nii.gz")
    try:
        with pytest.raises(GroundTruthError, match="ICBM 2009a template not found") as info:
            builtin_ground_truth(NAME_3T)
        assert "no_such_template_gm.nii.gz" in str(info.value)
    finally:
        builtin.cached_builtin_ground_truth.cache_clear()
        builtin.icbm_label_map.cache_clear()
        builtin._partial_volume.cache_clear()  # pylint: disable=protected-access  # its cache too


def test_blood_t1_follows_the_field_strength():
    """Issue 9 item 18: arterial blood T1 is 1.65 s at 3 T and 1.35 s at 1.5 T (Alsop et al.
    2015, the ASL white paper; the value ASLPrep uses), not ASLDRO's copied 3 T value."""
    assert builtin_ground_truth("hrgt_icbm_2009a_nls_3t").parameters["t1_arterial_blood"] == 1.65
    gt15 = builtin_ground_truth("hrgt_icbm_2009a_nls_1.5t")
    assert gt15.parameters["magnetic_field_strength"] == 1.5
    assert gt15.parameters["t1_arterial_blood"] == 1.35
