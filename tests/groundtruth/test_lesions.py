"""Lesions in the ground truth (issue 13 item 3; docs/physics.md §3.7): the membership of
spheres, ellipsoids and masks, the lesioned twins of the tissues, later-wins overlaps and the
refusals."""

from __future__ import annotations

import json
import math

import nibabel as nib
import numpy as np
import pytest

from asldro.groundtruth import GroundTruthError, builtin_ground_truth, load_ground_truth
from asldro.groundtruth.lesions import insert_lesions, lesion_membership
from asldro.params.errors import ParamError
from asldro.params.lesions import Lesion
from asldro.params.load import load_params

from .conftest import TABLES, synthetic_gt, volumes, nested_seg, write_asldro_files

BUILTIN = "hrgt_icbm_2009a_nls_3t"
#: World point (mm) inside the white matter of the built-in ground truth's left hemisphere.
CENTRE = (28.3, -10.6, 22.4)


def _global(**config) -> dict:
    return {"global_configuration": {"ground_truth": BUILTIN, **config}, "image_series": []}


def _load(doc: dict, folder=None):
    params = load_params(doc, folder)
    return load_ground_truth(params.global_config.ground_truth, params.global_config)


def _voxel(gt, point) -> tuple[int, ...]:
    index = np.linalg.solve(gt.affine[:3, :3], np.asarray(point, float) - gt.affine[:3, 3])
    return tuple(int(i) for i in np.rint(index))


@pytest.mark.parametrize("radius", [5.0, 7.7, 12.5, 20.0, 30.0])
def test_a_sharp_sphere_has_the_analytic_volume_within_2_percent(radius):
    gt = builtin_ground_truth(BUILTIN)
    lesion = Lesion(0, "sphere", "s", centre=CENTRE, radii=(radius,) * 3)
    found = lesion_membership(gt, lesion)
    volume = found.values.sum() * abs(np.linalg.det(gt.affine[:3, :3]))
    assert volume == pytest.approx(4.0 / 3.0 * math.pi * radius**3, rel=0.02)
    assert found.values.min() >= 0.0 and found.values.max() == 1.0
    assert 0 < np.count_nonzero((found.values > 0) & (found.values < 1))  # partial coverage


def test_a_smooth_edge_is_a_ramp_centred_on_the_surface():
    gt = builtin_ground_truth(BUILTIN)
    radius, width = 10.0, 4.0
    lesion = Lesion(0, "sphere", "s", centre=(0.0, 0.0, 10.0), radii=(radius,) * 3)
    smooth = lesion_membership(
        gt, Lesion(**{**lesion.__dict__, "edge": "smooth", "edge_width": width})
    )
    centre = _voxel(gt, (0.0, 0.0, 10.0))
    box_centre = tuple(c - part.start for c, part in zip(centre, smooth.box))
    profile = smooth.values[box_centre[0] :, box_centre[1], box_centre[2]]
    # 1 up to radius - width/2, 1/2 at the radius, 0 from radius + width/2 (voxel averages)
    assert profile[: int(radius - width / 2)].min() == pytest.approx(1.0)
    assert profile[int(radius)] == pytest.approx(0.5, abs=0.01)  # the surface curves in the voxel
    assert profile[int(radius + width / 2) + 1 :].max() == 0.0
    assert np.all(np.diff(profile) <= 1e-12)
    # the symmetric ramp keeps the volume: 4/3 pi r^3 (1 + 0.142 (W/r)^2)
    expected = 4.0 / 3.0 * math.pi * radius**3 * (1 + 0.1420 * (width / radius) ** 2)
    assert smooth.values.sum() == pytest.approx(expected, rel=2e-3)


def test_a_rotated_ellipsoid_has_its_volume_and_its_axes_where_rotated():
    gt = builtin_ground_truth(BUILTIN)
    centre = np.array(CENTRE)
    lesion = Lesion(0, "ellipsoid", "e", centre=CENTRE, radii=(15.0, 6.0, 4.0), rotation=(0, 0, 90))
    found = lesion_membership(gt, lesion)
    assert found.values.sum() == pytest.approx(4.0 / 3.0 * math.pi * 15 * 6 * 4, rel=0.02)
    dense = np.zeros(gt.shape)
    dense[found.box] = found.values
    # rotated 90 degrees about z: the long axis lies along world y
    assert dense[_voxel(gt, centre + (0, 12, 0))] == 1.0
    assert dense[_voxel(gt, centre + (12, 0, 0))] == 0.0


