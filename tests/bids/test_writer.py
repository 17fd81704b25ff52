"""write_participant, ensure_dataset_files, update_participants (docs/bids.md §1–§10, §13;
docs/physics.md D15, D16, D18, D20, D21)."""

# pylint: disable=redefined-outer-name,missing-function-docstring

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro import __version__
from asldro.bids import ensure_dataset_files, update_participants, write_participant
from asldro.bids.naming import NamingError
from asldro.image import Image
from asldro.pipelines.seeds import label_key
from asldro.pipelines.types import SeriesResult
from tests.bids.conftest import GT_VALUES, _segmentation_map

BV_CONFIG = Path(__file__).resolve().parents[2] / "asldro" / "bids" / "bv-config.json"
VALIDATOR = Path(sys.executable).with_name("bids-validator-deno")
PARAMS = {"global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"}, "image_series": []}


def _write(out, results, label="01", m0_pairs=None, params=None):
    return write_participant(
        out,
        label,
        results,
        m0_pairs=m0_pairs or {},
        resolved_params=params or PARAMS,
        provenance={"seed": 0, "participant": label},
        ground_truth_description="test ground truth",
    )


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _nifti(path: Path) -> nib.Nifti1Image:
    return nib.Nifti1Image.from_bytes(gzip.decompress(path.read_bytes()))


def _validate(path: Path, deno_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VALIDATOR), "-c", str(BV_CONFIG), "--format", "json", str(path)],
        capture_output=True,
        text=True,
        env=deno_env,
        check=False,
        timeout=300,
    )


def _assert_valid(root: Path, deno_env) -> None:
    for dataset in (root, root / "derivatives" / "groundtruth"):
        proc = _validate(dataset, deno_env)
        errors = []
        if proc.stdout.strip().startswith("{"):
            issues = json.loads(proc.stdout)["issues"]["issues"]
            errors = [(i["code"], i.get("location")) for i in issues if i["severity"] == "error"]
        assert proc.returncode == 0, (dataset, errors, proc.stderr[-2000:])


@pytest.fixture
def default_results(make_asl_result, make_gt_results, make_structural_result):
    return [make_asl_result(1), make_gt_results(2), make_structural_result(3)]


def test_default_layout_tree(tmp_path, default_results):
    written = _write(tmp_path, default_results)
    gt = "derivatives/groundtruth"
    expected_subject = {
        "sub-01/perf/sub-01_asl.nii.gz",
        "sub-01/perf/sub-01_asl.json",
        "sub-01/perf/sub-01_aslcontext.tsv",
        "sub-01/anat/sub-01_acq-se_T1w.nii.gz",
        "sub-01/anat/sub-01_acq-se_T1w.json",
        "code/provenance/sub-01.json",
        "code/sub-01_dro_params.json",
    }
    for stem in ["perf/sub-01_desc-groundtruth_cbf", "perf/sub-01_desc-groundtruth_att"] + [
        f"anat/sub-01_desc-groundtruth_{s}"
        for s in ("T1map", "T2map", "T2starmap", "M0map", "dseg")
    ]:
        expected_subject |= {f"{gt}/sub-01/{stem}.nii.gz", f"{gt}/sub-01/{stem}.json"}
    # issue 13: the tissue maps of the ground_truth series (these results, made series by
    # series, hold no derivatives at the asl grid: tests/e2e/test_tissue_model.py has those)
    stems = [f"anat/sub-01_label-{t}_desc-groundtruth_probseg" for t in ("GM", "WM", "CSF")]
    for stem in [*stems, "anat/sub-01_desc-brain_mask"]:
        expected_subject |= {f"{gt}/sub-01/{stem}.nii.gz", f"{gt}/sub-01/{stem}.json"}
    assert {p.relative_to(tmp_path).as_posix() for p in written} == expected_subject
    dataset_files = {
        "dataset_description.json",
        "README.md",
        "CHANGES",
        "participants.tsv",
        "participants.json",
        f"{gt}/dataset_description.json",
        f"{gt}/README.md",
        f"{gt}/descriptions.tsv",
        f"{gt}/desc-groundtruth_dseg.tsv",
        f"{gt}/.bidsignore",
    }
    tree = _tree(tmp_path)
    assert tree == expected_subject | dataset_files
    assert not list(tmp_path.glob(".asldro-tmp-*"))


