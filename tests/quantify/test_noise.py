"""Noisy data as a scanner writes it: noise on every volume, background included, so that M0 is
a tiny positive number in some voxels outside the head and ΔM/M0 is huge there. The fit must
stay finite (no overflow, no warning) and leave the brain voxels unaffected."""

import warnings

import nibabel as nib
import numpy as np

from asldro.quantify import quantify
from tests.quantify.synthetic import Protocol, read_map, truth_maps, write_dataset


def test_background_noise_over_a_tiny_m0_stays_finite(tmp_path):
    maps = truth_maps(60, shape=(8, 6, 4))
    outside = np.zeros(maps["m0"].shape, dtype=bool)
    outside[:, :2, :] = True
    maps["cbf"][outside] = 0.0
    root = tmp_path / "ds"
    image = write_dataset(root, Protocol(), maps, model="full", t1=1.3)
    loaded = nib.load(str(image))
    data = np.asarray(loaded.dataobj).copy()
    rng = np.random.default_rng(60)
    data[outside] = rng.normal(0.0, 1.0, data[outside].shape)  # noise only ...
    data[outside, 0] = rng.uniform(1e-4, 1e-2, int(outside.sum()))  # ... over a tiny M0
    nib.save(nib.Nifti1Image(data, loaded.affine), image)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = quantify(root, model="full", validate=False)
    run = result.maps["sub-01/perf/sub-01_asl.nii.gz"]
    fitted = {name: read_map(path) for name, path in run.items()}
    for values in fitted.values():
        assert np.isfinite(values).all()
    brain = ~outside & (maps["m0"] > 0)
    np.testing.assert_allclose(fitted["cbf"][brain], maps["cbf"][brain], rtol=1e-4)
