"""The ASLDRO develop / MRImageTools parameter format (issue 11 item 7; kinetics-readouts
§1.2-1.4, §1.7): the keys develop added load, absent ones keep ASLDRO 2.2.0's defaults, and
every new object refuses unknown keys with a suggestion (docs/physics.md D12)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asldro.params import ParamError, default_params, load_params
from asldro.params.catalog import parameters

from .conftest import asl, document, structural

SP0 = "image_series[0].series_parameters"
EIGHT = "m0scan m0scan control label control label control label"


def _errors(source: Any) -> list[str]:
    with pytest.raises(ParamError) as info:
        load_params(source)
    return info.value.errors


def _asl_resolved(params) -> dict:
    return params.resolved["image_series"][0]["series_parameters"]


# --------------------------------------------------------------------------------------------
# 2.2.0 files resolve as before


def test_a_2_2_0_file_resolves_without_the_develop_keys() -> None:
    """The defaults file states none of the keys develop added (its resolved file, written to
    code/, is byte for byte what it was), yet the typed series has their defaults."""
    resolved = default_params()
    assert "subject_label" not in resolved["global_configuration"]
    for series in resolved["image_series"]:
        for key in ("interpolation", "gkm_model", "background_suppression"):
            assert key not in series["series_parameters"]
    asl_params = resolved["image_series"][0]["series_parameters"]
    assert "output_image_type" not in asl_params
    params = load_params(resolved)
    first = params.series[0]
    assert (first.gkm_model, first.output_image_type, first.background_suppression) == (
        "full",
        "magnitude",
        False,
    )
    assert first.interpolation is None
    assert params.global_config.subject_label is None


def test_develop_keys_given_are_recorded() -> None:
    """A develop key that is given is stated in the resolved file (and reloads the same)."""
    params = load_params(
        document(
            asl(
                interpolation="Nearest",
                output_image_type="complex",
                gkm_model="full",
                background_suppression=False,
            ),
            structural(interpolation="continuous"),
            {
                "series_type": "ground_truth",
                "series_parameters": {"interpolation": ["linear", "NEAREST"]},
            },
        )
    )
    values = _asl_resolved(params)
    assert values["interpolation"] == "nearest"
    assert values["output_image_type"] == "complex"
    assert values["gkm_model"] == "full"
    assert values["background_suppression"] is False
    assert params.resolved["image_series"][1]["series_parameters"]["interpolation"] == "continuous"
    assert params.resolved["image_series"][2]["series_parameters"]["interpolation"] == [
        "linear",
        "nearest",
    ]
    assert params.series[0].interpolation == "nearest"
    assert params.series[2].interpolation == ("linear", "nearest")
    assert load_params(json.loads(json.dumps(params.resolved))) == params


# --------------------------------------------------------------------------------------------
# subject_label (D35)


def test_subject_label_is_typed_and_resolved() -> None:
    """A valid label is kept as given, without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = load_params(document(subject_label="asldro01"))
    assert params.global_config.subject_label == "asldro01"
    assert params.resolved["global_configuration"]["subject_label"] == "asldro01"


def test_subject_label_loses_its_hyphens_with_one_warning() -> None:
    """develop allows '-', a BIDS label does not: it is removed, with one warning naming the
    key, and the resolved file holds the label used."""
    with pytest.warns(UserWarning) as caught:
        params = load_params(document(subject_label="dro-01-a"))
    assert [str(w.message) for w in caught] == [
        "global_configuration.subject_label: \"dro-01-a\" is not a BIDS label ('-' is not "
        'allowed); using "dro01a"'
    ]
    assert params.global_config.subject_label == "dro01a"
    assert params.resolved["global_configuration"]["subject_label"] == "dro01a"


