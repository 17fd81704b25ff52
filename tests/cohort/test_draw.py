"""A participant's draws (issue 14 item 2): replayable, independent of the other participants
and of order, one stream per value, and a 100-participant cohort of two groups whose sample
moments match the distributions' analytic ones (pure: no images)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asldro.cohort.draw import draw_motion, draw_participant
from asldro.params import ParamError
from asldro.params.cohort import Cohort

from .conftest import cohort_params, normal

CONTROL = {
    "grey_matter": {
        "perfusion_rate": normal(60.0, 8.0),
        "transit_time": {"distribution": "truncnormal", "mean": 1.0, "sd": 0.3, "min": 0.5},
        "t1": {"distribution": "uniform", "min": 1.2, "max": 1.5},
        "m0_scale": {"distribution": "lognormal", "mean": 1.0, "sd": 0.05},
        "t2": {"distribution": "fixed", "value": 0.08},
    },
    "white_matter": {"perfusion_rate": normal(20.0, 3.0)},
}
PATIENT = {
    "grey_matter": {
        "perfusion_rate": {"distribution": "truncnormal", "mean": 40.0, "sd": 10.0, "min": 10.0},
        "transit_time": normal(1.6, 0.2),
    },
}
LABELS = [f"{n:03d}" for n in range(1, 101)]


def _cohort(**extra) -> Cohort:
    cohort = cohort_params(
        {
            "seed": 11,
            "tissues": CONTROL,
            "groups": [
                {"name": "control", "share": 0.5},
                {"name": "patient", "share": 0.5, "tissues": PATIENT},
            ],
            **extra,
        }
    ).global_config.cohort
    assert cohort is not None
    return cohort


def _values(draw) -> dict:
    return {
        (tissue, name): drawn.value
        for tissue, quantities in draw.tissues.items()
        for name, drawn in quantities.items()
    }


def test_draws_replay_and_do_not_depend_on_the_other_participants_or_their_order():
    cohort = _cohort()
    forward = {label: _values(draw_participant(cohort, label)) for label in LABELS}
    backward = {label: _values(draw_participant(cohort, label)) for label in reversed(LABELS)}
    alone = _values(draw_participant(cohort, "042"))
    assert forward == backward
    assert forward["042"] == alone
    assert forward["001"] != forward["002"]


def test_a_new_quantity_or_tissue_changes_no_other_draw():
    cohort = _cohort()
    more = dict(CONTROL)
    more["grey_matter"] = {**CONTROL["grey_matter"], "t2_star": normal(0.06, 0.005)}
    more["csf"] = {"t1": normal(3.0, 0.1)}
    wider = cohort_params(
        {
            "seed": 11,
            "tissues": more,
            "groups": [
                {"name": "control", "share": 0.5},
                {"name": "patient", "share": 0.5, "tissues": PATIENT},
            ],
        }
    ).global_config.cohort
    for label in LABELS[:20]:
        before = _values(draw_participant(cohort, label))
        after = _values(draw_participant(wider, label))
        assert {key: after[key] for key in before} == before


def test_the_seed_changes_every_draw_and_the_given_seed_replaces_the_cohorts():
    cohort = _cohort()
    assert _values(draw_participant(cohort, "007")) == _values(
        draw_participant(cohort, "007", seed=11)
    )
    other = _values(draw_participant(cohort, "007", seed=12))
    same = _values(draw_participant(cohort, "007"))
    assert all(other[key] != same[key] for key in same if key != ("grey_matter", "t2"))


def _sample(cohort: Cohort, group: str) -> dict:
    draws = [draw_participant(cohort, label) for label in LABELS]
    values: dict = {}
    for draw in draws:
        if draw.group is not None and draw.group.name == group:
            for key, value in _values(draw).items():
                values.setdefault(key, []).append(value)
    return {key: np.array(items) for key, items in values.items()}


@pytest.mark.parametrize("group", ["control", "patient"])
def test_a_100_participant_cohort_matches_the_analytic_moments_within_3_standard_errors(group):
    cohort = _cohort()
    settings = next(g for g in cohort.groups if g.name == group).tissues
    sample = _sample(cohort, group)
    assert len(sample) == sum(len(quantities) for quantities in settings.values())
    for (tissue, name), values in sample.items():
        spec = settings[tissue][name]
        n = values.size
        assert n >= 30, (group, n)
        mean, sd = spec.mean(), spec.sd()
        if sd == 0:
            assert np.all(values == mean)
            continue
        assert abs(values.mean() - mean) < 3 * sd / math.sqrt(n), (tissue, name)
        assert abs(values.std(ddof=1) - sd) < 3 * sd / math.sqrt(2 * (n - 1)), (tissue, name)


def test_the_group_difference_shows_in_the_drawn_values():
    cohort = _cohort()
    control = _sample(cohort, "control")[("grey_matter", "perfusion_rate")]
    patient = _sample(cohort, "patient")[("grey_matter", "perfusion_rate")]
    se = math.sqrt(control.var(ddof=1) / control.size + patient.var(ddof=1) / patient.size)
    assert (control.mean() - patient.mean()) / se > 5
    assert len(control) + len(patient) == 100


def test_shares_assign_about_their_fraction_and_explicit_lists_win():
    cohort = cohort_params(
        {
            "groups": [
                {"name": "a", "share": 0.8, "participants": ["X1"]},
                {"name": "b", "share": 0.2, "participants": ["X2", "X3"]},
            ]
        }
    ).global_config.cohort
    assert cohort is not None
    names = [draw_participant(cohort, label).group.name for label in LABELS]
    assert 65 <= names.count("a") <= 95
    assert draw_participant(cohort, "X2").group.name == "b"
    assert draw_participant(cohort, "X3").group.name == "b"
    assert draw_participant(cohort, "X1").group.name == "a"


def test_a_label_in_no_list_is_refused_when_no_group_has_a_share():
    cohort = cohort_params(
        {"groups": [{"name": "a", "participants": ["01"]}, {"name": "b", "participants": ["02"]}]}
    ).global_config.cohort
    assert draw_participant(cohort, "02").group.name == "b"
    with pytest.raises(ParamError, match='participant "03" is in no group'):
        draw_participant(cohort, "03")


def test_the_lesion_is_present_with_its_probability_and_its_draws_replay():
    cohort = _cohort(
        lesions={
            "probability": 0.3,
            "radius": {"distribution": "uniform", "min": 5, "max": 10},
            "centre": [0, normal(0, 4), 10],
            "values": {"perfusion_rate": {"scale": 0.5}, "transit_time": normal(2, 0.1)},
        }
    )
    draws = [draw_participant(cohort, label) for label in LABELS]
    present = [d for d in draws if d.lesion is not None and d.lesion.present]
    assert 15 <= len(present) <= 45
    radii = [d.lesion.radius.value for d in present]
    assert min(radii) >= 5 and max(radii) <= 10
    assert {d.lesion.centre[0].value for d in present} == {0.0}
    assert len({d.lesion.centre[1].value for d in present}) == len(present)
    again = draw_participant(cohort, present[0].label)
    assert again.lesion.radius == present[0].lesion.radius


def _scenario(motion: dict):
    cohort = cohort_params({"motion": motion}).global_config.cohort
    assert cohort is not None and cohort.motion is not None
    return cohort.motion


def test_jitter_has_the_requested_sd_per_axis_and_depends_on_session_and_series():
    scenario = _scenario(
        {"scenario": "jitter", "translation_sd": [0.5, 1.0, 2.0], "rotation_sd": 0.3}
    )
    rows = draw_motion(scenario, 0, "01", None, 1, 2000)
    sd = rows.std(axis=0, ddof=1)
    expected = np.array([0.5, 1.0, 2.0, 0.3, 0.3, 0.3])
    assert np.all(np.abs(sd - expected) < 3 * expected / math.sqrt(2 * 1999))
    assert np.array_equal(rows, draw_motion(scenario, 0, "01", None, 1, 2000))
    assert not np.array_equal(rows, draw_motion(scenario, 0, "01", "2", 1, 2000))
    assert not np.array_equal(rows, draw_motion(scenario, 0, "01", None, 2, 2000))


def test_drift_is_linear_from_zero_to_its_end():
    scenario = _scenario({"scenario": "drift", "translation": [1.0, 0.0, -2.0], "rotation": 0.5})
    rows = draw_motion(scenario, 0, "01", None, 1, 5)
    assert np.allclose(rows[0], 0.0)
    assert np.allclose(rows[-1], [1.0, 0.0, -2.0, 0.5, 0.5, 0.5])
    assert np.allclose(np.diff(rows, axis=0), rows[-1] / 4)


def test_jumps_are_persistent_steps_at_count_volumes():
    scenario = _scenario({"scenario": "jumps", "count": 3, "translation_sd": 1.0})
    rows = draw_motion(scenario, 0, "01", None, 1, 40)
    steps = np.flatnonzero(np.any(np.diff(rows, axis=0) != 0, axis=1))
    assert steps.size == 3
    assert np.allclose(rows[0], 0.0) and np.allclose(rows[:, 3:], 0.0)
    assert np.allclose(rows[-1], rows[steps[-1] + 1])  # the last step persists
