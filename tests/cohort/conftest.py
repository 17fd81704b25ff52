"""Shared helpers of the cohort tests: parameter documents with a cohort."""

from __future__ import annotations

from typing import Any

from asldro.params import load_params
from asldro.params.types import DroParams


def normal(mean: float, sd: float) -> dict[str, Any]:
    """A normal distribution object."""
    return {"distribution": "normal", "mean": mean, "sd": sd}


def cohort_document(cohort: dict[str, Any], *series: dict[str, Any]) -> dict[str, Any]:
    """A parameter document on the built-in 3T ground truth with ``cohort``."""
    return {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t", "cohort": cohort},
        "image_series": list(series),
    }


def cohort_params(cohort: dict[str, Any], *series: dict[str, Any]) -> DroParams:
    """The loaded parameters of :func:`cohort_document`."""
    return load_params(cohort_document(cohort, *series))
