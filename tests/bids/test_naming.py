"""File naming rules (docs/bids.md §2, §8, §9)."""

# pylint: disable=redefined-outer-name,missing-function-docstring

from __future__ import annotations

import dataclasses
import warnings
from types import SimpleNamespace

import pytest

from asldro.bids.naming import (
    NamingError,
    bids_stem,
    check_label,
    groundtruth_series_entities,
    groundtruth_suffix,
    raw_series_names,
)


def _stems(names, label="01"):
    return {i: f"{n.datatype}/{bids_stem(label, n.entities, n.suffix)}" for i, n in names.items()}


def test_entity_order_is_fixed_whatever_the_mapping_order():
    entities = {"part": "mag", "run": 2, "acq": "se", "echo": 1, "dir": "AP", "rec": "x"}
    stem = bids_stem("01", entities, "T1w")
    assert stem == "sub-01_acq-se_rec-x_dir-AP_run-2_echo-1_part-mag_T1w"


def test_derivative_entities_put_desc_last():
    assert (
        bids_stem("7", {"desc": "groundtruth", "run": 1}, "T1map", derivative=True)
        == "sub-7_run-1_desc-groundtruth_T1map"
    )


@pytest.mark.parametrize("bad", ["0_1", "a-b", "", "sub 1", "é", "01\n", "\n"])
def test_invalid_labels_are_rejected(bad):
    with pytest.raises(NamingError):
        check_label(bad)


def test_task_and_free_text_entities_are_rejected():
    with pytest.raises(NamingError):
        bids_stem("01", {"task": "rest"}, "asl")
    with pytest.raises(NamingError):
        bids_stem("01", {"run": "one"}, "asl")
    with pytest.raises(NamingError):
        bids_stem("01", {}, "my_suffix")


def test_default_layout(make_asl_result, make_gt_results, make_structural_result):
    results = [make_asl_result(1), make_gt_results(2), make_structural_result(3)]
    assert _stems(raw_series_names(results, {})) == {
        1: "perf/sub-01_asl",
        3: "anat/sub-01_acq-se_T1w",
    }


def test_several_asl_runs_are_numbered_in_series_order(make_asl_result):
    results = [
        make_asl_result(1, "control label"),
        make_asl_result(2, "m0scan"),
        make_asl_result(3, "label control", label_type="pasl"),
        make_asl_result(4, "m0scan"),
    ]
    names = _stems(raw_series_names(results, {2: 1, 4: 3}))
    assert names == {
        1: "perf/sub-01_run-1_asl",
        2: "perf/sub-01_run-1_m0scan",
        3: "perf/sub-01_run-2_asl",
        4: "perf/sub-01_run-2_m0scan",
    }


def test_m0scan_takes_the_entities_of_a_single_asl_run(make_asl_result):
    results = [make_asl_result(1, "m0scan m0scan"), make_asl_result(2, "control label")]
    assert _stems(raw_series_names(results, {1: 2})) == {
        1: "perf/sub-01_m0scan",
        2: "perf/sub-01_asl",
    }


def test_unpaired_m0scan_series_is_an_error(make_asl_result):
    results = [make_asl_result(1, "control label"), make_asl_result(2, "m0scan")]
    with pytest.raises(NamingError, match="no asl series"):
        raw_series_names(results, {})


def test_m0scan_paired_with_m0_only_series_is_an_error(make_asl_result):
    results = [make_asl_result(1, "m0scan"), make_asl_result(2, "m0scan")]
    with pytest.raises(NamingError):
        raw_series_names(results, {1: 2, 2: 1})


def test_included_and_separate_m0_is_an_error(make_asl_result):
    results = [make_asl_result(1, "m0scan control label"), make_asl_result(2, "m0scan")]
    with pytest.raises(NamingError, match="Included and Separate"):
        raw_series_names(results, {2: 1})


def test_two_m0scans_for_one_asl_run_is_an_error(make_asl_result):
    results = [
        make_asl_result(1, "control label"),
        make_asl_result(2, "m0scan"),
        make_asl_result(3, "m0scan"),
    ]
    with pytest.raises(NamingError, match="more than one"):
        raw_series_names(results, {2: 1, 3: 1})


def test_pairing_a_non_m0_series_is_an_error(make_asl_result):
    results = [make_asl_result(1, "control label"), make_asl_result(2, "control label")]
    with pytest.raises(NamingError, match="not m0scan-only"):
        raw_series_names(results, {2: 1})


@pytest.mark.parametrize(
    ("modality", "contrast", "expected"),
    [
        ("T1w", "se", "anat/sub-01_acq-se_T1w"),
        ("T2w", "se", "anat/sub-01_acq-se_T2w"),
        ("FLAIR", "ir", "anat/sub-01_acq-ir_FLAIR"),
        ("T1w", "ge", "anat/sub-01_acq-gre_T1w"),
    ],
)
def test_structural_suffix_and_acq_label(make_structural_result, modality, contrast, expected):
    result = make_structural_result(1, modality=modality, acq_contrast=contrast)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _stems(raw_series_names([result], {})) == {1: expected}


def test_anat_modality_becomes_t1w_with_a_warning_naming_the_series(make_structural_result):
    result = make_structural_result(5, modality="anat")
    with pytest.warns(UserWarning, match="series 5"):
        names = raw_series_names([result], {})
    assert _stems(names) == {5: "anat/sub-01_acq-se_T1w"}


def test_unknown_modality_is_an_error(make_structural_result):
    """The parameter rules refuse it first; naming refuses it too (a series not yet simulated,
    named from its parameters alone)."""
    params = make_structural_result(1).params
    series = SimpleNamespace(
        index=1,
        series_type="structural",
        description="x",
        params=dataclasses.replace(params, modality="PD"),
    )
    with pytest.raises(NamingError, match="modality"):
        raw_series_names([series], {})


def test_structurals_sharing_a_name_get_runs(make_structural_result):
    results = [
        make_structural_result(1, modality="T1w"),
        make_structural_result(2, modality="T2w"),
        make_structural_result(3, modality="T1w", output_image_type="complex"),
        make_structural_result(4, modality="T1w", acq_contrast="ge"),
    ]
    assert _stems(raw_series_names(results, {})) == {
        1: "anat/sub-01_acq-se_run-1_T1w",
        2: "anat/sub-01_acq-se_T2w",
        3: "anat/sub-01_acq-se_run-2_T1w",
        4: "anat/sub-01_acq-gre_T1w",
    }


def test_groundtruth_runs_only_when_several(make_gt_results, make_asl_result):
    assert groundtruth_series_entities([make_asl_result(1), make_gt_results(2)]) == {2: {}}
    several = [make_gt_results(2), make_asl_result(3), make_gt_results(4)]
    assert groundtruth_series_entities(several) == {2: {"run": "1"}, 4: {"run": "2"}}


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("perfusion_rate", ("perf", "cbf", False)),
        ("transit_time", ("perf", "att", False)),
        ("t1", ("anat", "T1map", True)),
        ("t2", ("anat", "T2map", True)),
        ("t2_star", ("anat", "T2starmap", True)),
        ("m0", ("anat", "M0map", True)),
        ("seg_label", ("anat", "dseg", True)),
        ("lambda_map", ("anat", "lambdamap", False)),
    ],
)
def test_groundtruth_suffixes(quantity, expected):
    assert groundtruth_suffix(quantity) == expected
