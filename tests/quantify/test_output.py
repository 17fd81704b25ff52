"""The quantifier's derivative: where it goes, what is in it, and how it is replaced (only what
asldro wrote, only with --overwrite)."""

import json

import numpy as np

from asldro.bids.validate import validate_dataset
from asldro.cli import main
from asldro.quantify import quantify
from tests.quantify.synthetic import Protocol, read_map, truth_maps, write_dataset
from tests.userdata import asldro_leftovers, snapshot

DERIVATIVE = ("derivatives", "asldro-quantify")


def _dataset(tmp_path, name="ds", seed=40, protocol=None):
    root = tmp_path / name
    write_dataset(root, protocol or Protocol(plds=(1.8,), pairs=2), truth_maps(seed))
    return root


def test_derivative_layout_and_description(tmp_path):
    root = _dataset(tmp_path, protocol=Protocol())
    result = quantify(root, model="full", validate=False)
    target = root.joinpath(*DERIVATIVE)
    assert result.output == target
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [
        ".bidsignore",
        "README.md",
        "code/provenance/files.json",
        "dataset_description.json",
        "sub-01/perf/sub-01_att.json",
        "sub-01/perf/sub-01_att.nii.gz",
        "sub-01/perf/sub-01_cbf.json",
        "sub-01/perf/sub-01_cbf.nii.gz",
    ]
    description = json.loads((target / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    (generator,) = description["GeneratedBy"]
    version = (__import__("pathlib").Path(__file__).parents[2] / "version").read_text().strip()
    assert generator["Name"] == "asldro" and generator["Version"] == version
    assert description["DatasetLinks"] == {"raw": "../../"}
    att = json.loads((target / "sub-01/perf/sub-01_att.json").read_text())
    assert att["Units"] == "s" and att["SkullStripped"] is False
    for constant in ("λ = 0.9", "1.65 s", "α = 0.85", "tissue T1 1.3 s"):
        assert constant in att["Description"]
    assert result.paths == [
        target / "sub-01/perf/sub-01_att.nii.gz",
        target / "sub-01/perf/sub-01_cbf.nii.gz",
    ]


def test_the_raw_dataset_with_its_derivative_validates(tmp_path):
    """Validated as part of the raw dataset too (asldro validate DATASET)."""
    root = _dataset(tmp_path, protocol=Protocol())
    quantify(root, model="full", validate=False)
    report = validate_dataset(root)
    names = [d.name for d in report.datasets]
    assert "derivatives/asldro-quantify" in names
    derivative = report.datasets[names.index("derivatives/asldro-quantify")]
    assert derivative.errors == [] and derivative.warnings == [], derivative.findings


def test_output_dir_outside_the_dataset(tmp_path, capsys):
    root = _dataset(tmp_path)
    out = tmp_path / "elsewhere" / "quant"
    assert main(["quantify", str(root), "--output-dir", str(out)]) == 0
    assert "OK (0 errors" in capsys.readouterr().out
    assert not (root / "derivatives").exists()
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["DatasetLinks"]["raw"] == root.resolve().as_uri() + "/"
    assert (out / "sub-01/perf/sub-01_cbf.nii.gz").is_file()


def test_an_earlier_result_is_replaced_only_with_overwrite(tmp_path, capsys):
    root = _dataset(tmp_path)
    assert main(["quantify", str(root), "--skip-validation"]) == 0
    cbf = root.joinpath(*DERIVATIVE, "sub-01/perf/sub-01_cbf.nii.gz")
    first = read_map(cbf)
    before = snapshot(root)
    assert main(["quantify", str(root), "--skip-validation", "--lambda", "0.98"]) == 73
    assert "--overwrite" in capsys.readouterr().err
    assert snapshot(root) == before
    assert (
        main(["quantify", str(root), "--skip-validation", "--overwrite", "--lambda", "0.98"]) == 0
    )
    second = read_map(cbf)
    tissue = first > 0
    np.testing.assert_allclose(second[tissue] / first[tissue], 0.98 / 0.9, rtol=1e-6)
    assert asldro_leftovers(root) == []


def test_overwrite_keeps_a_file_asldro_did_not_write(tmp_path, capsys):
    root = _dataset(tmp_path)
    assert main(["quantify", str(root), "--skip-validation"]) == 0
    mine = root.joinpath(*DERIVATIVE, "sub-01", "perf", "my_notes.txt")
    mine.write_text("do not delete")
    before = snapshot(root)
    assert main(["quantify", str(root), "--skip-validation", "--overwrite"]) == 73
    err = capsys.readouterr().err
    assert "did not write" in err and "my_notes.txt" in err
    assert snapshot(root) == before


def test_generate_overwrite_replaces_a_dataset_with_its_quantification(tmp_path, capsys):
    """asldro's own quantify derivative inside an asldro dataset is asldro's: `asldro generate
    --overwrite` may replace the dataset (it refused before: "files asldro did not write")."""
    dataset = tmp_path / "dro"
    assert main(["generate", "--skip-validation", str(dataset)]) == 0
    assert main(["quantify", str(dataset), "--skip-validation"]) == 0
    capsys.readouterr()
    assert (
        main(["generate", "--skip-validation", "--overwrite", str(dataset)]) == 0
    ), capsys.readouterr().err
    assert not dataset.joinpath(*DERIVATIVE).exists()
    assert (dataset / "sub-01" / "perf" / "sub-01_asl.nii.gz").is_file()


def test_participant_selection_and_sessions(tmp_path):
    root = _dataset(tmp_path)
    write_dataset(root, Protocol(plds=(1.8,)), truth_maps(41), subject="02")
    session = root / "sub-02" / "ses-1" / "perf"
    session.mkdir(parents=True)
    for path in (root / "sub-02" / "perf").iterdir():
        path.rename(session / path.name.replace("sub-02_", "sub-02_ses-1_"))
    (root / "sub-02" / "perf").rmdir()
    result = quantify(root, validate=False, participant_labels=["sub-02"])
    assert list(result.maps) == ["sub-02/ses-1/perf/sub-02_ses-1_asl.nii.gz"]
    assert result.paths == [root.joinpath(*DERIVATIVE, "sub-02/ses-1/perf/sub-02_ses-1_cbf.nii.gz")]


def test_tissue_t1_with_another_model_is_a_warning(tmp_path, capsys):
    root = _dataset(tmp_path)
    status = main(["quantify", str(root), "--skip-validation", "--t1-tissue", "1.4"])
    err = capsys.readouterr().err
    assert status == 0 and err.count("\n") == 1
    assert "asldro: warning: --t1-tissue is used by --model full only" in err