def test_default_layout_contents(tmp_path, default_results):
    _write(tmp_path, default_results)
    perf = tmp_path / "sub-01" / "perf"
    sidecar = _json(perf / "sub-01_asl.json")
    assert sidecar["M0Type"] == "Included"
    assert sidecar["TotalAcquiredPairs"] == 1
    assert (perf / "sub-01_aslcontext.tsv").read_text() == "volume_type\nm0scan\ncontrol\nlabel\n"
    image = _nifti(perf / "sub-01_asl.nii.gz")
    header = image.header
    assert header["sizeof_hdr"] == 348 and header["magic"] == b"n+1"
    assert image.shape == (8, 9, 10, 3)
    assert image.get_data_dtype() == np.float32
    assert int(header["qform_code"]) == 1 and int(header["sform_code"]) == 1
    assert header.get_xyzt_units() == ("mm", "sec")
    assert header["pixdim"][4] == pytest.approx(5.0)  # TR of the control/label volumes
    source = default_results[0].images["asl"]
    np.testing.assert_array_equal(image.get_fdata(dtype=np.float32), source.data)
    np.testing.assert_allclose(image.affine, source.affine)
    dseg = _nifti(
        tmp_path / "derivatives/groundtruth/sub-01/anat/sub-01_desc-groundtruth_dseg.nii.gz"
    )
    assert dseg.get_data_dtype().kind in "iu"
    seg = default_results[1].images["seg_label"].data
    np.testing.assert_array_equal(np.asarray(dseg.dataobj), seg)
    for path in tmp_path.rglob("*.nii.gz"):
        assert path.stat().st_size >= 348, path
        assert path.read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0


def test_dataset_level_files(tmp_path, default_results, monkeypatch):
    monkeypatch.setenv("ASLDRO_CONTAINER", "asldro:test")
    _write(tmp_path, default_results)
    description = _json(tmp_path / "dataset_description.json")
    assert description["BIDSVersion"] == "1.10.1"
    assert description["DatasetType"] == "raw"
    assert description["License"] == "CC0"
    assert len(description["Authors"]) >= 2
    generated = description["GeneratedBy"][0]
    assert generated["Name"] == "asldro" and generated["Version"] == __version__
    assert generated["Container"] == {"Type": "docker", "Tag": "asldro:test"}
    assert "CodeURL" not in generated
    readme = (tmp_path / "README.md").read_bytes()
    assert len(readme) > 150 and b"1000 s" in readme
    assert _json(tmp_path / "code" / "sub-01_dro_params.json") == PARAMS
    gt = tmp_path / "derivatives" / "groundtruth"
    derivative = _json(gt / "dataset_description.json")
    assert derivative["DatasetType"] == "derivative"
    assert derivative["GeneratedBy"][0]["Name"] == "asldro"
    assert derivative["SourceDatasets"][0]["URL"] == "bids::"
    ignore = (gt / ".bidsignore").read_text().splitlines()
    assert {"**/*_cbf.*", "**/*_att.*"} <= set(ignore)
    assert (gt / "descriptions.tsv").read_text().splitlines()[1].startswith("desc-groundtruth\t")
    rows = [
        line.split("\t") for line in (gt / "desc-groundtruth_dseg.tsv").read_text().splitlines()
    ]
    assert rows[0] == ["index", "name", "abbreviation"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]
    assert [r[2] for r in rows[1:]] == ["BG", "GM", "WM", "CSF"]


def test_container_omitted_without_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ASLDRO_CONTAINER", raising=False)
    ensure_dataset_files(tmp_path, ground_truth_description="gt")
    generated = _json(tmp_path / "dataset_description.json")["GeneratedBy"][0]
    assert "Container" not in generated


def test_dseg_lists_every_label_and_extra_quantities_are_ignored(tmp_path, make_gt_results):
    segmentation = {"grey_matter": 1, "white_matter": 2, "csf": 3, "lesion": 4, "my_tissue": 7}
    result = make_gt_results(1, extra={"lambda_map": ""}, segmentation=segmentation)
    _write(tmp_path, [result])
    gt = tmp_path / "derivatives" / "groundtruth"
    rows = (gt / "desc-groundtruth_dseg.tsv").read_text().splitlines()[1:]
    assert [r.split("\t")[0] for r in rows] == ["0", "1", "2", "3", "4", "7"]
    assert rows[-1].split("\t")[1:] == ["my tissue", "MT"]
    assert "**/*_lambdamap.*" in (gt / ".bidsignore").read_text().splitlines()
    assert (gt / "sub-01/anat/sub-01_desc-groundtruth_lambdamap.nii.gz").is_file()


