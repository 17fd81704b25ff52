"""Multi-PLD quantification: a weighted least-squares fit, voxel by voxel and vectorised, of CBF
and ATT (and, with the arterial component, aBV and aBAT) of a kinetic model to the ΔM/M0 of each
(PLD, labelling duration) group (docs/quantify.md §4).

The models are those of :func:`asldro.physics.gkm.delta_m` (``full``: Buxton et al. 1998, the
general kinetic model asldro simulates with; ``whitepaper``: Alsop et al. 2015, zero until the
bolus has fully arrived; ``consensus``: Woods et al. 2024, MRM 92:469, doi 10.1002/mrm.30091,
Eq. 2–3) and, with ``arterial=True``, :func:`asldro.physics.arterial.arterial_delta_m`
(Chappell et al. 2010; Woods et al. 2024 Eq. 4–5) added to it.

The fit is a variable projection: CBF and aBV enter the model linearly once ATT (and aBAT) are
fixed, so they are solved in closed form, and only ATT is searched:

1. a grid over ATT (step :data:`GRID_STEP`; :data:`ARTERIAL_GRID_STEP` with the arterial
   component, whose aBAT candidates multiply the grid) picks, per voxel, the candidate of least
   cost, with the linear parameters solved for each candidate by matrix products;
2. golden-section search refines ATT within two grid steps of it to :data:`TOLERANCE`.

``full`` depends weakly nonlinearly on CBF through T1app = 1/(1/T1 + f/λ): at each ATT, CBF is
found by Gauss–Newton steps on the exact model (the numerical derivative in CBF), so the result
is the least-squares fit of the full model. Where the data cannot determine a parameter within
an interval (the white-paper model's ATT between two PLDs, the consensus model's ATT below the
first PLD, where it is fully arrived at every PLD, and aBAT between two of the times where the
arterial bolus window starts or ends), the interval's midpoint is reported. Weights are the
inverse variance of each group's ΔM (its numbers of control, label or deltam volumes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import import_module
from typing import Callable, TypedDict

import numpy as np

from asldro.physics import safe_divide
from asldro.quantify.models import DEFAULT_MODEL, MODELS

__all__ = ["DEFAULT_MODEL", "MODELS", "Fit", "Kinetics", "Timing", "fit"]
#: ATT grid step (s) of the first stage and the half-width of the refined bracket around it.
GRID_STEP = 0.01
ARTERIAL_GRID_STEP = 0.05
BRACKET_STEPS = 2
#: Golden-section search stops when the bracket is this narrow (s).
TOLERANCE = 1e-6
#: The ``full`` model's grid stage: the CBF (ml/100g/min) at which it first evaluates T1app,
#: and the relative width of the groups of voxels that share one tissue table.
REFERENCE_CBF = 50.0
T1APP_STEP = 0.005
#: Gauss–Newton steps in CBF of the ``full`` model at each ATT, and the step (ml/100g/min) of
#: the numerical derivative.
FULL_STEPS = 3
DERIVATIVE_STEP = 1e-2
#: The range of CBF (ml/100g/min) at which T1app of the ``full`` model is evaluated: a negative
#: fitted CBF (noise) uses the T1app of zero flow, an unphysically large one (noise over a tiny
#: M0 outside the brain) that of MAX_CBF, beyond which the model is linear in CBF.
MIN_CBF = 1e-6
MAX_CBF = 2000.0
#: Voxels fitted at once, and elements of the grid stage's largest temporary array.
VOXEL_CHUNK = 8192
GRID_ELEMENTS = 1 << 22
#: Two columns of the linear solve are treated as collinear below this relative determinant.
COLLINEAR = 1e-12
INVPHI = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class Timing:
    """The groups of one set of voxels: labelling type (``pcasl``, ``casl``, ``pasl``), and per
    group τ (s), t (s) and weight."""

    label_type: str
    label_duration: np.ndarray
    signal_time: np.ndarray
    weights: np.ndarray

    @property
    def last_time(self) -> float:
        """The latest signal time (s): beyond it no ATT or aBAT changes the model."""
        return float(np.max(self.signal_time))


@dataclass(frozen=True)
class Kinetics:
    """The kinetic model and its constants."""

    model: str
    label_efficiency: float
    lambda_blood_brain: float
    t1_arterial_blood: float


@dataclass(frozen=True)
class Fit:
    """Fitted maps over the voxels given (1-D): CBF (ml/100g/min), ATT (s) and, with the
    arterial component, aBV (fraction) and aBAT (s)."""

    cbf: np.ndarray
    att: np.ndarray
    abv: np.ndarray | None = None
    abat: np.ndarray | None = None


@dataclass(frozen=True)
class _Candidates:
    """ATT (or aBAT) candidates of the grid stage, and the bracket each is refined in."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    refine: np.ndarray


