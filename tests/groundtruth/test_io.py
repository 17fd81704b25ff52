"""ASLDRO 5-D ground-truth reader and writer (docs/physics.md §3.1)."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from asldro.groundtruth import (
    GroundTruthError,
    builtin_ground_truth,
    read_ground_truth,
    write_ground_truth,
)
from asldro.groundtruth.io import compact, json_path_for

from .conftest import (
    PARAMETERS,
    QUANTITIES,
    SEGMENTATION,
    TABLES,
    UNITS,
    nested_seg,
    oblique_affine,
    volumes,
    write_asldro_files,
)


def _doc(**changes):
    doc = {
        "quantities": list(QUANTITIES),
        "units": list(UNITS),
        "segmentation": dict(SEGMENTATION),
        "parameters": dict(PARAMETERS),
    }
    doc.update(changes)
    return doc


# ---------------------------------------------------------------- reading


def test_read_keeps_oblique_affine_and_compacts(tmp_path):
    seg = nested_seg()
    nifti, json_path = write_asldro_files(tmp_path, volumes(seg), oblique_affine())
    gt = read_ground_truth(nifti, json_path)
    np.testing.assert_allclose(gt.affine, oblique_affine(), atol=1e-5)
    assert gt.shape == seg.shape
    assert gt.seg.dtype == np.uint16
    np.testing.assert_array_equal(gt.seg, seg)
    for name, table in TABLES.items():
        assert gt.is_table(name)
        np.testing.assert_array_equal(gt.maps[name], table)
    assert gt.quantity_order == tuple(QUANTITIES)
    assert dict(gt.units) == dict(zip(QUANTITIES, UNITS))
    assert dict(gt.segmentation) == SEGMENTATION
    assert dict(gt.parameters) == PARAMETERS


def test_read_finds_the_json_beside_the_nifti(tmp_path):
    nifti, _ = write_asldro_files(tmp_path, volumes(nested_seg()), oblique_affine())
    gt = read_ground_truth(nifti)
    assert dict(gt.parameters) == PARAMETERS


@pytest.mark.parametrize(
    "name, expected",
    [("a/gt.nii.gz", "a/gt.json"), ("a/gt.nii", "a/gt.json"), ("a/b.c.nii.gz", "a/b.c.json")],
)
def test_json_path_for(name, expected, tmp_path):
    assert json_path_for(tmp_path / name) == tmp_path / expected


def test_varying_quantity_stays_dense_others_compact(tmp_path):
    seg = nested_seg()
    vols = volumes(seg)
    ramp = np.linspace(0.0, 1.0, seg.size).reshape(seg.shape)
    vols["perfusion_rate"] = vols["perfusion_rate"] + ramp
    nifti, json_path = write_asldro_files(tmp_path, vols, oblique_affine())
    gt = read_ground_truth(nifti, json_path)
    assert not gt.is_table("perfusion_rate")
    assert gt.maps["perfusion_rate"].dtype == np.float64
    np.testing.assert_array_equal(gt.dense("perfusion_rate"), vols["perfusion_rate"])
    assert gt.is_table("t1")


def test_float32_dense_map_keeps_its_dtype(tmp_path):
    seg = nested_seg()
    vols = volumes(seg)
    vols["m0"] = vols["m0"] + np.arange(seg.size).reshape(seg.shape) % 7
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4), dtype=np.float32)
    gt = read_ground_truth(nifti, json_path)
    assert gt.maps["m0"].dtype == np.float32
    np.testing.assert_array_equal(gt.dense("m0"), vols["m0"].astype(np.float32))
    assert gt.is_table("t2")


def test_seg_label_is_rounded_to_nearest(tmp_path):
    seg = nested_seg()
    vols = volumes(seg)
    vols["seg_label"] = seg + np.where(seg % 2 == 0, 0.4, -0.4)  # 0.4, 0.6, 2.4, 2.6
    vols["seg_label"][seg == 0] = 0.3
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4))
    np.testing.assert_array_equal(read_ground_truth(nifti, json_path).seg, seg)


def test_without_seg_label_every_quantity_is_dense(tmp_path):
    seg = nested_seg()
    vols = volumes(seg)
    del vols["seg_label"]
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4))
    gt = read_ground_truth(nifti, json_path)
    assert not np.any(gt.seg)
    for name in TABLES:
        assert not gt.is_table(name)
        np.testing.assert_array_equal(gt.maps[name], vols[name])
    assert "seg_label" not in gt.quantity_order


def test_extra_quantities_pass_through(tmp_path):
    seg = nested_seg()
    vols = volumes(seg)
    vols["lesion_mask"] = (seg == 1).astype(np.float64)
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4))
    gt = read_ground_truth(nifti, json_path)
    assert gt.quantities[-1] == "lesion_mask"
    np.testing.assert_array_equal(gt.dense("lesion_mask"), vols["lesion_mask"])


def test_extra_parameters_are_kept(tmp_path):
    doc = _doc(parameters={**PARAMETERS, "note_value": 4.5})
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4), doc=doc)
    assert read_ground_truth(nifti, json_path).parameters["note_value"] == 4.5


def test_compact_table_covers_absent_labels_with_zero():
    seg = np.array([[[0, 2], [2, 5]]], dtype=np.uint16)
    values = np.array([[[1.5, 3.0], [3.0, 7.0]]])
    table = compact(values, seg)
    np.testing.assert_array_equal(table, [1.5, 0.0, 3.0, 0.0, 0.0, 7.0])


def test_compact_with_many_labels_uses_first_occurrences():
    seg = np.arange(600, dtype=np.uint16).reshape(10, 6, 10)
    values = seg * 0.5
    np.testing.assert_array_equal(compact(values, seg), np.arange(600) * 0.5)
    values[3, 3, 3] += 1.0  # still one voxel per label: stays a table
    assert compact(values, seg).ndim == 1
    doubled = np.concatenate([seg, seg])
    varying = np.concatenate([seg * 0.5, seg * 0.5 + 1.0])
    assert compact(varying, doubled) is varying


def test_compact_treats_nan_as_a_constant():
    seg = np.array([[[1, 1, 0]]], dtype=np.uint16)
    values = np.array([[[np.nan, np.nan, 0.0]]])
    table = compact(values, seg)
    assert table.ndim == 1 and np.isnan(table[1])


# ---------------------------------------------------------------- reader errors


@pytest.mark.parametrize(
    "doc, message",
    [
        (_doc(extra_key=1), "unexpected key.*extra_key"),
        ({k: v for k, v in _doc().items() if k != "units"}, "missing key.*units"),
        ({k: v for k, v in _doc().items() if k != "parameters"}, "missing key.*parameters"),
        (_doc(quantities="perfusion_rate"), "quantities must be a list"),
        (_doc(quantities=[*QUANTITIES[:-1], "t1"]), "duplicates"),
        (_doc(units=UNITS[:-1]), "6 units for 7 quantities"),
        (_doc(units=[1] * 7), "units must be a list of strings"),
        (_doc(segmentation={"grey_matter": 1.5}), "segmentation must map"),
        (_doc(segmentation={"grey_matter": -1}), "segmentation must map"),
        (_doc(segmentation=[1, 2]), "segmentation must map"),
        (_doc(parameters=[0.9]), "parameters must be a JSON object"),
        (_doc(parameters={"lambda_blood_brain": 0.9}), "lacks required t1_arterial_blood"),
        (
            _doc(parameters={**PARAMETERS, "magnetic_field_strength": "3T"}),
            "magnetic_field_strength must be a number",
        ),
        (_doc(parameters={**PARAMETERS, "lambda_blood_brain": True}), "must be a number"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_bad_json_is_rejected_naming_the_file(tmp_path, doc, message):
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4), doc=doc)
    with pytest.raises(GroundTruthError, match=message) as info:
        read_ground_truth(nifti, json_path)
    assert str(json_path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("missing", ["perfusion_rate", "transit_time", "t1", "t2", "t2_star", "m0"])
def test_each_required_quantity_is_required(tmp_path, missing):
    vols = volumes(nested_seg())
    del vols[missing]
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4))
    with pytest.raises(GroundTruthError, match=f"lacks required {missing}"):
        read_ground_truth(nifti, json_path)


def test_invalid_json_text(tmp_path):
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    json_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(GroundTruthError, match="invalid JSON at line 1 column 2"):
        read_ground_truth(nifti, json_path)


def test_missing_json(tmp_path):
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    json_path.unlink()
    with pytest.raises(GroundTruthError, match="ground-truth JSON not found") as info:
        read_ground_truth(nifti)
    assert str(json_path) in str(info.value)


def test_missing_nifti(tmp_path):
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    nifti.unlink()
    with pytest.raises(GroundTruthError, match="file not found"):
        read_ground_truth(nifti, json_path)


def test_unreadable_nifti(tmp_path):
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    nifti.write_bytes(b"this is not an image")
    with pytest.raises(GroundTruthError, match="not a readable NIfTI") as info:
        read_ground_truth(nifti, json_path)
    assert str(nifti) in str(info.value)


@pytest.mark.parametrize("shape", [(4, 5, 6, 7), (4, 5, 6, 2, 7), (4, 5, 6)])
def test_wrong_dimensionality(tmp_path, shape):
    nifti = tmp_path / "gt.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros(shape), np.eye(4)), nifti)
    (tmp_path / "gt.json").write_text(json.dumps(_doc()), encoding="utf-8")
    with pytest.raises(GroundTruthError, match=r"expected a 5-D image \(X, Y, Z, 1, Q\)"):
        read_ground_truth(nifti)


def test_quantity_count_must_match_volumes(tmp_path):
    vols = volumes(nested_seg())
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4))
    doc = _doc(quantities=[*QUANTITIES, "extra"], units=[*UNITS, ""])
    json_path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(GroundTruthError, match="7 volumes on axis 5 but 8 quantities"):
        read_ground_truth(nifti, json_path)


@pytest.mark.parametrize("bad", [-1.0, 70000.0, np.nan])
def test_seg_label_out_of_uint16_range(tmp_path, bad):
    vols = volumes(nested_seg())
    vols["seg_label"][0, 0, 0] = bad
    nifti, json_path = write_asldro_files(tmp_path, vols, np.eye(4))
    with pytest.raises(GroundTruthError, match="seg_label must round to integers"):
        read_ground_truth(nifti, json_path)


def test_duplicate_key_in_the_json_is_rejected_naming_key_and_line(tmp_path):
    """Issue 9 item 7: the last of two equal keys must not win silently."""
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    text = json.dumps(_doc(), indent=2).replace(
        '"lambda_blood_brain": 0.9,', '"lambda_blood_brain": 0.9,\n    "lambda_blood_brain": 0.1,'
    )
    json_path.write_text(text, encoding="utf-8")
    line = text.splitlines().index('    "lambda_blood_brain": 0.1,') + 1
    with pytest.raises(GroundTruthError) as info:
        read_ground_truth(nifti, json_path)
    assert str(info.value).startswith(str(json_path))
    assert f'duplicate key "lambda_blood_brain" at line {line}' in str(info.value)


def test_json_with_a_utf8_bom_is_accepted(tmp_path):
    """Issue 9 item 17: a JSON saved with a byte-order mark reads like one without."""
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    json_path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_doc()).encode("utf-8"))
    assert dict(read_ground_truth(nifti, json_path).parameters) == PARAMETERS


def test_deeply_nested_json_is_a_ground_truth_error(tmp_path):
    """Issue 9 item 13: 200 000 nested arrays give a GroundTruthError naming the file."""
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    json_path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with pytest.raises(GroundTruthError, match="nested more than 100 levels") as info:
        read_ground_truth(nifti, json_path)
    assert str(info.value).startswith(str(json_path))


@pytest.mark.parametrize(
    "affine",
    [np.diag([1.0, 1.0, 0.0, 1.0]), np.zeros((4, 4)), np.diag([1.0, np.nan, 1.0, 1.0])],
    ids=["flat z", "all zero", "nan"],
)
def test_singular_or_non_finite_affine_is_rejected_naming_the_file(tmp_path, affine):
    """Issue 9 item 13: no "Singular matrix" from deep in the resampler: the file is named."""
    nifti, json_path = write_asldro_files(tmp_path, volumes(nested_seg()), np.eye(4))
    img = nib.load(nifti)
    header = img.header.copy()  # written field by field: nibabel refuses to decompose these
    header["qform_code"], header["sform_code"] = 0, 1
    header["srow_x"], header["srow_y"], header["srow_z"] = affine[0], affine[1], affine[2]
    nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj), None, header), nifti)
    with pytest.raises(GroundTruthError, match="voxel-to-world matrix") as info:
        read_ground_truth(nifti, json_path)
    assert str(info.value).startswith(str(nifti))


# ---------------------------------------------------------------- writing and round trip


def test_written_files_follow_the_format(tmp_path, small_gt):
    nifti, json_path = write_ground_truth(small_gt, tmp_path / "out.nii.gz")
    assert json_path == tmp_path / "out.json"
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert list(doc) == ["quantities", "units", "segmentation", "parameters"]
    assert doc["quantities"] == QUANTITIES
    assert doc["units"] == UNITS
    assert doc["segmentation"] == SEGMENTATION
    assert doc["parameters"] == PARAMETERS
    img = nib.load(nifti)
    assert isinstance(img, nib.Nifti1Image)
    assert img.get_data_dtype() == np.float64
    assert img.shape == (*small_gt.shape, 1, len(QUANTITIES))
    data = np.asanyarray(img.dataobj)
    seg_index = QUANTITIES.index("seg_label")
    np.testing.assert_array_equal(data[..., 0, seg_index], small_gt.seg)
    for index, name in enumerate(QUANTITIES[:-1]):
        np.testing.assert_array_equal(data[..., 0, index], np.asarray(TABLES[name])[small_gt.seg])
    assert int(img.header["sform_code"]) >= 1 and int(img.header["qform_code"]) >= 1


def test_round_trip_oblique_2mm(tmp_path, small_gt):
    write_ground_truth(small_gt, tmp_path / "gt.nii.gz")
    back = read_ground_truth(tmp_path / "gt.nii.gz")
    np.testing.assert_allclose(back.affine, small_gt.affine, rtol=0, atol=1e-5)
    voxel_sizes = np.linalg.norm(back.affine[:3, :3], axis=0)
    np.testing.assert_allclose(voxel_sizes, [2.0, 2.0, 2.0], atol=1e-6)
    np.testing.assert_array_equal(back.seg, small_gt.seg)
    for name in small_gt.maps:
        assert back.is_table(name)
        np.testing.assert_array_equal(back.maps[name], small_gt.maps[name])
    assert back.quantity_order == small_gt.quantity_order
    assert dict(back.units) == dict(small_gt.units)
    assert dict(back.parameters) == dict(small_gt.parameters)
    assert dict(back.segmentation) == dict(small_gt.segmentation)


def test_round_trip_keeps_dense_maps(tmp_path, small_gt):
    dense_f = np.random.default_rng(3).uniform(0, 90, small_gt.shape)
    gt = type(small_gt)(
        affine=small_gt.affine,
        shape=small_gt.shape,
        seg=small_gt.seg,
        segmentation=small_gt.segmentation,
        maps={**small_gt.maps, "perfusion_rate": dense_f},
        units=small_gt.units,
        parameters=small_gt.parameters,
        quantity_order=small_gt.quantity_order,
    )
    write_ground_truth(gt, tmp_path / "gt.nii", tmp_path / "meta.json")
    back = read_ground_truth(tmp_path / "gt.nii", tmp_path / "meta.json")
    assert not back.is_table("perfusion_rate")
    np.testing.assert_array_equal(back.maps["perfusion_rate"], dense_f)


def test_gzip_output_is_byte_identical(tmp_path, small_gt):
    write_ground_truth(small_gt, tmp_path / "a.nii.gz")
    write_ground_truth(small_gt, tmp_path / "b.nii.gz")
    assert (tmp_path / "a.nii.gz").read_bytes() == (tmp_path / "b.nii.gz").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_builtin_round_trip(tmp_path):
    """The built-in written and read back: equal tables and label map."""
    gt = builtin_ground_truth("hrgt_icbm_2009a_nls_3t")
    write_ground_truth(gt, tmp_path / "hrgt.nii")
    back = read_ground_truth(tmp_path / "hrgt.nii")
    np.testing.assert_array_equal(back.affine, gt.affine)
    np.testing.assert_array_equal(back.seg, gt.seg)
    for name in gt.maps:
        assert back.is_table(name)
        np.testing.assert_array_equal(back.maps[name], gt.maps[name])
    assert back.parameters["magnetic_field_strength"] == 3


def test_write_into_a_missing_folder(tmp_path, small_gt):
    with pytest.raises(GroundTruthError, match="cannot write") as info:
        write_ground_truth(small_gt, tmp_path / "absent" / "gt.nii.gz")
    assert "absent" in str(info.value)
