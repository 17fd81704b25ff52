"""The slice timing of a 2D multi-slice readout (docs/physics.md §6.8), implemented once.

A 3D readout excites the whole volume at once; a 2D readout excites the acquisition slices
(along the third axis of ``acq_matrix``, BIDS ``SliceEncodingDirection`` ``k``) one after the
other. ``SliceTiming[k]`` is the time from the excitation of the first acquired slice (the one
the post-labelling delay refers to) to that of slice k, so its minimum is 0.

The times are either given (``slice_timing``) or made from a per-slice readout time, a slice
order and a multiband factor (:func:`slice_times`). With multiband factor m the N slices form m
bands of n = N/m adjacent slices; slice j of every band is excited at once, so the times repeat
per band: ``SliceTiming[k] = band_times[k mod n]`` (what ASLPrep's ``--sliceband`` and BASIL
expect). The orders, within a band of n slices (0-based positions):

* ``ascending``: 0, 1, ..., n-1;
* ``descending``: n-1, ..., 1, 0;
* ``interleaved``: 0, 2, 4, ... then 1, 3, 5, ... (1-based: odd then even, for every n). This
  is Philips' default interleave, SPM's and FSL's "interleaved" and the CMRR multiband order;
  Siemens product sequences start with position 1 when n is even (1, 3, ..., 0, 2, ...), which
  an explicit ``slice_timing`` states.

Times are rounded to 1e-9 s (:func:`asldro.params.timing.round_seconds`): the sidecar and the
simulation use the same numbers.
"""

from __future__ import annotations

from typing import Sequence

from asldro.params.timing import round_seconds

TWO_D = "2D"
THREE_D = "3D"
ACQUISITION_TYPES = (THREE_D, TWO_D)
"""``mr_acq_type`` values; 3D is ASLDRO 2.2.0's readout (the default)."""
SLICE_ORDERS = ("ascending", "descending", "interleaved")
DEFAULT_SLICE_READOUT_TIME = 0.035
"""s per slice when a 2D series gives no ``slice_timing``: within the 30-50 ms ExploreASL's
tutorial quotes for 2D EPI (bids-examples asl002: 0.0385 s, asl004: 0.0452 s)."""

SLICE_KEYS = ("slice_timing", "slice_readout_time", "slice_order", "multiband_factor")
"""The keys that describe a 2D readout: refused for a 3D one."""


def acquisition_order(count: int, order: str) -> tuple[int, ...]:
    """The 0-based positions of ``count`` slices in the order they are excited."""
    if order == "ascending":
        return tuple(range(count))
    if order == "descending":
        return tuple(reversed(range(count)))
    if order == "interleaved":
        return (*range(0, count, 2), *range(1, count, 2))
    raise ValueError(f"slice order must be one of {SLICE_ORDERS}, got {order!r}")


def slice_times(
    slices: int, readout_time: float, order: str, multiband_factor: int = 1
) -> tuple[float, ...]:
    """SliceTiming (s) of ``slices`` acquisition slices: one excitation every ``readout_time``
    in ``order`` within each of the ``multiband_factor`` bands, the same times in every band;
    rounded to 1e-9 s."""
    if multiband_factor < 1 or slices % multiband_factor:
        raise ValueError(f"multiband factor {multiband_factor} does not divide {slices} slices")
    per_band = slices // multiband_factor
    band = [0.0] * per_band
    for rank, position in enumerate(acquisition_order(per_band, order)):
        band[position] = round_seconds(rank * readout_time)
    return tuple(band[k % per_band] for k in range(slices))


def repeats_per_band(times: Sequence[float], multiband_factor: int) -> bool:
    """True when ``times`` is the same in each of the ``multiband_factor`` bands."""
    if multiband_factor < 1 or len(times) % multiband_factor:
        return False
    per_band = len(times) // multiband_factor
    return all(times[k] == times[k % per_band] for k in range(len(times)))


def series_slice_timing(
    mr_acq_type: str,
    slices: int,
    slice_timing: Sequence[float] | None,
    slice_readout_time: float,
    slice_order: str,
    multiband_factor: int,
) -> tuple[float, ...] | None:
    """The SliceTiming of a series' readout: None for 3D; the given ``slice_timing`` (rounded
    to 1e-9 s) or :func:`slice_times` for 2D."""
    if mr_acq_type != TWO_D:
        return None
    if slice_timing is not None:
        return tuple(round_seconds(value) for value in slice_timing)
    return slice_times(slices, slice_readout_time, slice_order, multiband_factor)