def test_a_sub_prefix_is_removed_as_on_the_command_line() -> None:
    """ "sub-07" names participant 07 (the folder sub-07), as --participant-label sub-07 does,
    not sub-sub07; a '-' after the prefix is still removed with the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = load_params(document(subject_label="sub-07"))
    assert params.global_config.subject_label == "07"
    with pytest.warns(UserWarning, match='using "07b"'):
        params = load_params(document(subject_label="sub-07-b"))
    assert params.global_config.subject_label == "07b"


@pytest.mark.parametrize(
    "label, expected",
    [
        ("--", "global_configuration.subject_label: \"--\" has no letters or digits besides '-'"),
        (
            "a_b",
            "global_configuration.subject_label: expected a BIDS label (letters, digits and +; "
            'a - is removed with a warning), got "a_b"',
        ),
        ("", "global_configuration.subject_label: expected a BIDS label"),
    ],
)
def test_a_subject_label_that_cannot_be_a_bids_label_is_refused(label: str, expected: str) -> None:
    """Still not a BIDS label after removing '-': one line naming the key."""
    errors = _errors(document(subject_label=label))
    assert len(errors) == 1 and errors[0].startswith(expected)


# --------------------------------------------------------------------------------------------
# ground truth {"nii_file", "json_file"}


def test_mrimagetools_ground_truth_form_loads(gt_pair: tuple[Path, Path], tmp_path: Path) -> None:
    """MRImageTools' {"nii_file", "json_file"} resolves like ASLDRO's {"nii", "json"} (relative
    paths against the parameter file; the resolved file uses ASLDRO's keys)."""
    file = tmp_path / "params.json"
    file.write_text(
        json.dumps(
            document(ground_truth={"nii_file": "gt/my_gt.nii.gz", "json_file": "gt/my_gt.json"})
        )
    )
    params = load_params(file)
    nifti, sidecar = gt_pair
    assert params.resolved["global_configuration"]["ground_truth"] == {
        "nii": str(nifti),
        "json": str(sidecar),
    }
    assert params.global_config.ground_truth.nifti == nifti
    assert params.global_config.ground_truth.json == sidecar


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            {"nii": "a.nii", "json": "a.json", "nii_file": "a.nii"},
            'global_configuration.ground_truth: give one of {"nii", "json"} or {"nii_file", '
            '"json_file"}, not keys of both (got "nii", "json", "nii_file")',
        ),
        (
            {"nii": "a.nii", "json_file": "a.json"},
            'global_configuration.ground_truth: give one of {"nii", "json"} or {"nii_file", '
            '"json_file"}, not keys of both (got "nii", "json_file")',
        ),
        (
            {"nii_file": "a.nii"},
            'global_configuration.ground_truth: expected {"nii", "json"} or {"nii_file", '
            '"json_file"}, got keys "nii_file"',
        ),
        (
            {},
            'global_configuration.ground_truth: expected {"nii", "json"} or {"nii_file", '
            '"json_file"}, got keys none',
        ),
        (
            {"nii_fle": "a.nii", "json_file": "a.json"},
            "global_configuration.ground_truth.nii_fle: unknown key (did you mean 'nii_file'?)",
        ),
        (
            {"nii_file": "a.nii", "json_file": "a.txt"},
            "global_configuration.ground_truth.json_file: expected a path ending in .json, got "
            '"a.txt"',
        ),
    ],
)
def test_a_ground_truth_object_gives_exactly_one_form(value: dict, expected: str) -> None:
    """Both forms, neither, or a typo: one line naming the keys."""
    assert _errors(document(ground_truth=value)) == [expected]


# --------------------------------------------------------------------------------------------
# echo_time / repetition_time as {m0scan, control, label}


def test_per_context_objects_give_one_value_per_token() -> None:
    """develop's {m0scan, control, label} becomes the per-token list (the resolved file holds
    the list, so that ASLDRO 2.x reads it)."""
    params = load_params(
        document(
            asl(
                asl_context="control M0SCAN label",
                echo_time={"m0scan": 0.012, "control": 0.011, "label": 0.013},
                repetition_time={"m0scan": 10, "control": 4.5, "label": 4},
            )
        )
    )
    values = _asl_resolved(params)
    assert values["echo_time"] == [0.011, 0.012, 0.013]
    assert values["repetition_time"] == [4.5, 10.0, 4.0]
    assert all(isinstance(v, float) for v in values["repetition_time"])
    assert params.series[0].echo_time == (0.011, 0.012, 0.013)


@pytest.mark.parametrize(
    "key, value, expected",
    [
        (
            "echo_time",
            {"m0scan": 0.01, "control": 0.01},
            [f"{SP0}.echo_time.label: missing (required)"],
        ),
        (
            "repetition_time",
            {"m0scan": 10, "control": 5, "label": 5, "lable": 5},
            [f"{SP0}.repetition_time.lable: unknown key (did you mean 'label'?)"],
        ),
        (
            "echo_time",
            {"m0scan": 0.01, "control": 0, "label": 0.01},
            [f"{SP0}.echo_time.control: 0 must be > 0"],
        ),
        (
            "echo_time",
            {"m0scan": "0.01", "control": 0.01, "label": 0.01},
            [f'{SP0}.echo_time.m0scan: expected a number, got "0.01"'],
        ),
    ],
)
def test_per_context_objects_are_checked(key: str, value: dict, expected: list[str]) -> None:
    """All three tokens required, numbers with the key's range, no other key."""
    assert _errors(document(asl(**{key: value}))) == expected


