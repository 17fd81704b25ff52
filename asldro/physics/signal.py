"""MRI signal models: spin echo, gradient echo and inversion recovery (docs/physics.md §5).

Definitions (plain text, element-wise, ``⊘`` = safe division; θ excitation and φ inversion flip
angles, given in degrees and converted to radians inside)::

    E1 = exp(-TR ⊘ T1)   E2 = exp(-TE ⊘ T2)   E2s = exp(-TE ⊘ T2*)   E2TR = exp(-TR ⊘ T2)
    Ei = exp(-TI ⊘ T1)

``m_enc`` (Menc) is the encoded magnetisation added before the echo decay: ``-ΔM`` for an ASL
label volume, 0 for control, m0scan and structural images. With equal TR and TE,
``control - label`` is ``ΔM*E2`` (se), ``sin θ*ΔM*E2s`` (ge) and ``sin θ*ΔM*E2`` (ir).

Literature: Bernstein MA, King KF, Zhou XJ, *Handbook of MRI Pulse Sequences* (Elsevier 2004,
ISBN 978-0-12-092861-3), §14.3 radiofrequency spin echo (se), §14.1 gradient echo (ge: the
steady state of docs/physics.md §5.3), §14.2 inversion recovery (ir); the equations as implemented
are written out in docs/physics.md §5.2-§5.4.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from asldro.physics import safe_divide

CONTRASTS = ("se", "ge", "ir")


def _relaxation(time: ArrayLike, constant: ArrayLike) -> np.ndarray:
    """``exp(-time ⊘ constant)``: equal to 1 where the constant is 0 (docs/physics.md §5)."""
    factor: np.ndarray = np.exp(-safe_divide(time, constant))
    return factor


def _check_timing(repetition_time: float, echo_time: float) -> None:
    if np.any(np.asarray(repetition_time) < np.asarray(echo_time)):
        raise ValueError(f"repetition_time ({repetition_time}) must be >= echo_time ({echo_time})")


def spin_echo(
    m0: ArrayLike,
    t1: ArrayLike,
    t2: ArrayLike,
    *,
    repetition_time: float,
    echo_time: float,
    m_enc: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Spin echo signal ``S = (M0*(1 - E1) + Menc) * E2`` (docs/physics.md §5, se).

    The flip angle is not used (reported as 90 degrees). Raises ValueError if TR < TE.
    """
    _check_timing(repetition_time, echo_time)
    e1 = _relaxation(repetition_time, t1)
    e2 = _relaxation(echo_time, t2)
    signal = (np.asarray(m0, dtype=np.float64) * (1.0 - e1) + m_enc) * e2
    return np.asarray(signal, dtype=np.float64)


