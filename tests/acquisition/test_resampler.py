"""Box-PSF resampling of the moved object (docs/physics.md §6 with D2, D4, D4b)."""

import numpy as np
import pytest

from asldro.acquisition.motion import motion_matrix
from asldro.acquisition.sampling import Grid, Resampler, acquisition_grid, present_labels
from asldro.params.types import Motion

from .helpers import affine, gaussian_box_average, gaussian_on_grid, rotation_z

FLIPPED = affine(np.diag([-1.0, 1.0, 1.0]), (20.0, -24.0, -18.0))
SHAPE = (40, 48, 36)

MOTIONS = {
    "none": Motion(),
    "translation": Motion(transl_x=2.3, transl_y=-1.7, transl_z=3.1),
    "rotation": Motion(rot_x=4, rot_y=-3, rot_z=5, transl_x=1.2),
}


def smooth_object(shape=SHAPE) -> np.ndarray:
    """A positive object with structure, zero within 8 voxels of the FOV edge."""
    rng = np.random.default_rng(7)
    inner = rng.random(tuple(n - 16 for n in shape)) + 0.5
    volume = np.zeros(shape)
    volume[8:-8, 8:-8, 8:-8] = inner
    return volume


# --- identity -------------------------------------------------------------------------------


def test_same_grid_without_motion_is_an_exact_copy():
    rng = np.random.default_rng(1)
    volume = rng.normal(size=SHAPE)
    seg = rng.integers(0, 4, size=SHAPE).astype(np.uint16)
    resampler = Resampler(FLIPPED, SHAPE, Grid(SHAPE, FLIPPED))
    assert resampler.is_identity
    assert np.array_equal(resampler.resample(volume), volume)
    assert resampler.resample(volume).dtype == np.float64
    fractions = resampler.label_fractions(seg, [0, 1, 2, 3])
    assert np.array_equal(fractions, np.stack([seg == label for label in range(4)]))
    majority = resampler.majority_labels(seg)
    assert majority.dtype == np.uint16 and np.array_equal(majority, seg)


def test_any_motion_or_other_grid_is_not_identity():
    grid = Grid(SHAPE, FLIPPED)
    assert not Resampler(FLIPPED, SHAPE, grid, motion_matrix(Motion(transl_x=0.2))).is_identity
    assert not Resampler(FLIPPED, SHAPE, acquisition_grid(FLIPPED, SHAPE, (20, 24, 18))).is_identity


# --- hand-derived partial volumes -----------------------------------------------------------


def line_resampler(n_source: int, n_target: int, motion=None) -> Resampler:
    src_shape = (n_source, 1, 1)
    return Resampler(
        np.eye(4), src_shape, acquisition_grid(np.eye(4), src_shape, (n_target, 1, 1)), motion
    )


def test_area_weights_by_hand():
    # 12 source voxels -> 4 target voxels of 3: target 1 covers source 3, 4, 5
    seg = np.array([2, 2, 2, 2, 5, 5, 5, 5, 5, 5, 5, 5], dtype=np.uint8).reshape((12, 1, 1))
    resampler = line_resampler(12, 4)
    fractions = resampler.label_fractions(seg, [2, 5])
    assert np.allclose(fractions[:, :, 0, 0], [[1, 1 / 3, 0, 0], [0, 2 / 3, 1, 1]], atol=1e-12)
    assert np.array_equal(resampler.majority_labels(seg).ravel(), [2, 5, 5, 5])
    values = np.arange(12, dtype=float).reshape((12, 1, 1))
    assert np.allclose(resampler.resample(values).ravel(), [1, 4, 7, 10])


def test_non_integer_ratio_by_hand():
    # 5 source voxels -> 2 target voxels of 2.5: target 0 covers source [-0.5, 2.0]
    values = np.array([1.0, 2.0, 4.0, 8.0, 16.0]).reshape((5, 1, 1))
    out = line_resampler(5, 2).resample(values).ravel()
    assert np.allclose(out, [(1 + 2 + 0.5 * 4) / 2.5, (0.5 * 4 + 8 + 16) / 2.5])


