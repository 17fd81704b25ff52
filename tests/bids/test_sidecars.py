"""Sidecar fields (bids-asl.md §3–§6, §8, §9; physics.md D20, D21)."""

# pylint: disable=redefined-outer-name,missing-function-docstring

from __future__ import annotations

import pytest

from asldro.bids.sidecars import (
    asl_sidecar,
    aslcontext_tsv,
    groundtruth_sidecar,
    m0_type,
    m0scan_sidecar,
    scalar_or_list,
    structural_sidecar,
    total_acquired_pairs,
)
from asldro.image import Image

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


def _asl(result, m0=None):
    return asl_sidecar(result.images["asl"], m0_fields=m0 or {"M0Type": "Included"})


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


def test_casl_sidecar(make_asl_result):
    result = make_asl_result(1, "control label", label_type="casl", signal_time=3.0)
    sidecar = _asl(result, {"M0Type": "Absent"})
    assert sidecar["ArterialSpinLabelingType"] == "CASL"
    assert sidecar["PostLabelingDelay"] == pytest.approx(1.2)
    assert sidecar["LabelingDuration"] == 1.8
    assert "BolusCutOffFlag" not in sidecar


def test_pasl_sidecar_uses_ti_as_pld_and_quipss_cut_off(make_asl_result):
    result = make_asl_result(
        1, "control label", label_type="pasl", label_duration=0.7, signal_time=1.6
    )
    sidecar = _asl(result)
    assert sidecar["ArterialSpinLabelingType"] == "PASL"
    assert sidecar["PostLabelingDelay"] == 1.6
    assert "LabelingDuration" not in sidecar
    assert sidecar["BolusCutOffFlag"] is True
    assert sidecar["BolusCutOffTechnique"] == "QUIPSSII"
    assert sidecar["BolusCutOffDelayTime"] == 0.7


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


@pytest.mark.parametrize(
    ("context", "pairs"),
    [
        ("m0scan control label", 1),
        ("control label control label control label", 3),
        ("label label", 2),
        ("control", 1),
        ("m0scan label label label", 3),
    ],
)
def test_total_acquired_pairs(context, pairs):
    assert total_acquired_pairs(context.split()) == pairs


def test_total_acquired_pairs_needs_a_control_or_label():
    with pytest.raises(ValueError):
        total_acquired_pairs(["m0scan"])


@pytest.mark.parametrize(
    ("context", "separate", "uniform", "expected"),
    [
        ("m0scan control label", False, None, {"M0Type": "Included"}),
        ("m0scan control label", False, 70.0, {"M0Type": "Included"}),
        ("control label", True, None, {"M0Type": "Separate"}),
        ("control label", True, 70.0, {"M0Type": "Separate"}),
        ("control label", False, 70.0, {"M0Type": "Estimate", "M0Estimate": 70.0}),
        ("control label", False, None, {"M0Type": "Absent"}),
    ],
)
def test_m0_type_rule(context, separate, uniform, expected):
    result = m0_type(context.split(), has_separate_m0=separate, m0_uniform_value=uniform)
    assert result == expected


def test_m0_type_included_and_separate_is_an_error():
    with pytest.raises(ValueError):
        m0_type(["m0scan", "control"], has_separate_m0=True, m0_uniform_value=None)


def test_asl_sidecar_rejects_context_volume_mismatch(make_asl_result):
    result = make_asl_result(1, "control label")
    image = result.images["asl"]
    broken = image.evolve("drop", data=image.data[..., :1])
    with pytest.raises(ValueError):
        asl_sidecar(broken, m0_fields={"M0Type": "Absent"})


def test_m0scan_sidecar(make_asl_result):
    image = make_asl_result(2, "m0scan", repetition_time=(10.0,)).images["asl"]
    target = "bids::sub-01/perf/sub-01_asl.nii.gz"
    sidecar = m0scan_sidecar(image, intended_for=target)
    assert sidecar["IntendedFor"] == target
    assert sidecar["RepetitionTimePreparation"] == 10.0
    assert sidecar["EchoTime"] == 0.01
    assert {"MRAcquisitionType", "MagneticFieldStrength", "AcquisitionVoxelSize"} <= set(sidecar)
    assert "M0Type" not in sidecar


@pytest.mark.parametrize(("contrast", "sequence"), [("se", "SE"), ("ge", "GR"), ("ir", "IR")])
def test_structural_sidecar(make_structural_result, contrast, sequence):
    image = make_structural_result(1, acq_contrast=contrast).images["structural"]
    sidecar = structural_sidecar(image)
    assert sidecar["ScanningSequence"] == sequence
    assert sidecar["EchoTime"] == 0.005
    assert sidecar["RepetitionTime"] == image.meta["repetition_time"]
    assert sidecar["MRAcquisitionType"] == "3D"
    assert sidecar["FlipAngle"] == 90.0
    assert ("InversionTime" in sidecar) == (contrast == "ir")


def test_groundtruth_sidecar(make_gt_results):
    images = make_gt_results(2).images
    for quantity, units in [("perfusion_rate", "mL/100g/min"), ("t1", "s"), ("m0", "arbitrary")]:
        sidecar = groundtruth_sidecar(images[quantity], sources=["bids:raw:code/x.json"])
        assert sidecar["SkullStripped"] is False
        assert sidecar["Units"] == units
        assert sidecar["Description"]
        assert sidecar["Sources"] == ["bids:raw:code/x.json"]
    att = images["transit_time"]
    how = "Per voxel: the perfusion-weighted mean over the voxel."
    described = Image(att.data, att.affine, {**att.meta, "derivation": how}, att.history)
    assert groundtruth_sidecar(described)["Description"] == (
        f"{groundtruth_sidecar(att)['Description']}. {how}"
    )


def test_aslcontext_tsv():
    assert aslcontext_tsv(["m0scan", "control", "label"]) == (
        "volume_type\nm0scan\ncontrol\nlabel\n"
    )
    with pytest.raises(ValueError):
        aslcontext_tsv(["Control"])


def test_scalar_or_list():
    assert scalar_or_list([2, 2.0]) == 2.0
    assert scalar_or_list([1, 2]) == [1.0, 2.0]
