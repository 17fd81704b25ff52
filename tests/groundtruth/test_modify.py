"""global_configuration overrides, modulation and run-time ranges (docs/physics.md §2.2, §3.3)."""

from __future__ import annotations

import numpy as np
import pytest

from asldro.groundtruth import GroundTruth, GroundTruthError, apply_global_config
from asldro.groundtruth.modify import check_ranges
from asldro.params.types import GlobalConfig, GroundTruthSource, Modulation

from .conftest import TABLES


def config(override=None, parameters=None, modulate=None) -> GlobalConfig:
    """A GlobalConfig with the given parts (others empty)."""
    return GlobalConfig(
        ground_truth=GroundTruthSource(name="synthetic"),
        image_override=override or {},
        parameter_override=parameters or {},
        ground_truth_modulate=modulate or {},
    )


def with_maps(gt: GroundTruth, **maps) -> GroundTruth:
    """``gt`` with some quantities replaced."""
    return GroundTruth(
        affine=gt.affine,
        shape=gt.shape,
        seg=gt.seg,
        segmentation=gt.segmentation,
        maps={**gt.maps, **maps},
        units=gt.units,
        parameters=gt.parameters,
        quantity_order=gt.quantity_order,
    )


def test_empty_config_returns_the_same_value(small_gt):
    assert apply_global_config(small_gt, config()) is small_gt


def test_override_fills_the_whole_volume_of_a_table(small_gt):
    out = apply_global_config(small_gt, config(override={"m0": 123.0}))
    assert out.is_table("m0")
    assert np.all(out.dense("m0") == 123.0)  # background included
    np.testing.assert_array_equal(out.maps["t1"], TABLES["t1"])
    np.testing.assert_array_equal(small_gt.maps["m0"], TABLES["m0"])  # input untouched


def test_override_of_a_dense_map(small_gt):
    gt = with_maps(small_gt, perfusion_rate=np.random.default_rng(0).uniform(size=small_gt.shape))
    out = apply_global_config(gt, config(override={"perfusion_rate": 42}))
    assert out.maps["perfusion_rate"].shape == gt.shape
    assert np.all(out.maps["perfusion_rate"] == 42.0)


def test_modulation_scale_and_offset_on_a_table(small_gt):
    out = apply_global_config(
        small_gt, config(modulate={"perfusion_rate": Modulation(scale=1.5, offset=2.0)})
    )
    assert out.is_table("perfusion_rate")
    expected = 1.5 * np.asarray(TABLES["perfusion_rate"]) + 2.0
    np.testing.assert_allclose(out.maps["perfusion_rate"], expected)
    assert np.all(out.dense("perfusion_rate")[small_gt.seg == 0] == 2.0)  # background shifted


@pytest.mark.parametrize(
    "modulation, expected",
    [(Modulation(scale=3.0), [0.0, 3 * 0.7, 3 * 1.3, 3000.0]), (Modulation(offset=0.25), None)],
)
def test_missing_scale_or_offset_skips_that_step(small_gt, modulation, expected):
    out = apply_global_config(small_gt, config(modulate={"transit_time": modulation}))
    if expected is None:
        expected = np.asarray(TABLES["transit_time"]) + 0.25
    np.testing.assert_allclose(out.maps["transit_time"], expected)


def test_modulation_of_a_dense_map(small_gt):
    dense = np.random.default_rng(1).uniform(1.0, 2.0, small_gt.shape)
    gt = with_maps(small_gt, t1=dense)
    out = apply_global_config(gt, config(modulate={"t1": Modulation(scale=0.5, offset=0.1)}))
    np.testing.assert_allclose(out.maps["t1"], 0.5 * dense + 0.1)


def test_override_comes_before_modulation(small_gt):
    out = apply_global_config(
        small_gt,
        config(override={"t2": 0.2}, modulate={"t2": Modulation(scale=2.0, offset=0.01)}),
    )
    np.testing.assert_allclose(out.dense("t2"), 2.0 * 0.2 + 0.01)


def test_seg_label_override_sets_every_voxel_and_keeps_other_values(small_gt):
    out = apply_global_config(small_gt, config(override={"seg_label": 1.6}))
    assert out.seg.dtype == np.uint16
    assert np.all(out.seg == 2)
    for name, table in TABLES.items():
        # labels with different values merged into one: the quantity keeps its voxel values
        np.testing.assert_array_equal(out.dense(name), np.asarray(table)[small_gt.seg])


def test_seg_label_override_beyond_the_tables(small_gt):
    out = apply_global_config(small_gt, config(override={"seg_label": 9}))
    assert np.all(out.seg == 9)
    for name, table in TABLES.items():
        np.testing.assert_array_equal(out.dense(name), np.asarray(table)[small_gt.seg])


