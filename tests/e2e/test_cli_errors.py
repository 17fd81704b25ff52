"""`asldro` command-line errors: one line, the documented exit status, nothing left behind."""

import json

import pytest

from asldro.cli import main
from tests.e2e.conftest import document, small


def _run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_bad_parameter_file_is_one_line_exit_65_and_no_output(tmp_path, capsys):
    params = tmp_path / "p.json"
    params.write_text(json.dumps(document(small("asl", snr=5))))
    out = tmp_path / "out"
    status, _, err = _run(["generate", "--params", str(params), str(out)], capsys)
    assert status == 65
    assert len(err.strip().splitlines()) == 1
    assert "snr" in err and "desired_snr" in err
    assert not out.exists()


def test_invalid_json_names_the_file(tmp_path, capsys):
    params = tmp_path / "broken.json"
    params.write_text('{"global_configuration": ')
    status, _, err = _run(["generate", "--params", str(params), str(tmp_path / "out")], capsys)
    assert status == 65 and "broken.json" in err


def test_non_empty_output_needs_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    status, _, err = _run(["generate", "--skip-validation", str(out)], capsys)
    assert status == 73 and "--overwrite" in err
    assert (out / "keep.txt").read_text() == "precious"


def test_output_under_a_file_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, _, err = _run(["generate", str(blocker / "out")], capsys)
    assert status == 73 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["generate"],
        ["bogus"],
        ["output"],
        ["output", "hrgt"],
        ["generate", "x", "--seed", "-1"],
    ],
)
def test_usage_errors_exit_64(argv, capsys):
    status, _, err = _run(argv, capsys)
    assert status == 64
    assert err.strip()


def test_unknown_ground_truth_name_is_usage_error(tmp_path, capsys):
    status, _, err = _run(["output", "hrgt", "nope", str(tmp_path)], capsys)
    assert status == 64 and "hrgt_icbm_2009a_nls_3t" in err


def test_bad_participant_label_exits_64_before_writing(tmp_path, capsys):
    out = tmp_path / "out"
    status, _, _ = _run(["generate", str(out), "--participant-label", "../x"], capsys)
    assert status == 64 and not out.exists()


def test_output_params_writes_portable_defaults(tmp_path, capsys):
    target = tmp_path / "defaults.json"
    status, _, _ = _run(["output", "params", str(target)], capsys)
    assert status == 0
    doc = json.loads(target.read_text())
    assert doc["global_configuration"]["ground_truth"] == "hrgt_icbm_2009a_nls_3t"
    assert [s["series_type"] for s in doc["image_series"]] == ["asl", "ground_truth", "structural"]
    assert "/" not in json.dumps(doc["global_configuration"])


def test_output_hrgt_writes_a_loadable_ground_truth(tmp_path, capsys):
    status, _, _ = _run(["output", "hrgt", "hrgt_icbm_2009a_nls_1.5t", str(tmp_path)], capsys)
    assert status == 0
    from asldro.groundtruth import read_ground_truth

    gt = read_ground_truth(
        tmp_path / "hrgt_icbm_2009a_nls_1.5t.nii.gz", tmp_path / "hrgt_icbm_2009a_nls_1.5t.json"
    )
    assert gt.parameters["magnetic_field_strength"] == 1.5
    assert gt.maps["t1"][gt.segmentation["csf"]] == pytest.approx(2.06)


def test_help_and_version_exit_0(capsys):
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "asldro" in capsys.readouterr().out