def test_lesion_values_and_scale_factors_are_the_tissues_twins_values():
    gt = _load(
        _global(
            lesions=[
                {
                    "shape": "sphere",
                    "name": "infarct",
                    "centre": list(CENTRE),
                    "radius": 10,
                    "values": {"perfusion_rate": 12.0, "transit_time": {"scale": 2.0}},
                }
            ]
        )
    )
    base = builtin_ground_truth(BUILTIN)
    assert gt.segmentation["infarct"] == 4 and gt.segmentation["grey_matter"] == 1
    twins = np.flatnonzero(gt.tissue.labels == 4)
    assert len(twins) == 3  # GM, WM and CSF are all in the sphere; background is not lesioned
    np.testing.assert_array_equal(gt.maps["perfusion_rate"][twins], [12.0] * 3)
    np.testing.assert_allclose(gt.maps["transit_time"][twins], 2.0 * base.maps["transit_time"][1:4])
    np.testing.assert_array_equal(gt.maps["t1"][twins], base.maps["t1"][1:4])  # not named: kept
    np.testing.assert_allclose(gt.tissue.values.sum(axis=0, dtype=np.float64), 1.0, atol=1e-6)
    centre = _voxel(gt, CENTRE)
    assert gt.seg[centre] == 4
    assert gt.dense("perfusion_rate")[centre] == pytest.approx(12.0, rel=1e-6)
    # outside the lesion nothing changed
    far = _voxel(gt, (-28.3, -10.6, 22.4))
    assert gt.dense("perfusion_rate")[far] == pytest.approx(base.dense("perfusion_rate")[far])
    assert gt.seg[far] == base.seg[far]
    # the lesion holds the sphere's volume in every tissue it covers (and no background there)
    lesion_volume = gt.tissue.values[twins].sum(dtype=np.float64)
    assert lesion_volume == pytest.approx(4.0 / 3.0 * math.pi * 1000, rel=0.02)


def test_a_single_label_ground_truth_gets_the_lesion_in_its_one_tissue_per_voxel():
    gt = _load(
        _global(
            tissue_model="single_label",
            lesions=[
                {
                    "shape": "sphere",
                    "centre": list(CENTRE),
                    "radius": 8,
                    "label": 9,
                    "values": {"m0": {"scale": 1.5}},
                }
            ],
        )
    )
    base = builtin_ground_truth(BUILTIN, "single_label")
    centre = _voxel(gt, CENTRE)
    assert gt.segmentation["lesion1"] == 9 and gt.seg[centre] == 9
    tissue = base.seg[centre]
    assert gt.dense("m0")[centre] == pytest.approx(1.5 * base.maps["m0"][tissue])
    values = gt.tissue.values
    assert set(np.unique(values[: base.n_components])) >= {0.0, 1.0}
    np.testing.assert_allclose(values.sum(axis=0, dtype=np.float64), 1.0, atol=1e-6)


def test_overlapping_lesions_the_later_one_wins():
    first = {
        "shape": "sphere",
        "name": "first",
        "centre": list(CENTRE),
        "radius": 8,
        "values": {"perfusion_rate": 5.0, "t1": 2.5},
    }
    second = {
        "shape": "sphere",
        "name": "second",
        "centre": [CENTRE[0], CENTRE[1] + 8, CENTRE[2]],
        "radius": 8,
        "values": {"perfusion_rate": {"scale": 2.0}},
    }
    gt = _load(_global(lesions=[first, second]))
    base = builtin_ground_truth(BUILTIN)
    only_first = _voxel(gt, (CENTRE[0], CENTRE[1] - 6, CENTRE[2]))
    both = _voxel(gt, (CENTRE[0], CENTRE[1] + 4, CENTRE[2]))
    assert gt.seg[only_first] == gt.segmentation["first"]
    assert gt.seg[both] == gt.segmentation["second"]
    assert gt.dense("perfusion_rate")[only_first] == pytest.approx(5.0, rel=1e-6)
    # in the overlap the second lesion's scale applies to the tissues' own values, and the
    # first lesion's t1 is gone there
    expected = 2.0 * base.dense("perfusion_rate")[both]
    assert gt.dense("perfusion_rate")[both] == pytest.approx(expected, rel=1e-5)
    assert gt.dense("t1")[both] == pytest.approx(base.dense("t1")[both], rel=1e-5)
    # swapped, the other one wins
    swapped = _load(_global(lesions=[second, first]))
    assert swapped.seg[both] == swapped.segmentation["first"]
    assert swapped.dense("perfusion_rate")[both] == pytest.approx(5.0, rel=1e-6)


def _mask_file(path, data, affine):
    nib.save(nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine), path)
    return path


