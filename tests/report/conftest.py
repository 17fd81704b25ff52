"""Report fixtures: small datasets written once per session (``asldro generate`` on small grids,
with motion and two PLDs so that every part of the participant page has something to show)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asldro.cli import main

MOTION = {"rot_x": [0.0, 1.0, -1.5, 2.0], "transl_y": [0.0, 0.5, 1.0, -0.5]}


def multi_pld_document() -> dict:
    """A two-PLD pCASL series with motion, its ground truth and a T1w, on small grids."""
    return {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
        "image_series": [
            {
                "series_type": "asl",
                "series_parameters": {
                    "acq_matrix": [20, 24, 16],
                    "asl_context": "control label control label",
                    "signal_time": [2.8, 2.8, 3.8, 3.8],
                    "label_duration": 1.8,
                    "desired_snr": 1000.0,
                    **MOTION,
                },
            },
            {"series_type": "ground_truth", "series_parameters": {"acq_matrix": [20, 24, 16]}},
            {
                "series_type": "structural",
                "series_parameters": {"acq_matrix": [24, 28, 24], "modality": "T1w"},
            },
        ],
    }


@pytest.fixture(name="multi_pld_dataset", scope="session")
def fixture_multi_pld_dataset(tmp_path_factory) -> Path:
    """A dataset written by ``asldro generate`` from :func:`multi_pld_document`."""
    folder = tmp_path_factory.mktemp("report")
    params = folder / "params.json"
    params.write_text(json.dumps(multi_pld_document()), encoding="utf-8")
    out = folder / "out"
    assert main(["generate", "--params", str(params), str(out)]) == 0
    return out
