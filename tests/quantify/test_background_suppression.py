"""Background-suppressed runs (docs/quantify.md §1, §3): the control and label carry the
suppressed static signal of ``asldro.physics.background_suppression`` and ΔM its attenuation.

* ideal inversions do not attenuate ΔM: ``BackgroundSuppression: true`` needs no correction;
* with an extra efficiency X per inversion (``alpha_bs_per_pulse`` of the physics) ΔM is X**N
  low, N = BackgroundSuppressionNumberPulses: ``--bs-efficiency-per-pulse X`` multiplies α by
  X**N and returns the truth; without it CBF is X**N low;
* the option needs BackgroundSuppressionNumberPulses; it is in (0, 1]; M0Type Absent with
  background suppression is refused (the suppressed control cannot calibrate).
"""

import json
import math

import numpy as np
import pytest

from asldro.physics.background_suppression import (
    BackgroundSuppression,
    bids_pulse_timing,
    label_attenuation,
    static_mz,
)
from asldro.quantify import quantify
from tests.quantify.synthetic import LAMBDA, T1B, Protocol, read_map, truth_maps, write_dataset
from tests.quantify.test_errors import _assert_one_line_and_nothing_written, _edit_sidecar, _run

RUN = "sub-01/perf/sub-01_asl.nii.gz"
PERF = ("derivatives", "asldro-quantify", "sub-01", "perf")
TAU, PLD = 1.8, 1.8
#: inversions (s before the excitation), all after the end of labelling (PLD 1.8 s), unsorted:
#: every one acts on the whole bolus, so α_BS = X**N exactly; tissue of T1 1.3 s is suppressed
#: to about 3 % of M0
INVERSIONS = (0.4, 0.1, 1.5)
#: CBF maps are float32
RTOL = 1e-6
PER_PULSE = 0.93
TISSUE_T1 = 1.3


def _bs_physics(label_type="PCASL", per_pulse=None, first_pld=PLD):
    """The BS module, ΔM's attenuation α_BS, BIDS' pulse times and number, and the control's
    suppressed static signal over M0 (fully relaxed before the presaturation)."""
    bs = BackgroundSuppression(
        saturation_time=4.0, inversion_times=INVERSIONS, alpha_bs_per_pulse=per_pulse
    )
    kind = label_type.lower()
    signal_time = PLD if kind == "pasl" else TAU + PLD
    attenuation = label_attenuation(
        bs, label_type=kind, label_duration=TAU, signal_time=signal_time, t1_blood=T1B
    )
    times, number = bids_pulse_timing(
        kind, label_duration=TAU, post_labeling_delay=first_pld, inversion_times=INVERSIONS
    )
    static = float(static_mz(1.0, TISSUE_T1, bs))
    assert attenuation.alpha_bs is not None and 0 < static < 0.05
    return attenuation.alpha_bs, list(times), number, static


def _white_paper_exact(seed, label_type="PCASL"):
    maps = truth_maps(seed, att_range=(0.3, 0.9) if label_type == "PASL" else (0.5, 1.2))
    t1 = np.where(maps["m0"] > 0, 1.0 / (1.0 / T1B - maps["cbf"] / 6000.0 / LAMBDA), 1.0)
    return maps, t1


def _bs_dataset(root, seed, *, label_type="PCASL", per_pulse=None, plds=(PLD,), **sidecar):
    """A background-suppressed run where the white paper's model holds (single PLD), or the
    full model's multi-PLD protocol with ΔM α_BS (of PLD 1.8 s) low at every PLD; returns the
    truth maps and α_BS."""
    alpha_bs, times, number, static = _bs_physics(label_type, per_pulse, plds[0])
    maps, t1 = _white_paper_exact(seed, label_type)
    fields = {
        "BackgroundSuppression": True,
        "BackgroundSuppressionNumberPulses": number,
        "BackgroundSuppressionPulseTime": times,
        **sidecar,
    }
    protocol = Protocol(
        label_type,
        plds=plds,
        durations=0.8 if label_type == "PASL" else TAU,
        pairs=2,
        delta_m_scale=alpha_bs,
        static=static,
        sidecar=fields,
    )
    write_dataset(root, protocol, maps, t1=t1 if len(plds) == 1 else 1.3)
    return maps, alpha_bs


