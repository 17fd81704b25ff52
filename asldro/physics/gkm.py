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

import math
from typing import NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike

from asldro.physics import bolus
from asldro.physics import dispersion as dispersion_model
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
    label_duration: ArrayLike,
    signal_time: ArrayLike,
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
    label_duration, signal_time : float or array_like
        tau (s) and t (s) (arrays broadcast, e.g. the delivery window of a QUIPSS cut-off).
    label_efficiency : float
        alpha.
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
    label_duration: ArrayLike,
    signal_time: ArrayLike,
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


def _broadcast_result(value: np.ndarray, *inputs: ArrayLike) -> np.ndarray:
    """``value`` broadcast to the shape of all ``inputs`` (a model that ignores an input still
    returns the shape the full model would), as a new float64 array."""
    shape = np.broadcast_shapes(np.shape(value), *(np.shape(x) for x in inputs))
    return np.array(np.broadcast_to(value, shape), dtype=np.float64)


class _BloodModelTerms(NamedTuple):
    """What the simplified models (no tissue T1) share: the label kind, the amplitude
    2·α·M0b·f_s, Δt, t, τ, T1b and 1/T1b, and the regimes of docs/physics.md §4.2 where T1b > 0."""

    kind: str
    amplitude: np.ndarray
    dt: np.ndarray
    t: np.ndarray
    tau: np.ndarray
    t1b: np.ndarray
    r1_blood: np.ndarray
    arriving: np.ndarray
    arrived: np.ndarray


# pylint: disable-next=too-many-locals  # the shared terms of docs/physics.md §4.7, named as there
def _blood_model_terms(
    label_type: str,
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: ArrayLike,
    signal_time: ArrayLike,
    label_efficiency: float,
    lambda_blood_brain: ArrayLike,
    t1_arterial_blood: ArrayLike,
) -> _BloodModelTerms:
    kind = _label_kind(label_type)
    f_s = _f64(perfusion_rate) / 6000.0
    m0_blood = safe_divide(m0, lambda_blood_brain)
    dt = _f64(transit_time)
    t = _f64(signal_time)
    tau = _f64(label_duration)
    t1b = _f64(t1_arterial_blood)
    valid = t1b > 0
    arriving, arrived = _regimes(dt, t, tau)
    r1_blood = safe_divide(1.0, np.where(valid, t1b, 0.0))
    amplitude = 2.0 * _f64(label_efficiency) * m0_blood * f_s
    return _BloodModelTerms(
        kind, amplitude, dt, t, tau, t1b, r1_blood, arriving & valid, arrived & valid
    )


# pylint: disable-next=too-many-locals  # the terms of docs/physics.md §4.7.1, named as there
def whitepaper_delta_m(
    label_type: str,
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: ArrayLike,
    signal_time: ArrayLike,
    label_efficiency: float,
    lambda_blood_brain: ArrayLike,
    t1_arterial_blood: ArrayLike,
) -> np.ndarray:
    """ΔM of ASLDRO develop's ``whitepaper`` model (docs/physics.md §4.7.1).

    ΔM = 0 until the bolus has fully arrived (t < Δt + τ; t = Δt + τ counts as arrived, as
    develop's code, D33), then the single-subtraction forms the white paper inverts (Alsop et al.
    2015, doi 10.1002/mrm.25197, Eq. 1 and Eq. 2)::

        (p)CASL: dM = 2*alpha*M0b*f_s*T1b*exp(-(t - tau)/T1b)*(1 - exp(-tau/T1b))
        PASL:    dM = 2*alpha*M0b*f_s*tau*exp(-t/T1b)

    No tissue T1; 0 where T1b <= 0. Element-wise and broadcasting, float64.
    """
    terms = _blood_model_terms(
        label_type,
        perfusion_rate,
        transit_time,
        m0,
        label_duration=label_duration,
        signal_time=signal_time,
        label_efficiency=label_efficiency,
        lambda_blood_brain=lambda_blood_brain,
        t1_arterial_blood=t1_arterial_blood,
    )
    t, tau, t1b, r1_blood, arrived = terms.t, terms.tau, terms.t1b, terms.r1_blood, terms.arrived
    amplitude = terms.amplitude
    if terms.kind == "pasl":
        shape = tau * _exp_masked(-t * r1_blood, arrived)
    else:
        shape = t1b * _exp_masked(-(t - tau) * r1_blood, arrived) * -np.expm1(-tau * r1_blood)
    return np.where(arrived, amplitude * shape, 0.0).astype(np.float64)


