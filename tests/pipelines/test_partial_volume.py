"""Series on the partial-volume ground truth (issue 13 item 1; docs/physics.md §3.5): each voxel's
signal is the fraction-weighted sum of the tissue signals, ΔM included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asldro.acquisition import Resampler, acquisition_grid
from asldro.groundtruth import builtin_ground_truth
from asldro.params import default_params, load_params
from asldro.pipelines import generate_series
from asldro.pipelines.filters import KineticModel
from asldro.params.types import LabelTiming

NAME_3T = "hrgt_icbm_2009a_nls_3t"


@pytest.fixture(scope="module")
def pv():
    return builtin_ground_truth(NAME_3T, "partial_volume")


def _params(series_type: str, **parameters):
    doc = default_params()
    doc["image_series"] = [{"series_type": series_type, "series_parameters": parameters}]
    return load_params(doc)


def test_a_noiseless_fully_relaxed_image_on_the_truth_grid_is_the_fraction_weighted_sum(pv):
    """Spin echo with TR >> T1: S = M0 exp(-TE/T2) per tissue, mixed by the 1 mm fractions."""
    params = _params(
        "structural",
        acq_matrix=list(pv.shape),
        desired_snr=0,
        acq_contrast="se",
        repetition_time=1000.0,
        echo_time=0.01,
    )
    image = generate_series(params, pv)[0].images["structural"].data
    tissue_signal = pv.maps["m0"] * np.exp(-0.01 / np.where(pv.maps["t2"] > 0, pv.maps["t2"], 1.0))
    tissue_signal[pv.maps["m0"] == 0] = 0.0
    fractions = pv.tissue.values.astype(np.float64)
    expected = np.tensordot(tissue_signal, fractions, axes=(0, 0))
    np.testing.assert_allclose(image, expected.astype(np.float32), rtol=2e-6, atol=1e-5)
    mixed = (fractions[1] > 0.3) & (fractions[2] > 0.3)
    assert np.count_nonzero(mixed) > 1000  # the comparison covers mixed voxels
    pure = builtin_ground_truth(NAME_3T, "single_label")
    single = generate_series(params, pure)[0].images["structural"].data
    assert not np.allclose(single[mixed], image[mixed])  # partial volume changes the image


def test_delta_m_of_a_mixed_voxel_is_the_fraction_weighted_sum_of_the_tissues(pv):
    """control - label = sum_t F_t ΔM_t exp(-TE/T2_t): each tissue its own ATT, T1 and CBF."""
    params = _params(
        "asl",
        acq_matrix=[40, 48, 36],
        desired_snr=0,
        asl_context="control label",
        echo_time=0.02,
        repetition_time=5.0,
    )
    data = generate_series(params, pv)[0].images["asl"].data.astype(np.float64)
    model = KineticModel("pcasl", 0.85, 0.9, 1.65)
    delta_m = model.delta_m(pv.maps, LabelTiming(1.8, 3.6))
    t2 = np.where(pv.maps["t2"] > 0, pv.maps["t2"], 1.0)
    grid = acquisition_grid(pv.affine, pv.shape, (40, 48, 36))
    fractions = Resampler(pv.affine, pv.shape, grid).resample_fractions(pv.tissue.values)
    expected = np.tensordot(delta_m * np.exp(-0.02 / t2), fractions, axes=(0, 0))
    np.testing.assert_allclose(data[..., 0] - data[..., 1], expected, rtol=1e-4, atol=1e-4)
    # one tissue by hand: GM's ΔM from the white-paper pCASL formula of the full model
    f, dt, t1, m0 = (pv.maps[q][1] for q in ("perfusion_rate", "transit_time", "t1", "m0"))
    f_s = f / 6000
    t1app = 1 / (1 / t1 + f_s / 0.9)
    grey = 2 * 0.85 * (m0 / 0.9) * f_s * t1app * math.exp(-dt / 1.65)
    grey *= math.exp(-(3.6 - 1.8 - dt) / t1app) * (1 - math.exp(-1.8 / t1app))
    assert delta_m[1] == pytest.approx(grey, rel=1e-12)


def test_the_acquisition_grid_fractions_are_the_box_average_of_the_1mm_fractions(pv):
    grid = acquisition_grid(pv.affine, pv.shape, (197 // 3 + 1, 233 // 3 + 1, 63))
    fractions = Resampler(pv.affine, pv.shape, grid).resample_fractions(pv.tissue.values)
    # target voxel (i, j, k) covers source indices [i*s - 0.5, (i+1)*s - 0.5] per axis
    scale = np.asarray(pv.shape) / np.asarray(grid.shape)
    i, j, k = 30, 40, 30
    lo = np.array([i, j, k]) * scale - 0.5
    hi = lo + scale
    weights = []
    for axis in range(3):
        edges = np.arange(pv.shape[axis])
        overlap = np.minimum(hi[axis], edges + 0.5) - np.maximum(lo[axis], edges - 0.5)
        weights.append(np.clip(overlap, 0.0, None) / scale[axis])
    for component in range(4):  # background too: it is 1 - the tissues in the 1 mm truth
        box = np.einsum("i,j,k,ijk->", *weights, pv.tissue.values[component].astype(np.float64))
        assert fractions[component, i, j, k] == pytest.approx(box, rel=1e-6, abs=1e-7)
    assert 0.1 < fractions[1, i, j, k] < 0.9  # a mixed voxel
    # the components fill every voxel exactly (the float32 rounding of the input removed)
    np.testing.assert_allclose(fractions.sum(axis=0), 1.0, rtol=0, atol=1e-12)


def test_a_rotated_acquisition_mixes_the_same_fractions(pv):
    """The rotation path (summed-volume tables of the fractions) agrees with the separable one
    where the rotation is tiny enough to be nearly the identity map."""
    grid = acquisition_grid(pv.affine, pv.shape, (40, 48, 36))
    motion = np.eye(4)
    angle = math.radians(0.01)
    motion[:2, :2] = [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    rotated = Resampler(pv.affine, pv.shape, grid, motion).resample_fractions(pv.tissue.values)
    straight = Resampler(pv.affine, pv.shape, grid).resample_fractions(pv.tissue.values)
    np.testing.assert_allclose(rotated, straight, atol=0.02)


def test_fractions_of_a_rotated_grid_reaching_outside_the_truth_are_finite(pv):
    """The part of a voxel inside the field of view is 0 +- 1e-12 out there: no 0/0."""
    from asldro.acquisition.motion import motion_matrix
    from asldro.params.types import Motion

    grid = acquisition_grid(pv.affine, pv.shape, (24, 28, 20))
    moved = motion_matrix(Motion(rot_z=7.0, transl_x=1.5))
    fractions = Resampler(pv.affine, pv.shape, grid, moved).resample_fractions(pv.tissue.values)
    assert np.all(np.isfinite(fractions))
    assert fractions.min() >= 0.0 and fractions.max() <= 1.0
