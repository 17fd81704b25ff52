"""The constants of the quantification, each with where its value came from (docs/quantify.md
§3): λ, T1 of arterial blood, the labelling efficiency α and the background-suppression
efficiency α_BS that multiplies it, tissue T1 (model ``full``) and the T1 of the optional M0
repetition-time correction.

Defaults are the white paper's (Alsop et al. 2015, doi 10.1002/mrm.25197): λ 0.9; α 0.85 for
PCASL, 0.68 for CASL and 0.98 for PASL; T1b 1.65 s at 3 T and 1.35 s at 1.5 T (the values ASLPrep
uses, 2.087 s at 7 T as ASLPrep). A sidecar's ``LabelingEfficiency`` wins over the default, a
command-line value over both. Tissue T1 defaults to 1.3 s (the default of Fabber/BASIL).

α_BS is 1 (ideal inversions do not attenuate the label) unless ``--bs-efficiency-per-pulse X``
is given for a run with ``BackgroundSuppression`` true: then α_BS = X**N, N =
``BackgroundSuppressionNumberPulses`` (ASLPrep's 0.95**N heuristic, as an explicit option).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, TypeGuard

from asldro.quantify.errors import QuantifyError

LAMBDA_BLOOD_BRAIN = 0.9
#: T1 of arterial blood (s) by nominal field strength (T).
T1_BLOOD_BY_FIELD = {1.5: 1.35, 3.0: 1.65, 7.0: 2.087}
#: A MagneticFieldStrength within this distance (T) of a nominal field uses its T1b
#: (scanners report e.g. 2.89 T for a 3 T system).
FIELD_TOLERANCE = 0.2
#: White-paper labelling efficiency by ArterialSpinLabelingType.
LABEL_EFFICIENCY = {"PCASL": 0.85, "CASL": 0.68, "PASL": 0.98}
T1_TISSUE = 1.3
WHITE_PAPER = "the white paper's default (Alsop et al. 2015)"


@dataclass(frozen=True)
class Constant:
    """A constant's value and where it came from (for the sidecar's Description)."""

    value: float
    source: str


@dataclass(frozen=True)
class Overrides:
    """Values given by the user (command line or API); None keeps the default rule."""

    lambda_blood_brain: float | None = None
    t1_arterial_blood: float | None = None
    label_efficiency: float | None = None
    bs_efficiency_per_pulse: float | None = None  # X of α_BS = X**N; None (or 1): none


@dataclass(frozen=True)
class BackgroundSuppressionEfficiency:
    """α_BS, the factor of the labelling efficiency for background suppression, and how it was
    formed: ``per_pulse`` X and ``number_pulses`` N when α_BS = X**N was applied."""

    value: float
    source: str
    per_pulse: float | None = None
    number_pulses: int | None = None


NO_BACKGROUND_SUPPRESSION = BackgroundSuppressionEfficiency(
    1.0, "no background suppression (BackgroundSuppression false)"
)


@dataclass(frozen=True)
class Constants:
    """The constants of one ASL run."""

    lambda_blood_brain: Constant
    t1_arterial_blood: Constant
    label_efficiency: Constant
    background_suppression: BackgroundSuppressionEfficiency = NO_BACKGROUND_SUPPRESSION

    @property
    def effective_label_efficiency(self) -> float:
        """α·α_BS, the labelling efficiency the formulas and the fit use."""
        return self.label_efficiency.value * self.background_suppression.value

    def as_dict(self) -> dict[str, Any]:
        """The values by their BIDS-like names (written to the sidecars)."""
        values: dict[str, Any] = {
            "BloodBrainPartitionCoefficient": self.lambda_blood_brain.value,
            "T1ArterialBlood": self.t1_arterial_blood.value,
            "LabelingEfficiency": self.label_efficiency.value,
            "BackgroundSuppressionEfficiency": self.background_suppression.value,
            "EffectiveLabelingEfficiency": self.effective_label_efficiency,
        }
        if self.background_suppression.per_pulse is not None:
            values["BackgroundSuppressionEfficiencyPerPulse"] = (
                self.background_suppression.per_pulse
            )
            values["BackgroundSuppressionNumberPulses"] = self.background_suppression.number_pulses
        return values


def nominal_field(field_strength: float) -> float | None:
    """The nominal field (1.5, 3 or 7 T) within :data:`FIELD_TOLERANCE` of ``field_strength``."""
    for nominal in T1_BLOOD_BY_FIELD:
        if abs(field_strength - nominal) <= FIELD_TOLERANCE:
            return nominal
    return None


def _t1_blood(meta: Mapping[str, Any], where: str, override: float | None) -> Constant:
    if override is not None:
        return Constant(override, "given (--t1-blood)")
    field = meta.get("MagneticFieldStrength")
    if not _is_positive_number(field):
        raise QuantifyError(
            f"{where}: MagneticFieldStrength is {'missing' if field is None else repr(field)}, "
            "so T1 of arterial blood has no default: give --t1-blood"
        )
    nominal = nominal_field(float(field))
    if nominal is None:
        known = ", ".join(f"{f:g}" for f in T1_BLOOD_BY_FIELD)
        raise QuantifyError(
            f"{where}: MagneticFieldStrength {field} T has no default T1 of arterial blood "
            f"(known: {known} T, ±{FIELD_TOLERANCE} T): give --t1-blood"
        )
    return Constant(
        T1_BLOOD_BY_FIELD[nominal],
        f"default for MagneticFieldStrength {field:g} T (nominal {nominal:g} T; white paper, "
        "ASLPrep)",
    )


def _label_efficiency(
    meta: Mapping[str, Any], label_type: str, where: str, override: float | None
) -> Constant:
    if override is not None:
        return Constant(override, "given (--labeling-efficiency)")
    value = meta.get("LabelingEfficiency")
    if value is not None:
        if not _is_positive_number(value):
            raise QuantifyError(f"{where}: LabelingEfficiency must be a number > 0, got {value!r}")
        return Constant(float(value), "LabelingEfficiency of the sidecar")
    return Constant(LABEL_EFFICIENCY[label_type], f"{WHITE_PAPER} for {label_type}")


def _number_of_pulses(meta: Mapping[str, Any], sidecar: str, per_pulse: float) -> int:
    """``BackgroundSuppressionNumberPulses``, an integer >= 0 (``sidecar`` names its file)."""
    key = "BackgroundSuppressionNumberPulses"
    value = meta.get(key)
    option = f"--bs-efficiency-per-pulse {per_pulse:g}"
    if value is None:
        raise QuantifyError(
            f"{sidecar}: {key}: missing; {option} with BackgroundSuppression true needs the "
            "number of background-suppression pulses (α_BS = X**N)"
        )
    if not (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
        and float(value).is_integer()
    ):
        raise QuantifyError(
            f"{sidecar}: {key}: {value!r}; {option} needs the number of background-suppression "
            "pulses, an integer >= 0"
        )
    return int(value)


def background_suppression_efficiency(
    meta: Mapping[str, Any], where: str, per_pulse: float | None, *, sidecar: str
) -> BackgroundSuppressionEfficiency:
    """α_BS of a run with metadata ``meta`` (``where`` names the run, ``sidecar`` the file
    that sets ``BackgroundSuppressionNumberPulses``): X**N with ``per_pulse`` X for
    ``BackgroundSuppression`` true, else 1 (one warning when X is given without background
    suppression)."""
    option = None if per_pulse is None else f"--bs-efficiency-per-pulse {per_pulse:g}"
    if meta.get("BackgroundSuppression") is not True:
        state = "false" if "BackgroundSuppression" in meta else "missing"
        if option is None or per_pulse == 1.0:
            return BackgroundSuppressionEfficiency(
                1.0, f"no background suppression (BackgroundSuppression {state})"
            )
        warnings.warn(
            f"{where}: BackgroundSuppression {state}: {option} is not applied (no "
            "background-suppression pulses)"
        )
        return BackgroundSuppressionEfficiency(
            1.0, f"no background suppression (BackgroundSuppression {state}; {option} not applied)"
        )
    if per_pulse is None or per_pulse == 1.0:
        given = " (--bs-efficiency-per-pulse 1)" if option else ""
        return BackgroundSuppressionEfficiency(
            1.0,
            f"BackgroundSuppression true: no background-suppression efficiency applied{given} "
            "(ideal inversions do not attenuate the label; --bs-efficiency-per-pulse X applies "
            "α_BS = X**BackgroundSuppressionNumberPulses)",
        )
    number = _number_of_pulses(meta, sidecar, per_pulse)
    value = per_pulse**number
    return BackgroundSuppressionEfficiency(
        value,
        f"BackgroundSuppression true: background-suppression efficiency α_BS = {per_pulse:g}^"
        f"{number} = {value:.6g} ({option} per pulse, BackgroundSuppressionNumberPulses "
        f"{number}; the heuristic of ASLPrep's 0.95^N as an explicit option), which multiplies "
        "the labelling efficiency",
        per_pulse=per_pulse,
        number_pulses=number,
    )


def resolve_constants(
    meta: Mapping[str, Any],
    label_type: str,
    where: str,
    overrides: Overrides,
    *,
    sidecar: str | None = None,
) -> Constants:
    """The constants of a run with metadata ``meta`` (``where`` names it in errors, ``sidecar``
    the file of its background-suppression fields, default ``where``)."""
    lam = (
        Constant(overrides.lambda_blood_brain, "given (--lambda)")
        if overrides.lambda_blood_brain is not None
        else Constant(LAMBDA_BLOOD_BRAIN, WHITE_PAPER)
    )
    return Constants(
        lambda_blood_brain=lam,
        t1_arterial_blood=_t1_blood(meta, where, overrides.t1_arterial_blood),
        label_efficiency=_label_efficiency(meta, label_type, where, overrides.label_efficiency),
        background_suppression=background_suppression_efficiency(
            meta, where, overrides.bs_efficiency_per_pulse, sidecar=sidecar or where
        ),
    )


def _is_positive_number(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
