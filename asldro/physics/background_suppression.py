"""Background suppression: a presaturation and N inversion pulses before the excitation
(docs/physics.md §5.7, D28-D31).

Times are in seconds **before the excitation** of the reference slice (the whole slab in 3D, the
first slice in 2D), as in ASLDRO develop's parameter object: ``Q`` (``saturation_time``) for the
presaturation, ``tau_p`` (``inversion_times``) for each inversion. Pulse lists are sorted by time,
never used in list order (D28). Element-wise and broadcasting over M0, T1, χ and the slice delay
(floats, 1-D per-tissue lookup tables or 3-D maps), float64, no RuntimeWarning for T1 = 0.

Static tissue (plain text, ``⊘`` = safe division, events e = the presaturation and the
inversions, sorted nearest the excitation first, each a multiplication ``Mz -> k_e*Mz`` with
``k = χ`` for an inversion and ``k = 1 - ψ`` for the presaturation)::

    S  = sum_e (k_e - 1) * P_e * exp(-(tau_e + delay) ⊘ T1),  P_e = product of k over the events
         nearer the excitation than e;  K = product of all k
    Mz = M0 * (1 + S)                                  fully relaxed before the first event
    Mz = M0 * (1 + S - K*E1) ⊘ (1 - cos θ * K * E1)    steady state, repetition time TR

For ψ = 1, K = 0: ``Mz = M0*(1 + S)`` whatever happened before the presaturation (inversions
before it are erased) and there is no ``(1 - E1)`` factor (D29). With the presaturation first and
the inversions sorted this is Mani et al. 1997's closed form
``Mz/M0 = 1 - ψ χ^n e^(-Q/T1) + sum_m (χ^m - χ^(m-1)) e^(-tau_m/T1)``.

Labelled magnetisation: each inversion after the creation of a part of the bolus multiplies that
part by ``|χ|`` (and by an optional extra ``alpha_bs_per_pulse``); Woods' α_BS is that product.

Literature: Mani S, Pauly J, Conolly S, Meyer C, Nishimura D, Background suppression with
multiple inversion recovery nulling, Magn Reson Med 1997;37:898-905, doi 10.1002/mrm.1910370615;
Maleki N, Dai W, Alsop DC, Optimization of background suppression for arterial spin labeling
perfusion imaging, MAGMA 2012;25:127-133, doi 10.1007/s10334-011-0286-3 (the inversion
efficiency polynomial, as transcribed by ASLDRO develop); Woods JG et al., Magn Reson Med
2024;92:469-495, doi 10.1002/mrm.30091 (α_BS).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import ArrayLike

from asldro.physics import safe_divide
from asldro.physics.signal import mri_signal

PULSE_EFFICIENCY_IDEAL = "ideal"
PULSE_EFFICIENCY_REALISTIC = "realistic"
PULSE_EFFICIENCIES = (PULSE_EFFICIENCY_IDEAL, PULSE_EFFICIENCY_REALISTIC)

# ASLDRO develop's DEFAULT_BS_PARAMS (the object that ``background_suppression: true`` stands for).
DEFAULT_SATURATION_TIME = 4.0
DEFAULT_OPTIMISATION_SATURATION_TIME = 3.98
DEFAULT_PULSE_EFFICIENCY = PULSE_EFFICIENCY_IDEAL
DEFAULT_NUM_INVERSION_PULSES = 4
DEFAULT_APPLY_TO_ASL_CONTEXT = ("label", "control")

# At most this many distinct T1s are optimised for (more are reduced to quantiles).
MAX_OPTIMISATION_T1_VALUES = 64
# Times closer than this (s) are the same time (pulse at the start or end of labelling).
TIME_TOLERANCE = 1e-9
# BIDS times are rounded to this many decimals (1 ns), so that 3.6 - 0.3 is written 3.3.
BIDS_TIME_DECIMALS = 9
# The optimiser aims at this relative Mz (just above the null, so that rounding cannot make an
# exactly nulled T1 negative, which develop's objective would count).
MZ_TARGET = 1e-12
# Weights of the penalty on Mz < 0 in the successive refinements (continuation to the
# constrained optimum).
PENALTY_CONTINUATION = (0.0, 1e2, 1e4, 1e6, 1e8, 1e10, 1e12)
# The optimiser's grid search evaluates at most this many combinations of grid times.
GRID_COMBINATIONS = 60000


def _f64(value: ArrayLike) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _as_number(value: object) -> float | None:
    """``float(value)`` for a real number (not a bool), None for anything else."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    ):
        return float(value)
    return None


def _is_number(value: object) -> bool:
    return _as_number(value) is not None