def test_arterial_quantities_are_perf_derivatives_listed_in_bidsignore(tmp_path, make_gt_results):
    """abv and abat: perf/_abv and perf/_abat (ASLPrep's names), Units fraction and s, a
    Description saying what and how; BIDS has no such suffix, so .bidsignore lists them, and
    only in a dataset that has them."""
    result = make_gt_results(1, extra={"abv": "fraction", "abat": "s"})
    _write(tmp_path, [result])
    gt = tmp_path / "derivatives" / "groundtruth"
    perf = gt / "sub-01" / "perf"
    ignore = (gt / ".bidsignore").read_text().splitlines()
    assert {"**/*_abv.*", "**/*_abat.*"} <= set(ignore)
    abv = _json(perf / "sub-01_desc-groundtruth_abv.json")
    abat = _json(perf / "sub-01_desc-groundtruth_abat.json")
    assert (abv["Units"], abat["Units"]) == ("fraction", "s")
    assert abv["Description"].startswith("Ground-truth arterial blood volume (aBV")
    assert "aBV-weighted mean" in abat["Description"]
    assert abat["GroundTruthQuantity"] == "abat"
    assert (perf / "sub-01_desc-groundtruth_abv.nii.gz").is_file()
    plain = tmp_path / "plain"
    _write(plain, [make_gt_results(1)])
    plain_ignore = (plain / "derivatives" / "groundtruth" / ".bidsignore").read_text()
    assert "abv" not in plain_ignore and "abat" not in plain_ignore


def test_separate_m0scan(tmp_path, make_asl_result):
    results = [make_asl_result(1, "control label control label"), make_asl_result(2, "m0scan")]
    _write(tmp_path, results, m0_pairs={2: 1})
    perf = tmp_path / "sub-01" / "perf"
    assert _json(perf / "sub-01_asl.json")["M0Type"] == "Separate"
    m0 = _json(perf / "sub-01_m0scan.json")
    assert m0["IntendedFor"] == "bids::sub-01/perf/sub-01_asl.nii.gz"
    assert m0["RepetitionTimePreparation"] == 10.0
    assert _nifti(perf / "sub-01_m0scan.nii.gz").ndim == 3


def _signal_scale_of_the_tiny_truth(m0: float, echo_time: float = 0.01) -> float:
    """``m0`` times the perfusion-weighted mean of exp(-TE/T2) over the tiny ground truth
    (spin echo): the M0 signal scale its images carry (issue 12 item 3)."""
    seg = _segmentation_map()
    flow, t2 = GT_VALUES["perfusion_rate"][1], GT_VALUES["t2"][1]
    weights = [flow[label] * np.count_nonzero(seg == label) for label in range(len(flow))]
    decay = [np.exp(-echo_time / value) if value else 1.0 for value in t2]
    return m0 * float(np.dot(weights, decay) / np.sum(weights))


@pytest.mark.parametrize(
    ("uniform", "expected"),
    [
        (68.0, {"M0Type": "Estimate", "M0Estimate": _signal_scale_of_the_tiny_truth(68.0)}),
        (None, {}),
    ],
)
def test_estimate_and_absent(tmp_path, make_asl_result, uniform, expected):
    _write(tmp_path, [make_asl_result(1, "control label", m0_uniform_value=uniform)])
    sidecar = _json(tmp_path / "sub-01" / "perf" / "sub-01_asl.json")
    if expected:
        assert sidecar["M0Type"] == expected["M0Type"]
        assert sidecar["M0Estimate"] == pytest.approx(expected["M0Estimate"], rel=1e-12)
        assert sidecar["M0Estimate"] < 0.95 * uniform  # not the bare M0 (TE 10 ms)
    else:
        assert sidecar["M0Type"] == "Absent" and "M0Estimate" not in sidecar


def test_complex_structural_writes_magnitude_and_phase(tmp_path, make_structural_result):
    result = make_structural_result(1, output_image_type="complex")
    _write(tmp_path, [result])
    anat = tmp_path / "sub-01" / "anat"
    source = result.images["structural"].data
    mag = _nifti(anat / "sub-01_acq-se_part-mag_T1w.nii.gz")
    phase = _nifti(anat / "sub-01_acq-se_part-phase_T1w.nii.gz")
    assert mag.get_data_dtype() == np.float32 and phase.get_data_dtype() == np.float32
    np.testing.assert_allclose(mag.get_fdata(), np.abs(source), rtol=1e-6)
    np.testing.assert_allclose(phase.get_fdata(), np.angle(source), atol=1e-6)
    assert (anat / "sub-01_acq-se_part-phase_T1w.json").is_file()


