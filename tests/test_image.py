"""The Image value (docs/design.md "Pipe and filter, done lightly"): read-only arrays, equality over
data + affine + history, a hash consistent with it."""

# pylint: disable=missing-function-docstring

from __future__ import annotations

import numpy as np
import pytest

from asldro.image import Image


def _image(values=(1.0, 2.0, 3.0), history=({"filter": "made"},)) -> Image:
    data = np.asarray(values, dtype=np.float32).reshape(1, 1, -1)
    return Image(data=data, affine=np.diag([2.0, 2.0, 2.0, 1.0]), history=history)


def test_data_and_affine_cannot_be_written_through_the_image():
    image = _image()
    with pytest.raises(ValueError, match="read-only"):
        image.data[0, 0, 0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        image.affine[0, 0] = 5.0
    assert image.data[0, 0, 0] == 1.0 and image.affine[0, 0] == 2.0


def test_the_callers_affine_is_not_shared():
    affine = np.eye(4)
    image = Image(data=np.zeros((1, 1, 1)), affine=affine)
    affine[0, 0] = 9.0
    assert image.affine[0, 0] == 1.0
    assert affine.flags.writeable  # the caller's own array is left as it was


def test_a_filter_result_is_read_only_too():
    image = _image().evolve("scale", data=np.full((1, 1, 3), 7.0), factor=7)
    assert not image.data.flags.writeable
    assert image.history[-1] == {"filter": "scale", "factor": 7}


def test_equal_images_compare_equal_and_hash_alike():
    first, second = _image(), _image()
    assert first == second  # no "truth value of an array is ambiguous"
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


@pytest.mark.parametrize(
    "other",
    [
        _image(values=(1.0, 2.0, 4.0)),
        _image(history=({"filter": "other"},)),
        Image(
            np.asarray([1.0, 2.0, 3.0], dtype=np.float32).reshape(1, 1, -1),
            np.diag([3.0, 2.0, 2.0, 1.0]),
            history=({"filter": "made"},),
        ),
        Image(
            np.asarray([1.0, 2.0, 3.0], dtype=np.float64).reshape(1, 1, -1),
            np.diag([2.0, 2.0, 2.0, 1.0]),
            history=({"filter": "made"},),
        ),
        Image(
            np.asarray([1.0, 2.0, 3.0], dtype=np.float32).reshape(1, 3, 1),
            np.diag([2.0, 2.0, 2.0, 1.0]),
            history=({"filter": "made"},),
        ),
    ],
    ids=["data", "history", "affine", "dtype", "shape"],
)
def test_images_differing_in_anything_are_not_equal(other):
    assert _image() != other
    assert _image() != "not an image"


def test_history_is_read_only():
    image = _image()
    with pytest.raises(TypeError):
        image.history[0]["filter"] = "changed"  # type: ignore[index]


def test_an_image_carries_no_free_form_meta():
    """The acquisition facts travel as typed records (asldro.pipelines.records), not on Image."""
    assert not hasattr(_image(), "meta")
    with pytest.raises(TypeError):
        Image(np.zeros((1, 1, 1)), np.eye(4), meta={"voxel_size": (1, 1, 1)})  # type: ignore
