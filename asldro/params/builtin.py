"""Names of the bundled ground truths (docs/physics.md §3.2); the one list the project uses."""

from __future__ import annotations

BUILTIN_GROUND_TRUTHS: tuple[str, ...] = ("hrgt_icbm_2009a_nls_3t", "hrgt_icbm_2009a_nls_1.5t")
