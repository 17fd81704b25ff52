"""A dataset from a subject-specific ground truth (issue 13 item 4) through the ``asldro`` command
line: relative paths against the parameter file, the three validation layers, and bad input
refused with one line and exit 65 before anything is written."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from tests.e2e.conftest import small
from tests.subject_data import (
    CBF_LEFT,
    CBF_RIGHT,
    PROBSEG_AFFINE,
    PROBSEG_SHAPE,
    SPOILT,
    probabilities,
    world_coordinates,
    write_bids,
    write_cbf_map,
    write_spoilt,
)


def _params(folder, ground_truth) -> str:
    """A parameter file in ``folder`` with a noiseless asl series, the ground truth at its own
    grid and a structural series."""
    document = {
        "global_configuration": {"ground_truth": ground_truth},
        "image_series": [
            small("asl", asl_context="m0scan control label", desired_snr=0),
            small("ground_truth", acq_matrix=list(PROBSEG_SHAPE)),
            small("structural", acq_matrix=[20, 24, 20]),
        ],
    }
    path = folder / "params.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_a_bids_derivative_and_a_rotated_cbf_map_give_a_valid_dataset(tmp_path, capsys):
    study = tmp_path / "study"
    write_bids(study / "derivatives" / "fmriprep", "07")
    write_cbf_map(study / "maps" / "cbf.nii.gz")
    params = _params(
        study,
        {
            "probseg": {"folder": "derivatives/fmriprep", "participant": "07"},
            "maps": {"perfusion_rate": "maps/cbf.nii.gz"},
        },
    )
    out = tmp_path / "out"
    status = main(["generate", "--params", params, str(out)])  # validates: own, pybids, deno
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert printed.count("OK (0 errors, 0 warnings) [own, pybids, bids-validator-deno") >= 2
    resolved = json.loads((out / "code" / "sub-01_dro_params.json").read_text())
    probseg = resolved["global_configuration"]["ground_truth"]["probseg"]
    assert probseg["GM"] == str(
        study / "derivatives/fmriprep/sub-07/anat/sub-07_label-GM_probseg.nii.gz"
    )
    described = (out / "dataset_description.json").read_text()
    assert "probseg maps in anat" in described and str(tmp_path) not in described
    derivative = out / "derivatives" / "groundtruth" / "sub-01"
    gm = nib.load(derivative / "anat" / "sub-01_label-GM_desc-groundtruth_probseg.nii.gz")
    np.testing.assert_allclose(gm.affine, PROBSEG_AFFINE, atol=1e-6)
    np.testing.assert_allclose(gm.get_fdata(), probabilities()["GM"], atol=1e-6)
    cbf = nib.load(derivative / "perf" / "sub-01_desc-groundtruth_cbf.nii.gz").get_fdata()
    world = world_coordinates(PROBSEG_SHAPE, PROBSEG_AFFINE)
    head = np.linalg.norm(world, axis=0) < 32
    np.testing.assert_allclose(cbf[head & (world[0] > 4)], CBF_RIGHT, rtol=1e-6)
    np.testing.assert_allclose(cbf[head & (world[0] < -4)], CBF_LEFT, rtol=1e-6)
    # the map reaches the simulated signal: control - label is larger where CBF is
    asl = nib.load(out / "sub-01" / "perf" / "sub-01_asl.nii.gz").get_fdata()
    delta_m = asl[..., 1] - asl[..., 2]
    half = delta_m.shape[0] // 2
    assert delta_m[half + 2 :].sum() > 2.0 * delta_m[: half - 2].sum() > 0


@pytest.mark.parametrize(("problem", "words"), SPOILT.items())
def test_bad_images_exit_65_with_one_line_and_no_output(tmp_path, capsys, problem, words):
    params = _params(tmp_path, write_spoilt(tmp_path, problem))
    out = tmp_path / "out"
    status = main(["generate", "--params", params, str(out)])
    err = capsys.readouterr().err
    assert status == 65, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "global_configuration.ground_truth." in err
    assert all(word in err for word in words), err
    assert not out.exists()


@pytest.mark.parametrize(
    ("ground_truth", "word"),
    [
        ({"probseg": {"folder": "fast"}, "maps": {"t1": "absent.nii.gz"}}, "does not exist"),
        ({"probseg": {"folder": "fast"}, "values": {"t1": {"GX": 1.0}}}, "values.t1.GX"),
        ({"probseg": {"folder": "fast"}, "maps": {"att": "cbf.nii.gz"}}, "maps.att"),
        ({"probseg": {"folder": "empty"}}, "no complete set"),
    ],
)
def test_bad_parameters_exit_65_with_one_line_and_no_output(tmp_path, capsys, ground_truth, word):
    write_spoilt(tmp_path, "none")
    (tmp_path / "empty").mkdir()
    params = _params(tmp_path, ground_truth)
    out = tmp_path / "out"
    status = main(["generate", "--params", params, str(out)])
    err = capsys.readouterr().err
    assert status == 65, err
    assert len(err.strip().splitlines()) == 1 and word in err
    assert not out.exists()
