"""Hand-built SeriesResults for the BIDS writer tests (small grids, meta as documented in
``asldro.pipelines.types``)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from asldro.image import Image
from asldro.params.types import AslSeries, GroundTruthSeries, Motion, StructuralSeries
from asldro.pipelines.types import SeriesResult

SHAPE = (8, 9, 10)
SEGMENTATION = {"grey_matter": 1, "white_matter": 2, "csf": 3}


def affine(voxel: tuple[float, float, float] = (3.0, 3.0, 4.0)) -> np.ndarray:
    """A simple voxel-to-world matrix centred on the grid."""
    out = np.diag([*voxel, 1.0])
    out[:3, 3] = [-(n - 1) * v / 2 for n, v in zip(SHAPE, voxel)]
    return out


def _segmentation_map() -> np.ndarray:
    seg = np.zeros(SHAPE, dtype=np.uint16)
    seg[2:6, 2:7, 2:8] = 1
    seg[3:5, 3:6, 3:7] = 2
    seg[4, 4, 4] = 3
    return seg


def _asl_result(
    index: int = 1,
    context: str = "m0scan control label",
    *,
    label_type: str = "pcasl",
    label_duration: float = 1.8,
    signal_time: float = 3.6,
    acq_contrast: str = "se",
    echo_time: tuple[float, ...] | None = None,
    repetition_time: tuple[float, ...] | None = None,
    m0_uniform_value: float | None = None,
    seed: int = 0,
) -> SeriesResult:
    tokens = tuple(context.split())
    n = len(tokens)
    echo_time = echo_time or (0.01,) * n
    if repetition_time is None:
        repetition_time = tuple(10.0 if t == "m0scan" else 5.0 for t in tokens)
    rng = np.random.default_rng(seed)
    data = rng.uniform(1.0, 100.0, size=(*SHAPE, n)).astype(np.float32)
    params = AslSeries(
        description=f"asl {index}",
        asl_context=tokens,
        label_type=label_type,
        label_duration=label_duration,
        signal_time=signal_time,
        label_efficiency=0.85,
        acq_matrix=SHAPE,
        acq_contrast=acq_contrast,
        excitation_flip_angle=90.0,
        inversion_flip_angle=180.0,
        inversion_time=1.0,
        desired_snr=100.0,
        random_seed=seed,
        echo_time=tuple(echo_time),
        repetition_time=tuple(repetition_time),
        motion=tuple(Motion() for _ in tokens),
    )
    pld = signal_time if label_type == "pasl" else signal_time - label_duration
    meta: dict[str, Any] = {
        "series_type": "asl",
        "asl_context": tokens,
        "label_type": label_type,
        "label_duration": label_duration,
        "signal_time": signal_time,
        "post_label_delay": pld,
        "label_efficiency": 0.85,
        "acq_contrast": acq_contrast,
        "echo_time": tuple(echo_time),
        "repetition_time": tuple(repetition_time),
        "excitation_flip_angle": 90.0,
        "inversion_flip_angle": 180.0 if acq_contrast == "ir" else None,
        "inversion_time": 1.0 if acq_contrast == "ir" else None,
        "magnetic_field_strength": 3,
        "lambda_blood_brain": 0.9,
        "t1_arterial_blood": 1.65,
        "m0_uniform_value": m0_uniform_value,
        "voxel_size": (3.0, 3.0, 4.0),
        "acq_matrix": SHAPE,
        "desired_snr": 100.0,
        "noise_sigma": 0.5,
        "noise_reference": "mean m0 over the tissue mask",
        "random_seed": seed,
        "seeds": [[seed, index, v] for v in range(n)],
        "motion": tuple({"rot_x": 0.0, "transl_z": 0.0} for _ in tokens),
        "mr_acq_type": "3D",
        "image_type": "magnitude",
    }
    image = Image(data, affine(), meta, ({"filter": "gkm", "label_type": label_type},))
    return SeriesResult(index, "asl", params.description, params, {"asl": image})


def _structural_result(
    index: int = 3,
    *,
    modality: str = "T1w",
    acq_contrast: str = "se",
    output_image_type: str = "magnitude",
    seed: int = 0,
) -> SeriesResult:
    rng = np.random.default_rng(seed + 100)
    data = rng.uniform(0.0, 50.0, size=SHAPE)
    if output_image_type == "complex":
        data = (data + 1j * rng.normal(size=SHAPE)).astype(np.complex64)
    else:
        data = data.astype(np.float32)
    params = StructuralSeries(
        description=f"structural {index}",
        acq_matrix=SHAPE,
        acq_contrast=acq_contrast,
        echo_time=0.005,
        repetition_time=0.3 if acq_contrast != "ir" else 3.0,
        excitation_flip_angle=90.0,
        inversion_flip_angle=180.0,
        inversion_time=1.0,
        desired_snr=50.0,
        random_seed=seed,
        output_image_type=output_image_type,
        modality=modality,
        motion=Motion(),
    )
    meta = {
        "series_type": "structural",
        "acq_contrast": acq_contrast,
        "echo_time": 0.005,
        "repetition_time": params.repetition_time,
        "excitation_flip_angle": 90.0,
        "inversion_flip_angle": 180.0 if acq_contrast == "ir" else None,
        "inversion_time": 1.0 if acq_contrast == "ir" else None,
        "modality": modality,
        "output_image_type": output_image_type,
        "magnetic_field_strength": 3,
        "voxel_size": (3.0, 3.0, 4.0),
        "acq_matrix": SHAPE,
        "desired_snr": 50.0,
        "noise_sigma": 0.3,
        "noise_reference": "mean noiseless signal over the tissue mask",
        "random_seed": seed,
        "seeds": [seed, index],
        "motion": {"rot_x": 0.0},
        "mr_acq_type": "3D",
    }
    image = Image(data, affine(), meta, ({"filter": "signal", "contrast": acq_contrast},))
    return SeriesResult(index, "structural", params.description, params, {"structural": image})


GT_VALUES = {
    "perfusion_rate": ("ml/100g/min", (0.0, 60.0, 20.0, 0.0)),
    "transit_time": ("s", (0.0, 0.8, 1.2, 1000.0)),
    "t1": ("s", (0.0, 1.33, 0.83, 3.0)),
    "t2": ("s", (0.0, 0.08, 0.11, 0.3)),
    "t2_star": ("s", (0.0, 0.066, 0.053, 0.2)),
    "m0": ("", (0.0, 74.6, 64.7, 68.0)),
}


def _gt_results(
    index: int = 2, *, extra: dict[str, str] | None = None, segmentation: dict | None = None
) -> SeriesResult:
    seg = _segmentation_map()
    segmentation = dict(segmentation or SEGMENTATION)
    common = {
        "series_type": "ground_truth",
        "magnetic_field_strength": 3,
        "voxel_size": (3.0, 3.0, 4.0),
        "acq_matrix": SHAPE,
        "motion": {"rot_x": 0.0},
    }
    images = {}
    for quantity, (units, table) in GT_VALUES.items():
        data = np.asarray(table, dtype=np.float32)[seg]
        meta = {**common, "quantity": quantity, "units": units}
        images[quantity] = Image(data, affine(), meta, ({"filter": "resample"},))
    for quantity, units in (extra or {}).items():
        meta = {**common, "quantity": quantity, "units": units}
        images[quantity] = Image(seg.astype(np.float32) * 0.5, affine(), meta)
    meta = {**common, "quantity": "seg_label", "units": "", "segmentation": segmentation}
    images["seg_label"] = Image(seg, affine(), meta, ({"filter": "majority"},))
    params = GroundTruthSeries(
        description=f"ground truth {index}", acq_matrix=SHAPE, motion=Motion()
    )
    return SeriesResult(index, "ground_truth", params.description, params, images)


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
