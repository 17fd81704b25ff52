"""The BIDS volume types deltam, cbf and noRF in ``asl_context`` (issue 12 item 3): accepted as
tokens (noRF spelled as BIDS spells it), their per-token defaults, the per-context objects that
must name them, and the complex output a subtraction or a CBF map cannot have."""

from __future__ import annotations

from typing import Any

import pytest

from asldro.params import ParamError, load_params

from .conftest import asl, document

SP0 = "image_series[0].series_parameters"


def _errors(source: Any) -> list[str]:
    with pytest.raises(ParamError) as info:
        load_params(source)
    return info.value.errors


def test_the_new_tokens_load_in_their_bids_spelling() -> None:
    """deltam, cbf and noRF are tokens (any case on input, as the others); the typed series and
    the resolved file spell noRF as BIDS does."""
    params = load_params(document(asl(asl_context="m0scan DELTAM cbf norf control label")))
    series = params.series[0]
    assert series.asl_context == ("m0scan", "deltam", "cbf", "noRF", "control", "label")
    resolved = params.resolved["image_series"][0]["series_parameters"]
    assert resolved["asl_context"] == "m0scan deltam cbf noRF control label"


def test_the_new_tokens_take_the_defaults_of_control_and_label() -> None:
    """Repetition time: 10 s for m0scan, 5 s for control and label, and 5 s for deltam, cbf
    (a control/label pair each) and noRF (a control without excitation)."""
    params = load_params(document(asl(asl_context="m0scan deltam cbf noRF")))
    assert params.series[0].repetition_time == (10.0, 5.0, 5.0, 5.0)


def test_an_unknown_token_is_still_refused() -> None:
    errors = _errors(document(asl(asl_context="m0scan delta")))
    assert len(errors) == 1 and f"{SP0}.asl_context" in errors[0]


def test_a_per_context_object_gives_the_new_tokens_their_own_values() -> None:
    """{m0scan, control, label} (ASLDRO develop's three, still required) plus the key of each new
    token the context uses."""
    params = load_params(
        document(
            asl(
                asl_context="m0scan deltam noRF",
                echo_time={
                    "m0scan": 0.012,
                    "control": 0.011,
                    "label": 0.011,
                    "deltam": 0.013,
                    "noRF": 0.014,
                },
            )
        )
    )
    assert params.series[0].echo_time == (0.012, 0.013, 0.014)


@pytest.mark.parametrize("token", ["deltam", "cbf", "noRF"])
def test_a_per_context_object_without_a_used_token_names_the_missing_key(token: str) -> None:
    """One line naming the missing key and why it is needed (its volumes are in the context)."""
    errors = _errors(
        document(
            asl(
                asl_context=f"m0scan control label {token}",
                echo_time={"m0scan": 0.01, "control": 0.01, "label": 0.01},
            )
        )
    )
    assert errors == [
        f"{SP0}.echo_time.{token}: missing (asl_context has {token} volumes, so the object "
        f"needs a {token} value)"
    ]


def test_the_develop_keys_stay_required_with_the_new_tokens() -> None:
    """The object keeps ASLDRO develop's rule: m0scan, control and label are required."""
    errors = _errors(
        document(asl(asl_context="deltam", repetition_time={"deltam": 5.0, "m0scan": 10.0}))
    )
    assert errors == [
        f"{SP0}.repetition_time.control: missing (required)",
        f"{SP0}.repetition_time.label: missing (required)",
    ]


@pytest.mark.parametrize(
    "token, what",
    [("deltam", "the magnitude subtraction |control| - |label|"), ("cbf", "a CBF map")],
)
def test_complex_output_of_a_subtraction_or_a_cbf_map_is_refused(token: str, what: str) -> None:
    """A deltam or cbf volume has no phase: complex output is refused in one line."""
    errors = _errors(
        document(asl(asl_context=f"m0scan {token} control label", output_image_type="complex"))
    )
    assert errors == [
        f"{SP0}.output_image_type: 'complex' is not possible with {token} volumes in "
        f"asl_context: a {token} volume is {what} and has no phase; use 'magnitude'"
    ]


def test_complex_output_with_norf_volumes_is_allowed() -> None:
    """A noRF volume is complex noise: complex output is fine."""
    params = load_params(
        document(asl(asl_context="m0scan noRF control label", output_image_type="complex"))
    )
    assert params.series[0].output_image_type == "complex"


@pytest.mark.parametrize("context", ["noRF", "m0scan noRF noRF"])
def test_norf_volumes_need_a_perfusion_volume_in_their_series(context: str) -> None:
    """A noise scan belongs to a run with control, label, deltam or cbf volumes (BIDS
    TotalAcquiredPairs > 0): one line before anything is simulated."""
    assert _errors(document(asl(asl_context=context))) == [
        f"{SP0}.asl_context: {context!r} has noRF volumes but no control, label, deltam or cbf "
        "volume; put the noise scans in the series of the run they belong to"
    ]


def test_an_m0scan_only_series_stays_a_separate_m0() -> None:
    params = load_params(
        document(asl(asl_context="m0scan m0scan"), asl(asl_context="deltam deltam noRF"))
    )
    assert params.series[1].asl_context == ("deltam", "deltam", "noRF")
