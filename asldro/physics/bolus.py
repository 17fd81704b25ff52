"""PASL bolus cut-off: QUIPSS, QUIPSS II and Q2TIPS (docs/physics.md §4.8).

Wong, Buxton, Frank, Quantitative imaging of perfusion using a single subtraction (QUIPSS and
QUIPSS II), Magn Reson Med 1998;39:702-708, doi 10.1002/mrm.1910390506; Luh et al., Magn Reson
Med 1999;41:1246 (Q2TIPS) [unverified].

* **QUIPSS II**: the labelling slab is saturated at TI1, so the temporal bolus is cut to
  ``τ_eff = min(TI1, τ_nat)``.
* **Q2TIPS**: a train of thin saturation pulses at the distal edge of the labelling slab from
  TI1 to TI1s; ideal periodic saturation gives the same ``τ_eff = min(TI1, τ_nat)``; TI1s is
  metadata only (TI1 <= TI1s).
* **QUIPSS**: the *imaging* slab is
  saturated at TI1 and imaged at TI2 = t. ΔM accumulated before TI1 is destroyed (in control and
  label alike), so only labelled blood delivered after TI1 counts: the delivery window becomes
  ``[max(Δt, TI1), Δt + τ]`` where t >= TI1 (docs/physics.md §4.8 derives it from Buxton's
  convolution); before the saturation (t < TI1) nothing changes. The bolus width is not cut.

``τ_nat`` is the series' ``label_duration`` (PASL: the natural temporal bolus width).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import ArrayLike

CUT_OFF_TECHNIQUES = ("QUIPSS", "QUIPSSII", "Q2TIPS")
#: techniques that cut the bolus width (the labelling slab is saturated)
WIDTH_CUTTING_TECHNIQUES = ("QUIPSSII", "Q2TIPS")


@dataclass(frozen=True)
class BolusCutOff:
    """A PASL bolus cut-off (docs/physics.md §4.8).

    ``technique`` one of :data:`CUT_OFF_TECHNIQUES` (any case; stored upper-case),
    ``delay_time`` TI1 (s, > 0), ``end_time`` TI1s (s; Q2TIPS only, required there, >= TI1;
    None otherwise). BIDS writes ``BolusCutOffDelayTime`` TI1, or [TI1, TI1s] for Q2TIPS.
    Raises ValueError.
    """

    technique: str
    delay_time: float
    end_time: float | None = None

    def __post_init__(self) -> None:
        technique = str(self.technique).upper()
        if technique not in CUT_OFF_TECHNIQUES:
            raise ValueError(
                f"bolus cut-off technique must be one of {CUT_OFF_TECHNIQUES}, "
                f"got {self.technique!r}"
            )
        object.__setattr__(self, "technique", technique)
        delay = _positive_time("delay_time (TI1)", self.delay_time)
        object.__setattr__(self, "delay_time", delay)
        if technique != "Q2TIPS":
            if self.end_time is not None:
                raise ValueError(
                    f"bolus cut-off {technique}: end_time (TI1s) is for Q2TIPS only, "
                    f"got {self.end_time!r}"
                )
            return
        if self.end_time is None:
            raise ValueError("bolus cut-off Q2TIPS needs end_time (TI1s, the last pulse)")
        end = _positive_time("end_time (TI1s)", self.end_time)
        if end < delay:
            raise ValueError(
                f"bolus cut-off Q2TIPS: TI1 <= TI1s is required, got TI1 {delay} > TI1s {end}"
            )
        object.__setattr__(self, "end_time", end)

    @property
    def cuts_width(self) -> bool:
        """True for QUIPSS II and Q2TIPS (the bolus width is cut at TI1)."""
        return self.technique in WIDTH_CUTTING_TECHNIQUES


def _positive_time(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"bolus cut-off {name} must be a number, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number > 0.0):
        raise ValueError(f"bolus cut-off {name} must be finite and > 0 s, got {value!r}")
    return number


def check_label_type(label_type: str, cut_off: BolusCutOff | None) -> None:
    """Raise ValueError if a bolus cut-off is given for a label type other than PASL."""
    if cut_off is not None and label_type.lower() != "pasl":
        raise ValueError(
            f"a bolus cut-off ({cut_off.technique}) is defined for PASL only, "
            f"got label_type {label_type!r}"
        )


@overload
def effective_bolus_duration(natural_duration: float, cut_off: BolusCutOff | None) -> float: ...


@overload
def effective_bolus_duration(
    natural_duration: ArrayLike, cut_off: BolusCutOff | None
) -> float | np.ndarray: ...


def effective_bolus_duration(
    natural_duration: ArrayLike, cut_off: BolusCutOff | None
) -> float | np.ndarray:
    """The temporal bolus width τ_eff (s) of docs/physics.md §4.8.

    ``min(TI1, τ_nat)`` for QUIPSS II and Q2TIPS; ``τ_nat`` without a cut-off and for QUIPSS
    (which cuts the imaging window instead, :func:`delivery_window`). Element-wise: a float for a
    number, an array for an array of widths (one per volume, as a quantifier passes them).
    """
    natural = np.asarray(natural_duration, dtype=np.float64)
    if cut_off is not None and cut_off.cuts_width:
        natural = np.minimum(cut_off.delay_time, natural)
    return float(natural) if natural.ndim == 0 else natural


def bolus_truncated(natural_duration: float, cut_off: BolusCutOff | None) -> bool:
    """True if the cut-off shortens the bolus (QUIPSS II / Q2TIPS with TI1 < τ_nat).

    False without a cut-off, for QUIPSS, and where ``τ_nat <= TI1``. A caller warns where
    :func:`cut_off_ineffective` is True.
    """
    return cut_off is not None and cut_off.cuts_width and cut_off.delay_time < natural_duration


def cut_off_ineffective(natural_duration: float, cut_off: BolusCutOff | None) -> bool:
    """True if a QUIPSS II / Q2TIPS cut-off comes after the natural bolus has ended
    (``τ_nat < TI1``): the cut-off has no effect and ``τ_eff = τ_nat`` (the warning case)."""
    return cut_off is not None and cut_off.cuts_width and natural_duration < cut_off.delay_time


def window_start(signal_time: ArrayLike, cut_off: BolusCutOff | None) -> np.ndarray:
    """Start of the counted delivery (s): TI1 for QUIPSS where t >= TI1, else 0."""
    t = np.asarray(signal_time, dtype=np.float64)
    if cut_off is None or cut_off.technique != "QUIPSS":
        return np.zeros(t.shape)
    return np.where(t >= cut_off.delay_time, cut_off.delay_time, 0.0)


def delivery_window(
    transit_time: ArrayLike,
    label_duration: ArrayLike,
    signal_time: ArrayLike,
    cut_off: BolusCutOff | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(start, width)`` of the delivered bolus that counts at t (docs/physics.md §4.8).

    QUIPSS where t >= TI1: ``start = max(Δt, TI1)``, ``width = max(Δt + τ - start, 0)``;
    otherwise ``(Δt, τ)`` with τ from :func:`effective_bolus_duration`. The tissue models take
    these as their transit time and bolus width.
    """
    dt = np.asarray(transit_time, dtype=np.float64)
    tau = np.asarray(label_duration, dtype=np.float64)
    start_time = window_start(signal_time, cut_off)
    if cut_off is not None and cut_off.cuts_width:
        tau = np.minimum(tau, cut_off.delay_time)
    start = np.maximum(dt, start_time)
    width = np.where(start > dt, np.maximum(dt + tau - start, 0.0), tau)
    return start, width
