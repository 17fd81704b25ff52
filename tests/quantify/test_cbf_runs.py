"""Runs whose aslcontext has ``cbf`` volumes (the scanner's own CBF maps, e.g. GE), ``deltam``
volumes with an M0 (the GE style of ΔM + M0) and ``noRF`` volumes (docs/quantify.md §1, §2 cbf runs):

* a run with cbf volumes and no control/label/deltam volume is quantified as the mean of its
  cbf volumes (no M0, no constants, no kinetic model), ``Units`` mL/100g/min required;
* cbf volumes beside control/label or deltam volumes are ignored with one warning (the ΔM is
  quantified); cbf volumes of several PLDs are refused (one CBF map per run);
* noRF volumes are ignored, and the Description says so;
* a deltam + m0scan single-PLD run where the white paper's model holds round-trips.
"""

import json

import numpy as np
import pytest

from asldro.cli import main
from asldro.quantify import quantify
from tests.quantify.synthetic import (
    ALPHA,
    LAMBDA,
    T1B,
    Protocol,
    read_map,
    tissue_delta_m,
    truth_maps,
    write_dataset,
)
from tests.quantify.test_errors import _assert_one_line_and_nothing_written, _edit_sidecar, _run

RUN = "sub-01/perf/sub-01_asl.nii.gz"
PERF = ("derivatives", "asldro-quantify", "sub-01", "perf")
#: cbf volumes CBF * (1 + d): their mean is the truth, their median and first are not.
DEVIATIONS = (0.1, -0.3, 0.2)
CBF_UNITS = {"Units": "mL/100g/min"}
#: CBF maps are float32
RTOL = 1e-6


def _cbf_protocol(**changes):
    settings = {
        "plds": (1.8,),
        "pairs": 0,
        "m0_volumes": 0,
        "cbf": DEVIATIONS,
        "sidecar": dict(CBF_UNITS),
    }
    settings.update(changes)
    return Protocol(**settings)


def _sidecar_of(root, suffix="cbf"):
    return json.loads(root.joinpath(*PERF, f"sub-01_{suffix}.json").read_text())


def test_a_cbf_run_is_the_mean_of_its_cbf_volumes(tmp_path, capsys):
    """Through the command line, validated; no M0 (M0Type Absent), and no MagneticFieldStrength
    (the constants play no part, so T1 of blood needs no default)."""
    maps = truth_maps(50)
    root = tmp_path / "ds"
    protocol = _cbf_protocol(sidecar={**CBF_UNITS, "MagneticFieldStrength": None})
    write_dataset(root, protocol, maps)
    status, out, err = _run(["quantify", str(root)], capsys)
    assert status == 0, err
    assert err == ""
    assert "derivative dataset derivatives/asldro-quantify: OK (0 errors" in out
    cbf = read_map(root.joinpath(*PERF, "sub-01_cbf.nii.gz"))
    np.testing.assert_allclose(cbf, maps["cbf"], rtol=RTOL, atol=0)
    sidecar = _sidecar_of(root)
    assert sidecar["Units"] == "mL/100g/min"
    assert "mean of the run's 3 cbf volumes" in sidecar["Description"]
    assert "no M0" in sidecar["Description"]
    parameters = sidecar["QuantificationParameters"]
    assert parameters["QuantificationMethod"] == "mean of the cbf volumes"
    assert parameters["CbfVolumes"] == 3
    assert not root.joinpath(*PERF, "sub-01_att.nii.gz").exists()


def test_a_cbf_run_of_a_pasl_2d_acquisition_needs_no_bolus_cut_off(tmp_path):
    """The cbf volumes are CBF already: the PASL bolus cut-off and SliceTiming that ΔM needs
    play no part (nothing is recomputed per slice)."""
    maps = truth_maps(51)
    protocol = _cbf_protocol(
        label_type="PASL",
        durations=0.8,
        sidecar={
            **CBF_UNITS,
            "BolusCutOffFlag": False,
            "BolusCutOffTechnique": None,
            "BolusCutOffDelayTime": None,
            "MRAcquisitionType": "2D",
            "SliceTiming": [0.0, 0.05, 0.1],
        },
    )
    write_dataset(tmp_path / "ds", protocol, maps)
    result = quantify(tmp_path / "ds", validate=False)
    cbf = read_map(result.maps[RUN]["cbf"])
    np.testing.assert_allclose(cbf, maps["cbf"], rtol=RTOL, atol=0)


@pytest.mark.parametrize("units", ["ml/100g/min", "mL/100 g/min"])
def test_cbf_units_in_another_spelling_of_the_same_unit(units, tmp_path):
    maps = truth_maps(52)
    write_dataset(tmp_path / "ds", _cbf_protocol(sidecar={"Units": units}), maps)
    result = quantify(tmp_path / "ds", validate=False)
    np.testing.assert_allclose(read_map(result.maps[RUN]["cbf"]), maps["cbf"], rtol=RTOL)


