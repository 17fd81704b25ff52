"""``global_configuration.tissue_model`` end to end (issue 13 item 1): ``single_label``
reproduces the images of asldro before partial volume byte for byte."""

from __future__ import annotations

import hashlib

import nibabel as nib
import numpy as np

from asldro.api import generate

from .conftest import document, small

#: sha256 of the decoded data array of every image, recorded with asldro at commit 713f3de (the
#: last commit before partial volume) on the document of :func:`_single_label_document`.
BEFORE_PARTIAL_VOLUME = {
    "derivatives/groundtruth/sub-01/anat/sub-01_desc-groundtruth_M0map.nii.gz": "087cdd788cae01ada0807e0c7dfe8b0f4d1d57656651f4efa9a8f03dedee680d",
    "derivatives/groundtruth/sub-01/anat/sub-01_desc-groundtruth_T1map.nii.gz": "5eb366aef35c91455fb1281dcbbe03d5e08d13379e54a416412b848168d12c6a",
    "derivatives/groundtruth/sub-01/anat/sub-01_desc-groundtruth_T2map.nii.gz": "eea56215e5f1ad563c1411da1668700769b2062c7eeeca8a736f40c6abe593ec",
    "derivatives/groundtruth/sub-01/anat/sub-01_desc-groundtruth_T2starmap.nii.gz": "58f66263ebb4d51cfd6d21e18fe85c2d4e597c873754688f9342d8439560b837",
    "derivatives/groundtruth/sub-01/anat/sub-01_desc-groundtruth_dseg.nii.gz": "167329bee1449ae94f8740ce7d2ca53dd3f4cec508f18b7a6db321a027ab6d8f",
    "derivatives/groundtruth/sub-01/perf/sub-01_desc-groundtruth_att.nii.gz": "9c0676165e3723ce4815ff76d3b4f44001df0a320ba6d60be2870bb6feccc0b7",
    "derivatives/groundtruth/sub-01/perf/sub-01_desc-groundtruth_cbf.nii.gz": "72023e86ce96bd614b842567acec7f6f4b11a27b38da4ae5552a608b2a43d999",
    "sub-01/anat/sub-01_acq-se_T1w.nii.gz": "8cbd931a1f041e610bf732ade5274f6c717220aa765e83b532445086155e4c37",
    "sub-01/perf/sub-01_run-1_asl.nii.gz": "a4f44195f56153cef2c0a57b5c04fbb17de87141818c9b298735167152ab98fb",
    "sub-01/perf/sub-01_run-2_asl.nii.gz": "d3058ceb4359f518f26c494d6e682154fb48c5228203fa897f3090c518af34b2",
}


def _single_label_document(**global_config) -> dict:
    """A 3D asl with rotation, a 2D asl, a rotated ground_truth and a structural series."""
    return document(
        small("asl", rot_z=7.0, transl_x=1.5),
        small("asl", acq_matrix=[20, 24, 16], mr_acq_type="2D", asl_context="control label"),
        small("ground_truth", rot_x=4.0),
        small("structural", acq_matrix=[40, 48, 36]),
        **global_config,
    )


def _digests(root, names):
    out = {}
    for name in names:
        data = np.ascontiguousarray(np.asarray(nib.load(root / name).dataobj))
        out[name] = hashlib.sha256(data.tobytes()).hexdigest()
    return out


def test_single_label_reproduces_the_images_of_before_partial_volume(tmp_path):
    out = tmp_path / "single"
    generate(_single_label_document(tissue_model="single_label"), out, validate=False)
    assert _digests(out, BEFORE_PARTIAL_VOLUME) == BEFORE_PARTIAL_VOLUME


