"""The 4-D image of a run read straight into one array (issue 16 item 1): the values nibabel
gives, for the files it can take; nibabel itself for the others."""

# pylint: disable=missing-function-docstring

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from asldro.quantify.reading import _read_unscaled, image_data, mean_volumes


def _image(tmp_path, name: str, data: np.ndarray, **scaling) -> nib.Nifti1Image:
    image = nib.Nifti1Image(data, np.eye(4))
    if scaling:
        image.header.set_slope_inter(**scaling)
    nib.save(image, tmp_path / name)
    return nib.load(tmp_path / name)


@pytest.mark.parametrize("name", ["run.nii.gz", "run.nii"])
def test_an_unscaled_image_is_read_with_the_values_nibabel_gives(tmp_path, name):
    data = np.random.default_rng(0).normal(size=(9, 8, 7, 5)).astype(np.float32)
    image = _image(tmp_path, name, data)
    read = _read_unscaled(image.dataobj)
    assert isinstance(read, np.ndarray) and read.dtype == np.float32
    assert read.flags.f_contiguous
    np.testing.assert_array_equal(read, np.asanyarray(image.dataobj))
    np.testing.assert_array_equal(image_data(image, tmp_path / name, tmp_path), data)


def test_a_scaled_or_truncated_image_is_left_to_nibabel(tmp_path):
    data = np.arange(9 * 8 * 7, dtype=np.int16).reshape(9, 8, 7)
    scaled = _image(tmp_path, "scaled.nii.gz", data, slope=2.0, inter=1.0)
    assert _read_unscaled(scaled.dataobj) is None
    np.testing.assert_array_equal(
        image_data(scaled, tmp_path / "scaled.nii.gz", tmp_path)[..., 0], data * 2.0 + 1.0
    )
    whole = _image(tmp_path, "short.nii", data)
    path = tmp_path / "short.nii"
    path.write_bytes(path.read_bytes()[:-10])
    assert _read_unscaled(whole.dataobj) is None


@pytest.mark.parametrize(
    "indices", [[1, 3, 5, 7], [0, 2, 4, 6], [4], [0, 1, 5], [6, 2], list(range(8))]
)
def test_the_mean_of_volumes_is_the_float64_mean_of_their_copy(indices):
    data = np.asfortranarray(np.random.default_rng(1).normal(size=(6, 5, 4, 8)) * 100)
    data = data.astype(np.float32)
    expected = np.mean(data[..., indices].astype(np.float64), axis=-1)
    assert np.array_equal(mean_volumes(data, indices), expected)
