"""Motion values drawn from a distribution object, exactly as ASLDRO develop draws them
(docs/physics.md §2.3; kinetics-readouts §1.7).

``{"distribution": "gaussian", "mean": m, "sd": s, "seed": k}`` gives
``numpy.random.default_rng(k).normal(m, s, (n,))`` and ``{"distribution": "uniform", "min": a,
"max": b, "seed": k}`` gives ``default_rng(k).uniform(a, b, (n,))`` (:func:`uniform`), with
``n`` the number of ``asl_context`` tokens, rounded to 4 decimals (``numpy.round``, half to
even). Each key has its own generator: two keys with the same seed get the same draws (as in
develop). The resolved file holds the drawn list, so that it reproduces without the draw.
"""

from __future__ import annotations

from typing import Any, Mapping

from asldro.params.catalog import DISTRIBUTION_SEED, DISTRIBUTION_TAG

DECIMALS = 4
"""Develop rounds drawn values to 4 decimals so that a saved parameter file reproduces them."""


def is_distribution(value: Any) -> bool:
    """True when ``value`` is a distribution object (it has the ``distribution`` key)."""
    return isinstance(value, Mapping) and DISTRIBUTION_TAG in value


def draw(spec: Mapping[str, Any], count: int) -> list[float]:
    """``count`` values of the (validated) distribution ``spec``, as develop draws them."""
    import numpy as np  # lazy: importing asldro.params stays light

    rng = np.random.default_rng(int(spec.get("seed", DISTRIBUTION_SEED)))
    if spec[DISTRIBUTION_TAG] == "gaussian":
        values = rng.normal(spec["mean"], spec["sd"], (count,))
    else:
        values = uniform(rng, spec["min"], spec["max"], count)
    return [float(value) for value in values.round(decimals=DECIMALS)]


def uniform(rng: Any, low: float, high: float, count: int) -> Any:
    """``rng.uniform(low, high, count)`` as numpy computes it, ``low + (high - low) * U`` with
    ``U = rng.random()``, also for ``high < low``: the numpy ASLDRO develop ran accepted that
    (its documented example has min 1.0, max 0.1), newer numpy refuses it."""
    return low + (high - low) * rng.random((count,))
