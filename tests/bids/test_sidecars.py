"""Sidecar fields from the acquisition records through the catalog (docs/bids.md §3–§6, §8, §9;
docs/physics.md D20, D21)."""

# pylint: disable=redefined-outer-name,missing-function-docstring

from __future__ import annotations

import dataclasses

import pytest

from asldro.bids import derived
from asldro.bids.derived import Layout
from asldro.bids.sidecars import (
    asl_sidecar,
    aslcontext_tsv,
    catalog_fields,
    groundtruth_sidecar,
    m0scan_sidecar,
    scalar_or_list,
    structural_sidecar,
)
from asldro.jsonable import json_bytes
from asldro.params import catalog

REQUIRED_ASL = {
    "ArterialSpinLabelingType",
    "PostLabelingDelay",
    "BackgroundSuppression",
    "M0Type",
    "TotalAcquiredPairs",
    "RepetitionTimePreparation",
    "MagneticFieldStrength",
    "MRAcquisitionType",
    "EchoTime",
}
FORBIDDEN_ASL = {"LabelingType", "M0", "MrAcquisitionType", "RepetitionTime"}


def _record(result):
    return result.records["asl"]


def _asl(result, separate=False):
    return asl_sidecar(_record(result), has_separate_m0=separate)


def test_pcasl_sidecar(make_asl_result):
    sidecar = _asl(make_asl_result(1, label_type="pcasl", label_duration=1.8, signal_time=3.6))
    assert REQUIRED_ASL <= set(sidecar)
    assert not FORBIDDEN_ASL & set(sidecar)
    assert sidecar["ArterialSpinLabelingType"] == "PCASL"
    assert sidecar["PostLabelingDelay"] == pytest.approx(3.6 - 1.8)
    assert sidecar["LabelingDuration"] == 1.8
    assert sidecar["BackgroundSuppression"] is False
    assert sidecar["VascularCrushing"] is False
    assert sidecar["MRAcquisitionType"] == "3D"
    assert sidecar["LabelingEfficiency"] == 0.85
    assert sidecar["AcquisitionVoxelSize"] == [3.0, 3.0, 4.0]
    assert sidecar["MagneticFieldStrength"] == 3 and isinstance(
        sidecar["MagneticFieldStrength"], int
    )
    assert sidecar["FlipAngle"] == 90.0
    assert sidecar["ScanningSequence"] == "SE"
    assert sidecar["PulseSequenceType"].endswith("(simulated)")
    assert not {"BolusCutOffFlag", "BolusCutOffDelayTime", "BolusCutOffTechnique"} & set(sidecar)


def test_asl_sidecar_field_order(make_asl_result):
    """The catalog's order, M0Estimate after M0Type, PulseSequenceType after ScanningSequence,
    DROSoftware last (the bytes of every dataset written before the catalog)."""
    sidecar = _asl(make_asl_result(1, "control label", m0_uniform_value=70.0, acq_contrast="ir"))
    assert list(sidecar) == [
        "ArterialSpinLabelingType",
        "PostLabelingDelay",
        "BackgroundSuppression",
        "M0Type",
        "M0Estimate",
        "TotalAcquiredPairs",
        "RepetitionTimePreparation",
        "MagneticFieldStrength",
        "MRAcquisitionType",
        "ScanningSequence",
        "PulseSequenceType",
        "EchoTime",
        "FlipAngle",
        "InversionTime",
        "AcquisitionVoxelSize",
        "VascularCrushing",
        "LabelingEfficiency",
        "LabelingDuration",
        "DROSoftware",
    ]


def test_casl_sidecar(make_asl_result):
    sidecar = _asl(make_asl_result(1, "control label", label_type="casl", signal_time=3.0))
    assert sidecar["ArterialSpinLabelingType"] == "CASL"
    assert sidecar["PostLabelingDelay"] == pytest.approx(1.2)
    assert sidecar["LabelingDuration"] == 1.8
    assert "BolusCutOffFlag" not in sidecar


