"""The report's PNG encoder: a standard decoder (Pillow) reads back exactly the pixels."""

import io

import numpy as np
import pytest

from asldro.report.png import encode_png


def test_pixels_round_trip_through_a_standard_decoder():
    from PIL import Image  # a dependency of matplotlib (the plots extra)

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(7, 13, 3), dtype=np.uint8)
    with Image.open(io.BytesIO(encode_png(pixels))) as decoded:
        assert decoded.mode == "RGB" and decoded.size == (13, 7)
        assert np.array_equal(np.asarray(decoded), pixels)
    assert encode_png(pixels) == encode_png(pixels.copy())  # deterministic bytes


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8)],
)
def test_refuses_what_is_not_rgb_pixels(pixels):
    with pytest.raises(ValueError):
        encode_png(pixels)
