"""General Kinetic Model (Buxton 1998) for the ASL difference signal ΔM (docs/physics.md §4, D1).

Shared definitions (plain text, element-wise, ``⊘`` = safe division)::

    f_s   = f / 6000                    ml/100g/min -> 1/s
    M0b   = M0 ⊘ lam
    R1app = (1 ⊘ T1) + (f_s / lam if lam != 0 else 0)
    T1app = 1 ⊘ R1app

Regimes per voxel: not arrived (0 < t <= dt) -> 0; arriving (dt < t < dt + tau) -> formula B;
arrived (t >= dt + tau) -> formula C; anything else (e.g. t = 0) -> 0.

Exponentials are only evaluated on arguments that are <= 0 inside their regime, so no overflow
or RuntimeWarning occurs for any non-negative input, background (T1 = f = M0 = 0) included.

Literature: Buxton RB, Frank LR, Wong EC, et al., A general kinetic model for quantitative
perfusion imaging with arterial spin labeling, Magn Reson Med 1998;40:383-396,
doi 10.1002/mrm.1910400308, Theory section (the pulsed and continuous solutions, written out as
docs/physics.md §4.3-§4.4); the PASL k -> 0 limit in stable form is docs/physics.md §4.5.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from asldro.physics import safe_divide

LABEL_TYPES = ("casl", "pcasl", "pasl")


def _f64(value: ArrayLike) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _common_terms(
    perfusion_rate: ArrayLike, m0: ArrayLike, t1_tissue: ArrayLike, lambda_blood_brain: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(f_s, M0b, R1app)`` of docs/physics.md §4 (``T1app = 1 ⊘ R1app``)."""
    f_s = _f64(perfusion_rate) / 6000.0
    lam = _f64(lambda_blood_brain)
    m0_blood = safe_divide(m0, lam)
    r1_app = safe_divide(1.0, t1_tissue) + safe_divide(f_s, lam)
    return f_s, m0_blood, r1_app


