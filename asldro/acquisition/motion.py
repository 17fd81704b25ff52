"""Rigid motion of the imaged object (docs/physics.md §6, "Motion conventions").

Rotations are in degrees, right-handed, about the **world origin**; the object is rotated about
z first, then y, then x, and then translated: ``M = T(transl) @ Rx(rot_x) @ Ry(rot_y) @ Rz(rot_z)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only the attributes are used; keeps this import light
    from asldro.params.types import Motion


def rotation_x(degrees: float) -> np.ndarray:
    """4x4 homogeneous rotation about the world x axis (docs/physics.md §6 ``Rx``)."""
    c, n = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[1, 0, 0, 0], [0, c, -n, 0], [0, n, c, 0], [0, 0, 0, 1]], dtype=np.float64)


def rotation_y(degrees: float) -> np.ndarray:
    """4x4 homogeneous rotation about the world y axis (docs/physics.md §6 ``Ry``)."""
    c, n = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, 0, n, 0], [0, 1, 0, 0], [-n, 0, c, 0], [0, 0, 0, 1]], dtype=np.float64)


def rotation_z(degrees: float) -> np.ndarray:
    """4x4 homogeneous rotation about the world z axis (docs/physics.md §6 ``Rz``)."""
    c, n = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, -n, 0, 0], [n, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float64)


def translation(x: float, y: float, z: float) -> np.ndarray:
    """4x4 homogeneous translation by ``(x, y, z)`` mm (docs/physics.md §6 ``T``)."""
    matrix = np.eye(4)
    matrix[:3, 3] = (x, y, z)
    return matrix


def motion_matrix(motion: Motion) -> np.ndarray:
    """World-space rigid transform that moves the object (docs/physics.md §6).

    Parameters
    ----------
    motion : Motion
        Rotations (degrees) about the world origin and translations (mm).

    Returns
    -------
    numpy.ndarray
        4x4 ``M = T(transl) @ Rx(rot_x) @ Ry(rot_y) @ Rz(rot_z)``: a point ``p`` of the object
        moves to ``M @ p``.
    """
    return (
        translation(motion.transl_x, motion.transl_y, motion.transl_z)
        @ rotation_x(motion.rot_x)
        @ rotation_y(motion.rot_y)
        @ rotation_z(motion.rot_z)
    )
