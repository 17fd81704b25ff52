"""The kinetic-option keys of an asl series (issue 11 items 3-6): ``bolus_cut_off_technique``,
``bolus_cut_off_delay_time``, ``dispersion``, ``vascular_crushing`` (and ``gkm_model``, whose
refusal is gone): their defaults, the rules across keys, one line per mistake."""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest

from asldro.params import ParamError, default_params, load_params
from asldro.params.catalog import BOLUS_CUT_OFF_TECHNIQUES
from asldro.physics import bolus
from asldro.physics.dispersion import Dispersion

from .conftest import asl, document

SP0 = "image_series[0].series_parameters"
PASL = {"label_type": "pasl", "label_duration": 1.2, "signal_time": 1.8}
NEW_KEYS = (
    "bolus_cut_off_technique",
    "bolus_cut_off_delay_time",
    "dispersion",
    "vascular_crushing",
)


def _errors(source: Any) -> list[str]:
    with pytest.raises(ParamError) as info:
        load_params(source)
    return info.value.errors


def _resolved(params) -> dict:
    return params.resolved["image_series"][0]["series_parameters"]


def test_a_2_2_0_file_resolves_without_the_new_keys() -> None:
    """None of the new keys is written into the resolved file of a file without them; the typed
    series has no cut-off, no dispersion and no vascular crushing."""
    params = load_params(default_params())
    for entry in params.resolved["image_series"]:
        assert not set(NEW_KEYS) & set(entry["series_parameters"])
    series = params.series[0]
    assert (series.bolus_cut_off, series.dispersion_kernel, series.vascular_crushing) == (
        None,
        None,
        False,
    )


def test_the_techniques_are_the_physics_ones() -> None:
    """The catalog's choice is asldro.physics.bolus's list (one set of techniques)."""
    assert set(BOLUS_CUT_OFF_TECHNIQUES) == set(bolus.CUT_OFF_TECHNIQUES)


@pytest.mark.parametrize(
    "given, resolved, cut_off",
    [
        ({"bolus_cut_off_technique": "quipssii"}, 0.8, bolus.BolusCutOff("QUIPSSII", 0.8)),
        ({"bolus_cut_off_technique": "QUIPSS"}, 0.8, bolus.BolusCutOff("QUIPSS", 0.8)),
        (
            {"bolus_cut_off_technique": "Q2TIPS"},
            [0.8, 1.6],
            bolus.BolusCutOff("Q2TIPS", 0.8, 1.6),
        ),
        (
            {"bolus_cut_off_technique": "QUIPSSII", "bolus_cut_off_delay_time": 1},
            1.0,
            bolus.BolusCutOff("QUIPSSII", 1.0),
        ),
        (
            {"bolus_cut_off_technique": "Q2TIPS", "bolus_cut_off_delay_time": [0.7, 0.7]},
            [0.7, 0.7],
            bolus.BolusCutOff("Q2TIPS", 0.7, 0.7),
        ),
    ],
)
def test_a_cut_off_resolves_with_its_times(given, resolved, cut_off) -> None:
    """A technique without times gets TI1 0.8 s (Q2TIPS [0.8, 1.6]); the resolved file states
    the technique in its canonical spelling and the times; the typed series' cut-off is the
    physics' BolusCutOff."""
    params = load_params(document(asl(**PASL, **given)))
    assert _resolved(params)["bolus_cut_off_technique"] == cut_off.technique
    assert _resolved(params)["bolus_cut_off_delay_time"] == resolved
    assert params.series[0].bolus_cut_off == cut_off
    again = load_params(params.resolved)
    assert again.series == params.series


@pytest.mark.parametrize(
    "given, message",
    [
        (
            {"label_type": "pcasl", "bolus_cut_off_technique": "QUIPSSII"},
            f'{SP0}.bolus_cut_off_technique: "QUIPSSII" is a PASL bolus cut-off, but '
            "label_type is \"pcasl\"; remove the key or use label_type 'pasl'",
        ),
        (
            {**PASL, "bolus_cut_off_delay_time": 0.7},
            f"{SP0}.bolus_cut_off_delay_time: 0.7 is given without bolus_cut_off_technique; "
            "give the technique (QUIPSSII, Q2TIPS or QUIPSS) or remove the key",
        ),
        (
            {**PASL, "bolus_cut_off_technique": "Q2TIPS", "bolus_cut_off_delay_time": 0.7},
            f"{SP0}.bolus_cut_off_delay_time: 0.7 for Q2TIPS, which takes two times [TI1, "
            "TI1s] (first and last saturation pulse)",
        ),
        (
            {
                **PASL,
                "bolus_cut_off_technique": "QUIPSSII",
                "bolus_cut_off_delay_time": [0.7, 1.6],
            },
            f"{SP0}.bolus_cut_off_delay_time: [0.7, 1.6] for QUIPSSII, which takes one time, "
            "TI1",
        ),
        (
            {
                **PASL,
                "bolus_cut_off_technique": "Q2TIPS",
                "bolus_cut_off_delay_time": [1.6, 0.7],
            },
            f"{SP0}.bolus_cut_off_delay_time: [1.6, 0.7]: bolus cut-off Q2TIPS: TI1 <= TI1s is "
            "required, got TI1 1.6 > TI1s 0.7",
        ),
        (
            {**PASL, "bolus_cut_off_technique": "QUIPSS", "bolus_cut_off_delay_time": 0},
            f"{SP0}.bolus_cut_off_delay_time: 0 must be > 0",
        ),
        (
            {**PASL, "bolus_cut_off_technique": "Q2TIP"},
            f'{SP0}.bolus_cut_off_technique: "Q2TIP" is not one of QUIPSSII, Q2TIPS, QUIPSS '
            "(did you mean 'Q2TIPS'?)",
        ),
    ],
)
def test_cut_off_mistakes_are_one_line_each(given, message) -> None:
    """Each rule of the cut-off keys: one line naming the key, the value and the rule."""
    assert _errors(document(asl(**given))) == [message]