def test_pasl_sidecar_without_a_cut_off_has_the_flag_false(make_asl_result):
    """PASL without bolus_cut_off_technique: TI as PLD, BolusCutOffFlag false and neither the
    technique nor the delay (BIDS: they must not be defined when the flag is false)."""
    result = make_asl_result(
        1, "control label", label_type="pasl", label_duration=0.7, signal_time=1.6
    )
    sidecar = _asl(result)
    assert sidecar["ArterialSpinLabelingType"] == "PASL"
    assert sidecar["PostLabelingDelay"] == 1.6
    assert "LabelingDuration" not in sidecar
    assert sidecar["BolusCutOffFlag"] is False
    assert not {"BolusCutOffTechnique", "BolusCutOffDelayTime"} & set(sidecar)
    assert list(sidecar)[-2:] == ["BolusCutOffFlag", "DROSoftware"]


@pytest.mark.parametrize(
    "technique, delay, written",
    [
        ("QUIPSSII", None, 0.8),  # the default TI1
        ("quipss", 0.6, 0.6),
        ("Q2TIPS", [0.7, 1.4], [0.7, 1.4]),
        ("Q2TIPS", None, [0.8, 1.6]),  # the default [TI1, TI1s]
    ],
)
def test_pasl_sidecar_with_a_cut_off(make_asl_result, technique, delay, written):
    """A bolus cut-off: flag true, the technique in its BIDS spelling and its delay (TI1, or
    [TI1, TI1s] for Q2TIPS), after the flag."""
    extra = {"bolus_cut_off_technique": technique}
    if delay is not None:
        extra["bolus_cut_off_delay_time"] = delay
    result = make_asl_result(
        1, "control label", label_type="pasl", label_duration=0.9, signal_time=1.8, **extra
    )
    sidecar = _asl(result)
    assert sidecar["BolusCutOffFlag"] is True
    assert sidecar["BolusCutOffTechnique"] == technique.upper()
    assert sidecar["BolusCutOffDelayTime"] == written
    assert list(sidecar)[-4:] == [
        "BolusCutOffFlag",
        "BolusCutOffTechnique",
        "BolusCutOffDelayTime",
        "DROSoftware",
    ]


def test_vascular_crushing_is_the_parameter(make_asl_result):
    """VascularCrushing states the series' vascular_crushing (default false)."""
    assert _asl(make_asl_result(1, vascular_crushing=True))["VascularCrushing"] is True
    assert _asl(make_asl_result(1))["VascularCrushing"] is False


def test_repetition_time_scalar_when_uniform_else_per_volume(make_asl_result):
    varying = _asl(make_asl_result(1, "m0scan control label", repetition_time=(10.0, 5.0, 5.0)))
    assert varying["RepetitionTimePreparation"] == [10.0, 5.0, 5.0]
    uniform = _asl(make_asl_result(1, "control label", repetition_time=(4.5, 4.5)))
    assert uniform["RepetitionTimePreparation"] == 4.5


def test_echo_time_scalar_or_per_volume(make_asl_result):
    uniform = _asl(make_asl_result(1, "control label", echo_time=(0.012, 0.012)))
    assert uniform["EchoTime"] == 0.012
    varying = _asl(make_asl_result(1, "control label", echo_time=(0.01, 0.02)))
    assert varying["EchoTime"] == [0.01, 0.02]


def test_single_pld_is_scalar_even_with_m0scan_rows(make_asl_result):
    sidecar = _asl(make_asl_result(1, "m0scan control label control label"))
    assert isinstance(sidecar["PostLabelingDelay"], float)


# --------------------------------------------------------------------------------------------
# Multi-PLD and variable labelling duration: one value per volume (docs/bids.md §6)


def test_multi_pld_delays_are_per_volume_with_zero_for_m0scan(make_asl_result):
    """m0scan + control/label at three signal times: one PLD per volume (0 for m0scan), one
    LabelingDuration (a float: every control/label volume has 1.8), the pairs of every phase,
    the per-token TE/TR repeated in every phase."""
    result = make_asl_result(
        1,
        "m0scan control label",
        signal_time=[2.0, 2.6, 3.6],
        repetition_time=(10.0, 4.0, 4.0),
        echo_time=(0.012, 0.01, 0.01),
    )
    sidecar = _asl(result)
    assert sidecar["PostLabelingDelay"] == [0.0, 0.2, 0.2, 0.0, 0.8, 0.8, 0.0, 1.8, 1.8]
    assert sidecar["LabelingDuration"] == 1.8 and isinstance(sidecar["LabelingDuration"], float)
    assert sidecar["TotalAcquiredPairs"] == 3
    assert sidecar["RepetitionTimePreparation"] == [10.0, 4.0, 4.0] * 3
    assert sidecar["EchoTime"] == [0.012, 0.01, 0.01] * 3
    assert sidecar["M0Type"] == "Included"
    assert result.images["asl"].data.shape[-1] == 9


