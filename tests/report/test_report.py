"""The report (issue 15; docs/report.md): where it goes, what it shows (read back from the
written dataset and checked against the data), when it is written, and that it never replaces a
file asldro did not write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro.bids.validate import validate_dataset
from asldro.cli import main
from asldro.report.html import VALIDATION_END, VALIDATION_START
from asldro.report.reading import read_participant
from bids_app.cli import main as run_py
from tests.report.conftest import MOTION

REPORT = Path("derivatives") / "asldro-report"
ROOT = Path(__file__).resolve().parents[2]


def _section(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return text[text.index(VALIDATION_START) : text.index(VALIDATION_END)]


def test_generate_writes_a_validated_report_derivative(multi_pld_dataset):
    report = multi_pld_dataset / REPORT
    files = sorted(p.relative_to(report).as_posix() for p in report.rglob("*") if p.is_file())
    assert files == [
        ".bidsignore",
        "README.md",
        "code/provenance/files.json",
        "code/validation.json",
        "dataset_description.json",
        "index.html",
        "sub-01/sub-01.html",
    ]
    description = json.loads((report / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "asldro"
    validation = validate_dataset(multi_pld_dataset)
    summary = {d.name: (len(d.errors), len(d.warnings)) for d in validation.datasets}
    assert summary["derivatives/asldro-report"] == (0, 0)
    assert summary["raw"] == (0, 0)
    # the pages hold the validation that included them: each layer of each dataset, counts
    section = _section(report / "sub-01" / "sub-01.html")
    assert '<span class="ok">valid</span>' in section
    for layer in ("own", "pybids", "bids-validator-deno"):
        assert f"<td>derivatives/asldro-report</td><td>{layer}" in section
    assert _section(report / "index.html") == section
    # self-contained: every picture inline
    text = (report / "sub-01" / "sub-01.html").read_text(encoding="utf-8")
    sources = [part.split('"', 1)[0] for part in text.split('src="')[1:]]
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


def test_kinetic_curve_is_the_mean_delta_m_of_the_written_data_in_each_tissue(
    multi_pld_dataset,
):
    view = read_participant(multi_pld_dataset, "01")
    (series,) = view.asl
    curve = series.curve
    assert curve is not None and curve.post_labeling_delays == (1.0, 2.0)
    data = np.asarray(nib.load(multi_pld_dataset / "sub-01/perf/sub-01_asl.nii.gz").dataobj)
    anat = multi_pld_dataset / "derivatives/groundtruth/sub-01/anat"
    # the tissue masks: the asl grid's probseg (partial-volume ground truth) at >= 0.5
    masks = {
        tissue: np.asarray(
            nib.load(
                anat / f"sub-01_res-asl_label-{tissue}_desc-groundtruth_probseg.nii.gz"
            ).dataobj
        )
        >= 0.5
        for tissue in ("GM", "WM")
    }
    # control label control label per PLD: volumes (0, 1, 2, 3) then (4, 5, 6, 7)... by PLD
    context = (multi_pld_dataset / "sub-01/perf/sub-01_aslcontext.tsv").read_text().split()[1:]
    sidecar = json.loads((multi_pld_dataset / "sub-01/perf/sub-01_asl.json").read_text())
    plds = np.array(sidecar["PostLabelingDelay"])
    for tissue in ("GM", "WM"):
        for index, pld in enumerate((1.0, 2.0)):
            control = [i for i, t in enumerate(context) if t == "control" and plds[i] == pld]
            tag = [i for i, t in enumerate(context) if t == "label" and plds[i] == pld]
            delta_m = data[..., control].mean(axis=-1) - data[..., tag].mean(axis=-1)
            expected = delta_m[masks[tissue]].mean()
            assert curve.means[tissue][index] == pytest.approx(expected, rel=1e-5)
            assert curve.voxels[tissue] == int(masks[tissue].sum())
    # GM perfuses more than WM, and the signal falls from the first to the second PLD
    assert curve.means["GM"][0] > curve.means["WM"][0] > 0
    assert curve.means["GM"][0] > curve.means["GM"][1]


def test_motion_and_noise_come_from_the_provenance(multi_pld_dataset):
    view = read_participant(multi_pld_dataset, "01")
    (series,) = view.asl
    assert series.motion is not None
    rot_x = series.motion.values[:, series.motion.names.index("rot_x")]
    assert list(rot_x[:4]) == MOTION["rot_x"]
    provenance = json.loads((multi_pld_dataset / "code/provenance/sub-01.json").read_text())
    meta = provenance["series"][0]["images"]["asl"]["meta"]
    assert series.noise == {
        "noise_sigma": meta["noise_sigma"],
        "noise_reference": meta["noise_reference"],
        "desired_snr": 1000.0,
    }
    page = (multi_pld_dataset / REPORT / "sub-01" / "sub-01.html").read_text(encoding="utf-8")
    assert f"{meta['noise_sigma']:.6g}" in page and 'alt="motion traces"' in page
    assert "code/sub-01_dro_params.json" in page and "series_parameters.asl_context" in page


def test_rerun_writes_the_same_report(tmp_path, multi_pld_dataset):
    params = tmp_path / "params.json"
    params.write_text((multi_pld_dataset.parent / "params.json").read_text())
    out = tmp_path / "again"
    assert main(["generate", "--params", str(params), str(out)]) == 0
    for name in ("sub-01/sub-01.html", "index.html"):
        assert (out / REPORT / name).read_bytes() == (
            multi_pld_dataset / REPORT / name
        ).read_bytes()


def _small_params(tmp_path: Path) -> Path:
    document = {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
        "image_series": [
            {"series_type": "asl", "series_parameters": {"acq_matrix": [12, 12, 6]}},
            {"series_type": "ground_truth", "series_parameters": {"acq_matrix": [12, 12, 6]}},
        ],
    }
    params = tmp_path / "small.json"
    params.write_text(json.dumps(document))
    return params


def test_no_report_writes_none(tmp_path):
    out = tmp_path / "out"
    params = _small_params(tmp_path)
    assert (
        main(["generate", "--no-report", "--skip-validation", "--params", str(params), str(out)])
        == 0
    )
    assert not (out / REPORT).exists()
    assert (out / "sub-01").is_dir()


def test_report_and_no_report_exclude_each_other(tmp_path, capsys):
    assert main(["generate", "--report", "--no-report", str(tmp_path / "out")]) == 64
    assert "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _without_matplotlib(*argv: str) -> subprocess.CompletedProcess:
    """``asldro`` in a Python where matplotlib cannot be imported."""
    code = (
        "import sys; sys.modules['matplotlib'] = None; from asldro.cli import main; "
        "raise SystemExit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False, cwd=ROOT
    )


def test_without_matplotlib_one_warning_and_no_report(tmp_path):
    out = tmp_path / "out"
    params = _small_params(tmp_path)
    done = _without_matplotlib("generate", "--skip-validation", "--params", str(params), str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines == [
        "asldro: warning: no report: matplotlib is not installed in this Python; install "
        "asldro's 'plots' extra (pip install 'asldro[plots]') for the HTML report, or pass "
        "--no-report",
        "wrote sub-01 (1/1)",  # progress
    ]
    assert (out / "sub-01").is_dir() and not (out / REPORT).exists()


def test_report_required_without_matplotlib_is_refused_before_writing(tmp_path):
    out = tmp_path / "out"
    done = _without_matplotlib(
        "generate", "--report", "--params", str(_small_params(tmp_path)), str(out)
    )
    assert done.returncode == 69
    assert done.stderr.splitlines() == [
        "asldro: error: --report: matplotlib is not installed in this Python; install "
        "asldro's 'plots' extra (pip install 'asldro[plots]')"
    ]
    assert not out.exists()


def test_bids_app_participant_pages_then_the_group_page(tmp_path):
    out = tmp_path / "out"
    params = str(_small_params(tmp_path))
    for label in ("01", "02"):
        assert (
            run_py([str(out), "participant", "--participant-label", label, "--params", params]) == 0
        )
    report = out / REPORT
    assert (report / "sub-01/sub-01.html").is_file() and (report / "sub-02/sub-02.html").is_file()
    assert not (report / "index.html").exists()  # the group level writes it
    first = _section(report / "sub-01/sub-01.html")
    assert "<td>raw</td>" in first
    (out / "participants.tsv").write_text(
        "participant_id\tgroup\tcbf_scale\nsub-01\tcontrols\t1.0\nsub-02\tpatients\t0.8\n"
    )
    assert run_py([str(out), "group"]) == 0
    index = (report / "index.html").read_text(encoding="utf-8")
    assert '<a href="sub-01/sub-01.html">sub-01</a>' in index
    assert '<a href="sub-02/sub-02.html">sub-02</a>' in index
    assert 'alt="histogram of cbf_scale"' in index
    # the group level refreshed every page's validation to the dataset's latest
    assert _section(report / "sub-01/sub-01.html") == _section(report / "index.html")
    record = json.loads((report / "code/provenance/files.json").read_text())
    assert {"index.html", "sub-01/sub-01.html", "sub-02/sub-02.html"} <= set(record["files"])


def test_never_replaces_a_file_asldro_did_not_write(tmp_path, capsys):
    out = tmp_path / "out"
    params = str(_small_params(tmp_path))
    assert run_py([str(out), "participant", "--params", params, "--no-report"]) == 0
    theirs = out / REPORT / "dataset_description.json"
    theirs.parent.mkdir(parents=True)
    content = json.dumps(
        {
            "Name": "my own report",
            "BIDSVersion": "1.10.1",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "me"}],
        }
    )
    theirs.write_text(content)
    capsys.readouterr()
    assert run_py([str(out), "participant", "--params", params]) == 0
    err = capsys.readouterr().err
    assert f"run.py: warning: no report: {theirs} exists and asldro did not write it" in err
    assert theirs.read_text() == content
    # a participant job validates a view of the dataset: nothing is written in their folder
    assert sorted(p.name for p in theirs.parent.iterdir()) == ["dataset_description.json"]


def test_overwrite_replaces_the_report_with_the_dataset(tmp_path):
    out = tmp_path / "out"
    params = str(_small_params(tmp_path))
    assert main(["generate", "--skip-validation", "--params", params, str(out)]) == 0
    assert main(["generate", "--overwrite", "--skip-validation", "--params", params, str(out)]) == 0
    assert (out / REPORT / "sub-01" / "sub-01.html").is_file()
    section = _section(out / REPORT / "sub-01" / "sub-01.html")
    assert "not validated (validation was skipped)" in section


def test_pages_composed_by_the_worker_processes_are_those_composed_here(tmp_path):
    """Issue 16: with several processes each worker composes the page of the participant it
    wrote; the pages (and the dataset page) are byte for byte those of a run in one process."""
    params = _small_params(tmp_path)
    outputs = {}
    for procs in ("1", "2"):
        out = tmp_path / f"procs-{procs}"
        argv = ["generate", "--skip-validation", "--quiet", "--params", str(params), str(out)]
        assert main(argv + ["--n-procs", procs, "--participant-label", "01", "02", "03"]) == 0
        outputs[procs] = out
    pages = sorted(p.relative_to(outputs["1"]) for p in (outputs["1"] / REPORT).rglob("*.html"))
    assert len(pages) == 4  # three participants and the dataset page
    for page in pages:
        assert (outputs["2"] / page).read_bytes() == (outputs["1"] / page).read_bytes()
