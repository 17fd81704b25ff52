"""A simulated non-finite value is an error before anything is written (issue 9 item 5).

Inputs are range-checked, so only extreme-but-valid parameters reach the simulation with
values beyond float32 (here a desired_snr of 1e-40: sigma = reference / snr ~ 1e42)."""

import warnings

import numpy as np
import pytest

from asldro.params import ParamError, default_params, load_params
from asldro.pipelines import generate_series


def _params(series_type: str, **parameters):
    doc = default_params()
    doc["image_series"] = [
        {"series_type": "ground_truth", "series_parameters": {"acq_matrix": [16, 16, 8]}},
        {
            "series_type": series_type,
            "series_parameters": {"acq_matrix": [16, 16, 8], **parameters},
        },
    ]
    return load_params(doc)


@pytest.mark.parametrize("series_type", ["asl", "structural"])
def test_noise_beyond_float32_is_refused_naming_the_series(gt3t, series_type):
    """A ParamError (exit 65) naming the series and the count; no RuntimeWarning escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ParamError) as info:
            generate_series(_params(series_type, desired_snr=1e-40), gt3t)
    message = str(info.value)
    assert message.startswith(f"image_series[1] ({series_type}): ")
    assert "non-finite values" in message
    volumes = 3 if series_type == "asl" else 1
    assert f"{16 * 16 * 8 * volumes} non-finite values" in message
    assert "desired_snr" in message


def test_finite_results_pass_unchanged(gt3t):
    """A tiny but representable SNR is simulated (the check only refuses non-finite data)."""
    _, asl = generate_series(_params("asl", desired_snr=1e-20), gt3t)
    assert np.all(np.isfinite(asl.images["asl"].data))
