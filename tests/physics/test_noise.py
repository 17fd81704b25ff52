"""Tests of the noise model of physics.md §7.1 and D5."""

import math

import numpy as np
import pytest

from asldro.physics import noise


def test_noise_sigma_is_mean_magnitude_over_mask_divided_by_snr():
    reference = np.array([[0.0, 10.0], [-30.0, 1e-25]])
    mask = np.array([[False, True], [True, False]])
    assert noise.noise_sigma(reference, 4.0, mask=mask) == pytest.approx((10 + 30) / 2 / 4)
    assert noise.noise_sigma(reference, 2.0) == pytest.approx((10 + 30 + 1e-25) / 4 / 2)


def test_noise_sigma_zero_snr_and_empty_mask_give_zero():
    assert noise.noise_sigma(np.full(5, 100.0), 0.0) == 0.0
    assert noise.noise_sigma(np.full(5, 100.0), 10.0, mask=np.zeros(5, bool)) == 0.0
    with pytest.raises(ValueError, match="snr"):
        noise.noise_sigma(np.full(5, 100.0), -1.0)


def test_weighted_noise_sigma_on_tables_equals_dense():
    table = np.array([0.0, 74.62187940404371, 64.72388087166287, 68.0455829129696])
    counts = np.array([40, 17, 9, 3])
    labels = np.repeat(np.arange(4), counts)
    dense = noise.noise_sigma(table[labels], 100.0, mask=labels > 0)
    weighted = noise.noise_sigma(table, 100.0, mask=np.arange(4) > 0, weights=counts)
    by_hand = (17 * table[1] + 9 * table[2] + 3 * table[3]) / (17 + 9 + 3) / 100.0
    assert weighted == pytest.approx(dense, rel=1e-14)
    assert weighted == pytest.approx(by_hand, rel=1e-14)


def test_draws_real_part_first_then_imaginary():
    shape = (3, 4, 5)
    drawn = noise.draw_complex_noise(shape, 2.5, np.random.default_rng(11))
    replay = np.random.default_rng(11)
    real = replay.standard_normal(shape, dtype=np.float32) * np.float32(2.5)
    imag = replay.standard_normal(shape, dtype=np.float32) * np.float32(2.5)
    assert drawn.dtype == np.complex64
    np.testing.assert_array_equal(drawn.real, real)
    np.testing.assert_array_equal(drawn.imag, imag)
    wide = noise.draw_complex_noise(shape, 1.0, np.random.default_rng(11), dtype=np.complex128)
    assert wide.dtype == np.complex128


def test_same_seed_identical_and_different_seeds_differ():
    image = np.full((8, 8, 8), 50.0)
    first = noise.apply_noise(image, 2.0, np.random.default_rng(7))
    again = noise.apply_noise(image, 2.0, np.random.default_rng(7))
    other = noise.apply_noise(image, 2.0, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_measured_snr_on_uniform_object():
    image = np.full((64, 64, 64), 100.0)
    sigma = noise.noise_sigma(image, 20.0, mask=image > 0)
    assert sigma == pytest.approx(5.0)
    drawn = noise.draw_complex_noise(image.shape, sigma, np.random.default_rng(0))
    noisy = noise.add_noise(image, drawn)
    assert noisy.dtype == np.complex128
    assert np.std(noisy.real) == pytest.approx(5.0, rel=0.05)
    assert np.std(noisy.imag) == pytest.approx(5.0, rel=0.05)
    assert np.mean(noisy.real) == pytest.approx(100.0, abs=0.1)
    mag = noise.magnitude(noisy)
    assert mag.dtype == np.float64
    assert np.mean(mag) / np.std(mag) == pytest.approx(20.0, rel=0.05)


def test_background_magnitude_is_rayleigh():
    sigma = 3.0
    mag = noise.apply_noise(np.zeros((64, 64, 64)), sigma, np.random.default_rng(1))
    assert np.all(mag >= 0.0)
    assert np.mean(mag) == pytest.approx(sigma * math.sqrt(math.pi / 2), rel=0.02)
    assert np.std(mag) == pytest.approx(sigma * math.sqrt(2 - math.pi / 2), rel=0.02)


def test_zero_sigma_returns_signed_image_without_drawing():
    image = np.array([[-3.0, 0.0], [2.5, 7.0]])
    rng = np.random.default_rng(4)
    state = rng.bit_generator.state
    for output in ("magnitude", "complex"):
        result = noise.apply_noise(image, noise.noise_sigma(image, 0.0), rng, output=output)
        np.testing.assert_array_equal(result, image)
        assert result.dtype == np.float64
    assert rng.bit_generator.state == state


def test_complex_output_keeps_phase_and_magnitude_output_is_its_modulus():
    image = np.full((16, 16, 4), -10.0)
    noisy = noise.apply_noise(image, 1.0, np.random.default_rng(2), output="complex")
    mag = noise.apply_noise(image, 1.0, np.random.default_rng(2), output="magnitude")
    assert noisy.dtype == np.complex128
    assert np.mean(noisy.real) == pytest.approx(-10.0, abs=0.3)
    np.testing.assert_allclose(mag, np.abs(noisy), rtol=1e-15)
    with pytest.raises(ValueError, match="output"):
        noise.apply_noise(image, 1.0, np.random.default_rng(2), output="phase")
