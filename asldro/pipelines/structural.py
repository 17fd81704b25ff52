"""The ``structural`` series (physics.md §1 table, §5, §6, §7).

Signal (Menc = 0) on the ground-truth grid -> motion + resampling -> complex noise ->
magnitude (or the complex image when ``output_image_type`` is ``complex``).
"""

from __future__ import annotations

from asldro.image import Image, apply_pipeline
from asldro.params.types import StructuralSeries
from asldro.pipelines import seeds
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.contrast import tissue_signal
from asldro.pipelines.filters import AddComplexNoise, CastTo, Magnitude
from asldro.pipelines.records import Noise, StructuralAcquisition, voxel_size
from asldro.pipelines.types import SeriesResult

QUANTITIES = ("t1", "t2", "t2_star", "m0")


def simulate_structural(
    context: SimulationContext,
    series: StructuralSeries,
    index: int,
    *,
    participant_label: str,
    seed: int | None = None,
) -> SeriesResult:
    """Simulate one structural series; ``index`` is its 1-based position in the parameter file."""
    gt = context.ground_truth
    maps = context.maps(QUANTITIES)
    data = tissue_signal(
        series, maps, repetition_time=series.repetition_time, echo_time=series.echo_time
    )
    sigma, reference = context.noise_sigma(data, series.desired_snr)
    acquire = context.acquire(series.acq_matrix, series.motion, tables=data.ndim == 1)
    base_seed = series.random_seed if seed is None else seed
    add_noise = AddComplexNoise.drawn(
        acquire.resampler.target.shape,
        sigma,
        seeds.seed_sequence(base_seed, participant_label, index, 0),
    )
    complex_output = series.output_image_type == "complex"
    if complex_output:
        finish = (CastTo("complex64") if add_noise.noise is not None else CastTo("float32"),)
    else:
        finish = (Magnitude(), CastTo("float32"))
    pipeline = (acquire, add_noise, *finish)
    image = apply_pipeline(
        Image(
            data=data,
            affine=gt.affine,
            history=({"filter": "mri_signal", "contrast": series.acq_contrast},),
        ),
        pipeline,
    )
    record = StructuralAcquisition(
        series=series,
        magnetic_field_strength=gt.parameters["magnetic_field_strength"],
        voxel_size=voxel_size(image),
        noise=Noise(sigma if sigma > 0 else None, reference, base_seed, (add_noise.seed,)),
    )
    return SeriesResult(
        index,
        "structural",
        series.description,
        series,
        {"structural": image},
        {"structural": record},
    )
