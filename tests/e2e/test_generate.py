"""`asldro generate` end to end: every layout passes all three validation layers.

Each case runs the real command line in-process (`asldro.cli.main`), which validates the
dataset with the project's own checks, pybids and bids-validator-deno (exit 16 otherwise).
"""

import json
import subprocess
import tarfile
import zipfile

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from asldro.groundtruth import builtin_ground_truth
from tests.e2e.conftest import deno, document, small

T1W = small("structural", modality="T1w")
GT = small("ground_truth")

CASES = {
    "pcasl_m0_included": document(small("asl", label_type="pcasl"), T1W, GT),
    "casl": document(small("asl", label_type="casl"), T1W, GT),
    "pasl": document(small("asl", label_type="pasl", signal_time=1.8, label_duration=0.8), T1W, GT),
    "m0_separate": document(
        small("asl", asl_context="m0scan m0scan"),
        small("asl", asl_context="control label control label"),
        T1W,
        GT,
    ),
    "m0_absent": document(small("asl", asl_context="control label"), T1W, GT),
    "m0_estimate": document(
        small("asl", asl_context="control label"), T1W, GT, image_override={"m0": 80.0}
    ),
    "label_only": document(small("asl", asl_context="label label label"), T1W, GT),
    # issue 12 item 3: the GE style (the subtraction + M0) and a CBF map alone
    "deltam_m0scan": document(small("asl", asl_context="m0scan deltam deltam"), T1W, GT),
    "cbf_only": document(small("asl", asl_context="cbf"), T1W, GT),
    "control_first": document(small("asl", asl_context="control label m0scan"), T1W, GT),
    "several_series": document(
        small("asl", label_type="pcasl"),
        small("asl", label_type="pasl", signal_time=2.0, label_duration=0.8),
        small(
            "structural",
            modality="T1w",
            acq_contrast="ir",
            inversion_time=0.9,
            repetition_time=2.5,
            excitation_flip_angle=8.0,
        ),
        small("structural", modality="T1w"),
        GT,
    ),
    # m0scan + 6 PLDs x 4 control/label pairs (one M0 for the series), motion and noise; the
    # delays t - tau include 2.8 - 1.8 (0.9999999999999998 in floating point, written 1.0)
    "multi_pld": document(
        small(
            "asl",
            asl_context="m0scan" + " control label" * 4,
            label_duration=1.8,
            signal_time=[2.05, 2.3, 2.55, 2.8, 3.05, 3.3],
            m0scan_phases="first",
            rot_z=[0.0, 0.5, 0.5, 1.0, 1.0, -0.5, -0.5, 0.2, 0.2],
            transl_x=[0.0, 0.3, 0.3, -0.3, -0.3, 0.6, 0.6, 0.0, 0.0],
            desired_snr=50.0,
        ),
        T1W,
        GT,
    ),
    # variable labelling duration (one per phase) and an m0scan in every phase (ASLDRO develop)
    "variable_ld": document(
        small(
            "asl",
            asl_context="m0scan control label control label",
            label_duration=[1.0, 1.4, 1.8],
            signal_time=[1.5, 2.4, 3.6],
        ),
        T1W,
        GT,
    ),
    # PASL with a Q2TIPS bolus cut-off: the natural bolus (1.2 s) cut at TI1 0.7 s, pulses to
    # TI1s 1.6 s, TI 1.8 s
    "pasl_q2tips": document(
        small(
            "asl",
            asl_context="m0scan control label control label",
            label_type="pasl",
            label_duration=1.2,
            signal_time=1.8,
            bolus_cut_off_technique="Q2TIPS",
            bolus_cut_off_delay_time=[0.7, 1.6],
        ),
        T1W,
        GT,
    ),
    # 2D multi-slice multi-PLD pCASL (issue 12): a separate 2D m0scan, 20 slices interleaved
    # in 2 bands of 10 (multiband 2), 3 PLDs x 2 pairs, motion and noise
    "two_d_multi_pld": document(
        small(
            "asl",
            asl_context="m0scan m0scan",
            mr_acq_type="2D",
            slice_order="interleaved",
            slice_readout_time=0.04,
            multiband_factor=2,
        ),
        small(
            "asl",
            asl_context="control label control label",
            label_duration=1.8,
            signal_time=[2.3, 2.8, 3.3],
            mr_acq_type="2D",
            slice_order="interleaved",
            slice_readout_time=0.04,
            multiband_factor=2,
            rot_x=[0.0, 1.0, 1.0, -1.0],
            transl_z=[0.0, 0.5, 0.5, 0.0],
            desired_snr=50.0,
        ),
        T1W,
        GT,
    ),
    # background suppression (issue 12): develop's default module (true: 4 inversions
    # optimised for the ground truth's T1s, the earliest 3.13 s before the excitation) on a 2D
    # multi-PLD pCASL with a separate 2D M0; every phase starts labelling before all four
    # inversions (an odd number after it would make control - label negative, with a warning)
    "bs_two_d_multi_pld": document(
        small("asl", asl_context="m0scan", mr_acq_type="2D", slice_readout_time=0.04),
        small(
            "asl",
            asl_context="control label control label",
            signal_time=[3.2, 3.6, 3.9],
            mr_acq_type="2D",
            slice_readout_time=0.04,
            background_suppression=True,
            desired_snr=50.0,
        ),
        T1W,
        GT,
    ),
    # ... and given pulses, realistic efficiency and an extra loss per pulse on a 3D PASL
    # (QUIPSS II) with its M0 included (ASLDRO develop crashes on PASL + BS)
    "bs_pasl": document(
        small(
            "asl",
            label_type="pasl",
            signal_time=1.8,
            label_duration=0.8,
            bolus_cut_off_technique="QUIPSSII",
            bolus_cut_off_delay_time=0.7,
            background_suppression={
                "sat_pulse_time": 3.0,
                "inv_pulse_times": [1.2, 0.3, 2.1, 2.4],
                "pulse_efficiency": "realistic",
                "alpha_bs_per_pulse": 0.95,
            },
        ),
        T1W,
        GT,
    ),
    # the arterial component: aBV 0.01 everywhere (aBAT = ATT - 0.3 s), four PLDs of pCASL
    "arterial": document(
        small(
            "asl",
            asl_context="m0scan control label control label",
            signal_time=[1.9, 2.2, 2.6, 3.2],
            m0scan_phases="first",
        ),
        T1W,
        GT,
        image_override={"abv": 0.01},
    ),
    "contrasts": document(
        small("asl"),
        small("structural", modality="T1w", acq_contrast="se"),
        small("structural", modality="T2w", acq_contrast="se", echo_time=0.1, repetition_time=4.0),
        small(
            "structural",
            modality="FLAIR",
            acq_contrast="ir",
            echo_time=0.1,
            repetition_time=9.0,
            inversion_time=2.5,
        ),
        small("structural", modality="T1w", acq_contrast="ge", excitation_flip_angle=10.0),
        small("structural", modality="anat"),
        small("structural", modality="T1w", output_image_type="complex"),
        GT,
    ),
}


