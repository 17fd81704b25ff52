"""Typed acquisition records: the facts of a simulated series the BIDS writer needs, beside its
images (docs/design.md "Pipe and filter, done lightly": never a free-form dict).

One frozen record per image: :class:`AslAcquisition` (the 4-D asl image),
:class:`StructuralAcquisition` and :class:`GroundTruthMap` (one per ground-truth quantity). A
record holds the series' typed parameters themselves (``series``: a new parameter needs no edit
here) and the facts the simulation established (field strength, voxel size, the λ and T1 of blood
used, the uniform M0, the noise added and its seeds ...).

:meth:`AcquisitionRecord.value` is the one way to read a parameter as it was *used*: a fact of the
record shadows the series parameter of the same name (``excitation_flip_angle`` is 90 for spin
echo whatever was given; ``random_seed`` is ``--seed`` when given; ``inversion_time`` is None
unless the contrast is inversion recovery; ``lambda_blood_brain`` is the ground truth's unless the
series replaced it). The sidecars are computed from records in :mod:`asldro.bids.sidecars`.
Units: s, mm, degrees, T.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence, Union

import numpy as np

from asldro.acquisition.sampling import Grid
from asldro.image import Image
from asldro.physics.background_suppression import BackgroundSuppression
from asldro.params.types import AslSeries, AslVolume, GroundTruthSeries, StructuralSeries
from asldro.pipelines import volume_types
from asldro.pipelines.contrast import excitation_flip_angle


def voxel_size(image: Image) -> tuple[float, float, float]:
    """Voxel edge lengths (mm) of an image on its acquisition grid (the rule of
    :attr:`asldro.acquisition.sampling.Grid.voxel_size`)."""
    return grid_voxel_size(image.data.shape[:3], image.affine)


def grid_voxel_size(shape: Sequence[int], affine: np.ndarray) -> tuple[float, float, float]:
    """Voxel edge lengths (mm) of the grid ``shape`` / ``affine`` (:func:`voxel_size` of an
    image on it)."""
    size = Grid((int(shape[0]), int(shape[1]), int(shape[2])), affine).voxel_size
    return (float(size[0]), float(size[1]), float(size[2]))


@dataclass(frozen=True)
class Noise:
    """The complex Gaussian noise added to a series (docs/physics.md §7).

    ``sigma`` is None when no noise was added (``desired_snr`` 0); ``reference`` is the mean
    signal the SNR refers to (sigma = reference / desired_snr); ``random_seed`` the seed used
    (the series' ``random_seed``, or the run's ``--seed``); ``seeds`` one JSON-able SeedSequence
    description per volume (None where nothing was drawn).
    """

    sigma: float | None
    reference: float
    random_seed: int
    seeds: tuple[Mapping[str, Any] | None, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(self.seeds))

    @classmethod
    def added(
        cls,
        sigma: float,
        reference: float,
        random_seed: int,
        seeds: Iterable[Mapping[str, Any] | None],
    ) -> "Noise":
        """The record of the noise a pipeline added at ``sigma`` (0: none, recorded as None)."""
        return cls(sigma if sigma > 0 else None, reference, random_seed, tuple(seeds))


@lru_cache(maxsize=None)
def _own_facts(record_type: type) -> frozenset[str]:
    """Names a record type answers itself: its fields (but ``series``) and its properties."""
    names = {f.name for f in dataclasses.fields(record_type)} - {"series"}
    for klass in record_type.__mro__:
        names |= {name for name, member in vars(klass).items() if isinstance(member, property)}
    return frozenset(names)


class _Acquired:
    """What the asl and structural records share: the series' contrast as it was simulated and
    the noise added (``series`` and ``noise`` are fields of the dataclasses below)."""

    series: Any
    noise: Noise

    @property
    def series_type(self) -> str:
        """``asl``, ``structural`` or ``ground_truth``."""
        return str(self.series.series_type)

    @property
    def excitation_flip_angle(self) -> float:
        """The flip angle used and reported (90 for spin echo)."""
        return excitation_flip_angle(self.series)

    @property
    def inversion_flip_angle(self) -> float | None:
        """The inversion flip angle, None unless the contrast is inversion recovery."""
        return self.series.inversion_flip_angle if self.series.acq_contrast == "ir" else None

    @property
    def inversion_time(self) -> float | None:
        """The inversion time, None unless the contrast is inversion recovery."""
        return self.series.inversion_time if self.series.acq_contrast == "ir" else None

    @property
    def noise_sigma(self) -> float | None:
        """Sigma of the noise added per channel (None: no noise)."""
        return self.noise.sigma

    @property
    def noise_reference(self) -> float:
        """The mean tissue signal the SNR refers to."""
        return self.noise.reference

    @property
    def random_seed(self) -> int:
        """The seed of the noise streams used (``--seed`` when given)."""
        return self.noise.random_seed

    @property
    def seeds(self) -> tuple[Mapping[str, Any] | None, ...]:
        """Per-volume SeedSequence descriptions."""
        return self.noise.seeds

    def value(self, name: str) -> Any:
        """Parameter or fact ``name`` as used for this acquisition (see the module docstring)."""
        return _value(self, name)


def _value(record: Any, name: str) -> Any:
    # a class is hashable; mypy takes type[Any] for an instance of it (lru_cache's Hashable)
    if name in _own_facts(type(record)):  # type: ignore[arg-type]
        return getattr(record, name)
    return getattr(record.series, name)


@dataclass(frozen=True)
class AslAcquisition(_Acquired):  # pylint: disable=too-many-instance-attributes  # one per fact
    """The 4-D asl image of an ``asl`` series: one volume per entry of ``series.volumes``
    (phases outer, ``asl_context`` tokens inner).

    ``lambda_blood_brain`` and ``t1_arterial_blood`` are the values used (the series' when given,
    else the ground truth's); ``m0_uniform_value`` is the M0 value when the M0 used is uniform
    (else None); ``m0_estimate`` the M0 signal scale the images carry then (the uniform M0
    times the readout decay, ``asldro.pipelines.volume_types.m0_estimate``; the BIDS
    ``M0Estimate``); ``background_suppression`` the series' module with its inversion times
    resolved (given or optimised), None without one.
    """

    series: AslSeries
    magnetic_field_strength: float
    voxel_size: tuple[float, float, float]
    noise: Noise
    lambda_blood_brain: float
    t1_arterial_blood: float
    m0_uniform_value: float | None
    background_suppression: BackgroundSuppression | None = None
    m0_estimate: float | None = None

    @property
    def image_type(self) -> str:
        """``magnitude`` or ``complex`` (the series' ``output_image_type``)."""
        return str(self.series.output_image_type)

    @property
    def volumes(self) -> tuple[AslVolume, ...]:
        """The volumes of the 4-D image, in order (the one expansion rule,
        :attr:`asldro.params.types.AslSeries.volumes`)."""
        return self.series.volumes

    @property
    def volume_formation(self) -> dict[str, str]:
        """How each deltam, cbf and noRF volume type of the series was formed, in words (empty
        without them; docs/physics.md §5.8)."""
        return volume_types.formation(self.series)

    def per_volume(self, name: str) -> tuple[Any, ...]:
        """The value of ``name`` for every volume: an :class:`~asldro.params.types.AslVolume`
        field (``token``, ``echo_time``, ``repetition_time``, ``motion``, ``label_duration``,
        ``signal_time``, ...)."""
        return tuple(getattr(volume, name) for volume in self.volumes)


@dataclass(frozen=True)
class StructuralAcquisition(_Acquired):
    """The image of a ``structural`` series (magnitude, or complex for
    ``output_image_type`` complex)."""

    series: StructuralSeries
    magnetic_field_strength: float
    voxel_size: tuple[float, float, float]
    noise: Noise

    @property
    def image_type(self) -> str:
        """``magnitude`` or ``complex`` (the series' ``output_image_type``)."""
        return str(self.series.output_image_type)


@dataclass(frozen=True)
class GroundTruthMap:
    """One ground-truth map on the acquisition grid of a series: a quantity of a
    ``ground_truth`` series, or a ground-truth derivative at the grid of an asl or structural
    series (issue 13: ``series`` is then that series).

    ``quantity`` is a ground-truth quantity, ``probseg`` (the fraction of the tissue
    ``segmentation`` names, one entry) or ``brain_mask``; ``derivation`` says in words how the
    value was formed from the ground truth; ``segmentation`` (tissue name -> label) is given for
    ``seg_label`` and ``probseg``.
    """

    series: Union[GroundTruthSeries, AslSeries, StructuralSeries]
    quantity: str
    units: str
    magnetic_field_strength: float
    voxel_size: tuple[float, float, float]
    derivation: str
    segmentation: Mapping[str, int] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.segmentation is not None:
            object.__setattr__(self, "segmentation", MappingProxyType(dict(self.segmentation)))

    @property
    def series_type(self) -> str:
        """The type of the series whose grid the map is on."""
        return str(self.series.series_type)

    @property
    def tissue(self) -> str | None:
        """The tissue of a ``probseg`` map (else None)."""
        if self.quantity != "probseg" or not self.segmentation:
            return None
        return next(iter(self.segmentation))

    def value(self, name: str) -> Any:
        """Parameter or fact ``name`` of this map (see the module docstring)."""
        return _value(self, name)


AcquisitionRecord = Union[AslAcquisition, StructuralAcquisition, GroundTruthMap]
"""The record of one image of a :class:`~asldro.pipelines.types.SeriesResult`."""