def _regimes(
    transit_time: ArrayLike, signal_time: ArrayLike, label_duration: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks ``(arriving, arrived)`` of docs/physics.md §4 (both require t > 0)."""
    dt = _f64(transit_time)
    t = _f64(signal_time)
    tau = _f64(label_duration)
    arriving = (t > 0) & (dt < t) & (t < dt + tau)
    arrived = (t > 0) & (t >= dt + tau)
    return arriving, arrived


def _exp_masked(argument: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``exp(argument)`` where ``mask``; 1 elsewhere (never overflows outside the regime)."""
    return np.exp(np.where(mask, argument, 0.0))


def _expm1_ratio_nonpositive(x: np.ndarray) -> np.ndarray:
    """``expm1(-|x|) / (-|x|)``, equal to 1 at x = 0; bounded in (0, 1] (docs/physics.md D1)."""
    y = -np.abs(x)
    out = np.ones(y.shape, dtype=np.float64)
    np.divide(np.expm1(y), y, out=out, where=y != 0)
    return out


# pylint: disable-next=too-many-locals  # the terms of docs/physics.md §4, named as there
def casl_delta_m(
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    t1_tissue: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: float,
    signal_time: float,
    label_efficiency: float,
    lambda_blood_brain: float,
    t1_arterial_blood: float,
) -> np.ndarray:
    """ΔM for continuous and pseudo-continuous labelling (docs/physics.md §4, formulas B and C).

    ::

        B: dM = 2*alpha*M0b*f_s*T1app*exp(-dt/T1b) * (1 - exp(-(t - dt) ⊘ T1app))
        C: dM = 2*alpha*M0b*f_s*T1app*exp(-dt/T1b) * exp(-(t - tau - dt) ⊘ T1app)
                                                   * (1 - exp(-tau ⊘ T1app))

    ``exp(-dt/T1b)`` is 0 where T1b <= 0.

    Parameters
    ----------
    perfusion_rate, transit_time, t1_tissue, m0 : array_like
        f (ml/100g/min), dt (s), tissue T1 (s) and M0; floats, lookup tables or maps.
    label_duration, signal_time, label_efficiency : float
        tau (s), t (s) and alpha.
    lambda_blood_brain, t1_arterial_blood : float
        lam (blood-brain partition coefficient) and T1b (s).

    Returns
    -------
    numpy.ndarray
        ΔM (float64) with the broadcast shape of the inputs.
    """
    f_s, m0_blood, r1_app = _common_terms(perfusion_rate, m0, t1_tissue, lambda_blood_brain)
    t1_app = safe_divide(1.0, r1_app)
    dt = _f64(transit_time)
    t = _f64(signal_time)
    tau = _f64(label_duration)
    t1b = _f64(t1_arterial_blood)
    arriving, arrived = _regimes(dt, t, tau)

    blood_decay = np.where(t1b > 0, np.exp(-safe_divide(dt, t1b)), 0.0)
    amplitude = 2.0 * _f64(label_efficiency) * m0_blood * f_s * t1_app * blood_decay

    # B: 1 - exp(-(t - dt) ⊘ T1app), computed as -expm1 for accuracy near arrival
    formula_b = -np.expm1(-safe_divide(np.where(arriving, t - dt, 0.0), t1_app))
    # C: exp(-(t - tau - dt) ⊘ T1app) * (1 - exp(-tau ⊘ T1app))
    decay_after_bolus = _exp_masked(-safe_divide(t - tau - dt, t1_app), arrived)
    formula_c = decay_after_bolus * -np.expm1(-safe_divide(tau, t1_app))

    shape_factor = np.where(arriving, formula_b, np.where(arrived, formula_c, 0.0))
    return np.asarray(amplitude * shape_factor, dtype=np.float64)


# pylint: disable-next=too-many-locals  # the terms of docs/physics.md §4, named as there
def pasl_delta_m(
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    t1_tissue: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: float,
    signal_time: float,
    label_efficiency: float,
    lambda_blood_brain: float,
    t1_arterial_blood: float,
) -> np.ndarray:
    """ΔM for pulsed labelling (docs/physics.md §4 PASL, with the stable forms of D1).

    tau is the temporal bolus width and t the inversion time TI::

        k  = (1/T1b if T1b != 0 else 0) - (1 ⊘ T1app)
        B: dM = 2*alpha*M0b*f_s*(t - dt)*exp(-t/T1b) * qB,  qB = expm1(x)/x,  x = k*(t - dt)
        C: dM = 2*alpha*M0b*f_s*tau     *exp(-t/T1b) * qC,
           qC = exp(k*(t - dt)) * (-expm1(-k*tau))/(k*tau)

    with q = 1 where its argument is 0 (the true k -> 0 limit; ASLDRO 2.2.0 gives 0 there, D1).
    ``exp(-t/T1b)`` is 0 where T1b <= 0. For k != 0 these equal the §4 expressions. The
    products ``exp(-t/T1b) * q`` are evaluated as ``exp(e) * expm1(-|z|)/(-|z|)`` with an
    exponent ``e <= 0``, so large |k| neither overflows nor loses precision.

    Parameters and return value as :func:`casl_delta_m`.
    """
    f_s, m0_blood, r1_app = _common_terms(perfusion_rate, m0, t1_tissue, lambda_blood_brain)
    dt = _f64(transit_time)
    t = _f64(signal_time)
    tau = _f64(label_duration)
    t1b = _f64(t1_arterial_blood)
    arriving, arrived = _regimes(dt, t, tau)

    blood_valid = t1b > 0
    r1_blood = safe_divide(1.0, np.where(blood_valid, t1b, 0.0))
    k = r1_blood - r1_app  # 1 ⊘ T1app == R1app
    log_blood_decay = -t * r1_blood  # exp(-t/T1b), before the T1b <= 0 mask

    # B: exp(-t/T1b) * expm1(x)/x == exp(-t/T1b + max(x, 0)) * expm1(-|x|)/(-|x|)
    x = np.where(arriving, k * (t - dt), 0.0)
    weighted_q_b = _exp_masked(log_blood_decay + np.maximum(x, 0.0), arriving)
    weighted_q_b = weighted_q_b * _expm1_ratio_nonpositive(x)
    # C: exp(-t/T1b) * exp(k(t-dt)) * expm1(-y)/(-y), y = k*tau
    #    == exp(-t/T1b + k(t-dt) - min(y, 0)) * expm1(-|y|)/(-|y|)
    y = np.where(arrived, k * tau, 0.0)
    exponent_c = log_blood_decay + k * (t - dt) - np.minimum(y, 0.0)
    weighted_q_c = _exp_masked(exponent_c, arrived) * _expm1_ratio_nonpositive(y)

    amplitude = 2.0 * _f64(label_efficiency) * m0_blood * f_s * np.where(blood_valid, 1.0, 0.0)
    shape_factor = np.where(
        arriving, (t - dt) * weighted_q_b, np.where(arrived, tau * weighted_q_c, 0.0)
    )
    return np.asarray(amplitude * shape_factor, dtype=np.float64)


def delta_m(
    label_type: str,
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    t1_tissue: ArrayLike,
    m0: ArrayLike,
    **kwargs: float,
) -> np.ndarray:
    """ΔM for ``label_type`` "casl", "pcasl" (:func:`casl_delta_m`) or "pasl"
    (:func:`pasl_delta_m`), case-insensitive (docs/physics.md §4). ``kwargs`` are their keywords."""
    kind = label_type.lower()
    if kind in ("casl", "pcasl"):
        return casl_delta_m(perfusion_rate, transit_time, t1_tissue, m0, **kwargs)
    if kind == "pasl":
        return pasl_delta_m(perfusion_rate, transit_time, t1_tissue, m0, **kwargs)
    raise ValueError(f"label_type must be one of {LABEL_TYPES}, got {label_type!r}")