class _ModelKeywords(TypedDict):
    """The keyword arguments :class:`Curves` passes to the physics functions."""

    label_duration: np.ndarray
    signal_time: np.ndarray
    label_efficiency: float
    lambda_blood_brain: float
    t1_arterial_blood: float


class Curves:
    """ΔM/M0 of the model for one :class:`Timing` (M0 = 1), from the physics functions."""

    def __init__(self, timing: Timing, kinetics: Kinetics) -> None:
        self.timing = timing
        self.kinetics = kinetics
        self._keywords: _ModelKeywords = {
            "label_duration": timing.label_duration,
            "signal_time": timing.signal_time,
            "label_efficiency": kinetics.label_efficiency,
            "lambda_blood_brain": kinetics.lambda_blood_brain,
            "t1_arterial_blood": kinetics.t1_arterial_blood,
        }

    @property
    def nonlinear(self) -> bool:
        """True for ``full``, whose shape depends on CBF (through T1app)."""
        return self.kinetics.model == "full"

    def tissue(
        self, cbf: np.ndarray | float, att: np.ndarray, t1: np.ndarray | float
    ) -> np.ndarray:
        """Tissue ΔM/M0 (``att`` of shape (..., 1); result (..., groups))."""
        from asldro.physics import gkm

        return gkm.delta_m(
            self.timing.label_type, cbf, att, t1, 1.0, model=self.kinetics.model, **self._keywords
        )

    def unit_tissue(
        self, att: np.ndarray, t1: np.ndarray | float, cbf: np.ndarray | None = None
    ) -> np.ndarray:
        """Tissue ΔM/M0 per unit CBF; for ``full`` the shape at CBF ``cbf`` (clipped to
        :data:`MIN_CBF`, default :data:`REFERENCE_CBF`)."""
        if not self.nonlinear:
            return self.tissue(1.0, att, t1)
        flow = np.clip(REFERENCE_CBF if cbf is None else cbf, MIN_CBF, MAX_CBF)
        return self.tissue(flow, att, t1) / flow

    def arterial(self, abat: np.ndarray) -> np.ndarray:
        """Arterial ΔM/M0 per unit aBV (``abat`` of shape (..., 1))."""
        # imported by name: asldro.physics.arterial is issue 11 item 5 (the arterial component)
        arterial_delta_m = import_module("asldro.physics.arterial").arterial_delta_m
        return arterial_delta_m(self.timing.label_type, 1.0, abat, 1.0, **self._keywords)