def test_tie_goes_to_the_lowest_label():
    seg = np.array([3, 1, 1, 3], dtype=np.int16).reshape((4, 1, 1))
    majority = line_resampler(4, 2).majority_labels(seg)
    assert np.array_equal(majority.ravel(), [1, 1]) and majority.dtype == np.int16


def test_finer_target_is_nearest_neighbour():
    rng = np.random.default_rng(3)
    seg = rng.integers(1, 9, size=(6, 5, 4)).astype(np.uint16)
    grid = acquisition_grid(np.eye(4), seg.shape, (12, 10, 8))
    majority = Resampler(np.eye(4), seg.shape, grid).majority_labels(seg)
    expected = seg.repeat(2, axis=0).repeat(2, axis=1).repeat(2, axis=2)
    assert np.array_equal(majority, expected)


def test_translation_out_of_the_fov_by_hand():
    # move the object +2.5 target voxels (7.5 mm) along x: the first two target voxels see
    # only the outside, the third is half outside
    seg = np.ones((12, 1, 1), dtype=np.uint8)
    resampler = line_resampler(12, 4, motion_matrix(Motion(transl_x=7.5)))
    fractions = resampler.label_fractions(seg, [1])
    assert np.allclose(fractions.ravel(), [0, 0, 0.5, 1], atol=1e-12)
    values = np.full((12, 1, 1), 4.0)
    assert np.allclose(resampler.resample(values).ravel(), [0, 0, 2, 4], atol=1e-12)
    # half-outside voxel: label 1 and the outside (label 0) tie -> 0; fully outside -> 0
    assert np.array_equal(resampler.majority_labels(seg).ravel(), [0, 0, 0, 1])


# --- properties (issue text) ----------------------------------------------------------------


@pytest.mark.parametrize("motion_name", sorted(MOTIONS))
def test_uniform_region_keeps_its_exact_value(motion_name):
    volume = np.zeros(SHAPE)
    volume[4:36, 4:44, 4:32] = 7.25
    grid = acquisition_grid(FLIPPED, SHAPE, (10, 12, 6))
    resampler = Resampler(FLIPPED, SHAPE, grid, motion_matrix(MOTIONS[motion_name]))
    out = resampler.resample(volume)
    # target voxels whose pulled-back box (plus one voxel of margin) lies inside the region
    voxel_map = resampler.voxel_map
    centres = np.indices(grid.shape).reshape(3, -1).T @ voxel_map[:3, :3].T + voxel_map[:3, 3]
    reach = 0.5 * np.abs(voxel_map[:3, :3]).sum(axis=1) + 1.0
    inside = np.all(
        (centres - reach >= 3.5) & (centres + reach <= np.array([35.5, 43.5, 31.5])), axis=1
    )
    assert inside.sum() >= 20
    assert np.allclose(out.reshape(-1)[inside], 7.25, rtol=1e-12, atol=0)
    assert np.all(out >= -1e-12) and np.all(out <= 7.25 * (1 + 1e-12))


