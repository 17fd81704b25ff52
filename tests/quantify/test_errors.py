"""``asldro quantify`` on bad input: one line on stderr naming the file, field and rule, the
documented exit status (64 usage, 65 the dataset cannot be quantified, 73 the output may not be
written), no traceback, and no output left behind."""

import json

import pytest

from asldro.cli import main
from asldro.exit_codes import UsageError
from asldro.quantify import quantify
from tests.quantify.synthetic import Protocol, truth_maps, write_dataset
from tests.userdata import asldro_leftovers, make_user_bids_dataset, snapshot

OUTPUT = ("derivatives", "asldro-quantify")


def _run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _dataset(tmp_path, protocol=None, **kwargs):
    root = tmp_path / "ds"
    write_dataset(root, protocol or Protocol(plds=(1.8,), pairs=2), truth_maps(30), **kwargs)
    return root


def _sidecar(root):
    return root / "sub-01" / "perf" / "sub-01_asl.json"


def _edit_sidecar(root, **changes):
    path = _sidecar(root)
    content = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            content.pop(key, None)
        else:
            content[key] = value
    path.write_text(json.dumps(content))


def _assert_one_line_and_nothing_written(status, err, expected, root, *needles):
    assert status == expected, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("asldro: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    assert not (root / OUTPUT[0]).exists()
    assert asldro_leftovers(root) == []


def test_missing_aslcontext(tmp_path, capsys):
    root = _dataset(tmp_path)
    (root / "sub-01" / "perf" / "sub-01_aslcontext.tsv").unlink()
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "sub-01_aslcontext.tsv", "missing")


def test_pld_array_length_mismatch(tmp_path, capsys):
    root = _dataset(tmp_path)
    _edit_sidecar(root, PostLabelingDelay=[0.0, 1.8, 1.8])
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(
        status, err, 65, root, "sub-01_asl.json: PostLabelingDelay", "3 values", "5 volumes"
    )


def test_aslcontext_rows_not_matching_the_image(tmp_path, capsys):
    root = _dataset(tmp_path)
    (root / "sub-01" / "perf" / "sub-01_aslcontext.tsv").write_text(
        "volume_type\nm0scan\ncontrol\nlabel\n"
    )
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "3 rows", "5 volumes")


@pytest.mark.parametrize(
    "changes, needles",
    [
        ({"M0Type": "Bogus"}, ("M0Type", "'Bogus'")),
        ({"M0Type": None}, ("M0Type", "missing")),
        ({"M0Type": "Absent"}, ("M0Type", "Absent", "no M0")),
        ({"M0Type": "Estimate"}, ("M0Estimate",)),
        ({"ArterialSpinLabelingType": "pCASL"}, ("ArterialSpinLabelingType", "'pCASL'")),
        ({"LabelingDuration": None}, ("LabelingDuration", "missing")),
        ({"PostLabelingDelay": -1.0}, ("PostLabelingDelay", ">= 0")),
    ],
)
def test_bad_sidecar_fields(changes, needles, tmp_path, capsys):
    root = _dataset(tmp_path)
    _edit_sidecar(root, **changes)
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "sub-01_asl.json", *needles)


def test_pasl_without_bolus_cut_off(tmp_path, capsys):
    root = _dataset(tmp_path, Protocol("PASL", plds=(1.8,), durations=0.8))
    _edit_sidecar(root, BolusCutOffFlag=False, BolusCutOffTechnique=None, BolusCutOffDelayTime=None)
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "BolusCutOffFlag", "bolus")


def test_pasl_quipss_is_not_supported(tmp_path, capsys):
    root = _dataset(tmp_path, Protocol("PASL", plds=(1.8,), durations=0.8))
    _edit_sidecar(root, BolusCutOffTechnique="QUIPSS")
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "BolusCutOffTechnique", "'QUIPSS'")


def test_sidecar_that_is_not_json(tmp_path, capsys):
    root = _dataset(tmp_path)
    _sidecar(root).write_text("{not json")
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "sub-01_asl.json", "JSON")


def test_inherited_sidecar_is_read_and_named(tmp_path, capsys):
    """BIDS inheritance: a top-level asl.json supplies what the run's sidecar lacks, and an
    error in it names that file."""
    root = _dataset(tmp_path)
    _edit_sidecar(root, M0Type=None)
    (root / "asl.json").write_text(json.dumps({"M0Type": "Absent"}))
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "asl.json: M0Type", "Absent")
    assert "sub-01" not in err.split(":")[2]  # the top-level file, not the run's


