"""Bolus dispersion: gamma and Gaussian kernels, the dispersed delivery (docs/physics.md §4.10).

A dispersion kernel smooths the two edges of the labelled bolus (the leading edge at the arrival
time Δ, the trailing edge at Δ + τ). With ``E`` the cumulative distribution of an edge's kernel,
the normalised delivery (the arterial input, c(t)/α) is::

    CASL, pCASL:  a(t) = exp(-Δ/T1b) * [E1(t - Δ) - E2(t - Δ - τ)]
    PASL:         a(t) = exp(-t/T1b) * [E1(t - Δ) - E2(t - Δ - τ)]

* ``none``: E1 = E2 = the unit step (the exact boxcar Δ <= t < Δ + τ).
* ``gamma`` (Chappell et al. 2013, doi 10.1002/mrm.24260; Fabber ``AIFModel_gammadisp``, the
  gamma variate of Rausch et al. 2000): both edges ``E(x) = P(k, s*x)``, k = 1 + s*p, with s the
  sharpness (1/s) and p the time to peak (s) of the kernel ``h(x) = s^k x^(k-1) exp(-s x) / Γ(k)``;
  P is the regularised lower incomplete gamma function. Mean delay k/s = p + 1/s.
* ``gauss`` (Hrabe & Lewis 2004, J Magn Reson 167:49, doi 10.1016/j.jmr.2003.11.002 [unverified];
  Fabber ``AIFModel_gaussdisp``): ``E(x) = Φ(x/σ_edge)``. PASL: leading edge σ1 = sigma,
  trailing edge σ2 = sigma*sqrt((Δ + τ)/Δ) (σ2 = sigma where Δ = 0), as Hrabe & Lewis and Fabber.
  CASL/pCASL: both edges sigma (docs/physics.md §4.10 says why not Fabber's CASL expression).

The tissue curve of the dispersed delivery is computed in :mod:`asldro.physics.gkm` by the
quadrature of docs/physics.md §4.11, with the kernel cells of :func:`kernel_cells`.

Everything here is numpy and :mod:`math` only: :func:`regularized_gamma` (P and Q) is the one
implementation of the incomplete gamma function, and the normal distribution is
``Φ(z) = (1 + sign(z) P(1/2, z²/2)) / 2``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TypeGuard, cast

import numpy as np
from numpy.typing import ArrayLike

KINDS = ("none", "gamma", "gauss")

# Iteration limit and tolerance of the incomplete-gamma series and continued fraction.
_MAX_ITERATIONS = 100_000
_TOLERANCE = 2.0 * np.finfo(np.float64).eps
_TINY = 1e-300


@dataclass(frozen=True)
class Dispersion:
    """A bolus dispersion model (docs/physics.md §4.10).

    ``kind`` "none" (no parameters), "gamma" (``s`` > 0 in 1/s, ``p`` >= 0 in s) or "gauss"
    (``sigma`` > 0 in s). Parameters a kind does not use must be None. Raises ValueError.
    """

    kind: str = "none"
    s: float | None = None
    p: float | None = None
    sigma: float | None = None

    def __post_init__(self) -> None:
        kind = str(self.kind).lower()
        if kind not in KINDS:
            raise ValueError(f"dispersion kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "kind", kind)
        required = {"none": (), "gamma": ("s", "p"), "gauss": ("sigma",)}[kind]
        for name in ("s", "p", "sigma"):
            value = getattr(self, name)
            if name not in required:
                if value is not None:
                    raise ValueError(f"dispersion {kind!r} takes no {name!r} (got {value!r})")
                continue
            if isinstance(value, bool) or not isinstance(
                value, (int, float, np.integer, np.floating)
            ):
                raise ValueError(f"dispersion {kind!r} needs a number {name!r}, got {value!r}")
            number = float(value)
            lowest_ok = number >= 0.0 if name == "p" else number > 0.0
            if not (math.isfinite(number) and lowest_ok):
                rule = ">= 0" if name == "p" else "> 0"
                raise ValueError(
                    f"dispersion {kind!r}: {name} must be finite and {rule}, got {value!r}"
                )
            object.__setattr__(self, name, number)

    @property
    def is_none(self) -> bool:
        """True for the kind "none" (the boxcar of the undispersed model)."""
        return self.kind == "none"

    @property
    def shape(self) -> float:
        """The gamma kernel's shape k = 1 + s*p (docs/physics.md §4.10); gamma only."""
        if self.kind != "gamma":
            raise ValueError("only the gamma kernel has a shape k")
        # __post_init__ requires both s and p (as floats) for the kind "gamma"
        assert self.s is not None and self.p is not None
        return 1.0 + self.s * self.p

    @property
    def mean_delay(self) -> float:
        """Mean delay of the kernel (s): k/s for gamma, 0 for gauss and none."""
        if self.kind != "gamma":
            return 0.0
        assert self.s is not None  # __post_init__ requires s (as a float) for the kind "gamma"
        return self.shape / self.s


