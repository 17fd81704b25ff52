"""The rules across the 2D readout keys of an asl series (docs/physics.md §2.6, §6.8): the
slice keys only for ``mr_acq_type`` 2D, one way of giving the times, one time per slice, the
earliest 0, every slice within the shortest repetition time, a multiband factor that divides the
slice count. The timing rule itself is :mod:`asldro.params.slices`."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from asldro.params.rules import INVALID, fmt, show
from asldro.params.slices import (
    DEFAULT_SLICE_READOUT_TIME,
    SLICE_KEYS,
    SLICE_ORDERS,
    THREE_D,
    TWO_D,
    repeats_per_band,
    slice_times,
)


def slice_problems(out: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """``(key, message)`` for each rule of the 2D keys that the resolved ``series_parameters``
    ``out`` of an asl series (at ``where``) breaks: the slice keys only with ``mr_acq_type``
    2D, ``slice_timing`` not with ``slice_readout_time``/``slice_order``, one time per slice,
    0 among them, every time within the shortest repetition time, and a multiband factor that
    divides the slice count (with ``slice_timing``: times that repeat per band). A key that
    failed its own check is not checked again."""
    acq_type = out.get("mr_acq_type", THREE_D)
    if acq_type is INVALID:
        return []
    given = [key for key in SLICE_KEYS if key in out]
    if acq_type != TWO_D:
        return [
            (
                key,
                f"{where}.{key}: only for mr_acq_type '2D' (a 3D readout excites the whole "
                "volume at once, and BIDS forbids SliceTiming for it); set mr_acq_type to '2D' "
                "or remove the key",
            )
            for key in given
        ]
    problems = []
    if "slice_timing" in out:
        problems += [
            (
                key,
                f"{where}.{key}: not with slice_timing (the explicit times state the order); "
                "give one or the other",
            )
            for key in ("slice_readout_time", "slice_order")
            if key in out
        ]
    problem = _times_problem(out, where)
    if problem:
        problems.append(problem)
    return problems


def _slice_count(out: Mapping[str, Any]) -> int | None:
    matrix = out.get("acq_matrix")
    if matrix is INVALID or not isinstance(matrix, Sequence) or len(matrix) != 3:
        return None
    return int(matrix[2])


def _times_problem(out: Mapping[str, Any], where: str) -> tuple[str, str] | None:
    """The first rule the slice times of a 2D series break (count, 0, TR, multiband)."""
    slices = _slice_count(out)
    if slices is None or any(out.get(key) is INVALID for key in SLICE_KEYS):
        return None  # a key's own problem is reported already
    factor = out.get("multiband_factor", 1)
    if slices % factor:
        return (
            "multiband_factor",
            f"{where}.multiband_factor: {show(factor)} does not divide the {slices} slices of "
            "acq_matrix[2] (each band has the same number of slices)",
        )
    explicit = out.get("slice_timing")
    if explicit is not None:
        problem = _explicit_problem(explicit, slices, factor, where)
        if problem:
            return ("slice_timing", problem)
        times: Sequence[float] = explicit
    else:
        times = slice_times(
            slices,
            out.get("slice_readout_time", DEFAULT_SLICE_READOUT_TIME),
            out.get("slice_order", SLICE_ORDERS[0]),
            factor,
        )
    return _repetition_problem(times, out.get("repetition_time"), explicit is not None, where)


def _explicit_problem(times: Sequence[float], slices: int, factor: int, where: str) -> str | None:
    key = f"{where}.slice_timing"
    if len(times) != slices:
        return f"{key}: expected {slices} values (one per slice of acq_matrix[2]), got {len(times)}"
    if min(times) != 0:
        return (
            f"{key}: the earliest time must be 0, got {fmt(min(times))}: the times count from the "
            "excitation of the first acquired slice, which the post-labelling delay refers to"
        )
    if factor > 1 and not repeats_per_band(times, factor):
        per_band = slices // factor
        return (
            f"{key}: with multiband_factor {factor} the times must repeat in each band of "
            f"{per_band} slices (slice k and k + {per_band} are excited together)"
        )
    return None


def _repetition_problem(
    times: Sequence[float], repetition: Any, explicit: bool, where: str
) -> tuple[str, str] | None:
    """Every slice must be excited within the shortest repetition time of the series."""
    if repetition is INVALID or not repetition:
        return None
    shortest = min(repetition)
    latest = max(times)
    if latest < shortest:
        return None
    if explicit:
        return (
            "slice_timing",
            f"{where}.slice_timing: {fmt(latest)} s must be shorter than the shortest "
            f"repetition_time ({fmt(shortest)} s): every slice is excited within one repetition",
        )
    return (
        "slice_readout_time",
        f"{where}.slice_readout_time: the last slice would be excited {fmt(latest)} s after "
        f"the first, not within the shortest repetition_time ({fmt(shortest)} s); use a "
        "shorter slice_readout_time, fewer slices or a longer repetition_time",
    )