def _check_time(name: str, value: object, *, allow_zero: bool = False) -> float:
    number = _as_number(value)
    if number is None or not math.isfinite(number):
        raise ValueError(f"{name}: expected a finite number of seconds, got {value!r}")
    if number < 0 or (number == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: must be {rule} s, got {value!r}")
    return number


def _check_pulse_efficiency(value: object) -> float | str:
    if isinstance(value, str):
        if value.lower() not in PULSE_EFFICIENCIES:
            raise ValueError(
                f"pulse_efficiency: expected 'ideal', 'realistic' or a number in [-1, 0], "
                f"got {value!r}"
            )
        return value.lower()
    number = _as_number(value)
    if number is None or not -1.0 <= number <= 0.0:
        raise ValueError(
            f"pulse_efficiency: expected 'ideal', 'realistic' or a number in [-1, 0], got {value!r}"
        )
    return number


@dataclass(frozen=True)
class BackgroundSuppression:
    """The background-suppression module of a volume (docs/physics.md §5.7).

    ``saturation_time`` Q and ``inversion_times`` (any order; stored sorted ascending, i.e.
    nearest the excitation first) are seconds before the excitation, each > 0.
    ``pulse_efficiency`` is χ of the inversions: ``"ideal"`` (-1), ``"realistic"`` (Maleki
    2011, per T1) or a number in [-1, 0]. ``saturation_efficiency`` ψ in [0, 1] (1 = ideal).
    ``alpha_bs_per_pulse`` is an optional extra efficiency in (0, 1] of each inversion on the
    labelled magnetisation (None = no extra loss). Raises ValueError naming the bad field.
    """

    saturation_time: float = DEFAULT_SATURATION_TIME
    inversion_times: tuple[float, ...] = ()
    pulse_efficiency: float | str = DEFAULT_PULSE_EFFICIENCY
    saturation_efficiency: float = 1.0
    alpha_bs_per_pulse: float | None = None

    def __post_init__(self) -> None:
        saturation_time = _check_time("saturation_time", self.saturation_time)
        if isinstance(self.inversion_times, (str, bytes)) or not isinstance(
            self.inversion_times, Sequence
        ):
            raise ValueError(
                f"inversion_times: expected a list of times in s, got {self.inversion_times!r}"
            )
        times = tuple(
            sorted(
                _check_time(f"inversion_times[{index}]", value)
                for index, value in enumerate(self.inversion_times)
            )
        )
        efficiency = _check_pulse_efficiency(self.pulse_efficiency)
        psi = self.saturation_efficiency
        if not _is_number(psi) or not 0.0 <= float(psi) <= 1.0:
            raise ValueError(f"saturation_efficiency: expected a number in [0, 1], got {psi!r}")
        extra = self.alpha_bs_per_pulse
        if extra is not None and (not _is_number(extra) or not 0.0 < float(extra) <= 1.0):
            raise ValueError(f"alpha_bs_per_pulse: expected a number in (0, 1], got {extra!r}")
        object.__setattr__(self, "saturation_time", saturation_time)
        object.__setattr__(self, "inversion_times", times)
        object.__setattr__(self, "pulse_efficiency", efficiency)
        object.__setattr__(self, "saturation_efficiency", float(psi))
        object.__setattr__(self, "alpha_bs_per_pulse", None if extra is None else float(extra))


def maleki_pulse_efficiency(t1: ArrayLike, *, develop_compat: bool = False) -> np.ndarray:
    """Inversion efficiency χ(T1) of Maleki et al. 2011 as transcribed by ASLDRO develop::

        T1 in ms;  -0.998                                    250 <= T1 < 450
                   -(-2.245e-15 T1^4 + 2.378e-11 T1^3
                     - 8.987e-8 T1^2 + 1.442e-4 T1 + 0.91555)  450 <= T1 <= 2000
                   -0.998                                    2000 < T1 <= 4200

    Outside 250-4200 ms (background T1 = 0 included) develop gives 0 (no inversion at all);
    asldro extends the constant -0.998 of the end intervals instead (docs/physics.md §5.7).
    ``develop_compat=True`` gives develop's 0.
    """
    t1_ms = _f64(t1) * 1000.0
    outside = 0.0 if develop_compat else -0.998
    polynomial = -(
        (-2.245e-15) * t1_ms**4
        + (2.378e-11) * t1_ms**3
        - (8.987e-8) * t1_ms**2
        + (1.442e-4) * t1_ms
        + 9.1555e-1
    )
    middle = (t1_ms >= 450.0) & (t1_ms <= 2000.0)
    fitted_range = (t1_ms >= 250.0) & (t1_ms <= 4200.0)
    return np.where(middle, polynomial, np.where(fitted_range, -0.998, outside))


def resolve_pulse_efficiency(
    pulse_efficiency: float | str, t1: ArrayLike, *, develop_compat: bool = False
) -> np.ndarray:
    """χ for ``pulse_efficiency`` ``"ideal"`` (-1), ``"realistic"`` (:func:`maleki_pulse_efficiency`
    of ``t1``) or a number in [-1, 0], broadcast to the shape of ``t1``."""
    efficiency = _check_pulse_efficiency(pulse_efficiency)
    shape = np.shape(t1)
    if efficiency == PULSE_EFFICIENCY_REALISTIC:
        return maleki_pulse_efficiency(t1, develop_compat=develop_compat)
    value = -1.0 if efficiency == PULSE_EFFICIENCY_IDEAL else float(efficiency)
    return np.full(shape, value, dtype=np.float64)


def _events(bs: BackgroundSuppression, chi: np.ndarray) -> list[tuple[float, ArrayLike]]:
    """(time before the excitation, multiplier k) of every event, nearest the excitation first.

    Equal times commute (every event is a multiplication of Mz), so ties need no rule."""
    events: list[tuple[float, ArrayLike]] = [(time, chi) for time in bs.inversion_times]
    events.append((bs.saturation_time, 1.0 - bs.saturation_efficiency))
    return sorted(events, key=lambda event: event[0])


def _suppression_sums(
    events: Sequence[tuple[ArrayLike, ArrayLike]], t1: np.ndarray, delay: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """``S`` and ``K`` of docs/physics.md (5.5) for ``events`` (time before the excitation, k)
    given nearest the excitation first; times, multipliers, T1 and delay broadcast."""
    rate = safe_divide(1.0, t1)  # x ⊘ T1 == x * (1 ⊘ T1)
    sum_term: ArrayLike = 0.0
    product: ArrayLike = 1.0
    for time, multiplier in events:
        relaxation = np.exp(-(np.add(time, delay) * rate))
        sum_term = sum_term + np.subtract(multiplier, 1.0) * product * relaxation
        product = np.multiply(product, multiplier)
    shape = np.broadcast_shapes(np.shape(sum_term), np.shape(t1), np.shape(delay))
    return np.broadcast_to(sum_term, shape), np.broadcast_to(product, shape)


# pylint: disable-next=too-many-locals  # the symbols of docs/physics.md (5.5)-(5.7), named as there
def static_mz(
    m0: ArrayLike,
    t1: ArrayLike,
    bs: BackgroundSuppression,
    *,
    delay: ArrayLike = 0.0,
    repetition_time: float | None = None,
    excitation_flip_angle: float = 90.0,
    develop_compat: bool = False,
) -> np.ndarray:
    """Longitudinal magnetisation of static tissue at its excitation (docs/physics.md §5.7).

    ``delay`` (>= 0, broadcasts: a per-voxel slice time in 2D) is the time from the reference
    excitation to this voxel's excitation; every event is then ``tau_e + delay`` before it, which
    for ψ = 1 equals ``M0 - (M0 - Mz)*exp(-delay ⊘ T1)``. ``repetition_time`` None: fully relaxed
    (Mz = M0) before the first event, develop's assumption; a TR: the steady state of the
    repeated block "events - excitation θ (``excitation_flip_angle``, degrees; 90 for se)",
    which needs every event within the TR. Both agree for ψ = 1. ``develop_compat`` only
    changes "realistic" χ outside Maleki's T1 range (:func:`maleki_pulse_efficiency`).
    """
    t1_values = _f64(t1)
    delay_values = _f64(delay)
    if np.any(delay_values < 0) or not np.all(np.isfinite(delay_values)):
        raise ValueError("delay: must be finite and >= 0 s")
    chi = resolve_pulse_efficiency(bs.pulse_efficiency, t1_values, develop_compat=develop_compat)
    events = _events(bs, chi)
    sum_term, product = _suppression_sums(events, t1_values, delay_values)
    if repetition_time is None:
        return np.asarray(_f64(m0) * (1.0 + sum_term), dtype=np.float64)
    earliest = events[-1][0] + float(np.max(delay_values, initial=0.0))
    if _check_time("repetition_time", repetition_time) < earliest:
        raise ValueError(
            f"repetition_time ({repetition_time} s) must be >= the earliest background "
            f"suppression pulse before the excitation ({earliest} s)"
        )
    e1 = np.exp(-safe_divide(repetition_time, t1_values))
    cos_theta = np.cos(np.deg2rad(np.float64(excitation_flip_angle)))
    relative = safe_divide(1.0 + sum_term - product * e1, 1.0 - cos_theta * product * e1)
    return np.asarray(_f64(m0) * relative, dtype=np.float64)


# pylint: disable-next=too-many-locals  # the inputs of docs/physics.md (5.10), each passed by name
def static_signal(
    contrast: str,
    m0: ArrayLike,
    t1: ArrayLike,
    t2: ArrayLike,
    t2_star: ArrayLike,
    bs: BackgroundSuppression,
    *,
    repetition_time: float,
    echo_time: float,
    flip_angle: float = 90.0,
    delay: ArrayLike = 0.0,
    m_enc: ArrayLike = 0.0,
    develop_compat: bool = False,
) -> np.ndarray:
    """Signal of a background-suppressed volume (docs/physics.md §5.7, D29).

    The readout of docs/physics.md §5 acts on the suppressed magnetisation ``Z`` of
    :func:`static_mz` (steady state at ``repetition_time``) instead of its own saturation
    recovery::

        se: S = (Z + Menc) * E2          ge: S = sin θ * (Z + Menc) * E2*

    (ψ = 1: no ``(1 - E1)`` factor). ``develop_compat=True`` gives ASLDRO develop's numerics:
    ``Z`` computed fully relaxed and fed to the readout as if it were M0, i.e. multiplied by
    the readout's ``(1 - E1)`` again (se) -- the pulses are still sorted (D28 is never copied).
    ``m_enc`` is ``-ΔM`` (attenuated, :class:`LabelAttenuation`) for a label volume.
    ``contrast`` "ir" raises ValueError: its inversion is a preparation of its own.
    """
    kind = contrast.lower()
    if kind == "ir":
        raise ValueError(
            "background suppression with the 'ir' readout is not modelled: the inversion "
            "recovery preparation would be one more inversion of the background suppression "
            "train; use 'se' or 'ge' (and add the inversion to inv_pulse_times if wanted)"
        )
    common = {
        "repetition_time": repetition_time,
        "echo_time": echo_time,
        "flip_angle": flip_angle,
    }
    if develop_compat:
        suppressed = static_mz(m0, t1, bs, delay=delay, develop_compat=True)
        return mri_signal(kind, suppressed, t1, t2, t2_star, m_enc=_f64(m_enc), **common)
    excitation = 90.0 if kind == "se" else flip_angle
    suppressed = static_mz(
        m0,
        t1,
        bs,
        delay=delay,
        repetition_time=repetition_time,
        excitation_flip_angle=excitation,
    )
    # M0 = 0 switches the readout's own saturation recovery off; Z enters as encoded Mz.
    return mri_signal(kind, 0.0, t1, t2, t2_star, m_enc=suppressed + _f64(m_enc), **common)


@dataclass(frozen=True)
class BolusPart:
    """The part of the labelled bolus created from ``start`` to ``end`` (s after the start of
    labelling; PASL: one part, the whole bolus, 0 to its width) and ``alpha_bs`` (>= 0), the
    product of ``|χ|*alpha_bs_per_pulse`` over the ``pulses`` inversions it experiences."""

    start: float
    end: float
    alpha_bs: float
    pulses: int


@dataclass(frozen=True)
class LabelAttenuation:
    """What the inversions do to ΔM (docs/physics.md §5.7), to apply and to record.

    ``pulse_efficiency`` is the ``|χ|`` used for the labelled blood, ``alpha_bs_per_pulse``
    the extra factor per pulse (None = none), ``presaturation_after_labelling_start`` flags
    a presaturation played after the start of labelling, which asldro does not apply to ΔM
    (exact where the label reaches the voxel after it, i.e. transit time >= t - Q).
    ``sign`` is ``(-1)^N`` for the N inversions after the start of labelling: each inverts
    the labelled deficit with the rest of the magnetisation, so the signed control-label
    difference of the longitudinal magnetisation is ``sign * sum_j alpha_j * ΔM_j``
    (docs/physics.md (5.12)); the magnitude images then give control - label > 0 where the
    static tissue is inverted too.
    """

    parts: tuple[BolusPart, ...]
    pulse_efficiency: float
    alpha_bs_per_pulse: float | None
    presaturation_after_labelling_start: bool
    sign: int = 1

    @property
    def alpha_bs(self) -> float | None:
        """Woods' α_BS when the whole bolus experiences the same pulses, else None."""
        return self.parts[0].alpha_bs if len(self.parts) == 1 else None

    def attenuate(
        self, delta_m: Callable[[float, np.ndarray], ArrayLike], signal_time: ArrayLike
    ) -> np.ndarray:
        """``sign * sum_j alpha_j * delta_m(end_j - start_j, signal_time - start_j)``.

        ``delta_m(label_duration, signal_time)`` is the unattenuated ΔM of a bolus (e.g.
        :func:`asldro.physics.gkm.delta_m` with the other arguments bound); ``signal_time`` is
        the time from the start of labelling to this voxel's excitation (plus its slice time in
        2D). Exact superposition for every model whose ΔM is linear and time-invariant in the
        labelling (the Buxton model, arterial and dispersion kernels)."""
        t = _f64(signal_time)
        total = np.float64(0.0)
        for part in self.parts:
            total = total + part.alpha_bs * _f64(delta_m(part.end - part.start, t - part.start))
        return np.asarray(self.sign * total, dtype=np.float64)


def _label_type(label_type: str) -> str:
    kind = label_type.lower()
    if kind not in ("casl", "pcasl", "pasl"):
        raise ValueError(f"label_type: expected casl, pcasl or pasl, got {label_type!r}")
    return kind


def _labelling_start(label_type: str, label_duration: float, post_labeling_delay: float) -> float:
    """Time (s) from the start of labelling (PASL: the labelling pulse) to the excitation."""
    kind = _label_type(label_type)
    pld = _check_time("post_labeling_delay", post_labeling_delay, allow_zero=True)
    if kind == "pasl":
        return pld
    return _check_time("label_duration", label_duration) + pld


def label_attenuation(
    bs: BackgroundSuppression,
    *,
    label_type: str,
    label_duration: float,
    signal_time: float,
    t1_blood: float,
    develop_compat: bool = False,
) -> LabelAttenuation:
    """The attenuation of ΔM by the inversions (docs/physics.md §5.7).

    ``signal_time`` t is the time from the start of labelling to the reference excitation, so
    an inversion ``tau_p`` before the excitation is at ``t - tau_p`` after the start of
    labelling. Inversions at or before the start of labelling do nothing to the label. PASL:
    the bolus exists from the labelling pulse on and experiences every later inversion.
    CASL/pCASL: the bolus is created over ``label_duration``; an inversion during labelling
    inverts the part already labelled, and the part labelled after it does not experience
    it (it keeps the sign of the bolus: the sequence exchanges label and control after such a
    pulse), so the bolus splits into parts. "realistic" χ is evaluated at ``t1_blood``.
    ``develop_compat=True``: ASLDRO develop's numerics, ΔM not attenuated (one part, α_BS 1).
    """
    kind = _label_type(label_type)
    t = _check_time("signal_time", signal_time)
    tau = _check_time("label_duration", label_duration)
    if kind != "pasl" and tau > t + TIME_TOLERANCE:
        raise ValueError(f"signal_time ({t} s) must be >= label_duration ({tau} s)")
    # Inversions after the start of labelling, in s after it (t - tau_p), ascending.
    after_start = sorted(t - time for time in bs.inversion_times if t - time > TIME_TOLERANCE)
    presaturation_after = bs.saturation_time < t - TIME_TOLERANCE
    parts: tuple[BolusPart, ...]
    if develop_compat:
        parts = (BolusPart(0.0, tau, 1.0, len(after_start)),)
        return LabelAttenuation(parts, 1.0, None, presaturation_after)
    chi = float(resolve_pulse_efficiency(bs.pulse_efficiency, t1_blood))
    per_pulse = abs(chi) * (1.0 if bs.alpha_bs_per_pulse is None else bs.alpha_bs_per_pulse)
    parts = _bolus_parts(kind, tau, after_start, per_pulse)
    sign = -1 if len(after_start) % 2 else 1
    return LabelAttenuation(parts, abs(chi), bs.alpha_bs_per_pulse, presaturation_after, sign)


def _bolus_parts(
    kind: str, label_duration: float, after_start: Sequence[float], per_pulse: float
) -> tuple[BolusPart, ...]:
    """The parts of the bolus (docs/physics.md (5.11)): PASL one, created by the labelling
    pulse and seeing every inversion after it; CASL/pCASL split by the inversions during
    labelling, each part seeing the inversions after its creation."""
    if kind == "pasl":
        return (BolusPart(0.0, label_duration, per_pulse ** len(after_start), len(after_start)),)
    inside = [time for time in after_start if time < label_duration - TIME_TOLERANCE]
    parts = []
    for start, end in itertools.pairwise([0.0, *inside, label_duration]):
        experienced = sum(1 for time in after_start if time >= end - TIME_TOLERANCE)
        parts.append(BolusPart(start, end, per_pulse**experienced, experienced))
    return tuple(parts)


def bids_pulse_timing(
    label_type: str,
    *,
    label_duration: float | None,
    post_labeling_delay: float,
    inversion_times: Sequence[float],
) -> tuple[tuple[float, ...], int]:
    """BIDS ``BackgroundSuppressionPulseTime`` and ``...NumberPulses`` (docs/physics.md §5.7, D31).

    ``post_labeling_delay`` is the FIRST PLD of the series (BIDS: only the first PLD's pulse
    times are written); the start of labelling is ``label_duration + PLD`` before the
    excitation for casl/pcasl, ``PLD`` (= TI, from the labelling pulse) for pasl
    (``label_duration`` unused, may be None; D30). Returns the inversion times after the start of
    labelling, sorted ascending, each >= 0 (rounded to 1 ns), and their number; inversions
    before the start of labelling and the presaturation are in neither.
    """
    start = _labelling_start(
        label_type, 0.0 if label_duration is None else label_duration, post_labeling_delay
    )
    times = []
    for index, value in enumerate(inversion_times):
        after_start = round(
            start - _check_time(f"inversion_times[{index}]", value), BIDS_TIME_DECIMALS
        )
        if after_start >= 0.0:
            times.append(after_start + 0.0)  # + 0.0 turns -0.0 into 0.0
    times.sort()
    return tuple(times), len(times)


def optimisation_t1_values(t1: ArrayLike) -> tuple[float, ...]:
    """The T1s to optimise for by default: the distinct finite T1 > 0 of ``t1`` (develop's
    ``t1_opt`` default), sorted; more than ``MAX_OPTIMISATION_T1_VALUES`` are reduced to that
    many evenly spaced quantiles (values of the map). Raises ValueError if there is none."""
    values = np.unique(_f64(t1))
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        raise ValueError("t1_opt: the T1 map has no T1 > 0 to optimise the inversion times for")
    if values.size > MAX_OPTIMISATION_T1_VALUES:
        picks = np.linspace(0, values.size - 1, MAX_OPTIMISATION_T1_VALUES)
        values = np.unique(values[np.round(picks).astype(int)])
    return tuple(float(value) for value in values)


def _optimisation_mz(
    inversion_times: np.ndarray,
    t1_values: np.ndarray,
    chi: np.ndarray,
    saturation_time: float,
    saturation_efficiency: float,
) -> np.ndarray:
    """Mz/M0 (rows: time sets, columns: T1s) ``saturation_time`` after the presaturation, fully
    relaxed before it: (5.5)-(5.6) for rows of times in [0, Q] sorted ascending."""
    times = np.atleast_2d(inversion_times)
    events: list[tuple[ArrayLike, ArrayLike]] = [
        (times[:, index : index + 1], chi[None, :]) for index in range(times.shape[1])
    ]
    events.append((saturation_time, 1.0 - saturation_efficiency))
    sum_term, _ = _suppression_sums(events, t1_values[None, :], 0.0)
    return cast(np.ndarray, 1.0 + np.broadcast_to(sum_term, (times.shape[0], t1_values.size)))


def _objective_rows(mz: np.ndarray) -> np.ndarray:
    """ASLDRO develop's objective per row: sum Mz^2 + number of Mz < 0."""
    return cast(np.ndarray, np.sum(mz**2, axis=1) + np.sum(mz < 0, axis=1))


@dataclass(frozen=True)
class _OptimisationProblem:
    """Mz/M0 of ``t1_values`` (inversion efficiencies ``chi``) at Q after the presaturation."""

    t1_values: np.ndarray
    chi: np.ndarray
    saturation_time: float
    saturation_efficiency: float

    def mz(self, times: np.ndarray) -> np.ndarray:
        """Mz/M0 rows for rows of sorted times."""
        return _optimisation_mz(
            times, self.t1_values, self.chi, self.saturation_time, self.saturation_efficiency
        )

    def objective(self, times: np.ndarray) -> float:
        """develop's objective (5.13) for one set of times."""
        return float(_objective_rows(self.mz(np.sort(times)))[0])

    def residuals_and_jacobian(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mz per T1 and dMz/dtau_m for sorted ``times`` (the ranks stay fixed): the derivative
        of (5.8), ``-(χ^m - χ^(m-1)) * exp(-tau_m/T1) / T1``."""
        powers = self.chi[None, :] ** np.arange(times.size + 1)[:, None]
        relaxation = np.exp(-times[:, None] / self.t1_values[None, :])
        jacobian = -(powers[1:] - powers[:-1]) * relaxation / self.t1_values[None, :]
        return self.mz(times)[0], jacobian.T

    def clip(self, times: np.ndarray) -> np.ndarray:
        """``times`` moved into [0, Q] and sorted."""
        return np.sort(np.clip(times, 0.0, self.saturation_time))


def _grid_candidates(
    problem: _OptimisationProblem, num_pulses: int, keep: int
) -> tuple[list[np.ndarray], float]:
    """Starting points and the grid step: on a grid of cell centres in [0, Q], every
    combination of ``num_pulses`` distinct grid times (at most ``GRID_COMBINATIONS``) is
    evaluated; the ``keep`` best by develop's objective and the ``keep`` best by sum Mz^2."""
    grid_size = num_pulses + 1
    while grid_size < 400 and math.comb(grid_size + 1, num_pulses) <= GRID_COMBINATIONS:
        grid_size += 1
    grid = problem.saturation_time * (np.arange(grid_size) + 0.5) / grid_size
    rankings: tuple[list[tuple[float, tuple[int, ...]]], ...] = ([], [])
    combinations = itertools.combinations(range(grid_size), num_pulses)
    while chunk := list(itertools.islice(combinations, 8192)):
        indices = np.array(chunk, dtype=np.intp)
        mz = problem.mz(grid[indices])
        for ranking, values in zip(rankings, (_objective_rows(mz), np.sum(mz**2, axis=1))):
            best = np.argsort(values, kind="stable")[:keep]
            ranking.extend((float(values[i]), chunk[i]) for i in best)
            ranking[:] = sorted(ranking)[:keep]
    starts = list(dict.fromkeys(indices for ranking in rankings for _, indices in ranking))
    return [grid[list(indices)] for indices in starts], float(grid[1] - grid[0])


def _levenberg_marquardt(
    problem: _OptimisationProblem, times: np.ndarray, *, penalty: float
) -> np.ndarray:
    """Damped Gauss-Newton (Levenberg-Marquardt) on ``r = Mz - MZ_TARGET`` with the quadratic
    penalty ``penalty * min(r, 0)^2`` for the sign constraint Mz >= 0 (times kept in [0, Q]);
    a step is kept only if ``sum r^2 + penalty * sum min(r, 0)^2`` falls."""

    def residuals(candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mz, jacobian = problem.residuals_and_jacobian(candidate)
        weight = np.where(mz < MZ_TARGET, math.sqrt(penalty), 0.0)
        r = mz - MZ_TARGET
        return np.concatenate([r, weight * r]), np.vstack([jacobian, weight[:, None] * jacobian])

    r, jacobian = residuals(times)
    damping = 1e-3
    for _ in range(500):
        normal = jacobian.T @ jacobian
        scale = float(np.max(np.diag(normal), initial=0.0)) or 1.0
        step = -np.linalg.solve(normal + damping * scale * np.eye(times.size), jacobian.T @ r)
        trial = problem.clip(times + step)
        trial_r, trial_jacobian = residuals(trial)
        if float(trial_r @ trial_r) < float(r @ r):
            converged = float(r @ r - trial_r @ trial_r) <= 1e-15 * float(r @ r)
            times, r, jacobian = trial, trial_r, trial_jacobian
            damping = max(damping / 10.0, 1e-12)
            if converged or float(np.max(np.abs(step))) < 1e-13:
                break
        else:
            damping *= 10.0
            if damping > 1e12:
                break
    return times


def _compass_search(problem: _OptimisationProblem, times: np.ndarray, step: float) -> np.ndarray:
    """Deterministic pattern search on develop's objective: the best of the 2n moves
    ``tau_m +- step`` if it lowers the objective, else halve the step; stops below 1e-9 s."""
    current = problem.objective(times)
    while step > 1e-9:
        best_value, best_times = current, None
        for index in range(times.size):
            for sign in (1.0, -1.0):
                trial = times.copy()
                trial[index] += sign * step
                trial = problem.clip(trial)
                value = problem.objective(trial)
                if value < best_value:
                    best_value, best_times = value, trial
        if best_times is None:
            step /= 2.0
        else:
            times, current = best_times, best_value
    return times


def timing_objective(
    inversion_times: Sequence[float],
    t1_values: Sequence[float],
    *,
    saturation_time: float,
    pulse_efficiency: float | str = DEFAULT_PULSE_EFFICIENCY,
    saturation_efficiency: float = 1.0,
    develop_compat: bool = False,
) -> float:
    """ASLDRO develop's objective ``sum_i Mz_i^2 + #(Mz_i < 0)`` over ``t1_values`` (Mz/M0 at
    ``saturation_time`` after the presaturation, fully relaxed before it), with the physical
    (sorted) model; times before the excitation, each in [0, saturation_time]."""
    bs = BackgroundSuppression(
        saturation_time=saturation_time,
        inversion_times=(),
        pulse_efficiency=pulse_efficiency,
        saturation_efficiency=saturation_efficiency,
    )
    t1 = _f64(t1_values)
    times = np.sort(_f64(inversion_times))
    if np.any(times < 0) or np.any(times > bs.saturation_time):
        raise ValueError("inversion_times: each must be in [0, saturation_time]")
    chi = resolve_pulse_efficiency(bs.pulse_efficiency, t1, develop_compat=develop_compat)
    mz = _optimisation_mz(times, t1, chi, bs.saturation_time, bs.saturation_efficiency)
    return float(_objective_rows(mz)[0])


# pylint: disable-next=too-many-locals  # develop's parameters, each by name (docs/physics.md §5.7)
def optimise_inversion_times(
    t1_values: Sequence[float],
    *,
    num_pulses: int = DEFAULT_NUM_INVERSION_PULSES,
    saturation_time: float = DEFAULT_SATURATION_TIME,
    optimisation_saturation_time: float | None = DEFAULT_OPTIMISATION_SATURATION_TIME,
    pulse_efficiency: float | str = DEFAULT_PULSE_EFFICIENCY,
    saturation_efficiency: float = 1.0,
    develop_compat: bool = False,
) -> tuple[float, ...]:
    """Inversion times (s before the excitation, sorted) that suppress ``t1_values``
    (docs/physics.md §5.7): deterministic, no scipy, the same result on every run.

    Minimises :func:`timing_objective` at ``Q_opt = optimisation_saturation_time`` (None: Q)
    after the presaturation over times in [0, Q_opt]: the best grid combinations (exhaustive)
    refined by Levenberg-Marquardt with a quadratic penalty on Mz < 0 of increasing weight
    (``PENALTY_CONTINUATION``) and a compass search on the objective itself; the best result
    (the first of equals) is kept. As in ASLDRO develop the times
    are then shifted by ``Q - Q_opt`` (>= 0), so that Mz is slightly positive at the excitation.
    """
    problem, shift = _optimisation_problem(
        t1_values,
        num_pulses,
        saturation_time,
        optimisation_saturation_time,
        pulse_efficiency,
        saturation_efficiency,
        develop_compat,
    )
    best_value, best_times = math.inf, np.zeros(0)
    starts, grid_step = _grid_candidates(problem, int(num_pulses), keep=16)
    for start in starts:
        times = start
        for penalty in PENALTY_CONTINUATION:
            times = _levenberg_marquardt(problem, times, penalty=penalty)
        times = _compass_search(problem, times, grid_step)
        value = problem.objective(times)
        if value < best_value:
            best_value, best_times = value, times
    return tuple(float(time) for time in np.sort(best_times + shift))


def _optimisation_problem(
    t1_values: Sequence[float],
    num_pulses: int,
    saturation_time: float,
    optimisation_saturation_time: float | None,
    pulse_efficiency: float | str,
    saturation_efficiency: float,
    develop_compat: bool,
) -> tuple[_OptimisationProblem, float]:
    """The checked problem of :func:`optimise_inversion_times` and the shift ``Q - Q_opt``."""
    if not isinstance(num_pulses, (int, np.integer)) or isinstance(num_pulses, bool):
        raise ValueError(f"num_inv_pulses: expected an integer > 0, got {num_pulses!r}")
    if num_pulses < 1:
        raise ValueError(f"num_inv_pulses: expected an integer > 0, got {num_pulses!r}")
    saturation = _check_time("sat_pulse_time", saturation_time)
    optimisation = (
        saturation
        if optimisation_saturation_time is None
        else _check_time("sat_pulse_time_opt", optimisation_saturation_time)
    )
    if optimisation > saturation:
        raise ValueError(
            f"sat_pulse_time_opt ({optimisation} s) must be <= sat_pulse_time ({saturation} s)"
        )
    t1 = _f64(t1_values).ravel()
    if t1.size == 0 or np.any(~np.isfinite(t1)) or np.any(t1 <= 0):
        raise ValueError(f"t1_opt: expected one or more T1 > 0 s, got {list(t1_values)!r}")
    bs = BackgroundSuppression(
        saturation_time=optimisation,
        pulse_efficiency=pulse_efficiency,
        saturation_efficiency=saturation_efficiency,
    )
    chi = resolve_pulse_efficiency(bs.pulse_efficiency, t1, develop_compat=develop_compat)
    return _OptimisationProblem(t1, chi, optimisation, bs.saturation_efficiency), (
        saturation - optimisation
    )
