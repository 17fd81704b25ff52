"""``global_configuration.cohort`` in the parameter file (issue 14 item 1): the typed Cohort,
the resolved file, the rules across keys, and the distributions' analytic moments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asldro.api import participant_document
from asldro.params import ParamError, default_params, load_params
from asldro.params.cohort import Distribution

from .conftest import cohort_params, normal


def test_without_a_cohort_the_typed_value_is_none_and_the_resolved_file_has_no_key():
    params = load_params(default_params())
    assert params.global_config.cohort is None
    assert "cohort" not in params.resolved["global_configuration"]


def test_a_cohort_is_typed_with_groups_inheriting_and_overriding_per_tissue_quantity():
    cohort = cohort_params(
        {
            "tissues": {"grey_matter": {"perfusion_rate": normal(60, 8), "t1": normal(1.3, 0.05)}},
            "motion": {"scenario": "jitter", "translation_sd": [0.1, 0.2, 0.3]},
            "groups": [
                {"name": "control", "share": 0.6},
                {
                    "name": "patient",
                    "share": 0.4,
                    "tissues": {"grey_matter": {"perfusion_rate": normal(40, 8)}},
                    "motion": {"scenario": "none"},
                },
            ],
            "sessions": 2,
        }
    ).global_config.cohort
    assert cohort is not None and cohort.seed == 0 and cohort.sessions == ("1", "2")
    control, patient = cohort.groups
    assert control.tissues["grey_matter"]["perfusion_rate"].loc == 60
    assert patient.tissues["grey_matter"]["perfusion_rate"].loc == 40
    assert patient.tissues["grey_matter"]["t1"].loc == 1.3  # inherited per quantity
    assert control.motion is not None and control.motion.translation_sd == (0.1, 0.2, 0.3)
    assert patient.motion is not None and patient.motion.scenario == "none"


def test_session_labels_lose_their_prefix():
    cohort = cohort_params({"sessions": ["ses-pre", "post"]}).global_config.cohort
    assert cohort is not None and cohort.sessions == ("pre", "post")


def test_the_resolved_file_states_the_seed_and_seed_replaces_it_in_the_participant_file():
    params = cohort_params({"tissues": {}})
    assert params.resolved["global_configuration"]["cohort"]["seed"] == 0
    document = participant_document(params, 17, "01")
    assert document["global_configuration"]["cohort"]["seed"] == 17
    assert load_params(document).global_config.cohort.seed == 17


@pytest.mark.parametrize(
    "cohort, words",
    [
        (
            {"tissues": {"grey_matter": {"t1": {"distribution": "uniform", "min": 2, "max": 1}}}},
            ["cohort.tissues.grey_matter.t1", "min 2 is above max 1"],
        ),
        (
            {
                "tissues": {
                    "grey_matter": {
                        "t1": {"distribution": "truncnormal", "mean": 1, "sd": 0.01, "min": 2}
                    }
                }
            },
            ["cohort.tissues.grey_matter.t1", "holds"],
        ),
        (
            {"groups": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.6}]},
            ["cohort.groups", "sum to 1.1"],
        ),
        (
            {"groups": [{"name": "a", "share": 0.5}, {"name": "A", "share": 0.5}]},
            ["groups[1].name", "groups[0]"],
        ),
        ({"groups": [{"name": "a"}]}, ["groups[0]", "share"]),
        (
            {
                "groups": [
                    {"name": "a", "participants": ["01", "02"]},
                    {"name": "b", "participants": ["sub-02"]},
                ]
            },
            ["groups[1].participants", '"02"', "groups[0]"],
        ),
        ({"motion": {"scenario": "jumps", "translation_sd": 1}}, ["cohort.motion", "count"]),
        ({"sessions": ["1", "ses-1"]}, ["cohort.sessions[1]", "twice"]),
        ({"tissues": {"grey_matter": {"cbf": normal(1, 1)}}}, ["cbf"]),
        ({"motion": {"scenario": "wobble"}}, ["scenario"]),
    ],
)
def test_bad_cohorts_are_refused_with_one_line_naming_the_place(cohort, words):
    with pytest.raises(ParamError) as caught:
        cohort_params(cohort)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def _dist(**spec) -> Distribution:
    return Distribution.of(spec, "here")


def test_the_half_normal_has_the_textbook_moments():
    half = _dist(distribution="truncnormal", mean=0.0, sd=2.0, min=0.0)
    assert half.mean() == pytest.approx(2.0 * math.sqrt(2.0 / math.pi), rel=1e-12)
    assert half.sd() == pytest.approx(2.0 * math.sqrt(1.0 - 2.0 / math.pi), rel=1e-12)


def test_a_symmetric_truncation_keeps_the_mean_and_shrinks_the_sd():
    spec = _dist(distribution="truncnormal", mean=5.0, sd=1.0, min=4.0, max=6.0)
    assert spec.mean() == pytest.approx(5.0, abs=1e-12)
    # Var of N(0,1) truncated to [-1, 1]: 1 - 2 phi(1) / (2 Phi(1) - 1)
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    mass = math.erf(1 / math.sqrt(2))
    assert spec.sd() == pytest.approx(math.sqrt(1 - 2 * phi / mass), rel=1e-12)


def test_the_lognormal_is_parametrised_by_the_mean_and_sd_of_the_value():
    spec = _dist(distribution="lognormal", mean=1.5, sd=0.3)
    mu, sigma = spec.lognormal_parameters
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(1.5, rel=1e-12)
    variance = (math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2)
    assert math.sqrt(variance) == pytest.approx(0.3, rel=1e-12)


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "normal", "mean": 2.0, "sd": 0.5},
        {"distribution": "truncnormal", "mean": 1.0, "sd": 1.0, "min": 0.5, "max": 4.0},
        {"distribution": "uniform", "min": -1.0, "max": 3.0},
        {"distribution": "lognormal", "mean": 1.5, "sd": 0.4},
    ],
)
def test_draws_follow_the_analytic_moments(spec):
    distribution = Distribution.of(spec, "here")
    rng = np.random.default_rng(5)
    values = np.array([distribution.draw(rng) for _ in range(4000)])
    n = values.size
    assert abs(values.mean() - distribution.mean()) < 3 * distribution.sd() / math.sqrt(n)
    # the SE of a sample SD, sd / sqrt(2 (n - 1)), widened for the lognormal's heavier tail
    assert abs(values.std(ddof=1) - distribution.sd()) < 4 * distribution.sd() / math.sqrt(
        2 * (n - 1)
    )
    if "min" in spec:
        assert values.min() >= spec["min"]
    if "max" in spec:
        assert values.max() <= spec["max"]


def test_fixed_is_its_value():
    spec = _dist(distribution="fixed", value=0.7)
    assert spec.mean() == 0.7 and spec.sd() == 0.0
    assert spec.draw(np.random.default_rng(0)) == 0.7
