"""Multi-PLD and variable-LD datasets end to end (issue 11 "Must show"): `asldro generate`
validates them with the own checks, pybids and bids-validator-deno (0 errors, 0 warnings), and
bids-validator-deno without asldro's configuration raises no warning about the ASL keys beyond
what a single-PLD dataset gets (the issue's checklist of validator errors and warnings)."""

import json
import subprocess

import nibabel as nib
import pytest

from asldro.cli import main
from tests.e2e.conftest import deno
from tests.e2e.test_generate import CASES

#: bids-validator-deno's ASL consistency warnings (BIDS schema rules/checks/asl.yaml, mri.yaml).
ASL_WARNINGS = {
    "TOTAL_ACQUIRED_VOLUMES_NOT_CONSISTENT",
    "BACKGROUND_SUPPRESSION_PULSE_NUMBER_NOT_CONSISTENT",
    "ECHO_TIME_NOT_CONSISTENT",
    "POST_LABELING_DELAY_GREATER",
    "BOLUS_CUT_OFF_DELAY_TIME_GREATER",
    "LABELING_DURATION_GREATER",
    "SLICETIMING_ELEMENTS",
}
#: The keys of the per-volume rules: no recommendation may be about them.
ASL_KEYS = {
    "PostLabelingDelay",
    "LabelingDuration",
    "TotalAcquiredPairs",
    "RepetitionTimePreparation",
    "EchoTime",
    "M0Type",
    "BackgroundSuppression",
    "BackgroundSuppressionNumberPulses",
    "BackgroundSuppressionPulseTime",
}


def _generate(tmp_path, case: str):
    params = tmp_path / f"{case}.json"
    params.write_text(json.dumps(CASES[case]))
    out = tmp_path / case
    assert main(["generate", "--params", str(params), str(out)]) == 0
    return out


def _deno_issues(dataset) -> list[dict]:
    """bids-validator-deno's issues, without asldro's configuration (every warning shown)."""
    done = subprocess.run(
        [deno(), "--json", str(dataset)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:]
    return json.loads(done.stdout)["issues"]["issues"]


def assert_valid_without_asl_warnings(
    dataset,
    baseline: set,
    *,
    codes: frozenset = frozenset(),
    keys: frozenset = frozenset(),
    allowed: frozenset = frozenset(),
) -> None:
    """All three layers of asldro's validation with 0 errors and 0 warnings; bids-validator-deno
    without asldro's configuration: no error, no ASL consistency warning (nor one of ``codes``),
    no perf recommendation beyond the ``baseline`` dataset's (and ``allowed``), none about
    :data:`ASL_KEYS` (nor ``keys``)."""
    report = json.loads((dataset / "code" / "validation.json").read_text())
    for layer in report["datasets"]:
        assert layer["errors"] == 0 and layer["warnings"] == 0, layer["findings"]
        assert layer["layers"][:2] == ["own", "pybids"]
        assert layer["layers"][2].startswith("bids-validator-deno")
    issues = _deno_issues(dataset)
    assert not [issue for issue in issues if issue["severity"] == "error"]
    assert not {issue["code"] for issue in issues} & (ASL_WARNINGS | codes)
    perf = {
        (issue["code"], issue.get("subCode"))
        for issue in issues
        if "/perf/" in (issue.get("location") or "")
    }
    assert perf <= baseline | allowed
    assert not {key for _, key in perf} & (ASL_KEYS | keys)


@pytest.fixture(name="single_pld_perf_warnings", scope="module")
def fixture_single_pld_perf_warnings(tmp_path_factory):
    """(code, key) of the validator's warnings on the perf files of a single-PLD dataset."""
    out = _generate(tmp_path_factory.mktemp("single"), "pcasl_m0_included")
    return {
        (issue["code"], issue.get("subCode"))
        for issue in _deno_issues(out)
        if "/perf/" in (issue.get("location") or "")
    }


@pytest.fixture(name="generated", scope="module")
def fixture_generated(tmp_path_factory):
    """The two multi-timepoint datasets, generated (and validated) once."""
    folder = tmp_path_factory.mktemp("multi")
    return {case: _generate(folder, case) for case in ("multi_pld", "variable_ld")}


@pytest.mark.parametrize("case", ["multi_pld", "variable_ld"])
def test_multi_timepoint_datasets_are_valid(case, generated, single_pld_perf_warnings):
    """All three layers: 0 errors, 0 warnings; bids-validator-deno without configuration: no
    ASL consistency warning and no recommendation beyond a single-PLD dataset's."""
    assert_valid_without_asl_warnings(generated[case], single_pld_perf_warnings)


def test_the_multi_pld_dataset_has_one_value_per_volume(generated):
    """m0scan + 6 PLDs x 4 pairs with one M0: 49 volumes, PLD 0 for the m0scan then each PLD
    eight times (1.0, not 0.9999999999999998), 24 pairs, one labelling duration."""
    perf = generated["multi_pld"] / "sub-01" / "perf"
    sidecar = json.loads((perf / "sub-01_asl.json").read_text())
    rows = (perf / "sub-01_aslcontext.tsv").read_text().splitlines()[1:]
    assert nib.load(perf / "sub-01_asl.nii.gz").shape[-1] == len(rows) == 49
    assert rows == ["m0scan"] + ["control", "label"] * 24
    assert sidecar["PostLabelingDelay"] == [0.0] + [
        pld for pld in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5) for _ in range(8)
    ]
    assert sidecar["LabelingDuration"] == 1.8
    assert sidecar["TotalAcquiredPairs"] == 24
    assert sidecar["M0Type"] == "Included"
    assert sidecar["RepetitionTimePreparation"] == [10.0] + [5.0] * 48


def test_the_variable_ld_dataset_writes_both_arrays(generated):
    """LD [1.0, 1.4, 1.8] at PLD [0.5, 1.0, 1.8] with an m0scan per phase: both arrays one per
    volume, 0 at the m0scan rows."""
    sidecar = json.loads(
        (generated["variable_ld"] / "sub-01" / "perf" / "sub-01_asl.json").read_text()
    )
    assert sidecar["LabelingDuration"] == [0.0] + [1.0] * 4 + [0.0] + [1.4] * 4 + [0.0] + [1.8] * 4
    assert sidecar["PostLabelingDelay"] == [0.0] + [0.5] * 4 + [0.0] + [1.0] * 4 + [0.0] + [1.8] * 4
    assert sidecar["TotalAcquiredPairs"] == 6