def test_per_context_objects_meet_the_cross_key_rules() -> None:
    """TR >= TE holds per volume for values given as objects too."""
    errors = _errors(
        document(
            asl(
                asl_context="m0scan control label",
                echo_time={"m0scan": 0.01, "control": 0.01, "label": 0.01},
                repetition_time={"m0scan": 10, "control": 0.005, "label": 5},
            )
        )
    )
    assert errors == [f"{SP0}.repetition_time[1]: 0.005 must be >= echo_time (0.01)"]


def test_structural_echo_time_has_no_object_form() -> None:
    """Only asl keys are per token: a structural echo_time object is refused."""
    errors = _errors(document(structural(echo_time={"m0scan": 1, "control": 1, "label": 1})))
    assert errors == [
        'image_series[0].series_parameters.echo_time: expected a number, got {"m0scan": 1, '
        '"control": 1, "label": 1}'
    ]


# --------------------------------------------------------------------------------------------
# motion distributions


DEVELOP_DOC_ROT_X = [0.8576, 1.1264, 0.9129, 0.9741, 0.9925, 0.9259, 0.8632, 1.0649]
DEVELOP_DOC_TRANSL_Y = [0.7954, 0.7149, 0.2824, 0.3914, 0.648, 0.7005, 0.4615, 0.8319]
"""The arrays ASLDRO develop's docs/usage/series-asl.rst (lines 295, 299) lists for its example
(rot_x gaussian mean 1 sd 0.1 seed 12345; transl_y uniform min 1.0 max 0.1 seed 12345)."""


def test_distributions_draw_develop_documented_values() -> None:
    """develop's documented example draws exactly the documented arrays; the other motion keys
    stay zero; the resolved file holds the drawn arrays."""
    params = load_params(
        document(
            asl(
                asl_context=EIGHT,
                rot_x={"distribution": "gaussian", "mean": 1.0, "sd": 0.1, "seed": 12345},
                transl_y={"distribution": "uniform", "min": 1.0, "max": 0.1, "seed": 12345},
            )
        )
    )
    values = _asl_resolved(params)
    assert values["rot_x"] == DEVELOP_DOC_ROT_X
    assert values["transl_y"] == DEVELOP_DOC_TRANSL_Y
    for key in ("rot_y", "rot_z", "transl_x", "transl_z"):
        assert values[key] == [0.0] * 8
    assert [m.rot_x for m in params.series[0].motion] == DEVELOP_DOC_ROT_X
    again = load_params(json.loads(json.dumps(params.resolved)))
    assert again == params  # the resolved file reproduces without the draw


def test_the_draw_is_numpys_default_rng_rounded_to_four_decimals() -> None:
    """gaussian: default_rng(seed).normal(mean, sd, n); uniform: .uniform(min, max, n) (for
    min <= max numpy's own call); seed 0 when absent; rounded with numpy.round."""
    from asldro.params.distributions import draw, uniform

    gaussian = {"distribution": "gaussian", "mean": -3.0, "sd": 2.5}
    assert draw(gaussian, 5) == list(np.random.default_rng(0).normal(-3.0, 2.5, (5,)).round(4))
    box = {"distribution": "uniform", "min": -2.0, "max": 7.0, "seed": 9}
    assert draw(box, 6) == list(np.random.default_rng(9).uniform(-2.0, 7.0, (6,)).round(4))
    exact = uniform(np.random.default_rng(4), -2.0, 7.0, 6)
    assert np.array_equal(exact, np.random.default_rng(4).uniform(-2.0, 7.0, (6,)))


