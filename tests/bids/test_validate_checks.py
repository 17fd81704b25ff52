"""Own consistency checks (docs/bids.md §12.3): one broken variant per check, plus valid variants
that must not be flagged. Only the "own" layer runs here, so these tests are fast."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro.bids.checks import Finding, nifti_info, sidecar_metadata, split_name
from asldro.bids.validate import validate_dataset
from tests.bids.fixtures_validate import (  # pylint: disable=unused-import
    TR_ASL,
    asl_paths,
    edit_json,
    fixture_dataset,
    fixture_valid_dataset_template,
    read_json,
    write_aslcontext,
    write_json,
    write_nifti,
)

GT = "derivatives/groundtruth"


def own_findings(root: Path) -> list[Finding]:
    """Findings of the own layer only."""
    report = validate_dataset(root, layers=("own",), write_report=False)
    assert {f.layer for f in report.findings} <= {"own"}
    return report.findings


def codes(root: Path) -> set[str]:
    """Codes of the own layer."""
    return {f.code for f in own_findings(root)}


def set_asl_volumes(root: Path, rows: tuple[str, ...]) -> None:
    """Rewrite the ASL image with one volume per aslcontext row."""
    paths = asl_paths(root)
    write_nifti(paths["asl"], (8, 8, 8, len(rows)), tr=TR_ASL)
    write_aslcontext(paths["context"], rows)


def remove_m0scan(root: Path) -> None:
    """Delete the separate m0scan image and sidecar."""
    paths = asl_paths(root)
    paths["m0"].unlink()
    paths["m0_json"].unlink()


def test_valid_dataset_has_no_own_findings(dataset: Path) -> None:
    """The hand-made valid dataset passes every own check."""
    assert not own_findings(dataset)


# (1) M0Type -----------------------------------------------------------------------------------


def test_separate_without_m0scan_is_flagged(dataset: Path) -> None:
    """(1) M0Type Separate needs an m0scan with identical entities (§5)."""
    remove_m0scan(dataset)
    findings = own_findings(dataset)
    assert [f.code for f in findings] == ["M0TYPE_SEPARATE_WITHOUT_M0SCAN"]
    assert findings[0].file == "sub-01/perf/sub-01_asl.nii.gz"
    assert findings[0].severity == "error"


def test_absent_with_background_suppression_is_flagged(dataset: Path) -> None:
    """(1) Absent + BackgroundSuppression true makes ASLPrep raise (§5)."""
    remove_m0scan(dataset)
    edit_json(asl_paths(dataset)["asl_json"], M0Type="Absent", BackgroundSuppression=True)
    assert codes(dataset) == {"M0TYPE_ABSENT_WITH_BACKGROUND_SUPPRESSION"}


def test_absent_with_background_suppression_is_fine_for_a_cbf_only_run(dataset: Path) -> None:
    """(1) A run of cbf volumes needs no M0: Absent with BackgroundSuppression true is how a
    vendor's suppressed CBF export is described."""
    remove_m0scan(dataset)
    paths = asl_paths(dataset)
    edit_json(paths["asl_json"], M0Type="Absent", BackgroundSuppression=True)
    rows = paths["context"].read_text().splitlines()
    paths["context"].write_text("\n".join([rows[0]] + ["cbf"] * (len(rows) - 1)) + "\n")
    assert "M0TYPE_ABSENT_WITH_BACKGROUND_SUPPRESSION" not in codes(dataset)


def test_absent_without_background_suppression_is_valid(dataset: Path) -> None:
    """(1) Absent with no m0scan file or rows and BS false is consistent."""
    remove_m0scan(dataset)
    edit_json(asl_paths(dataset)["asl_json"], M0Type="Absent")
    assert not codes(dataset)


def test_absent_with_m0scan_file_is_flagged(dataset: Path) -> None:
    """(1) An m0scan file with M0Type other than Separate (ASLPrep ValueError)."""
    edit_json(asl_paths(dataset)["asl_json"], M0Type="Absent")
    assert codes(dataset) == {"M0SCAN_FILE_WITH_M0TYPE_NOT_SEPARATE"}


