"""A deltam + m0scan dataset (GE style) and a cbf dataset end to end (issue 12 "Must show"):
`asldro generate` validates them with the own checks, pybids and bids-validator-deno (0 errors,
0 warnings), bids-validator-deno without asldro's configuration raises no ASL warning and no
recommendation beyond a single-PLD control/label dataset's; noiseless, a deltam volume is control
- label of the same series, and a cbf volume is the ground-truth CBF where the white paper holds;
a generated M0Type Estimate dataset quantifies to the true CBF (M0Estimate carries the readout
decay: docs/physics.md §5.8)."""

import json

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from tests.e2e.conftest import document, small
from tests.e2e.test_generate import GT, T1W
from tests.e2e.test_multipld import (  # pylint: disable=unused-import  # fixtures by name
    _generate,
    assert_valid_without_asl_warnings,
    fixture_single_pld_perf_warnings,
)

CASES = ("deltam_m0scan", "cbf_only")
#: A uniform phantom where the white paper holds with the consensus model: every label (the
#: background too) arrived at PLD 1.8 s (transit 0.8 s), T2 80 ms, M0 100.
PHANTOM = {
    "perfusion_rate": 60.0,
    "transit_time": 0.8,
    "t1": 1.33,
    "t2": 0.08,
    "t2_star": 0.066,
    "m0": 100.0,
}


@pytest.fixture(name="generated", scope="module")
def fixture_generated(tmp_path_factory):
    """Both datasets, generated (and validated) once."""
    folder = tmp_path_factory.mktemp("volume_types")
    return {case: _generate(folder, case) for case in CASES}


@pytest.mark.parametrize("case", CASES)
def test_the_vendor_datasets_are_valid(case, generated, single_pld_perf_warnings):
    """All three layers 0 errors, 0 warnings; the unconfigured validator: no error, no ASL
    consistency warning, no perf recommendation a control/label dataset does not get."""
    assert_valid_without_asl_warnings(
        generated[case], single_pld_perf_warnings, keys=frozenset({"Units"})
    )


def test_the_ge_style_sidecar(generated):
    """m0scan + two deltam: Included, one PLD (a scalar), one pair per deltam volume, no Units."""
    perf = generated["deltam_m0scan"] / "sub-01" / "perf"
    sidecar = json.loads((perf / "sub-01_asl.json").read_text())
    rows = (perf / "sub-01_aslcontext.tsv").read_text().splitlines()
    assert rows == ["volume_type", "m0scan", "deltam", "deltam"]
    assert sidecar["M0Type"] == "Included" and sidecar["TotalAcquiredPairs"] == 2
    assert sidecar["PostLabelingDelay"] == 1.8 and sidecar["LabelingDuration"] == 1.8
    assert "Units" not in sidecar


def test_the_cbf_sidecar(generated):
    """A CBF map alone: Units mL/100g/min, no M0 needed (Absent), one pair, its PLD."""
    perf = generated["cbf_only"] / "sub-01" / "perf"
    sidecar = json.loads((perf / "sub-01_asl.json").read_text())
    assert (perf / "sub-01_aslcontext.tsv").read_text().splitlines() == ["volume_type", "cbf"]
    assert sidecar["Units"] == "mL/100g/min"
    assert sidecar["M0Type"] == "Absent" and "M0Estimate" not in sidecar
    assert sidecar["TotalAcquiredPairs"] == 1 and sidecar["PostLabelingDelay"] == 1.8
    provenance = json.loads(
        (generated["cbf_only"] / "code" / "provenance" / "sub-01.json").read_text()
    )
    assert "cbf" in json.dumps(provenance) and "volume_formation" in json.dumps(provenance)


def _dataset(tmp_path, *series, **global_config):
    params = tmp_path / "params.json"
    params.write_text(json.dumps(document(*series, **global_config)))
    out = tmp_path / "dro"
    assert main(["generate", "--params", str(params), str(out)]) == 0
    return out


def _asl(out) -> np.ndarray:
    image = nib.load(out / "sub-01" / "perf" / "sub-01_asl.nii.gz")
    assert image.get_data_dtype() == np.float32
    return np.asarray(image.dataobj, dtype=np.float64)


def test_a_deltam_volume_is_control_minus_label_of_the_same_series(tmp_path, capsys):
    """Built-in ground truth, noiseless, a rotated and shifted acquisition: the written deltam
    volume equals the written control minus label to float32 precision."""
    out = _dataset(
        tmp_path,
        small(
            "asl",
            asl_context="m0scan control label deltam",
            desired_snr=0.0,
            rot_x=3.0,
            transl_z=1.5,
        ),
        T1W,
        GT,
    )
    capsys.readouterr()
    _, control, label, deltam = np.moveaxis(_asl(out), -1, 0)
    assert np.count_nonzero(deltam > 1e-3) > 500
    eps = np.finfo(np.float32).eps * control.max()
    np.testing.assert_allclose(deltam, control - label, rtol=0, atol=2 * eps)


def test_a_cbf_volume_is_the_ground_truth_cbf_where_the_white_paper_holds(tmp_path, capsys):
    """Uniform phantom overrides, arrived regime, consensus model, no noise: the cbf volume is
    the ground-truth CBF of the derivative (acquisition grid) to 1e-5."""
    out = _dataset(
        tmp_path,
        small("asl", asl_context="m0scan cbf", desired_snr=0.0, gkm_model="consensus"),
        T1W,
        GT,
        image_override=PHANTOM,
    )
    capsys.readouterr()
    cbf = _asl(out)[..., 1]
    truth_file = next(
        (out / "derivatives" / "groundtruth" / "sub-01" / "perf").glob("*_cbf.nii.gz")
    )
    truth = np.asarray(nib.load(truth_file).dataobj, dtype=np.float64)
    assert truth.shape == cbf.shape and np.all(truth == 60.0)
    np.testing.assert_allclose(cbf, truth, rtol=1e-5)


def test_a_generated_m0_estimate_dataset_quantifies_to_the_true_cbf(tmp_path, capsys):
    """M0Type Estimate (no m0scan, uniform M0 100, spin echo TE 10 ms, T2 80 ms): `asldro
    quantify` with the sidecar's M0Estimate returns the true CBF; with the bare M0 as
    M0Estimate it was 12 % low (exp(-10/80) = 0.88)."""
    out = _dataset(
        tmp_path,
        small(
            "asl",
            asl_context="control label",
            desired_snr=0.0,
            gkm_model="consensus",
            echo_time=0.01,
        ),
        T1W,
        GT,
        image_override=PHANTOM,
    )
    sidecar = json.loads((out / "sub-01" / "perf" / "sub-01_asl.json").read_text())
    assert sidecar["M0Type"] == "Estimate"
    assert sidecar["M0Estimate"] == pytest.approx(100.0 * np.exp(-0.01 / 0.08), rel=1e-12)
    capsys.readouterr()
    assert main(["quantify", str(out)]) == 0
    capsys.readouterr()
    cbf_file = out / "derivatives" / "asldro-quantify" / "sub-01" / "perf" / "sub-01_cbf.nii.gz"
    cbf = np.asarray(nib.load(str(cbf_file)).dataobj, dtype=np.float64)
    np.testing.assert_allclose(cbf, 60.0, rtol=1e-5)
