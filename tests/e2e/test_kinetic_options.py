"""The kinetic options end to end (issue 11 "Must show"): a Q2TIPS PASL dataset and an
arterial-component dataset, written by `asldro generate`, pass the own checks, pybids and
bids-validator-deno (0 errors, 0 warnings), and bids-validator-deno without asldro's configuration
raises no warning about the ASL keys beyond what a single-PLD dataset gets; bad kinetic options
are one line on stderr, exit 65, nothing written."""

import json

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from tests.e2e.test_multipld import ASL_KEYS, ASL_WARNINGS, _deno_issues, _generate

BOLUS_KEYS = {"BolusCutOffFlag", "BolusCutOffTechnique", "BolusCutOffDelayTime", "VascularCrushing"}
#: Each dataset and the dataset of today's options it is compared with.
BASELINES = {"pasl_q2tips": "pasl", "arterial": "pcasl_m0_included"}


def _perf_warnings(dataset) -> set[tuple[str, str | None]]:
    """(code, key) of the validator's issues on the perf files of ``dataset``."""
    return {
        (issue["code"], issue.get("subCode"))
        for issue in _deno_issues(dataset)
        if "/perf/" in (issue.get("location") or "")
    }


@pytest.fixture(name="generated", scope="module")
def fixture_generated(tmp_path_factory):
    """The two datasets and their baselines, generated (and validated) once."""
    folder = tmp_path_factory.mktemp("kinetic")
    cases = (*BASELINES, *BASELINES.values())
    return {case: _generate(folder, case) for case in cases}


@pytest.mark.parametrize("case", sorted(BASELINES))
def test_kinetic_option_datasets_are_valid(case, generated):
    """All three layers on the raw dataset and the derivative: 0 errors, 0 warnings;
    bids-validator-deno without configuration: no ASL consistency warning and no
    recommendation beyond the baseline's (PASL: the PASLType and LabelingSlabThickness that
    every PASL dataset is recommended; none about the bolus cut-off keys)."""
    out = generated[case]
    report = json.loads((out / "code" / "validation.json").read_text())
    names = [dataset["dataset"] for dataset in report["datasets"]]
    assert names[0] == "raw" and "derivatives/groundtruth" in names
    for dataset in report["datasets"]:
        assert dataset["errors"] == 0 and dataset["warnings"] == 0, dataset["findings"]
        assert dataset["layers"][:2] == ["own", "pybids"]
        assert dataset["layers"][2].startswith("bids-validator-deno")
    for root in (out, out / "derivatives" / "groundtruth"):
        issues = _deno_issues(root)
        assert not [issue for issue in issues if issue["severity"] == "error"]
        assert not {issue["code"] for issue in issues} & ASL_WARNINGS
    perf = _perf_warnings(out)
    assert perf <= _perf_warnings(generated[BASELINES[case]])
    assert not {key for _, key in perf} & (ASL_KEYS | BOLUS_KEYS)


def test_the_q2tips_dataset_states_its_cut_off(generated):
    """PASL Q2TIPS: TI as the PLD (a scalar), flag true, the technique, [TI1, TI1s], no
    LabelingDuration; the control - label signal is that of a 0.7 s bolus."""
    perf = generated["pasl_q2tips"] / "sub-01" / "perf"
    sidecar = json.loads((perf / "sub-01_asl.json").read_text())
    assert sidecar["ArterialSpinLabelingType"] == "PASL"
    assert sidecar["PostLabelingDelay"] == 1.8
    assert sidecar["BolusCutOffFlag"] is True
    assert sidecar["BolusCutOffTechnique"] == "Q2TIPS"
    assert sidecar["BolusCutOffDelayTime"] == [0.7, 1.6]
    assert "LabelingDuration" not in sidecar
    assert sidecar["VascularCrushing"] is False
    params = json.loads((generated["pasl_q2tips"] / "code" / "sub-01_dro_params.json").read_text())
    asl = params["image_series"][0]["series_parameters"]
    assert (asl["bolus_cut_off_technique"], asl["bolus_cut_off_delay_time"]) == (
        "Q2TIPS",
        [0.7, 1.6],
    )


def test_the_arterial_dataset_writes_abv_and_abat(generated):
    """The derivative holds perf/_abv (the volume mean: 0.01 everywhere the brain is) and
    perf/_abat (the aBV-weighted mean of ATT - 0.3 s: within [GM 0.5, CSF 999.7] s), listed in
    its .bidsignore; the asl sidecar says VascularCrushing false."""
    out = generated["arterial"]
    gt = out / "derivatives" / "groundtruth"
    perf = gt / "sub-01" / "perf"
    abv = np.asarray(nib.load(perf / "sub-01_desc-groundtruth_abv.nii.gz").dataobj)
    abat = np.asarray(nib.load(perf / "sub-01_desc-groundtruth_abat.nii.gz").dataobj)
    np.testing.assert_allclose(abv, 0.01, rtol=1e-6)  # image_override fills the background too
    assert abat.min() >= 0.0 and abat.max() <= 999.7 + 1e-3
    # partial volume (docs/physics.md §3.5): with aBV uniform, each voxel's aBAT is the mean of
    # the tissues' (GM 0.5, WM 0.9, CSF 999.7, background 0 s) weighted by their fractions
    anat = gt / "sub-01" / "anat"
    expected = sum(
        value
        * nib.load(anat / f"sub-01_label-{tissue}_desc-groundtruth_probseg.nii.gz").get_fdata()
        for tissue, value in (("GM", 0.5), ("WM", 0.9), ("CSF", 999.7))
    )
    np.testing.assert_allclose(abat, expected, rtol=1e-4, atol=1e-3)
    assert {"**/*_abv.*", "**/*_abat.*"} <= set((gt / ".bidsignore").read_text().splitlines())
    sidecar = json.loads((out / "sub-01" / "perf" / "sub-01_asl.json").read_text())
    assert sidecar["VascularCrushing"] is False
    assert len(set(sidecar["PostLabelingDelay"])) == 5  # 0 for the m0scan, four PLDs


@pytest.mark.parametrize(
    "series, message",
    [
        (
            {"label_type": "pcasl", "bolus_cut_off_technique": "QUIPSSII"},
            'image_series[0].series_parameters.bolus_cut_off_technique: "QUIPSSII" is a PASL '
            'bolus cut-off, but label_type is "pcasl"; remove the key or use label_type '
            "'pasl'",
        ),
        (
            {"gkm_model": "consensus", "dispersion": {"type": "gauss"}},
            'image_series[0].series_parameters.dispersion: type "gauss" is defined for '
            "gkm_model 'full' only",
        ),
    ],
)
def test_bad_kinetic_options_are_exit_65_with_one_line(tmp_path, capsys, series, message):
    """One line on stderr naming the place, value and rule; exit 65; no output folder."""
    params = tmp_path / "params.json"
    params.write_text(
        json.dumps(
            {
                "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
                "image_series": [{"series_type": "asl", "series_parameters": series}],
            }
        )
    )
    out = tmp_path / "out"
    assert main(["generate", "--params", str(params), str(out)]) == 65
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
    assert "Traceback" not in err
    assert not out.exists()
