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
the 3D filters. :func:`simulate_asl` runs the volumes and stacks them to 4-D, or streams them
to the writer.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from asldro.acquisition import acquisition_grid
from asldro.image import Filter, Image, apply_pipeline
from asldro.params.background import SuppressionSettings
from asldro.params.types import AslSeries, AslVolume, LabelTiming
from asldro.physics import background_suppression as suppression_model
from asldro.pipelines import seeds, volume_types
from asldro.pipelines.context import SimulationContext
from asldro.pipelines.contrast import signal_filter
from asldro.pipelines.filters import (
    ARTERIAL_QUANTITIES,
    Acquire,
    AddComplexNoise,
    CastTo,
    KineticModel,
    Kinetics,
    Magnitude,
    output_filters,
)
from asldro.pipelines.records import AslAcquisition, Noise, grid_voxel_size
from asldro.pipelines.slices import SliceReadout, slice_groups
from asldro.pipelines.streamed import StreamedImage
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
class AslPipeline:  # pylint: disable=too-many-instance-attributes  # what the volumes share
    """The filters of every volume of one asl series, and what they share.

    ``kinetics`` holds ΔM (computed once per distinct labelling timing); ``maps`` the
    ground-truth quantities as lookup tables or dense maps (a series-level ``m0`` replaces the M0
    map, docs/physics.md D8); ``sigma`` and ``reference`` the noise level (docs/physics.md D5);
    ``streams`` the volumes' noise streams (one per volume index); ``suppression`` the
    background suppression with its inversion times resolved (None without one).
    """

    series: AslSeries
    context: SimulationContext
    maps: dict[str, np.ndarray]
    kinetics: Kinetics
    sigma: float
    reference: float
    streams: seeds.SeriesStreams
    suppression: suppression_model.BackgroundSuppression | None = None

    def suppression_of(self, token: str) -> suppression_model.BackgroundSuppression | None:
        """The background suppression of ``token`` volumes (None when not suppressed)."""
        return self.suppression if self.series.suppressed(token) else None

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
        now, from its own stream. A control, label or m0scan volume is :meth:`readout` ->
        noise -> output; a deltam or cbf volume is formed from a control and a label volume of
        the same plan (:meth:`subtracted`), a noRF volume is noise only (:meth:`no_rf`;
        docs/physics.md §5.8)."""
        series = self.series
        plan = series.volumes[volume]
        stream = self.streams.volume(plan.index)
        if plan.token == volume_types.NO_RF:
            return self.no_rf(stream)
        if plan.token in volume_types.SUBTRACTED:
            return self.subtracted(plan, stream)
        readout = self.readout(plan)
        add_noise = AddComplexNoise.drawn(_target(readout).shape, self.sigma, stream)
        return (*readout, add_noise, *output_filters(series.output_image_type, add_noise))

    def readout(self, plan: AslVolume) -> tuple[Filter, ...]:
        """The filters of volume ``plan`` up to the acquisition grid (before its noise). A
        volume of a 2D series whose signal depends on its slices' excitation times
        (:func:`delay_dependent`) goes through one
        :class:`~asldro.pipelines.slices.SliceReadout` instead of ΔM -> signal -> acquisition;
        the others are the same at every slice time, so the 3D filters acquire them exactly."""
        series = self.series
        if series.readout_slice_timing is not None and delay_dependent(series, plan):
            return (self.slice_readout(plan),)
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
            suppression=self.suppression_of(plan.token),
        )
        return (kinetics, signal, acquire)

    def subtracted(self, plan: AslVolume, stream: np.random.SeedSequence) -> tuple[Filter, ...]:
        """A deltam (or cbf) volume (docs/physics.md §5.8): the control and the label volume of
        ``plan`` through :meth:`readout`, each with its own noise from ``stream`` (control
        first), magnitude each, subtracted; a cbf volume then the white paper's CBF of it
        calibrated with the acquired M0 signal scale. The series' shared ΔM leads, as in every
        volume."""
        control = self.readout(dataclasses.replace(plan, token="control"))
        label = self.readout(dataclasses.replace(plan, token="label"))
        noise = AddComplexNoise.drawn_in_turn(_target(control).shape, self.sigma, stream, 2)
        shared = self.shared_filters
        if shared and control[: len(shared)] == shared == label[: len(shared)]:
            control, label = control[len(shared) :], label[len(shared) :]
        else:
            shared = ()
        subtract = volume_types.Subtraction(
            control=(*control, noise[0], Magnitude()), label=(*label, noise[1], Magnitude())
        )
        if plan.token == volume_types.DELTAM:
            return (*shared, subtract, CastTo("float32"))
        series = self.series
        acquire = self.context.acquire(
            series.acq_matrix, plan.motion, tables=self.maps["m0"].ndim == 1
        )
        scale = volume_types.m0_scale_map(series, self.maps, plan.echo_time)
        acquired = acquire(Image(data=scale, affine=self.context.ground_truth.affine)).data
        cbf = volume_types.cbf_filter(series, plan, self.kinetics.model, acquired)
        return (*shared, subtract, cbf, CastTo("float32"))

    def no_rf(self, stream: np.random.SeedSequence) -> tuple[Filter, ...]:
        """A noRF volume: signal 0 on the acquisition grid, then its noise and the output
        filters of any volume (docs/physics.md §5.8)."""
        series = self.series
        gt = self.context.ground_truth
        target = acquisition_grid(gt.affine, gt.shape, tuple(series.acq_matrix))
        add_noise = AddComplexNoise.drawn(target.shape, self.sigma, stream)
        finish = output_filters(series.output_image_type, add_noise)
        return (*self.shared_filters, volume_types.NoExcitation(target), add_noise, *finish)

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
            timing = LabelTiming(plan.label_duration, plan.signal_time, slice_delay=delay)
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
                suppression=self.suppression_of(plan.token),
                slice_delay=delay,
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


def _target(readout: tuple[Filter, ...]) -> Any:
    """The acquisition grid of a :meth:`AslPipeline.readout` (its last filter acquires)."""
    last = readout[-1]
    assert isinstance(last, (Acquire, SliceReadout))
    return last.resampler.target


def delay_dependent(series: AslSeries, plan: AslVolume) -> bool:
    """Whether the signal of volume ``plan`` depends on when its slice is excited: a label
    volume encodes ΔM, which evolves after labelling, and a background-suppressed volume's
    static tissue recovers after the reference excitation; the static signal of an
    unsuppressed control or m0scan volume does not change with the slice time."""
    return plan.token == "label" or series.suppressed(plan.token)


def slice_timings(series: AslSeries, timings: Iterable[LabelTiming]) -> list[LabelTiming]:
    """``timings`` and, for a 2D series, each of them at every distinct slice time
    (``signal_time + SliceTiming[k]``): the ΔM a 2D series' lookup tables need."""
    timings = list(timings)
    if series.readout_slice_timing is None:
        return timings
    delays = sorted(set(series.readout_slice_timing))
    shifted = [
        LabelTiming(timing.label_duration, timing.signal_time, slice_delay=delay)
        for timing in dict.fromkeys(timings)
        for delay in delays
    ]
    return [*timings, *shifted]