@pytest.mark.parametrize("motion_name", sorted(MOTIONS))
@pytest.mark.parametrize("matrix", [(10, 12, 6), (13, 17, 5), (64, 80, 40)])
def test_total_signal_is_conserved(motion_name, matrix):
    volume = smooth_object()
    source_voxel = abs(np.linalg.det(FLIPPED[:3, :3]))
    grid = acquisition_grid(FLIPPED, SHAPE, matrix)
    out = Resampler(FLIPPED, SHAPE, grid, motion_matrix(MOTIONS[motion_name])).resample(volume)
    total_in = volume.sum() * source_voxel
    total_out = out.sum() * abs(np.linalg.det(grid.affine[:3, :3]))
    tolerance = 1e-9 if motion_name != "rotation" else 1e-2
    assert abs(total_out - total_in) <= tolerance * total_in


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_translation_by_one_target_voxel_shifts_by_one_voxel(axis):
    src_affine = affine(rotation_z(20) @ np.diag([1.0, 1.2, 0.8]), (-3, 5, 2))
    volume = smooth_object()
    grid = acquisition_grid(src_affine, SHAPE, (10, 12, 9))
    step = grid.affine[:3, axis]  # world displacement of one target voxel along this axis
    still = Resampler(src_affine, SHAPE, grid).resample(volume)
    moved = Resampler(src_affine, SHAPE, grid, motion_matrix(Motion(*(0, 0, 0), *step))).resample(
        volume
    )
    head = [slice(None)] * 3
    tail = [slice(None)] * 3
    head[axis], tail[axis] = slice(1, None), slice(None, -1)
    assert np.allclose(moved[tuple(head)], still[tuple(tail)], rtol=0, atol=1e-12)
    first = [slice(None)] * 3
    first[axis] = 0
    assert np.all(moved[tuple(first)] == 0)
    assert np.any(still != moved)


@pytest.mark.parametrize("motion_name", sorted(MOTIONS))
def test_label_map_takes_the_majority_and_never_invents_labels(motion_name):
    rng = np.random.default_rng(5)
    coarse = rng.choice(np.array([0, 2, 7, 40], dtype=np.uint16), size=(8, 8, 6))
    seg = coarse.repeat(5, axis=0).repeat(6, axis=1).repeat(6, axis=2)
    grid = acquisition_grid(FLIPPED, seg.shape, (13, 11, 7))
    resampler = Resampler(FLIPPED, seg.shape, grid, motion_matrix(MOTIONS[motion_name]))
    majority = resampler.majority_labels(seg)
    assert majority.dtype == np.uint16
    assert set(np.unique(majority)) <= {0, 2, 7, 40}
    fractions = resampler.label_fractions(seg, [0, 2, 7, 40])
    outside = np.clip(1 - fractions.sum(axis=0), 0, None)
    fractions[0] += outside
    chosen = fractions[np.searchsorted([0, 2, 7, 40], majority), *np.indices(grid.shape)]
    assert np.all(chosen >= fractions.max(axis=0) - 1e-9)


@pytest.mark.parametrize("motion_name", sorted(MOTIONS))
def test_majority_from_shared_fractions_is_the_same_rule(motion_name):
    """Fractions of every label 0..n-1 given by the caller (shared with other quantities) give
    the same labels as fractions computed for the present labels, and stay unchanged."""
    rng = np.random.default_rng(9)
    seg = rng.choice(np.array([1, 3, 4], dtype=np.uint16), size=(4, 4, 3))
    seg = seg.repeat(5, axis=0).repeat(6, axis=1).repeat(6, axis=2)
    grid = acquisition_grid(FLIPPED, seg.shape, (9, 7, 5))
    resampler = Resampler(FLIPPED, seg.shape, grid, motion_matrix(MOTIONS[motion_name]))
    shared = resampler.label_fractions(seg, range(5))
    kept = shared.copy()
    majority = resampler.majority_labels(seg, shared)
    np.testing.assert_array_equal(majority, resampler.majority_labels(seg))
    np.testing.assert_array_equal(shared, kept)
    with pytest.raises(ValueError, match="fractions"):
        resampler.majority_labels(seg, shared[:4])


@pytest.mark.parametrize("motion_name", sorted(MOTIONS))
def test_fractions_sum_to_the_part_inside_the_fov(motion_name):
    rng = np.random.default_rng(11)
    seg = rng.integers(0, 3, size=SHAPE)
    grid = acquisition_grid(FLIPPED, SHAPE, (10, 12, 9))
    resampler = Resampler(FLIPPED, SHAPE, grid, motion_matrix(MOTIONS[motion_name]))
    inside = resampler.resample(np.ones(SHAPE))
    fractions = resampler.label_fractions(seg, [0, 1, 2])
    assert np.allclose(fractions.sum(axis=0), inside, atol=1e-9)
    assert np.all(fractions >= -1e-12) and np.all(fractions <= 1 + 1e-12)
    if motion_name == "none":
        assert np.allclose(inside, 1.0, atol=1e-12)
    else:
        assert inside.min() < 1.0 and inside.max() == pytest.approx(1.0)


