"""The filters series pipelines are built from (docs/design.md, "Pipe and filter, done lightly").

Each filter is a frozen dataclass with ``__call__(Image) -> Image`` that appends one history
entry (its name and parameters). On the ground-truth grid an Image's ``data`` may be a 1-D
per-tissue lookup table (``value = table[seg]``, see ``asldro.groundtruth.types``);
:class:`Acquire` turns it into a volume on the acquisition grid.

The volumes of an asl series go through::

    Kinetics -> MriSignal -> Acquire -> AddComplexNoise -> Magnitude -> CastTo

a structural series through the same chain without :class:`Kinetics`, and each quantity of a
ground_truth series through :class:`Acquire` (then :class:`PerfusionWeightedMean` for transit
time) or :class:`MajorityLabels`. A filter may hold work done once per series when the
pipeline was built (ΔM once per distinct labelling timing, drawn noise, shared label
fractions); a new physical effect is one new
filter placed in the builders of ``asldro.pipelines.asl`` / ``structural``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence, TypedDict

import numpy as np

from asldro.acquisition import Resampler
from asldro.image import Filter, Image
from asldro.params.types import LabelTiming, Motion
from asldro.physics import arterial, bolus, gkm, signal
from asldro.physics import background_suppression as suppression_model
from asldro.physics import dispersion as dispersion_model
from asldro.physics import noise as noise_model
from asldro.pipelines import seeds

#: The ground-truth quantities the kinetic model reads.
KINETIC_QUANTITIES = ("perfusion_rate", "transit_time", "t1", "m0")
#: The ground-truth quantities the arterial component reads (with m0; docs/physics.md §4.9).
ARTERIAL_QUANTITIES = ("abv", "abat")
#: The ground-truth quantities the MRI signal models read.
SIGNAL_QUANTITIES = ("m0", "t1", "t2", "t2_star")


class _KineticKeywords(TypedDict):
    """The keyword arguments :meth:`KineticModel.delta_m` passes to both kinetic models."""

    label_duration: float
    signal_time: float
    label_efficiency: float
    lambda_blood_brain: float
    t1_arterial_blood: float
    dispersion: dispersion_model.Dispersion | None
    bolus_cut_off: bolus.BolusCutOff | None


@dataclass(frozen=True)
class KineticModel:  # pylint: disable=too-many-instance-attributes  # the kinetic options, one each
    """What ΔM of a series depends on besides the ground truth and the labelling timing: the
    labelling scheme and the kinetic parameters of the series (docs/physics.md §4, §4.6), the
    tissue model (``model``, §4.7), the PASL bolus cut-off (§4.8), the bolus dispersion (§4.10)
    and whether the arterial component of the ground truth's ``abv``/``abat`` is added
    (``arterial``, §4.9: False without ``abv`` or with vascular crushing); ``suppression`` is
    the series' background suppression, whose inversions attenuate ΔM (§5.7, (5.11)-(5.12)),
    None without one."""

    label_type: str
    label_efficiency: float
    lambda_blood_brain: float
    t1_arterial_blood: float
    model: str = "full"
    bolus_cut_off: bolus.BolusCutOff | None = None
    dispersion: dispersion_model.Dispersion | None = None
    arterial: bool = False
    suppression: suppression_model.BackgroundSuppression | None = None

    @property
    def quantities(self) -> tuple[str, ...]:
        """The ground-truth quantities :meth:`delta_m` reads."""
        return KINETIC_QUANTITIES + (ARTERIAL_QUANTITIES if self.arterial else ())

    def delta_m(self, maps: Mapping[str, np.ndarray], timing: LabelTiming) -> np.ndarray:
        """ΔM of one labelling timing from ``maps`` (:attr:`quantities`, lookup tables or dense
        maps): the one place the pipelines call the kinetic model
        (:func:`asldro.physics.gkm.delta_m`, plus :func:`asldro.physics.arterial.arterial_delta_m`
        when :attr:`arterial`), read at the timing's readout time. With background
        suppression, the sum over the parts of the bolus of each part's ΔM times its α_BS
        (:func:`asldro.physics.background_suppression.label_attenuation`: the pulses are placed
        relative to the reference excitation, ``signal_time``)."""
        if self.suppression is None:
            return self._unsuppressed(maps, timing.label_duration, timing.readout_time)
        attenuation = self.attenuation(timing)
        return attenuation.attenuate(
            lambda tau, t: self._unsuppressed(maps, tau, float(t)), timing.readout_time
        )

    def attenuation(self, timing: LabelTiming) -> suppression_model.LabelAttenuation:
        """What the background-suppression inversions do to the label at ``timing``
        (docs/physics.md (5.11)); the series must have background suppression."""
        assert self.suppression is not None
        return suppression_model.label_attenuation(
            self.suppression,
            label_type=self.label_type,
            label_duration=timing.label_duration,
            signal_time=timing.signal_time,
            t1_blood=self.t1_arterial_blood,
        )

    def _unsuppressed(
        self, maps: Mapping[str, np.ndarray], label_duration: float, signal_time: float
    ) -> np.ndarray:
        common: _KineticKeywords = {
            "label_duration": label_duration,
            "signal_time": signal_time,
            "label_efficiency": self.label_efficiency,
            "lambda_blood_brain": self.lambda_blood_brain,
            "t1_arterial_blood": self.t1_arterial_blood,
            "dispersion": self.dispersion,
            "bolus_cut_off": self.bolus_cut_off,
        }
        tissue = gkm.delta_m(
            self.label_type,
            *(maps[name] for name in KINETIC_QUANTITIES),
            model=self.model,
            **common,
        )
        if not self.arterial:
            return tissue
        return tissue + arterial.arterial_delta_m(
            self.label_type, maps["abv"], maps["abat"], maps["m0"], **common
        )

    def effective_bolus_duration(self, timing: LabelTiming) -> float:
        """The bolus width τ the model uses at ``timing``: the label duration, or for a QUIPSS II
        / Q2TIPS cut-off min(TI1, label duration) (docs/physics.md §4.8)."""
        return bolus.effective_bolus_duration(timing.label_duration, self.bolus_cut_off)

    def describe(self) -> dict[str, Any]:
        """The model's options as the provenance records them (JSON-able)."""
        cut_off = self.bolus_cut_off
        kernel = self.dispersion
        out: dict[str, Any] = {
            "gkm_model": self.model,
            "bolus_cut_off": None if cut_off is None else asdict(cut_off),
            "dispersion": None if kernel is None else asdict(kernel),
            "arterial_component": self.arterial,
        }
        if self.suppression is not None:
            out["background_suppression"] = asdict(self.suppression)
        return out


