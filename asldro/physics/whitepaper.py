"""The white paper's single-PLD CBF quantification (Alsop et al. 2015, MRM 73:102, doi
10.1002/mrm.25197, Eq. 1 and Eq. 2; docs/physics.md §9.1, §5.8)::

    (P)CASL: CBF = 6000·λ·ΔM·exp(PLD/T1b) / (2·α·T1b·M0·(1 − exp(−τ/T1b)))       Eq. 1
    PASL:    CBF = 6000·λ·ΔM·exp(TI/T1b)  / (2·α·TI1·M0)                          Eq. 2

τ is the labelling duration, TI the inversion time (BIDS ``PostLabelingDelay`` of a PASL run) and
TI1 the bolus duration set by the cut-off (``BolusCutOffDelayTime``, its first value for Q2TIPS).
The exponent of Eq. 2 is TI, the time of the readout, for QUIPSS II and Q2TIPS alike (ASLPrep
uses TI1s, the last Q2TIPS saturation time, there: kinetics reference §3.1, not copied).
With ``SliceTiming`` the PLD (TI) of each voxel is that of its slice. Voxels with M0 = 0 get 0.

The one implementation of the formulas: the generator's ``cbf`` volumes
(``asldro.pipelines.volume_types``, docs/physics.md §5.8) and ``asldro quantify``
(docs/quantify.md §2) both call these functions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from asldro.physics import safe_divide


def casl_cbf(
    delta_m: ArrayLike,
    m0: ArrayLike,
    *,
    post_labeling_delay: ArrayLike,
    label_duration: float,
    label_efficiency: float,
    lambda_blood_brain: float,
    t1_arterial_blood: float,
) -> np.ndarray:
    """CBF (ml/100g/min) of (P)CASL by the white paper's Eq. 1 (float64, element-wise)."""
    t1b = float(t1_arterial_blood)
    pld = np.asarray(post_labeling_delay, dtype=np.float64)
    numerator = 6000.0 * lambda_blood_brain * np.asarray(delta_m, dtype=np.float64)
    numerator = numerator * np.exp(pld / t1b)
    scale = 2.0 * label_efficiency * t1b * -np.expm1(-label_duration / t1b)
    return safe_divide(numerator, scale * np.asarray(m0, dtype=np.float64))


def pasl_cbf(
    delta_m: ArrayLike,
    m0: ArrayLike,
    *,
    inversion_time: ArrayLike,
    bolus_duration: float,
    label_efficiency: float,
    lambda_blood_brain: float,
    t1_arterial_blood: float,
) -> np.ndarray:
    """CBF (ml/100g/min) of PASL with a QUIPSS II / Q2TIPS cut-off by the white paper's Eq. 2
    (TI1 = ``bolus_duration``; float64, element-wise)."""
    ti = np.asarray(inversion_time, dtype=np.float64)
    numerator = 6000.0 * lambda_blood_brain * np.asarray(delta_m, dtype=np.float64)
    numerator = numerator * np.exp(ti / float(t1_arterial_blood))
    scale = 2.0 * label_efficiency * bolus_duration
    return safe_divide(numerator, scale * np.asarray(m0, dtype=np.float64))
