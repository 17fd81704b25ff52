"""The BIDS facts the writer needs, loaded once from ``fields.json`` ("facts in one place")."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

_FIELDS_FILE = Path(__file__).with_name("fields.json")


@lru_cache(maxsize=1)
def fields() -> Mapping[str, Any]:
    """Return the parsed ``fields.json`` table (label types, contrasts, suffixes, texts)."""
    return json.loads(_FIELDS_FILE.read_text(encoding="utf-8"))
