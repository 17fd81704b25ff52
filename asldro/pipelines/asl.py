"""The ``asl`` series (docs/physics.md §1 table, §4, §5, §6, §7).

:func:`build_asl_pipeline` gives the filters each volume goes through (``asldro.pipelines.
filters``): ΔM of the kinetic model at the volume's labelling timing (computed once per distinct
timing of the series) -> the MRI signal of the volume's ``asl_context`` token on the
ground-truth grid -> motion + resampling -> complex noise -> magnitude -> float32 (or the complex
image, complex64, when ``output_image_type`` is ``complex``). The volumes are the series'
:attr:`~asldro.params.types.AslSeries.volumes` (phases outer, tokens inner). The kinetic model
(:func:`kinetic_model`) carries the series' ``gkm_model``, bolus cut-off, dispersion and the
arterial component. A 2D series (``mr_acq_type`` 2D) acquires its label volumes slice by slice,
each slice at ``signal_time + SliceTiming[k]`` (:class:`~asldro.pipelines.slices.SliceReadout`,
docs/physics.md §6.8); its control and m0scan volumes are the same at every slice time and take
the 3D filters. :func:`simulate_asl` runs the volumes and stacks them to 4-D.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from asldro.image import Filter, Image, apply_pipeline
from asldro.params.types import AslSeries, AslVolume, LabelTiming
from asldro.pipelines import seeds
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.contrast import signal_filter
from asldro.pipelines.filters import (
    ARTERIAL_QUANTITIES,
    AddComplexNoise,
    KineticModel,
    Kinetics,
    noise_seed,
    output_filters,
    stack_volumes,
)
from asldro.pipelines.finite import quiet_float_errors
from asldro.pipelines.records import AslAcquisition, Noise, voxel_size
from asldro.pipelines.slices import SliceReadout, slice_groups
from asldro.pipelines.types import SeriesResult

QUANTITIES = ("perfusion_rate", "transit_time", "t1", "t2", "t2_star", "m0")
#: Every ground-truth quantity an asl series may read (the arterial ones when present).
ALL_QUANTITIES = QUANTITIES + ARTERIAL_QUANTITIES


#: Most threads the volumes of one series run on: each holds a volume's working set (and a
#: ground-truth-grid signal with dense maps), and beyond a few they contend for memory bandwidth.
MAX_VOLUME_THREADS = 4


def volume_threads(n_volumes: int, threads: int) -> int:
    """Threads for the volumes of one series: the participant's budget ``threads``
    (``asldro.resources``), at most :data:`MAX_VOLUME_THREADS`, never more than the volumes."""
    return max(1, min(threads, MAX_VOLUME_THREADS, n_volumes))


@dataclass(frozen=True, eq=False)
class AslPipeline:
    """The filters of every volume of one asl series, and what they share.

    ``kinetics`` holds ΔM (computed once per distinct labelling timing); ``maps`` the
    ground-truth quantities as lookup tables or dense maps (a series-level ``m0`` replaces the M0
    map, docs/physics.md D8); ``sigma`` and ``reference`` the noise level (docs/physics.md D5);
    ``streams`` the volumes' noise streams (one per volume index).
    """

    series: AslSeries
    context: SimulationContext
    maps: dict[str, np.ndarray]
    kinetics: Kinetics
    sigma: float
    reference: float
    streams: seeds.SeriesStreams

    @property
    def start(self) -> Image:
        """What every volume's pipeline starts from: the object (its M0) on the ground-truth
        grid."""
        return Image(data=self.maps["m0"], affine=self.context.ground_truth.affine)

    @property
    def shared_filters(self) -> tuple[Filter, ...]:
        """The leading filters every volume shares (their work is done once): ΔM when the
        series has one labelling timing; none when its phases differ (each volume then records
        the ΔM of its own timing)."""
        if self.series.readout_slice_timing is not None:
            return ()  # 2D: each volume records its slice readout
        return (self.kinetics,) if len(self.kinetics.timings) == 1 else ()

    def filters(self, volume: int) -> tuple[Filter, ...]:
        """The filters of ``volume`` (0-based index into ``series.volumes``); its noise is drawn
        now, from its own stream. A volume of a 2D series whose signal depends on its slices'
        excitation times (:func:`delay_dependent`) goes through one
        :class:`~asldro.pipelines.slices.SliceReadout` instead of ΔM -> signal -> acquisition;
        the others are the same at every slice time, so the 3D filters acquire them exactly."""
        series = self.series
        plan = series.volumes[volume]
        if series.readout_slice_timing is not None and delay_dependent(plan):
            readout = self.slice_readout(plan)
            add_noise = AddComplexNoise.drawn(
                readout.resampler.target.shape, self.sigma, self.streams.volume(plan.index)
            )
            return (readout, add_noise, *output_filters(series.output_image_type, add_noise))
        kinetics = self.kinetics.at(plan.timing)
        acquire = self.context.acquire(
            series.acq_matrix, plan.motion, tables=kinetics.delta_m.ndim == 1
        )
        signal = signal_filter(
            series,
            self.maps,
            repetition_time=plan.repetition_time,
            echo_time=plan.echo_time,
            token=plan.token,
        )
        add_noise = AddComplexNoise.drawn(
            acquire.resampler.target.shape, self.sigma, self.streams.volume(plan.index)
        )
        finish = output_filters(series.output_image_type, add_noise)
        return (kinetics, signal, acquire, add_noise, *finish)

    def slice_readout(self, plan: AslVolume) -> SliceReadout:
        """The 2D readout of volume ``plan``: its slices grouped by slice time, the
        ground-truth steps at a slice delay, and the acquisition of its motion (lookup tables:
        the label fractions of that motion, computed once per motion and kept as the context
        keeps them)."""
        series = self.series
        slice_timing = series.readout_slice_timing
        assert slice_timing is not None  # a 2D series
        resampler = self.context.resampler(series.acq_matrix, plan.motion)
        tables = self.maps["m0"].ndim == 1
        fractions = None
        if tables and (not resampler.is_identity or self.context.partial_volume):
            fractions = self.context.fractions(series.acq_matrix, plan.motion)

        def steps(maps: Mapping[str, np.ndarray], delay: float) -> tuple[Filter, ...]:
            timing = LabelTiming(plan.label_duration, plan.signal_time + delay)
            if maps is self.maps and timing in self.kinetics.delta_m_by_timing:
                kinetics = self.kinetics.at(timing)
            else:  # a slab of dense maps: its ΔM now
                kinetics = Kinetics.computed(self.kinetics.model, maps, (timing,))
            signal = signal_filter(
                series,
                maps,
                repetition_time=plan.repetition_time,
                echo_time=plan.echo_time,
                token=plan.token,
            )
            return (kinetics, signal)

        return SliceReadout(
            groups=slice_groups(slice_timing),
            steps=steps,
            maps=self.maps,
            resampler=resampler,
            seg=self.context.ground_truth.seg,
            motion=plan.motion,
            fractions=fractions,
        )


def delay_dependent(plan: AslVolume) -> bool:
    """Whether the signal of volume ``plan`` depends on when its slice is excited: a label
    volume encodes ΔM, which evolves after labelling; the static signal of control and m0scan
    volumes does not change with the slice time (it will with background suppression)."""
    return plan.token == "label"


def slice_timings(series: AslSeries, timings: Iterable[LabelTiming]) -> list[LabelTiming]:
    """``timings`` and, for a 2D series, each of them at every distinct slice time
    (``signal_time + SliceTiming[k]``): the ΔM a 2D series' lookup tables need."""
    timings = list(timings)
    if series.readout_slice_timing is None:
        return timings
    delays = sorted(set(series.readout_slice_timing))
    shifted = [
        LabelTiming(timing.label_duration, timing.signal_time + delay)
        for timing in dict.fromkeys(timings)
        for delay in delays
    ]
    return [*timings, *shifted]


