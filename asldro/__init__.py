"""asldro: digital reference objects for Arterial Spin Labelling MRI.

The public API is imported lazily so that ``import asldro`` (and ``asldro --help``) stay fast.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

# The API names are resolved lazily by __getattr__ below.
# pylint: disable=undefined-all-variable
__all__ = [
    "__version__",
    "load_params",
    "default_params",
    "ParamError",
    "load_ground_truth",
    "generate_series",
    "generate",
]
# pylint: enable=undefined-all-variable


def _read_version() -> str:
    try:
        from importlib.metadata import version

        return version("asldro")
    except Exception:  # pylint: disable=broad-except  # not installed: read the source tree
        return (Path(__file__).resolve().parent.parent / "version").read_text().strip()


__version__ = _read_version()

_LAZY = {
    "load_params": "asldro.params",
    "default_params": "asldro.params",
    "ParamError": "asldro.params",
    "load_ground_truth": "asldro.groundtruth",
    "generate_series": "asldro.pipelines",
    "generate": "asldro.api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'asldro' has no attribute {name!r}")
