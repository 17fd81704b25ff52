"""The vendor volume types of an asl series: ``deltam``, ``cbf`` and ``noRF`` (docs/physics.md
§5.8; issue 12 contracts 1-4).

* ``deltam`` is the vendor subtraction ``|C + n1| - |L + n2|``: the control and the label volume
  of the same plan (same phase, timing, TE, TR, motion) built by the very filters a control and
  a label volume take (``asldro.pipelines.asl``: background suppression and a 2D slice readout
  apply as they do there), each with its own noise draw from the volume's one stream (control
  first), magnitude each, then subtracted (:class:`Subtraction`). Noiseless: ``C - L``.
* ``cbf`` is the white paper's CBF (:mod:`asldro.physics.whitepaper`, Alsop 2015 Eq. 1 / Eq. 2)
  of that volume's own ΔM, calibrated with the noiseless M0 signal scale of the same readout
  (:func:`asldro.physics.signal.m0_signal_scale`, acquired on the acquisition grid with the
  volume's motion), PLD + SliceTiming[k] per slice in 2D, the series' label efficiency
  (:func:`cbf_label_efficiency`), λ and T1b of the kinetic model (:class:`WhitePaperCbf`).
* ``noRF`` is noise only: the signal is 0 (no excitation), the complex noise at the series'
  sigma is added, and the magnitude taken as for any volume (:class:`NoExcitation`).

:func:`m0_estimate` is ``M0Estimate`` (contract 4): the uniform M0 times the readout decay of the
perfusion volumes' echo, its perfusion-weighted mean over the ground truth where T2 (T2*) differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from asldro.acquisition.sampling import Grid
from asldro.image import Filter, Image, apply_pipeline
from asldro.params import timing as timing_rules
from asldro.params.types import AslSeries, AslVolume, LabelTiming
from asldro.physics import signal, whitepaper
from asldro.pipelines.contrast import excitation_flip_angle
from asldro.pipelines.filters import KineticModel

DELTAM, CBF, NO_RF = "deltam", "cbf", "noRF"
#: Volume types formed from a control and a label volume of the same plan.
SUBTRACTED = (DELTAM, CBF)
#: Volume types whose ΔM the perfusion is read from (their TE sets ``M0Estimate``).
PERFUSION_SOURCES = ("control", "label", DELTAM)

#: How each vendor volume type is formed, in words (the provenance records it per series).
FORMATION = {
    DELTAM: "|control + n1| - |label + n2|: a control and a label volume of the same phase, TE, "
    "TR and motion, simulated as control and label volumes are, each with its own noise draw "
    "from the volume's stream (control first), magnitude each, then subtracted",
    CBF: "the white paper's CBF (Alsop 2015 Eq. 1 (P)CASL / Eq. 2 PASL) of that volume's own "
    "deltam, calibrated with the noiseless M0 signal scale of the same readout (se M0*exp(-TE/T2), "
    "ge M0*sin(theta)*exp(-TE/T2*), ir M0*sin(theta)*exp(-TE/T2)) acquired with the volume's "
    "motion; PLD + SliceTiming per slice in 2D; 0 where that scale is 0; mL/100g/min",
    NO_RF: "noise only: signal 0 (no RF excitation), complex noise at the series' sigma, then "
    "the magnitude (or the complex noise for complex output)",
}


def cbf_label_efficiency(series: AslSeries, model: KineticModel, timing: LabelTiming) -> float:
    """The labelling efficiency a ``cbf`` volume is quantified with (the one place): the
    series' ``label_efficiency`` times, with background suppression, Woods' α_BS of the
    volume's timing (docs/physics.md (5.11)); where inversions during labelling split the bolus
    into parts of different α_BS, their mean weighted by each part's labelling duration (exact
    for the arrived plug-flow bolus when T1 effects within the bolus are negligible)."""
    alpha = float(series.label_efficiency)
    if model.suppression is None:
        return alpha
    attenuation = model.attenuation(timing)
    if attenuation.alpha_bs is not None:
        return alpha * attenuation.alpha_bs
    parts = attenuation.parts
    total = sum(part.end - part.start for part in parts)
    return alpha * sum(part.alpha_bs * (part.end - part.start) for part in parts) / total


def vendor_tokens(series: AslSeries) -> tuple[str, ...]:
    """The vendor volume types of ``series``' context, in their first order."""
    return tuple(t for t in dict.fromkeys(series.asl_context) if t in FORMATION)


