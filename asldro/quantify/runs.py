"""Quantifying one ASL run: the white-paper formula for one PLD, the kinetic-model fit for
several, per slice when ``SliceTiming`` is given, the mean of the cbf volumes for a cbf run; and
the text that says how it was done (docs/quantify.md §2–§5).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from asldro.physics import whitepaper
from asldro.quantify import multipld
from asldro.quantify.models import DEFAULT_MODEL
from asldro.quantify.constants import Constants
from asldro.quantify.errors import QuantifyError
from asldro.quantify.reading import RunData, RunPlan, slice_offsets

#: Output suffix -> (Units, what the map is).
MAPS = {
    "cbf": ("mL/100g/min", "Cerebral blood flow (CBF)"),
    "att": ("s", "Arterial transit time (ATT) of the tissue signal"),
    "abv": ("fraction", "Arterial blood volume (aBV, volume fraction of the voxel)"),
    "abat": ("s", "Arterial bolus arrival time (aBAT) of the arterial (macrovascular) signal"),
}
#: Parameters of the arterial fit, and the fewest groups it needs.
ARTERIAL_PARAMETERS = 4
MODEL_REFERENCES = {
    "consensus": "the consensus model of Woods et al. 2024 (MRM 92:469, doi 10.1002/mrm.30091, "
    "Eq. 2 (P)CASL, Eq. 3 PASL)",
    "whitepaper": "the white-paper model (Alsop et al. 2015, doi 10.1002/mrm.25197; zero "
    "until the bolus has fully arrived, as ASLDRO develop's gkm_model whitepaper)",
    "full": "the general kinetic model (Buxton et al. 1998, doi 10.1002/mrm.1910400308), with "
    "T1app = 1/(1/T1 + f/λ)",
}
ARTERIAL_REFERENCE = (
    "plus the arterial component (Chappell et al. 2010, doi 10.1002/mrm.22320; Woods et al. "
    "2024 Eq. 4 (P)CASL, Eq. 5 PASL)"
)


@dataclass(frozen=True)
class TissueT1:
    """Tissue T1 (s) of the ``full`` model: a number or a map on the run's grid."""

    value: float | np.ndarray
    source: str


@dataclass(frozen=True)
class Options:
    """How to quantify (the command line's options)."""

    model: str = DEFAULT_MODEL
    arterial: bool = False
    t1_tissue: TissueT1 = field(
        default_factory=lambda: TissueT1(1.3, "default (1.3 s, as Fabber/BASIL)")
    )
    m0_tr_correction: float | None = None
    #: The options given that act on the quantification of a ΔM (named as on the command
    #: line): a cbf run does not use them, and says so.
    given: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuantifiedRun:
    """The maps of one run (suffix -> float64 map on the run's grid), the Description of the
    method and its machine-readable parameters."""

    plan: RunPlan
    maps: dict[str, np.ndarray]
    method: str
    parameters: dict[str, Any]


def _physics_label_type(label_type: str) -> str:
    return label_type.lower()


def _numbers(values: Any) -> str:
    return ", ".join(f"{float(v):g}" for v in values)


def _unused_text(plan: RunPlan) -> str:
    """``"2 cbf volume(s) and 1 noRF volume(s)"`` of the volumes not used; "" when none."""
    return " and ".join(
        f"{count} {kind} volume(s)" for kind, count in plan.unused_volumes().items()
    )