def test_included_without_m0scan_rows_is_flagged(dataset: Path) -> None:
    """(1) Included needs at least one m0scan row in aslcontext."""
    remove_m0scan(dataset)
    edit_json(asl_paths(dataset)["asl_json"], M0Type="Included")
    assert codes(dataset) == {"M0TYPE_INCLUDED_WITHOUT_M0SCAN_ROWS"}


def test_included_with_m0scan_row_is_valid(dataset: Path) -> None:
    """(1) Included: m0scan row first, 3 pairs, scalar PLD, no separate file."""
    remove_m0scan(dataset)
    set_asl_volumes(dataset, ("m0scan",) + ("control", "label") * 3)
    edit_json(asl_paths(dataset)["asl_json"], M0Type="Included")
    assert not codes(dataset)


def test_m0scan_rows_with_separate_is_flagged(dataset: Path) -> None:
    """(1) m0scan rows and a separate m0scan at once: a configuration error (§5)."""
    set_asl_volumes(dataset, ("m0scan",) + ("control", "label") * 3)
    assert codes(dataset) == {"M0SCAN_ROWS_WITH_M0TYPE_NOT_INCLUDED"}


def test_estimate_needs_m0estimate(dataset: Path) -> None:
    """(1) Estimate needs a positive M0Estimate; with it the run is consistent."""
    remove_m0scan(dataset)
    edit_json(asl_paths(dataset)["asl_json"], M0Type="Estimate")
    assert codes(dataset) == {"M0ESTIMATE_MISSING"}
    edit_json(asl_paths(dataset)["asl_json"], M0Estimate=2500.0)
    assert not codes(dataset)


def test_lower_case_m0type_is_flagged(dataset: Path) -> None:
    """(1) The enum is case-sensitive ("separate" is invalid, §5)."""
    edit_json(asl_paths(dataset)["asl_json"], M0Type="separate")
    assert "M0TYPE_INVALID" in codes(dataset)


# (2) IntendedFor ------------------------------------------------------------------------------


def test_dangling_bids_uri_is_flagged(dataset: Path) -> None:
    """(2) A bids:: target that does not exist (the schema validator accepts any, §4)."""
    edit_json(asl_paths(dataset)["m0_json"], IntendedFor=["bids::sub-01/perf/sub-01_x_asl.nii.gz"])
    findings = own_findings(dataset)
    assert [f.code for f in findings] == ["INTENDEDFOR_TARGET_MISSING"]
    assert findings[0].file == "sub-01/perf/sub-01_m0scan.json"


def test_dangling_subject_relative_target_is_flagged(dataset: Path) -> None:
    """(2) A subject-relative target is resolved inside the subject folder."""
    edit_json(asl_paths(dataset)["m0_json"], IntendedFor="perf/sub-02_asl.nii.gz")
    assert codes(dataset) == {"INTENDEDFOR_TARGET_MISSING"}


def test_existing_subject_relative_target_is_only_a_warning(dataset: Path) -> None:
    """(2) The deprecated subject-relative form that resolves: a warning, not an error."""
    edit_json(asl_paths(dataset)["m0_json"], IntendedFor="perf/sub-01_asl.nii.gz")
    findings = own_findings(dataset)
    assert [(f.code, f.severity) for f in findings] == [("INTENDEDFOR_SUBJECT_RELATIVE", "warning")]


# (3) Units ------------------------------------------------------------------------------------


def test_cbf_rows_need_units(dataset: Path) -> None:
    """(3) Units is a MUST when aslcontext has cbf rows; adding it clears the finding."""
    set_asl_volumes(dataset, ("cbf",))
    edit_json(asl_paths(dataset)["asl_json"], drop=("TotalAcquiredPairs",))
    assert codes(dataset) == {"UNITS_MISSING_FOR_CBF"}
    edit_json(asl_paths(dataset)["asl_json"], Units="mL/100g/min")
    assert not codes(dataset)


# (4) per-volume arrays and aslcontext ---------------------------------------------------------


