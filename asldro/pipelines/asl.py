"""The ``asl`` series (physics.md §1 table, §4, §5, §6, §7).

ΔM is computed once on the ground-truth grid; each ``asl_context`` token then gets its own
pipeline: signal on the ground-truth grid -> motion + resampling -> complex noise -> magnitude;
the volumes are stacked to 4-D.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from asldro.image import Image, apply_pipeline
from asldro.params.types import AslSeries
from asldro.physics import gkm
from asldro.pipelines import seeds
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.contrast import tissue_signal
from asldro.pipelines.filters import AddComplexNoise, CastTo, Magnitude
from asldro.pipelines.finite import quiet_float_errors
from asldro.pipelines.records import AslAcquisition, Noise, voxel_size
from asldro.pipelines.types import SeriesResult

QUANTITIES = ("perfusion_rate", "transit_time", "t1", "t2", "t2_star", "m0")


def volume_threads(n_volumes: int) -> int:
    """Threads for the volumes of one series: ``ASLDRO_THREADS`` if set, else the CPUs this
    process may use (at most 4), never more than the volumes."""
    wanted = os.environ.get("ASLDRO_THREADS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return min(int(wanted), n_volumes)
    return max(1, min(len(os.sched_getaffinity(0)), 4, n_volumes))


def simulate_asl(
    context: SimulationContext,
    series: AslSeries,
    index: int,
    *,
    participant_label: str,
    seed: int | None = None,
) -> SeriesResult:
    """Simulate one asl series; ``index`` is its 1-based position in the parameter file."""
    gt = context.ground_truth
    replace = {} if series.m0 is None else {"m0": series.m0}
    maps = context.maps(QUANTITIES, replace)
    lam = gt.parameters["lambda_blood_brain"]
    t1b = gt.parameters["t1_arterial_blood"]
    if series.lambda_blood_brain is not None:
        lam = series.lambda_blood_brain
    if series.t1_arterial_blood is not None:
        t1b = series.t1_arterial_blood
    kinetics = {
        "label_duration": series.label_duration,
        "signal_time": series.signal_time,
        "label_efficiency": series.label_efficiency,
        "lambda_blood_brain": float(lam),
        "t1_arterial_blood": float(t1b),
    }
    delta_m = gkm.delta_m(
        series.label_type,
        maps["perfusion_rate"],
        maps["transit_time"],
        maps["t1"],
        maps["m0"],
        **kinetics,
    )
    tables = delta_m.ndim == 1
    sigma, reference = context.noise_sigma(maps["m0"], series.desired_snr)
    base_seed = series.random_seed if seed is None else seed

    def simulate_volume(volume: int, token: str) -> tuple[Image, dict | None]:
        with quiet_float_errors():  # per thread; non-finite output is refused afterwards
            return _simulate_volume(volume, token)

    def _simulate_volume(volume: int, token: str) -> tuple[Image, dict | None]:
        data = tissue_signal(
            series,
            maps,
            repetition_time=series.repetition_time[volume],
            echo_time=series.echo_time[volume],
            m_enc=-delta_m if token == "label" else 0.0,
        )
        acquire = context.acquire(series.acq_matrix, series.motion[volume], tables=tables)
        add_noise = AddComplexNoise.drawn(
            acquire.resampler.target.shape,
            sigma,
            seeds.seed_sequence(base_seed, participant_label, index, volume),
        )
        history = ({"filter": "mri_signal", "token": token, "contrast": series.acq_contrast},)
        image = apply_pipeline(
            Image(data=np.asarray(data), affine=gt.affine, history=history),
            (acquire, add_noise, Magnitude(), CastTo("float32")),
        )
        return image, add_noise.seed  # the drawn noise itself is not kept

    # Volumes are independent (each has its own noise stream), so they run on a few threads;
    # the result does not depend on the number of threads.
    with ThreadPoolExecutor(max_workers=volume_threads(len(series.asl_context))) as pool:
        done = list(pool.map(simulate_volume, range(len(series.asl_context)), series.asl_context))
    image = done[-1][0]
    volumes = [volume_image.data for volume_image, _ in done]
    histories = [volume_image.history for volume_image, _ in done]
    seed_records = [seed_record for _, seed_record in done]

    stacked = Image(
        data=np.stack(volumes, axis=-1),
        affine=image.affine,
        history=(
            {"filter": "delta_m", "label_type": series.label_type, **kinetics},
            {"filter": "stack_volumes", "volumes": [[dict(e) for e in h] for h in histories]},
        ),
    )
    record = AslAcquisition(
        series=series,
        magnetic_field_strength=gt.parameters["magnetic_field_strength"],
        voxel_size=voxel_size(stacked),
        noise=Noise(sigma if sigma > 0 else None, reference, base_seed, tuple(seed_records)),
        lambda_blood_brain=float(lam),
        t1_arterial_blood=float(t1b),
        m0_uniform_value=context.uniform_value(maps["m0"]),
    )
    return SeriesResult(index, "asl", series.description, series, {"asl": stacked}, {"asl": record})
