"""2D readout keys (issue 12 item 2): ``mr_acq_type``, ``slice_timing`` or
``slice_readout_time`` with ``slice_order``, ``multiband_factor``; the slice-timing rule
(:mod:`asldro.params.slices`) and the rules across the keys (exit 65, one line each)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asldro.cli import main
from asldro.params import ParamError, load_params
from asldro.params.slices import acquisition_order, slice_times

from .conftest import asl, document

SP0 = "image_series[0].series_parameters"


def _series(**parameters: Any):
    return load_params(document(asl(**parameters))).series[0]


def _errors(**parameters: Any) -> list[str]:
    with pytest.raises(ParamError) as info:
        load_params(document(asl(**parameters)))
    return info.value.errors


@pytest.mark.parametrize(
    "count, order, expected",
    [
        (5, "ascending", (0, 1, 2, 3, 4)),
        (5, "descending", (4, 3, 2, 1, 0)),
        (5, "interleaved", (0, 2, 4, 1, 3)),
        (6, "interleaved", (0, 2, 4, 1, 3, 5)),
        (1, "interleaved", (0,)),
    ],
)
def test_acquisition_order(count, order, expected) -> None:
    """Interleaved is 1-based odd then even for every slice count (0-based 0, 2, 4, ...)."""
    assert acquisition_order(count, order) == expected


def test_slice_times_follow_the_order_and_round_to_a_nanosecond() -> None:
    """Slice j's time is its rank in the order times the readout time, rounded to 1e-9 s
    (3 x 0.035 is 0.10500000000000001 in floating point)."""
    assert slice_times(4, 0.035, "ascending") == (0.0, 0.035, 0.07, 0.105)
    assert slice_times(4, 0.035, "descending") == (0.105, 0.07, 0.035, 0.0)
    assert slice_times(5, 0.1, "interleaved") == (0.0, 0.3, 0.1, 0.4, 0.2)


def test_multiband_slice_times_repeat_per_band() -> None:
    """Multiband 3 over 12 slices: 3 bands of 4 adjacent slices, slice k and k + 4 and k + 8
    excited at once (the times repeat per band, in each band's own order)."""
    times = slice_times(12, 0.05, "interleaved", 3)
    band = (0.0, 0.1, 0.05, 0.15)
    assert times == band * 3
    assert slice_times(12, 0.05, "ascending", 3) == (0.0, 0.05, 0.1, 0.15) * 3
    with pytest.raises(ValueError):
        slice_times(10, 0.05, "ascending", 3)


def test_a_file_without_the_keys_is_3d_and_resolves_as_before() -> None:
    """ASLDRO 2.2.0 files: 3D, no slice timing, and the resolved file states none of the new
    keys (it is the document it resolved to before they existed)."""
    params = load_params(document(asl()))
    series = params.series[0]
    assert series.mr_acq_type == "3D" and series.readout_slice_timing is None
    resolved = params.resolved["image_series"][0]["series_parameters"]
    for key in ("mr_acq_type", "slice_timing", "slice_readout_time", "slice_order"):
        assert key not in resolved
    assert "multiband_factor" not in resolved


def test_2d_defaults_to_35_ms_ascending_single_band() -> None:
    """mr_acq_type 2D alone: 0.035 s per slice, ascending, multiband 1 (case-insensitive)."""
    series = _series(mr_acq_type="2d", acq_matrix=[8, 8, 4])
    assert series.mr_acq_type == "2D"
    assert series.readout_slice_timing == (0.0, 0.035, 0.07, 0.105)
    assert (series.slice_order, series.multiband_factor) == ("ascending", 1)


def test_explicit_slice_timing_is_used_as_given_and_round_trips() -> None:
    """An explicit array is the readout's timing; the resolved file loads to the same series."""
    times = [0.0, 0.2, 0.1, 0.0, 0.2, 0.1]
    params = load_params(
        document(
            asl(mr_acq_type="2D", acq_matrix=[8, 8, 6], slice_timing=times, multiband_factor=2)
        )
    )
    series = params.series[0]
    assert series.readout_slice_timing == tuple(times)
    again = load_params(json.loads(json.dumps(params.resolved)))
    assert again.series == params.series
    resolved = again.resolved["image_series"][0]["series_parameters"]
    assert resolved["mr_acq_type"] == "2D" and resolved["slice_timing"] == times


@pytest.mark.parametrize(
    "parameters, expected",
    [
        (
            {"slice_order": "descending"},
            f"{SP0}.slice_order: only for mr_acq_type '2D'",
        ),
        (
            {"mr_acq_type": "3D", "multiband_factor": 2},
            f"{SP0}.multiband_factor: only for mr_acq_type '2D'",
        ),
        (
            {"mr_acq_type": "2D", "acq_matrix": [8, 8, 6], "slice_timing": [0, 0.1]},
            f"{SP0}.slice_timing: expected 6 values (one per slice of acq_matrix[2]), got 2",
        ),
        (
            {"mr_acq_type": "2D", "acq_matrix": [8, 8, 2], "slice_timing": [0.1, 0.2]},
            f"{SP0}.slice_timing: the earliest time must be 0, got 0.1",
        ),
        (
            {"mr_acq_type": "2D", "acq_matrix": [8, 8, 2], "slice_timing": [0, -0.1]},
            f"{SP0}.slice_timing[1]: -0.1 must be in [0, 100]",
        ),
        (
            {
                "mr_acq_type": "2D",
                "acq_matrix": [8, 8, 4],
                "slice_timing": [0, 0.1, 0.2, 0.3],
                "multiband_factor": 2,
            },
            f"{SP0}.slice_timing: with multiband_factor 2 the times must repeat in each band",
        ),
        (
            {"mr_acq_type": "2D", "acq_matrix": [8, 8, 5], "multiband_factor": 2},
            f"{SP0}.multiband_factor: 2 does not divide the 5 slices of acq_matrix[2]",
        ),
        (
            {
                "mr_acq_type": "2D",
                "acq_matrix": [8, 8, 2],
                "slice_timing": [0, 0.1],
                "slice_readout_time": 0.1,
            },
            f"{SP0}.slice_readout_time: not with slice_timing",
        ),
        (
            {"mr_acq_type": "2D", "acq_matrix": [8, 8, 2], "slice_timing": [0, 5.0]},
            f"{SP0}.slice_timing: 5 s must be shorter than the shortest repetition_time (5 s)",
        ),
        (
            {"mr_acq_type": "2D", "acq_matrix": [8, 8, 101], "slice_readout_time": 0.05},
            f"{SP0}.slice_readout_time: the last slice would be excited 5 s after the first",
        ),
        (
            {"mr_acq_type": "2D", "multiband_factor": 0},
            f"{SP0}.multiband_factor: 0 must be >= 1",
        ),
        ({"mr_acq_type": "4D"}, f"{SP0}.mr_acq_type"),
    ],
)
def test_bad_2d_keys_are_refused_with_one_line(parameters, expected) -> None:
    """Each broken rule: one message naming the key, starting with the JSON path."""
    errors = _errors(**parameters)
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors


def test_a_bad_2d_key_is_exit_65_with_one_line_and_no_output(tmp_path, capsys) -> None:
    """The command line: exit 65, one line on stderr, nothing written."""
    params = tmp_path / "params.json"
    params.write_text(json.dumps(document(asl(slice_timing=[0.0, 0.1]))))
    out = tmp_path / "out"
    assert main(["generate", "--params", str(params), str(out)]) == 65
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "slice_timing: only for mr_acq_type '2D'" in err
    assert not out.exists()