def _write(tmp_path, doc):
    params = tmp_path / "params.json"
    params.write_text(json.dumps(doc))
    return params


@pytest.mark.parametrize("case", sorted(CASES))
def test_layout_validates(case, tmp_path, capsys):
    params = _write(tmp_path, CASES[case])
    out = tmp_path / "out"
    status = main(["generate", "--params", str(params), str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err + captured.out
    assert "raw dataset: OK" in captured.out
    assert (out / "sub-01" / "perf").is_dir()
    assert (out / "derivatives" / "groundtruth" / "sub-01").is_dir()
    assert json.loads((out / "code" / "validation.json").read_text())


def test_m0_separate_file_pairs_with_its_asl(tmp_path):
    out = tmp_path / "out"
    assert (
        main(["generate", "--params", str(_write(tmp_path, CASES["m0_separate"])), str(out)]) == 0
    )
    perf = out / "sub-01" / "perf"
    m0 = json.loads((perf / "sub-01_m0scan.json").read_text())
    asl = json.loads((perf / "sub-01_asl.json").read_text())
    assert asl["M0Type"] == "Separate"
    assert m0["IntendedFor"] in (
        "bids::sub-01/perf/sub-01_asl.nii.gz",
        ["bids::sub-01/perf/sub-01_asl.nii.gz"],
    )
    assert nib.load(perf / "sub-01_m0scan.nii.gz").shape[-1] == 2
    assert nib.load(perf / "sub-01_asl.nii.gz").shape[-1] == 4


@pytest.mark.parametrize(
    "case, m0type",
    [("pcasl_m0_included", "Included"), ("m0_absent", "Absent"), ("m0_estimate", "Estimate")],
)
def test_m0type_follows_the_files(case, m0type, tmp_path):
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                "--skip-validation",
                "--params",
                str(_write(tmp_path, CASES[case])),
                str(out),
            ]
        )
        == 0
    )
    sidecar = json.loads((out / "sub-01" / "perf" / "sub-01_asl.json").read_text())
    assert sidecar["M0Type"] == m0type
    if m0type == "Estimate":
        # the M0 signal scale of the images (issue 12): 80 times the perfusion-weighted mean
        # of exp(-TE/T2) over the ground truth (spin echo, TE 10 ms), not the bare 80; each
        # tissue of a partial-volume voxel decays with its own T2 (weights: tissue volume x CBF)
        truth = builtin_ground_truth("hrgt_icbm_2009a_nls_3t")
        volume = np.sum(truth.tissue.values, axis=(1, 2, 3), dtype=np.float64)
        flow, t2 = truth.maps["perfusion_rate"], truth.maps["t2"]
        decay = np.exp(-np.divide(0.01, t2, out=np.full(t2.shape, np.inf), where=t2 > 0))
        expected = 80.0 * float(np.sum(volume * flow * decay) / np.sum(volume * flow))
        assert sidecar["M0Estimate"] == pytest.approx(expected, rel=1e-9)
        assert sidecar["M0Estimate"] < 0.95 * 80.0


