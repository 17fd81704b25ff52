"""Pure numpy physics of the DRO: one model per module (docs/physics.md §4, §5, §7).

* :mod:`asldro.physics.gkm` -- General Kinetic Model, ΔM for CASL, pCASL and PASL (§4, D1);
  the full, whitepaper and consensus models (§4.7), with a dispersed bolus (§4.10, §4.11).
* :mod:`asldro.physics.bolus` -- PASL bolus cut-off: QUIPSS, QUIPSS II, Q2TIPS (§4.8).
* :mod:`asldro.physics.arterial` -- the arterial (macrovascular) component of ΔM (§4.9).
* :mod:`asldro.physics.dispersion` -- dispersion kernels, the dispersed delivery, the
  incomplete gamma function (§4.10).
* :mod:`asldro.physics.signal` -- MRI signal models: spin, gradient echo, inversion recovery (§5).
* :mod:`asldro.physics.whitepaper` -- the white paper's single-PLD CBF (Alsop 2015 Eq. 1, 2; §9.1).
* :mod:`asldro.physics.noise` -- complex Gaussian noise, σ from a desired SNR, magnitude (§7.1, D5).

Every function is element-wise and broadcasts: inputs may be Python floats, 1-D per-tissue lookup
tables or 3-D maps; computation is in float64. This package imports nothing from the project.

``a ⊘ b`` (:func:`safe_divide`) is the safe division of docs/physics.md §0.1: ``a / b`` where
``b != 0``, else 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def safe_divide(numerator: ArrayLike, denominator: ArrayLike) -> np.ndarray:
    """Safe division ``a ⊘ b``: ``a / b`` where ``b != 0``, else 0 (docs/physics.md, Notation).

    Computed in float64 without RuntimeWarnings; the result has the broadcast shape.
    """
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.float64)
    np.divide(a, b, out=out, where=b != 0)
    return out


__all__ = ["safe_divide"]