def test_delays_carry_no_float_noise(make_asl_result):
    """2.8 - 1.8 is written 1.0 and 2.0 - 1.8 is 0.2 (ASLDRO develop wrote 0.9999999999999998
    and 0.19999999999999996: defect D34 of docs/bids.md §13)."""
    sidecar = _asl(make_asl_result(1, "control label", signal_time=[2.8, 2.0]))
    assert sidecar["PostLabelingDelay"] == [1.0, 1.0, 0.2, 0.2]
    assert sidecar["TotalAcquiredPairs"] == 2


def test_develop_docs_example_sidecar(make_asl_result):
    """label_duration 1.0, signal_time [1.0, 1.25, 1.5], "control label": PLD 0, 0.25, 0.5."""
    result = make_asl_result(1, "control label", label_duration=1.0, signal_time=[1.0, 1.25, 1.5])
    sidecar = _asl(result)
    assert sidecar["PostLabelingDelay"] == [0.0, 0.0, 0.25, 0.25, 0.5, 0.5]
    assert sidecar["LabelingDuration"] == 1.0
    assert sidecar["TotalAcquiredPairs"] == 3


def test_variable_labelling_duration_at_one_delay(make_asl_result):
    """label_duration [1.0, 1.5, 2.0] with signal_time = tau + 1.8: one PLD (a scalar, since
    every control/label volume has 1.8), LabelingDuration one per volume with 0 for m0scan."""
    result = make_asl_result(
        1, "m0scan control label", label_duration=[1.0, 1.5, 2.0], signal_time=[2.8, 3.3, 3.8]
    )
    sidecar = _asl(result)
    assert sidecar["PostLabelingDelay"] == 1.8
    assert sidecar["LabelingDuration"] == [0.0, 1.0, 1.0, 0.0, 1.5, 1.5, 0.0, 2.0, 2.0]


def test_an_integer_labelling_duration_is_written_as_a_float(make_asl_result):
    """ASLPrep reads an integer LabelingDuration (2) as an array and fails: always 2.0."""
    sidecar = _asl(make_asl_result(1, "control label", label_duration=2, signal_time=4))
    assert '"LabelingDuration": 2.0' in json_bytes(sidecar).decode()
    assert '"PostLabelingDelay": 2.0' in json_bytes(sidecar).decode()


def test_m0scan_in_the_first_phase_only(make_asl_result):
    """m0scan_phases "first": one m0scan then the pairs of every phase."""
    result = make_asl_result(
        1, "m0scan control label", signal_time=[2.0, 3.0], m0scan_phases="first"
    )
    sidecar = _asl(result)
    assert sidecar["PostLabelingDelay"] == [0.0, 0.2, 0.2, 1.2, 1.2]
    assert sidecar["RepetitionTimePreparation"] == [10.0, 5.0, 5.0, 5.0, 5.0]
    assert sidecar["TotalAcquiredPairs"] == 2
    assert result.images["asl"].data.shape[-1] == 5


def test_multi_ti_pasl(make_asl_result):
    """PASL at several inversion times: PLD = TI per volume, one bolus width."""
    result = make_asl_result(
        1, "control label", label_type="pasl", label_duration=0.8, signal_time=[1.0, 1.8]
    )
    sidecar = _asl(result)
    assert sidecar["PostLabelingDelay"] == [1.0, 1.0, 1.8, 1.8]
    assert sidecar["BolusCutOffFlag"] is False
    assert "LabelingDuration" not in sidecar
    with_cut_off = make_asl_result(
        1,
        "control label",
        label_type="pasl",
        label_duration=0.8,
        signal_time=[1.0, 1.8],
        bolus_cut_off_technique="Q2TIPS",
        bolus_cut_off_delay_time=[0.7, 0.9],
    )
    assert _asl(with_cut_off)["BolusCutOffDelayTime"] == [0.7, 0.9]  # one for the series


