"""The optional arterial quantities of a ground truth (issue 11 item 5): ``abv`` and ``abat``
may be set by image_override, ground_truth_modulate or the ground-truth file; absent means 0;
``abat`` defaults to ``transit_time - 0.3 s`` clipped at 0 where aBV > 0 (docs/physics.md §3.3,
§4.9)."""

from __future__ import annotations

import numpy as np
import pytest

from asldro.groundtruth import GroundTruth, GroundTruthError, load_ground_truth
from asldro.groundtruth.arterial import with_default_abat
from asldro.params import ParamError, load_params
from asldro.params.types import GlobalConfig, GroundTruthSource, Modulation

from .conftest import PARAMETERS, SEGMENTATION, TABLES, nested_seg

BUILTIN = GroundTruthSource(name="hrgt_icbm_2009a_nls_3t")


def _config(**kwargs) -> GlobalConfig:
    return GlobalConfig(
        ground_truth=BUILTIN,
        image_override=kwargs.get("image_override", {}),
        parameter_override={},
        ground_truth_modulate=kwargs.get("ground_truth_modulate", {}),
    )


def _synthetic(**extra: np.ndarray) -> GroundTruth:
    seg = nested_seg()
    maps = {name: np.asarray(table, dtype=np.float64) for name, table in TABLES.items()}
    return GroundTruth(
        affine=np.eye(4),
        shape=seg.shape,
        seg=seg,
        segmentation=SEGMENTATION,
        maps={**maps, **extra},
        units={name: "" for name in [*maps, *extra]},
        parameters=PARAMETERS,
    )


def test_a_ground_truth_without_abv_has_no_arterial_quantities() -> None:
    """The built-in has neither quantity, and gets none (today's numbers unchanged)."""
    truth = load_ground_truth(BUILTIN, _config())
    assert "abv" not in truth.maps and "abat" not in truth.maps


def test_image_override_creates_abv_and_the_default_abat() -> None:
    """abv 0.01 everywhere: abat = transit_time - 0.3 s per tissue (GM 0.5, WM 0.9, CSF
    999.7), 0 in the background (transit 0, clipped); both lookup tables, units from the
    catalog, listed after the file's quantities."""
    truth = load_ground_truth(BUILTIN, _config(image_override={"abv": 0.01}))
    assert truth.is_table("abv") and truth.is_table("abat")
    np.testing.assert_array_equal(truth.maps["abv"], 0.01)
    np.testing.assert_allclose(truth.maps["abat"], [0.0, 0.5, 0.9, 999.7], rtol=0, atol=1e-12)
    assert truth.units["abv"] == "fraction" and truth.units["abat"] == "s"
    assert truth.quantities[-2:] == ("abv", "abat")


def test_abat_is_zero_where_abv_is_zero_and_given_abat_is_kept() -> None:
    """A modulated abv (0 + offset per label is uniform, so scale a given table instead) and a
    given abat is used as it is."""
    abv = np.array([0.0, 0.02, 0.0, 0.01])
    truth = with_default_abat(_synthetic(abv=abv))
    np.testing.assert_allclose(truth.maps["abat"], [0.0, 0.4, 0.0, 999.7], rtol=0, atol=1e-12)
    given = _synthetic(abv=abv, abat=np.array([0.0, 0.3, 0.3, 0.3]))
    assert with_default_abat(given) is given


def test_a_dense_abv_gives_a_dense_abat() -> None:
    """abv as a dense map: abat dense too, from the dense transit time."""
    seg = nested_seg()
    abv = np.where(seg == 1, 0.015, 0.0)
    abv[seg == 1] = np.linspace(0.005, 0.02, int((seg == 1).sum()))
    truth = with_default_abat(_synthetic(abv=abv))
    assert not truth.is_table("abat")
    expected = np.where(abv > 0, np.maximum(truth.dense("transit_time") - 0.3, 0.0), 0.0)
    np.testing.assert_array_equal(truth.maps["abat"], expected)


def test_modulate_starts_an_absent_abv_from_zero() -> None:
    """ground_truth_modulate on an absent abv: absent means 0, so only the offset counts."""
    config = _config(ground_truth_modulate={"abv": Modulation(scale=3.0, offset=0.02)})
    truth = load_ground_truth(BUILTIN, config)
    np.testing.assert_allclose(truth.maps["abv"], 0.02)


def test_abat_alone_is_kept_without_an_arterial_signal() -> None:
    """image_override abat without abv: abat exists (and is written), abv does not."""
    truth = load_ground_truth(BUILTIN, _config(image_override={"abat": 0.4}))
    assert "abv" not in truth.maps
    np.testing.assert_array_equal(truth.maps["abat"], 0.4)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"abv": 1.5}, "global_configuration.image_override.abv: 1.5 must be in [0, 1]"),
        ({"abat": -0.1}, "global_configuration.image_override.abat: -0.1 must be >= 0"),
    ],
)
def test_out_of_range_values_are_parameter_errors(override, message) -> None:
    """The catalog's ranges (abv a fraction in [0, 1], abat >= 0) are the image_override rules."""
    document = {
        "global_configuration": {
            "ground_truth": "hrgt_icbm_2009a_nls_3t",
            "image_override": override,
        },
        "image_series": [],
    }
    with pytest.raises(ParamError) as info:
        load_params(document)
    assert info.value.errors == [message]


def test_a_modulation_out_of_range_is_blamed_on_it() -> None:
    """abv scaled above 1 is refused naming the modulation."""
    config = _config(
        image_override={"abv": 0.5}, ground_truth_modulate={"abv": Modulation(scale=3.0)}
    )
    with pytest.raises(GroundTruthError, match="ground_truth_modulate.abv: abv must be in"):
        load_ground_truth(BUILTIN, config)