def test_rewrite_is_byte_identical(tmp_path, default_results):
    first, second = tmp_path / "a", tmp_path / "b"
    _write(first, default_results)
    _write(second, default_results)
    _write(second, default_results)  # rewriting over an existing subject changes nothing
    files = sorted(_tree(first))
    assert files == sorted(_tree(second))
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_existing_subject_is_replaced(tmp_path, make_asl_result, make_gt_results):
    _write(tmp_path, [make_asl_result(1), make_gt_results(2)])
    _write(tmp_path, [make_asl_result(1, "control label")])
    assert not (tmp_path / "derivatives/groundtruth/sub-01").exists()
    assert (tmp_path / "sub-01/perf/sub-01_aslcontext.tsv").read_text().count("\n") == 3


@pytest.fixture
def unwritable_result(make_structural_result):
    """A structural series (index 4) whose voxel data cannot be converted to float32."""
    template = make_structural_result(4)
    image = template.images["structural"]
    bad = np.empty(image.data.shape, dtype=object)
    bad.fill(object())
    broken = Image(bad, image.affine, history=image.history)
    records = {"structural": template.records["structural"]}
    return SeriesResult(4, "structural", "broken", template.params, {"structural": broken}, records)


def test_failure_mid_write_leaves_no_subject_and_no_temp(
    tmp_path, default_results, unwritable_result
):
    out = tmp_path / "out"
    with pytest.raises((TypeError, ValueError)):
        _write(out, [*default_results, unwritable_result])
    assert not (out / "sub-01").exists()
    assert not (out / "derivatives" / "groundtruth" / "sub-01").exists()
    assert not list(out.rglob(".asldro-tmp-*"))
    assert not (out / "dataset_description.json").exists()


def test_failure_keeps_the_previous_subject(tmp_path, default_results, unwritable_result):
    _write(tmp_path, default_results)
    before = {p: (tmp_path / p).read_bytes() for p in _tree(tmp_path)}
    with pytest.raises((TypeError, ValueError)):
        _write(tmp_path, [*default_results, unwritable_result])
    after = {p: (tmp_path / p).read_bytes() for p in _tree(tmp_path)}
    assert after == before
    assert not list(tmp_path.rglob(".asldro-tmp-*"))


def test_naming_error_writes_nothing(tmp_path, make_asl_result):
    with pytest.raises(NamingError):
        _write(tmp_path / "out", [make_asl_result(1, "m0scan")])
    assert not (tmp_path / "out").exists()


def test_update_participants(tmp_path, default_results):
    _write(tmp_path, default_results, label="02")
    _write(tmp_path, default_results, label="01")
    (tmp_path / "sub-bad_label").mkdir()
    (tmp_path / "sub-03\n").mkdir()  # not a BIDS label: a trailing newline is not allowed
    (tmp_path / "sub-10").write_text("a file, not a subject")
    assert update_participants(tmp_path) == ["01", "02"]
    assert (tmp_path / "participants.tsv").read_text() == "participant_id\nsub-01\nsub-02\n"
    assert "participant_id" in _json(tmp_path / "participants.json")
    (tmp_path / "sub-02").rename(tmp_path / "elsewhere")
    assert update_participants(tmp_path) == ["01"]
    assert (tmp_path / "participants.tsv").read_text() == "participant_id\nsub-01\n"


def test_ensure_dataset_files_is_idempotent(tmp_path):
    kwargs = {"ground_truth_description": "gt"}
    first = ensure_dataset_files(tmp_path, **kwargs, segmentation={"grey_matter": 1})
    assert first
    snapshot = {p: (tmp_path / p).read_bytes() for p in _tree(tmp_path)}
    assert not ensure_dataset_files(tmp_path, **kwargs, segmentation={"grey_matter": 1})
    assert {p: (tmp_path / p).read_bytes() for p in _tree(tmp_path)} == snapshot