def test_seg_label_modulation_one_to_one_keeps_tables(small_gt):
    out = apply_global_config(
        small_gt, config(modulate={"seg_label": Modulation(scale=2.0, offset=1.0)})
    )
    np.testing.assert_array_equal(out.seg, 2 * small_gt.seg + 1)
    assert out.seg.dtype == np.uint16
    for name, table in TABLES.items():
        assert out.is_table(name)
        np.testing.assert_array_equal(out.dense(name), np.asarray(table)[small_gt.seg])


def test_seg_label_merge_of_equal_values_stays_a_table(small_gt):
    """perfusion is 0 in background (0) and CSF (3): merging them keeps a table."""
    gt = with_maps(small_gt, perfusion_rate=np.array([0.0, 55.0, 25.0, 0.0]))
    out = apply_global_config(gt, config(modulate={"seg_label": Modulation(scale=0.34)}))
    # 0 -> 0, 1 -> 0.34 -> 0, 2 -> 0.68 -> 1, 3 -> 1.02 -> 1
    np.testing.assert_array_equal(out.seg, np.rint(0.34 * small_gt.seg))
    assert not out.is_table("perfusion_rate")  # 0 and 55 merged in label 0
    assert out.is_table("m0") is False
    np.testing.assert_array_equal(out.dense("perfusion_rate"), gt.dense("perfusion_rate"))
    gt2 = with_maps(small_gt, t2=np.array([0.1, 0.1, 0.3, 0.3]))
    out2 = apply_global_config(gt2, config(modulate={"seg_label": Modulation(scale=0.34)}))
    assert out2.is_table("t2")
    np.testing.assert_array_equal(out2.dense("t2"), gt2.dense("t2"))


def test_seg_label_override_then_modulation_then_rounding(small_gt):
    out = apply_global_config(
        small_gt,
        config(override={"seg_label": 2.0}, modulate={"seg_label": Modulation(offset=0.7)}),
    )
    assert np.all(out.seg == 3)


@pytest.mark.parametrize(
    "cfg",
    [
        config(override={"seg_label": -2}),
        config(modulate={"seg_label": Modulation(offset=-5.0)}),
        config(override={"seg_label": 70000}),
    ],
)
def test_seg_label_outside_uint16_is_rejected(small_gt, cfg):
    with pytest.raises(GroundTruthError, match="seg_label must round to integers"):
        apply_global_config(small_gt, cfg)


def test_parameter_override_merges_every_key(small_gt):
    out = apply_global_config(
        small_gt,
        config(
            parameters={
                "lambda_blood_brain": 0.8,
                "magnetic_field_strength": 1.5,
                "my_extra": 7.0,
            }
        ),
    )
    assert out.parameters["lambda_blood_brain"] == 0.8
    assert out.parameters["magnetic_field_strength"] == 1.5  # D14
    assert out.parameters["my_extra"] == 7.0
    assert out.parameters["t1_arterial_blood"] == small_gt.parameters["t1_arterial_blood"]
    assert small_gt.parameters["lambda_blood_brain"] == 0.9


@pytest.mark.parametrize("key", ["image_override", "ground_truth_modulate"])
def test_unknown_quantity_names_the_key_and_the_choices(small_gt, key):
    cfg = (
        config(override={"perfusion": 1.0})
        if key == "image_override"
        else config(modulate={"perfusion": Modulation(scale=2.0)})
    )
    with pytest.raises(GroundTruthError, match=key) as info:
        apply_global_config(small_gt, cfg)
    message = str(info.value)
    assert message.startswith(f"global_configuration.{key}.perfusion: unknown quantity")
    for quantity in small_gt.quantities:
        assert quantity in message


@pytest.mark.parametrize(
    "quantity, bounds",
    [
        ("perfusion_rate", r"in \[0, 1000\]"),
        ("transit_time", ">= 0"),
        ("m0", r"in \[0, 1e\+12\]"),
        ("t2", r"in \[0, 100\]"),
        ("t2_star", r"in \[0, 100\]"),
    ],
)
def test_negative_values_are_rejected(small_gt, quantity, bounds):
    with pytest.raises(GroundTruthError, match=f"{quantity} must be {bounds}"):
        apply_global_config(small_gt, config(override={quantity: -0.5}))


@pytest.mark.parametrize("value", [-0.1, 100.5])
def test_t1_outside_0_to_100_is_rejected(small_gt, value):
    with pytest.raises(GroundTruthError, match=r"t1 must be in \[0, 100\]"):
        apply_global_config(small_gt, config(override={"t1": value}))


