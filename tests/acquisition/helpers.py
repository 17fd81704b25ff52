"""Affines and analytic objects shared by the acquisition tests."""

import numpy as np
from scipy.special import erf  # pylint: disable=no-name-in-module


def affine(linear, origin) -> np.ndarray:
    """4x4 affine from a 3x3 linear part and a translation."""
    matrix = np.eye(4)
    matrix[:3, :3] = linear
    matrix[:3, 3] = origin
    return matrix


def rotation_z(degrees: float) -> np.ndarray:
    """3x3 right-handed rotation about z (written out independently of the package)."""
    c, n = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, -n, 0], [n, c, 0], [0, 0, 1.0]])


def world_centres(grid_affine: np.ndarray, shape) -> np.ndarray:
    """World coordinates (..., 3) of every voxel centre."""
    index = np.indices(shape, dtype=float).reshape(3, -1)
    return (grid_affine[:3, :3] @ index + grid_affine[:3, 3:4]).T.reshape(tuple(shape) + (3,))


def gaussian_on_grid(grid_affine, shape, centre, sigma) -> np.ndarray:
    """Isotropic Gaussian blob (peak 1) evaluated at the voxel centres of a grid."""
    distance2 = np.sum((world_centres(grid_affine, shape) - np.asarray(centre)) ** 2, axis=-1)
    return np.exp(-distance2 / (2 * sigma**2))


def gaussian_box_average(voxel_size, origin, shape, centre, sigma) -> np.ndarray:
    """Exact average of the Gaussian blob over each voxel of an axis-aligned grid.

    The blob is separable, so its average over a box is a product of erf differences.
    """
    factors = []
    for k in range(3):
        mid = origin[k] + voxel_size[k] * np.arange(shape[k])
        low, high = mid - voxel_size[k] / 2, mid + voxel_size[k] / 2
        scale = sigma * np.sqrt(2)
        integral = (erf((high - centre[k]) / scale) - erf((low - centre[k]) / scale)) / 2
        factors.append(integral * sigma * np.sqrt(2 * np.pi) / voxel_size[k])
    return factors[0][:, None, None] * factors[1][None, :, None] * factors[2][None, None, :]