@pytest.mark.parametrize("motion_name", sorted(MOTIONS))
def test_table_lookup_matches_resampling_the_map(motion_name):
    rng = np.random.default_rng(13)
    seg = rng.integers(0, 4, size=SHAPE).astype(np.uint16)
    table = [0.0, 1.5, -2.0, 10.0]
    grid = acquisition_grid(FLIPPED, SHAPE, (10, 12, 9))
    resampler = Resampler(FLIPPED, SHAPE, grid, motion_matrix(MOTIONS[motion_name]))
    direct = resampler.resample(np.asarray(table)[seg])
    fractions = resampler.label_fractions(seg, range(4))
    assert np.allclose(resampler.resample_table(seg, table, fractions), direct, atol=1e-9)
    assert np.allclose(resampler.resample_table(seg, table), direct, atol=1e-9)
    with pytest.raises(ValueError):
        resampler.resample_table(seg, table[:2])


def test_wrong_volume_shape_is_rejected():
    resampler = Resampler(np.eye(4), SHAPE, acquisition_grid(np.eye(4), SHAPE, (10, 12, 9)))
    with pytest.raises(ValueError, match="shape"):
        resampler.resample(np.zeros((4, 4, 4)))


# --- world-space consistency (D4) and accuracy against an analytic object --------------------

SIGMA, CENTRE = 5.0, np.array([2.0, -3.0, 1.5])
TARGET = Grid((10, 10, 8), affine(np.diag([4.0, 4.0, 5.0]), (-18.0, -18.0, -17.5)))
SOURCES = {
    "1mm": (affine(np.eye(3), (-24.5, -24.5, -24.5)), (50, 50, 50)),
    "1mm_flipped_x": (affine(np.diag([-1.0, 1.0, 1.0]), (24.5, -24.5, -24.5)), (50, 50, 50)),
    "2mm": (affine(2 * np.eye(3), (-25.0, -25.0, -25.0)), (26, 26, 26)),
    "0.8mm_oblique": (
        affine(rotation_z(30) @ np.diag([0.8, 0.8, 0.8]), rotation_z(30) @ np.full(3, -31.6)),
        (80, 80, 80),
    ),
}


def acquire_gaussian(source_name, motion=Motion()) -> np.ndarray:
    src_affine, src_shape = SOURCES[source_name]
    volume = gaussian_on_grid(src_affine, src_shape, CENTRE, SIGMA)
    return Resampler(src_affine, src_shape, TARGET, motion_matrix(motion)).resample(volume)


def analytic_gaussian(centre) -> np.ndarray:
    return gaussian_box_average((4.0, 4.0, 5.0), (-18.0, -18.0, -17.5), TARGET.shape, centre, SIGMA)


@pytest.mark.parametrize("source_name", sorted(SOURCES))
def test_world_object_from_any_source_grid_matches_the_box_average(source_name):
    out = acquire_gaussian(source_name)
    tolerance = 0.02 if source_name == "2mm" else 0.01
    assert np.max(np.abs(out - analytic_gaussian(CENTRE))) < tolerance


def test_source_grids_agree_with_each_other():
    reference = acquire_gaussian("1mm")
    for name in ("1mm_flipped_x", "0.8mm_oblique"):
        assert np.max(np.abs(acquire_gaussian(name) - reference)) < 0.01


def test_flipped_source_is_the_mirror_of_the_array():
    src_affine, src_shape = SOURCES["1mm"]
    flipped_affine, _ = SOURCES["1mm_flipped_x"]
    volume = gaussian_on_grid(src_affine, src_shape, CENTRE, SIGMA)
    direct = Resampler(src_affine, src_shape, TARGET).resample(volume)
    mirrored = Resampler(flipped_affine, src_shape, TARGET).resample(volume[::-1])
    assert np.allclose(direct, mirrored, atol=1e-12)