@dataclass(frozen=True, eq=False)
class Kinetics:
    """ΔM of the General Kinetic Model for the series' labelling (docs/physics.md §4, D1).

    ΔM depends on a volume only through its labelling timing (label duration, signal time), so
    it is computed once per distinct timing of the series (:meth:`computed`, on lookup tables or
    dense maps) and held in ``delta_m_by_timing``; a phase's volumes share one array. Each
    volume's pipeline starts with this filter at its timing (:meth:`at`), which replaces the
    data by that ΔM on the ground-truth grid; :class:`MriSignal` then encodes it in label
    volumes.
    """

    model: KineticModel
    delta_m_by_timing: Mapping[LabelTiming, np.ndarray]
    timing: LabelTiming

    @classmethod
    def computed(
        cls, model: KineticModel, maps: Mapping[str, np.ndarray], timings: Iterable[LabelTiming]
    ) -> "Kinetics":
        """Compute ΔM from ``maps`` once for each distinct timing of ``timings`` (in the order
        first seen); the filter applies the first timing until :meth:`at` picks another."""
        distinct = list(dict.fromkeys(timings))
        if not distinct:
            raise ValueError("no labelling timing")
        by_timing = {timing: model.delta_m(maps, timing) for timing in distinct}
        return cls(model, MappingProxyType(by_timing), distinct[0])

    def on_grid(self, seg: np.ndarray) -> "Kinetics":
        """This filter with every lookup-table ΔM as a dense map on the ground-truth grid
        (``table[seg]``): for a series whose signal maps are dense while the kinetic quantities
        are tables (the model was evaluated once per tissue)."""
        by_timing = {
            timing: delta_m[seg] if delta_m.ndim == 1 else delta_m
            for timing, delta_m in self.delta_m_by_timing.items()
        }
        return replace(self, delta_m_by_timing=MappingProxyType(by_timing))

    def at(self, timing: LabelTiming) -> "Kinetics":
        """This filter applying the ΔM of ``timing`` (the same filter when it applies it
        already; the arrays are shared, never recomputed)."""
        if timing == self.timing:
            return self
        if timing not in self.delta_m_by_timing:
            raise KeyError(f"no ΔM was computed for {timing}")
        return replace(self, timing=timing)

    @property
    def timings(self) -> tuple[LabelTiming, ...]:
        """The distinct timings ΔM was computed for."""
        return tuple(self.delta_m_by_timing)

    @property
    def delta_m(self) -> np.ndarray:
        """ΔM of the timing this filter applies."""
        return self.delta_m_by_timing[self.timing]

    @property
    def label_type(self) -> str:
        """The labelling scheme."""
        return self.model.label_type

    @property
    def lambda_blood_brain(self) -> float:
        """The blood-brain partition coefficient used."""
        return self.model.lambda_blood_brain

    @property
    def t1_arterial_blood(self) -> float:
        """The arterial blood T1 used."""
        return self.model.t1_arterial_blood

    @property
    def parameters(self) -> dict[str, Any]:  # Image.evolve's **parameters
        """The model's parameters at this filter's timing, in the order they are recorded (the
        kinetic options last, :meth:`KineticModel.describe`; with a bolus cut-off the bolus width
        used as ``bolus_duration``)."""
        model = self.model
        out: dict[str, Any] = {
            "label_duration": self.timing.label_duration,
            "signal_time": self.timing.readout_time,
            "label_efficiency": model.label_efficiency,
            "lambda_blood_brain": model.lambda_blood_brain,
            "t1_arterial_blood": model.t1_arterial_blood,
            **model.describe(),
        }
        if model.bolus_cut_off is not None:
            out["bolus_duration"] = model.effective_bolus_duration(self.timing)
        if model.suppression is not None:
            attenuation = model.attenuation(self.timing)
            out["background_suppression_alpha_bs"] = [
                {"start": part.start, "end": part.end, "alpha_bs": part.alpha_bs}
                for part in attenuation.parts
            ]
            out["background_suppression_sign"] = attenuation.sign
        return out

    def __call__(self, image: Image) -> Image:
        return image.evolve(
            "delta_m", data=self.delta_m, label_type=self.label_type, **self.parameters
        )