def test_aslcontext_rows_must_match_volumes(dataset: Path) -> None:
    """(4) aslcontext rows == dim[4]: 5 rows for 6 volumes."""
    write_aslcontext(asl_paths(dataset)["context"], ("control", "label") * 2 + ("control",))
    assert "ASLCONTEXT_ROWS_NOT_MATCHING_NIFTI" in codes(dataset)


@pytest.mark.parametrize(
    "field",
    ["PostLabelingDelay", "LabelingDuration", "FlipAngle", "EchoTime", "RepetitionTimePreparation"],
)
def test_array_field_length_must_match_volumes(dataset: Path, field: str) -> None:
    """(4) Every array-valued field has one value per volume (5 values for 6 volumes)."""
    edit_json(asl_paths(dataset)["asl_json"], **{field: [1.0, 1.2, 1.4, 1.6, 1.8]})
    found = codes(dataset)
    assert "ARRAY_LENGTH_NOT_MATCHING_NIFTI" in found
    assert "ARRAY_LENGTH_NOT_MATCHING_ASLCONTEXT" in found


def test_single_pld_written_as_array_is_flagged(dataset: Path) -> None:
    """(4) Single PLD must be a scalar (ASLPrep counts unique values, §6)."""
    edit_json(asl_paths(dataset)["asl_json"], PostLabelingDelay=[1.8] * 6)
    assert codes(dataset) == {"PLD_ARRAY_FOR_SINGLE_PLD"}


def test_multi_pld_arrays_are_valid(dataset: Path) -> None:
    """(4) Multi-PLD with 0 for the m0scan volume and per-volume arrays of the right length."""
    remove_m0scan(dataset)
    rows = ("m0scan", "control", "label", "control", "label")
    set_asl_volumes(dataset, rows)
    edit_json(
        asl_paths(dataset)["asl_json"],
        M0Type="Included",
        TotalAcquiredPairs=2,
        PostLabelingDelay=[0, 1.0, 1.0, 2.0, 2.0],
        EchoTime=[0.012] * 5,
    )
    assert not codes(dataset)


def make_multi_pld(root: Path, **changes: object) -> None:
    """Turn the run into a valid multi-PLD run with an m0scan per phase (PLD 0 there): rows
    m0scan, control, label at PLD 1.0 and 2.0, then apply ``changes`` to its sidecar."""
    remove_m0scan(root)
    set_asl_volumes(root, ("m0scan", "control", "label") * 2)
    edit_json(
        asl_paths(root)["asl_json"],
        M0Type="Included",
        TotalAcquiredPairs=2,
        PostLabelingDelay=[0.0, 1.0, 1.0, 0.0, 2.0, 2.0],
        LabelingDuration=1.8,
    )
    edit_json(asl_paths(root)["asl_json"], **changes)


def test_multi_pld_with_m0scan_per_phase_is_valid(dataset: Path) -> None:
    """(4) The layout asldro writes for multi-PLD: PLD 0 at the m0scan rows, LD a float."""
    make_multi_pld(dataset)
    assert not codes(dataset)
    edit_json(asl_paths(dataset)["asl_json"], LabelingDuration=[0.0, 1.5, 1.5, 0.0, 1.8, 1.8])
    assert not codes(dataset)


@pytest.mark.parametrize(
    "field, values",
    [
        ("PostLabelingDelay", [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]),
        ("LabelingDuration", [1.8, 1.5, 1.5, 0.0, 1.8, 1.8]),
    ],
)
def test_m0scan_rows_need_zero_labelling_times(dataset: Path, field: str, values: list) -> None:
    """(4) BIDS: an m0scan volume has PLD and LabelingDuration 0 in an array."""
    make_multi_pld(dataset, **{field: values})
    findings = [f for f in own_findings(dataset) if f.code == "M0SCAN_LABELLING_TIME_NOT_ZERO"]
    assert len(findings) == 1 and field in findings[0].message
    assert codes(dataset) == {"M0SCAN_LABELLING_TIME_NOT_ZERO"}


