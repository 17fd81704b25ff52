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
    "score",
]
# pylint: enable=undefined-all-variable


def _read_version() -> str:
    """The ``version`` file of the source tree this package runs from (a checkout, or an editable
    install, whose metadata keeps the version of the day it was installed), else the installed
    distribution's version (a wheel's metadata, made from that file when it was built)."""
    tree = Path(__file__).resolve().parent.parent
    if (tree / "pyproject.toml").is_file() and (tree / "version").is_file():
        return (tree / "version").read_text(encoding="utf-8").strip()
    from importlib.metadata import version

    return version("asldro")


__version__ = _read_version()

_LAZY = {
    "load_params": "asldro.params",
    "default_params": "asldro.params",
    "ParamError": "asldro.params",
    "load_ground_truth": "asldro.groundtruth",
    "generate_series": "asldro.pipelines",
    "generate": "asldro.api",
    "score": "asldro.scoring.api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'asldro' has no attribute {name!r}")