def _cbf(result):
    return read_map(result.maps[RUN]["cbf"])


def _sidecar(result, suffix="cbf"):
    path = result.maps[RUN][suffix]
    return json.loads(path.with_name(path.name.replace(".nii.gz", ".json")).read_text())


def test_ideal_background_suppression_needs_no_correction(tmp_path, capsys):
    """Ideal inversions: ΔM is not attenuated (α_BS 1); the control is suppressed to a few %
    of M0. The default quantification returns the truth, and says why no factor is applied."""
    maps, alpha_bs = _bs_dataset(tmp_path / "ds", 60)
    assert alpha_bs == 1.0
    status, out, err = _run(["quantify", str(tmp_path / "ds")], capsys)
    assert status == 0, err
    assert "OK (0 errors" in out
    perf = tmp_path.joinpath("ds", *PERF)
    cbf = read_map(perf / "sub-01_cbf.nii.gz")
    tissue = maps["m0"] > 0
    np.testing.assert_allclose(cbf[tissue], maps["cbf"][tissue], rtol=RTOL)
    description = json.loads((perf / "sub-01_cbf.json").read_text())["Description"]
    assert "BackgroundSuppression true" in description
    assert "no background-suppression efficiency applied" in description


@pytest.mark.parametrize("label_type", ["PCASL", "PASL"])
def test_bs_efficiency_per_pulse_returns_the_truth(label_type, tmp_path):
    maps, alpha_bs = _bs_dataset(tmp_path / "ds", 61, label_type=label_type, per_pulse=PER_PULSE)
    assert math.isclose(alpha_bs, PER_PULSE**3, rel_tol=1e-12)
    tissue = maps["m0"] > 0
    result = quantify(tmp_path / "ds", validate=False, bs_efficiency_per_pulse=PER_PULSE)
    np.testing.assert_allclose(_cbf(result)[tissue], maps["cbf"][tissue], rtol=RTOL)
    sidecar = _sidecar(result)
    assert f"--bs-efficiency-per-pulse {PER_PULSE:g}" in sidecar["Description"]
    constants = sidecar["QuantificationParameters"]["Constants"]
    assert constants["LabelingEfficiency"] == 0.85
    assert constants["BackgroundSuppressionNumberPulses"] == 3
    assert constants["BackgroundSuppressionEfficiencyPerPulse"] == PER_PULSE
    assert math.isclose(constants["BackgroundSuppressionEfficiency"], PER_PULSE**3)
    assert math.isclose(
        constants["EffectiveLabelingEfficiency"],
        constants["LabelingEfficiency"] * PER_PULSE**3,
    )
    # without the option: X**N low
    again = quantify(tmp_path / "ds", validate=False, overwrite=True)
    np.testing.assert_allclose(_cbf(again)[tissue], maps["cbf"][tissue] * PER_PULSE**3, rtol=RTOL)


def test_bs_efficiency_per_pulse_in_the_multi_pld_fit(tmp_path, capsys):
    """The fit uses α·X**N too: full-model data with ΔM X**N low, fitted with full, through the
    command line."""
    plds = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
    maps, _ = _bs_dataset(tmp_path / "ds", 62, per_pulse=PER_PULSE, plds=plds)
    argv = ["quantify", str(tmp_path / "ds"), "--model", "full", "--skip-validation"]
    status, _, err = _run([*argv, "--bs-efficiency-per-pulse", str(PER_PULSE)], capsys)
    assert status == 0, err
    perf = tmp_path.joinpath("ds", *PERF)
    tissue = maps["m0"] > 0
    for name in ("cbf", "att"):
        found = read_map(perf / f"sub-01_{name}.nii.gz")
        np.testing.assert_allclose(found[tissue], maps[name][tissue], rtol=1e-4)


