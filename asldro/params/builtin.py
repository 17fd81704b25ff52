"""Names of the bundled ground truths (docs/physics.md §3.2); the one list the project uses."""

from __future__ import annotations

BUILTIN_GROUND_TRUTHS: tuple[str, ...] = ("hrgt_icbm_2009a_nls_3t", "hrgt_icbm_2009a_nls_1.5t")

TISSUE_MODELS: tuple[str, ...] = ("partial_volume", "single_label")
"""How each voxel of a built-in ground truth is made of tissues (``global_configuration.
tissue_model``, docs/physics.md §3.5): tissue fractions per voxel, or one tissue per voxel."""
DEFAULT_TISSUE_MODEL = "partial_volume"
"""The tissue model of a built-in ground truth when the parameter file names none (issue 13:
partial volume; ``single_label`` reproduces the output of asldro before it)."""
