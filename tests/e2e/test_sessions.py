"""Test–retest sessions in the dataset layout (issue 14 item 1: ``ses-1``, ``ses-2``: same
physiology, new noise and motion; docs/bids.md §1.1): folders and entities, a valid dataset that
pybids sees with two sessions, new noise per session over the same ground truth, replayable
participants, ownership and ``--overwrite``, and the readers (report, score, quantify)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro.api import as_params, generate, generate_participant
from asldro.exit_codes import OutputError
from tests.e2e.conftest import document, small

GRID = [12, 14, 8]
DOC = document(
    small("asl", acq_matrix=GRID),
    small("structural", acq_matrix=GRID, modality="T1w"),
    small("ground_truth", acq_matrix=GRID),
)
SESSIONS = ("1", "2")
LABELS = ("01", "02")


def _hashes(root: Path, under: str) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((root / under).rglob("*"))
        if path.is_file()
    }


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Two participants with two sessions each, validated by all layers."""
    out = tmp_path_factory.mktemp("sessions") / "out"
    result = generate(DOC, out, participant_labels=LABELS, sessions=SESSIONS, report=False)
    assert result.validation is not None and result.validation.ok, result.validation
    return out


def copy_of(dataset: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(dataset, target)
    return target


# --------------------------------------------------------------------------------------------
# layout


def test_every_subject_file_is_in_a_session_folder_named_by_its_ses_entity(dataset):
    for label in LABELS:
        for root in (dataset, dataset / "derivatives" / "groundtruth"):
            subject = root / f"sub-{label}"
            for path in sorted(p for p in subject.rglob("*") if p.is_file()):
                rel = path.relative_to(subject).parts
                if rel == (f"sub-{label}_sessions.tsv",):
                    continue
                session = rel[0]
                assert session in {f"ses-{s}" for s in SESSIONS}, path
                assert len(rel) == 3 and rel[1] in ("perf", "anat"), path
                assert path.name.startswith(f"sub-{label}_{session}_"), path
    raw = _files(dataset / "sub-01")
    assert "ses-1/perf/sub-01_ses-1_asl.nii.gz" in raw
    assert "ses-2/anat/sub-01_ses-2_acq-se_T1w.nii.gz" in raw
    assert not (dataset / "sub-01" / "perf").exists()


def test_sessions_table_lists_the_sessions(dataset):
    table = (dataset / "sub-01" / "sub-01_sessions.tsv").read_text()
    assert table == "session_id\nses-1\nses-2\n"


def test_one_parameter_file_and_one_provenance_listing_every_file(dataset):
    from asldro.bids.dataset import subject_files_written

    code = sorted(p.name for p in (dataset / "code").glob("sub-*"))
    assert code == ["sub-01_dro_params.json", "sub-02_dro_params.json"]
    provenance = json.loads((dataset / "code" / "provenance" / "sub-01.json").read_text())
    assert [s["session_id"] for s in provenance["sessions"]] == ["ses-1", "ses-2"]
    written = subject_files_written(dataset, "01")
    expected = {f for f in _files(dataset) if "sub-01" in f and not f.endswith("validation.json")}
    assert written == expected


def test_m0scan_of_a_session_is_intended_for_the_asl_run_of_that_session(tmp_path):
    doc = document(
        small("asl", acq_matrix=[8, 8, 4], asl_context="m0scan"),
        small("asl", acq_matrix=[8, 8, 4], asl_context="control label"),
    )
    result = generate(doc, tmp_path / "out", sessions=("a", "b"), report=False)
    assert result.validation.ok, result.validation
    sidecar = tmp_path / "out" / "sub-01" / "ses-b" / "perf" / "sub-01_ses-b_m0scan.json"
    intended = json.loads(sidecar.read_text())["IntendedFor"]
    assert intended == "bids::sub-01/ses-b/perf/sub-01_ses-b_asl.nii.gz"


def test_planned_file_names_are_the_files_written_with_sessions(tmp_path):
    from asldro.api import load_params_ground_truth
    from asldro.bids.writer import planned_files
    from asldro.output import m0_pairs

    params = as_params(DOC)
    ground_truth = load_params_ground_truth(params)
    planned = planned_files("7", params, ground_truth, m0_pairs(params), SESSIONS)
    written = generate_participant(
        params, tmp_path, "7", ground_truth=ground_truth, sessions=SESSIONS
    )
    assert sorted(planned) == sorted(p.relative_to(tmp_path).as_posix() for p in written)


def test_a_bad_session_label_is_a_usage_error_before_anything_is_written(tmp_path):
    from asldro.exit_codes import UsageError

    with pytest.raises(UsageError, match="session label 'a_b'"):
        generate(DOC, tmp_path / "out", sessions=("1", "a_b"), validate=False)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# validity


def test_validators_accept_it_and_pybids_sees_two_sessions(dataset, capsys):
    from bids import BIDSLayout

    from asldro.cli import main

    assert main(["validate", str(dataset)]) == 0, capsys.readouterr()
    raw = BIDSLayout(dataset, validate=False)
    assert raw.get_sessions() == list(SESSIONS)
    assert raw.get_subjects() == list(LABELS)
    assert len(raw.get(session="2", suffix="asl", extension=".nii.gz")) == 2
    truth = BIDSLayout(dataset / "derivatives" / "groundtruth", validate=False, is_derivative=True)
    assert truth.get_sessions() == list(SESSIONS)


# --------------------------------------------------------------------------------------------
# same physiology, new noise


def _data(path: Path) -> np.ndarray:
    return np.asarray(nib.load(path).dataobj)


def test_noise_differs_between_sessions_and_the_ground_truth_is_the_same(dataset):
    for suffix in ("perf/sub-01_ses-{s}_asl", "anat/sub-01_ses-{s}_acq-se_T1w"):
        first, second = (
            _data(dataset / "sub-01" / f"ses-{s}" / (suffix.format(s=s) + ".nii.gz"))
            for s in SESSIONS
        )
        assert first.shape == second.shape
        assert not np.array_equal(first, second), suffix
    truth = dataset / "derivatives" / "groundtruth" / "sub-01"
    images = sorted((truth / "ses-1").rglob("*.nii.gz"))
    assert len(images) > 10
    for image in images:
        twin = (
            truth
            / "ses-2"
            / image.relative_to(truth / "ses-1").as_posix().replace("ses-1", "ses-2")
        )
        assert np.array_equal(_data(image), _data(twin)), image.name


def test_noise_streams_name_the_session_only_when_there_is_one():
    from asldro.pipelines.seeds import SeriesStreams, label_key

    plain = SeriesStreams(3, "01", 2).volume(4)
    assert plain.spawn_key == (label_key("01"), 2, 4)  # the key of datasets without sessions
    first = SeriesStreams(3, "01", 2, "1").volume(4)
    second = SeriesStreams(3, "01", 2, "2").volume(4)
    assert len({plain.spawn_key, first.spawn_key, second.spawn_key}) == 3
    assert first.spawn_key == (label_key("01_ses-1"), 2, 4)


def test_provenance_streams_text_names_the_session(dataset):
    provenance = json.loads((dataset / "code" / "provenance" / "sub-02.json").read_text())
    streams = provenance["sessions"][1]["provenance"]["streams"]
    assert "'_ses-' + session" in streams


def test_a_participant_regenerated_alone_is_byte_identical(dataset, tmp_path):
    alone = tmp_path / "alone"
    generate(DOC, alone, participant_labels=["02"], sessions=SESSIONS, validate=False, report=False)
    for under in ("sub-02", "derivatives/groundtruth/sub-02"):
        assert _hashes(alone, under) == _hashes(dataset, under)
    for name in ("code/sub-02_dro_params.json", "code/provenance/sub-02.json"):
        assert (alone / name).read_bytes() == (dataset / name).read_bytes()


# --------------------------------------------------------------------------------------------
# ownership


def test_overwrite_replaces_a_sessions_dataset(dataset, tmp_path):
    out = copy_of(dataset, tmp_path)
    generate(DOC, out, participant_labels=["03"], sessions=("9",), overwrite=True, validate=False)
    assert sorted(p.name for p in out.glob("sub-*")) == ["sub-03"]
    assert (out / "sub-03" / "ses-9" / "perf" / "sub-03_ses-9_asl.nii.gz").is_file()


@pytest.mark.parametrize("replace", ["dataset", "participant"])
def test_a_user_file_inside_a_session_folder_is_refused_and_untouched(dataset, tmp_path, replace):
    out = copy_of(dataset, tmp_path)
    user = out / "sub-01" / "ses-1" / "notes.txt"
    user.write_text("mine")
    before = _hashes(out, ".")
    with pytest.raises(
        OutputError, match=r"ses-1/notes.txt.*did not write|did not write.*ses-1/notes.txt"
    ):
        if replace == "dataset":
            generate(DOC, out, participant_labels=LABELS, sessions=SESSIONS, overwrite=True)
        else:
            generate_participant(as_params(DOC), out, "01", sessions=SESSIONS)
    assert _hashes(out, ".") == before
    assert user.read_text() == "mine"


def test_participant_level_writes_sessions(tmp_path, capsys):
    from bids_app.levels import run_participant

    params = tmp_path / "params.json"
    params.write_text(json.dumps(DOC))
    out = tmp_path / "out"
    status = run_participant(
        out,
        ["05"],
        params_file=str(params),
        seed=None,
        n_procs=1,
        validate=True,
        report=False,
        sessions=("pre", "post"),
    )
    assert status == 0, capsys.readouterr()
    assert (out / "sub-05" / "ses-post" / "perf" / "sub-05_ses-post_asl.nii.gz").is_file()
    assert (out / "sub-05" / "sub-05_sessions.tsv").read_text() == (
        "session_id\nses-pre\nses-post\n"
    )


# --------------------------------------------------------------------------------------------
# readers: report, quantify, score


@pytest.fixture(scope="module")
def quantified(dataset, tmp_path_factory) -> Path:
    """The dataset's ASL runs quantified by ``asldro quantify`` (into a copy)."""
    from asldro.quantify import quantify

    out = tmp_path_factory.mktemp("quantified") / "out"
    shutil.copytree(dataset, out)
    result = quantify(out)
    assert result.validation is not None and result.validation.ok, result.validation
    return out


def test_the_report_reads_each_session_alone(dataset):
    from asldro.report.reading import read_participant

    view = read_participant(dataset, "01")
    assert [label for label, _ in view.sessions] == list(SESSIONS)
    assert not view.ground_truth and not view.asl and not view.structural
    assert view.parameters  # one parameter file per participant
    per_session = len(list((dataset / "derivatives/groundtruth/sub-01/ses-1").rglob("*.nii.gz")))
    for label, session in view.sessions:
        assert len(session.ground_truth) == per_session
        assert [run.relative for run in session.asl] == [
            f"sub-01/ses-{label}/perf/sub-01_ses-{label}_asl.nii.gz"
        ]
        assert [s.relative.split("/")[1] for s in session.structural] == [f"ses-{label}"]
        assert session.asl[0].curve is not None
        assert f"sub-01/ses-{label}/" in session.asl[0].curve.mask_source
        assert session.asl[0].noise  # the provenance facts of the session's own image


def test_the_report_page_has_a_section_per_session(dataset, tmp_path):
    pytest.importorskip("matplotlib")
    from asldro.report import write_reports

    out = copy_of(dataset, tmp_path)
    pages = write_reports(out, ["02"], dataset_page=True, validated=False)
    page = next(p for p in pages if p.name == "sub-02.html").read_text()
    order = [
        "2 session(s): ses-1, ses-2",
        "Ground truth (ses-1)",
        "ASL: sub-02/ses-1/perf/sub-02_ses-1_asl.nii.gz",
        "Structural: sub-02/ses-1/anat/sub-02_ses-1_acq-se_T1w.nii.gz",
        "Ground truth (ses-2)",
        "ASL: sub-02/ses-2/perf/sub-02_ses-2_asl.nii.gz",
        "Parameters",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)


def test_quantify_writes_each_session_in_its_folder(quantified):
    folder = quantified / "derivatives" / "asldro-quantify" / "sub-01"
    maps = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*_cbf.nii.gz"))
    assert maps == [f"ses-{s}/perf/sub-01_ses-{s}_cbf.nii.gz" for s in SESSIONS]


@pytest.mark.filterwarnings("ignore:.*has no voxel to score")
def test_score_uses_the_ground_truth_of_the_maps_session(quantified):
    from asldro.scoring import score

    maps = [
        quantified
        / "derivatives/asldro-quantify/sub-01"
        / f"ses-{s}/perf/sub-01_ses-{s}_cbf.nii.gz"
        for s in SESSIONS
    ]
    result = score(quantified, maps, validate=True)
    assert result.validation is None or result.validation.ok, result.validation
    for session, scored in zip(SESSIONS, result.maps):
        written = scored.files["tsv"].relative_to(result.output).as_posix()
        assert written.startswith(f"sub-01/ses-{session}/perf/sub-01_ses-{session}_"), written
        sources = json.loads(scored.files["json"].read_text())["Sources"]
        truth = [s for s in sources if "groundtruth" in s]
        assert truth and all(f"/sub-01/ses-{session}/" in s for s in truth), sources


def test_score_refuses_a_map_that_does_not_name_its_session(quantified, tmp_path, capsys):
    from asldro.cli import main

    source = quantified / "derivatives/asldro-quantify/sub-01/ses-1/perf/sub-01_ses-1_cbf.nii.gz"
    unnamed = tmp_path / "sub-01_cbf.nii.gz"
    shutil.copyfile(source, unnamed)
    status = main(["score", str(quantified), str(unnamed), "--output-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert status == 64
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "has sessions (ses-1, ses-2)" in err and "no ses- entity" in err
    assert not (tmp_path / "s").exists()


def test_a_participant_build_records_the_participant_columns_it_is_given(tmp_path):
    """The hook a cohort's participants.tsv columns go through (contract 1's ``participant``
    key); none given: no key (every provenance file above)."""
    from asldro.api import load_params_ground_truth
    from asldro.bids.writer import participant_build
    from asldro.output import m0_pairs
    from asldro.pipelines import generate_series

    params = as_params(document(small("asl", acq_matrix=[8, 8, 4])))
    results = generate_series(params, load_params_ground_truth(params), participant_label="04")
    columns = {"columns": [{"name": "group", "value": "patient", "Description": "group"}]}
    with participant_build(tmp_path, "04") as build:
        build.add(results, m0_pairs=m0_pairs(params), provenance={}, session="1")
        build.finish(resolved_params={}, ground_truth_description="test", participant=columns)
    written = json.loads((tmp_path / "code" / "provenance" / "sub-04.json").read_text())
    assert written["participant"] == columns
    assert (tmp_path / "sub-04" / "ses-1" / "perf" / "sub-04_ses-1_asl.nii.gz").is_file()
