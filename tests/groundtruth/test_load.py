"""load_ground_truth: the engine's entry point (physics.md §1 step 2, §3.3)."""

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
    with pytest.raises(GroundTruthError, match="t2 must be >= 0"):
        load_ground_truth(GroundTruthSource(nifti=nifti))
