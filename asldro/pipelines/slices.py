"""The 2D multi-slice readout of an asl volume (docs/physics.md §6.8).

A 2D readout excites the slices of the acquisition grid (its third axis, BIDS
``SliceEncodingDirection`` ``k``) one after the other: slice k at ``signal_time +
SliceTiming[k]``. What is acquired in slice k is the box average (docs/physics.md §6.3) of the
moved object *as it is at slice k's excitation*, so each acquisition slice is the acquisition of
its own ground-truth-grid signal: :class:`SliceReadout` evaluates the volume's ground-truth steps
(ΔM at the shifted signal time, then the MRI signal) once per distinct slice time and keeps, of
each, the acquisition slices excited at that time. Because box sampling is linear, a ground-truth
voxel that straddles two acquisition slices (motion or a non-integer ratio of the grids) feeds
each with the fraction of it inside that slice, at that slice's time: the moved acquisition
geometry decides which ground-truth voxels feed which slice.

* Lookup tables (the signal is one value per tissue label): the label fractions of every
  acquisition voxel are formed once per motion (:meth:`asldro.pipelines.context.SimulationContext.
  fractions`), and slice k is ``sum_l table_k[l] * fraction_l[..., k]`` with the table of its slice
  time: exact, and as cheap as the 3D path plus one small table per slice time.
* Dense maps: each slice is evaluated on the slab of ground-truth voxels that feeds it (the
  bounding box of its pulled-back extent, :func:`feeding_box`) and acquired from that slab
  alone, so no full-grid map per slice time is ever held.

The slice delay reaches the ground-truth steps as a number (:data:`GroundTruthSteps`): the
kinetic model takes ``signal_time + delay``; a static signal that depends on the excitation time
(background suppression: ``asldro.physics.background_suppression.static_mz(..., delay=...)``)
takes the same delay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from asldro.acquisition import Resampler
from asldro.acquisition.sampling import Grid, mix
from asldro.image import Filter, Image, apply_pipeline
from asldro.params.types import Motion

#: Ground-truth voxels added on each side of a slab beyond its exact bounding box (guards the
#: rounding of the corner coordinates; a voxel outside the extent only adds zero weight).
SLAB_MARGIN = 1

GroundTruthSteps = Callable[[Mapping[str, np.ndarray], float], tuple[Filter, ...]]
"""The filters a volume goes through on the ground-truth grid for a slice excited ``delay`` s
after the first acquired slice, on ``maps`` (the series' maps, or their crop to a slab): ΔM at
``signal_time + delay``, then the MRI signal (and, later, background suppression at ``delay``)."""


@dataclass(frozen=True)
class SliceGroup:
    """The acquisition slices excited ``delay`` s after the first acquired slice."""

    delay: float
    slices: tuple[int, ...]


def slice_groups(slice_timing: Sequence[float]) -> tuple[SliceGroup, ...]:
    """The slices of a volume grouped by slice time, earliest first (the first group has
    delay 0)."""
    by_time: dict[float, list[int]] = {}
    for index, time in enumerate(slice_timing):
        by_time.setdefault(float(time), []).append(index)
    return tuple(SliceGroup(time, tuple(by_time[time])) for time in sorted(by_time))


def feeding_box(resampler: Resampler, first: int, last: int) -> tuple[slice, ...] | None:
    """The index box of the ground-truth voxels that feed acquisition slices ``first`` ..
    ``last`` under the resampler's motion (the bounding box of their pulled-back extent, plus
    :data:`SLAB_MARGIN`), or None when no ground-truth voxel does."""
    nx, ny, _ = resampler.target.shape
    corners = np.array(
        [
            [x, y, z, 1.0]
            for x in (-0.5, nx - 0.5)
            for y in (-0.5, ny - 0.5)
            for z in (first - 0.5, last + 0.5)
        ]
    ).T
    source = (resampler.voxel_map @ corners)[:3]
    low = np.floor(source.min(axis=1) + 0.5).astype(int) - SLAB_MARGIN
    high = np.floor(source.max(axis=1) + 0.5).astype(int) + SLAB_MARGIN
    shape = np.asarray(resampler.src_shape)
    low, high = np.maximum(low, 0), np.minimum(high, shape - 1)
    if np.any(low > high):
        return None
    return tuple(slice(int(a), int(b) + 1) for a, b in zip(low, high))


def _shifted(affine: np.ndarray, offset: Sequence[int]) -> np.ndarray:
    """The affine of a sub-grid whose voxel 0 is voxel ``offset`` of ``affine``'s grid."""
    shift = np.eye(4)
    shift[:3, 3] = offset
    return np.asarray(affine, dtype=np.float64) @ shift