def test_the_option_without_background_suppression_is_not_applied(tmp_path, capsys):
    maps, t1 = _white_paper_exact(63)
    root = tmp_path / "ds"
    write_dataset(root, Protocol(plds=(PLD,), pairs=2), maps, t1=t1)
    argv = ["quantify", str(root), "--skip-validation", "--bs-efficiency-per-pulse", "0.9"]
    status, _, err = _run(argv, capsys)
    assert status == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("asldro: warning: "), err
    assert "BackgroundSuppression" in err and "not applied" in err
    cbf = read_map(root.joinpath(*PERF, "sub-01_cbf.nii.gz"))
    tissue = maps["m0"] > 0
    np.testing.assert_allclose(cbf[tissue], maps["cbf"][tissue], rtol=RTOL)


def test_an_efficiency_of_one_needs_no_number_of_pulses(tmp_path):
    maps, _ = _bs_dataset(tmp_path / "ds", 64, BackgroundSuppressionNumberPulses=None)
    result = quantify(tmp_path / "ds", validate=False, bs_efficiency_per_pulse=1.0)
    tissue = maps["m0"] > 0
    np.testing.assert_allclose(_cbf(result)[tissue], maps["cbf"][tissue], rtol=RTOL)


@pytest.mark.parametrize("value", ["0", "-0.5", "1.01", "nan", "inf", "x"])
def test_bad_efficiency_per_pulse_is_a_usage_error(value, tmp_path, capsys):
    root = tmp_path / "ds"
    _bs_dataset(root, 65)
    status, _, err = _run(["quantify", str(root), "--bs-efficiency-per-pulse", value], capsys)
    _assert_one_line_and_nothing_written(status, err, 64, root, "--bs-efficiency-per-pulse")


@pytest.mark.parametrize("value", [0, 1.5, float("nan"), True, "0.9"])
def test_bad_efficiency_per_pulse_in_the_api(value, tmp_path):
    from asldro.exit_codes import UsageError

    root = tmp_path / "ds"
    _bs_dataset(root, 65)
    with pytest.raises(UsageError, match="--bs-efficiency-per-pulse"):
        quantify(root, validate=False, bs_efficiency_per_pulse=value)
    assert not (root / "derivatives").exists()


@pytest.mark.parametrize(
    "number, needles",
    [
        (None, ("BackgroundSuppressionNumberPulses", "missing", "--bs-efficiency-per-pulse")),
        (-1, ("BackgroundSuppressionNumberPulses", "-1", "integer >= 0")),
        (2.5, ("BackgroundSuppressionNumberPulses", "2.5", "integer >= 0")),
        ("3", ("BackgroundSuppressionNumberPulses", "'3'", "integer >= 0")),
    ],
)
def test_the_option_needs_the_number_of_pulses(number, needles, tmp_path, capsys):
    root = tmp_path / "ds"
    _bs_dataset(root, 66)
    _edit_sidecar(root, BackgroundSuppressionNumberPulses=number)
    status, _, err = _run(["quantify", str(root), "--bs-efficiency-per-pulse", "0.95"], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "sub-01_asl.json", *needles)


def test_m0_type_absent_with_background_suppression_is_refused(tmp_path, capsys):
    root = tmp_path / "ds"
    _bs_dataset(root, 67)
    _edit_sidecar(root, M0Type="Absent")
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(
        status,
        err,
        65,
        root,
        "sub-01_asl.json: M0Type",
        "Absent",
        "BackgroundSuppression",
        "suppressed",
    )


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_background_suppression_must_be_a_boolean(value, tmp_path, capsys):
    """A value that is not true or false is refused; a missing one is BIDS-invalid but read as
    false (no pulses), as before."""
    root = tmp_path / "ds"
    _bs_dataset(root, 68)
    _edit_sidecar(root, BackgroundSuppression=value)
    status, _, err = _run(["quantify", str(root), "--skip-validation"], capsys)
    if value is None:
        assert status == 0, err
        return
    _assert_one_line_and_nothing_written(
        status,
        err,
        65,
        root,
        "sub-01_asl.json: BackgroundSuppression",
        repr(value),
        "true or false",
    )