def check_run(plan: RunPlan, options: Options) -> None:
    """Refuse, before any voxel is read, what the options cannot do with ``plan``; warn (once
    per run) about cbf volumes that are not used, and about options a cbf run does not use."""
    if plan.cbf is not None:
        if options.given:
            warnings.warn(
                f"{plan.relative}: quantified as the mean of its cbf volumes; "
                f"{', '.join(options.given)} not used"
            )
        return
    ignored_cbf = plan.unused_volumes().get("cbf")
    if ignored_cbf:
        warnings.warn(
            f"{plan.relative}: {ignored_cbf} cbf volume(s) ignored: CBF is quantified from the "
            "run's ΔM (control/label or deltam volumes)"
        )
    if options.arterial and plan.multi_pld and len(plan.groups) < ARTERIAL_PARAMETERS:
        raise QuantifyError(
            f"{plan.relative}: --arterial fits {ARTERIAL_PARAMETERS} parameters (CBF, ATT, aBV, "
            f"aBAT) and needs at least {ARTERIAL_PARAMETERS} distinct (PLD, labelling duration) "
            f"groups; the run has {len(plan.groups)}"
        )
    if options.m0_tr_correction is not None and plan.m0.m0_type == "Estimate":
        raise QuantifyError(
            f"{plan.metadata.where('M0Type')}: Estimate: --m0-tr-correction applies to M0 "
            "images only"
        )
    if options.m0_tr_correction is not None and not plan.m0.repetition_times:
        raise QuantifyError(
            f"{plan.m0.files[0] if plan.m0.files else plan.metadata.default_place}: "
            "RepetitionTimePreparation of the M0 is missing; --m0-tr-correction needs it"
        )
    if (
        plan.multi_pld
        and options.model == "full"
        and isinstance(options.t1_tissue.value, np.ndarray)
    ):
        if options.t1_tissue.value.shape != plan.shape:
            raise QuantifyError(
                f"--t1-tissue map has shape {options.t1_tissue.value.shape}, but "
                f"{plan.relative} has {plan.shape}"
            )


def _common_text(plan: RunPlan, constants: Constants, options: Options) -> str:
    m0 = plan.m0.description
    if options.m0_tr_correction is not None:
        m0 += (
            f", each M0 volume divided by 1 − exp(−TR/T1) with T1 {options.m0_tr_correction:g} s"
            " (--m0-tr-correction)"
        )
    else:
        m0 += ", no repetition-time correction"
    kinds = sorted({group.describe() for group in plan.groups})
    text = (
        f"ΔM = mean(control) − mean(label) (or mean(deltam)) of the volumes of each (PLD, "
        f"labelling duration) [{'; '.join(kinds)} per group]; M0 = {m0}. "
        f"λ = {constants.lambda_blood_brain.value:g} ({constants.lambda_blood_brain.source}); "
        f"T1 of arterial blood = {constants.t1_arterial_blood.value:g} s "
        f"({constants.t1_arterial_blood.source}); labelling efficiency α = "
        f"{constants.label_efficiency.value:g} ({constants.label_efficiency.source}); "
        f"{constants.background_suppression.source}"
    )
    if constants.background_suppression.value != 1.0:
        text += f"; α·α_BS = {constants.effective_label_efficiency:.6g} is the α of the formulas"
    text += "."
    if plan.bolus_cut_off is not None:
        technique, ti1 = plan.bolus_cut_off
        text += f" Bolus duration TI1 = {ti1:g} s (BolusCutOffDelayTime, {technique})."
    if plan.slice_timing is not None:
        text += " Each slice's PLD is PostLabelingDelay + SliceTiming of the slice."
    unused = _unused_text(plan)
    if unused:
        text += f" The {unused} of the run are not used."
    return text + " Voxels with M0 <= 0 are 0 (no brain mask is applied)."


def _single_pld(plan: RunPlan, data: RunData, constants: Constants) -> tuple[np.ndarray, str]:
    group = plan.groups[0]
    offsets = slice_offsets(plan)
    delay = group.post_labeling_delay + (0.0 if offsets is None else offsets)
    common = {
        "label_efficiency": constants.effective_label_efficiency,
        "lambda_blood_brain": constants.lambda_blood_brain.value,
        "t1_arterial_blood": constants.t1_arterial_blood.value,
    }
    if plan.label_type == "PASL":
        assert plan.bolus_cut_off is not None
        cbf = whitepaper.pasl_cbf(
            data.delta_m[..., 0],
            data.m0,
            inversion_time=delay,
            bolus_duration=plan.bolus_cut_off[1],
            **common,
        )
        formula = (
            "the white paper's PASL formula (Alsop et al. 2015, Eq. 2): CBF = 6000·λ·ΔM·"
            f"exp(TI/T1b) / (2·α·TI1·M0), TI = {group.post_labeling_delay:g} s"
        )
    else:
        cbf = whitepaper.casl_cbf(
            data.delta_m[..., 0],
            data.m0,
            post_labeling_delay=delay,
            label_duration=group.label_duration,
            **common,
        )
        formula = (
            "the white paper's (P)CASL formula (Alsop et al. 2015, Eq. 1): CBF = 6000·λ·ΔM·"
            "exp(PLD/T1b) / (2·α·T1b·M0·(1 − exp(−τ/T1b))), PLD = "
            f"{group.post_labeling_delay:g} s, τ = {group.label_duration:g} s"
        )
    return np.where(data.m0 > 0, cbf, 0.0), f"one PLD, quantified with {formula}"