def gradient_echo(
    m0: ArrayLike,
    t1: ArrayLike,
    t2: ArrayLike,
    t2_star: ArrayLike,
    *,
    repetition_time: float,
    echo_time: float,
    flip_angle: float,
    m_enc: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Gradient echo signal (docs/physics.md §5, ge)::

        S = sin θ * [ M0*(1 - E1) ⊘ (1 - cos θ*E1 - E2TR*(E1 - cos θ)) + Menc ] * E2s

    T2 enters the TR term, T2* the TE decay. ``flip_angle`` θ is in degrees.
    Raises ValueError if TR < TE.
    """
    _check_timing(repetition_time, echo_time)
    theta = np.deg2rad(np.float64(flip_angle))
    e1 = _relaxation(repetition_time, t1)
    e2_tr = _relaxation(repetition_time, t2)
    e2_star = _relaxation(echo_time, t2_star)
    steady_state = safe_divide(
        np.asarray(m0, dtype=np.float64) * (1.0 - e1),
        1.0 - np.cos(theta) * e1 - e2_tr * (e1 - np.cos(theta)),
    )
    signal = np.sin(theta) * (steady_state + m_enc) * e2_star
    return np.asarray(signal, dtype=np.float64)


# pylint: disable-next=too-many-locals  # the terms of docs/physics.md §5, named as there
def inversion_recovery(
    m0: ArrayLike,
    t1: ArrayLike,
    t2: ArrayLike,
    *,
    repetition_time: float,
    echo_time: float,
    inversion_time: float,
    flip_angle: float,
    inversion_flip_angle: float,
    m_enc: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Inversion recovery signal (docs/physics.md §5, ir)::

        S = sin θ * [ M0*(1 - (1 - cos φ)*Ei - cos φ*E1) ⊘ (1 - cos θ*cos φ*E1) + Menc ] * E2

    Uses T2 (not T2*); can be negative (e.g. near the null of a tissue). θ (``flip_angle``) and
    φ (``inversion_flip_angle``) are in degrees. Raises ValueError if TR < TE; TR >= TE + TI is
    the caller's (parameter validation's) concern.
    """
    _check_timing(repetition_time, echo_time)
    theta = np.deg2rad(np.float64(flip_angle))
    phi = np.deg2rad(np.float64(inversion_flip_angle))
    e1 = _relaxation(repetition_time, t1)
    e_inv = _relaxation(inversion_time, t1)
    e2 = _relaxation(echo_time, t2)
    recovered = safe_divide(
        np.asarray(m0, dtype=np.float64) * (1.0 - (1.0 - np.cos(phi)) * e_inv - np.cos(phi) * e1),
        1.0 - np.cos(theta) * np.cos(phi) * e1,
    )
    signal = np.sin(theta) * (recovered + m_enc) * e2
    return np.asarray(signal, dtype=np.float64)


def mri_signal(
    contrast: str,
    m0: ArrayLike,
    t1: ArrayLike,
    t2: ArrayLike,
    t2_star: ArrayLike,
    *,
    repetition_time: float,
    echo_time: float,
    flip_angle: float = 90.0,
    inversion_flip_angle: float = 180.0,
    inversion_time: float = 1.0,
    m_enc: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Signal for ``contrast`` "se", "ge" or "ir" (case-insensitive; docs/physics.md §5).

    Dispatches to :func:`spin_echo`, :func:`gradient_echo` or :func:`inversion_recovery`;
    arguments a model does not use are ignored. Angles in degrees, times in seconds.
    """
    kind = contrast.lower()
    if kind == "se":
        return spin_echo(
            m0, t1, t2, repetition_time=repetition_time, echo_time=echo_time, m_enc=m_enc
        )
    if kind == "ge":
        return gradient_echo(
            m0,
            t1,
            t2,
            t2_star,
            repetition_time=repetition_time,
            echo_time=echo_time,
            flip_angle=flip_angle,
            m_enc=m_enc,
        )
    if kind == "ir":
        return inversion_recovery(
            m0,
            t1,
            t2,
            repetition_time=repetition_time,
            echo_time=echo_time,
            inversion_time=inversion_time,
            flip_angle=flip_angle,
            inversion_flip_angle=inversion_flip_angle,
            m_enc=m_enc,
        )
    raise ValueError(f"contrast must be one of {CONTRASTS}, got {contrast!r}")


def readout_decay(
    contrast: str,
    t2: ArrayLike,
    t2_star: ArrayLike,
    *,
    echo_time: float,
    flip_angle: float = 90.0,
) -> np.ndarray:
    """The factor a readout applies to an encoded magnetisation: the coefficient of ``Menc``
    in (5.2)-(5.4) of docs/physics.md §5, ``E2`` (se), ``sin θ*E2s`` (ge), ``sin θ*E2`` (ir).

    ``control - label`` of equal TR and TE is ``ΔM * readout_decay`` in every contrast, and
    ``M0 * readout_decay`` (:func:`m0_signal_scale`) is the signal of a fully relaxed M0 read
    out the same way (docs/physics.md §5.8). ``flip_angle`` θ in degrees (se ignores it).
    """
    kind = contrast.lower()
    if kind == "se":
        return _relaxation(echo_time, t2)
    theta = np.deg2rad(np.float64(flip_angle))
    if kind == "ge":
        return np.asarray(np.sin(theta) * _relaxation(echo_time, t2_star), dtype=np.float64)
    if kind == "ir":
        return np.asarray(np.sin(theta) * _relaxation(echo_time, t2), dtype=np.float64)
    raise ValueError(f"contrast must be one of {CONTRASTS}, got {contrast!r}")


def m0_signal_scale(
    contrast: str,
    m0: ArrayLike,
    t2: ArrayLike,
    t2_star: ArrayLike,
    *,
    echo_time: float,
    flip_angle: float = 90.0,
) -> np.ndarray:
    """The M0 signal scale of a readout, ``M0 * readout_decay`` (:func:`readout_decay`): se
    ``M0*E2``, ge ``M0*sin θ*E2s``, ir ``M0*sin θ*E2`` (docs/physics.md §5.8). It is what a
    white-paper quantification divides ΔM by (the calibration of a ``cbf`` volume) and what
    ``M0Estimate`` states."""
    decay = readout_decay(contrast, t2, t2_star, echo_time=echo_time, flip_angle=flip_angle)
    return np.asarray(np.asarray(m0, dtype=np.float64) * decay, dtype=np.float64)