def test_a_multi_phase_m0scan_series_has_one_value_per_volume(make_asl_result):
    """A separate m0scan series with two phases: two volumes, its TR and TE scalars."""
    record = _record(make_asl_result(2, "m0scan", signal_time=[2.0, 3.0]))
    sidecar = m0scan_sidecar(record, intended_for="bids::sub-01/perf/sub-01_asl.nii.gz")
    assert sidecar["RepetitionTimePreparation"] == 10.0 and sidecar["EchoTime"] == 0.01
    assert len(record.volumes) == 2


@pytest.mark.parametrize(
    ("label_type", "label_duration", "signal_time", "pld"),
    [("pcasl", 1.8, 3.6, 1.8), ("casl", 1.5, 2.0, 0.5), ("pasl", 0.8, 1.8, 1.8)],
)
def test_post_labeling_delay_rule(make_asl_result, label_type, label_duration, signal_time, pld):
    record = _record(
        make_asl_result(
            1,
            "control label",
            label_type=label_type,
            label_duration=label_duration,
            signal_time=signal_time,
        )
    )
    assert derived.post_labeling_delay(record) == pytest.approx(pld, abs=1e-12)


@pytest.mark.parametrize(
    ("context", "pairs"),
    [
        ("m0scan control label", 1),
        ("control label control label control label", 3),
        ("label label", 2),
        ("control", 1),
        ("m0scan label label label", 3),
        # without control and label: one pair per deltam volume, else per cbf volume (issue 12)
        ("m0scan deltam deltam", 2),
        ("deltam cbf noRF", 1),
        ("cbf m0scan cbf cbf", 3),
        # with them, deltam and cbf are not counted (bids-validator compares with #control)
        ("control label deltam cbf", 1),
    ],
)
def test_total_acquired_pairs(make_asl_result, context, pairs):
    assert derived.total_acquired_pairs(_record(make_asl_result(1, context))) == pairs


@pytest.mark.parametrize("context", ["m0scan", "m0scan noRF"])
def test_total_acquired_pairs_needs_a_perfusion_volume(make_asl_result, context):
    with pytest.raises(ValueError):
        derived.total_acquired_pairs(_record(make_asl_result(1, context)))


@pytest.mark.parametrize(
    ("context", "label_duration", "signal_time", "pld", "ld"),
    [
        # one PLD: scalars, whatever the noRF and m0scan rows
        ("m0scan deltam noRF", 1.8, 3.6, 1.8, 1.8),
        ("cbf noRF", 1.8, 3.6, 1.8, 1.8),
        # several: 0 at the m0scan and noRF rows, deltam and cbf carry their PLD and LD
        (
            "noRF deltam cbf",
            [1.0, 1.8],
            [2.6, 3.6],
            [0.0, 1.6, 1.6, 0.0, 1.8, 1.8],
            [0.0, 1.0, 1.0, 0.0, 1.8, 1.8],
        ),
    ],
)
def test_norf_rows_have_no_labelling_and_deltam_cbf_theirs(
    make_asl_result, context, label_duration, signal_time, pld, ld
):
    """BIDS: an image without a PLD is indicated by a zero (noRF as m0scan); deltam and cbf
    volumes have a PLD and a labelling duration."""
    record = _record(
        make_asl_result(1, context, label_duration=label_duration, signal_time=signal_time)
    )
    assert derived.post_labeling_delay(record) == pld
    assert derived.labeling_duration(record) == ld


@pytest.mark.parametrize(("context", "units"), [("cbf", True), ("m0scan deltam", False)])
def test_units_with_cbf_rows(make_asl_result, context, units):
    """Units (mL/100g/min) in the asl sidecar exactly when the run has cbf rows."""
    sidecar = _asl(make_asl_result(1, context))
    assert sidecar.get("Units") == ("mL/100g/min" if units else None)