def _tissue_t1(valid: np.ndarray, options: Options) -> np.ndarray | float:
    value = options.t1_tissue.value
    if not isinstance(value, np.ndarray):
        return float(value)
    return value[valid]


def _with_tissue_t1(plan: RunPlan, valid: np.ndarray, options: Options) -> np.ndarray:
    """``valid`` without the voxels a ``--t1-tissue`` map gives no T1 > 0 (outside the tissue
    it describes: a ground-truth T1 map is 0 in the background, where an acquisition has
    partial-volume or rounding signal), with one warning giving their number; no such voxel
    left is an error."""
    value = options.t1_tissue.value
    if options.model != "full" or not isinstance(value, np.ndarray):
        return valid
    has_t1 = np.isfinite(value) & (value > 0)
    left_out = int(np.count_nonzero(valid & ~has_t1))
    valid = valid & has_t1
    if not valid.any():
        raise QuantifyError(f"--t1-tissue map: no voxel of {plan.relative} with M0 > 0 has T1 > 0")
    if left_out:
        warnings.warn(
            f"--t1-tissue map: {left_out} voxel(s) of {plan.relative} with M0 > 0 have no "
            "T1 > 0 there and are written as 0"
        )
    return valid


def _fit_per_slice(
    plan: RunPlan, y: np.ndarray, kinetics: multipld.Kinetics, options: Options, valid: np.ndarray
) -> dict[str, np.ndarray]:
    """The fit of the voxels ``y`` (the run's ``valid`` ones), per distinct slice time when
    ``SliceTiming`` is given (each slice's PLD shifted by it)."""
    t1 = np.broadcast_to(np.asarray(_tissue_t1(valid, options), dtype=np.float64), (y.shape[0],))
    offsets = slice_offsets(plan)
    voxel_offsets = np.zeros(y.shape[0]) if offsets is None else offsets[valid]
    names = ("cbf", "att", "abv", "abat") if options.arterial else ("cbf", "att")
    fitted = {name: np.zeros(y.shape[0]) for name in names}
    for offset in np.unique(voxel_offsets):
        chosen = voxel_offsets == offset
        timing = multipld.Timing(
            _physics_label_type(plan.label_type),
            np.array([g.label_duration for g in plan.groups]),
            np.array([g.signal_time for g in plan.groups]) + offset,
            np.array([g.weight for g in plan.groups]),
        )
        result = multipld.fit(
            y[chosen], timing, kinetics, t1_tissue=t1[chosen], arterial=options.arterial
        )
        for name in names:
            fitted[name][chosen] = getattr(result, name)
    return fitted


def _multi_pld_text(plan: RunPlan, options: Options) -> str:
    """How the multi-PLD maps were made (for the Description)."""
    text = (
        f"{len(plan.groups)} (PLD, labelling duration) groups, PLD "
        f"[{_numbers(g.post_labeling_delay for g in plan.groups)}] s, labelling duration "
        f"[{_numbers(g.label_duration for g in plan.groups)}] s, weights "
        f"[{_numbers(g.weight for g in plan.groups)}] (inverse variance of each group's ΔM); "
        f"weighted least-squares fit, voxel by voxel, of {MODEL_REFERENCES[options.model]}"
        f"{' ' + ARTERIAL_REFERENCE if options.arterial else ''} to ΔM/M0: ATT on a grid of "
        f"{multipld.ARTERIAL_GRID_STEP if options.arterial else multipld.GRID_STEP:g} s, refined "
        f"by golden-section search to {multipld.TOLERANCE:g} s, "
        "CBF (and aBV) solved in closed form at each ATT"
    )
    text += {
        "full": " (Gauss–Newton steps in CBF, which enters T1app); tissue T1 "
        + options.t1_tissue.source,
        "whitepaper": "; this model does not change while ATT moves between two PLDs, so ATT is "
        "the midpoint of the interval the data determine",
        "consensus": "; where the bolus has fully arrived at every PLD the model does not depend "
        "on ATT, which is then reported as the midpoint between 0 and the first PLD",
    }[options.model]
    if options.arterial:
        text += (
            "; aBAT is determined only to the interval between the times at which the arterial "
            "bolus window starts or ends at a PLD: its midpoint is reported, with the aBV that "
            "fits there"
        )
    return text + ". Voxels without signal (ΔM 0 at every PLD) are 0"