def kinetic_model(series: AslSeries, context: SimulationContext) -> KineticModel:
    """The kinetic model of ``series``: its labelling and efficiency, λ and T1 of blood (the
    series' when it gives them, else the ground truth's; docs/physics.md D8), its ``gkm_model``,
    bolus cut-off and dispersion, the arterial component when the ground truth has ``abv``
    and the series no ``vascular_crushing`` (docs/physics.md §4.7-§4.10); the background
    suppression is added once its inversion times are known (:func:`resolve_suppression`)."""
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


def resolve_suppression(
    found: SuppressionSettings | None, t1: np.ndarray, label_counts: np.ndarray
) -> suppression_model.BackgroundSuppression | None:
    """The background suppression of a series with its inversion times: as given, or optimised
    (docs/physics.md §5.7, (5.13)) for ``t1_opt`` or, by default, the distinct T1s of the
    ground truth that the series sees (``t1``: a lookup table, whose labels without a voxel
    (``label_counts`` 0) are left out, or a dense map)."""
    if found is None:
        return None
    times = found.inversion_times
    if times is None:
        targets = found.t1_opt
        if targets is None:
            present = t1[label_counts > 0] if t1.ndim == 1 else t1
            targets = suppression_model.optimisation_t1_values(present)
        times = optimised_inversion_times(
            tuple(targets),
            found.num_inversion_pulses,
            found.saturation_time,
            found.optimisation_saturation_time,
            found.pulse_efficiency,
        )
    return suppression_model.BackgroundSuppression(
        saturation_time=found.saturation_time,
        inversion_times=times,
        pulse_efficiency=found.pulse_efficiency,
        alpha_bs_per_pulse=found.alpha_bs_per_pulse,
    )


def warn_negative_perfusion(
    series: AslSeries,
    model: KineticModel,
    maps: Mapping[str, np.ndarray],
    label_counts: np.ndarray,
    index: int,
) -> None:
    """One warning line when the magnitude images of a suppressed series will show control -
    label < 0 in perfused tissue: each inversion after the start of labelling inverts the
    labelled deficit (docs/physics.md (5.12)), so with N of them the label is brighter than the
    control wherever (-1)^N and the static Mz at the excitation have opposite signs (a scanner
    would swap label and control or subtract the other way; the DRO writes what the
    magnetisation gives)."""
    if model.suppression is None or not (
        series.suppressed("control") and series.suppressed("label")
    ):
        return
    static = suppression_model.static_mz(maps["m0"], maps["t1"], model.suppression)
    perfused = (maps["perfusion_rate"] > 0) & (maps["m0"] > 0)
    if static.ndim == 1:
        perfused = perfused & (label_counts[: perfused.size] > 0)
    for phase, timing in enumerate(series.phases):
        sign = model.attenuation(timing).sign
        wrong = perfused & (sign * static < 0)
        if np.any(wrong):
            count = sum(
                1 for time in model.suppression.inversion_times if time < timing.signal_time
            )
            warnings.warn(
                f"image_series[{index - 1}].series_parameters.background_suppression: with "
                f"{count} inversion(s) after the start of labelling (phase {phase}) the static "
                "tissue's Mz at the excitation has the sign that makes control - label of the "
                "magnitude images negative in some perfused tissue (the label is brighter); an "
                "even number of inversions after the labelling (or pulse times that leave the "
                "static Mz inverted) keeps it positive",
                stacklevel=2,
            )
            return


