"""Turn engine values (numpy scalars and arrays, dataclasses, mapping proxies) into JSON: the one
JSON converter of asldro (sidecars, provenance, parameter and validation files all go through
:func:`json_bytes` or :func:`to_jsonable`)."""

from __future__ import annotations

import dataclasses
import json
import math
from enum import Enum
from pathlib import PurePath
from typing import Any, Mapping

import numpy as np

from asldro.omit import OMIT_WHEN_EMPTY

MAX_ARRAY_ITEMS = 4096


# pylint: disable-next=too-many-return-statements  # one return per kind of value converted
def to_jsonable(value: Any) -> Any:
    """A JSON-able copy of ``value``.

    Mappings become dicts (keys as strings), sequences lists, numpy scalars Python numbers,
    small arrays lists (large ones a ``{"shape", "dtype"}`` summary), non-finite floats strings,
    dataclasses dicts (without an empty field marked :data:`OMIT_WHEN_EMPTY`), paths strings;
    anything else its ``repr``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get(OMIT_WHEN_EMPTY) and not getattr(value, f.name))
        }
    if isinstance(value, np.ndarray):
        if value.size > MAX_ARRAY_ITEMS:
            return {"shape": list(value.shape), "dtype": str(value.dtype)}
        return to_jsonable(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, complex):
        return {"real": value.real, "imag": value.imag}
    return repr(value)


def json_bytes(value: Any) -> bytes:
    """Deterministic, indented UTF-8 JSON with a trailing newline (strict: no NaN)."""
    text = json.dumps(to_jsonable(value), indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")
