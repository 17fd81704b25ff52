"""Shared helpers for the parameter tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

BUILTIN = "hrgt_icbm_2009a_nls_3t"


def document(*series: dict[str, Any], **global_configuration: Any) -> dict[str, Any]:
    """A parameter document with the built-in 3T ground truth unless overridden."""
    return {
        "global_configuration": {"ground_truth": BUILTIN, **global_configuration},
        "image_series": list(series),
    }


def asl(**parameters: Any) -> dict[str, Any]:
    """An asl series entry with the given series_parameters."""
    return {"series_type": "asl", "series_parameters": parameters}


def structural(**parameters: Any) -> dict[str, Any]:
    """A structural series entry with the given series_parameters."""
    return {"series_type": "structural", "series_parameters": parameters}


@pytest.fixture(name="gt_pair")
def fixture_gt_pair(tmp_path: Path) -> tuple[Path, Path]:
    """An (empty) NIfTI + JSON pair in a ``gt`` folder: the loader only checks they exist."""
    folder = tmp_path / "gt"
    folder.mkdir()
    nifti, sidecar = folder / "my_gt.nii.gz", folder / "my_gt.json"
    nifti.write_bytes(b"")
    sidecar.write_text("{}")
    return nifti, sidecar