@pytest.mark.parametrize(
    ("context", "separate", "uniform", "expected"),
    [
        ("m0scan control label", False, None, {"M0Type": "Included"}),
        ("m0scan control label", False, 70.0, {"M0Type": "Included"}),
        ("control label", True, None, {"M0Type": "Separate"}),
        ("control label", True, 70.0, {"M0Type": "Separate"}),
        ("control label", False, 70.0, {"M0Type": "Estimate"}),
        ("control label", False, None, {"M0Type": "Absent"}),
        # only cbf (and noRF) volumes: calibrated already, no M0 needed whatever the M0 is
        ("cbf", False, 70.0, {"M0Type": "Absent"}),
        ("cbf noRF cbf", False, 70.0, {"M0Type": "Absent"}),
        ("cbf", True, None, {"M0Type": "Separate"}),
        ("m0scan cbf", False, 70.0, {"M0Type": "Included"}),
        ("deltam", False, 70.0, {"M0Type": "Estimate"}),
    ],
)
def test_m0_type_rule(make_asl_result, context, separate, uniform, expected):
    """Estimate comes with M0Estimate, the M0 signal scale of the images (the uniform M0 times
    the readout decay: below the bare M0 at TE 10 ms, tests/pipelines/test_volume_types.py)."""
    record = _record(make_asl_result(1, context, m0_uniform_value=uniform))
    if expected["M0Type"] == "Estimate":
        assert 0 < record.m0_estimate < uniform
        expected = {**expected, "M0Estimate": record.m0_estimate}
    assert derived.m0_type(record, Layout(has_separate_m0=separate)) == expected


def test_m0_type_included_and_separate_is_an_error(make_asl_result):
    record = _record(make_asl_result(1, "m0scan control"))
    with pytest.raises(ValueError):
        derived.m0_type(record, Layout(has_separate_m0=True))


def test_m0scan_sidecar(make_asl_result):
    record = _record(make_asl_result(2, "m0scan", repetition_time=(10.0,)))
    target = "bids::sub-01/perf/sub-01_asl.nii.gz"
    sidecar = m0scan_sidecar(record, intended_for=target)
    assert list(sidecar)[0] == "IntendedFor" and list(sidecar)[-1] == "DROSoftware"
    assert sidecar["IntendedFor"] == target
    assert sidecar["RepetitionTimePreparation"] == 10.0
    assert sidecar["EchoTime"] == 0.01
    assert {"MRAcquisitionType", "MagneticFieldStrength", "AcquisitionVoxelSize"} <= set(sidecar)
    assert "M0Type" not in sidecar


@pytest.mark.parametrize(("contrast", "sequence"), [("se", "SE"), ("ge", "GR"), ("ir", "IR")])
def test_structural_sidecar(make_structural_result, contrast, sequence):
    record = make_structural_result(1, acq_contrast=contrast).records["structural"]
    sidecar = structural_sidecar(record)
    assert sidecar["ScanningSequence"] == sequence
    assert sidecar["EchoTime"] == 0.005
    assert sidecar["RepetitionTime"] == record.series.repetition_time
    assert sidecar["MRAcquisitionType"] == "3D"
    assert sidecar["FlipAngle"] == 90.0
    assert ("InversionTime" in sidecar) == (contrast == "ir")


def test_groundtruth_sidecar(make_gt_results):
    records = make_gt_results(2).records
    for quantity, units in [("perfusion_rate", "mL/100g/min"), ("t1", "s"), ("m0", "arbitrary")]:
        sidecar = groundtruth_sidecar(records[quantity], sources=["bids:raw:code/x.json"])
        assert sidecar["SkullStripped"] is False
        assert sidecar["Units"] == units
        assert sidecar["Description"]
        assert sidecar["Sources"] == ["bids:raw:code/x.json"]
        assert sidecar["AcquisitionVoxelSize"] == [3.0, 3.0, 4.0]
    att = records["transit_time"]
    how = "Per voxel: the perfusion-weighted mean over the voxel."
    described = dataclasses.replace(att, derivation=how)
    what = groundtruth_sidecar(dataclasses.replace(att, derivation=""))["Description"]
    assert groundtruth_sidecar(described)["Description"] == f"{what}. {how}"


def test_aslcontext_tsv():
    assert aslcontext_tsv(["m0scan", "control", "label"]) == (
        "volume_type\nm0scan\ncontrol\nlabel\n"
    )
    with pytest.raises(ValueError):
        aslcontext_tsv(["Control"])


def test_scalar_or_list():
    assert scalar_or_list([2, 2.0]) == 2.0
    assert scalar_or_list([1, 2]) == [1.0, 2.0]


# --------------------------------------------------------------------------------------------
# The catalog is the one place: its rows decide the sidecars


