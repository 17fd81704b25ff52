"""A 2D multi-slice multi-PLD pCASL dataset end to end (issue 12 "Must show"): `asldro
generate` validates it with the own checks, pybids and bids-validator-deno (0 errors, 0
warnings), bids-validator-deno without asldro's configuration raises no ASL warning (the
issue's checklist: SLICE_TIMING_NOT_DEFINED_2D_ASL, SLICETIMING_ELEMENTS
...) and no recommendation beyond a single-PLD 3D dataset's; SliceTiming is in the asl and the
m0scan sidecars."""

import json

import nibabel as nib
import pytest

from tests.e2e.test_multipld import (  # pylint: disable=unused-import  # fixtures by name
    _generate,
    assert_valid_without_asl_warnings,
    fixture_single_pld_perf_warnings,
)

CASE = "two_d_multi_pld"
#: Interleaved within a band of 10 (0, 2, 4, 6, 8 then 1, 3, 5, 7, 9), 0.04 s per slice.
BAND = [0.0, 0.2, 0.04, 0.24, 0.08, 0.28, 0.12, 0.32, 0.16, 0.36]


@pytest.fixture(name="two_d", scope="module")
def fixture_two_d(tmp_path_factory):
    """The 2D dataset, generated (and validated) once."""
    return _generate(tmp_path_factory.mktemp("two_d"), CASE)


def test_the_2d_dataset_is_valid(two_d, single_pld_perf_warnings):
    """All three layers 0 errors, 0 warnings; the unconfigured validator: no error, no ASL
    consistency warning, no perf recommendation a single-PLD 3D dataset does not get."""
    assert_valid_without_asl_warnings(
        two_d,
        single_pld_perf_warnings,
        codes=frozenset({"SLICE_TIMING_NOT_DEFINED_2D_ASL"}),
        keys=frozenset({"SliceTiming"}),
    )


def test_the_2d_sidecars_carry_the_slice_timing(two_d):
    """asl and m0scan: MRAcquisitionType 2D, one time per slice of the 20-slice image (the
    band's times twice), MultibandAccelerationFactor 2; the delays refer to the first slice."""
    perf = two_d / "sub-01" / "perf"
    asl = json.loads((perf / "sub-01_asl.json").read_text())
    m0scan = json.loads((perf / "sub-01_m0scan.json").read_text())
    assert nib.load(perf / "sub-01_asl.nii.gz").shape == (24, 28, 20, 12)
    for sidecar in (asl, m0scan):
        assert sidecar["MRAcquisitionType"] == "2D"
        assert sidecar["SliceTiming"] == BAND * 2
        assert sidecar["MultibandAccelerationFactor"] == 2
    assert asl["M0Type"] == "Separate"
    assert asl["PostLabelingDelay"] == [pld for pld in (0.5, 1.0, 1.5) for _ in range(4)]
    structural = json.loads((two_d / "sub-01" / "anat" / "sub-01_acq-se_T1w.json").read_text())
    assert structural["MRAcquisitionType"] == "3D" and "SliceTiming" not in structural
