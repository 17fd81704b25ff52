"""Fixtures of the scorer's tests: bids-validator-deno's cache kept out of HOME."""

import pytest


@pytest.fixture(autouse=True)
def _hermetic_deno(tmp_path_factory, monkeypatch):
    """Keep bids-validator-deno's cache out of HOME."""
    monkeypatch.setenv("DENO_DIR", str(tmp_path_factory.getbasetemp() / "deno"))
