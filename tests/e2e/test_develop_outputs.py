"""What the ASLDRO develop keys write (issue 11 item 7): complex asl as BIDS allows it
(part-mag and part-phase asl sharing one aslcontext, the separate m0scan paired part by part)
and every develop structural modality as a BIDS-valid suffix. Each dataset passes the three
validation layers (own checks, pybids, bids-validator-deno) with no finding at all."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from asldro.cli import main
from tests.e2e.conftest import document, small

NOISY = {"desired_snr": 40.0, "random_seed": 5}
T1W_AND_GT = (small("structural", modality="T1w"), small("ground_truth"))


def _generate(tmp_path: Path, doc: dict, capsys, name: str = "out") -> Path:
    params = tmp_path / f"{name}.json"
    params.write_text(json.dumps(doc))
    out = tmp_path / name
    status = main(["generate", "--params", str(params), str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err + captured.out
    report = json.loads((out / "code" / "validation.json").read_text())
    findings = [f for dataset in report["datasets"] for f in dataset["findings"]]
    assert report["ok"] and findings == [], findings
    return out


def test_complex_asl_is_written_as_part_mag_and_part_phase(tmp_path, capsys):
    """A complex asl run: part-mag and part-phase images and sidecars, one aslcontext; its
    separate m0scan likewise, each part intended for the same part of the run; the phase
    sidecars say rad."""
    out = _generate(
        tmp_path,
        document(
            small(
                "asl",
                asl_context="control label control label",
                output_image_type="complex",
                **NOISY,
            ),
            small("asl", asl_context="m0scan", output_image_type="complex", **NOISY),
            *T1W_AND_GT,
        ),
        capsys,
    )
    perf = out / "sub-01" / "perf"
    assert sorted(p.name for p in perf.iterdir()) == [
        "sub-01_aslcontext.tsv",
        "sub-01_part-mag_asl.json",
        "sub-01_part-mag_asl.nii.gz",
        "sub-01_part-mag_m0scan.json",
        "sub-01_part-mag_m0scan.nii.gz",
        "sub-01_part-phase_asl.json",
        "sub-01_part-phase_asl.nii.gz",
        "sub-01_part-phase_m0scan.json",
        "sub-01_part-phase_m0scan.nii.gz",
    ]
    for part in ("mag", "phase"):
        m0 = json.loads((perf / f"sub-01_part-{part}_m0scan.json").read_text())
        assert m0["IntendedFor"] == f"bids::sub-01/perf/sub-01_part-{part}_asl.nii.gz"
        asl = json.loads((perf / f"sub-01_part-{part}_asl.json").read_text())
        assert asl["M0Type"] == "Separate"
        assert ("Units" in asl, "Units" in m0) == ((part == "phase"),) * 2
        if part == "phase":
            assert asl["Units"] == m0["Units"] == "rad"
    phase = nib.load(perf / "sub-01_part-phase_asl.nii.gz").get_fdata()
    assert phase.shape[-1] == 4
    assert np.all(np.abs(phase) <= np.pi + 1e-6) and np.std(phase) > 0.1  # noise has a phase


def test_the_magnitude_part_is_the_magnitude_run(tmp_path, capsys):
    """Complex output is the same acquisition: its magnitude part equals the magnitude run of
    the same parameters and seed (to float32 precision: complex64 before the magnitude)."""
    series = dict(asl_context="m0scan control label", **NOISY)
    magnitude = _generate(
        tmp_path, document(small("asl", **series), *T1W_AND_GT), capsys, "magnitude"
    )
    complex_ = _generate(
        tmp_path,
        document(small("asl", output_image_type="complex", **series), *T1W_AND_GT),
        capsys,
        "complex",
    )
    plain = nib.load(magnitude / "sub-01" / "perf" / "sub-01_asl.nii.gz").get_fdata()
    mag = nib.load(complex_ / "sub-01" / "perf" / "sub-01_part-mag_asl.nii.gz").get_fdata()
    assert mag.shape == plain.shape
    np.testing.assert_allclose(mag, plain, rtol=1e-6, atol=1e-6 * np.max(plain))
    context = complex_ / "sub-01" / "perf" / "sub-01_aslcontext.tsv"
    assert context.read_text() == "volume_type\nm0scan\ncontrol\nlabel\n"


DEVELOP_MODALITIES = ("PDw", "T2starw", "inplaneT1", "inplaneT2", "UNIT1")


def test_every_develop_modality_is_a_valid_bids_suffix(tmp_path, capsys):
    """develop's modalities (PDT2 aside: refused at load) write files every layer accepts;
    those that allow part also as complex."""
    structurals = [small("structural", modality=m) for m in DEVELOP_MODALITIES]
    structurals += [
        small("structural", modality=m, output_image_type="complex")
        for m in DEVELOP_MODALITIES
        if m != "UNIT1"
    ]
    out = _generate(tmp_path, document(small("asl"), *structurals, *T1W_AND_GT), capsys)
    names = sorted(p.name for p in (out / "sub-01" / "anat").glob("*.nii.gz"))
    assert "sub-01_acq-se_UNIT1.nii.gz" in names
    for modality in DEVELOP_MODALITIES[:-1]:  # a magnitude and a complex run of each
        assert f"sub-01_acq-se_run-1_{modality}.nii.gz" in names
        assert f"sub-01_acq-se_run-2_part-mag_{modality}.nii.gz" in names
        assert f"sub-01_acq-se_run-2_part-phase_{modality}.nii.gz" in names


@pytest.mark.parametrize("modality", ["PDT2"])
def test_pdt2_is_refused_before_anything_is_written(modality, tmp_path, capsys):
    """exit 65 and one line, no output."""
    params = tmp_path / "p.json"
    params.write_text(json.dumps(document(small("structural", modality=modality))))
    out = tmp_path / "out"
    assert main(["generate", "--params", str(params), str(out)]) == 65
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "names a two-volume image in BIDS" in err[0]
    assert not out.exists()


def test_planned_file_names_of_a_complex_asl_run_are_the_files_written(tmp_path):
    """The up-front name check sees the parts the writer writes (asl and separate m0scan)."""
    from asldro.api import as_params, generate_participant, load_params_ground_truth
    from asldro.bids.writer import planned_files
    from asldro.output import m0_pairs

    doc = document(
        small(
            "asl", acq_matrix=[8, 8, 4], asl_context="control label", output_image_type="complex"
        ),
        small("asl", acq_matrix=[8, 8, 4], asl_context="m0scan", output_image_type="complex"),
    )
    params = as_params(doc)
    ground_truth = load_params_ground_truth(params)
    planned = planned_files("7", params, ground_truth, m0_pairs(params))
    written = generate_participant(params, tmp_path, "7", ground_truth=ground_truth)
    assert sorted(planned) == sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert "sub-7/perf/sub-7_part-phase_m0scan.nii.gz" in planned