@dataclass(frozen=True)
class SequenceTiming:
    """Timing and flip angles of one readout (s, degrees; docs/physics.md §5)."""

    repetition_time: float
    echo_time: float
    flip_angle: float
    inversion_flip_angle: float
    inversion_time: float


@dataclass(frozen=True, eq=False)
class MriSignal:
    """The MRI signal of ``contrast`` (se, ge, ir) on the ground-truth grid (docs/physics.md §5).

    ``maps`` hold :data:`SIGNAL_QUANTITIES` (lookup tables or dense maps). In an asl volume
    (``token`` set) the input holds ΔM: a ``label`` volume gets ``Menc = -ΔM``, control and
    m0scan volumes ``Menc = 0``; a structural image (``token`` None) ignores its input.
    ``noiseless`` is the signal with ``Menc = 0`` when it was computed already (the
    structural noise level is derived from it), so it is not computed twice. ``suppression``:
    the volume is background suppressed (docs/physics.md (5.10)), its slice excited
    ``slice_delay`` after the reference excitation.
    """

    contrast: str
    maps: Mapping[str, np.ndarray]
    timing: SequenceTiming
    token: str | None = None
    noiseless: np.ndarray | None = None
    suppression: suppression_model.BackgroundSuppression | None = None
    slice_delay: float = 0.0

    def signal(self, m_enc: np.ndarray | float = 0.0) -> np.ndarray:
        """The signal with encoded magnetisation ``m_enc`` (0: no labelling)."""
        if self.noiseless is not None and np.isscalar(m_enc) and m_enc == 0.0:
            return self.noiseless
        timing = self.timing
        if self.suppression is not None:
            maps = self.maps
            return suppression_model.static_signal(
                self.contrast,
                maps["m0"],
                maps["t1"],
                maps["t2"],
                maps["t2_star"],
                self.suppression,
                repetition_time=timing.repetition_time,
                echo_time=timing.echo_time,
                flip_angle=timing.flip_angle,
                delay=self.slice_delay,
                m_enc=m_enc,
            )
        return np.asarray(
            signal.mri_signal(
                self.contrast,
                *(self.maps[name] for name in SIGNAL_QUANTITIES),
                repetition_time=timing.repetition_time,
                echo_time=timing.echo_time,
                flip_angle=timing.flip_angle,
                inversion_flip_angle=timing.inversion_flip_angle,
                inversion_time=timing.inversion_time,
                m_enc=m_enc,
            )
        )

    def with_noiseless(self) -> "MriSignal":
        """This filter holding its signal without labelling, computed now."""
        return replace(self, noiseless=self.signal())

    def __call__(self, image: Image) -> Image:
        data = self.signal(-image.data if self.token == "label" else 0.0)
        token: dict[str, Any] = {} if self.token is None else {"token": self.token}
        if self.suppression is not None:
            token["background_suppressed"] = True
            if self.slice_delay:
                token["slice_delay"] = self.slice_delay
        return image.evolve("mri_signal", data=data, **token, contrast=self.contrast)


