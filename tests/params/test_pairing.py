"""m0scan-only asl series pairing (docs/bids.md §2, §5)."""

from __future__ import annotations

import pytest

from asldro.params import ParamError, load_params, m0_pairing

from .conftest import asl, document, structural

M0 = asl(asl_context="m0scan")
CL = asl(asl_context="control label")
INCLUDED = asl(asl_context="m0scan control label")


@pytest.mark.parametrize(
    "series, expected",
    [
        ((CL, M0), {1: 0}),  # follows its asl series
        ((M0, CL), {0: 1}),  # nothing precedes: the nearest following one
        ((CL, M0, CL, M0), {1: 0, 3: 2}),
        ((M0, CL, CL, M0), {0: 1, 3: 2}),  # preceding wins for the last one
        ((CL, structural(), M0), {2: 0}),  # other series types are skipped
        ((CL, CL), {}),
        ((INCLUDED,), {}),
        ((M0, structural(), asl(asl_context="label")), {0: 2}),  # label-only counts
        ((INCLUDED, CL, M0), {2: 1}),  # nearest preceding, not the included one
    ],
)
def test_pairing_rule(series: tuple, expected: dict[int, int]) -> None:
    """Nearest preceding asl series with control/label volumes, else the nearest following."""
    assert m0_pairing(load_params(document(*series))) == expected


def test_m0_only_without_asl_series() -> None:
    """No asl series with control/label volumes: a configuration error naming the series."""
    with pytest.raises(ParamError) as info:
        load_params(document(structural(), M0))
    assert str(info.value) == (
        "image_series[1]: an m0scan-only asl series needs an asl series with control/label "
        "volumes to calibrate"
    )


def test_two_m0_series_for_one_asl_series() -> None:
    """Two m0scan-only series pairing with the same asl series: an error naming both."""
    with pytest.raises(ParamError) as info:
        load_params(document(CL, M0, M0))
    assert len(info.value.errors) == 1
    message = info.value.errors[0]
    assert message.startswith("image_series[2]: ")
    assert "image_series[0]" in message and "image_series[1] already calibrates" in message


def test_included_and_separate_m0() -> None:
    """An asl series with m0scan rows cannot also get a separate M0."""
    with pytest.raises(ParamError) as info:
        load_params(document(INCLUDED, M0))
    assert str(info.value).startswith("image_series[1]: ")
    assert "Included and Separate" in str(info.value)


def test_pairing_errors_join_other_errors() -> None:
    """Pairing problems are reported together with the per-series ones."""
    with pytest.raises(ParamError) as info:
        load_params(document(structural(snr=1), M0))
    assert len(info.value.errors) == 2
    assert str(info.value).startswith("2 problems: ")
