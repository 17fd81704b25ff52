"""Motion conventions (docs/physics.md §6): degrees, right-handed, about the world origin,
M = T @ Rx @ Ry @ Rz (z first, then y, then x, then translation)."""

import numpy as np
import pytest

from asldro.acquisition.motion import motion_matrix
from asldro.params.types import Motion


def moved(motion: Motion, point) -> np.ndarray:
    return (motion_matrix(motion) @ np.append(np.asarray(point, dtype=float), 1.0))[:3]


def test_zero_motion_is_identity():
    assert np.array_equal(motion_matrix(Motion()), np.eye(4))


@pytest.mark.parametrize(
    "motion, point, expected",
    [
        # right-handed quarter turns: x -> y about z, y -> z about x, z -> x about y
        (Motion(rot_z=90), (1, 0, 0), (0, 1, 0)),
        (Motion(rot_x=90), (0, 1, 0), (0, 0, 1)),
        (Motion(rot_y=90), (0, 0, 1), (1, 0, 0)),
        (Motion(rot_z=-90), (1, 0, 0), (0, -1, 0)),
        (Motion(transl_x=1.5, transl_y=-2, transl_z=3), (1, 1, 1), (2.5, -1, 4)),
    ],
)
def test_single_axis_conventions(motion, point, expected):
    assert np.allclose(moved(motion, point), expected, atol=1e-12)


def test_rotation_is_about_the_world_origin():
    # a point 10 mm along x, turned a quarter about z, lands 10 mm along y (not about itself)
    assert np.allclose(moved(Motion(rot_z=90), (10, 0, 0)), (0, 10, 0), atol=1e-12)


def test_order_z_then_y_then_x_then_translation():
    motion = Motion(rot_x=90, rot_y=90, rot_z=90, transl_x=10)
    # (1,0,0) --Rz--> (0,1,0) --Ry--> (0,1,0) --Rx--> (0,0,1) --T--> (10,0,1)
    assert np.allclose(moved(motion, (1, 0, 0)), (10, 0, 1), atol=1e-12)
    # (0,0,1) --Rz--> (0,0,1) --Ry--> (1,0,0) --Rx--> (1,0,0) --T--> (11,0,0)
    assert np.allclose(moved(motion, (0, 0, 1)), (11, 0, 0), atol=1e-12)
    # the opposite order (x first) would send (1,0,0) to (0,0,-1) before translation
    assert not np.allclose(moved(motion, (1, 0, 0)), (10, 0, -1), atol=1e-6)


def test_small_rotation_matches_hand_values():
    angle = np.radians(5.0)
    point = moved(Motion(rot_z=5), (2, 0, 0))
    assert np.allclose(point, (2 * np.cos(angle), 2 * np.sin(angle), 0), atol=1e-12)


def test_matrix_is_rigid():
    matrix = motion_matrix(Motion(rot_x=7, rot_y=-13, rot_z=31, transl_x=1, transl_z=-4))
    linear = matrix[:3, :3]
    assert np.allclose(linear @ linear.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(linear), 1.0)
    assert np.array_equal(matrix[3], [0, 0, 0, 1])
    assert np.allclose(matrix[:3, 3], (1, 0, -4))
