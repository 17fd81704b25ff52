"""Complex Gaussian image noise and its σ from a desired SNR (docs/physics.md §7.1, D5).

Random values are DRAWN (:func:`draw_complex_noise`) separately from their APPLICATION
(:func:`add_noise`), so a draw can be recorded and replayed; the magnitude is taken by the
pipelines' ``Magnitude`` filter. The model::

    sigma = reference / snr             reference = mean |R_GT| inside the tissue mask (D5)
    I'    = I + n_re + 1j * n_im        n_re, n_im ~ N(0, sigma), real part drawn first
    |I'|                                Rician; Rayleigh (mean sigma*sqrt(pi/2)) where I = 0

Adding white complex noise in image space is statistically identical to ASLDRO's k-space
addition with sigma_k = sqrt(N) * sigma (§7.1). The magnitude's Rician distribution (Rayleigh
where the signal is 0) is Gudbjartsson H, Patz S, The Rician distribution of noisy MRI data,
Magn Reson Med 1995;34:910-914, doi 10.1002/mrm.1910340618, Eqs. [1]-[4] (docs/physics.md §7.2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


def noise_reference(
    values: ArrayLike, mask: ArrayLike | None = None, weights: ArrayLike | None = None
) -> float:
    """The reference of the noise level: ``mean |R|`` over ``mask`` (docs/physics.md D5).

    The one implementation of the rule. Every series computes its sigma through it
    (``SimulationContext.noise_sigma`` chooses the tissue mask: ``seg_label > 0`` on the
    ground-truth grid if there are tissue labels, else ``m0 > 0``); R is the M0 map for asl
    series and the noiseless signal for structural series.

    Parameters
    ----------
    values : array_like
        R: a dense map, or a per-tissue lookup table.
    mask : array_like of bool, optional
        Voxels (or table entries) included in the mean; all when omitted.
    weights : array_like, optional
        Weight of each entry, e.g. the voxel count of each tissue when ``values`` is a table;
        the mean is then ``sum(w*|R|) / sum(w)`` over the mask.

    Returns
    -------
    float
        The mean; 0.0 when the mask selects nothing (or only weight 0).
    """
    selected = np.asarray(values, dtype=np.float64)
    if mask is not None:
        keep = np.broadcast_to(np.asarray(mask, dtype=bool), selected.shape)
        selected = selected[keep]
        if weights is not None:
            weights = np.broadcast_to(np.asarray(weights), keep.shape)[keep]
    if selected.size == 0:
        return 0.0
    if weights is None:
        return float(np.mean(np.abs(selected)))
    weight = np.asarray(weights, dtype=np.float64)
    total = np.sum(weight)
    if total == 0.0:
        return 0.0
    return float(np.sum(np.abs(selected) * weight) / total)


def noise_sigma(reference: float, snr: float) -> float:
    """Noise standard deviation per channel ``sigma = reference / snr`` (docs/physics.md D5).

    ``reference`` is :func:`noise_reference`; ``snr`` >= 0, and 0 means no noise (0.0).
    """
    if snr < 0:
        raise ValueError(f"snr must be >= 0, got {snr}")
    if snr == 0:
        return 0.0
    return float(reference / snr)


def draw_complex_noise(
    shape: tuple[int, ...],
    sigma: float,
    rng: np.random.Generator,
    dtype: DTypeLike = np.complex64,
) -> np.ndarray:
    """Draw complex white Gaussian noise ``n_re + 1j*n_im``, each N(0, sigma) (§7.1).

    The real array is drawn first, then the imaginary array (C order), with
    ``rng.standard_normal`` in the real dtype matching ``dtype`` (float32 for complex64).
    """
    out = np.empty(shape, dtype=dtype)
    real_dtype = np.finfo(out.dtype).dtype
    scale = real_dtype.type(sigma)
    draw = np.empty(shape, dtype=real_dtype)  # one buffer for both parts
    for part in (out.real, out.imag):
        rng.standard_normal(dtype=real_dtype, out=draw)
        np.multiply(draw, scale, out=part)
    return out


def add_noise(image: ArrayLike, noise: ArrayLike) -> np.ndarray:
    """Apply drawn noise: ``I' = I + noise`` as complex128 (§7.1).

    A real image is added part by part into the result (the real part ``I + Re(noise)``, the
    imaginary part ``0 + Im(noise)``: what the complex sum computes, with no complex128 copy of
    the noise)."""
    image = np.asarray(image)
    noise = np.asarray(noise)
    if np.iscomplexobj(image) or not np.iscomplexobj(noise):
        return np.asarray(image, dtype=np.float64) + np.asarray(noise, dtype=np.complex128)
    out = np.empty(np.broadcast_shapes(image.shape, noise.shape), dtype=np.complex128)
    np.add(image, noise.real, out=out.real, dtype=np.float64)
    np.add(0.0, noise.imag, out=out.imag, dtype=np.float64)
    return out