def test_a_mask_of_another_grid_is_resampled_and_a_relative_path_resolves(tmp_path):
    base = builtin_ground_truth(BUILTIN)
    # a 2 mm mask holding a 10 x 10 x 10 mm cube at world x, y, z in [10, 20) mm
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = (-40.0, -40.0, -40.0)  # voxel centres at -40, -38, ...: edges at odd mm
    data = np.zeros((40, 40, 40))
    data[25:30, 25:30, 25:30] = 1.0  # centres 10..18 mm: the cube [9, 19) mm
    _mask_file(tmp_path / "cube.nii.gz", data, affine)
    doc = _global(lesions=[{"shape": "mask", "mask": "cube.nii.gz", "values": {"t1": 2.0}}])
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps(doc))
    params = load_params(params_file)
    assert params.resolved["global_configuration"]["lesions"][0]["mask"] == str(
        tmp_path / "cube.nii.gz"
    )
    found = lesion_membership(base, params.global_config.lesions[0])
    assert found.values.sum() == pytest.approx(1000.0, rel=1e-6)  # 1 mm voxels: exactly
    # a mask on the ground-truth grid is the membership itself, soft values included
    soft = np.zeros(base.shape)
    soft[100:104, 100:103, 80:82] = 0.25
    _mask_file(tmp_path / "soft.nii.gz", soft, base.affine)
    lesion = Lesion(0, "mask", "soft", mask=tmp_path / "soft.nii.gz")
    found = lesion_membership(base, lesion)
    dense = np.zeros(base.shape)
    dense[found.box] = found.values
    np.testing.assert_allclose(dense, soft)


def test_a_file_ground_truth_with_dense_maps_takes_the_lesion_values(tmp_path):
    vols = volumes(nested_seg())
    vols["perfusion_rate"] = vols["perfusion_rate"] * np.linspace(0.5, 1.5, 20)[:, None, None]
    affine = np.eye(4)
    nifti, _ = write_asldro_files(tmp_path, vols, affine)
    doc = {
        "global_configuration": {
            "ground_truth": str(nifti),
            "lesions": [
                {
                    "shape": "sphere",
                    "centre": [10, 12, 8],
                    "radius": 3,
                    "values": {"perfusion_rate": {"scale": 0.5}, "t2": 0.2},
                }
            ],
        },
        "image_series": [],
    }
    gt = _load(doc)
    assert not gt.is_table("perfusion_rate") and gt.is_table("t2")
    assert gt.dense("perfusion_rate")[10, 12, 8] == pytest.approx(
        0.5 * vols["perfusion_rate"][10, 12, 8]
    )
    assert gt.dense("t2")[10, 12, 8] == pytest.approx(0.2)
    assert gt.dense("perfusion_rate")[3, 3, 3] == vols["perfusion_rate"][3, 3, 3]


@pytest.mark.parametrize(
    ("lesion", "message"),
    [
        ({"shape": "sphere", "centre": [0, 0, 0], "radius": 0}, "radius: 0 must be > 0"),
        (
            {"shape": "ellipsoid", "centre": [0, 0, 0], "radii": [3, -1, 2]},
            "radii[1]: -1 must be > 0",
        ),
        (
            {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "values": {"perfusion_rate": -2}},
            "values.perfusion_rate: -2 must be in [0, 1000]",
        ),
        (
            {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "edge_width": 2},
            "edge_width: given for a sharp edge",
        ),
        ({"shape": "mask", "mask": "missing.nii.gz"}, "does not exist"),
        (
            {"shape": "sphere", "name": "a-b", "centre": [0, 0, 0], "radius": 5},
            "name: expected a name of letters and digits starting with a letter",
        ),
    ],
)
def test_bad_lesion_parameters_are_refused_with_the_place_named(lesion, message, tmp_path):
    with pytest.raises(ParamError) as error:
        load_params(_global(lesions=[lesion]), tmp_path)
    assert "global_configuration.lesions[0]" in str(error.value)
    assert message in str(error.value)


def test_two_lesions_with_one_name_or_one_label_are_refused(tmp_path):
    one = {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "name": "A", "label": 7}
    with pytest.raises(ParamError, match=r"lesions\[1\].name: \"a\" is the name of lesions\[0\]"):
        load_params(_global(lesions=[one, {**one, "name": "a", "label": 8}]), tmp_path)
    with pytest.raises(ParamError, match=r"lesions\[1\].label: 7 is the label of lesions\[0\]"):
        load_params(_global(lesions=[one, {**one, "name": "B"}]), tmp_path)