def test_non_asl_dataset(tmp_path, capsys):
    root = make_user_bids_dataset(tmp_path / "user")
    before = snapshot(root)
    status, _, err = _run(["quantify", str(root)], capsys)
    assert status == 65 and "no ASL run" in err and len(err.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_not_a_bids_dataset(tmp_path, capsys):
    root = _dataset(tmp_path)
    (root / "dataset_description.json").unlink()
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "dataset_description.json")


def test_dataset_that_is_not_a_folder(tmp_path, capsys):
    status, _, err = _run(["quantify", str(tmp_path / "nowhere")], capsys)
    assert status == 64 and "not a folder" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--lambda", "-0.9"],
        ["--t1-blood", "nan"],
        ["--model", "buxton"],
        ["--labeling-efficiency", "x"],
        ["--participant-label", "a_b"],
    ],
)
def test_bad_options_are_usage_errors(argv, tmp_path, capsys):
    root = _dataset(tmp_path)
    status, _, err = _run(["quantify", str(root), *argv], capsys)
    _assert_one_line_and_nothing_written(status, err, 64, root)


def test_unknown_participant(tmp_path, capsys):
    root = _dataset(tmp_path)
    status, _, err = _run(["quantify", str(root), "--participant-label", "02"], capsys)
    _assert_one_line_and_nothing_written(status, err, 64, root, "sub-02")


def test_unknown_field_strength_needs_t1_blood(tmp_path, capsys):
    root = _dataset(tmp_path)
    _edit_sidecar(root, MagneticFieldStrength=2.0)
    status, _, err = _run(["quantify", str(root)], capsys)
    _assert_one_line_and_nothing_written(
        status, err, 65, root, "MagneticFieldStrength", "--t1-blood"
    )
    status, _, err = _run(["quantify", str(root), "--t1-blood", "1.5", "--skip-validation"], capsys)
    assert status == 0, err


def test_arterial_needs_four_plds(tmp_path, capsys):
    root = _dataset(tmp_path, Protocol(plds=(0.5, 1.0, 1.5)))
    status, _, err = _run(["quantify", str(root), "--arterial", "--model", "full"], capsys)
    _assert_one_line_and_nothing_written(status, err, 65, root, "--arterial", "3")


def test_output_folder_with_user_files_is_refused_and_untouched(tmp_path, capsys):
    root = _dataset(tmp_path)
    target = root.joinpath(*OUTPUT)
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("my own analysis")
    before = snapshot(root)
    for extra in ([], ["--overwrite"]):
        status, _, err = _run(["quantify", str(root), *extra], capsys)
        assert status == 73 and "not an asldro quantify derivative" in err, err
        assert len(err.strip().splitlines()) == 1
        assert snapshot(root) == before


def test_another_asldro_dataset_is_not_replaced(tmp_path, capsys):
    """The ground-truth derivative is asldro's but not asldro quantify's: never replaced."""
    dataset = tmp_path / "dro"
    assert main(["generate", "--skip-validation", str(dataset)]) == 0
    before = snapshot(dataset)
    capsys.readouterr()
    gt = dataset / "derivatives" / "groundtruth"
    status, _, err = _run(
        ["quantify", str(dataset), "--output-dir", str(gt), "--overwrite"], capsys
    )
    assert status == 73 and "not an asldro quantify derivative" in err
    assert snapshot(dataset) == before


@pytest.mark.parametrize("where", [(), ("sub-01",), ("code", "quant")])
def test_output_inside_the_dataset_must_be_a_derivative(where, tmp_path, capsys):
    root = _dataset(tmp_path)
    before = snapshot(root)
    status, _, err = _run(
        ["quantify", str(root), "--output-dir", str(root.joinpath(*where))], capsys
    )
    assert status == 64 and "derivatives/<name>" in err, err
    assert snapshot(root) == before


def test_output_that_cannot_be_created(tmp_path, capsys):
    root = _dataset(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, _, err = _run(["quantify", str(root), "--output-dir", str(blocker / "q")], capsys)
    assert status == 73 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", [True, False])
def test_api_t1_tissue_bool_is_a_usage_error(value, tmp_path):
    """A bool is not a number of seconds (as for the other numeric options) nor a path: it is a
    UsageError naming --t1-tissue, not a TypeError from pathlib, and nothing is written."""
    root = _dataset(tmp_path)
    with pytest.raises(UsageError, match=r"--t1-tissue: expected a number > 0, got (True|False)"):
        quantify(root, validate=False, t1_tissue=value)
    assert not (root / OUTPUT[0]).exists()
    assert asldro_leftovers(root) == []