def test_each_key_has_its_own_generator() -> None:
    """Two keys with the same seed get the same values (develop's documented behaviour)."""
    spec = {"distribution": "gaussian", "mean": 0, "sd": 1, "seed": 3}
    values = _asl_resolved(load_params(document(asl(rot_z=spec, transl_x=spec))))
    assert values["rot_z"] == values["transl_x"] != [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "key, spec, expected",
    [
        (
            "rot_x",
            {"distribution": "gaussian", "mean": 179.9, "sd": 1, "seed": 1},
            f"{SP0}.rot_x: the gaussian distribution drew 180.2456 (volume 0), 180.7216 (volume "
            "1), 180.2304 (volume 2), which must be in [-180, 180] degrees",
        ),
        (
            "transl_z",
            {"distribution": "uniform", "min": 999, "max": 1001, "seed": 0},
            f"{SP0}.transl_z: the uniform distribution drew 1000.2739 (volume 0), which must be "
            "in [-1000, 1000] mm",
        ),
    ],
)
def test_drawn_values_are_checked_against_the_range(key: str, spec: dict, expected: str) -> None:
    """Unlike develop, drawn values outside ±180° / ±1000 mm are refused, naming the key."""
    assert _errors(document(asl(**{key: spec}))) == [expected]


@pytest.mark.parametrize(
    "spec, expected",
    [
        (
            {"distribution": "gausian", "mean": 1, "sd": 1},
            [
                f'{SP0}.rot_y.distribution: "gausian" is not one of gaussian, uniform (did you '
                "mean 'gaussian'?)"
            ],
        ),
        (
            {"mean": 1, "sd": 1},
            [f"{SP0}.rot_y.distribution: missing (required; one of gaussian, uniform)"],
        ),
        (
            {"distribution": "gaussian", "mean": 1, "sd": 1, "sed": 4},
            [f"{SP0}.rot_y.sed: unknown key (did you mean 'seed'?)"],
        ),
        (
            {"distribution": "uniform", "min": 0, "mx": 1},
            [
                f"{SP0}.rot_y.mx: unknown key (did you mean 'max'?)",
                f"{SP0}.rot_y.max: missing (required)",
            ],
        ),
        (
            {"distribution": "gaussian", "mean": 1, "sd": -0.1},
            [f"{SP0}.rot_y.sd: -0.1 must be >= 0"],
        ),
        (
            {"distribution": "gaussian", "mean": 1, "sd": 1, "seed": 1.5},
            [f"{SP0}.rot_y.seed: expected an integer, got 1.5"],
        ),
        (
            {"distribution": "gaussian", "mean": True, "sd": 1},
            [f"{SP0}.rot_y.mean: expected a number, got true"],
        ),
    ],
)
def test_distribution_objects_are_checked(spec: dict, expected: list[str]) -> None:
    """The tag names the variant (did-you-mean), each variant its keys (D12 inside too)."""
    assert _errors(document(asl(rot_y=spec))) == expected


@pytest.mark.parametrize(
    "series", [structural, lambda **kw: {"series_type": "ground_truth", "series_parameters": kw}]
)
def test_distributions_are_asl_only_as_in_develop(series) -> None:
    """develop's structural and ground_truth motion keys are numbers only: so are ours."""
    spec = {"distribution": "gaussian", "mean": 1, "sd": 1}
    errors = _errors(document(series(rot_x=spec)))
    assert errors == [f"{SP0}.rot_x: expected a number, got " + json.dumps(spec)]


# --------------------------------------------------------------------------------------------
# interpolation, output_image_type, modality


@pytest.mark.parametrize(
    "series, value, expected",
    [
        (asl, "cubic", f'{SP0}.interpolation: "cubic" is not one of linear, continuous, nearest'),
        (
            lambda **kw: {"series_type": "ground_truth", "series_parameters": kw},
            ["linear"],
            f"{SP0}.interpolation: expected 2 values, got 1",
        ),
        (
            lambda **kw: {"series_type": "ground_truth", "series_parameters": kw},
            "linear",
            f'{SP0}.interpolation: expected a list, got "linear"',
        ),
    ],
)
def test_interpolation_is_validated(series, value: Any, expected: str) -> None:
    """asl and structural: one of linear, continuous, nearest; ground_truth: a list of two."""
    assert _errors(document(series(interpolation=value))) == [expected]


def test_asl_output_image_type_is_a_choice() -> None:
    """magnitude | complex, like the structural key."""
    assert _errors(document(asl(output_image_type="phase"))) == [
        f'{SP0}.output_image_type: "phase" is not one of magnitude, complex'
    ]


