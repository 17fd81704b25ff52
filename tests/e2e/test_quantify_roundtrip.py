"""Round trips through generated datasets (issue 11 item 6, "Must show"): ``asldro generate``
writes a noiseless multi-PLD pCASL dataset on the ground-truth grid (acq_matrix = the ground
truth's shape, no motion: every voxel is pure tissue), ``asldro quantify`` fits it.

* generated with ``full`` and fitted with ``full`` at the quantifier's assumed tissue T1
  (1.3 s): CBF and ATT within 1 % where the tissue's T1 is within 0.5 % of it; far off where it
  is not (the full model's T1 sensitivity, docs/quantify.md);
* each model fitted with the model it was generated with (``full`` with the right T1: the
  derivative's T1 map; ``consensus``; ``whitepaper``): CBF and ATT to 1e-4 (whitepaper: ATT
  only to the interval between two PLDs, whose midpoint is reported: the model does not change
  inside it);
* the arterial component (aBV 0.01 everywhere, aBAT = ATT - 0.3 s by default) fitted with
  ``--arterial``: CBF and ATT to 1e-4; aBV·exp(-aBAT/T1b) to 1e-4; aBAT only to the interval
  between two PLDs (the arterial boxcar ends between them); a tissue whose arterial window holds
  no PLD (aBAT 999.7 s) has no identifiable arterial signal: aBV 0.

The single-PLD white-paper round trips (pCASL, CASL, PASL with QUIPS II and Q2TIPS) are in
``tests/quantify/test_singlepld_roundtrip.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main

SHAPE = (10, 8, 6)
LAMBDA, T1B, TAU = 0.9, 1.65, 1.8
PLDS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
#: label: background, grey, white, deep grey, a tissue without flow (ATT 1000 s: never arrives)
CBF = (0.0, 60.0, 20.0, 45.0, 0.0)
ATT = (0.0, 0.8, 1.2, 1.0, 1000.0)
BUILTIN_T1 = (0.0, 1.33, 0.83, 1.2, 4.0)  # the 3 T built-in's grey and white matter T1
NEAR_T1 = (0.0, 1.3, 1.2935, 1.3065, 4.0)  # within 0.5 % of the quantifier's 1.3 s
TISSUES = (1, 2, 3)
RTOL = 1e-4


def _segmentation() -> np.ndarray:
    seg = np.zeros(SHAPE, dtype=np.int64)
    seg[1:-1, 1:-1, 1:-1] = 4
    seg[2:5, 2:6, 2:4] = 1
    seg[5:8, 2:6, 2:4] = 2
    seg[2:8, 2:6, 4:5] = 3
    return seg


def _generate(folder: Path, t1, model: str = "full", **global_configuration) -> Path:
    """A ground-truth file (2 x 2 x 2.5 mm) and the dataset generated from it: m0scan (TR
    1000 s, fully relaxed) then control/label at each PLD, spin echo, no noise; a ground_truth
    series on the same grid."""
    folder.mkdir(parents=True, exist_ok=True)
    seg = _segmentation()
    tables = {
        "perfusion_rate": CBF,
        "transit_time": ATT,
        "t1": t1,
        "t2": (0.0, 0.08, 0.11, 0.09, 0.3),
        "t2_star": (0.0, 0.066, 0.053, 0.06, 0.2),
        "m0": (0.0, 75.0, 65.0, 90.0, 68.0),
    }
    stack = np.stack(
        [np.asarray(values, dtype=float)[seg] for values in tables.values()] + [seg * 1.0], axis=-1
    )
    affine = np.diag([2.0, 2.0, 2.5, 1.0])
    nib.save(nib.Nifti1Image(stack[:, :, :, np.newaxis, :], affine), folder / "gt.nii.gz")
    description = {
        "quantities": [*tables, "seg_label"],
        "units": ["ml/100g/min", "s", "s", "s", "s", "", ""],
        "segmentation": {"grey_matter": 1, "white_matter": 2, "deep_grey": 3, "csf": 4},
        "parameters": {
            "lambda_blood_brain": LAMBDA,
            "t1_arterial_blood": T1B,
            "magnetic_field_strength": 3,
        },
    }
    (folder / "gt.json").write_text(json.dumps(description))
    asl = {
        "asl_context": "m0scan control label",
        "label_type": "pcasl",
        "label_duration": TAU,
        "signal_time": [round(pld + TAU, 9) for pld in PLDS],
        "m0scan_phases": "first",
        "gkm_model": model,
        "acq_matrix": list(SHAPE),
        "acq_contrast": "se",
        "desired_snr": 0,
        "echo_time": 0.01,
        "repetition_time": [1000.0, 5.0, 5.0],
    }
    document = {
        "global_configuration": {"ground_truth": "gt.nii.gz", **global_configuration},
        "image_series": [
            {"series_type": "asl", "series_parameters": asl},
            {"series_type": "ground_truth", "series_parameters": {"acq_matrix": list(SHAPE)}},
        ],
    }
    params = folder / "params.json"
    params.write_text(json.dumps(document))
    dataset = folder / "dro"
    assert main(["generate", "--skip-validation", "--params", str(params), str(dataset)]) == 0
    return dataset


def _quantify(dataset: Path, *options: str) -> dict[str, np.ndarray]:
    assert main(["quantify", str(dataset), "--skip-validation", *options]) == 0
    perf = dataset / "derivatives" / "asldro-quantify" / "sub-01" / "perf"
    return {
        path.name.split("_")[-1].split(".")[0]: np.asarray(nib.load(path).dataobj, dtype=float)
        for path in perf.glob("*.nii.gz")
    }


def _t1_map(dataset: Path) -> str:
    """The ground truth's T1 on the run's grid: the derivative's T1map."""
    anat = dataset / "derivatives" / "groundtruth" / "sub-01" / "anat"
    return str(anat / "sub-01_desc-groundtruth_T1map.nii.gz")


