"""The ``structural`` series (docs/physics.md §1 table, §5, §6, §7).

:func:`build_structural_pipeline` gives the filters of the image (``asldro.pipelines.filters``):
the signal (Menc = 0) on the ground-truth grid -> motion + resampling -> complex noise ->
magnitude -> float32 (or the complex image, complex64, when ``output_image_type`` is
``complex``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from asldro.image import Filter, Image, apply_pipeline
from asldro.params.types import StructuralSeries
from asldro.pipelines import seeds
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.contrast import signal_filter
from asldro.pipelines.filters import AddComplexNoise, noise_seed, output_filters
from asldro.pipelines.records import Noise, StructuralAcquisition, voxel_size
from asldro.pipelines.types import SeriesResult

if TYPE_CHECKING:
    import numpy as np

QUANTITIES = ("t1", "t2", "t2_star", "m0")


@dataclass(frozen=True, eq=False)
class StructuralPipeline:
    """The filters of one structural image, what they start from and the noise level
    (``sigma``, ``reference``: docs/physics.md D5, the reference is the noiseless signal)."""

    start: Image
    filters: tuple[Filter, ...]
    sigma: float
    reference: float
    streams: seeds.SeriesStreams


def build_structural_pipeline(
    series: StructuralSeries,
    context: SimulationContext,
    *,
    participant_label: str,
    index: int,
    seed: int | None = None,
) -> StructuralPipeline:
    """The pipeline of one structural series; ``index`` is its 1-based position in the
    parameter file, ``seed`` replaces its ``random_seed``. The noiseless signal (the noise
    reference) is computed here, once, and the noise drawn."""
    maps = context.maps(QUANTITIES)
    signal = signal_filter(
        series, maps, repetition_time=series.repetition_time, echo_time=series.echo_time
    ).with_noiseless()
    noiseless = cast("np.ndarray", signal.noiseless)  # computed by with_noiseless()
    sigma, reference = context.noise_sigma(noiseless, series.desired_snr)
    acquire = context.acquire(series.acq_matrix, series.motion, tables=noiseless.ndim == 1)
    streams = seeds.SeriesStreams.of(
        series, participant_label, index, seed, session=context.session
    )
    add_noise = AddComplexNoise.drawn(acquire.resampler.target.shape, sigma, streams.volume(0))
    return StructuralPipeline(
        start=Image(data=maps["m0"], affine=context.ground_truth.affine),
        filters=(signal, acquire, add_noise, *output_filters(series.output_image_type, add_noise)),
        sigma=sigma,
        reference=reference,
        streams=streams,
    )


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
    pipeline = build_structural_pipeline(
        series, context, participant_label=participant_label, index=index, seed=seed
    )
    image = apply_pipeline(pipeline.start, pipeline.filters)
    record = StructuralAcquisition(
        series=series,
        magnetic_field_strength=gt.parameters["magnetic_field_strength"],
        voxel_size=voxel_size(image),
        noise=Noise.added(
            pipeline.sigma,
            pipeline.reference,
            pipeline.streams.seed,
            (noise_seed(pipeline.filters),),
        ),
    )
    return SeriesResult(
        index,
        "structural",
        series.description,
        series,
        {"structural": image},
        {"structural": record},
    )