def test_provenance_records_seeds_noise_and_history(tmp_path, default_results):
    _write(tmp_path, default_results)
    provenance = _json(tmp_path / "code" / "provenance" / "sub-01.json")
    assert provenance["provenance"] == {"seed": 0, "participant": "01"}
    asl = provenance["series"][0]
    assert asl["index"] == 1 and asl["files"][0].startswith("sub-01/perf/")
    meta = asl["images"]["asl"]["meta"]
    record = default_results[0].records["asl"]
    assert meta["noise_sigma"] == record.noise.sigma > 0
    assert meta["noise_reference"] == pytest.approx(meta["noise_sigma"] * 100.0)
    assert meta["seeds"][1] == {"entropy": 0, "spawn_key": [label_key("01"), 1, 1]}
    assert meta["post_label_delay"] == pytest.approx(1.8)
    assert meta["voxel_size"] == [3.0, 3.0, 4.0] and meta["mr_acq_type"] == "3D"
    assert asl["images"]["asl"]["history"][0]["filter"] == "delta_m"
    assert asl["parameters"]["label_type"] == "pcasl"
    structural = provenance["series"][2]["images"]["structural"]["meta"]
    assert list(structural)[:3] == ["voxel_size", "acq_matrix", "image_type"]
    seg = provenance["series"][1]["images"]["seg_label"]["meta"]
    assert seg["segmentation"] == {"grey_matter": 1, "white_matter": 2, "csf": 3}


def test_default_layout_validates(tmp_path, default_results, deno_env):
    _write(tmp_path, default_results)
    _assert_valid(tmp_path, deno_env)


def test_many_series_layout_validates(
    tmp_path, make_asl_result, make_gt_results, make_structural_result, deno_env
):
    results = [
        make_asl_result(1, "control label control label", label_type="pasl", signal_time=1.6),
        make_asl_result(2, "m0scan"),
        make_asl_result(3, "m0scan control label", label_type="casl", acq_contrast="ge"),
        make_asl_result(4, "label label", m0_uniform_value=70.0, acq_contrast="ir"),
        make_asl_result(5, "control label", echo_time=(0.01, 0.02)),
        make_gt_results(6, extra={"lambda_map": ""}),
        make_gt_results(7),
        make_structural_result(8, modality="T1w"),
        make_structural_result(9, modality="T1w", output_image_type="complex"),
        make_structural_result(10, modality="T2w", acq_contrast="se"),
        make_structural_result(11, modality="FLAIR", acq_contrast="ir"),
    ]
    _write(tmp_path, results, label="02", m0_pairs={2: 1})
    perf = tmp_path / "sub-02" / "perf"
    assert {p.name for p in perf.glob("*.nii.gz")} == {
        f"sub-02_run-{i}_asl.nii.gz" for i in range(1, 5)
    } | {"sub-02_run-1_m0scan.nii.gz"}
    assert (
        tmp_path / "derivatives/groundtruth/sub-02/anat/sub-02_run-2_desc-groundtruth_dseg.nii.gz"
    ).is_file()
    _assert_valid(tmp_path, deno_env)


def test_anat_modality_layout_validates(
    tmp_path, make_asl_result, make_structural_result, deno_env
):
    results = [make_asl_result(1, "control label"), make_asl_result(2, "m0scan")]
    results.append(make_structural_result(3, modality="anat"))
    with pytest.warns(UserWarning, match="series 3"):
        _write(tmp_path, results, m0_pairs={2: 1})
    assert (tmp_path / "sub-01/anat/sub-01_acq-se_T1w.nii.gz").is_file()
    _assert_valid(tmp_path, deno_env)


def _parallel_job(output_dir: str, label: str) -> str:
    """Write one participant (run in a worker process)."""
    from tests.bids.conftest import _asl_result, _gt_results, _structural_result

    results = [_asl_result(1), _gt_results(2), _structural_result(3)]
    _write(Path(output_dir), results, label=label)
    return label