@dataclass(frozen=True, eq=False)
class Acquire:
    """Rigid motion, then box-PSF resampling onto the acquisition grid (docs/physics.md §6; D3-D4b).

    ``fractions`` are the per-label partial-volume fractions of ``seg`` for this grid and motion
    (shared by every volume with the same motion); lookup-table images are acquired as
    ``sum_l table[l] * fraction_l``, dense images through the resampler.
    """

    resampler: Resampler
    seg: np.ndarray
    motion: Motion
    fractions: np.ndarray | None = None

    def __call__(self, image: Image) -> Image:
        if image.data.ndim == 1:
            data = self.resampler.resample_table(self.seg, image.data, fractions=self.fractions)
        else:
            data = self.resampler.resample(image.data)
        target = self.resampler.target
        return image.evolve(
            "acquire",
            data=np.asarray(data, dtype=np.float64),
            affine=target.affine,
            motion=asdict(self.motion),
            acq_matrix=list(target.shape),
        )


@dataclass(frozen=True, eq=False)
class AddComplexNoise:
    """Add pre-drawn complex Gaussian noise (docs/physics.md §7.1, D5).

    The noise is drawn when the pipeline is built (from its own seeded stream) and only
    applied here, so every draw is recorded and replayable. ``noise is None`` means no noise
    (SNR 0): the image passes through unchanged.
    """

    sigma: float
    noise: np.ndarray | None
    seed: dict[str, Any] | None = None

    @classmethod
    def drawn(
        cls, shape: tuple[int, ...], sigma: float, sequence: np.random.SeedSequence
    ) -> "AddComplexNoise":
        """Draw the noise for ``shape`` now from its own stream (nothing drawn when sigma is 0)."""
        if sigma <= 0:
            return cls(0.0, None, None)
        rng = np.random.Generator(np.random.PCG64(sequence))
        noise = noise_model.draw_complex_noise(shape, sigma, rng)
        return cls(sigma, noise, seeds.describe(sequence))

    @classmethod
    def drawn_in_turn(
        cls, shape: tuple[int, ...], sigma: float, sequence: np.random.SeedSequence, count: int
    ) -> tuple["AddComplexNoise", ...]:
        """``count`` draws for ``shape`` from the one stream ``sequence``, one after the other
        (the first is :meth:`drawn`'s): the two images of a ``deltam`` volume, control first."""
        if sigma <= 0:
            return tuple(cls(0.0, None, None) for _ in range(count))
        rng = np.random.Generator(np.random.PCG64(sequence))
        record = seeds.describe(sequence)
        return tuple(
            cls(sigma, noise_model.draw_complex_noise(shape, sigma, rng), record)
            for _ in range(count)
        )

    def __call__(self, image: Image) -> Image:
        if self.noise is None:
            return image.evolve("add_complex_noise", sigma=0.0)
        data = noise_model.add_noise(image.data, self.noise)
        return image.evolve("add_complex_noise", data=data, sigma=self.sigma, seed=self.seed)


@dataclass(frozen=True)
class Magnitude:
    """Take the magnitude |S| (Rician statistics where noise was added, docs/physics.md §5, §9)."""

    def __call__(self, image: Image) -> Image:
        return image.evolve("magnitude", data=np.abs(image.data))