def test_t1_bounds_are_inclusive(small_gt):
    assert np.all(apply_global_config(small_gt, config(override={"t1": 100})).dense("t1") == 100)
    assert np.all(apply_global_config(small_gt, config(override={"t1": 0})).dense("t1") == 0)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("lambda_blood_brain", 1.2, r"lambda_blood_brain must be in \(0, 1\]"),
        ("lambda_blood_brain", -0.1, r"lambda_blood_brain must be in \(0, 1\]"),
        ("t1_arterial_blood", 100.1, r"t1_arterial_blood must be in \(0, 100\]"),
        ("t1_arterial_blood", -1.0, r"t1_arterial_blood must be in \(0, 100\]"),
        ("t1_arterial_blood", "slow", "must be a number"),
    ],
)
def test_parameter_ranges(small_gt, name, value, message):
    with pytest.raises(GroundTruthError, match=message):
        apply_global_config(small_gt, config(parameters={name: value}))


def test_negative_dense_value_is_rejected(small_gt):
    dense = np.full(small_gt.shape, 10.0)
    dense[3, 4, 5] = -1e-9
    with pytest.raises(GroundTruthError, match=r"perfusion_rate must be in \[0, 1000\]"):
        check_ranges(with_maps(small_gt, perfusion_rate=dense))


def test_table_entries_of_absent_labels_are_not_checked(small_gt):
    gt = with_maps(small_gt, m0=np.array([0.0, 80.0, 70.0, 90.0, -5.0]))  # label 4 absent
    check_ranges(gt)  # no error
    with pytest.raises(GroundTruthError, match=r"m0 must be in \[0, 1e\+12\]"):
        check_ranges(with_maps(small_gt, m0=np.array([0.0, -80.0, 70.0, 90.0])))


# ---------------------------------------------------------------- issue 9 items 5 and 6


@pytest.mark.parametrize(
    "key, typo, hint",
    [
        ("image_override", "M0", "m0"),
        ("ground_truth_modulate", "perfusion", "perfusion_rate"),
        ("ground_truth_modulate", "T2star", "t2_star"),
    ],
)
def test_unknown_quantity_gets_a_did_you_mean(small_gt, key, typo, hint):
    """An override of a quantity the ground truth lacks names the closest one."""
    if key == "image_override":
        cfg = config(override={typo: 1.0})
    else:
        cfg = config(modulate={typo: Modulation(scale=2.0)})
    with pytest.raises(GroundTruthError) as info:
        apply_global_config(small_gt, cfg)
    assert str(info.value).startswith(f"global_configuration.{key}.{typo}: unknown quantity")
    assert f"(did you mean '{hint}'?)" in str(info.value)


def test_modulation_to_infinity_names_quantity_and_count(small_gt):
    """scale 1e308 makes every tissue voxel of m0 Inf: refused, naming the voxels."""
    with pytest.raises(GroundTruthError) as info:
        apply_global_config(small_gt, config(modulate={"m0": Modulation(scale=1e308)}))
    tissue = int(np.count_nonzero(small_gt.seg > 0))
    assert str(info.value).startswith("global_configuration.ground_truth_modulate.m0: ")
    assert f"{tissue} non-finite values" in str(info.value)


def test_modulation_beyond_the_physical_range_is_refused(small_gt):
    """scale 1e20 keeps m0 finite but far beyond what fits a simulated float32 image."""
    with pytest.raises(GroundTruthError, match=r"m0 must be in \[0, 1e\+12\]"):
        apply_global_config(small_gt, config(modulate={"m0": Modulation(scale=1e20)}))


def test_non_finite_dense_map_is_counted(small_gt):
    """A dense map with NaN and Inf voxels: the count covers both."""
    dense = np.full(small_gt.shape, 1.0)
    dense[0, 0, :3] = np.inf
    dense[1, 1, 1] = np.nan
    with pytest.raises(GroundTruthError, match="t2 has 4 non-finite values"):
        check_ranges(with_maps(small_gt, t2=dense))


def test_non_finite_extra_quantity_is_refused(small_gt):
    """Extra quantities (passed through to the derivative) must be finite too."""
    dense = np.zeros(small_gt.shape)
    dense[2, 3, 4] = -np.inf
    with pytest.raises(GroundTruthError, match="my_map has 1 non-finite values"):
        check_ranges(with_maps(small_gt, my_map=dense))


@pytest.mark.parametrize(
    "name, value, bounds",
    [
        ("lambda_blood_brain", 0.0, r"\(0, 1\]"),
        ("t1_arterial_blood", 0.0, r"\(0, 100\]"),
        ("magnetic_field_strength", -3.0, r"\(0, 30\]"),
        ("magnetic_field_strength", float("nan"), r"\(0, 30\]"),
    ],
)
def test_ground_truth_parameters_have_physical_ranges(small_gt, name, value, bounds):
    """The parameters of a ground-truth file obey the same ranges as parameter_override."""
    gt = GroundTruth(
        affine=small_gt.affine,
        shape=small_gt.shape,
        seg=small_gt.seg,
        segmentation=small_gt.segmentation,
        maps=small_gt.maps,
        units=small_gt.units,
        parameters={**small_gt.parameters, name: value},
    )
    with pytest.raises(GroundTruthError, match=f"parameter {name} must be in {bounds}"):
        check_ranges(gt)
