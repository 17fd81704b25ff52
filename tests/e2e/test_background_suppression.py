"""Background-suppressed datasets end to end (issue 12 "Must show"): a 2D multi-PLD pCASL with
develop's default module and a 3D PASL with given pulses pass the own checks, pybids and
bids-validator-deno with 0 errors and 0 warnings; the unconfigured validator raises no ASL
consistency warning and no recommendation for the background-suppression keys
(kinetics-readouts §2.5); the sidecars carry the pulse times of the first PLD."""

import json

import pytest

from tests.e2e.test_multipld import (  # pylint: disable=unused-import  # fixtures by name
    _generate,
    assert_valid_without_asl_warnings,
    fixture_single_pld_perf_warnings,
)

CASES = ("bs_two_d_multi_pld", "bs_pasl")
#: What bids-validator-deno recommends for every PASL run (asldro does not model a PASL
#: sequence type or slab); the single-PLD baseline is a pCASL.
PASL_RECOMMENDED = {
    ("SIDECAR_KEY_RECOMMENDED", "PASLType"),
    ("SIDECAR_KEY_RECOMMENDED", "LabelingSlabThickness"),
}


@pytest.fixture(name="generated", scope="module", params=CASES)
def fixture_generated(request, tmp_path_factory):
    """Each background-suppressed dataset, generated (and validated) once."""
    return _generate(tmp_path_factory.mktemp(request.param), request.param)


def test_the_suppressed_dataset_is_valid(generated, single_pld_perf_warnings):
    """All three layers 0 errors, 0 warnings; the unconfigured validator: no error, no ASL
    consistency warning, no perf recommendation a single-PLD dataset without BS does not get,
    none for the background-suppression keys."""
    assert_valid_without_asl_warnings(
        generated, single_pld_perf_warnings, allowed=frozenset(PASL_RECOMMENDED)
    )


def _asl_sidecar(generated) -> dict:
    return json.loads((generated / "sub-01" / "perf" / "sub-01_asl.json").read_text())


def test_the_pulse_times_are_those_of_the_first_pld(generated):
    """BackgroundSuppressionPulseTime: sorted, >= 0, as many as NumberPulses; for the pCASL the
    four optimised inversions before the first excitation are all after the start of its
    labelling (t = 3.2 s); for the PASL the given inversions
    1.2, 0.3, 2.1 and 2.4 s before the excitation are 0.6, 1.5, -0.3 and -0.6 (excluded) s after
    the labelling pulse at TI 1.8 s."""
    sidecar = _asl_sidecar(generated)
    assert sidecar["BackgroundSuppression"] is True
    times = sidecar["BackgroundSuppressionPulseTime"]
    assert times == sorted(times) and all(time >= 0 for time in times)
    assert sidecar["BackgroundSuppressionNumberPulses"] == len(times)
    if sidecar["ArterialSpinLabelingType"] == "PASL":
        assert times == [0.6, 1.5]
        assert "LabelingDuration" not in sidecar
    else:
        assert len(times) == 4 and all(time <= 3.2 for time in times)
        assert sidecar["MRAcquisitionType"] == "2D" and sidecar["M0Type"] == "Separate"


def test_the_resolved_run_states_the_optimised_times(generated):
    """The provenance records the module with its inversion times (optimised or given)."""
    provenance = json.loads((generated / "code" / "provenance" / "sub-01.json").read_text())
    text = json.dumps(provenance)
    assert '"background_suppression": {"saturation_time"' in text
    assert '"inversion_times": [' in text