def _weighted_dot(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.einsum("vn,vn,n->v", a, b, weights)


def _least_squares(
    y: np.ndarray, weights: np.ndarray, first: np.ndarray, second: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per voxel, the weighted least-squares coefficients of ``y ≈ a·first + b·second`` (b = 0
    without ``second``; collinear columns: the single column that fits better)."""
    only_first = safe_divide(_weighted_dot(first, y, weights), _weighted_dot(first, first, weights))
    if second is None:
        return only_first, np.zeros_like(only_first)
    gram = (
        _weighted_dot(first, first, weights),
        _weighted_dot(first, second, weights),
        _weighted_dot(second, second, weights),
    )
    moments = (_weighted_dot(first, y, weights), _weighted_dot(second, y, weights))
    return _solve_two(gram, moments)


def _solve_two(
    gram: tuple[np.ndarray, np.ndarray, np.ndarray], moments: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The 2×2 normal equations ``[[aa, ab], [ab, bb]]·(a, b) = (ay, by)`` per voxel; where the
    columns are collinear, the single column whose fit explains more."""
    aa, ab, bb = gram
    ay, by = moments
    det = aa * bb - ab * ab
    solvable = det > COLLINEAR * aa * bb
    det = np.where(solvable, det, 0.0)
    only_first, only_second = safe_divide(ay, aa), safe_divide(by, bb)
    first_better = only_first * ay >= only_second * by
    a = np.where(
        solvable, safe_divide(bb * ay - ab * by, det), np.where(first_better, only_first, 0.0)
    )
    b = np.where(
        solvable, safe_divide(aa * by - ab * ay, det), np.where(first_better, 0.0, only_second)
    )
    return a, b


def _att_candidates(model: str, timing: Timing, step: float = GRID_STEP) -> _Candidates:
    """ATT candidates: for ``whitepaper`` the midpoints of the intervals between the times at
    which each group's bolus has fully arrived (t − τ), where the model does not change; else a
    grid (``consensus``: above the first such time, with one candidate for the interval below
    it, where every group has fully arrived and ATT has no effect)."""
    arrived = np.unique(np.clip(timing.signal_time - timing.label_duration, 0.0, None))
    if model == "whitepaper":
        edges = np.unique(np.concatenate([[0.0], arrived]))
        mids = (edges[:-1] + edges[1:]) / 2.0 if edges.size > 1 else np.zeros(1)
        return _Candidates(mids, mids, mids, np.zeros(mids.size, dtype=bool))
    start = float(arrived.min()) if model == "consensus" else 0.0
    end = max(timing.last_time, start)
    grid = np.linspace(start, end, max(2, math.ceil((end - start) / step) + 1))
    lower = np.maximum(grid - BRACKET_STEPS * step, start)
    upper = np.minimum(grid + BRACKET_STEPS * step, end)
    refine = np.ones(grid.size, dtype=bool)
    if start > 0:
        flat = np.array([start / 2.0])
        grid, lower, upper = (np.concatenate([flat, a]) for a in (grid, lower, upper))
        refine = np.concatenate([[False], refine])
    return _Candidates(grid, lower, upper, refine)


def abat_intervals(timing: Timing) -> tuple[np.ndarray, np.ndarray]:
    """The intervals of aBAT over which the arterial bolus covers the same groups: bounded by
    the times each group's window ``[aBAT, aBAT + τ)`` starts (t − τ) or ends (t), in
    [0, last signal time]. Returns (lower, upper) edges."""
    times = np.concatenate([[0.0], timing.signal_time - timing.label_duration, timing.signal_time])
    edges = np.unique(np.clip(times, 0.0, timing.last_time))
    return edges[:-1], edges[1:]


def _grid_select(
    y: np.ndarray, weights: np.ndarray, tissue: np.ndarray, arterial: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per voxel, the (tissue candidate, arterial candidate) of least weighted residual, the
    linear parameters solved for each: the largest ``bᵀ A⁻¹ b`` of the normal equations."""
    weighted = y * weights
    moments = weighted @ tissue.T  # (voxels, tissue candidates)
    norms = (tissue * tissue) @ weights
    gain = safe_divide(moments * moments, norms)
    if arterial is None:
        return np.argmax(gain, axis=1), np.zeros(y.shape[0], dtype=int)
    return _grid_select_pairs(
        (moments, weighted @ arterial.T),
        (norms, (tissue * weights) @ arterial.T, (arterial * arterial) @ weights),
        gain,
    )


# pylint: disable-next=too-many-locals  # the terms of the 2x2 normal equations, named as there
def _grid_select_pairs(
    moments: tuple[np.ndarray, np.ndarray],
    gram: tuple[np.ndarray, np.ndarray, np.ndarray],
    tissue_gain: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_grid_select` with the arterial column: ``moments`` (voxels × tissue, voxels ×
    arterial candidates), ``gram`` (tissue norms, tissue × arterial products, arterial norms);
    evaluated in blocks of voxels of at most :data:`GRID_ELEMENTS` elements."""
    p, q = moments
    n, m, l = gram
    det = n[:, None] * l[None, :] - m * m
    solvable = (det > COLLINEAR * n[:, None] * l[None, :])[None]
    det = np.where(solvable[0], det, 1.0)[None]
    arterial_gain = safe_divide(q * q, l)
    voxels = p.shape[0]
    best = (np.empty(voxels, dtype=int), np.empty(voxels, dtype=int))
    step = max(1, GRID_ELEMENTS // (n.size * l.size))
    for start in range(0, voxels, step):
        part = slice(start, start + step)
        pp, qq = p[part][:, :, None], q[part][:, None, :]
        both = l[None, None, :] * pp * pp - 2.0 * m[None] * pp * qq + n[None, :, None] * qq * qq
        single = np.maximum(tissue_gain[part][:, :, None], arterial_gain[part][:, None, :])
        gain = np.where(solvable, both / det, single)
        flat = np.argmax(gain.reshape(gain.shape[0], -1), axis=1)
        best[0][part], best[1][part] = np.divmod(flat, l.size)
    return best


class _Profile:
    """The least-squares cost at a given ATT per voxel, CBF (and aBV) solved (docs/quantify.md
    §4): closed form for the linear models, Gauss–Newton steps in CBF for ``full``."""

    def __init__(
        self,
        curves: Curves,
        y: np.ndarray,
        t1: np.ndarray,
        arterial: np.ndarray | None,
    ) -> None:
        self.curves = curves
        self.y = y
        self.t1 = t1[:, None]
        self.arterial = arterial
        self.weights = curves.timing.weights

    def model(self, att: np.ndarray, cbf: np.ndarray, abv: np.ndarray) -> np.ndarray:
        """ΔM/M0 of the model at (ATT, CBF, aBV) per voxel."""
        signal = cbf[:, None] * self.curves.unit_tissue(att[:, None], self.t1, cbf[:, None])
        if self.arterial is not None:
            signal = signal + abv[:, None] * self.arterial
        return signal

    def __call__(
        self,
        att: np.ndarray,
        state: tuple[np.ndarray, np.ndarray],
        steps: int = FULL_STEPS,
        exact: bool = True,
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """(cost, (CBF, aBV)) at ``att``. ``full``: ``steps`` Gauss–Newton steps from ``state``;
        with ``exact`` false the cost is the one the last step predicts (the golden-section
        search compares those: warm-started, its steps shrink to nothing)."""
        if not self.curves.nonlinear:
            shape = self.curves.unit_tissue(att[:, None], self.t1)
            cbf, abv = _least_squares(self.y, self.weights, shape, self.arterial)
            residual = self._residual(cbf[:, None] * shape, abv)
            return _weighted_dot(residual, residual, self.weights), (cbf, abv)
        cbf, abv = state
        for _ in range(steps):
            shape, jacobian = self._shape_and_jacobian(att, cbf)
            residual = self._residual(cbf[:, None] * shape, abv)
            d_cbf, d_abv = _least_squares(residual, self.weights, jacobian, self.arterial)
            cbf, abv = cbf + d_cbf, abv + d_abv
            residual = residual - d_cbf[:, None] * jacobian
            if self.arterial is not None:
                residual = residual - d_abv[:, None] * self.arterial
        if exact:
            residual = self.y - self.model(att, cbf, abv)
        return _weighted_dot(residual, residual, self.weights), (cbf, abv)

    def _residual(self, tissue: np.ndarray, abv: np.ndarray) -> np.ndarray:
        residual = self.y - tissue
        if self.arterial is not None:
            residual = residual - abv[:, None] * self.arterial
        return residual

    def _shape_and_jacobian(
        self, att: np.ndarray, cbf: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The tissue curve per unit CBF at ``cbf`` and the derivative of ``cbf``·curve in CBF
        (numerical, step :data:`DERIVATIVE_STEP`)."""
        flow = np.clip(cbf, MIN_CBF, MAX_CBF)[:, None]
        shape = self.curves.unit_tissue(att[:, None], self.t1, flow)
        shifted = self.curves.unit_tissue(att[:, None], self.t1, flow + DERIVATIVE_STEP)
        return shape, shape + cbf[:, None] * (shifted - shape) / DERIVATIVE_STEP


# pylint: disable-next=too-many-locals  # the bracket [a, b], its two probes c, d and their costs
def _golden_section(
    profile: Callable, lower: np.ndarray, upper: np.ndarray, state: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Vectorised golden-section search of ``profile`` over [lower, upper] per voxel, to a
    bracket of :data:`TOLERANCE` (one warm-started Gauss–Newton step per probe for ``full``);
    returns the midpoint of the last bracket and the last state."""
    a, b = lower.astype(np.float64), upper.astype(np.float64)
    c, d = b - INVPHI * (b - a), a + INVPHI * (b - a)
    cost_c, state = profile(c, state, 1, False)
    cost_d, state = profile(d, state, 1, False)
    width = float(np.max(b - a, initial=0.0))
    steps = max(0, math.ceil(math.log(TOLERANCE / width) / math.log(INVPHI))) if width > 0 else 0
    for _ in range(steps):
        left = cost_c < cost_d  # the minimum is in [a, d]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new_c = np.where(left, b - INVPHI * (b - a), d)
        new_d = np.where(left, c, a + INVPHI * (b - a))
        cost_x, state = profile(np.where(left, new_c, new_d), state, 1, False)
        cost_c, cost_d = np.where(left, cost_x, cost_d), np.where(left, cost_c, cost_x)
        c, d = new_c, new_d
    return (a + b) / 2.0, state


@dataclass(frozen=True)
class _Start:
    """The grid stage's choice per voxel: ATT and the linear parameters there, the bracket to
    refine ATT in (where ``refine``), and the arterial candidate (its table row and aBAT)."""

    att: np.ndarray
    state: tuple[np.ndarray, np.ndarray]
    lower: np.ndarray
    upper: np.ndarray
    refine: np.ndarray
    arterial: np.ndarray | None
    abat: np.ndarray | None


def _grid_stage(
    profile_of: Callable[[np.ndarray | None], "_Profile"],
    curves: Curves,
    y: np.ndarray,
    candidates: tuple[_Candidates, tuple[np.ndarray, np.ndarray] | None],
    table_t1app: float,
) -> tuple[_Start, "_Profile"]:
    """Grid stage of :func:`_fit_chunk`, with the tissue table of apparent T1 ``table_t1app``
    (``full``; unused by the other models)."""
    tissue, arterial_candidates = candidates
    table = curves.unit_tissue(tissue.value[:, None], table_t1app, np.array(MIN_CBF))
    abat, arterial = arterial_candidates if arterial_candidates is not None else (None, None)
    best, best_arterial = _grid_select(y, curves.timing.weights, table, arterial)
    if arterial is not None and abat is not None:
        abat, arterial = abat[best_arterial], arterial[best_arterial]
    profile = profile_of(arterial)
    _, state = profile(
        tissue.value[best], _least_squares(y, curves.timing.weights, table[best], arterial)
    )
    start = _Start(
        tissue.value[best],
        state,
        tissue.lower[best],
        tissue.upper[best],
        tissue.refine[best],
        arterial,
        abat,
    )
    return start, profile


def _refine(
    start: _Start, curves: Curves, y: np.ndarray, t1: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """ATT refined by golden-section search where ``start.refine`` (the grid choice elsewhere),
    with the linear parameters found there."""
    att, state = start.att.copy(), (start.state[0].copy(), start.state[1].copy())
    chosen = start.refine
    if chosen.any():
        arterial = None if start.arterial is None else start.arterial[chosen]
        att[chosen], (state[0][chosen], state[1][chosen]) = _golden_section(
            _Profile(curves, y[chosen], t1[chosen], arterial),
            start.lower[chosen],
            start.upper[chosen],
            (state[0][chosen], state[1][chosen]),
        )
    return att, state


def _fit_chunk(
    curves: Curves,
    y: np.ndarray,
    t1: np.ndarray,
    candidates: tuple[_Candidates, tuple[np.ndarray, np.ndarray] | None],
    table_t1app: float,
) -> Fit:
    """Fit the voxels ``y``: the grid stage (:func:`_grid_stage`), then golden-section
    refinement of ATT on the exact model (:func:`_refine`). ``candidates`` are the ATT
    candidates and the arterial (aBAT, table) ones (or None)."""
    start, profile = _grid_stage(
        lambda arterial: _Profile(curves, y, t1, arterial), curves, y, candidates, table_t1app
    )
    att, state = _refine(start, curves, y, t1)
    _, (cbf, abv) = profile(att, state)
    if start.abat is None:
        return Fit(cbf, att)
    return Fit(cbf, att, abv, start.abat)


def apparent_t1(t1: np.ndarray, cbf: np.ndarray | float, lambda_blood_brain: float) -> np.ndarray:
    """T1app = 1 / (1/T1 + f/λ) (f in 1/s; docs/physics.md §4.1) of the ``full`` model."""
    return 1.0 / (1.0 / t1 + np.clip(cbf, MIN_CBF, MAX_CBF) / 6000.0 / lambda_blood_brain)


def _table_groups(t1app: np.ndarray) -> dict[int, np.ndarray]:
    """Voxels whose apparent T1 is within one relative step :data:`T1APP_STEP` (the ``full``
    model's grid stage uses one tissue table per group)."""
    bins = np.round(np.log(t1app) / math.log1p(T1APP_STEP)).astype(np.int64)
    order = np.argsort(bins, kind="stable")
    keys, starts = np.unique(bins[order], return_index=True)
    return dict(zip(keys.tolist(), np.split(order, starts[1:])))


def _arterial_candidates(curves: Curves) -> tuple[np.ndarray, np.ndarray]:
    """aBAT candidates (the midpoints of :func:`abat_intervals`) and their arterial ΔM/M0 per
    unit aBV, without those that reach no group."""
    lower, upper = abat_intervals(curves.timing)
    mids = (lower + upper) / 2.0
    table = curves.arterial(mids[:, None])
    keep = np.any(table != 0, axis=1)
    return mids[keep], table[keep]


def _grid_estimate(
    curves: Curves,
    y: np.ndarray,
    candidates: tuple[_Candidates, tuple[np.ndarray, np.ndarray] | None],
    voxels: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """CBF of ``voxels`` = (indices into ``y``, apparent T1) from the grid stage alone (the
    ``full`` model's first estimate, to group the voxels by the apparent T1 it gives)."""
    active, t1app = voxels
    estimate = np.zeros(active.size)
    arterial = None if candidates[1] is None else candidates[1][1]
    for members in _table_groups(t1app).values():
        table = curves.unit_tissue(
            candidates[0].value[:, None], float(np.median(t1app[members])), np.array(MIN_CBF)
        )
        for start in range(0, members.size, VOXEL_CHUNK):
            chosen = members[start : start + VOXEL_CHUNK]
            estimate[chosen] = _grid_cbf(y[active[chosen]], curves.timing.weights, table, arterial)
    return estimate


def _grid_cbf(
    y: np.ndarray, weights: np.ndarray, table: np.ndarray, arterial: np.ndarray | None
) -> np.ndarray:
    """The CBF of the grid stage's best candidate per voxel."""
    best, best_arterial = _grid_select(y, weights, table, arterial)
    rows = None if arterial is None else arterial[best_arterial]
    return _least_squares(y, weights, table[best], rows)[0]


def _fit_groups(
    curves: Curves,
    data: tuple[np.ndarray, np.ndarray],
    candidates: tuple[_Candidates, tuple[np.ndarray, np.ndarray] | None],
    voxels: tuple[np.ndarray, np.ndarray],
    maps: dict[str, np.ndarray],
) -> None:
    """Fit ``voxels`` = (indices into ``data`` = (y, T1), their apparent T1) into ``maps``, in
    chunks of at most :data:`VOXEL_CHUNK` that share one grid table (``full``: grouped by
    apparent T1)."""
    active, t1app = voxels
    groups = _table_groups(t1app) if curves.nonlinear else {0: np.arange(active.size)}
    for members in groups.values():
        for start in range(0, members.size, VOXEL_CHUNK):
            chosen = active[members[start : start + VOXEL_CHUNK]]
            part = _fit_chunk(
                curves,
                data[0][chosen],
                data[1][chosen],
                candidates,
                float(np.median(t1app[members])),
            )
            for name, values in vars(part).items():
                if values is not None:
                    maps[name][chosen] = values


def fit(
    y: np.ndarray,
    timing: Timing,
    kinetics: Kinetics,
    *,
    t1_tissue: np.ndarray | float,
    arterial: bool = False,
) -> Fit:
    """Fit the model to ``y`` = ΔM/M0 of shape (voxels, groups) that share ``timing``.

    ``t1_tissue`` (s; a number or one value per voxel) is used by ``full`` only: its grid stage
    groups the voxels by apparent T1 (within :data:`T1APP_STEP`, at :data:`REFERENCE_CBF`), and
    fits again, from the grid, the voxels whose fitted CBF moved their apparent T1 out of their
    group's. Voxels whose data are all zero get 0 everywhere (no signal: nothing to fit).
    """
    if kinetics.model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {kinetics.model!r}")
    y = np.asarray(y, dtype=np.float64)
    t1 = np.broadcast_to(np.asarray(t1_tissue, dtype=np.float64), (y.shape[0],))
    curves = Curves(timing, kinetics)
    candidates = (
        _att_candidates(kinetics.model, timing, ARTERIAL_GRID_STEP if arterial else GRID_STEP),
        _arterial_candidates(curves) if arterial else None,
    )
    maps = {name: np.zeros(y.shape[0]) for name in ("cbf", "att", "abv", "abat")}
    active = np.flatnonzero(np.einsum("vn,vn,n->v", y, y, timing.weights) > 0)
    voxels = (active, apparent_t1(t1[active], REFERENCE_CBF, kinetics.lambda_blood_brain))
    if curves.nonlinear:  # group by the apparent T1 of a first CBF estimate (the grid's)
        estimate = _grid_estimate(curves, y, candidates, voxels)
        voxels = (active, apparent_t1(t1[active], estimate, kinetics.lambda_blood_brain))
    _fit_groups(curves, (y, t1), candidates, voxels, maps)
    if curves.nonlinear:  # refit those whose CBF moved T1app out of their table's group
        fitted = apparent_t1(t1[active], maps["cbf"][active], kinetics.lambda_blood_brain)
        moved = np.abs(np.log(fitted / voxels[1])) > math.log1p(T1APP_STEP)
        _fit_groups(curves, (y, t1), candidates, (active[moved], fitted[moved]), maps)
    if not arterial:
        return Fit(maps["cbf"], maps["att"])
    return Fit(maps["cbf"], maps["att"], maps["abv"], maps["abat"])