@pytest.mark.parametrize(
    "motion",
    [
        Motion(rot_z=5),
        Motion(rot_x=-7, rot_y=4, rot_z=3, transl_x=2, transl_z=-1.5),
        Motion(rot_y=90),
        Motion(rot_x=30, rot_y=-20, rot_z=10, transl_y=1),
    ],
)
def test_moved_object_lands_where_the_motion_sends_it(motion):
    # an isotropic blob is unchanged by rotation about its own centre, so the moved object is
    # the same blob centred at M @ centre: compare with the exact box average there
    out = acquire_gaussian("1mm", motion)
    moved_centre = (motion_matrix(motion) @ np.append(CENTRE, 1.0))[:3]
    assert np.max(np.abs(out - analytic_gaussian(moved_centre))) < 0.01
    assert np.max(np.abs(out - analytic_gaussian(CENTRE))) > 0.02


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_present_labels_are_the_distinct_values(dtype):
    seg = np.array([[[7, 0, 3], [3, 3, 7]]], dtype=dtype)
    labels = present_labels(seg)
    assert np.array_equal(labels, [0, 3, 7]) and labels.dtype == dtype


def brute_force_box_average(volume, voxel_map, dst_shape, samples=12):
    """Average of the piecewise-constant source over each target voxel, by dense sampling."""
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    sub = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), -1).reshape(-1, 3)
    centres = np.indices(dst_shape).reshape(3, -1).T.astype(float)
    points = (centres[:, None, :] + sub[None]).reshape(-1, 3)
    source = np.rint(points @ voxel_map[:3, :3].T + voxel_map[:3, 3]).astype(int)
    inside = np.all((source >= 0) & (source < np.array(volume.shape)), axis=1)
    values = np.zeros(len(points))
    values[inside] = volume[tuple(source[inside].T)]
    return values.reshape(-1, samples**3).mean(axis=1).reshape(dst_shape)


@pytest.mark.parametrize(
    "blocks, matrix, motion",
    [
        (10, (8, 8, 4), Motion(rot_x=10, rot_y=-6, rot_z=8, transl_x=0.7)),
        (10, (12, 12, 12), Motion(rot_x=4, rot_y=3)),
        (5, (15, 15, 15), Motion(rot_z=5, transl_y=-0.3)),
    ],
)
def test_rotation_path_matches_brute_force_box_averages(blocks, matrix, motion):
    rng = np.random.default_rng(17)
    volume = rng.random((blocks,) * 3).repeat(3, 0).repeat(3, 1).repeat(3, 2)
    centre = (3 * blocks - 1) / 2
    src_affine = affine(np.eye(3), (-centre, -centre, -centre))
    grid = acquisition_grid(src_affine, volume.shape, matrix)
    resampler = Resampler(src_affine, volume.shape, grid, motion_matrix(motion))
    assert not resampler.is_separable
    reference = brute_force_box_average(volume, resampler.voxel_map, grid.shape, samples=10)
    error = resampler.resample(volume) - reference
    # the reference itself is only resolved to 1/10 of a target voxel
    assert np.sqrt(np.mean(error**2)) < 0.01 and np.max(np.abs(error)) < 0.05


@pytest.mark.parametrize("motion_name", sorted(MOTIONS))
def test_complex_volumes_are_resampled_part_by_part(motion_name):
    rng = np.random.default_rng(19)
    real, imag = rng.random(SHAPE), rng.random(SHAPE)
    grid = acquisition_grid(FLIPPED, SHAPE, (10, 12, 9))
    resampler = Resampler(FLIPPED, SHAPE, grid, motion_matrix(MOTIONS[motion_name]))
    out = resampler.resample(real + 1j * imag)
    assert out.dtype == np.complex128
    assert np.allclose(out.real, resampler.resample(real), atol=1e-13)
    assert np.allclose(out.imag, resampler.resample(imag), atol=1e-13)
