"""load_ground_truth: the engine's entry point (docs/physics.md §1 step 2, §3.3)."""

from __future__ import annotations

import numpy as np
import pytest

from asldro.groundtruth import GroundTruthError, builtin_ground_truth, load_ground_truth
from asldro.params.types import GlobalConfig, GroundTruthSource, Modulation

from .conftest import nested_seg, oblique_affine, volumes, write_asldro_files


def test_load_builtin_by_name():
    gt = load_ground_truth(GroundTruthSource(name="hrgt_icbm_2009a_nls_1.5t"))
    assert gt is builtin_ground_truth("hrgt_icbm_2009a_nls_1.5t")


def test_load_unknown_name():
    with pytest.raises(GroundTruthError, match="unknown built-in ground truth 'nope'"):
        load_ground_truth(GroundTruthSource(name="nope"))


def test_load_from_files_with_and_without_json_path(tmp_path):
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), oblique_affine())
    by_pair = load_ground_truth(GroundTruthSource(nifti=nifti, json=json_path))
    by_nifti = load_ground_truth(GroundTruthSource(nifti=nifti))
    np.testing.assert_array_equal(by_pair.seg, nested_seg())
    np.testing.assert_array_equal(by_nifti.seg, by_pair.seg)


def test_load_needs_a_source():
    with pytest.raises(GroundTruthError, match="neither a built-in name nor a NIfTI"):
        load_ground_truth(GroundTruthSource())


def test_load_applies_the_global_configuration():
    source = GroundTruthSource(name="hrgt_icbm_2009a_nls_3t")
    cfg = GlobalConfig(
        ground_truth=source,
        image_override={"m0": 100.0},
        parameter_override={"magnetic_field_strength": 7},
        ground_truth_modulate={"perfusion_rate": Modulation(scale=2.0)},
    )
    base = builtin_ground_truth("hrgt_icbm_2009a_nls_3t")
    gt = load_ground_truth(source, cfg)
    assert gt.is_table("m0") and np.all(gt.maps["m0"] == 100.0)
    np.testing.assert_array_equal(gt.maps["perfusion_rate"], 2.0 * base.maps["perfusion_rate"])
    assert gt.parameters["magnetic_field_strength"] == 7
    assert gt.seg is base.seg
    assert base.parameters["magnetic_field_strength"] == 3


def test_load_checks_ranges_of_a_file_without_configuration(tmp_path):
    vols = volumes(nested_seg())
    vols["t2"][5, 5, 5] = -0.01
    nifti, _ = write_asldro_files(tmp_path, vols, np.eye(4))
    with pytest.raises(GroundTruthError, match=r"t2 must be in \[0, 100\]"):
        load_ground_truth(GroundTruthSource(nifti=nifti))


def test_inf_in_part_of_a_files_m0_names_file_quantity_and_count(tmp_path):
    """Issue 9 item 5: Inf in 12 voxels of m0 is refused before anything is simulated."""
    vols = volumes(nested_seg())
    vols["m0"][8:10, 8:10, 5:8] = np.inf
    nifti, _ = write_asldro_files(tmp_path, vols, np.eye(4))
    with pytest.raises(GroundTruthError) as info:
        load_ground_truth(GroundTruthSource(nifti=nifti))
    assert str(info.value).startswith(f"{nifti}: m0 has 12 non-finite values")


def test_nan_in_a_file_is_refused_even_with_a_configuration(tmp_path):
    """A NaN transit time in the file is blamed on the file, not on the overrides."""
    vols = volumes(nested_seg())
    vols["transit_time"][7, 7, 6] = np.nan
    nifti, _ = write_asldro_files(tmp_path, vols, np.eye(4))
    cfg = GlobalConfig(
        ground_truth=GroundTruthSource(nifti=nifti),
        image_override={"m0": 50.0},
        parameter_override={},
        ground_truth_modulate={},
    )
    with pytest.raises(GroundTruthError, match=f"^{nifti}: transit_time has 1 non-finite"):
        load_ground_truth(GroundTruthSource(nifti=nifti), cfg)


def test_file_parameters_out_of_range_are_refused_naming_the_file(tmp_path):
    """Issue 9 item 6: lambda 0 in a ground-truth JSON is refused (not only in the override)."""
    vols = volumes(nested_seg())
    doc = {
        "quantities": list(vols),
        "units": [""] * len(vols),
        "segmentation": {"grey_matter": 1, "white_matter": 2, "csf": 3},
        "parameters": {
            "lambda_blood_brain": 0,
            "t1_arterial_blood": 1.65,
            "magnetic_field_strength": 3,
            "my_extra": "kept",
        },
    }
    nifti, _ = write_asldro_files(tmp_path, vols, np.eye(4), doc=doc)
    with pytest.raises(GroundTruthError, match=rf"^{nifti}: parameter lambda_blood_brain"):
        load_ground_truth(GroundTruthSource(nifti=nifti))


def test_an_override_may_replace_an_out_of_range_quantity_of_the_file(tmp_path):
    """The file's t1 is out of range but image_override replaces it wholesale: accepted."""
    vols = volumes(nested_seg())
    vols["t1"][:] = 150.0
    nifti, _ = write_asldro_files(tmp_path, vols, np.eye(4))
    cfg = GlobalConfig(
        ground_truth=GroundTruthSource(nifti=nifti),
        image_override={"t1": 1.2},
        parameter_override={},
        ground_truth_modulate={},
    )
    gt = load_ground_truth(GroundTruthSource(nifti=nifti), cfg)
    assert np.all(gt.dense("t1") == 1.2)
