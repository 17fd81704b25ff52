"""Draw docs/images/lesion.png, the README's lesion example (docs/physics.md §3.6): an axial slice
of the ground-truth CBF that ``asldro generate`` writes for the README's lesion snippet (a
hypoperfused sphere with a smooth edge and a sharp ellipsoid with delayed arrival).

Usage: ``python bench/lesion_figure.py [OUTPUT.png]`` (needs the ``plots`` extra: matplotlib).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

from asldro.api import generate

LESIONS = [
    {
        "shape": "sphere",
        "name": "infarct",
        "centre": [30, -10, 22],
        "radius": 15,
        "edge": "smooth",
        "edge_width": 4,
        "values": {"perfusion_rate": {"scale": 0.3}, "transit_time": 2.0},
    },
    {
        "shape": "ellipsoid",
        "name": "delay",
        "centre": [-30, 20, 22],
        "radii": [20, 10, 8],
        "rotation": [0, 0, 30],
        "values": {"transit_time": {"scale": 1.5}},
    },
]
SLICE_Z_MM = 22.0


def main(argv: list[str]) -> int:
    """Generate the dataset in a temporary folder and draw the slice."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel  # the plots extra

    target = Path(argv[0]) if argv else Path("docs/images/lesion.png")
    document = {
        "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t", "lesions": LESIONS},
        "image_series": [
            {"series_type": "ground_truth", "series_parameters": {"acq_matrix": [197, 233, 189]}}
        ],
    }
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "dro"
        generate(document, out, validate=False, report=False)
        image = nib.load(
            out / "derivatives/groundtruth/sub-01/perf/sub-01_desc-groundtruth_cbf.nii.gz"
        )
        cbf = np.asarray(image.dataobj)
        k = int(round((SLICE_Z_MM - image.affine[2, 3]) / image.affine[2, 2]))
    figure, axes = plt.subplots(figsize=(3.6, 3.6), dpi=90)
    shown = axes.imshow(cbf[:, :, k].T, origin="lower", cmap="viridis", vmin=0, vmax=70)
    axes.set_axis_off()
    axes.set_title(f"ground-truth CBF, z = {SLICE_Z_MM:g} mm", fontsize=8)
    colorbar = figure.colorbar(shown, ax=axes, fraction=0.04, pad=0.02)
    colorbar.set_label("mL/100g/min", fontsize=7)
    colorbar.ax.tick_params(labelsize=6)
    figure.tight_layout()
    figure.savefig(target, metadata={"Software": None})
    print(f"wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
