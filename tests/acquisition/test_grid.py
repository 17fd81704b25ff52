"""Acquisition grid: same FOV, centred (docs/physics.md D3), using the full GT affine (D4)."""

import numpy as np
import pytest

from asldro.acquisition.sampling import Grid, acquisition_grid

from .helpers import affine, rotation_z

SOURCE_AFFINES = {
    "identity": np.eye(4),
    "icbm_like_flipped_x": affine(np.diag([-1.0, 1.0, 1.0]), (98, -134, -72)),
    "two_mm": affine(np.diag([2.0, 2.0, 2.0]), (-90, -126, -72)),
    "oblique_anisotropic": affine(rotation_z(25) @ np.diag([0.9, 1.1, 1.5]), (3, -7, 11)),
}


def mean_world(grid_affine, shape):
    return grid_affine[:3, :3] @ ((np.asarray(shape) - 1) / 2) + grid_affine[:3, 3]


def fov_corners(grid_affine, shape):
    corners = np.array(np.meshgrid(*[[-0.5, n - 0.5] for n in shape], indexing="ij"))
    corners = corners.reshape(3, -1)
    return (grid_affine[:3, :3] @ corners + grid_affine[:3, 3:4]).T


def test_default_asl_grid_hand_values():
    grid = acquisition_grid(np.eye(4), (197, 233, 189), (64, 64, 12))
    assert grid.shape == (64, 64, 12)
    assert np.allclose(grid.voxel_size, (197 / 64, 233 / 64, 189 / 12))
    # D3: voxel 0 is centred on source index (s - 1)/2, e.g. 7.375 along z at 64x64x12
    assert np.allclose(grid.affine[:3, 3], ((197 / 64 - 1) / 2, (233 / 64 - 1) / 2, 7.375))


@pytest.mark.parametrize("name", sorted(SOURCE_AFFINES))
@pytest.mark.parametrize("matrix", [(64, 64, 12), (96, 96, 24), (20, 30, 40)])
def test_grid_is_centred_with_the_same_field_of_view(name, matrix):
    src_affine, src_shape = SOURCE_AFFINES[name], (40, 48, 36)
    grid = acquisition_grid(src_affine, src_shape, matrix)
    assert np.allclose(mean_world(grid.affine, grid.shape), mean_world(src_affine, src_shape))
    assert np.allclose(fov_corners(grid.affine, grid.shape), fov_corners(src_affine, src_shape))


@pytest.mark.parametrize("name", sorted(SOURCE_AFFINES))
def test_voxel_size_uses_the_source_zoom(name):
    src_affine = SOURCE_AFFINES[name]
    grid = acquisition_grid(src_affine, (40, 48, 36), (10, 16, 9))
    source_zoom = np.linalg.norm(src_affine[:3, :3], axis=0)
    assert np.allclose(grid.voxel_size, source_zoom * (4.0, 3.0, 4.0))
    # axis directions (rotation and flips) are those of the source
    directions = grid.affine[:3, :3] / grid.voxel_size
    assert np.allclose(directions, src_affine[:3, :3] / source_zoom)


@pytest.mark.parametrize("name", sorted(SOURCE_AFFINES))
def test_same_matrix_gives_the_source_affine(name):
    grid = acquisition_grid(SOURCE_AFFINES[name], (40, 48, 36), (40, 48, 36))
    assert np.array_equal(grid.affine, SOURCE_AFFINES[name])


def test_grid_voxel_size_is_column_norms():
    grid = Grid(
        shape=(2, 3, 4), affine=affine(rotation_z(30) @ np.diag([2.0, 3.0, 4.0]), (0, 0, 0))
    )
    assert np.allclose(grid.voxel_size, (2, 3, 4))
    assert grid.shape == (2, 3, 4)


def test_rejects_empty_matrix():
    with pytest.raises(ValueError):
        acquisition_grid(np.eye(4), (10, 10, 10), (0, 10, 10))


def test_grids_compare_by_value_and_are_immutable():
    matrix = affine(np.diag([2.0, 2.0, 3.0]), (1, 2, 3))
    first, second = Grid((4, 5, 6), matrix), Grid([4, 5, 6], matrix.copy())
    assert first == second and hash(first) == hash(second)
    assert first != Grid((4, 5, 7), matrix)
    assert {first: "a"}[second] == "a"
    matrix[0, 0] = 9.0  # the grid keeps its own copy
    assert first.voxel_size[0] == 2.0
    with pytest.raises(ValueError):
        first.affine[0, 0] = 5.0
    with pytest.raises(ValueError):
        Grid((4, 5), np.eye(4))