def test_norf_rows_need_zero_labelling_times(dataset: Path) -> None:
    """(4) A noRF noise scan has no labelling: PLD 0 in an array, as an m0scan (issue 12)."""
    make_multi_pld(dataset, PostLabelingDelay=[0.0, 1.0, 1.0, 0.0, 2.0, 2.0])
    rows = ("noRF", "control", "label", "m0scan", "control", "label")
    write_aslcontext(asl_paths(dataset)["context"], rows)
    assert "M0SCAN_LABELLING_TIME_NOT_ZERO" not in codes(dataset)
    edit_json(asl_paths(dataset)["asl_json"], PostLabelingDelay=[1.0, 1.0, 1.0, 0.0, 2.0, 2.0])
    findings = [f for f in own_findings(dataset) if f.code == "M0SCAN_LABELLING_TIME_NOT_ZERO"]
    assert len(findings) == 1 and "volume(s) 0 " in findings[0].message


def test_single_pld_with_m0scan_zeros_is_still_a_single_pld(dataset: Path) -> None:
    """(4) [0, 1.8, 1.8, ...]: every control/label volume has 1.8, so it must be the scalar
    1.8 (ASLPrep would count two distinct values and take the multi-PLD path)."""
    make_multi_pld(dataset, PostLabelingDelay=[0.0, 1.8, 1.8, 0.0, 1.8, 1.8])
    assert codes(dataset) == {"PLD_ARRAY_FOR_SINGLE_PLD"}


def test_a_single_labelling_duration_written_as_an_array_is_flagged(dataset: Path) -> None:
    """(4) BIDS: "In case all control-label volumes have the same LabelingDuration, a scalar
    must be specified"."""
    make_multi_pld(dataset, LabelingDuration=[0.0, 1.8, 1.8, 0.0, 1.8, 1.8])
    assert codes(dataset) == {"LABELING_DURATION_ARRAY_FOR_SINGLE_VALUE"}


def test_an_integer_labelling_duration_is_flagged(dataset: Path) -> None:
    """(4) LabelingDuration 2 (an integer) breaks ASLPrep's multi-PLD fit; 2.0 does not."""
    edit_json(asl_paths(dataset)["asl_json"], LabelingDuration=2)
    assert codes(dataset) == {"LABELING_DURATION_NOT_FLOAT"}
    edit_json(asl_paths(dataset)["asl_json"], LabelingDuration=2.0)
    assert not codes(dataset)


def test_multi_pld_pairs_count_every_phase(dataset: Path) -> None:
    """(5) TotalAcquiredPairs is the pairs over all PLDs: 1 (the pairs of one PLD) is wrong."""
    make_multi_pld(dataset, TotalAcquiredPairs=1)
    assert codes(dataset) == {"TOTAL_ACQUIRED_PAIRS_MISMATCH"}


def test_multi_pld_arrays_need_one_value_per_volume(dataset: Path) -> None:
    """(4) One PLD per phase (ASLDRO develop's layout, defect D32 of docs/bids.md §13) is not one per volume."""
    make_multi_pld(dataset, PostLabelingDelay=[1.0, 2.0])
    assert {"ARRAY_LENGTH_NOT_MATCHING_NIFTI", "ARRAY_LENGTH_NOT_MATCHING_ASLCONTEXT"} <= codes(
        dataset
    )


def test_aslcontext_header_must_be_volume_type(dataset: Path) -> None:
    """(4) Header exactly volume_type."""
    write_aslcontext(asl_paths(dataset)["context"], ("control", "label") * 3, header="volume")
    assert codes(dataset) == {"ASLCONTEXT_HEADER"}


def test_aslcontext_values_are_case_sensitive(dataset: Path) -> None:
    """(4) "Control" is not an allowed value."""
    write_aslcontext(asl_paths(dataset)["context"], ("Control", "label") * 3)
    assert "ASLCONTEXT_VALUE" in codes(dataset)


def test_missing_aslcontext_is_flagged(dataset: Path) -> None:
    """(4) Every ASL run needs its aslcontext."""
    asl_paths(dataset)["context"].unlink()
    assert "ASLCONTEXT_MISSING" in codes(dataset)


