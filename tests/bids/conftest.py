"""SeriesResults for the BIDS writer tests, made by the real series pipelines on a tiny ground
truth (24x27x40 voxels of 1 mm, three tissues) acquired on an 8x9x10 grid (3x3x4 mm voxels), so
that what the writer is given is exactly what the pipelines produce and cannot drift from it."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import pytest

from asldro.groundtruth import GroundTruth
from asldro.params import load_params
from asldro.pipelines.asl import simulate_asl
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.groundtruth import simulate_ground_truth
from asldro.pipelines.structural import simulate_structural
from asldro.pipelines.types import SeriesResult

SHAPE = (8, 9, 10)
GT_SHAPE = (24, 27, 40)
VOXEL = (3.0, 3.0, 4.0)
SEGMENTATION = {"grey_matter": 1, "white_matter": 2, "csf": 3}
GT_VALUES = {
    "perfusion_rate": ("ml/100g/min", (0.0, 60.0, 20.0, 0.0)),
    "transit_time": ("s", (0.0, 0.8, 1.2, 1000.0)),
    "t1": ("s", (0.0, 1.33, 0.83, 3.0)),
    "t2": ("s", (0.0, 0.08, 0.11, 0.3)),
    "t2_star": ("s", (0.0, 0.066, 0.053, 0.2)),
    "m0": ("", (0.0, 74.6, 64.7, 68.0)),
}
GT_PARAMETERS = {"lambda_blood_brain": 0.9, "t1_arterial_blood": 1.65, "magnetic_field_strength": 3}
PARTICIPANT = "01"


def _segmentation_map() -> np.ndarray:
    seg = np.zeros(GT_SHAPE, dtype=np.uint16)
    seg[3:21, 3:24, 4:36] = 3
    seg[6:18, 6:21, 8:32] = 2
    seg[9:15, 9:18, 12:28] = 1
    return seg


@lru_cache(maxsize=None)
def tiny_context(
    extra: tuple[tuple[str, str], ...] = (), segmentation: tuple[tuple[str, int], ...] = ()
) -> SimulationContext:
    """The simulation context of the tiny ground truth, with ``extra`` quantities
    (name, units) whose value is half the label, and a ``segmentation`` table (default
    :data:`SEGMENTATION`)."""
    seg = _segmentation_map()
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    affine[:3, 3] = [-(n - 1) / 2 for n in GT_SHAPE]
    maps = {name: np.asarray(table) for name, (_, table) in GT_VALUES.items()}
    units = {name: unit for name, (unit, _) in GT_VALUES.items()}
    for name, unit in extra:
        maps[name] = np.arange(4, dtype=np.float64) * 0.5
        units[name] = unit
    gt = GroundTruth(
        affine=affine,
        shape=GT_SHAPE,
        seg=seg,
        segmentation=dict(segmentation) or SEGMENTATION,
        maps=maps,
        units={**units, "seg_label": ""},
        parameters=GT_PARAMETERS,
    )
    return SimulationContext(gt)


def _series(series_type: str, parameters: dict) -> object:
    """The typed parameters of one series (an m0scan-only asl series is loaded with an asl
    series to calibrate, as the parameter rules require)."""
    series = [
        {
            "series_type": series_type,
            "series_description": f"{series_type} series",
            "series_parameters": {"acq_matrix": list(SHAPE), **parameters},
        }
    ]
    if set(str(parameters.get("asl_context", "")).split()) == {"m0scan"}:
        series.append({"series_type": "asl", "series_parameters": {"asl_context": "control"}})
    document = {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
        "image_series": series,
    }
    return load_params(document).series[0]


def _asl_result(
    index: int = 1,
    context: str = "m0scan control label",
    *,
    label_type: str = "pcasl",
    label_duration: float | list[float] = 1.8,
    signal_time: float | list[float] = 3.6,
    acq_contrast: str = "se",
    echo_time: tuple[float, ...] | None = None,
    repetition_time: tuple[float, ...] | None = None,
    m0_uniform_value: float | None = None,
    seed: int = 0,
    m0scan_phases: str = "all",
    **extra: object,
) -> SeriesResult:
    """An asl series simulated by the asl pipeline; ``m0_uniform_value`` is given as the series'
    uniform ``m0``; ``label_duration`` and ``signal_time`` may be lists (one per phase);
    ``extra`` are further series parameters (``mr_acq_type``, ``slice_timing``, ...)."""
    parameters: dict = {
        "asl_context": context,
        "label_type": label_type,
        "label_duration": label_duration,
        "signal_time": signal_time,
        "m0scan_phases": m0scan_phases,
        "acq_contrast": acq_contrast,
        "random_seed": seed,
        **extra,
    }
    if echo_time is not None:
        parameters["echo_time"] = list(echo_time)
    if repetition_time is not None:
        parameters["repetition_time"] = list(repetition_time)
    if m0_uniform_value is not None:
        parameters["m0"] = m0_uniform_value
    series = _series("asl", {**parameters, **extra})
    return simulate_asl(tiny_context(), series, index, participant_label=PARTICIPANT)


def _structural_result(
    index: int = 3,
    *,
    modality: str = "T1w",
    acq_contrast: str = "se",
    output_image_type: str = "magnitude",
    seed: int = 0,
) -> SeriesResult:
    """A structural series simulated by the structural pipeline (TR 3 s for ir)."""
    parameters = {
        "modality": modality,
        "acq_contrast": acq_contrast,
        "output_image_type": output_image_type,
        "random_seed": seed,
        "repetition_time": 3.0 if acq_contrast == "ir" else 0.3,
    }
    series = _series("structural", parameters)
    return simulate_structural(tiny_context(), series, index, participant_label=PARTICIPANT)


def _gt_results(
    index: int = 2, *, extra: dict[str, str] | None = None, segmentation: dict | None = None
) -> SeriesResult:
    """A ground_truth series simulated by its pipeline, with ``extra`` quantities
    ``{name: units}`` and another ``segmentation`` table when given."""
    context = tiny_context(tuple((extra or {}).items()), tuple((segmentation or {}).items()))
    return simulate_ground_truth(context, _series("ground_truth", {}), index)


@pytest.fixture
def make_asl_result() -> Callable[..., SeriesResult]:
    """Factory: ``make_asl_result(index, "m0scan control label", label_type=..., ...)``."""
    return _asl_result


@pytest.fixture
def make_structural_result() -> Callable[..., SeriesResult]:
    """Factory: ``make_structural_result(index, modality=..., acq_contrast=..., ...)``."""
    return _structural_result


@pytest.fixture
def make_gt_results() -> Callable[..., SeriesResult]:
    """Factory: ``make_gt_results(index, extra={"name": "units"}, segmentation=...)``."""
    return _gt_results


@pytest.fixture(scope="session")
def deno_env(tmp_path_factory) -> dict[str, str]:
    """Environment for bids-validator-deno with its cache (DENO_DIR) in a temp folder."""
    import os

    return {**os.environ, "DENO_DIR": str(tmp_path_factory.mktemp("deno"))}
