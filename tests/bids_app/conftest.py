"""Shared helpers for the BIDS-App tests: small parameter files and running ``./run.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_PY = ROOT / "run.py"

ASL = {"series_type": "asl", "series_description": "asl", "series_parameters": {}}
GROUND_TRUTH = {"series_type": "ground_truth", "series_description": "ground truth"}
STRUCTURAL = {
    "series_type": "structural",
    "series_description": "t1w",
    "series_parameters": {"acq_matrix": [24, 28, 24], "modality": "T1w"},
}


def small_document(structural: bool = True) -> dict[str, Any]:
    """ASLDRO parameters on small grids (asl 16x16x8, ground truth 16x16x8, T1w 24x28x24)."""
    asl = json.loads(json.dumps(ASL))
    asl["series_parameters"]["acq_matrix"] = [16, 16, 8]
    gt = dict(GROUND_TRUTH, series_parameters={"acq_matrix": [16, 16, 8]})
    series = [asl, gt] + ([json.loads(json.dumps(STRUCTURAL))] if structural else [])
    return {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
        "image_series": series,
    }


@pytest.fixture(scope="session")
def small_params(tmp_path_factory) -> Path:
    """A parameter file whose datasets pass every validation layer (asl, ground truth, T1w)."""
    path = tmp_path_factory.mktemp("params") / "small.json"
    path.write_text(json.dumps(small_document(), indent=2))
    return path


@pytest.fixture(scope="session")
def tiny_params(tmp_path_factory) -> Path:
    """Faster parameters without a structural series (for runs that skip validation)."""
    path = tmp_path_factory.mktemp("params") / "tiny.json"
    path.write_text(json.dumps(small_document(structural=False), indent=2))
    return path


def app_env(**changes: str | None) -> dict[str, str]:
    """The environment for ``./run.py``: the venv's python3 first on PATH (for the shebang),
    no byte-code writes (as in the container), plus ``changes`` (None removes a variable)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_app(
    *args: str | os.PathLike, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run ``./run.py args`` to completion."""
    return subprocess.run(
        [str(RUN_PY), *map(str, args)],
        env=env or app_env(),
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every visible file below ``root`` (relative path -> bytes), skipping hidden entries and
    the validation reports (which hold timings)."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if relative.name == "validation.json":
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def participants(root: Path) -> list[str]:
    """The participant_id column of participants.tsv."""
    lines = (root / "participants.tsv").read_text().splitlines()
    assert lines[0].split("\t")[0] == "participant_id"
    return [line.split("\t")[0] for line in lines[1:] if line]


def full_validation(root: Path):
    """All three validation layers, without writing reports into the dataset."""
    from asldro.bids.validate import validate_dataset

    return validate_dataset(root, layers=("own", "pybids", "bids-validator"), write_report=False)