def _truth(values) -> np.ndarray:
    return np.asarray(values, dtype=float)[_segmentation()]


def _assert_per_tissue(found: np.ndarray, values, rtol: float, tissues=TISSUES) -> None:
    seg = _segmentation()
    for label in tissues:
        np.testing.assert_allclose(
            found[seg == label], values[label], rtol=rtol, atol=0, err_msg=f"label {label}"
        )


def test_full_fitted_with_the_assumed_tissue_t1_is_within_one_percent(tmp_path, capsys):
    """Tissue T1 within 0.5 % of the quantifier's 1.3 s: CBF and ATT within 1 % (and not
    exact off 1.3 s); with the built-in's T1 (GM 1.33 s, WM 0.83 s) the same fit is off by
    more (GM about 2 %, WM about a third): the assumed T1 matters."""
    near = _quantify(_generate(tmp_path / "near", NEAR_T1), "--model", "full")
    _assert_per_tissue(near["cbf"], CBF, 0.01)
    _assert_per_tissue(near["att"], ATT, 0.01)
    _assert_per_tissue(near["cbf"], CBF, RTOL, tissues=(1,))  # T1 = 1.3 s exactly
    seg = _segmentation()
    assert not np.allclose(near["cbf"][seg == 2], CBF[2], rtol=RTOL)
    builtin = _quantify(_generate(tmp_path / "builtin", BUILTIN_T1), "--model", "full")
    grey = builtin["cbf"][seg == 1] / CBF[1] - 1
    white = builtin["cbf"][seg == 2] / CBF[2] - 1
    assert np.all(np.abs(grey) > 0.01) and np.all(np.abs(white) > 0.2)
    capsys.readouterr()


@pytest.mark.parametrize("model", ["full", "consensus"])
def test_each_model_fitted_with_itself_is_exact(model, tmp_path):
    """full (with the ground truth's T1 map) and consensus: CBF and ATT to 1e-4 in every
    tissue voxel, 0 where there is no flow."""
    dataset = _generate(tmp_path, BUILTIN_T1, model)
    options = ["--model", model]
    if model == "full":
        options += ["--t1-tissue", _t1_map(dataset)]
    fitted = _quantify(dataset, *options)
    _assert_per_tissue(fitted["cbf"], CBF, RTOL)
    _assert_per_tissue(fitted["att"], ATT, RTOL)
    seg = _segmentation()
    assert np.all(fitted["cbf"][seg == 4] == 0) and np.all(fitted["cbf"][seg == 0] == 0)


def test_whitepaper_fitted_with_itself(tmp_path):
    """whitepaper: CBF to 1e-4; ATT to the midpoint of the PLD interval (a, b] holding it (ΔM is
    0 until PLD >= ATT and does not depend on ATT after)."""
    fitted = _quantify(_generate(tmp_path, BUILTIN_T1, "whitepaper"), "--model", "whitepaper")
    _assert_per_tissue(fitted["cbf"], CBF, RTOL)
    edges = np.array([0.0, *PLDS])
    midpoints = {}
    for label in TISSUES:
        upper = int(np.searchsorted(edges, ATT[label]))
        midpoints[label] = (edges[upper - 1] + edges[upper]) / 2
    assert midpoints == {1: 0.875, 2: 1.25, 3: 0.875}
    _assert_per_tissue(fitted["att"], midpoints, 1e-6)


def test_the_arterial_component_with_arterial_fit(tmp_path):
    """aBV 0.01, aBAT = ATT - 0.3 s (GM 0.5, WM 0.9, deep grey 0.7 s); full fitted with full,
    the right T1 and --arterial: CBF, ATT and aBV·exp(-aBAT/T1b) to 1e-4; aBAT the midpoint of
    the interval between the PLDs its window's end falls between (pCASL: the window
    [aBAT, aBAT + τ) holds the PLDs below aBAT); the no-flow tissue's aBAT of 999.7 s puts no
    PLD in its window: aBV 0 there (not identifiable)."""
    dataset = _generate(tmp_path, BUILTIN_T1, image_override={"abv": 0.01})
    fitted = _quantify(dataset, "--model", "full", "--t1-tissue", _t1_map(dataset), "--arterial")
    _assert_per_tissue(fitted["cbf"], CBF, RTOL)
    _assert_per_tissue(fitted["att"], ATT, RTOL)
    abat_truth = {label: ATT[label] - 0.3 for label in TISSUES}
    measured = fitted["abv"] * np.exp(-fitted["abat"] / T1B)
    expected = {label: 0.01 * math.exp(-abat_truth[label] / T1B) for label in TISSUES}
    _assert_per_tissue(measured, expected, RTOL)
    assert {label: round(float(np.median(fitted["abat"][_segmentation() == label])), 6)
            for label in TISSUES} == {1: 0.375, 2: 0.875, 3: 0.625}  # fmt: skip
    seg = _segmentation()
    assert np.all(fitted["abv"][seg == 4] == 0)
    truth = dataset / "derivatives" / "groundtruth" / "sub-01" / "perf"
    abat_written = np.asarray(nib.load(truth / "sub-01_desc-groundtruth_abat.nii.gz").dataobj)
    _assert_per_tissue(abat_written, abat_truth, 1e-6)