# pylint: disable-next=too-many-locals  # the terms of docs/physics.md §4.7.2, named as there
def consensus_delta_m(
    label_type: str,
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: ArrayLike,
    signal_time: ArrayLike,
    label_efficiency: float,
    lambda_blood_brain: ArrayLike,
    t1_arterial_blood: ArrayLike,
) -> np.ndarray:
    """ΔM of the consensus model (Woods et al. 2024, doi 10.1002/mrm.30091, Eq. 2 and Eq. 3 as
    transcribed by ASLPrep; docs/physics.md §4.7.2), without background suppression (α_BS = 1)::

        (p)CASL arriving: dM = 2*alpha*M0b*f_s*T1b*exp(-dt/T1b)*(1 - exp(-(t - dt)/T1b))
        (p)CASL arrived:  dM = 2*alpha*M0b*f_s*T1b*exp(-(t - tau)/T1b)*(1 - exp(-tau/T1b))
        PASL arriving:    dM = 2*alpha*M0b*f_s*(t - dt)*exp(-t/T1b)
        PASL arrived:     dM = 2*alpha*M0b*f_s*tau*exp(-t/T1b)      (tau = TI1 with a cut-off)

    with the regimes of docs/physics.md §4.2: the full model with T1app = T1b (no tissue T1).
    Continuous in t; 0 where T1b <= 0. Element-wise and broadcasting, float64.
    """
    terms = _blood_model_terms(
        label_type,
        perfusion_rate,
        transit_time,
        m0,
        label_duration=label_duration,
        signal_time=signal_time,
        label_efficiency=label_efficiency,
        lambda_blood_brain=lambda_blood_brain,
        t1_arterial_blood=t1_arterial_blood,
    )
    dt, t, tau, t1b, r1_blood = terms.dt, terms.t, terms.tau, terms.t1b, terms.r1_blood
    arriving, arrived, amplitude = terms.arriving, terms.arrived, terms.amplitude
    if terms.kind == "pasl":
        decay = _exp_masked(-t * r1_blood, arriving | arrived)
        shape = decay * np.where(arriving, t - dt, tau)
    else:
        shape_arriving = (
            t1b
            * _exp_masked(-dt * r1_blood, arriving)
            * -np.expm1(-np.where(arriving, t - dt, 0.0) * r1_blood)
        )
        shape_arrived = (
            t1b * _exp_masked(-(t - tau) * r1_blood, arrived) * -np.expm1(-tau * r1_blood)
        )
        shape = np.where(arriving, shape_arriving, shape_arrived)
    return np.where(arriving | arrived, amplitude * shape, 0.0).astype(np.float64)


def _label_kind(label_type: str) -> str:
    kind = label_type.lower()
    if kind not in LABEL_TYPES:
        raise ValueError(f"label_type must be one of {LABEL_TYPES}, got {label_type!r}")
    return kind


# --- the full model with a dispersed bolus (docs/physics.md §4.10, §4.11) -------------------

# Rows of distinct voxels evaluated together: rows * nodes stays below this many elements.
_CHUNK_ELEMENTS = 1 << 18
# |y| below which phi2 and chi are evaluated by their series (terms to y^10: error < 1e-18).
_SERIES_LIMIT = 0.1
_SERIES_TERMS = 11


def _second_integral_factor(y: np.ndarray, grown: np.ndarray) -> np.ndarray:
    """``phi2(y) = (expm1(y) - y)/y²`` where not ``grown``, ``chi(y) = (y*e^y - expm1(y))/y²``
    where ``grown``; y <= 0, both 1/2 at y = 0 (docs/physics.md §4.11).

    ``x² * phi2(y)`` is ∫∫ exp (the second integral of a decaying exponential) and, for a growing
    exponential z = -y > 0, ``phi2(z) = exp(z) * chi(y)``. Series where |y| < 0.1.
    """
    expm1 = np.expm1(y)
    numerator = np.where(grown, y * (expm1 + 1.0) - expm1, expm1 - y)
    out = np.full(y.shape, 0.5)
    np.divide(numerator, y * y, out=out, where=y != 0)
    small = np.abs(y) < _SERIES_LIMIT
    if np.any(small):
        y_small, grown_small = y[small], grown[small]
        series = np.zeros(y_small.shape)
        for m in range(_SERIES_TERMS - 1, -1, -1):  # Σ c_m y^m, Horner
            coefficient = 1.0 / math.factorial(m + 2)
            series = series * y_small + np.where(grown_small, (m + 1) * coefficient, coefficient)
        out[small] = series
    return out


