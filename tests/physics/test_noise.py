"""Tests of the noise model of docs/physics.md §7.1 and D5."""

import math

import numpy as np
import pytest

from asldro.physics import noise


def test_noise_reference_is_mean_magnitude_over_mask():
    reference = np.array([[0.0, 10.0], [-30.0, 1e-25]])
    mask = np.array([[False, True], [True, False]])
    assert noise.noise_reference(reference, mask) == pytest.approx((10 + 30) / 2)
    assert noise.noise_reference(reference) == pytest.approx((10 + 30 + 1e-25) / 4)


def test_noise_sigma_is_reference_over_snr():
    assert noise.noise_sigma(20.0, 4.0) == 5.0
    assert noise.noise_sigma(20.0, 0.0) == 0.0  # no noise
    with pytest.raises(ValueError, match="snr"):
        noise.noise_sigma(20.0, -1.0)


def test_noise_reference_of_an_empty_mask_or_no_weight_is_zero():
    assert noise.noise_reference(np.full(5, 100.0), np.zeros(5, bool)) == 0.0
    assert noise.noise_reference(np.full(3, 100.0), weights=np.zeros(3)) == 0.0


def test_weighted_noise_reference_on_tables_equals_dense():
    table = np.array([0.0, 74.62187940404371, 64.72388087166287, 68.0455829129696])
    counts = np.array([40, 17, 9, 3])
    labels = np.repeat(np.arange(4), counts)
    dense = noise.noise_reference(table[labels], labels > 0)
    weighted = noise.noise_reference(table, np.arange(4) > 0, counts)
    by_hand = (17 * table[1] + 9 * table[2] + 3 * table[3]) / (17 + 9 + 3)
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
    shape = (8, 8, 8)
    first = noise.draw_complex_noise(shape, 2.0, np.random.default_rng(7))
    again = noise.draw_complex_noise(shape, 2.0, np.random.default_rng(7))
    other = noise.draw_complex_noise(shape, 2.0, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_measured_snr_on_uniform_object():
    image = np.full((64, 64, 64), 100.0)
    sigma = noise.noise_sigma(noise.noise_reference(image, image > 0), 20.0)
    assert sigma == pytest.approx(5.0)
    drawn = noise.draw_complex_noise(image.shape, sigma, np.random.default_rng(0))
    noisy = noise.add_noise(image, drawn)
    assert noisy.dtype == np.complex128
    assert np.std(noisy.real) == pytest.approx(5.0, rel=0.05)
    assert np.std(noisy.imag) == pytest.approx(5.0, rel=0.05)
    assert np.mean(noisy.real) == pytest.approx(100.0, abs=0.1)
    mag = np.abs(noisy)
    assert np.mean(mag) / np.std(mag) == pytest.approx(20.0, rel=0.05)


def test_background_magnitude_is_rayleigh():
    sigma = 3.0
    shape = (64, 64, 64)
    noisy = noise.add_noise(
        np.zeros(shape), noise.draw_complex_noise(shape, sigma, np.random.default_rng(1))
    )
    mag = np.abs(noisy)
    assert np.mean(mag) == pytest.approx(sigma * math.sqrt(math.pi / 2), rel=0.02)
    assert np.std(mag) == pytest.approx(sigma * math.sqrt(2 - math.pi / 2), rel=0.02)
