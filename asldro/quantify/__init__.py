"""Reference quantifier: CBF (single PLD) and CBF + ATT (+ aBV, aBAT) by a kinetic-model fit
(multi-PLD) from any BIDS ASL dataset, read from its files alone and written as a BIDS
derivative (docs/quantify.md). ``asldro quantify DATASET`` on the command line.

Modules: :mod:`~asldro.quantify.reading` (the BIDS files), :mod:`~asldro.quantify.constants`
(λ, T1b, α), :mod:`~asldro.quantify.multipld` (the fit), :mod:`~asldro.quantify.runs` (one
run), :mod:`~asldro.quantify.writing` (the derivative), :mod:`~asldro.quantify.api` (the whole);
the white-paper formulas are :mod:`asldro.physics.whitepaper` (shared with the generator).
The names below are imported lazily, so that the command line stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from asldro.quantify.models import DEFAULT_MODEL, MODELS

# The API names are resolved lazily by __getattr__ below.
# pylint: disable=undefined-all-variable
__all__ = ["DEFAULT_MODEL", "MODELS", "QuantifyError", "QuantifyResult", "quantify"]
# pylint: enable=undefined-all-variable

_LAZY = {
    "quantify": "asldro.quantify.api",
    "QuantifyResult": "asldro.quantify.api",
    "QuantifyError": "asldro.quantify.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'asldro.quantify' has no attribute {name!r}")