def test_defaults_validate_as_a_user_runs_it(tmp_path):
    """`asldro generate out/` on the defaults, then bids-validator-deno on raw and derivative."""
    out = tmp_path / "out"
    assert main(["generate", str(out)]) == 0
    config = ["-c", str(__import__("asldro.bids", fromlist=["x"]).__path__[0] + "/bv-config.json")]
    for dataset in (out, out / "derivatives" / "groundtruth"):
        done = subprocess.run(
            [deno(), *config, str(dataset)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout[-2000:]
    # also without the config: warnings are allowed, errors are not
    done = subprocess.run([deno(), str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_archives_hold_the_dataset(suffix, tmp_path):
    params = _write(tmp_path, CASES["m0_absent"])
    archive = tmp_path / f"dro{suffix}"
    assert main(["generate", "--params", str(params), str(archive)]) == 0
    if suffix == ".zip":
        names = zipfile.ZipFile(archive).namelist()
    else:
        with tarfile.open(archive) as tar:
            names = tar.getnames()
    names = [n.lstrip("./") for n in names]
    assert any(n.endswith("sub-01/perf/sub-01_asl.nii.gz") for n in names)
    assert any(n.endswith("dataset_description.json") for n in names)
    assert not any(".asldro-tmp" in n for n in names)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".asldro-tmp")] == []


def test_rerun_is_byte_identical(tmp_path):
    params = _write(tmp_path, CASES["pcasl_m0_included"])
    one, two = tmp_path / "one", tmp_path / "two"
    for out in (one, two):
        assert main(["generate", "--skip-validation", "--params", str(params), str(out)]) == 0
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files
    for rel in files:
        assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