def is_dispersed(dispersion: Dispersion | None) -> TypeGuard[Dispersion]:
    """True if ``dispersion`` is a kernel other than "none"."""
    return dispersion is not None and not dispersion.is_none


# --- special functions ---------------------------------------------------------------------


def regularized_gamma(a: float, x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(P(a, x), Q(a, x))``: the regularised lower and upper incomplete gamma functions.

    ``P(a, x) = γ(a, x)/Γ(a)`` and ``Q = 1 - P``, each computed directly (series where
    x < a + 1, Lentz's continued fraction elsewhere; Press et al., *Numerical Recipes*, 3rd ed.,
    §6.2), so both tails keep full relative precision. ``a`` > 0 is a scalar, ``x`` >= 0 an
    array (x = 0 gives (0, 1), x = inf gives (1, 0)). Relative error ~1e-15.
    """
    if not (math.isfinite(a) and a > 0.0):
        raise ValueError(f"regularized_gamma needs a finite a > 0, got {a!r}")
    x = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(x)) or np.any(x < 0.0):
        raise ValueError("regularized_gamma needs x >= 0")
    lower = np.zeros(x.shape, dtype=np.float64)
    upper = np.ones(x.shape, dtype=np.float64)
    finite = np.isfinite(x)
    lower[~finite] = 1.0
    upper[~finite] = 0.0
    use_series = finite & (x > 0.0) & (x < a + 1.0)
    use_fraction = finite & (x >= a + 1.0)
    if np.any(use_series):
        value = _gamma_series(a, x[use_series])
        lower[use_series] = value
        upper[use_series] = 1.0 - value
    if np.any(use_fraction):
        value = _gamma_continued_fraction(a, x[use_fraction])
        upper[use_fraction] = value
        lower[use_fraction] = 1.0 - value
    return lower, upper


def _log_prefactor(a: float, x: np.ndarray) -> np.ndarray:
    """``log(x^a e^-x / Γ(a))``."""
    return cast(np.ndarray, a * np.log(x) - x - math.lgamma(a))


def _gamma_series(a: float, x: np.ndarray) -> np.ndarray:
    """P(a, x) by its series ``x^a e^-x / Γ(a+1) * Σ x^n / ((a+1)...(a+n))`` (x < a + 1)."""
    total = np.full(x.shape, 1.0 / a)
    term = total.copy()
    active = np.arange(x.size)
    for n in range(1, _MAX_ITERATIONS):
        term[active] *= x[active] / (a + n)
        total[active] += term[active]
        active = active[term[active] > total[active] * _TOLERANCE]
        if active.size == 0:
            return cast(np.ndarray, np.minimum(total * np.exp(_log_prefactor(a, x)), 1.0))
    raise ArithmeticError(f"incomplete gamma series did not converge for a = {a}")


def _gamma_continued_fraction(a: float, x: np.ndarray) -> np.ndarray:
    """Q(a, x) by its continued fraction, modified Lentz's method (x >= a + 1)."""
    b = x + 1.0 - a
    c = np.full(x.shape, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    active = np.arange(x.size)
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b[active] += 2.0
        d_new = an * d[active] + b[active]
        d_new = 1.0 / np.where(np.abs(d_new) < _TINY, _TINY, d_new)
        c_new = b[active] + an / c[active]
        c_new = np.where(np.abs(c_new) < _TINY, _TINY, c_new)
        delta = d_new * c_new
        d[active], c[active] = d_new, c_new
        h[active] *= delta
        active = active[np.abs(delta - 1.0) > _TOLERANCE]
        if active.size == 0:
            return cast(np.ndarray, np.minimum(np.exp(_log_prefactor(a, x)) * h, 1.0))
    raise ArithmeticError(f"incomplete gamma continued fraction did not converge for a = {a}")


def normal_cdf(z: ArrayLike) -> np.ndarray:
    """Φ(z), the standard normal distribution, with full relative precision in both tails."""
    z = np.asarray(z, dtype=np.float64)
    lower, upper = regularized_gamma(0.5, 0.5 * z * z)
    return np.where(z >= 0.0, 0.5 + 0.5 * lower, 0.5 * upper)


def normal_pdf(z: ArrayLike) -> np.ndarray:
    """φ(z) = exp(-z²/2)/sqrt(2π)."""
    z = np.asarray(z, dtype=np.float64)
    return cast(np.ndarray, np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi))


# --- kernels ---------------------------------------------------------------------------------


def edge_scales(
    dispersion: Dispersion, label_type: str, transit_time: ArrayLike, label_duration: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Scales (s) of the leading and trailing edge kernels in their standard variable z.

    The kernel of an edge is ``delay = scale * z`` with z standard (gamma: Gamma(k, 1), scale 1/s;
    gauss: N(0, 1), scale σ1 or σ2 of docs/physics.md §4.10). Broadcast over the inputs.
    """
    dt = np.asarray(transit_time, dtype=np.float64)
    tau = np.asarray(label_duration, dtype=np.float64)
    shape = np.broadcast_shapes(dt.shape, tau.shape)
    if dispersion.kind == "gamma":
        assert dispersion.s is not None  # __post_init__ requires s for the kind "gamma"
        scale = np.full(shape, 1.0 / dispersion.s)
        return scale, scale
    if dispersion.kind != "gauss":
        raise ValueError("edge_scales needs a gamma or gauss dispersion")
    sigma = dispersion.sigma
    assert sigma is not None  # __post_init__ requires sigma for the kind "gauss"
    leading = np.full(shape, sigma)
    if label_type.lower() != "pasl":
        return leading, leading
    ratio = np.ones(shape)
    np.divide(dt + tau, dt, out=ratio, where=np.broadcast_to(dt, shape) > 0)
    return leading, sigma * np.sqrt(np.maximum(ratio, 1.0))


def standard_cdf(dispersion: Dispersion, z: ArrayLike) -> np.ndarray:
    """Distribution function of the standard kernel variable z (gamma: P(k, z), z <= 0 -> 0)."""
    z = np.asarray(z, dtype=np.float64)
    if dispersion.kind == "gamma":
        return regularized_gamma(dispersion.shape, np.maximum(z, 0.0))[0]
    if dispersion.kind == "gauss":
        return normal_cdf(z)
    return np.where(z >= 0.0, 1.0, 0.0)


@dataclass(frozen=True)
class KernelCells:
    """Cells of the standard kernel for the quadrature of docs/physics.md §4.11.

    ``nodes`` z_0 < ... < z_N; per cell j: ``density`` = mass/width (the mean density) and
    ``slope`` = (∫ (z - centre) h dz) / width (the kernel's linear part); ``tail_low`` and
    ``tail_high`` are the masses below z_0 and above z_N, put at z_0 and z_N.
    """

    nodes: np.ndarray
    density: np.ndarray
    slope: np.ndarray
    tail_low: float
    tail_high: float


# Cells: N cells that equidistribute |h'|^(1/3) over the kernel's support, so the leading error
# term of the cell rule (|h'| * width^3 per cell, docs/physics.md §4.11) is the same in every
# cell; a floor keeps the cells in the flat parts (tails, the top) no wider than 8/N of the
# support's bulk.
_CELLS = 400
_FLOOR = 0.02
_TAIL_SD = 9.0  # support: mean ± 9 standard deviations (gamma: from 0, and + 30 above)


def _support(dispersion: Dispersion) -> tuple[float, float]:
    if dispersion.kind == "gamma":
        k = dispersion.shape
        return max(0.0, k - _TAIL_SD * math.sqrt(k)), k + _TAIL_SD * math.sqrt(k) + 30.0
    if dispersion.kind == "gauss":
        return -_TAIL_SD, _TAIL_SD
    raise ValueError("kernel cells need a gamma or gauss dispersion")


@functools.lru_cache(maxsize=32)
def kernel_cells(dispersion: Dispersion) -> KernelCells:
    """The quadrature cells of the standard kernel of ``dispersion`` (gamma or gauss); cached,
    read-only arrays."""
    low, high = _support(dispersion)
    fine = np.linspace(low, high, 200 * _CELLS + 1)
    density = np.diff(standard_cdf(dispersion, fine)) / np.diff(fine)
    centres = 0.5 * (fine[:-1] + fine[1:])
    weight = np.abs(np.gradient(density, centres)) ** (1.0 / 3.0)
    weight = weight + _FLOOR * weight.max()
    cumulative = np.concatenate([[0.0], np.cumsum(weight * np.diff(fine))])
    nodes = np.interp(np.linspace(0.0, cumulative[-1], _CELLS + 1), cumulative, fine)
    nodes[0], nodes[-1] = low, high
    mass, moment = _cell_moments(dispersion, nodes)
    width = np.diff(nodes)
    centre = 0.5 * (nodes[:-1] + nodes[1:])
    arrays = {"nodes": nodes, "density": mass / width, "slope": (moment - centre * mass) / width}
    for array in arrays.values():
        array.setflags(write=False)
    return KernelCells(
        **arrays,
        tail_low=float(standard_cdf(dispersion, nodes[0])),
        tail_high=float(1.0 - standard_cdf(dispersion, nodes[-1])),
    )


def _cell_moments(dispersion: Dispersion, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mass ∫ h dz and first moment ∫ z h dz of each cell, exactly (closed forms)."""
    if dispersion.kind == "gamma":
        k = dispersion.shape
        lower, upper = regularized_gamma(k, nodes)
        lower1, upper1 = regularized_gamma(k + 1.0, nodes)
        # differences of P in the lower half, of Q in the upper half (no cancellation)
        mass = np.where(nodes[:-1] < k, np.diff(lower), -np.diff(upper))
        moment = k * np.where(nodes[:-1] < k + 1.0, np.diff(lower1), -np.diff(upper1))
        return mass, moment
    cdf = normal_cdf(nodes)
    survival = normal_cdf(-nodes)
    mass = np.where(nodes[:-1] < 0.0, np.diff(cdf), -np.diff(survival))
    moment = -np.diff(normal_pdf(nodes))
    return mass, moment


# --- the dispersed delivery ------------------------------------------------------------------


def edge_step(dispersion: Dispersion, x: ArrayLike, scale: ArrayLike) -> np.ndarray:
    """The edge distribution E(x) = F(x/scale) of docs/physics.md §4.10 (F: standard_cdf)."""
    z = np.asarray(x, dtype=np.float64) / np.asarray(scale, dtype=np.float64)
    return standard_cdf(dispersion, z)


# pylint: disable-next=too-many-locals  # the terms of docs/physics.md (4.24)-(4.25), named as there
def delivery(
    label_type: str,
    signal_time: ArrayLike,
    transit_time: ArrayLike,
    *,
    label_duration: ArrayLike,
    t1_arterial_blood: ArrayLike,
    dispersion: Dispersion | None = None,
) -> np.ndarray:
    """The normalised delivery a(t) = c(t)/α of docs/physics.md §4.10 (0 for t <= 0 or T1b <= 0).

    ``transit_time`` Δ is the arrival time of the bolus' leading edge (the tissue's Δt or the
    arterial aBAT), ``label_duration`` τ its width, ``signal_time`` t the time since the start of
    labelling. Element-wise and broadcasting; float64.
    """
    kind = label_type.lower()
    t = np.asarray(signal_time, dtype=np.float64)
    dt = np.asarray(transit_time, dtype=np.float64)
    tau = np.asarray(label_duration, dtype=np.float64)
    t1b = np.asarray(t1_arterial_blood, dtype=np.float64)
    valid = t1b > 0
    r1_blood = np.zeros(t1b.shape)
    np.divide(1.0, t1b, out=r1_blood, where=valid)
    if kind in ("casl", "pcasl"):
        weight = np.exp(-dt * r1_blood)
    elif kind == "pasl":
        weight = np.exp(-np.maximum(t, 0.0) * r1_blood)
    else:
        raise ValueError(f"label_type must be one of ('casl', 'pcasl', 'pasl'), got {label_type!r}")
    if is_dispersed(dispersion):
        leading_scale, trailing_scale = edge_scales(dispersion, kind, dt, tau)
        shape = edge_step(dispersion, t - dt, leading_scale) - edge_step(
            dispersion, t - dt - tau, trailing_scale
        )
    else:  # the exact boxcar, with the edges compared as the regimes of §4.2 compare them
        shape = np.where((t >= dt) & (t < dt + tau), 1.0, 0.0)
    value = np.where((t > 0) & valid, weight * shape, 0.0)
    return np.asarray(np.maximum(value, 0.0), dtype=np.float64)