@pytest.mark.parametrize(
    "units, needles",
    [
        (None, ("Units", "missing", "mL/100g/min")),
        ("mL/g/s", ("Units", "'mL/g/s'", "mL/100g/min")),
        (60, ("Units", "60", "mL/100g/min")),
    ],
)
def test_a_cbf_run_needs_units_ml_100g_min(units, needles, tmp_path, capsys):
    root = tmp_path / "ds"
    write_dataset(root, _cbf_protocol(), truth_maps(53))
    _edit_sidecar(root, Units=units)
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "sub-01_asl.json", *needles)


def test_cbf_volumes_of_several_plds_are_refused(tmp_path, capsys):
    root = tmp_path / "ds"
    write_dataset(root, _cbf_protocol(plds=(1.5, 2.0)), truth_maps(54))
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(
        status, err, 65, root, "sub-01_asl.json: PostLabelingDelay", "cbf", "1.5", "2"
    )


def _white_paper_exact(seed):
    """Truth maps whose transit times are below the PLD 1.8 s (the label has arrived), and a
    tissue T1 per voxel with T1app = T1b: the white paper's formula is exact."""
    maps = truth_maps(seed, att_range=(0.5, 1.2))
    t1 = np.where(maps["m0"] > 0, 1.0 / (1.0 / T1B - maps["cbf"] / 6000.0 / LAMBDA), 1.0)
    return maps, t1


@pytest.mark.parametrize("deltam", [False, True])
def test_cbf_volumes_beside_the_delta_m_are_ignored_with_one_warning(deltam, tmp_path, capsys):
    """The cbf volumes hold CBF * (1 + d), far from the truth: the result is the ΔM's."""
    maps, t1 = _white_paper_exact(55)
    root = tmp_path / "ds"
    protocol = Protocol(plds=(1.8,), pairs=2, deltam=deltam, cbf=(4.0, 9.0), sidecar=CBF_UNITS)
    write_dataset(root, protocol, maps, t1=t1)
    status, _, err = _run(["quantify", str(root), "--skip-validation"], capsys)
    assert status == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("asldro: warning: "), err
    assert "2 cbf volume(s)" in err and "ignored" in err and RUN in err
    cbf = read_map(root.joinpath(*PERF, "sub-01_cbf.nii.gz"))
    tissue = maps["m0"] > 0
    np.testing.assert_allclose(cbf[tissue], maps["cbf"][tissue], rtol=RTOL)
    assert "2 cbf volume(s) of the run are not used" in _sidecar_of(root)["Description"]


def test_norf_volumes_are_ignored_and_noted(tmp_path):
    maps, t1 = _white_paper_exact(56)
    write_dataset(tmp_path / "ds", Protocol(plds=(1.8,), pairs=2, norf=2), maps, t1=t1)
    result = quantify(tmp_path / "ds", validate=False)
    cbf = read_map(result.maps[RUN]["cbf"])
    tissue = maps["m0"] > 0
    np.testing.assert_allclose(cbf[tissue], maps["cbf"][tissue], rtol=RTOL)
    description = json.loads(
        result.maps[RUN]["cbf"].with_suffix("").with_suffix(".json").read_text()
    )["Description"]
    assert "2 noRF volume(s)" in description and "not used" in description


def test_norf_volumes_beside_cbf_volumes_are_ignored_and_noted(tmp_path):
    maps = truth_maps(57)
    write_dataset(tmp_path / "ds", _cbf_protocol(norf=1), maps)
    result = quantify(tmp_path / "ds", validate=False)
    np.testing.assert_allclose(read_map(result.maps[RUN]["cbf"]), maps["cbf"], rtol=RTOL)
    sidecar = json.loads(result.maps[RUN]["cbf"].with_suffix("").with_suffix(".json").read_text())
    assert "1 noRF volume(s)" in sidecar["Description"]


def test_deltam_and_m0scan_single_pld_round_trip(tmp_path, capsys):
    """The GE style: one deltam volume per PLD and an m0scan, ΔM from the white paper's own
    model (arrived regime), through the command line with validation: CBF to float32 precision."""
    maps = truth_maps(58, att_range=(0.5, 1.2))
    root = tmp_path / "ds"
    write_dataset(root, Protocol(plds=(1.8,), pairs=1, deltam=True), maps, model="whitepaper")
    # the model of the data is the formula's: exact (the check of the model, not the quantifier)
    dm = tissue_delta_m("whitepaper", "pcasl", maps["cbf"], maps["att"], 1.3, maps["m0"], 1.8, 3.6)
    assert np.all(dm[maps["m0"] > 0] > 0) and ALPHA == 0.85
    status, out, err = _run(["quantify", str(root)], capsys)
    assert status == 0, err
    assert "OK (0 errors" in out
    cbf = read_map(root.joinpath(*PERF, "sub-01_cbf.nii.gz"))
    tissue = maps["m0"] > 0
    np.testing.assert_allclose(cbf[tissue], maps["cbf"][tissue], rtol=RTOL)
    assert np.all(cbf[~tissue] == 0)
    assert "1 deltam" in _sidecar_of(root)["Description"]
