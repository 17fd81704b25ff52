"""The filters series pipelines are built from (DESIGN.md, "Pipe and filter, done lightly").

Each filter is a frozen dataclass with ``__call__(Image) -> Image`` that appends one history
entry. On the ground-truth grid an Image's ``data`` may be a 1-D per-tissue lookup table
(``value = table[seg]``, see ``asldro.groundtruth.types``); :class:`Acquire` turns it into a
volume on the acquisition grid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from asldro.acquisition import Resampler
from asldro.image import Image
from asldro.params.types import Motion
from asldro.physics import noise as noise_model
from asldro.pipelines import seeds


@dataclass(frozen=True)
class Acquire:
    """Rigid motion then box-PSF resampling onto the acquisition grid (physics.md §6, D3, D4, D4b).

    ``fractions`` are the per-label partial-volume fractions of ``seg`` for this grid and motion
    (shared by every volume with the same motion); lookup-table images are acquired as
    ``sum_l table[l] * fraction_l``, dense images through the resampler.
    """

    resampler: Resampler
    seg: np.ndarray
    motion: Motion
    fractions: np.ndarray | None = None

    def __call__(self, image: Image) -> Image:
        if image.data.ndim == 1:
            data = self.resampler.resample_table(self.seg, image.data, fractions=self.fractions)
        else:
            data = self.resampler.resample(image.data)
        target = self.resampler.target
        return image.evolve(
            "acquire",
            data=np.asarray(data, dtype=np.float64),
            affine=target.affine,
            meta={
                "voxel_size": tuple(float(v) for v in target.voxel_size),
                "acq_matrix": tuple(int(n) for n in target.shape),
            },
            motion=asdict(self.motion),
            acq_matrix=list(target.shape),
        )


@dataclass(frozen=True)
class AddComplexNoise:
    """Add pre-drawn complex Gaussian noise (physics.md §7.1, D5).

    The noise is drawn when the pipeline is built (from its own seeded stream) and only
    applied here, so every draw is recorded and replayable. ``noise is None`` means no noise
    (SNR 0): the image passes through unchanged.
    """

    sigma: float
    noise: np.ndarray | None
    seed: dict[str, Any] | None = None

    @classmethod
    def drawn(
        cls, shape: tuple[int, ...], sigma: float, sequence: np.random.SeedSequence
    ) -> "AddComplexNoise":
        """Draw the noise for ``shape`` now from its own stream (nothing drawn when sigma is 0)."""
        if sigma <= 0:
            return cls(0.0, None, None)
        rng = np.random.Generator(np.random.PCG64(sequence))
        noise = noise_model.draw_complex_noise(shape, sigma, rng)
        return cls(sigma, noise, seeds.describe(sequence))

    def __call__(self, image: Image) -> Image:
        if self.noise is None:
            return image.evolve("add_complex_noise", sigma=0.0)
        data = noise_model.add_noise(image.data, self.noise)
        return image.evolve("add_complex_noise", data=data, sigma=self.sigma, seed=self.seed)


@dataclass(frozen=True)
class Magnitude:
    """Take the magnitude |S| (Rician statistics where noise was added, physics.md §5, §9)."""

    def __call__(self, image: Image) -> Image:
        return image.evolve("magnitude", data=np.abs(image.data), meta={"image_type": "magnitude"})


@dataclass(frozen=True)
class CastTo:
    """Cast the data to the on-disk type (float32, or complex64 for complex output)."""

    dtype: str

    def __call__(self, image: Image) -> Image:
        return image.evolve("cast", data=np.asarray(image.data, dtype=self.dtype), dtype=self.dtype)