# (5) pair counts ------------------------------------------------------------------------------


def test_total_acquired_pairs_must_match_rows(dataset: Path) -> None:
    """(5) TotalAcquiredPairs == #control == #label (3 pairs written, 2 declared)."""
    edit_json(asl_paths(dataset)["asl_json"], TotalAcquiredPairs=2)
    assert codes(dataset) == {"TOTAL_ACQUIRED_PAIRS_MISMATCH"}


def test_unequal_control_and_label_counts_are_flagged(dataset: Path) -> None:
    """(5) 2 control and 4 label rows (ASLPrep ValueError)."""
    write_aslcontext(
        asl_paths(dataset)["context"], ("control", "label", "label", "label", "control", "label")
    )
    assert "CONTROL_LABEL_COUNT_MISMATCH" in codes(dataset)


def test_label_only_context_counts_labels(dataset: Path) -> None:
    """(5) Label-only context: TotalAcquiredPairs == #label (the writer's convention)."""
    write_aslcontext(asl_paths(dataset)["context"], ("label",) * 6)
    assert codes(dataset) == {"TOTAL_ACQUIRED_PAIRS_MISMATCH"}
    edit_json(asl_paths(dataset)["asl_json"], TotalAcquiredPairs=6)
    assert not codes(dataset)


def test_control_only_context_counts_controls(dataset: Path) -> None:
    """(5) Control-only context: TotalAcquiredPairs == #control."""
    write_aslcontext(asl_paths(dataset)["context"], ("control",) * 6)
    edit_json(asl_paths(dataset)["asl_json"], TotalAcquiredPairs=6)
    assert not codes(dataset)


# (6) PASL -------------------------------------------------------------------------------------


def make_pasl(root: Path, **changes: object) -> None:
    """Turn the run into a valid PASL run (QUIPSSII, scalar delay), then apply ``changes``."""
    edit_json(
        asl_paths(root)["asl_json"],
        drop=("LabelingDuration", "PCASLType"),
        ArterialSpinLabelingType="PASL",
        BolusCutOffFlag=True,
        BolusCutOffTechnique="QUIPSSII",
        BolusCutOffDelayTime=0.8,
    )
    edit_json(asl_paths(root)["asl_json"], **changes)


def test_valid_pasl_variants(dataset: Path) -> None:
    """(6) QUIPSSII + scalar delay, Q2TIPS + [first, last], and no cut-off at all (flag false,
    neither technique nor delay) are accepted."""
    make_pasl(dataset)
    assert not codes(dataset)
    make_pasl(dataset, BolusCutOffTechnique="Q2TIPS", BolusCutOffDelayTime=[0.7, 1.6])
    assert not codes(dataset)
    make_pasl(dataset, BolusCutOffTechnique="Q2TIPS", BolusCutOffDelayTime=[0.8, 0.8])
    assert not codes(dataset)
    make_pasl(dataset, BolusCutOffFlag=False)
    edit_json(asl_paths(dataset)["asl_json"], drop=("BolusCutOffTechnique", "BolusCutOffDelayTime"))
    assert not codes(dataset)


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"BolusCutOffFlag": "true"}, "PASL_BOLUS_CUT_OFF_FLAG_MISSING"),
        ({"BolusCutOffFlag": False}, "PASL_BOLUS_CUT_OFF_FIELDS_WITHOUT_FLAG"),
        ({"BolusCutOffTechnique": "Q2TIPS"}, "PASL_BOLUS_CUT_OFF_DELAY_INVALID"),
        ({"BolusCutOffDelayTime": [0.7, 1.6]}, "PASL_BOLUS_CUT_OFF_DELAY_INVALID"),
        (
            {"BolusCutOffTechnique": "Q2TIPS", "BolusCutOffDelayTime": [1.6, 0.7]},
            "PASL_BOLUS_CUT_OFF_DELAY_INVALID",
        ),
        (
            {"BolusCutOffTechnique": "Q2TIPS", "BolusCutOffDelayTime": [0.7, 1.0, 1.6]},
            "PASL_BOLUS_CUT_OFF_DELAY_INVALID",
        ),
        ({"BolusCutOffTechnique": "quipss"}, "PASL_BOLUS_CUT_OFF_TECHNIQUE_INVALID"),
        ({"LabelingDuration": 0.8}, "PASL_WITH_LABELING_DURATION"),
    ],
)
def test_broken_pasl_is_flagged(dataset: Path, changes: dict, code: str) -> None:
    """(6) Each BIDS dependency rule of the bolus cut-off fields has its own finding: flag
    false forbids the technique and the delay; Q2TIPS takes two increasing delays."""
    make_pasl(dataset, **changes)
    assert codes(dataset) == {code}


