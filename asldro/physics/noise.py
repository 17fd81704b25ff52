"""Complex Gaussian image noise and its σ from a desired SNR (physics.md §7.1, D5).

Random values are DRAWN (:func:`draw_complex_noise`) separately from their APPLICATION
(:func:`add_noise`, :func:`magnitude`), so a draw can be recorded and replayed. The model::

    sigma = reference / snr             reference = mean |R_GT| inside the tissue mask (D5)
    I'    = I + n_re + 1j * n_im        n_re, n_im ~ N(0, sigma), real part drawn first
    |I'|                                Rician; Rayleigh (mean sigma*sqrt(pi/2)) where I = 0

Adding white complex noise in image space is statistically identical to ASLDRO's k-space
addition with sigma_k = sqrt(N) * sigma (§7.1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

OUTPUT_TYPES = ("magnitude", "complex")


def noise_sigma(
    reference: ArrayLike,
    snr: float,
    mask: ArrayLike | None = None,
    weights: ArrayLike | None = None,
) -> float:
    """Noise standard deviation per channel ``sigma = mean(|R| over mask) / snr`` (D5).

    Definition (physics.md D5): the reference is the mean of |R_GT| over the tissue mask on the
    ground-truth grid (``seg_label > 0`` if present, else ``m0 > 0``); R_GT is m0 for asl
    series and the noiseless signal on the GT grid for structural series.

    Parameters
    ----------
    reference : array_like
        R_GT: a dense map, or a per-tissue lookup table.
    snr : float
        Desired SNR (>= 0); 0 means no noise and gives 0.0.
    mask : array_like of bool, optional
        Voxels (or table entries) included in the mean; all when omitted.
    weights : array_like, optional
        Weight of each entry, e.g. the voxel count of each tissue when ``reference`` is a
        table; the mean is then ``sum(w*|R|) / sum(w)`` over the mask.

    Returns
    -------
    float
        sigma; 0.0 when ``snr == 0`` or when the mask selects nothing (nothing to scale by).
    """
    if snr < 0:
        raise ValueError(f"snr must be >= 0, got {snr}")
    if snr == 0:
        return 0.0
    magnitude_ref = np.abs(np.asarray(reference, dtype=np.float64))
    selected = np.ones(magnitude_ref.shape, dtype=bool) if mask is None else np.asarray(mask)
    selected = np.broadcast_to(selected.astype(bool), magnitude_ref.shape)
    if weights is None:
        weight = selected.astype(np.float64)
    else:
        weight = np.where(selected, np.asarray(weights, dtype=np.float64), 0.0)
    total_weight = float(np.sum(weight))
    if total_weight == 0.0:
        return 0.0
    return float(np.sum(weight * magnitude_ref) / total_weight / snr)


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
    out.real = rng.standard_normal(shape, dtype=real_dtype) * scale
    out.imag = rng.standard_normal(shape, dtype=real_dtype) * scale
    return out


def add_noise(image: ArrayLike, noise: ArrayLike) -> np.ndarray:
    """Apply drawn noise: ``I' = I + noise`` as complex128 (§7.1)."""
    return np.asarray(image, dtype=np.float64) + np.asarray(noise, dtype=np.complex128)


def magnitude(image: ArrayLike) -> np.ndarray:
    """``|I|`` as float64: Rician after complex noise, Rayleigh where the signal is 0 (§7.1)."""
    return np.abs(np.asarray(image)).astype(np.float64, copy=False)


def apply_noise(
    image: ArrayLike,
    sigma: float,
    rng: np.random.Generator,
    output: str = "magnitude",
) -> np.ndarray:
    """Draw and add complex noise of ``sigma``, then return ``output`` (§7.1, §5).

    ``output`` is "magnitude" (|I'|, float64) or "complex" (I', complex128). With sigma == 0
    nothing is drawn and the signed real image is returned unchanged as float64.
    """
    if output not in OUTPUT_TYPES:
        raise ValueError(f"output must be one of {OUTPUT_TYPES}, got {output!r}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    data = np.asarray(image, dtype=np.float64)
    if sigma == 0:
        return data
    noisy = add_noise(data, draw_complex_noise(data.shape, sigma, rng))
    return magnitude(noisy) if output == "magnitude" else noisy
