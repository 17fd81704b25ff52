"""``asldro score --plots``: an error-map and a Bland-Altman PNG per map, listed in the
derivative, which still validates (matplotlib is in the CI lock: the extra [plots])."""

import numpy as np
import pytest

from asldro.cli import main
from asldro.scoring.plots import brain_slices
from tests.scoring import datasets

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return datasets.generate_block_dataset(tmp_path_factory.mktemp("blocks"))


def test_plots_are_written_and_the_derivative_validates(dataset, tmp_path, capsys):
    expected = datasets.expected_truth(3, (0, 0, 0), (8, 8, 4))
    path = datasets.write_map(
        tmp_path / "sub-01_cbf.nii.gz", expected["cbf"] * 1.1, datasets.affine(3.0)
    )
    assert main(["score", str(dataset), str(path), "--plots"]) == 0
    assert "derivative dataset derivatives/asldro-score: OK (0 errors, 0 warnings" in (
        capsys.readouterr().out
    )
    folder = dataset / "derivatives/asldro-score/sub-01/perf"
    assert sorted(p.name for p in folder.iterdir()) == [
        "sub-01_cbf_blandaltman.png",
        "sub-01_cbf_errormap.png",
        "sub-01_cbf_scores.json",
        "sub-01_cbf_scores.tsv",
    ]
    for name in ("sub-01_cbf_blandaltman.png", "sub-01_cbf_errormap.png"):
        content = (folder / name).read_bytes()
        assert content.startswith(PNG_SIGNATURE) and len(content) > 2000


def test_the_error_map_shows_slices_that_hold_brain():
    brain = np.zeros((4, 4, 20), dtype=bool)
    brain[:, :, 5:15] = True
    assert brain_slices(brain) == [5, 8, 11, 14]
    brain[:, :, :] = False
    brain[1, 1, 7] = True
    assert brain_slices(brain) == [7]