def _step_response(
    casl: bool,
    onset: np.ndarray,
    t: np.ndarray,
    lower: np.ndarray,
    r1_app: np.ndarray,
    r1_blood: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(Ψ, A)`` of docs/physics.md §4.11 for a delivery step starting at ``onset``.

    Ψ(b) = ∫_{max(b, L)}^{t} w(t') exp(-(t - t') R1app) dt' (w = 1 for CASL, exp(-t'/T1b) for
    PASL) and A its antiderivative in b with A(b >= t) = 0. All arrays broadcast.
    """
    x = np.maximum(t - np.maximum(onset, lower), 0.0)
    before_window = np.minimum(onset - lower, 0.0)  # < 0 where the step starts before L
    if casl:
        y = -r1_app * x
        first = x * _expm1_ratio_nonpositive(y)
        second = x * x * _second_integral_factor(y, np.zeros(y.shape, dtype=bool))
    else:
        z = (r1_blood - r1_app) * x
        scale = np.exp(-t * r1_blood + np.maximum(z, 0.0))  # exponent <= 0 since x <= t
        negative_z = -np.abs(z)
        first = x * scale * _expm1_ratio_nonpositive(negative_z)
        second = x * x * scale * _second_integral_factor(negative_z, z > 0)
    return first, first * before_window - second


def _edge_integral(
    casl: bool,
    cells: dispersion_model.KernelCells,
    onset: np.ndarray,
    scale: np.ndarray,
    t: np.ndarray,
    lower: np.ndarray,
    r1_app: np.ndarray,
    r1_blood: np.ndarray,
) -> np.ndarray:
    """∫ h(z) Ψ(onset + scale*z) dz by the cell rule of docs/physics.md §4.11 (1-D rows)."""
    column = (slice(None), None)
    psi, antiderivative = _step_response(
        casl,
        onset[column] + scale[column] * cells.nodes[None, :],
        t[column],
        lower[column],
        r1_app[column],
        r1_blood[column],
    )
    cell_integral = np.diff(antiderivative, axis=1) / scale[column]
    total = cell_integral @ cells.density + np.diff(psi, axis=1) @ cells.slope
    return cast(np.ndarray, total + cells.tail_low * psi[:, 0] + cells.tail_high * psi[:, -1])


# pylint: disable-next=too-many-locals  # the terms of docs/physics.md §4.10, §4.11
def dispersed_delta_m(
    label_type: str,
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    t1_tissue: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: ArrayLike,
    signal_time: ArrayLike,
    label_efficiency: float,
    lambda_blood_brain: ArrayLike,
    t1_arterial_blood: ArrayLike,
    dispersion: dispersion_model.Dispersion,
    window_start: ArrayLike = 0.0,
) -> np.ndarray:
    """ΔM of the full model with a dispersed bolus (docs/physics.md §4.10, §4.11)::

        dM = 2*alpha*M0b*f_s * W * (I1 - I2),  I_e = ∫ h_e(u) Ψ(Δt_e + u) du

    Ψ is the tissue response at t to a delivery step starting at b, counted from
    ``window_start`` L (QUIPSS, docs/physics.md §4.8) with residue exp(-(t - t')/T1app);
    leading edge Δt_1 = Δt, trailing edge Δt_2 = Δt + τ; W = exp(-Δt/T1b) for (p)CASL (Fabber's
    convention), 1 for PASL (exp(-t'/T1b) is inside Ψ); 0 where T1b <= 0. The kernel integral is
    the cell rule of §4.11, evaluated once per distinct (Δt, T1app, t, τ, L, T1b) and vectorised.
    """
    kind = _label_kind(label_type)
    f_s, m0_blood, r1_app = _common_terms(perfusion_rate, m0, t1_tissue, lambda_blood_brain)
    t1b = _f64(t1_arterial_blood)
    columns = [_f64(transit_time), r1_app, _f64(signal_time), _f64(label_duration)]
    columns += [_f64(window_start), t1b]
    shape = np.broadcast_shapes(*(c.shape for c in columns))
    # the distinct combinations of the columns that vary (constant columns are not stacked)
    varying = [i for i, c in enumerate(columns) if c.size != 1]
    if varying:
        keys = np.stack([np.broadcast_to(columns[i], shape).ravel() for i in varying], axis=1)
        keys, inverse = np.unique(keys, axis=0, return_inverse=True)
    else:
        keys, inverse = np.zeros((1, 0)), np.zeros(1, dtype=np.intp)
    rows = np.empty((keys.shape[0], len(columns)))
    for i, column in enumerate(columns):
        rows[:, i] = keys[:, varying.index(i)] if i in varying else column.ravel()[0]
    dt, r1, t, tau, lower, t1b_rows = rows.T
    valid = t1b_rows > 0
    r1_blood = safe_divide(1.0, np.where(valid, t1b_rows, 0.0))
    leading_scale, trailing_scale = dispersion_model.edge_scales(dispersion, kind, dt, tau)
    cells = dispersion_model.kernel_cells(dispersion)
    casl = kind != "pasl"
    difference = np.zeros(rows.shape[0])
    step = max(1, _CHUNK_ELEMENTS // cells.nodes.size)
    for begin in range(0, rows.shape[0], step):
        part = slice(begin, begin + step)
        common = (t[part], lower[part], r1[part], r1_blood[part])
        difference[part] = _edge_integral(
            casl, cells, dt[part], leading_scale[part], *common
        ) - _edge_integral(casl, cells, dt[part] + tau[part], trailing_scale[part], *common)
    weight = np.where(valid, np.exp(-dt * r1_blood) if casl else 1.0, 0.0)
    positive = (t > 0) & valid
    shape_factor = np.where(positive, np.maximum(weight * difference, 0.0), 0.0)
    shape_factor = shape_factor[inverse.ravel()].reshape(shape)
    amplitude = 2.0 * _f64(label_efficiency) * m0_blood * f_s
    return np.asarray(amplitude * shape_factor, dtype=np.float64)


# --- the one entry point --------------------------------------------------------------------

MODELS = ("full", "whitepaper", "consensus")


# pylint: disable-next=too-many-locals  # the agreed API's 13 keyword parameters (§4.7) are locals
def delta_m(
    label_type: str,
    perfusion_rate: ArrayLike,
    transit_time: ArrayLike,
    t1_tissue: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: ArrayLike,
    signal_time: ArrayLike,
    label_efficiency: float,
    lambda_blood_brain: float,
    t1_arterial_blood: float,
    model: str = "full",
    dispersion: dispersion_model.Dispersion | None = None,
    bolus_cut_off: bolus.BolusCutOff | None = None,
) -> np.ndarray:
    """Tissue ΔM for ``label_type`` "casl", "pcasl" or "pasl" and ``model`` (case-insensitive).

    * ``model="full"`` (docs/physics.md §4.3-§4.5): :func:`casl_delta_m` / :func:`pasl_delta_m`;
      with a ``dispersion`` other than none: :func:`dispersed_delta_m` (§4.10).
    * ``"whitepaper"``: :func:`whitepaper_delta_m` (§4.7.1); ``"consensus"``:
      :func:`consensus_delta_m` (§4.7.2). They do not use ``t1_tissue``; a dispersion other than
      none raises ValueError.
    * ``bolus_cut_off`` (PASL only, else ValueError; §4.8): QUIPSS II / Q2TIPS cut the bolus
      width to ``min(TI1, label_duration)``; QUIPSS counts the delivery after TI1 only
      (:func:`asldro.physics.bolus.delivery_window`).

    Without a dispersion and a cut-off, ``model="full"`` returns exactly the numbers of
    :func:`casl_delta_m` / :func:`pasl_delta_m`.
    """
    kind = _label_kind(label_type)
    model_name = str(model).lower()
    if model_name not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    dispersed = dispersion if dispersion_model.is_dispersed(dispersion) else None
    if dispersed is not None and model_name != "full":
        raise ValueError(
            f"dispersion ({dispersed.kind}) is defined for the full model only, "
            f"got model {model!r}"
        )
    bolus.check_label_type(kind, bolus_cut_off)
    common = {"label_efficiency": label_efficiency, "lambda_blood_brain": lambda_blood_brain}
    common["t1_arterial_blood"] = t1_arterial_blood
    if dispersed is not None:
        lower = bolus.window_start(signal_time, bolus_cut_off)
        return dispersed_delta_m(
            kind,
            perfusion_rate,
            transit_time,
            t1_tissue,
            m0,
            label_duration=bolus.effective_bolus_duration(label_duration, bolus_cut_off),
            signal_time=signal_time,
            dispersion=dispersed,
            window_start=lower,
            **common,
        )
    transit: ArrayLike
    tau: ArrayLike
    if bolus_cut_off is None:
        transit, tau = transit_time, label_duration
    else:
        transit, tau = bolus.delivery_window(
            transit_time, label_duration, signal_time, bolus_cut_off
        )
    if model_name == "full":
        full = casl_delta_m if kind in ("casl", "pcasl") else pasl_delta_m
        return full(
            perfusion_rate,
            transit,
            t1_tissue,
            m0,
            label_duration=tau,
            signal_time=signal_time,
            **common,
        )
    simplified = whitepaper_delta_m if model_name == "whitepaper" else consensus_delta_m
    result = simplified(
        kind, perfusion_rate, transit, m0, label_duration=tau, signal_time=signal_time, **common
    )
    return _broadcast_result(result, t1_tissue)