def test_pasl_without_flag_is_flagged(dataset: Path) -> None:
    """(6) BIDS requires BolusCutOffFlag for PASL."""
    make_pasl(dataset)
    edit_json(
        asl_paths(dataset)["asl_json"],
        drop=("BolusCutOffFlag", "BolusCutOffTechnique", "BolusCutOffDelayTime"),
    )
    assert codes(dataset) == {"PASL_BOLUS_CUT_OFF_FLAG_MISSING"}


# (7) m0scan sidecar ---------------------------------------------------------------------------


def test_m0scan_rtp_must_be_positive(dataset: Path) -> None:
    """(7) RTP = 0 breaks ExploreASL."""
    edit_json(asl_paths(dataset)["m0_json"], RepetitionTimePreparation=0)
    assert codes(dataset) == {"M0SCAN_RTP_NOT_POSITIVE"}


def test_m0scan_needs_intended_for(dataset: Path) -> None:
    """(7) The m0scan sidecar needs IntendedFor."""
    edit_json(asl_paths(dataset)["m0_json"], drop=("IntendedFor",))
    assert codes(dataset) == {"M0SCAN_INTENDEDFOR_MISSING"}


def test_m0scan_needs_a_sidecar(dataset: Path) -> None:
    """(7) m0scan.json present."""
    asl_paths(dataset)["m0_json"].unlink()
    assert codes(dataset) == {"M0SCAN_SIDECAR_MISSING"}


# (8) NIfTI format -----------------------------------------------------------------------------


def test_nifti2_is_flagged(dataset: Path) -> None:
    """(8) NIfTI-2 is rejected by the legacy validator in ASLPrep."""
    path = asl_paths(dataset)["m0"]
    image = nib.load(path)
    nib.save(nib.Nifti2Image(np.asarray(image.dataobj), image.affine), path)
    findings = own_findings(dataset)
    assert [(f.code, f.file) for f in findings] == [
        ("NIFTI_NOT_NIFTI1", "sub-01/perf/sub-01_m0scan.nii.gz")
    ]


def test_tiny_nifti_gz_is_flagged(dataset: Path) -> None:
    """(8) A .nii.gz under 348 bytes (a 1-voxel zero image compresses far below)."""
    path = dataset / "sub-01" / "anat" / "sub-01_T1w.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((1, 1, 1), np.float32), np.eye(4)), path)
    assert path.stat().st_size < 348
    assert codes(dataset) == {"NIFTI_TOO_SMALL"}


def test_nifti_info_reads_dim4_of_both_formats(tmp_path: Path) -> None:
    """The header reader gives the header size and dim[4] without loading data."""
    data = np.zeros((8, 8, 8, 5), np.float32)
    for cls, size in ((nib.Nifti1Image, 348), (nib.Nifti2Image, 540)):
        path = tmp_path / f"image{size}.nii.gz"
        nib.save(cls(data, np.eye(4)), path)
        info = nifti_info(path)
        assert (info.header_bytes, info.volumes) == (size, 5)
    plain = tmp_path / "plain.nii"
    nib.save(nib.Nifti1Image(data[..., 0], np.eye(4)), plain)
    assert nifti_info(plain).volumes == 1
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(gzip.compress(b"not a nifti header"))
    assert nifti_info(broken).header_bytes is None


