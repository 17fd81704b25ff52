"""Bad input to ``asldro score`` (docs/score.md §6): one line on stderr naming the problem,
the documented exit status, no traceback and nothing written."""

import json
import sys

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from tests.scoring import datasets


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return datasets.generate_block_dataset(tmp_path_factory.mktemp("blocks"))


@pytest.fixture()
def good_map(tmp_path):
    expected = datasets.expected_truth(3, (0, 0, 0), (8, 8, 4))
    return datasets.write_map(tmp_path / "sub-01_cbf.nii.gz", expected["cbf"], datasets.affine(3.0))


def _fails(capsys, argv, status, *words):
    capsys.readouterr()
    assert main(argv) == status
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("asldro: error: ")
    assert "Traceback" not in captured.err
    for word in words:
        assert word in lines[0]
    return lines[0]


def _nothing_written(dataset, out):
    assert not (dataset / "derivatives/asldro-score").exists()
    assert not out.exists()


def _shifted(path, good_map, shift=(0.0, 0.0, 0.0), code=1, values=None):
    image = nib.load(good_map)
    matrix = image.affine.copy()
    matrix[:3, 3] += shift
    data = np.asarray(image.dataobj) if values is None else values
    out = nib.Nifti1Image(data, matrix)
    out.header.set_sform(matrix, code=code)
    out.header.set_qform(matrix, code=code)
    nib.save(out, path)
    return path


@pytest.mark.parametrize(
    "make, extra, status, words",
    [
        (lambda t, g: t / "missing_cbf.nii.gz", [], 64, ["no such file"]),
        (lambda t, g: _shifted(t / "map.nii.gz", g), [], 64, ["--quantity"]),
        (lambda t, g: g, ["--quantity", "abv"], 65, ["no ground truth of abv"]),
        (lambda t, g: g, ["--quantity", "t1"], 64, ["--quantity", "invalid choice"]),
        (lambda t, g: g, ["--purity", "1.5"], 64, ["--purity", "(0, 1]"]),
        (lambda t, g: g, ["--purity", "0"], 64, ["--purity"]),
        (lambda t, g: g, ["--participant-label", "02"], 64, ["sub-01", "sub-02"]),
        (
            lambda t, g: _shifted(t / "sub-01_cbf.nii.gz", g, shift=(1000.0, 0, 0)),
            [],
            65,
            ["field of view"],
        ),
        (
            lambda t, g: _shifted(t / "sub-01_cbf.nii.gz", g, code=4),
            [],
            65,
            ["world space", "xform code 4"],
        ),
        (
            lambda t, g: _shifted(t / "sub-01_cbf.nii.gz", g, values=np.zeros((8, 8, 4, 2))),
            [],
            65,
            ["3-D volume"],
        ),
        (  # a small map over background only: no region voxel
            lambda t, g: datasets.write_map(
                t / "sub-01_cbf.nii.gz", np.ones((2, 2, 2)), datasets.affine(3.0)
            ),
            [],
            65,
            ["no voxel to score"],
        ),
        (
            lambda t, g: datasets.write_map(
                t / "sub-01_cbf.nii.gz",
                np.ones((8, 8, 4)),
                datasets.affine(3.0),
                Units="mL/g/s",
            ),
            [],
            65,
            ["Units", "mL/g/s"],
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    dataset, good_map, tmp_path, capsys, make, extra, status, words
):
    (tmp_path / "bad").mkdir()
    path = make(tmp_path / "bad", good_map)
    out = tmp_path / "scores"
    argv = ["score", str(dataset), str(path), "--output-dir", str(out), "--skip-validation"]
    _fails(capsys, argv + extra, status, *words)
    _nothing_written(dataset, out)


def test_not_a_nifti_is_refused(dataset, tmp_path, capsys):
    path = tmp_path / "sub-01_cbf.nii.gz"
    path.write_bytes(b"not an image")
    _fails(capsys, ["score", str(dataset), str(path)], 65, "not a readable NIfTI")
    _nothing_written(dataset, tmp_path / "none")


def test_a_dataset_without_ground_truth_is_refused(tmp_path, good_map, capsys):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "dataset_description.json").write_text(
        json.dumps({"Name": "x", "BIDSVersion": "1.10.1"})
    )
    _fails(capsys, ["score", str(folder), str(good_map)], 65, "no ground truth")
    assert sorted(p.name for p in folder.iterdir()) == ["dataset_description.json"]
    _fails(capsys, ["score", str(tmp_path / "nothing"), str(good_map)], 64, "not a folder")


def test_plots_without_matplotlib_is_a_usage_error(dataset, good_map, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    _fails(capsys, ["score", str(dataset), str(good_map), "--plots"], 64, "matplotlib", "[plots]")
    _nothing_written(dataset, dataset / "none")


def test_the_output_rules_of_quantify(dataset, good_map, tmp_path, capsys):
    """A folder of someone else's is refused; an earlier score is replaced only with
    --overwrite."""
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("my notes")
    base = ["score", str(dataset), str(good_map), "--skip-validation", "--output-dir"]
    _fails(capsys, [*base, str(foreign)], 73, "not an asldro score derivative")
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    out = tmp_path / "scores"
    assert main([*base, str(out)]) == 0
    _fails(capsys, [*base, str(out)], 73, "--overwrite")
    assert main([*base, str(out), "--overwrite"]) == 0
    (out / "mine.txt").write_text("a file asldro did not write")
    _fails(capsys, [*base, str(out), "--overwrite"], 73)
    assert (out / "mine.txt").read_text() == "a file asldro did not write"
    _fails(capsys, [*base, str(dataset / "sub-01")], 64, "derivatives/<name>")


def test_two_maps_with_one_output_name_are_refused(dataset, good_map, tmp_path, capsys):
    other = tmp_path / "other" / good_map.name
    other.parent.mkdir()
    other.write_bytes(good_map.read_bytes())
    out = tmp_path / "scores"
    argv = ["score", str(dataset), str(good_map), str(other), "--output-dir", str(out)]
    _fails(capsys, argv, 64, "different --output-dir")
    assert not out.exists()
