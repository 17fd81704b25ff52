"""Arterial (macrovascular) component of ΔM (docs/physics.md §4.9).

Labelled blood still inside the arteries of a voxel at the readout: Chappell et al., Separation
of macrovascular signal in multi-inversion time arterial spin labelling MRI, Magn Reson Med
2010;63:1357-1365, doi 10.1002/mrm.22320 [unverified]; the same boxcar is Woods et al. 2024
(doi 10.1002/mrm.30091) Eq. 4 and Eq. 5 as transcribed by ASLPrep, and Fabber's
``AIFModel_nodisp::kcblood`` without its erf edge smoothing::

    dM_art = 2 * alpha * M0b * aBV * a(t)
    a(t)   = exp(-aBAT/T1b)  (CASL, pCASL)  |  exp(-t/T1b)  (PASL)   for aBAT <= t < aBAT + tau
           = 0 otherwise (and for t <= 0 or T1b <= 0)

with ``M0b = M0 ⊘ λ`` (ASLPrep's convention) and aBV the arterial blood volume fraction. With a
dispersion, a(t) is the dispersed delivery of docs/physics.md §4.10
(:func:`asldro.physics.dispersion.delivery`, with Δ = aBAT). With a PASL bolus cut-off the
bolus width is τ_eff of docs/physics.md §4.8 (QUIPSS II, Q2TIPS); QUIPSS does not change it (the
signal of blood in the voxel at t >= TI1 is blood delivered after TI1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from asldro.physics import bolus, safe_divide
from asldro.physics import dispersion as dispersion_model


def arterial_delta_m(
    label_type: str,
    arterial_blood_volume: ArrayLike,
    arterial_transit_time: ArrayLike,
    m0: ArrayLike,
    *,
    label_duration: ArrayLike,
    signal_time: ArrayLike,
    label_efficiency: float,
    lambda_blood_brain: float,
    t1_arterial_blood: float,
    dispersion: dispersion_model.Dispersion | None = None,
    bolus_cut_off: bolus.BolusCutOff | None = None,
) -> np.ndarray:
    """ΔM_art of docs/physics.md §4.9 (add it to the tissue ΔM).

    Parameters
    ----------
    label_type : str
        "casl", "pcasl" or "pasl" (case-insensitive).
    arterial_blood_volume, arterial_transit_time, m0 : array_like
        aBV (fraction), aBAT (s) and M0: floats, lookup tables or maps.
    label_duration, signal_time : float or array_like
        tau (s; PASL: the natural bolus width) and t (s since the start of labelling); arrays
        broadcast (a quantifier passes one per volume).
    label_efficiency : float
        alpha.
    lambda_blood_brain, t1_arterial_blood : float
        lam and T1b (s).
    dispersion, bolus_cut_off :
        optional (docs/physics.md §4.10, §4.8); a cut-off for CASL/pCASL raises ValueError.

    Returns
    -------
    numpy.ndarray
        ΔM_art (float64, >= 0) with the broadcast shape of the inputs; exactly 0 where aBV = 0.
    """
    bolus.check_label_type(label_type, bolus_cut_off)
    tau = bolus.effective_bolus_duration(label_duration, bolus_cut_off)
    shape = dispersion_model.delivery(  # checks the label type
        label_type,
        signal_time,
        arterial_transit_time,
        label_duration=tau,
        t1_arterial_blood=t1_arterial_blood,
        dispersion=dispersion,
    )
    amplitude = 2.0 * np.float64(label_efficiency) * safe_divide(m0, lambda_blood_brain)
    return np.asarray(amplitude * np.asarray(arterial_blood_volume) * shape, dtype=np.float64)