@pytest.mark.parametrize(
    ("lesion", "message"),
    [
        (
            {"shape": "sphere", "centre": [0, 500, 0], "radius": 5},
            "lesions[0].centre: [0, 500, 0] mm is outside the ground truth's field of view",
        ),
        (
            {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "values": {"cbf": 3}},
            "lesions[0].values.cbf: unknown quantity",
        ),
        (
            {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "values": {"seg_label": 3}},
            "lesions[0].values.seg_label: unknown quantity (the lesion's label is its 'label')",
        ),
        (
            {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "values": {"t1": {"scale": 100}}},
            "lesions[0].values.t1: t1 inside the lesion must be in [0, 100]",
        ),
        (
            {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "label": 2},
            "lesions[0].label: 2 is the label of 'white_matter'",
        ),
        (
            {"shape": "sphere", "centre": [0, 0, 0], "radius": 5, "name": "GM"},
            "lesions[0].name: 'GM' is (or abbreviates like) the ground truth's tissue 'grey_matter'",
        ),
    ],
)
def test_lesions_that_do_not_fit_the_ground_truth_are_refused(lesion, message):
    with pytest.raises(GroundTruthError) as error:
        _load(_global(lesions=[lesion]))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_bad_masks_are_refused(tmp_path):
    base = builtin_ground_truth(BUILTIN)
    four_d = _mask_file(tmp_path / "4d.nii.gz", np.zeros((4, 4, 4, 2)), np.eye(4))
    with pytest.raises(GroundTruthError, match=r"expected a 3-D mask, got shape \(4, 4, 4, 2\)"):
        lesion_membership(base, Lesion(0, "mask", "m", mask=four_d))
    labels = np.zeros((8, 8, 8))
    labels[2:4, 2:4, 2:4] = 255
    bytes_mask = _mask_file(tmp_path / "u8.nii.gz", labels, np.eye(4))
    with pytest.raises(GroundTruthError, match=r"values must be in \[0, 1\].*from 0 to 255"):
        lesion_membership(base, Lesion(0, "mask", "m", mask=bytes_mask))
    far = np.eye(4)
    far[:3, 3] = 5000.0
    ones = _mask_file(tmp_path / "far.nii.gz", np.ones((4, 4, 4)), far)
    with pytest.raises(GroundTruthError, match="covers no voxel of the ground truth"):
        lesion_membership(base, Lesion(0, "mask", "m", mask=ones))
    (tmp_path / "text.nii.gz").write_text("not an image")
    with pytest.raises(GroundTruthError, match="not a readable NIfTI"):
        lesion_membership(base, Lesion(0, "mask", "m", mask=tmp_path / "text.nii.gz"))


def test_no_lesions_leave_the_ground_truth_as_it_is():
    gt = synthetic_gt(np.eye(4))
    assert insert_lesions(gt, ()) is gt
    assert TABLES["perfusion_rate"] == list(gt.maps["perfusion_rate"])


def test_a_ground_truth_without_labels_refuses_lesions(tmp_path):
    vols = volumes(nested_seg())
    del vols["seg_label"]
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4))
    doc = json.loads(json_path.read_text())
    doc["quantities"] = [q for q in doc["quantities"] if q != "seg_label"]
    doc["units"] = doc["units"][: len(doc["quantities"])]
    json_path.write_text(json.dumps(doc))
    config = {
        "ground_truth": str(nifti),
        "lesions": [{"shape": "sphere", "centre": [10, 12, 8], "radius": 3}],
    }
    with pytest.raises(GroundTruthError, match="lesions need a ground truth with tissue labels"):
        _load({"global_configuration": config, "image_series": []})


def test_a_file_without_lesions_resolves_as_before(tmp_path):
    resolved = load_params(_global(), tmp_path).resolved["global_configuration"]
    assert "lesions" not in resolved


def test_the_memory_estimate_counts_the_fractions_of_a_lesioned_file_ground_truth(tmp_path):
    from asldro.pipelines.memory import estimate_peak_memory

    nifti, _ = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    lesion = {"shape": "sphere", "centre": [10, 12, 8], "radius": 3}
    estimates = []
    for lesions in ([], [lesion]):
        doc = {
            "global_configuration": {"ground_truth": str(nifti), "lesions": lesions},
            "image_series": [],
        }
        params = load_params(doc)
        gt = load_ground_truth(params.global_config.ground_truth, params.global_config)
        estimates.append((estimate_peak_memory(params, gt).total, gt))
    (plain, _), (lesioned, gt) = estimates
    assert lesioned - plain >= gt.tissue.values.nbytes
