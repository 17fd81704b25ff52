"""The typed acquisition records the pipelines hand to the BIDS writer (asldro.pipelines.records)."""

# pylint: disable=missing-function-docstring

from __future__ import annotations

import dataclasses

import pytest

from asldro.pipelines import provenance
from asldro.pipelines.asl import simulate_asl
from asldro.pipelines.structural import simulate_structural
from asldro.pipelines.records import (
    AslAcquisition,
    GroundTruthMap,
    Noise,
    StructuralAcquisition,
)
from asldro.pipelines.types import SeriesResult
from tests.bids.conftest import (  # pylint: disable=import-error # the repo's own test helpers
    GT_PARAMETERS,
    _asl_result,
    _gt_results,
    _series,
    _structural_result,
    tiny_context,
)


def test_each_image_has_its_record():
    asl, structural, truth = _asl_result(1), _structural_result(2), _gt_results(3)
    assert isinstance(asl.records["asl"], AslAcquisition)
    assert isinstance(structural.records["structural"], StructuralAcquisition)
    assert set(truth.records) == set(truth.images)
    assert all(isinstance(r, GroundTruthMap) for r in truth.records.values())
    tissue_maps = {f"probseg_{t}": "probseg" for t in ("grey_matter", "white_matter", "csf")}
    tissue_maps["brain_mask"] = "brain_mask"
    expected = {q: tissue_maps.get(q, q) for q in truth.images}
    assert {q: r.quantity for q, r in truth.records.items()} == expected
    assert truth.records["probseg_white_matter"].tissue == "white_matter"
    assert truth.records["seg_label"].segmentation == {
        "grey_matter": 1,
        "white_matter": 2,
        "csf": 3,
    }
    assert truth.records["t1"].segmentation is None


def test_records_are_frozen():
    record = _asl_result(1).records["asl"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.voxel_size = (1.0, 1.0, 1.0)  # type: ignore[misc]


def test_a_parameter_as_used_shadows_the_series_parameter():
    spin_echo = _series("asl", {"acq_contrast": "se", "excitation_flip_angle": 30.0})
    record = simulate_asl(tiny_context(), spin_echo, 1, participant_label="01", seed=7).records[
        "asl"
    ]
    assert record.series.excitation_flip_angle == 30.0
    assert record.value("excitation_flip_angle") == 90.0  # spin echo uses (and reports) 90
    assert record.series.random_seed == 0 and record.value("random_seed") == 7  # --seed
    assert record.value("inversion_time") is None  # not inversion recovery
    assert record.value("lambda_blood_brain") == GT_PARAMETERS["lambda_blood_brain"]
    assert record.value("label_type") == "pcasl"  # a series parameter, read through
    assert record.value("asl_context") == ("m0scan", "control", "label")


def test_the_series_lambda_replaces_the_ground_truths():
    series = _series("asl", {"lambda_blood_brain": 0.8, "t1_arterial_blood": 1.5})
    record = simulate_asl(tiny_context(), series, 1, participant_label="01").records["asl"]
    assert (record.lambda_blood_brain, record.t1_arterial_blood) == (0.8, 1.5)


def test_inversion_recovery_reports_its_inversion():
    record = _structural_result(1, acq_contrast="ir").records["structural"]
    assert record.value("inversion_time") == 1.0
    assert record.value("inversion_flip_angle") == 180.0


def test_noise_facts_are_the_noise_added():
    record = _asl_result(1).records["asl"]
    assert record.noise.sigma == pytest.approx(record.noise.reference / 100.0)
    assert [seed["spawn_key"][1:] for seed in record.noise.seeds] == [[1, 0], [1, 1], [1, 2]]
    silent = _series("asl", {"desired_snr": 0})
    quiet = simulate_asl(tiny_context(), silent, 1, participant_label="01").records["asl"]
    assert quiet.noise.sigma is None and quiet.noise.seeds == (None, None, None)


def test_the_noise_record_of_every_series_is_made_by_one_rule():
    """sigma 0 (desired_snr 0) is recorded as no noise added, whatever the series kind."""
    assert Noise.added(0.0, 12.5, 3, [None, None]) == Noise(None, 12.5, 3, (None, None))
    drawn = Noise.added(0.25, 12.5, 3, [{"entropy": 3}])
    assert (drawn.sigma, drawn.seeds) == (0.25, ({"entropy": 3},))
    silent = _series("structural", {"desired_snr": 0})
    quiet = simulate_structural(tiny_context(), silent, 1, participant_label="01").records[
        "structural"
    ]
    assert quiet.noise.sigma is None and quiet.noise.seeds == (None,)


def test_a_series_result_refuses_records_that_do_not_match_its_images():
    result = _asl_result(1)
    with pytest.raises(ValueError, match="do not match"):
        SeriesResult(1, "asl", "x", result.params, result.images, {})
    other = _asl_result(1, "control label").records
    with pytest.raises(ValueError, match="another series"):
        SeriesResult(1, "asl", "x", result.params, result.images, other)


def test_run_provenance_lists_the_noise_of_each_record():
    results = (_asl_result(1), _gt_results(2), _structural_result(3))
    series = provenance(results, participant_label="01", seed=None)["series"]
    asl = series[0]
    assert asl["noise_sigma"] == results[0].records["asl"].noise.sigma
    assert asl["seeds"][2] == dict(results[0].records["asl"].noise.seeds[2])
    assert asl["desired_snr"] == 100.0 and asl["random_seed"] == 0
    assert "noise_sigma" not in series[1]  # a ground-truth map has no noise