def kinetic_model(series: AslSeries, context: SimulationContext) -> KineticModel:
    """The kinetic model of ``series``: its labelling and efficiency, λ and T1 of blood (the
    series' when it gives them, else the ground truth's; docs/physics.md D8), its ``gkm_model``,
    bolus cut-off and dispersion, and the arterial component when the ground truth has ``abv``
    and the series no ``vascular_crushing`` (docs/physics.md §4.7-§4.10)."""
    gt = context.ground_truth
    lam = gt.parameters["lambda_blood_brain"]
    t1b = gt.parameters["t1_arterial_blood"]
    if series.lambda_blood_brain is not None:
        lam = series.lambda_blood_brain
    if series.t1_arterial_blood is not None:
        t1b = series.t1_arterial_blood
    return KineticModel(
        label_type=series.label_type,
        label_efficiency=series.label_efficiency,
        lambda_blood_brain=float(lam),
        t1_arterial_blood=float(t1b),
        model=series.gkm_model,
        bolus_cut_off=series.bolus_cut_off,
        dispersion=series.dispersion_kernel,
        arterial="abv" in gt.maps and not series.vascular_crushing,
    )


def build_asl_pipeline(
    series: AslSeries,
    context: SimulationContext,
    *,
    participant_label: str,
    index: int,
    seed: int | None = None,
) -> AslPipeline:
    """The pipeline of one asl series; ``index`` is its 1-based position in the parameter
    file, ``seed`` replaces its ``random_seed``. ΔM (once per distinct labelling timing of the
    series' volumes) and the noise level are computed here."""
    replace = {} if series.m0 is None else {"m0": series.m0}
    model = kinetic_model(series, context)
    # the signal maps hold the kinetic quantities too: a 2D series' dense slabs are cut from them
    maps = context.maps(tuple(dict.fromkeys((*QUANTITIES, *model.quantities))), replace)
    # the kinetic quantities as lookup tables where they are, whatever the signal maps are:
    # the model is then evaluated once per tissue (a dispersed one costs per distinct value)
    kinetic_maps = context.maps(model.quantities, replace)
    timings = [volume.timing for volume in series.volumes]
    if maps["m0"].ndim == 1:  # lookup tables: the ΔM of every slice time too (a 2D series)
        timings = slice_timings(series, timings)
    kinetics = Kinetics.computed(model, kinetic_maps, timings)
    if maps["m0"].ndim == 3:
        kinetics = kinetics.on_grid(context.ground_truth.seg)
    sigma, reference = context.noise_sigma(maps["m0"], series.desired_snr)
    return AslPipeline(
        series=series,
        context=context,
        maps=maps,
        kinetics=kinetics,
        sigma=sigma,
        reference=reference,
        streams=seeds.SeriesStreams.of(series, participant_label, index, seed),
    )