def formation(series: AslSeries) -> dict[str, str]:
    """How each vendor volume type of ``series`` is formed (:data:`FORMATION`), in words."""
    return {token: FORMATION[token] for token in vendor_tokens(series)}


def branch_history(image: Image, done: Image) -> list[dict[str, Any]]:
    """The history entries ``done`` added to ``image`` (a branch's own steps), JSON-able."""
    return [dict(entry) for entry in done.history[len(image.history) :]]


@dataclass(frozen=True, eq=False)
class Subtraction:
    """``control - label`` of two branches applied to the same input (each ends with its noise
    and magnitude): the vendor ``deltam``, signed, float64 until the cast."""

    control: tuple[Filter, ...]
    label: tuple[Filter, ...]

    @property
    def branches(self) -> tuple[tuple[Filter, ...], ...]:
        """The sub-pipelines (their noise filters hold the volume's seed record)."""
        return (self.control, self.label)

    def __call__(self, image: Image) -> Image:
        control = apply_pipeline(image, self.control)
        label = apply_pipeline(image, self.label)
        return Image(
            data=np.asarray(control.data, dtype=np.float64) - label.data,
            affine=control.affine,
            history=image.history
            + (
                {
                    "filter": "subtract",
                    "formed_as": "control - label",
                    "control": branch_history(image, control),
                    "label": branch_history(image, label),
                },
            ),
        )


@dataclass(frozen=True, eq=False)
class NoExcitation:
    """A ``noRF`` volume's signal: 0 everywhere on the acquisition grid ``target`` (no RF
    excitation); its noise is added next."""

    target: Grid

    def __call__(self, image: Image) -> Image:
        return image.evolve(
            "no_excitation",
            data=np.zeros(self.target.shape, dtype=np.float64),
            affine=self.target.affine,
            token=NO_RF,
            acq_matrix=list(self.target.shape),
        )


@dataclass(frozen=True, eq=False)
class WhitePaperCbf:  # pylint: disable=too-many-instance-attributes  # the formula's inputs, one each
    """The white paper's CBF of the input ΔM (acquisition grid) with ``m0_scale`` (the M0
    signal scale on the same grid) as calibration: Eq. 1 for (p)CASL with ``delay`` = PLD (per
    slice in 2D: an array broadcasting along the third axis) and ``label_duration``, Eq. 2 for
    PASL with ``delay`` = TI and ``label_duration`` = the bolus width TI1 the model used."""

    m0_scale: np.ndarray
    label_type: str
    delay: float | np.ndarray
    label_duration: float
    label_efficiency: float
    lambda_blood_brain: float
    t1_arterial_blood: float

    def __call__(self, image: Image) -> Image:
        common: dict[str, float] = {
            "label_efficiency": self.label_efficiency,
            "lambda_blood_brain": self.lambda_blood_brain,
            "t1_arterial_blood": self.t1_arterial_blood,
        }
        if self.label_type == "pasl":
            cbf = whitepaper.pasl_cbf(
                image.data,
                self.m0_scale,
                inversion_time=self.delay,
                bolus_duration=self.label_duration,
                **common,
            )
            formula = "Alsop 2015 Eq. 2"
        else:
            cbf = whitepaper.casl_cbf(
                image.data,
                self.m0_scale,
                post_labeling_delay=self.delay,
                label_duration=self.label_duration,
                **common,
            )
            formula = "Alsop 2015 Eq. 1"
        delay = self.delay
        recorded: dict[str, Any] = {
            "formula": formula,
            "calibration": "noiseless M0 signal scale of the readout, acquired",
            "post_labeling_delay": (
                [float(d) for d in np.ravel(delay)] if np.ndim(delay) else float(delay)
            ),
            "label_duration": self.label_duration,
            "units": "mL/100g/min",
            **common,
        }
        return image.evolve("white_paper_cbf", data=cbf, **recorded)


