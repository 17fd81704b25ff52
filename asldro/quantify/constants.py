"""The constants of the quantification, each with where its value came from (docs/quantify.md
§3): λ, T1 of arterial blood, the labelling efficiency α, tissue T1 (model ``full``) and the T1 of
the optional M0 repetition-time correction.

Defaults are the white paper's (Alsop et al. 2015, doi 10.1002/mrm.25197): λ 0.9; α 0.85 for
PCASL, 0.68 for CASL and 0.98 for PASL; T1b 1.65 s at 3 T and 1.35 s at 1.5 T (the values ASLPrep
uses, 2.087 s at 7 T as ASLPrep). A sidecar's ``LabelingEfficiency`` wins over the default, a
command-line value over both. Tissue T1 defaults to 1.3 s (the default of Fabber/BASIL).
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class Constants:
    """The constants of one ASL run."""

    lambda_blood_brain: Constant
    t1_arterial_blood: Constant
    label_efficiency: Constant

    def as_dict(self) -> dict[str, float]:
        """The values by their BIDS-like names (written to the sidecars)."""
        return {
            "BloodBrainPartitionCoefficient": self.lambda_blood_brain.value,
            "T1ArterialBlood": self.t1_arterial_blood.value,
            "LabelingEfficiency": self.label_efficiency.value,
        }


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


def resolve_constants(
    meta: Mapping[str, Any], label_type: str, where: str, overrides: Overrides
) -> Constants:
    """The constants of a run with metadata ``meta`` (``where`` names it in errors)."""
    lam = (
        Constant(overrides.lambda_blood_brain, "given (--lambda)")
        if overrides.lambda_blood_brain is not None
        else Constant(LAMBDA_BLOOD_BRAIN, WHITE_PAPER)
    )
    return Constants(
        lambda_blood_brain=lam,
        t1_arterial_blood=_t1_blood(meta, where, overrides.t1_arterial_blood),
        label_efficiency=_label_efficiency(meta, label_type, where, overrides.label_efficiency),
    )


def _is_positive_number(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