def simulate_asl(
    context: SimulationContext,
    series: AslSeries,
    index: int,
    *,
    participant_label: str,
    seed: int | None = None,
) -> SeriesResult:
    """Simulate one asl series; ``index`` is its 1-based position in the parameter file."""
    pipeline = build_asl_pipeline(
        series, context, participant_label=participant_label, index=index, seed=seed
    )

    def simulate_volume(volume: int) -> tuple[Image, dict | None]:
        with quiet_float_errors():  # per thread; non-finite output is refused afterwards
            filters = pipeline.filters(volume)
            return apply_pipeline(pipeline.start, filters), noise_seed(filters)

    # Volumes are independent (each has its own noise stream), so they run on a few threads;
    # the result does not depend on the number of threads.
    count = len(series.volumes)
    threads = volume_threads(count, context.threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        done = list(pool.map(simulate_volume, range(count)))
    stacked = stack_volumes([image for image, _ in done], len(pipeline.shared_filters))
    seed_records = [seed_record for _, seed_record in done]

    record = AslAcquisition(
        series=series,
        magnetic_field_strength=context.ground_truth.parameters["magnetic_field_strength"],
        voxel_size=voxel_size(stacked),
        noise=Noise.added(pipeline.sigma, pipeline.reference, pipeline.streams.seed, seed_records),
        lambda_blood_brain=pipeline.kinetics.lambda_blood_brain,
        t1_arterial_blood=pipeline.kinetics.t1_arterial_blood,
        m0_uniform_value=context.uniform_value(pipeline.maps["m0"]),
    )
    return SeriesResult(index, "asl", series.description, series, {"asl": stacked}, {"asl": record})
