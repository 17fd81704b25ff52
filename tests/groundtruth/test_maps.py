"""A subject-specific ground truth from tissue probability maps and quantity maps (issue 13
item 4; docs/physics.md §3.6): ``ground_truth: {"probseg": ..., "maps": ..., "values": ...,
"template": ...}``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from asldro.groundtruth import GroundTruthError, load_ground_truth
from asldro.groundtruth.builtin import tissue_tables
from asldro.acquisition.sampling import Grid
from asldro.groundtruth.maps import ARRIVAL_WEIGHTS, map_on_grid
from asldro.params import ParamError, load_params
from asldro.pipelines.groundtruth import WEIGHTED_MEANS

from ..subject_data import (
    CBF_LEFT,
    CBF_RIGHT,
    PROBSEG_AFFINE,
    PROBSEG_SHAPE,
    SPOILT,
    probabilities,
    rotated_affine,
    save,
    world_coordinates,
    write_bids,
    write_cbf_map,
    write_fast,
    write_spoilt,
)

GM, WM, CSF = 1, 2, 3  # the labels of tissues.json's segmentation


def _load(tmp_path, ground_truth, **global_config):
    """Load the parameters of ``ground_truth`` (paths relative to ``tmp_path``) and then the
    ground truth itself."""
    document = {
        "global_configuration": {"ground_truth": ground_truth, **global_config},
        "image_series": [],
    }
    params = load_params(document, base_dir=tmp_path)
    return load_ground_truth(params.global_config.ground_truth, params.global_config)


def _values(gt, quantity):
    return gt.maps[quantity]


def test_fast_folder_gives_fractions_that_sum_to_one_in_fast_class_order(tmp_path):
    write_fast(tmp_path / "fast")
    gt = _load(tmp_path, {"probseg": {"folder": "fast", "convention": "fsl_fast"}})
    expected = probabilities()
    assert gt.shape == PROBSEG_SHAPE
    np.testing.assert_array_equal(gt.affine, PROBSEG_AFFINE)
    fractions = gt.tissue.values
    np.testing.assert_allclose(fractions.sum(axis=0, dtype=np.float64), 1.0, atol=1e-6)
    # pve_0 is CSF, pve_1 GM, pve_2 WM
    for label, tissue in ((GM, "GM"), (WM, "WM"), (CSF, "CSF")):
        np.testing.assert_allclose(fractions[label], expected[tissue], atol=1e-7)
    assert fractions.min() >= 0.0
    centre = tuple(n // 2 for n in PROBSEG_SHAPE)
    assert gt.seg[centre] == WM and gt.seg[0, 0, 0] == 0
    # no map: every quantity stays the 3 T built-in's lookup table
    table = tissue_tables()["ground_truths"]["hrgt_icbm_2009a_nls_3t"]["values"]["t1"]
    assert gt.is_table("t1") and gt.maps["t1"][GM] == table["grey_matter"]
    assert gt.parameters["t1_arterial_blood"] == 1.65


def test_bids_derivative_folder_is_found_by_entity_without_a_convention(tmp_path):
    write_bids(tmp_path / "fmriprep", "01")
    gt = _load(tmp_path, {"probseg": {"folder": "fmriprep"}})
    np.testing.assert_allclose(gt.tissue.values[GM], probabilities()["GM"], atol=1e-7)
    np.testing.assert_allclose(gt.tissue.values.sum(axis=0, dtype=np.float64), 1.0, atol=1e-6)


def test_several_bids_participants_ask_for_one_and_participant_selects_it(tmp_path):
    write_bids(tmp_path / "fmriprep", "01")
    write_bids(tmp_path / "fmriprep", "02")
    with pytest.raises(ParamError) as caught:
        _load(tmp_path, {"probseg": {"folder": "fmriprep", "convention": "bids"}})
    message = str(caught.value)
    assert "\n" not in message and "sub-01, sub-02" in message and '"participant"' in message
    params = load_params(
        {
            "global_configuration": {
                "ground_truth": {"probseg": {"folder": "fmriprep", "participant": "sub-02"}}
            },
            "image_series": [],
        },
        base_dir=tmp_path,
    )
    files = params.global_config.ground_truth.subject.probseg
    assert sorted(files) == ["CSF", "GM", "WM"]
    assert all(file.name.startswith("sub-02_label-") for file in files.values())


def test_explicit_files_and_renormalisation_where_the_sum_exceeds_one(tmp_path):
    maps = probabilities()
    maps["CSF"] = np.where(maps["GM"] > 0.9, 0.25, maps["CSF"]).astype(np.float32)  # sum 1.25
    files = {
        tissue: str(save(values, PROBSEG_AFFINE, tmp_path / f"{tissue}.nii"))
        for tissue, values in maps.items()
    }
    gt = _load(tmp_path, {"probseg": files})
    over = (maps["GM"] + maps["WM"] + maps["CSF"]) > 1.0
    assert np.count_nonzero(over) > 100
    fractions = gt.tissue.values
    np.testing.assert_allclose(fractions.sum(axis=0, dtype=np.float64), 1.0, atol=1e-6)
    np.testing.assert_allclose(fractions[0][over], 0.0, atol=1e-7)
    total = (maps["GM"] + maps["WM"] + maps["CSF"])[over]
    np.testing.assert_allclose(fractions[CSF][over], (maps["CSF"][over] / total), rtol=1e-6)


def test_a_cbf_map_on_a_rotated_2mm_grid_is_carried_to_the_probseg_grid(tmp_path):
    write_fast(tmp_path / "fast")
    write_cbf_map(tmp_path / "maps" / "cbf.nii.gz")
    gt = _load(
        tmp_path, {"probseg": {"folder": "fast"}, "maps": {"perfusion_rate": "maps/cbf.nii.gz"}}
    )
    cbf = gt.maps["perfusion_rate"]
    assert cbf.shape == PROBSEG_SHAPE
    world = world_coordinates(PROBSEG_SHAPE, PROBSEG_AFFINE)
    head = np.linalg.norm(world, axis=0) < 32
    # a ground-truth voxel (2 mm) whose box lies wholly in one half of the map takes its value;
    # 4 mm from the plane x = 0 is beyond the reach of any rotated 2 mm map voxel
    right, left = head & (world[0] > 4), head & (world[0] < -4)
    assert np.count_nonzero(right) > 1000 and np.count_nonzero(left) > 1000
    np.testing.assert_allclose(cbf[right], CBF_RIGHT, rtol=1e-12)
    np.testing.assert_allclose(cbf[left], CBF_LEFT, rtol=1e-12)
    # near the plane the box average mixes the halves, never beyond the map's range
    assert cbf[head].min() >= CBF_LEFT - 1e-9 and cbf[head].max() <= CBF_RIGHT + 1e-9
    assert np.any((cbf[head] > CBF_LEFT + 1) & (cbf[head] < CBF_RIGHT - 1))


def test_with_a_map_transit_time_is_the_perfusion_weighted_mean_of_the_tissues(tmp_path):
    assert ARRIVAL_WEIGHTS == WEIGHTED_MEANS  # the derivative's rule
    write_fast(tmp_path / "fast")
    write_cbf_map(tmp_path / "cbf.nii.gz")
    gt = _load(tmp_path, {"probseg": {"folder": "fast"}, "maps": {"perfusion_rate": "cbf.nii.gz"}})
    fractions = gt.tissue.values.astype(np.float64)
    tables = tissue_tables()["ground_truths"]["hrgt_icbm_2009a_nls_3t"]["values"]
    cbf = {
        GM: tables["perfusion_rate"]["grey_matter"],
        WM: tables["perfusion_rate"]["white_matter"],
    }
    att = {GM: tables["transit_time"]["grey_matter"], WM: tables["transit_time"]["white_matter"]}
    weight = fractions[GM] * cbf[GM] + fractions[WM] * cbf[WM]
    mixed = (weight > 0) & (fractions[CSF] > 0.2)
    assert np.count_nonzero(mixed) > 50
    weighted = fractions[GM] * cbf[GM] * att[GM] + fractions[WM] * cbf[WM] * att[WM]
    expected = weighted[mixed] / weight[mixed]
    np.testing.assert_allclose(gt.maps["transit_time"][mixed], expected, rtol=1e-6)
    assert gt.maps["transit_time"][mixed].max() <= att[WM] + 1e-9  # no CSF 1000 s mixed in


def test_values_and_the_15t_template(tmp_path):
    write_fast(tmp_path / "fast")
    gt = _load(
        tmp_path,
        {
            "probseg": {"folder": "fast"},
            "values": {"perfusion_rate": {"GM": 70.0}, "abv": {"GM": 0.02}},
            "template": "hrgt_icbm_2009a_nls_1.5t",
        },
    )
    entry = tissue_tables()["ground_truths"]["hrgt_icbm_2009a_nls_1.5t"]
    assert gt.maps["perfusion_rate"][GM] == 70.0
    assert gt.maps["perfusion_rate"][WM] == entry["values"]["perfusion_rate"]["white_matter"]
    assert gt.maps["t1"][CSF] == entry["values"]["t1"]["csf"]
    assert gt.parameters["t1_arterial_blood"] == entry["parameters"]["t1_arterial_blood"]
    np.testing.assert_array_equal(gt.maps["abv"], [0.0, 0.02, 0.0, 0.0])
    assert "abat" in gt.maps and gt.units["abv"] == "fraction"


def test_single_label_keeps_the_majority_tissue(tmp_path):
    write_fast(tmp_path / "fast")
    gt = _load(tmp_path, {"probseg": {"folder": "fast"}}, tissue_model="single_label")
    assert gt.tissue is None
    maps = probabilities()
    stacked = np.stack(
        [1 - maps["GM"] - maps["WM"] - maps["CSF"], maps["GM"], maps["WM"], maps["CSF"]]
    )
    clear = np.sort(stacked, axis=0)[-1] - np.sort(stacked, axis=0)[-2] > 1e-3
    np.testing.assert_array_equal(gt.seg[clear], np.argmax(stacked, axis=0)[clear])


def test_a_map_that_misses_part_of_the_head_warns_and_keeps_the_tissue_values(tmp_path):
    write_fast(tmp_path / "fast")
    affine = rotated_affine(0.0, 2.0, (10, 48, 40))  # x from -9 to 9 mm only
    save(np.full((10, 48, 40), 45.0, np.float32), affine, tmp_path / "cbf.nii.gz")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gt = _load(
            tmp_path, {"probseg": {"folder": "fast"}, "maps": {"perfusion_rate": "cbf.nii.gz"}}
        )
    lines = [str(w.message) for w in caught]
    assert len(lines) == 1 and "outside the map" in lines[0] and "perfusion_rate" in lines[0]
    world = world_coordinates(PROBSEG_SHAPE, PROBSEG_AFFINE)
    cbf = gt.maps["perfusion_rate"]
    np.testing.assert_allclose(cbf[np.abs(world[0]) < 7], 45.0, rtol=1e-12)
    far = np.abs(world[0]) > 12
    np.testing.assert_allclose(cbf[far], _mixed_cbf(gt)[far], rtol=1e-9)


def _mixed_cbf(gt):
    table = tissue_tables()["ground_truths"]["hrgt_icbm_2009a_nls_3t"]["values"]["perfusion_rate"]
    fractions = gt.tissue.values.astype(np.float64)
    return fractions[GM] * table["grey_matter"] + fractions[WM] * table["white_matter"]


@pytest.mark.parametrize(
    ("ground_truth", "words"),
    [
        ({"probseg": {"folder": "nowhere"}}, ["probseg.folder", "is not a folder"]),
        ({"probseg": {"GM": "GM.nii.gz", "WM": "WM.nii.gz"}}, ["probseg", "missing CSF"]),
        ({"maps": {"t1": "t1.nii.gz"}}, ["probseg: missing", '"maps"']),
        (
            {"probseg": {"folder": "fast"}, "maps": {"perfusion_rate": "absent.nii.gz"}},
            ["maps.perfusion_rate", "absent.nii.gz", "does not exist"],
        ),
        (
            {"probseg": {"folder": "fast"}, "maps": {"CBF": "cbf.nii.gz"}},
            ["maps", "CBF"],
        ),
        (
            {"probseg": {"folder": "fast"}, "values": {"t1": {"grey": 1.2}}},
            ["values.t1", "grey", "GM"],
        ),
        (
            {"probseg": {"folder": "fast"}, "nii": "gt.nii.gz", "json": "gt.json"},
            ["file pair"],
        ),
        (
            {"probseg": {"folder": "fast", "convention": "fsl_fast", "participant": "01"}},
            ['"participant"', "convention 'bids'"],
        ),
        (
            {"probseg": {"folder": "fast", "participant": "01"}},
            ["no complete set", "(BIDS)", "sub '01'"],
        ),
    ],
)
def test_bad_parameters_are_one_line(tmp_path, ground_truth, words):
    write_fast(tmp_path / "fast")
    with pytest.raises(ParamError) as caught:
        _load(tmp_path, ground_truth)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(("problem", "words"), SPOILT.items())
def test_bad_images_are_one_line_ground_truth_errors(tmp_path, problem, words):
    ground_truth = write_spoilt(tmp_path, problem)
    with pytest.raises(GroundTruthError) as caught:
        _load(tmp_path, ground_truth)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_a_folder_of_both_conventions_asks_for_one(tmp_path):
    write_fast(tmp_path / "both")
    write_bids(tmp_path / "both", "01")
    with pytest.raises(ParamError, match='both conventions: give "convention"'):
        _load(tmp_path, {"probseg": {"folder": "both"}})
    gt = _load(tmp_path, {"probseg": {"folder": "both", "convention": "bids"}})
    assert gt.shape == PROBSEG_SHAPE


@pytest.mark.slow  # the rounding shows on a full-size grid only (about 10 s)
def test_voxels_outside_a_rotated_map_keep_the_fallback_and_the_rest_its_range(tmp_path):
    # a 1 mm grid of FSL's MNI size and a rotated 2 mm map whose corners miss it: the running
    # sums' rounding leaves coverages of ~1e-9 in voxels the map does not reach, which must
    # not turn into values (they were -71 to 90 for a map of 10 to 90)
    shape, map_shape = (182, 218, 182), (100, 120, 100)
    grid = Grid(shape, np.array([[1.0, 0, 0, -90], [0, 1, 0, -126], [0, 0, 1, -72], [0, 0, 0, 1]]))
    map_affine = rotated_affine(15.0, 2.0, map_shape)
    values = np.random.default_rng(7).uniform(10.0, 90.0, map_shape).astype(np.float32)
    save(values, map_affine, tmp_path / "cbf.nii.gz")
    fallback = np.full(shape, 5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the map misses part of the grid
        out = map_on_grid(
            "perfusion_rate", tmp_path / "cbf.nii.gz", grid, np.ones(shape, bool), fallback
        )
    index = np.linalg.inv(map_affine) @ np.vstack(
        [world_coordinates(shape, grid.affine).reshape(3, -1), np.ones((1, out.size))]
    )
    reach = 0.5 + 0.5  # half a map voxel, plus half a 1 mm voxel's diagonal in map voxels
    upper = np.array(map_shape)[:, np.newaxis] - 1 + reach
    outside = np.any((index[:3] < -reach) | (index[:3] > upper), axis=0).reshape(shape)
    assert np.count_nonzero(outside) > 10000
    np.testing.assert_array_equal(out[outside], 5.0)
    inside = out != 5.0
    assert out[inside].min() >= values.min() and out[inside].max() <= values.max()