def m0_scale_map(series: AslSeries, maps: Mapping[str, np.ndarray], echo_time: float) -> np.ndarray:
    """The M0 signal scale of ``series``' readout at ``echo_time`` on the ground-truth grid
    (lookup tables or dense maps, as ``maps``): the one rule,
    :func:`asldro.physics.signal.m0_signal_scale`."""
    return signal.m0_signal_scale(
        series.acq_contrast,
        maps["m0"],
        maps["t2"],
        maps["t2_star"],
        echo_time=echo_time,
        flip_angle=excitation_flip_angle(series),
    )


def cbf_filter(
    series: AslSeries,
    plan: AslVolume,
    model: KineticModel,
    m0_scale: np.ndarray,
) -> WhitePaperCbf:
    """The :class:`WhitePaperCbf` of volume ``plan`` with the acquired M0 signal scale
    ``m0_scale``: its PLD (TI) by the one rule (:func:`asldro.params.timing.post_labeling_delay`),
    plus SliceTiming[k] in slice k of a 2D readout; the bolus width the kinetic model used."""
    delay: float | np.ndarray = timing_rules.post_labeling_delay(
        series.label_type, plan.label_duration, plan.signal_time
    )
    slice_timing = series.readout_slice_timing
    if slice_timing is not None:
        delay = delay + np.asarray(slice_timing, dtype=np.float64)
    duration = model.effective_bolus_duration(plan.timing)
    return WhitePaperCbf(
        m0_scale=m0_scale,
        label_type=series.label_type,
        delay=delay,
        label_duration=float(duration),
        label_efficiency=cbf_label_efficiency(series, model, plan.timing),
        lambda_blood_brain=model.lambda_blood_brain,
        t1_arterial_blood=model.t1_arterial_blood,
    )


def weighted_mean(
    values: np.ndarray, weights: np.ndarray, counts: np.ndarray | None
) -> float | None:
    """``sum(w*v) / sum(w)`` over the ground truth (a table entry counts ``counts`` voxels;
    None for dense maps), None when the weights sum to 0."""
    w = np.asarray(weights, dtype=np.float64)
    v = np.broadcast_to(np.asarray(values, dtype=np.float64), w.shape)
    if counts is not None:
        w = w * counts
    total = float(np.sum(w))
    return None if total <= 0.0 else float(np.sum(w * v) / total)


def m0_estimate(
    series: AslSeries,
    maps: Mapping[str, np.ndarray],
    uniform_m0: float | None,
    counts: np.ndarray | None,
) -> float | None:
    """``M0Estimate`` (docs/bids.md §5): the uniform M0 times the readout decay at the TE of the
    first perfusion volume (control, label or deltam): the perfusion-weighted mean of the decay
    over the ground truth, exact where T2 (T2*) is uniform; the tissue-weighted mean where
    nothing is perfused. None when the M0 is not uniform (or the series has no such volume)."""
    if uniform_m0 is None:
        return None
    source = next((v for v in series.volumes if v.token in PERFUSION_SOURCES), None)
    if source is None:
        return None
    unit = {**maps, "m0": np.ones_like(maps["m0"])}
    decay = m0_scale_map(series, unit, source.echo_time)
    mean = weighted_mean(decay, maps["perfusion_rate"], counts)
    if mean is None:
        tissue = np.asarray(maps["m0"], dtype=np.float64) > 0
        mean = weighted_mean(decay, tissue.astype(np.float64), counts)
    return None if mean is None else float(uniform_m0) * mean


def has_vendor_volumes(volumes: Sequence[AslVolume]) -> bool:
    """True when any of ``volumes`` is a deltam, cbf or noRF volume."""
    return any(volume.token in FORMATION for volume in volumes)