# (12) SliceTiming ------------------------------------------------------------------------------

TIMES_2D = [0.0, 0.04, 0.08, 0.12, 0.16, 0.2, 0.24, 0.28]


def make_2d(root: Path, **asl_changes) -> None:
    """Mark the asl run and its m0scan 2D with a valid SliceTiming (8 slices along k)."""
    paths = asl_paths(root)
    edit_json(
        paths["asl_json"], **{"MRAcquisitionType": "2D", "SliceTiming": TIMES_2D, **asl_changes}
    )
    edit_json(paths["m0_json"], MRAcquisitionType="2D", SliceTiming=TIMES_2D)


def test_a_valid_2d_run_has_no_finding(dataset: Path) -> None:
    make_2d(dataset)
    make_2d(dataset, MultibandAccelerationFactor=2, SliceTiming=[0.0, 0.1, 0.2, 0.3] * 2)
    assert not own_findings(dataset)


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"MRAcquisitionType": "2D"}, "SLICE_TIMING_MISSING_2D"),
        ({"SliceTiming": TIMES_2D}, "SLICE_TIMING_NOT_2D"),
        ({"MRAcquisitionType": "2D", "SliceTiming": TIMES_2D[:6]}, "SLICE_TIMING_LENGTH"),
        (
            {"MRAcquisitionType": "2D", "SliceTiming": [t + 0.01 for t in TIMES_2D]},
            "SLICE_TIMING_MIN_NOT_ZERO",
        ),
        (
            {"MRAcquisitionType": "2D", "SliceTiming": [-0.04] + TIMES_2D[1:]},
            "SLICE_TIMING_MIN_NOT_ZERO",
        ),
        (
            {"MRAcquisitionType": "2D", "SliceTiming": TIMES_2D, "MultibandAccelerationFactor": 2},
            "SLICE_TIMING_NOT_REPEATING_PER_BAND",
        ),
        ({"MRAcquisitionType": "2D", "SliceTiming": "0.04"}, "SLICE_TIMING_INVALID"),
    ],
)
def test_slice_timing_findings(dataset: Path, changes, code) -> None:
    """(12) For the asl sidecar and for the m0scan's: one finding each."""
    for key in ("asl_json", "m0_json"):
        edit_json(asl_paths(dataset)[key], **changes)
    findings = own_findings(dataset)
    assert sorted((f.code, f.file) for f in findings) == [
        (code, "sub-01/perf/sub-01_asl.nii.gz"),
        (code, "sub-01/perf/sub-01_m0scan.nii.gz"),
    ]


def test_slice_timing_follows_the_slice_encoding_direction(dataset: Path) -> None:
    """With SliceEncodingDirection j the times run along the second axis (8 voxels here too,
    so a 6-value list is flagged; a list along an 8-voxel axis is not)."""
    make_2d(dataset, SliceEncodingDirection="j-")
    assert not own_findings(dataset)
    edit_json(asl_paths(dataset)["asl_json"], SliceTiming=TIMES_2D[:6])
    assert codes(dataset) == {"SLICE_TIMING_LENGTH"}


# (9) participants -----------------------------------------------------------------------------


def test_participants_must_match_subject_folders(dataset: Path) -> None:
    """(9) A participant listed without a folder."""
    with (dataset / "participants.tsv").open("a", encoding="utf-8") as stream:
        stream.write("sub-02\tn/a\n")
    findings = own_findings(dataset)
    assert [(f.code, f.file) for f in findings] == [
        ("PARTICIPANTS_TSV_MISMATCH", "participants.tsv")
    ]
    assert "sub-02" in findings[0].message


def test_participants_first_column_is_participant_id(dataset: Path) -> None:
    """(9) The first column must be participant_id."""
    (dataset / "participants.tsv").write_text("age\tparticipant_id\nn/a\tsub-01\n")
    assert codes(dataset) == {"PARTICIPANTS_ID_COLUMN"}


# (10) T1w -------------------------------------------------------------------------------------