def test_parallel_participants_share_one_folder(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    labels = ["01", "02", "03", "04"]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        done = list(pool.map(_parallel_job, [str(tmp_path)] * len(labels), labels))
    assert done == labels
    expected = "participant_id\n" + "".join(f"sub-{label}\n" for label in labels)
    assert (tmp_path / "participants.tsv").read_text() == expected
    assert _json(tmp_path / "dataset_description.json")["DatasetType"] == "raw"
    assert not list(tmp_path.rglob(".asldro-tmp-*"))


# --------------------------------------------------------------------------------------------
# issue 9: parameters per participant; an asldro dataset's other files are left alone


def test_each_participant_keeps_its_parameters_and_its_sidecars_point_to_them(
    tmp_path, default_results
):
    other = {**PARAMS, "image_series": [{"series_type": "ground_truth"}]}
    _write(tmp_path, default_results, label="01")
    _write(tmp_path, default_results, label="02", params=other)
    assert _json(tmp_path / "code" / "sub-01_dro_params.json") == PARAMS
    assert _json(tmp_path / "code" / "sub-02_dro_params.json") == other
    assert not (tmp_path / "code" / "dro_params.json").exists()
    for label in ("01", "02"):
        provenance = _json(tmp_path / "code" / "provenance" / f"sub-{label}.json")
        assert provenance["parameters"] == f"code/sub-{label}_dro_params.json"
        gt = tmp_path / "derivatives" / "groundtruth" / f"sub-{label}"
        for sidecar in gt.rglob("*.json"):
            assert _json(sidecar)["Sources"] == [f"bids:raw:code/sub-{label}_dro_params.json"]


def test_update_participants_keeps_the_users_columns(tmp_path, default_results):
    _write(tmp_path, default_results, label="01")
    (tmp_path / "participants.tsv").write_text(
        "participant_id\tage\tsex\nsub-01\t34\tF\nsub-09\t50\tM\n"
    )
    _write(tmp_path, default_results, label="02")
    assert (tmp_path / "participants.tsv").read_text() == (
        "participant_id\tage\tsex\nsub-01\t34\tF\nsub-02\tn/a\tn/a\n"
    )


def test_dataset_files_already_there_are_left_alone(tmp_path, default_results):
    _write(tmp_path, default_results, label="01")
    mine = {
        "README.md": b"# our DRO\n",
        "participants.json": b'{"participant_id": {"Description": "id"}, "age": {}}\n',
        "dataset_description.json": json.dumps(
            {**_json(tmp_path / "dataset_description.json"), "Authors": ["Me"]}
        ).encode(),
    }
    for name, content in mine.items():
        (tmp_path / name).write_bytes(content)
    _write(tmp_path, default_results, label="02")
    for name, content in mine.items():
        assert (tmp_path / name).read_bytes() == content, name


def test_a_subject_holding_a_users_file_is_not_replaced(tmp_path, default_results):
    from asldro.output import OutputError

    _write(tmp_path, default_results)
    (tmp_path / "sub-01" / "anat" / "my_mask.nii.gz").write_bytes(b"mine")
    before = {p: (tmp_path / p).read_bytes() for p in _tree(tmp_path)}
    with pytest.raises(OutputError, match="my_mask.nii.gz"):
        _write(tmp_path, default_results)
    assert {p: (tmp_path / p).read_bytes() for p in _tree(tmp_path)} == before


def test_a_write_error_names_the_file_being_written(tmp_path, default_results, monkeypatch):
    """ENOSPC from write(2) carries no file name: the writer names the file it was writing, at
    its final place (not the hidden temporary one)."""
    import errno
    import os

    from asldro.bids import atomic

    def full_disk(path, content):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "write_file", full_disk)
    with pytest.raises(OSError) as caught:
        _write(tmp_path / "out", default_results)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename.startswith(str(tmp_path / "out" / "sub-01" / "perf"))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.nii.gz"))


def test_an_asl_image_that_does_not_match_its_context_is_refused(tmp_path, make_asl_result):
    result = make_asl_result(1, "control label")
    image = result.images["asl"]
    broken = image.evolve("drop", data=image.data[..., :1])
    records = dict(result.records)
    mismatched = SeriesResult(1, "asl", "asl", result.params, {"asl": broken}, records)
    with pytest.raises(ValueError, match="1 volumes, its parameters give 2"):
        _write(tmp_path / "out", [mismatched])
    assert not (tmp_path / "out" / "sub-01").exists()


def test_the_sidecar_follows_the_record(tmp_path, make_asl_result):
    """The sidecar's facts come from the typed acquisition record (Image carries no meta)."""
    import dataclasses

    result = make_asl_result(1, "control label")
    record = dataclasses.replace(result.records["asl"], voxel_size=(9.0, 9.0, 9.0))
    changed = SeriesResult(1, "asl", "asl", result.params, result.images, {"asl": record})
    _write(tmp_path, [changed])
    sidecar = _json(tmp_path / "sub-01" / "perf" / "sub-01_asl.json")
    assert sidecar["AcquisitionVoxelSize"] == [9.0, 9.0, 9.0]
    assert sidecar["M0Type"] == "Absent" and sidecar["TotalAcquiredPairs"] == 1
