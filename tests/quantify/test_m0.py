"""The M0 of each M0Type (Included, Separate, Estimate) and the optional repetition-time
correction M0 / (1 − exp(−TR/T1))."""

import json
import math

import numpy as np

from asldro.quantify import quantify
from tests.quantify.synthetic import Protocol, read_map, truth_maps, write_dataset

T1B, LAMBDA = 1.65, 0.9


def _single_pld_cbf(root, **options):
    result = quantify(root, validate=False, **options)
    return read_map(result.maps["sub-01/perf/sub-01_asl.nii.gz"]["cbf"])


def _matched(maps):
    """T1 per voxel making T1app = T1b, so that one PLD quantifies exactly."""
    return np.where(maps["m0"] > 0, 1.0 / (1.0 / T1B - maps["cbf"] / 6000.0 / LAMBDA), 1.0)


def test_m0_estimate(tmp_path):
    maps = truth_maps(50, att_range=(0.5, 1.2))
    maps["m0"] = np.where(maps["m0"] > 0, 80.0, 0.0)
    protocol = Protocol(
        plds=(1.8,), m0_volumes=0, sidecar={"M0Type": "Estimate", "M0Estimate": 80.0}
    )
    write_dataset(tmp_path / "ds", protocol, maps, t1=_matched(maps))
    cbf = _single_pld_cbf(tmp_path / "ds")
    inside = maps["m0"] > 0
    np.testing.assert_allclose(cbf[inside], maps["cbf"][inside], rtol=1e-6)
    assert np.all(cbf[~inside] == 0)  # no signal there (M0Estimate holds everywhere)


def test_m0_repetition_time_correction(tmp_path):
    """An m0scan with TR 3 s (not fully relaxed): exact with --m0-tr-correction T1 (T1 of the
    tissue), too high without it (M0 is too small)."""
    maps = truth_maps(51, att_range=(0.5, 1.2))
    tissue_t1, tr = 1.4, 3.0
    root = tmp_path / "ds"
    image = write_dataset(
        root,
        Protocol(plds=(1.8,), sidecar={"RepetitionTimePreparation": [tr, 5.0, 5.0, 5.0, 5.0]}),
        maps,
        t1=_matched(maps),
    )
    import nibabel as nib

    loaded = nib.load(str(image))
    data = np.asarray(loaded.dataobj).copy()
    data[..., 0] *= -math.expm1(-tr / tissue_t1)  # the saturated M0 volume
    nib.save(nib.Nifti1Image(data, loaded.affine), image)
    inside = maps["m0"] > 0
    corrected = _single_pld_cbf(root, m0_tr_correction=tissue_t1)
    np.testing.assert_allclose(corrected[inside], maps["cbf"][inside], rtol=1e-6)
    plain = _single_pld_cbf(root, output_dir=tmp_path / "plain")
    np.testing.assert_allclose(
        plain[inside] / maps["cbf"][inside], 1 / -math.expm1(-tr / tissue_t1), rtol=1e-6
    )
    sidecar = json.loads(
        (root / "derivatives/asldro-quantify/sub-01/perf/sub-01_cbf.json").read_text()
    )
    assert "1 − exp(−TR/T1) with T1 1.4 s" in sidecar["Description"]
