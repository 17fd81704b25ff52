"""Rigid motion and box-PSF resampling to the acquisition grid (docs/physics.md §6)."""

from asldro.acquisition.motion import motion_matrix
from asldro.acquisition.sampling import Grid, Resampler, acquisition_grid

__all__ = ["Grid", "Resampler", "acquisition_grid", "motion_matrix"]