@pytest.mark.parametrize(
    "modality", ["T1w", "T2w", "FLAIR", "anat", "PDw", "T2starw", "inplaneT1", "inplaneT2", "UNIT1"]
)
def test_develop_modalities_load(modality: str) -> None:
    """develop's modalities and 2.2.0's anat load (in any case)."""
    params = load_params(document(structural(modality=modality.upper())))
    assert params.series[0].modality == modality


def test_pdt2_is_refused_with_the_reason() -> None:
    """BIDS's PDT2 is a two-volume image; a structural series is one volume."""
    assert _errors(document(structural(modality="PDT2"))) == [
        f'{SP0}.modality: "PDT2" names a two-volume image in BIDS (a PD-weighted and a '
        "T2-weighted volume); a structural series is one volume: use two structural series "
        "with modality 'PDw' and 'T2w'"
    ]


def test_unit1_is_magnitude_only() -> None:
    """UNIT1 is a BIDS parametric map, which has no part entity."""
    assert _errors(document(structural(modality="UNIT1", output_image_type="complex"))) == [
        f"{SP0}.output_image_type: 'complex' cannot be written for modality \"UNIT1\": BIDS "
        "has no part-mag/part-phase for its parametric maps; use output_image_type "
        "'magnitude' or another modality"
    ]


def test_a_separate_m0scan_has_its_asl_runs_image_type() -> None:
    """BIDS pairs an m0scan with the asl image of the same part: the m0scan-only series must
    have the output_image_type of the asl series it calibrates."""
    errors = _errors(
        document(
            asl(asl_context="control label", output_image_type="complex"),
            asl(asl_context="m0scan"),
        )
    )
    assert errors == [
        "image_series[1].series_parameters.output_image_type: 'magnitude', but the asl series "
        "it calibrates (image_series[0]) is 'complex'; a separate m0scan is paired with the "
        "asl image of the same part, so give both the same output_image_type"
    ]
    load_params(
        document(
            asl(asl_context="control label", output_image_type="complex"),
            asl(asl_context="m0scan", output_image_type="complex"),
        )
    )


# --------------------------------------------------------------------------------------------
# background suppression (docs/physics.md §5.7)


def test_background_suppression_true_is_develops_default_object() -> None:
    """true stands for develop's DEFAULT_BS_PARAMS; the resolved file states it as given."""
    params = load_params(document(asl(background_suppression=True)))
    found = params.series[0].suppression
    assert found is not None and found.optimised
    assert (found.saturation_time, found.optimisation_saturation_time) == (4.0, 3.98)
    assert (found.num_inversion_pulses, found.pulse_efficiency) == (4, "ideal")
    assert found.apply_to == ("label", "control") and found.alpha_bs_per_pulse is None
    assert _asl_resolved(params)["background_suppression"] is True
    assert params.series[0].suppressed("control") and not params.series[0].suppressed("m0scan")


def test_background_suppression_empty_object_takes_the_optimising_defaults() -> None:
    """develop's docs: {} gets the defaults of the optimising validator, i.e. no
    sat_pulse_time_opt (the optimisation nulls at sat_pulse_time itself)."""
    found = load_params(document(asl(background_suppression={}))).series[0].suppression
    assert found is not None and found.optimised
    assert found.optimisation_saturation_time is None and found.saturation_time == 4.0


def test_background_suppression_false_and_absent_are_none() -> None:
    """false and an absent key: no suppression (ASLDRO 2.2.0)."""
    for given in ({"background_suppression": False}, {}):
        assert load_params(document(asl(**given))).series[0].suppression is None


def test_mrimagetools_background_suppression_object_loads() -> None:
    """MRImageTools' narrower object (every key required, ideal pulses) is develop's subset."""
    value = {
        "sat_pulse_time": 4.0,
        "sat_pulse_time_opt": 3.98,
        "pulse_efficiency": "ideal",
        "num_inv_pulses": 2,
        "apply_to_asl_context": ["label", "control"],
    }
    found = load_params(document(asl(background_suppression=value))).series[0].suppression
    assert found is not None and found.num_inversion_pulses == 2


def test_given_inversion_times_are_kept_and_optimisation_keys_warned_about() -> None:
    """inv_pulse_times are used as given (sorted later by the physics); num_inv_pulses beside
    them has no effect: one warning line says so."""
    value = {"inv_pulse_times": [0.9, 0.3], "num_inv_pulses": 4, "alpha_bs_per_pulse": 0.95}
    with pytest.warns(UserWarning, match=r"num_inv_pulses ignored: inv_pulse_times gives"):
        params = load_params(document(asl(background_suppression=value)))
    found = params.series[0].suppression
    assert found is not None and found.inversion_times == (0.9, 0.3)
    assert found.alpha_bs_per_pulse == 0.95 and not found.optimised