def _slab_resampler(
    resampler: Resampler, slab_affine: np.ndarray, box: tuple[slice, ...], index: int
) -> Resampler:
    """The resampler from the ground-truth slab ``box`` (voxel-to-world ``slab_affine``) to
    acquisition slice ``index``: the same motion and voxel map as ``resampler``, restricted."""
    target = resampler.target
    slab_shape = tuple(part.stop - part.start for part in box)
    grid = Grid((target.shape[0], target.shape[1], 1), _shifted(target.affine, (0, 0, index)))
    return Resampler(slab_affine, slab_shape, grid, resampler.motion)


@dataclass(frozen=True, eq=False)
class SliceReadout:
    """A 2D readout: the volume's ground-truth steps at each slice's time, acquired slice by
    slice onto the acquisition grid (the module docstring).

    ``groups`` are the slices per distinct time (:func:`slice_groups`); ``steps`` makes the
    ground-truth filters at a delay;
    ``maps`` are the series' maps (lookup tables or dense); ``fractions`` the label fractions
    of this grid and motion (lookup tables; None on the ground-truth grid itself, where the
    lookup is read directly).
    """

    groups: tuple[SliceGroup, ...]
    steps: GroundTruthSteps
    maps: Mapping[str, np.ndarray]
    resampler: Resampler
    seg: np.ndarray
    motion: Motion
    fractions: np.ndarray | None = None

    @property
    def tables(self) -> bool:
        """True when the maps are lookup tables."""
        return self.maps["m0"].ndim == 1

    def __call__(self, image: Image) -> Image:
        target = self.resampler.target
        out = np.zeros(target.shape, dtype=np.float64)
        recorded: list = []
        history: tuple | None
        for group in self.groups:
            if self.tables:
                history = self._acquire_table(image, group, out)
            elif len(group.slices) == target.shape[2]:
                history = self._acquire_dense_volume(image, group, out)
            else:
                history = self._acquire_dense_slabs(image, group, out)
            if not recorded and history is not None:
                recorded = [dict(entry) for entry in history[len(image.history) :]]
        return image.evolve(
            "slice_readout",
            data=out,
            affine=target.affine,
            slice_delays=[group.delay for group in self.groups],
            at_first_slice=recorded,
            motion=asdict(self.motion),
            acq_matrix=list(target.shape),
        )

    def _acquire_table(self, image: Image, group: SliceGroup, out: np.ndarray) -> tuple:
        """Slices of ``group`` from the table of their time: ``sum_l table[l] * fraction_l``."""
        done = apply_pipeline(image, self.steps(self.maps, group.delay))
        index = list(group.slices)
        if self.fractions is None:
            volume = self.resampler.resample_table(self.seg, done.data)
            out[..., index] = volume[..., index]
        else:
            out[..., index] = mix(done.data, self.fractions[..., index])
        return done.history

    def _acquire_dense_volume(self, image: Image, group: SliceGroup, out: np.ndarray) -> tuple:
        """Every slice at one time: the whole ground-truth grid, acquired at once."""
        done = apply_pipeline(image, self.steps(self.maps, group.delay))
        out[...] = self.resampler.resample(done.data)
        return done.history

    def _acquire_dense_slabs(
        self, image: Image, group: SliceGroup, out: np.ndarray
    ) -> tuple | None:
        """Each slice of ``group`` from the ground-truth slab that feeds it (a slice no voxel
        feeds stays 0)."""
        history = None
        for index in group.slices:
            box = feeding_box(self.resampler, index, index)
            if box is None:
                continue
            slab_maps = {
                name: values[box] if values.ndim == 3 else values
                for name, values in self.maps.items()
            }
            slab_affine = _shifted(image.affine, [part.start for part in box])
            start = Image(data=slab_maps["m0"], affine=slab_affine, history=image.history)
            done = apply_pipeline(start, self.steps(slab_maps, group.delay))
            acquire = _slab_resampler(self.resampler, slab_affine, box, index)
            out[..., index] = acquire.resample(done.data)[..., 0]
            history = history or done.history
        return history