@dataclass(frozen=True)
class CastTo:
    """Cast the data to the on-disk type (float32, or complex64 for complex output)."""

    dtype: str

    def __call__(self, image: Image) -> Image:
        return image.evolve("cast", data=np.asarray(image.data, dtype=self.dtype), dtype=self.dtype)


def output_filters(output_image_type: str, noise: AddComplexNoise) -> tuple[Filter, ...]:
    """The last filters of an asl volume or a structural image: the magnitude as float32; for
    ``output_image_type`` complex the complex image as complex64 (float32 when no noise made it
    complex)."""
    if output_image_type != "complex":
        return (Magnitude(), CastTo("float32"))
    if noise.noise is not None:
        return (CastTo("complex64"),)
    return (CastTo("float32"),)


@dataclass(frozen=True, eq=False)
class PerfusionWeightedMean:
    """``sum(f*CBF*x) / sum(f*CBF)`` per acquisition voxel (issue 9 item 8).

    The input is the acquired product ``CBF * x``; ``weights`` the acquired CBF (computed once
    when the pipeline is built). A voxel whose weight is at most ``no_perfusion_below`` holds no
    perfusion and gets 0; the others are kept within ``value_range``, the range of ``x`` over
    the perfused ground truth (None: nothing is perfused, every voxel is 0).
    """

    weight: str
    weights: np.ndarray
    no_perfusion_below: float
    value_range: tuple[float, float] | None

    def __call__(self, image: Image) -> Image:
        out = np.zeros_like(self.weights)
        if self.value_range is not None:
            perfused = self.weights > self.no_perfusion_below
            np.divide(image.data, self.weights, out=out, where=perfused)
            np.clip(out, *self.value_range, out=out, where=perfused)
        return image.evolve(
            "perfusion_weighted_mean",
            data=out,
            weight=self.weight,
            no_perfusion_below=self.no_perfusion_below,
        )


@dataclass(frozen=True, eq=False)
class MajorityLabels:
    """The majority label of each acquisition voxel (docs/physics.md D2), as uint16.

    The input holds the label map on the ground-truth grid; ``fractions`` are the shared label
    fractions of that map for this grid and motion (None on the ground-truth grid itself). The
    rule is :meth:`~asldro.acquisition.sampling.Resampler.majority_labels`.
    """

    resampler: Resampler
    motion: Motion
    fractions: np.ndarray | None = None

    def __call__(self, image: Image) -> Image:
        labels = self.resampler.majority_labels(image.data, self.fractions)
        return image.evolve(
            "majority_labels",
            data=labels.astype(np.uint16),
            affine=self.resampler.target.affine,
            motion=asdict(self.motion),
        )


def noise_seed(filters: Sequence[Filter]) -> dict[str, Any] | None:
    """The seed record of the pipeline's noise filter (None without noise), also where it is
    in a sub-pipeline of a filter that runs some (its ``branches``, e.g. a deltam volume's)."""
    for step in filters:
        if isinstance(step, AddComplexNoise):
            return step.seed
        for branch in getattr(step, "branches", ()):
            seed = noise_seed(branch)
            if seed is not None:
                return seed
    return None


def stack_volumes(volumes: Sequence[Image], series_steps: int) -> Image:
    """Stack 3-D volume images into one 4-D image (volume on the last axis).

    The first ``series_steps`` history entries of every volume come from the series' shared
    filters (e.g. :class:`Kinetics`: one ΔM for every volume); they are recorded once, followed
    by one ``stack_volumes`` entry holding each volume's own entries. The meta is left to the
    series.
    """
    return Image(
        data=np.stack([volume.data for volume in volumes], axis=-1),
        affine=volumes[-1].affine,
        history=stacked_history([volume.history for volume in volumes], series_steps),
    )


def stacked_history(
    histories: Sequence[Sequence[Mapping[str, Any]]], series_steps: int
) -> tuple[Mapping[str, Any], ...]:
    """The history of the stack of volumes with ``histories`` (:func:`stack_volumes`): their
    first ``series_steps`` entries once (``ValueError`` unless every volume has them), then
    one ``stack_volumes`` entry holding each volume's own entries."""
    shared = tuple(histories[0][:series_steps])
    if any(tuple(history[:series_steps]) != shared for history in histories):
        raise ValueError("the volumes do not share the series' first filters")
    own = [[dict(entry) for entry in history[series_steps:]] for history in histories]
    return (*shared, {"filter": "stack_volumes", "volumes": own})
