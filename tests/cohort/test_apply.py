"""A participant's draws applied (issue 14 item 2, contract 3): tissue values in the lookup
tables, the global lesions then the cohort's (whose scale applies to the drawn value), the
motion added to every asl volume, the record and the participants.tsv columns; refusals
before anything is simulated."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asldro.api import load_params_ground_truth
from asldro.cohort import check_cohort, participant_setup
from asldro.params import ParamError, load_params

from .conftest import cohort_document, cohort_params, normal

ASL = {"series_type": "asl", "series_parameters": {"acq_matrix": [8, 8, 6]}}
WHITE_MATTER_POINT = [28.0, -10.0, 22.0]


def _setup(cohort: dict, label: str = "01", *series, **global_config):
    document = cohort_document(cohort, *series)
    document["global_configuration"].update(global_config)
    params = load_params(document)
    return params, participant_setup(params, load_params_ground_truth(params), label, seed=None)


def test_without_a_cohort_the_inputs_come_back_unchanged():
    params = load_params(
        {"global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"}, "image_series": []}
    )
    truth = load_params_ground_truth(params)
    setup = participant_setup(params, truth, "01", seed=3)
    assert setup.params is params and setup.ground_truth is truth
    assert setup.record == {} and setup.columns == []


@pytest.mark.parametrize("model", ["partial_volume", "single_label"])
def test_the_drawn_values_replace_the_tissue_entries_of_the_tables(model):
    cohort = {
        "tissues": {
            "grey_matter": {"perfusion_rate": normal(60, 10), "m0_scale": normal(1.0, 0.1)},
            "white_matter": {"abv": {"distribution": "uniform", "min": 0.01, "max": 0.02}},
        }
    }
    params, setup = _setup(cohort, tissue_model=model)
    base = load_params_ground_truth(params)
    record = setup.record["tissues"]
    cbf = record["grey_matter"]["perfusion_rate"]["value"]
    scale = record["grey_matter"]["m0_scale"]["value"]
    abv = record["white_matter"]["abv"]["value"]
    grey = base.segmentation["grey_matter"]
    truth = setup.ground_truth
    assert truth.maps["perfusion_rate"][grey] == cbf
    assert truth.maps["m0"][grey] == pytest.approx(base.maps["m0"][grey] * scale, rel=1e-15)
    assert truth.maps["perfusion_rate"][2] == base.maps["perfusion_rate"][2]  # white matter
    assert truth.maps["abv"][2] == abv and truth.maps["abv"][1] == 0.0
    # abv given without abat: the default abat follows the participant's transit time
    assert truth.maps["abat"][2] == pytest.approx(base.maps["transit_time"][2] - 0.3)
    columns = {column["name"]: column for column in setup.columns}
    assert list(columns) == [
        "grey_matter_perfusion_rate",
        "grey_matter_m0_scale",
        "white_matter_abv",
    ]
    assert columns["grey_matter_perfusion_rate"]["value"] == cbf
    assert columns["grey_matter_perfusion_rate"]["Units"] == base.units["perfusion_rate"]
    assert "Units" not in columns["grey_matter_m0_scale"]
    assert all(column["Description"] for column in setup.columns)
    json.dumps(setup.record)  # JSON-able


def test_the_cohort_lesion_comes_after_the_global_ones_and_scales_the_drawn_value():
    cohort = {
        "tissues": {"white_matter": {"perfusion_rate": normal(20, 3)}},
        "lesions": {
            "probability": 1.0,
            "radius": 6,
            "centre": WHITE_MATTER_POINT,
            "values": {"perfusion_rate": {"scale": 0.5}, "transit_time": normal(2.0, 0.1)},
        },
    }
    far = {"shape": "sphere", "centre": [-28.0, -10.0, 22.0], "radius": 6, "name": "old"}
    params, setup = _setup(cohort, lesions=[far])
    truth = setup.ground_truth
    assert truth.segmentation["old"] == 4 and truth.segmentation["cohortlesion"] == 5
    drawn = setup.record["tissues"]["white_matter"]["perfusion_rate"]["value"]
    att = setup.record["lesion"]["values"]["transit_time"]["value"]
    twins = np.flatnonzero(truth.tissue.labels == 5)
    white = [c for c in twins if np.isclose(truth.maps["perfusion_rate"][c], drawn * 0.5)]
    assert white, truth.maps["perfusion_rate"][twins]
    assert np.all(truth.maps["transit_time"][twins] == att)
    columns = {column["name"]: column["value"] for column in setup.columns}
    assert columns["lesion"] == "yes" and columns["lesion_radius"] == 6.0
    assert columns["lesion_perfusion_rate_scale"] == 0.5 and columns["lesion_transit_time"] == att
    assert [columns[f"lesion_{a}"] for a in "xyz"] == WHITE_MATTER_POINT
    assert params.global_config.lesions[0].name == "old"


def test_a_participant_without_the_lesion_has_none_and_na_columns():
    cohort = {"lesions": {"probability": 0.0, "radius": 6, "centre": WHITE_MATTER_POINT}}
    _, setup = _setup(cohort)
    assert "cohortlesion" not in setup.ground_truth.segmentation
    columns = {column["name"]: column["value"] for column in setup.columns}
    assert columns == {
        "lesion": "no",
        "lesion_radius": None,
        "lesion_x": None,
        "lesion_y": None,
        "lesion_z": None,
    }


def test_the_motion_is_added_to_every_asl_volume_and_depends_on_the_session():
    series = {
        "series_type": "asl",
        "series_parameters": {"acq_matrix": [8, 8, 6], "transl_x": [1.0, 1.0, 1.0]},
    }
    cohort = {"motion": {"scenario": "jitter", "translation_sd": 0.5}}
    params = load_params(cohort_document(cohort, series))
    base = load_params_ground_truth(params)
    first = participant_setup(params, base, "01", seed=None, session="1")
    second = participant_setup(params, base, "01", seed=None, session="2")
    drawn = first.record["motion"][0]["volumes"]
    volumes = first.params.series[0].volumes
    assert [v.motion.transl_x for v in volumes] == pytest.approx([1.0 + row[0] for row in drawn])
    assert [v.motion.transl_y for v in volumes] == pytest.approx([row[1] for row in drawn])
    assert second.record["motion"][0]["volumes"] != drawn
    assert second.record["tissues"] == first.record["tissues"]
    assert params.series[0].volumes[0].motion.transl_y == 0.0  # the input is not changed


@pytest.mark.parametrize(
    "cohort, words",
    [
        (
            {"tissues": {"gray_matter": {"t1": normal(1, 0.1)}}},
            ["cohort.tissues", '"gray_matter"', "grey_matter"],
        ),
        (
            {"tissues": {"grey_matter": {"perfusion_rate": normal(5, 20)}}},
            ["cohort.tissues.grey_matter.perfusion_rate", "participant", "truncnormal"],
        ),
        (
            {"groups": [{"name": "a", "share": 1.0, "tissues": {"csf": {"t1": normal(-3, 0.1)}}}]},
            ["cohort.groups[0].tissues.csf.t1", "participant", "csf t1 -"],
        ),
        (
            {"lesions": {"probability": 1, "radius": normal(1, 5), "centre": [0, 0, 0]}},
            ["cohort.lesions.radius", "participant", "> 0"],
        ),
        (
            {"lesions": {"probability": 1, "radius": 5, "centre": [900, 0, 0]}},
            ["cohort.lesions.centre", "participant", "field of view"],
        ),
    ],
)
def test_the_ground_truth_and_drawn_values_are_checked_for_every_label(cohort, words):
    params = cohort_params(cohort)
    base = load_params_ground_truth(params)
    labels = [f"{n:02d}" for n in range(1, 21)]
    with pytest.raises(ParamError) as caught:
        check_cohort(params, base, labels, None)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_a_dense_quantity_is_refused(tmp_path):
    del tmp_path
    document = cohort_document({"tissues": {"grey_matter": {"t1": normal(1.3, 0.1)}}})
    document["global_configuration"]["image_override"] = {}
    params = load_params(document)
    base = load_params_ground_truth(params)
    import dataclasses

    dense = dataclasses.replace(base, maps={**base.maps, "t1": base.dense("t1")})
    with pytest.raises(ParamError, match="t1 is a map of its own"):
        check_cohort(params, dense, ["01"], None)


def test_the_series_record_has_the_added_motion_only_with_a_cohort_motion():
    from asldro.jsonable import to_jsonable

    series = {"series_type": "asl", "series_parameters": {"acq_matrix": [8, 8, 6]}}
    plain = load_params(cohort_document({}, series))
    assert "added_motion" not in to_jsonable(plain.series[0])
    moving = load_params(
        cohort_document({"motion": {"scenario": "jitter", "rotation_sd": 1}}, series)
    )
    setup = participant_setup(moving, load_params_ground_truth(moving), "01", seed=None)
    assert len(to_jsonable(setup.params.series[0])["added_motion"]) == 3


def test_a_drawn_rotation_counts_in_the_memory_estimate():
    from asldro.pipelines.memory import estimate_peak_memory

    series = {"series_type": "asl", "series_parameters": {"acq_matrix": [8, 8, 6]}}
    params = load_params(
        cohort_document({"motion": {"scenario": "jitter", "rotation_sd": 1}}, series)
    )
    base = load_params_ground_truth(params)
    setup = participant_setup(params, base, "01", seed=None)
    assert estimate_peak_memory(setup.params, base).total > estimate_peak_memory(params, base).total


def test_an_insertion_error_of_the_cohort_lesion_names_its_key():
    from asldro.groundtruth import GroundTruthError

    cohort = {
        "lesions": {"probability": 1, "radius": 5, "centre": WHITE_MATTER_POINT, "name": "CSF"}
    }
    with pytest.raises(GroundTruthError, match=r"^global_configuration\.cohort\.lesions\.name"):
        _setup(cohort)
