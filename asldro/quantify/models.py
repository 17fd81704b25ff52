"""The kinetic models the multi-PLD fit offers, and the default (docs/quantify.md §4). Kept free
of heavy imports: the command line reads it to build its parser."""

from __future__ import annotations

#: Model names of :func:`asldro.physics.gkm.delta_m`; the first is the default.
MODELS = ("consensus", "whitepaper", "full")
DEFAULT_MODEL = MODELS[0]