def test_a_cut_off_after_the_natural_bolus_is_one_warning() -> None:
    """label_duration 0.5 s ends before TI1 0.8 s: the cut-off has no effect, said once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        params = load_params(
            document(asl(**{**PASL, "label_duration": 0.5}, bolus_cut_off_technique="QUIPSSII"))
        )
    assert [str(w.message) for w in caught] == [
        f"{SP0}.label_duration: the natural bolus (0.5 s) ends before the QUIPSSII cut-off at "
        "TI1 = 0.8 s, which then has no effect: the bolus width stays 0.5 s"
    ]
    assert params.series[0].bolus_cut_off == bolus.BolusCutOff("QUIPSSII", 0.8)
    with warnings.catch_warnings(record=True) as caught:  # QUIPSS cuts no width: no warning
        warnings.simplefilter("always")
        load_params(
            document(asl(**{**PASL, "label_duration": 0.5}, bolus_cut_off_technique="QUIPSS"))
        )
    assert not caught


@pytest.mark.parametrize(
    "given, resolved, kernel",
    [
        ({"type": "none"}, {"type": "none"}, None),
        (
            {"type": "Gamma"},
            {"type": "gamma", "s": math.exp(2), "p": math.exp(-0.3) / math.exp(2)},
            Dispersion("gamma", s=math.exp(2), p=math.exp(-0.3) / math.exp(2)),
        ),
        (
            {"p": 0.2, "type": "gamma", "s": 5},
            {"type": "gamma", "s": 5.0, "p": 0.2},
            Dispersion("gamma", s=5.0, p=0.2),
        ),
        ({"type": "gauss"}, {"type": "gauss", "sigma": math.exp(-1.6)}, None),
    ],
)
def test_dispersion_resolves_with_fabbers_priors(given, resolved, kernel) -> None:
    """A kernel parameter left out takes Fabber's prior (s = e^2, p = e^-0.3/e^2,
    sigma = e^-1.6); the resolved file states the type first, then its parameters."""
    params = load_params(document(asl(dispersion=given)))
    assert list(_resolved(params)["dispersion"].items()) == list(resolved.items())
    if kernel is not None or resolved["type"] == "none":
        assert params.series[0].dispersion_kernel == kernel
    else:
        assert params.series[0].dispersion_kernel == Dispersion("gauss", sigma=math.exp(-1.6))


@pytest.mark.parametrize(
    "given, message",
    [
        (
            {"gkm_model": "whitepaper", "dispersion": {"type": "gamma"}},
            f"{SP0}.dispersion: type \"gamma\" is defined for gkm_model 'full' only (and the "
            "arterial component), got gkm_model \"whitepaper\"; use gkm_model 'full' or remove "
            "the dispersion",
        ),
        (
            {"dispersion": {"type": "gamma", "sigma": 0.2}},
            f"{SP0}.dispersion.sigma: unknown key",
        ),
        (
            {"dispersion": {"type": "gauss", "sigma": 0}},
            f"{SP0}.dispersion.sigma: 0 must be > 0",
        ),
        (
            {"dispersion": {"type": "lorentz"}},
            f'{SP0}.dispersion.type: "lorentz" is not one of none, gamma, gauss',
        ),
    ],
)
def test_dispersion_mistakes_are_one_line_each(given, message) -> None:
    """Only the full model takes a dispersion other than none (exit 65); the object's keys and
    ranges are checked."""
    errors = _errors(document(asl(**given)))
    assert len(errors) == 1 and errors[0].startswith(message)


def test_dispersion_none_goes_with_any_model() -> None:
    """{type: none} is no dispersion: every model takes it."""
    params = load_params(document(asl(gkm_model="consensus", dispersion={"type": "none"})))
    assert params.series[0].dispersion_kernel is None


def test_vascular_crushing_is_a_boolean() -> None:
    """vascular_crushing: true or false; the resolved file states it only when given."""
    params = load_params(document(asl(vascular_crushing=True)))
    assert params.series[0].vascular_crushing is True
    assert _resolved(params)["vascular_crushing"] is True
    assert _errors(document(asl(vascular_crushing="yes"))) == [
        f'{SP0}.vascular_crushing: expected true or false, got "yes"'
    ]