def test_the_default_is_partial_volume_and_changes_the_images(tmp_path):
    out = tmp_path / "default"
    generate(_single_label_document(), out, validate=False)
    digests = _digests(out, BEFORE_PARTIAL_VOLUME)
    changed = [
        name for name in BEFORE_PARTIAL_VOLUME if digests[name] != BEFORE_PARTIAL_VOLUME[name]
    ]
    assert "sub-01/perf/sub-01_run-1_asl.nii.gz" in changed
    assert "derivatives/groundtruth/sub-01/perf/sub-01_desc-groundtruth_cbf.nii.gz" in changed


def _derivatives_document() -> dict:
    return document(
        small("asl", asl_context="control label"),
        small("ground_truth", acq_matrix=[20, 24, 16]),
        small("structural", acq_matrix=[40, 48, 36]),
    )


def test_every_series_grid_has_probseg_mask_cbf_and_att_and_the_dataset_validates(tmp_path):
    from asldro.acquisition import Resampler, acquisition_grid
    from asldro.groundtruth import builtin_ground_truth

    out = tmp_path / "pv"
    result = generate(_derivatives_document(), out, validate=True)
    assert all(not report.findings for report in result.validation.datasets)
    gt_root = out / "derivatives" / "groundtruth" / "sub-01"
    truth = builtin_ground_truth("hrgt_icbm_2009a_nls_3t")
    for prefix, matrix in (
        ("sub-01_res-asl", (24, 28, 20)),
        ("sub-01_acq-se_res-T1w", (40, 48, 36)),
        ("sub-01", (20, 24, 16)),
    ):
        grid = acquisition_grid(truth.affine, truth.shape, matrix)
        expected = Resampler(truth.affine, truth.shape, grid).resample_fractions(
            truth.tissue.values
        )
        tissue = np.zeros(matrix)
        for abbreviation, label in (("GM", 1), ("WM", 2), ("CSF", 3)):
            image = nib.load(
                gt_root / "anat" / f"{prefix}_label-{abbreviation}_desc-groundtruth_probseg.nii.gz"
            )
            np.testing.assert_allclose(image.get_fdata(), expected[label], atol=1e-6)
            np.testing.assert_allclose(image.affine, grid.affine, atol=1e-6)
            tissue += expected[label]
        mask = np.asarray(nib.load(gt_root / "anat" / f"{prefix}_desc-brain_mask.nii.gz").dataobj)
        np.testing.assert_array_equal(mask, (tissue >= 0.5).astype(np.uint8))
        for suffix in ("cbf", "att"):
            assert (gt_root / "perf" / f"{prefix}_desc-groundtruth_{suffix}.nii.gz").is_file()
        cbf = nib.load(gt_root / "perf" / f"{prefix}_desc-groundtruth_cbf.nii.gz").get_fdata()
        values = truth.maps["perfusion_rate"]
        np.testing.assert_allclose(
            cbf, np.tensordot(values, expected, axes=(0, 0)), rtol=1e-5, atol=1e-4
        )
    sidecar = (
        gt_root / "anat" / "sub-01_res-asl_label-GM_desc-groundtruth_probseg.json"
    ).read_text()
    assert (
        "box average" in sidecar and "Resolution" in sidecar and "1 mm tissue fractions" in sidecar
    )


def test_single_label_probseg_is_the_label_fraction(tmp_path):
    from asldro.acquisition import Resampler, acquisition_grid
    from asldro.groundtruth import builtin_ground_truth

    out = tmp_path / "single"
    doc = document(small("asl", asl_context="control label"), tissue_model="single_label")
    generate(doc, out, validate=False)
    truth = builtin_ground_truth("hrgt_icbm_2009a_nls_3t", "single_label")
    grid = acquisition_grid(truth.affine, truth.shape, (24, 28, 20))
    expected = Resampler(truth.affine, truth.shape, grid).label_fractions(truth.seg, [1])[0]
    image = nib.load(
        out
        / "derivatives/groundtruth/sub-01/anat/sub-01_res-asl_label-GM_desc-groundtruth_probseg.nii.gz"
    )
    np.testing.assert_allclose(image.get_fdata(), expected, atol=1e-6)
