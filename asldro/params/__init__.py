"""Parameter files: ASLDRO 2.x format, validated into typed objects (docs/physics.md §2, §10.2).

Public API: :func:`load_params`, :func:`default_params`, :class:`ParamError`,
:data:`BUILTIN_GROUND_TRUTHS`, :func:`m0_pairing`. Every parameter is one row of ``catalog.py``;
``schema.json`` (validated with jsonschema at load time), ``defaults.json`` and the README's
parameter tables are generated from it (``python -m asldro.params.generate``). A new
``series_parameters`` key is one catalog row (plus its typed field in ``types.py``).
"""

from asldro.params.builtin import BUILTIN_GROUND_TRUTHS
from asldro.params.errors import ParamError
from asldro.params.load import default_params, load_params
from asldro.params.pairing import m0_pairing
from asldro.params.types import (
    AslSeries,
    DroParams,
    GlobalConfig,
    GroundTruthSeries,
    GroundTruthSource,
    Modulation,
    Motion,
    Series,
    StructuralSeries,
)

__all__ = [
    "BUILTIN_GROUND_TRUTHS",
    "ParamError",
    "load_params",
    "default_params",
    "m0_pairing",
    "AslSeries",
    "DroParams",
    "GlobalConfig",
    "GroundTruthSeries",
    "GroundTruthSource",
    "Modulation",
    "Motion",
    "Series",
    "StructuralSeries",
]