@functools.lru_cache(maxsize=16)
def optimised_inversion_times(
    t1_values: tuple[float, ...],
    num_pulses: int,
    saturation_time: float,
    optimisation_saturation_time: float | None,
    pulse_efficiency: float | str,
) -> tuple[float, ...]:
    """:func:`asldro.physics.background_suppression.optimise_inversion_times`, once per
    process for the same inputs (deterministic; about 2 s for 4 pulses)."""
    return suppression_model.optimise_inversion_times(
        t1_values,
        num_pulses=num_pulses,
        saturation_time=saturation_time,
        optimisation_saturation_time=optimisation_saturation_time,
        pulse_efficiency=pulse_efficiency,
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
    suppression = resolve_suppression(series.suppression, maps["t1"], context.label_counts)
    if suppression is not None:
        model = dataclasses.replace(model, suppression=suppression)
        warn_negative_perfusion(series, model, maps, context.label_counts, index)
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
        streams=seeds.SeriesStreams.of(
            series, participant_label, index, seed, session=context.session
        ),
        suppression=suppression,
    )


def _series_shape(series: AslSeries, count: int) -> tuple[int, int, int, int]:
    """The 4-D shape of an asl series of ``count`` volumes on its acquisition matrix."""
    columns, rows, slices = (int(n) for n in series.acq_matrix[:3])
    return columns, rows, slices, count


def simulate_asl(
    context: SimulationContext,
    series: AslSeries,
    index: int,
    *,
    participant_label: str,
    seed: int | None = None,
    streamed: bool = False,
) -> SeriesResult:
    """Simulate one asl series; ``index`` is its 1-based position in the parameter file.

    With ``streamed`` the image is a :class:`~asldro.pipelines.streamed.StreamedImage`: its
    volumes are simulated as they are read (the writer's way, issue 16 item 1), while
    ``context`` is alive; else the 4-D image in memory (the same values)."""
    pipeline = build_asl_pipeline(
        series, context, participant_label=participant_label, index=index, seed=seed
    )

    def simulate_volume(volume: int) -> Image:
        return apply_pipeline(pipeline.start, pipeline.filters(volume))

    # Volumes are independent (each has its own noise stream), so they run on a few threads;
    # the result does not depend on the number of threads.
    count = len(series.volumes)
    gt = context.ground_truth
    image = StreamedImage(
        produce=simulate_volume,
        shape=_series_shape(series, count),
        dtype=stack_dtype(series, pipeline.sigma),
        affine=acquisition_grid(gt.affine, gt.shape, tuple(series.acq_matrix)).affine,
        shared_steps=len(pipeline.shared_filters),
        threads=volume_threads(count, context.threads),
        where=f"image_series[{index - 1}] (asl)",
    )
    seed_records = [
        seeds.describe(pipeline.streams.volume(plan.index)) if pipeline.sigma > 0 else None
        for plan in series.volumes
    ]
    uniform_m0 = context.uniform_value(pipeline.maps["m0"])
    record = AslAcquisition(
        series=series,
        magnetic_field_strength=gt.parameters["magnetic_field_strength"],
        voxel_size=grid_voxel_size(image.shape[:3], image.affine),
        noise=Noise.added(pipeline.sigma, pipeline.reference, pipeline.streams.seed, seed_records),
        lambda_blood_brain=pipeline.kinetics.lambda_blood_brain,
        t1_arterial_blood=pipeline.kinetics.t1_arterial_blood,
        m0_uniform_value=uniform_m0,
        m0_estimate=volume_types.m0_estimate(
            series,
            pipeline.maps,
            uniform_m0,
            context.label_counts if pipeline.maps["m0"].ndim == 1 else None,
        ),
        background_suppression=pipeline.suppression,
    )
    kept: Image | StreamedImage = image if streamed else image.stacked()
    return SeriesResult(index, "asl", series.description, series, {"asl": kept}, {"asl": record})


def stack_dtype(series: AslSeries, sigma: float) -> np.dtype:
    """The dtype of an asl series' 4-D image: complex64 when it is complex output with noise
    and has a volume that is not subtracted (those are float32 magnitudes), else float32
    (:func:`~asldro.pipelines.filters.output_filters`)."""
    complex_volumes = series.output_image_type == "complex" and sigma > 0
    if complex_volumes and any(
        volume.token not in volume_types.SUBTRACTED for volume in series.volumes
    ):
        return np.dtype(np.complex64)
    return np.dtype(np.float32)
