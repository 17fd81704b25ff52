"""End-to-end fixtures: parameter documents kept small so each run takes about a second."""

import os
import shutil
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _hermetic_deno(tmp_path_factory, monkeypatch):
    """Keep bids-validator-deno's cache out of HOME."""
    monkeypatch.setenv("DENO_DIR", str(tmp_path_factory.getbasetemp() / "deno"))


def deno() -> str:
    """Path of the bids-validator-deno executable of this environment."""
    found = BIN / "bids-validator-deno"
    return str(found) if found.exists() else shutil.which("bids-validator-deno")


def small(series_type: str, **parameters) -> dict:
    """A series entry with a small acquisition matrix unless one is given."""
    parameters.setdefault("acq_matrix", [24, 28, 20])
    return {"series_type": series_type, "series_parameters": parameters}


def document(*series, **global_config) -> dict:
    """A parameter document on the built-in 3T ground truth."""
    return {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t", **global_config},
        "image_series": list(series),
    }


def env_without_home() -> dict:
    """The current environment without HOME."""
    return {k: v for k, v in os.environ.items() if k != "HOME"}