def test_every_derived_row_and_condition_has_its_one_rule():
    assert {row.rule for row in catalog.DERIVED} == set(derived.RULES)
    assert set(catalog.CONDITIONS) == set(derived.CONDITIONS)


def test_a_fixed_row_of_the_catalog_is_what_the_sidecar_says(make_structural_result, monkeypatch):
    record = make_structural_result(1).records["structural"]
    changed = tuple(
        dataclasses.replace(row, value="SK") if row.field == "SequenceVariant" else row
        for row in catalog.FIXED
    )
    monkeypatch.setattr(catalog, "FIXED", changed)
    assert catalog_fields("structural", record)["SequenceVariant"] == "SK"


def test_the_catalog_field_order_is_the_sidecar_order(make_structural_result, monkeypatch):
    record = make_structural_result(1).records["structural"]
    order = tuple(reversed(catalog.SIDECAR_FIELDS["structural"]))
    monkeypatch.setattr(catalog, "SIDECAR_FIELDS", {**catalog.SIDECAR_FIELDS, "structural": order})
    fields = [f for f in catalog_fields("structural", record) if f != "PulseSequenceType"]
    assert fields == [f for f in order if f != "InversionTime"]


def test_a_parameter_row_reads_the_parameter_as_used(make_asl_result):
    """Spin echo reports a 90 degree flip angle whatever was given (the record's fact shadows the
    series parameter); gradient echo reports the one given."""
    spin_echo = _record(make_asl_result(1, acq_contrast="se"))
    spin_echo = dataclasses.replace(
        spin_echo, series=dataclasses.replace(spin_echo.series, excitation_flip_angle=30.0)
    )
    assert asl_sidecar(spin_echo)["FlipAngle"] == 90.0
    gradient = _record(make_asl_result(1, acq_contrast="ge"))
    gradient = dataclasses.replace(
        gradient, series=dataclasses.replace(gradient.series, excitation_flip_angle=30.0)
    )
    assert asl_sidecar(gradient)["FlipAngle"] == 30.0


def test_a_2d_readout_writes_its_slice_timing_in_asl_and_m0scan(make_asl_result):
    """mr_acq_type 2D: MRAcquisitionType 2D, SliceTiming (one per slice, s) and
    MultibandAccelerationFactor (an integer, > 1 only) after it, in both sidecars; no
    SliceEncodingDirection (the slices are along k, BIDS's default)."""
    result = make_asl_result(
        1, mr_acq_type="2D", slice_readout_time=0.05, slice_order="descending", multiband_factor=2
    )
    expected = [0.2, 0.15, 0.1, 0.05, 0.0] * 2
    for sidecar in (_asl(result), m0scan_sidecar(_record(result), intended_for="bids::x")):
        assert sidecar["MRAcquisitionType"] == "2D"
        assert sidecar["SliceTiming"] == expected
        assert sidecar["MultibandAccelerationFactor"] == 2
        assert isinstance(sidecar["MultibandAccelerationFactor"], int)
        assert "SliceEncodingDirection" not in sidecar
        order = list(sidecar)
        at = order.index("MRAcquisitionType")
        assert order[at + 1 : at + 3] == ["SliceTiming", "MultibandAccelerationFactor"]


def test_a_single_band_2d_readout_has_no_multiband_factor(make_asl_result):
    sidecar = _asl(make_asl_result(1, mr_acq_type="2D", slice_timing=[0.0] + [0.04] * 9))
    assert sidecar["SliceTiming"] == [0.0] + [0.04] * 9
    assert "MultibandAccelerationFactor" not in sidecar


def test_a_3d_readout_never_has_slice_timing(make_asl_result, make_structural_result):
    """3D (the default): no SliceTiming anywhere (ASLPrep shifts every delay when it is
    present), and the structural image stays 3D."""
    result = make_asl_result(1)
    for sidecar in (_asl(result), m0scan_sidecar(_record(result), intended_for="bids::x")):
        assert sidecar["MRAcquisitionType"] == "3D"
        assert not {"SliceTiming", "MultibandAccelerationFactor"} & set(sidecar)
    assert structural_sidecar(_record_of(make_structural_result()))["MRAcquisitionType"] == "3D"


def _record_of(result):
    return next(iter(result.records.values()))