def _multi_pld(
    plan: RunPlan, data: RunData, constants: Constants, options: Options
) -> tuple[dict[str, np.ndarray], str]:
    valid = _with_tissue_t1(plan, data.m0 > 0, options)
    kinetics = multipld.Kinetics(
        options.model,
        constants.effective_label_efficiency,
        constants.lambda_blood_brain.value,
        constants.t1_arterial_blood.value,
    )
    y = data.delta_m[valid] / data.m0[valid][:, None]
    maps = {}
    for name, values in _fit_per_slice(plan, y, kinetics, options, valid).items():
        maps[name] = np.zeros(plan.shape)
        maps[name][valid] = values
    return maps, _multi_pld_text(plan, options)


def quantify_cbf_run(plan: RunPlan, cbf: np.ndarray) -> QuantifiedRun:
    """The CBF of a cbf run (``cbf``: the mean of its cbf volumes) and how it was formed."""
    assert plan.cbf is not None
    volumes = len(plan.cbf.volumes)
    timing = f"PLD {plan.cbf.post_labeling_delay:g} s"
    if plan.cbf.label_duration is not None:
        timing += f", labelling duration {plan.cbf.label_duration:g} s"
    text = (
        f"the mean of the run's {volumes} cbf volumes ({timing}; Units mL/100g/min), as the "
        "source dataset computed them: the run has no control/label or deltam volume, so no M0, "
        "no kinetic model and no constant (λ, T1 of blood, α, background suppression) is used "
        "here"
    )
    unused = _unused_text(plan)
    if unused:
        text += f". The {unused} of the run are not used"
    parameters: dict[str, Any] = {
        "QuantificationMethod": "mean of the cbf volumes",
        "CbfVolumes": volumes,
        "PostLabelingDelay": [plan.cbf.post_labeling_delay],
        "LabelingDuration": ([] if plan.cbf.label_duration is None else [plan.cbf.label_duration]),
        "M0Type": plan.m0.m0_type,
        "BackgroundSuppression": plan.background_suppression,
    }
    return QuantifiedRun(plan, {"cbf": cbf}, text, parameters)


def quantify_run(
    plan: RunPlan, data: RunData, constants: Constants, options: Options
) -> QuantifiedRun:
    """The maps of one run and how they were made."""
    common = _common_text(plan, constants, options)
    parameters: dict[str, Any] = {
        "Constants": constants.as_dict(),
        "M0Type": plan.m0.m0_type,
        "PostLabelingDelay": [g.post_labeling_delay for g in plan.groups],
        "LabelingDuration": [g.label_duration for g in plan.groups],
        "M0RepetitionTimeCorrectionT1": options.m0_tr_correction,
        "SliceTimingApplied": plan.slice_timing is not None,
        "BackgroundSuppression": plan.background_suppression,
    }
    if not plan.multi_pld:
        if options.arterial:
            warnings.warn(
                f"{plan.relative}: one PLD: the arterial component needs several; only CBF is "
                "written",
                stacklevel=2,
            )
        cbf, how = _single_pld(plan, data, constants)
        parameters["QuantificationMethod"] = "white paper, single PLD"
        return QuantifiedRun(plan, {"cbf": cbf}, f"{how}. {common}", parameters)
    maps, how = _multi_pld(plan, data, constants, options)
    parameters.update(
        QuantificationMethod="least-squares fit, multi-PLD",
        KineticModel=options.model,
        ArterialComponent=options.arterial,
    )
    if options.model == "full":
        parameters["TissueT1"] = (
            options.t1_tissue.value
            if not isinstance(options.t1_tissue.value, np.ndarray)
            else options.t1_tissue.source
        )
    return QuantifiedRun(plan, maps, f"{how}. {common}", parameters)