@pytest.mark.parametrize(
    "series, message",
    [
        (
            {"acq_contrast": "ir", "background_suppression": True},
            "background suppression with acq_contrast 'ir' is not modelled",
        ),
        (
            {"repetition_time": 3.0, "background_suppression": True},
            "repetition_time[1]: 3.0 s is shorter than the background suppression module of "
            "its control volume (earliest pulse 4.0 s before the excitation)",
        ),
        (
            # 2D: the last of 10 interleaved slices is excited 9 x 0.035 s (the default
            # slice_readout_time) after the first, so 4.1 s does not hold the module
            {
                "repetition_time": 4.1,
                "background_suppression": True,
                "mr_acq_type": "2D",
                "acq_matrix": [16, 16, 10],
            },
            "repetition_time[1]: 4.1 s is shorter than the background suppression module of "
            "its control volume (earliest pulse 4.0 s before the excitation + the last slice "
            "time 0.315 s)",
        ),
        (
            {"background_suppression": {"sat_pulse_time": 4.0, "sat_pulse_time_opt": 4.5}},
            "background_suppression.sat_pulse_time_opt: 4.5 must be <= sat_pulse_time (4.0)",
        ),
        (
            {"background_suppression": {"alpha_bs_per_pulse": 0}},
            "background_suppression.alpha_bs_per_pulse: 0 must be in (0, 1]",
        ),
    ],
)
def test_background_suppression_rules_across_keys(series: dict, message: str) -> None:
    """Each rule the schema cannot state is one line naming the place."""
    errors = _errors(document(asl(**series)))
    assert len(errors) == 1, errors
    assert message in errors[0], errors[0]


def test_background_suppression_object_keys_are_checked() -> None:
    """The develop object's keys are known: a typo gets did-you-mean, a bad value its rule."""
    assert _errors(document(asl(background_suppression={"sat_pulse_tme": 4.0}))) == [
        f"{SP0}.background_suppression.sat_pulse_tme: unknown key (did you mean "
        "'sat_pulse_time'?)"
    ]
    assert _errors(document(asl(background_suppression={"pulse_efficiency": 0.5}))) == [
        f"{SP0}.background_suppression.pulse_efficiency: 0.5 must be in [-1, 0]"
    ]


@pytest.mark.parametrize("model", ["whitepaper", "consensus", "WhitePaper"])
def test_gkm_models_other_than_full_load(model: str) -> None:
    """The three models are simulated (issue 11 item 3): each loads in its canonical spelling
    and the resolved file states it."""
    params = load_params(document(asl(gkm_model=model)))
    assert params.series[0].gkm_model == model.lower()
    assert _asl_resolved(params)["gkm_model"] == model.lower()


def test_gkm_model_full_loads_and_typos_get_a_suggestion() -> None:
    """full loads; an unknown model is an enum error with the closest name."""
    assert load_params(document(asl(gkm_model="Full"))).series[0].gkm_model == "full"
    assert _errors(document(asl(gkm_model="white"))) == [
        f'{SP0}.gkm_model: "white" is not one of full, whitepaper, consensus (did you mean '
        "'whitepaper'?)"
    ]


def test_the_catalog_knows_every_develop_asl_key() -> None:
    """kinetics-readouts §1.3: the complete develop asl key set is in the catalog."""
    develop = {
        "asl_context", "label_type", "label_duration", "signal_time", "label_efficiency",
        "lambda_blood_brain", "t1_arterial_blood", "m0", "acq_matrix", "acq_contrast",
        "excitation_flip_angle", "inversion_flip_angle", "inversion_time", "desired_snr",
        "random_seed", "echo_time", "repetition_time", "rot_x", "rot_y", "rot_z", "transl_x",
        "transl_y", "transl_z", "interpolation", "background_suppression", "output_image_type",
        "gkm_model",
    }  # fmt: skip
    assert develop <= set(parameters("asl"))
    assert {"interpolation", "modality", "output_image_type"} <= set(parameters("structural"))
    assert "interpolation" in parameters("ground_truth")