def test_subject_without_t1w_is_a_warning(dataset: Path) -> None:
    """(10) BIDS does not require a T1w, ASLPrep and fMRIPrep do: a warning, the dataset is ok."""
    for path in (dataset / "sub-01" / "anat").glob("sub-01_T1w.*"):
        path.unlink()
    report = validate_dataset(dataset, layers=("own",), write_report=False)
    assert [(f.code, f.severity, f.file) for f in report.findings] == [
        ("NO_T1W", "warning", "sub-01")
    ]
    assert "ASLPrep and fMRIPrep need a T1w per subject" in report.findings[0].message
    assert report.ok
    assert report.summary_lines()[0].startswith("raw dataset: OK (0 errors, 1 warning)")


# finding lines --------------------------------------------------------------------------------


def test_a_finding_prints_as_one_readable_line() -> None:
    """``SEVERITY CODE place: message [layer]``; a derivative's file is prefixed with its
    folder, the dataset itself is "."; str() gives the same line, never the dataclass repr."""
    raw = Finding("M0TYPE_INVALID", "error", "sub-01/perf/sub-01_asl.json", "bad M0Type")
    derivative = Finding(
        "SKULLSTRIPPED_MISSING", "warning", "sub-01/a.nii.gz", "need it\nreally", dataset=GT
    )
    whole = Finding("BIDS_VALIDATOR_CRASHED", "error", "", "exit -9", layer="bids-validator")
    assert raw.line() == "ERROR M0TYPE_INVALID sub-01/perf/sub-01_asl.json: bad M0Type [own]"
    assert (
        derivative.line()
        == f"WARNING SKULLSTRIPPED_MISSING {GT}/sub-01/a.nii.gz: need it really [own]"
    )
    assert whole.line() == "ERROR BIDS_VALIDATOR_CRASHED .: exit -9 [bids-validator]"
    assert str(raw) == raw.line() and f"{whole}" == whole.line()


# (11) derivatives -----------------------------------------------------------------------------


def test_derivative_image_needs_skull_stripped(dataset: Path) -> None:
    """(11) SkullStripped in every derivative image sidecar; the finding names the derivative."""
    sidecar = dataset / GT / "sub-01" / "perf" / "sub-01_desc-groundtruth_cbf.json"
    edit_json(sidecar, drop=("SkullStripped",))
    findings = own_findings(dataset)
    assert [(f.code, f.dataset, f.file) for f in findings] == [
        ("SKULLSTRIPPED_MISSING", GT, "sub-01/perf/sub-01_desc-groundtruth_cbf.nii.gz")
    ]


def test_derivative_needs_generated_by(dataset: Path) -> None:
    """Derivative dataset_description needs GeneratedBy[0].Name (pybids requires it)."""
    edit_json(dataset / GT / "dataset_description.json", drop=("GeneratedBy",))
    assert codes(dataset) == {"DERIVATIVE_GENERATEDBY_MISSING"}


# helpers ---------------------------------------------------------------------------------------


def test_split_name() -> None:
    """Entities, suffix and the full (double) extension."""
    assert split_name("sub-01_acq-pcasl_run-2_asl.nii.gz") == (
        {"sub": "01", "acq": "pcasl", "run": "2"},
        "asl",
        ".nii.gz",
    )


def test_sidecar_inheritance(tmp_path: Path) -> None:
    """A top-level sidecar applies; the file-level one overrides it (inheritance principle)."""
    image = tmp_path / "sub-01" / "perf" / "sub-01_asl.nii.gz"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"")
    write_json(tmp_path / "asl.json", {"EchoTime": 0.01, "M0Type": "Absent"})
    write_json(tmp_path / "sub-01" / "perf" / "sub-01_asl.json", {"EchoTime": 0.02})
    write_json(tmp_path / "sub-01" / "perf" / "sub-01_acq-x_asl.json", {"EchoTime": 0.03})
    meta, used = sidecar_metadata(image, tmp_path)
    assert meta == {"EchoTime": 0.02, "M0Type": "Absent"}
    assert len(used) == 2
    assert read_json(tmp_path / "asl.json")["EchoTime"] == 0.01
