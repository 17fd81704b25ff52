"""Multi-PLD series (issue 11 item 1): ``signal_time`` / ``label_duration`` per phase,
``m0scan_phases``, and the one per-volume expansion rule (``AslSeries.volumes``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asldro.cli import main
from asldro.params import ParamError, load_params
from asldro.params.timing import post_labeling_delay
from asldro.params.types import AslVolume, LabelTiming, Motion

from .conftest import asl, document

SP0 = "image_series[0].series_parameters"


def _series(**parameters: Any):
    return load_params(document(asl(**parameters))).series[0]


def _errors(**parameters: Any) -> list[str]:
    with pytest.raises(ParamError) as info:
        load_params(document(asl(**parameters)))
    return info.value.errors


def test_develop_docs_example_gives_six_volumes_at_three_delays() -> None:
    """ASLDRO develop docs/usage/series-asl.rst: label_duration 1.0, signal_time [1.0, 1.25,
    1.5], asl_context "control label" -> control/label at PLD 0.00, 0.25, 0.50."""
    series = _series(label_duration=1.0, signal_time=[1.0, 1.25, 1.5], asl_context="control label")
    volumes = series.volumes
    assert [v.token for v in volumes] == ["control", "label"] * 3
    assert [v.phase for v in volumes] == [0, 0, 1, 1, 2, 2]
    assert [v.index for v in volumes] == list(range(6))
    plds = [post_labeling_delay("pcasl", v.label_duration, v.signal_time) for v in volumes]
    assert plds == [0.0, 0.0, 0.25, 0.25, 0.5, 0.5]
    assert series.phases == (LabelTiming(1.0, 1.0), LabelTiming(1.0, 1.25), LabelTiming(1.0, 1.5))


def test_one_phase_is_one_volume_per_token() -> None:
    """Scalars: one phase, volume i is token i with token i's values (today's series)."""
    series = _series(
        asl_context="m0scan control label",
        echo_time=[0.01, 0.02, 0.03],
        repetition_time=[10, 5, 6],
        rot_z=[0, 1, 2],
    )
    assert series.phases == (LabelTiming(1.8, 3.6),)
    assert series.volumes == tuple(
        AslVolume(i, token, i, 0, 1.8, 3.6, te, tr, Motion(rot_z=rot))
        for i, (token, te, tr, rot) in enumerate(
            zip(("m0scan", "control", "label"), (0.01, 0.02, 0.03), (10.0, 5.0, 6.0), (0, 1, 2))
        )
    )


def test_per_token_values_repeat_in_every_phase() -> None:
    """Phases outer, tokens inner; TE, TR and motion follow the token, not the volume."""
    series = _series(
        asl_context="m0scan control label",
        signal_time=[2.0, 2.6],
        echo_time=[0.01, 0.02, 0.03],
        repetition_time=[10, 5, 6],
        transl_x=[0, 1, 2],
    )
    volumes = series.volumes
    assert [v.token for v in volumes] == ["m0scan", "control", "label"] * 2
    assert [v.token_index for v in volumes] == [0, 1, 2, 0, 1, 2]
    assert [v.signal_time for v in volumes] == [2.0] * 3 + [2.6] * 3
    assert [v.echo_time for v in volumes] == [0.01, 0.02, 0.03] * 2
    assert [v.repetition_time for v in volumes] == [10.0, 5.0, 6.0] * 2
    assert [v.motion.transl_x for v in volumes] == [0.0, 1.0, 2.0] * 2
    assert series.volume_tokens == tuple(v.token for v in volumes)


def test_a_scalar_label_duration_repeats_and_lists_pair_up() -> None:
    """A number is used in every phase; two lists pair entry by entry."""
    variable = _series(label_duration=[1.0, 1.5, 2.0], signal_time=3.0, asl_context="label")
    assert variable.phases == (LabelTiming(1.0, 3.0), LabelTiming(1.5, 3.0), LabelTiming(2.0, 3.0))
    both = _series(label_duration=[1.0, 1.5], signal_time=[2.8, 3.3], asl_context="label")
    assert both.phases == (LabelTiming(1.0, 2.8), LabelTiming(1.5, 3.3))
    assert [v.timing for v in both.volumes] == list(both.phases)


def test_m0scan_phases_first_keeps_the_m0scan_in_the_first_phase_only() -> None:
    """m0scan_phases "first": later phases drop their m0scan tokens; "all" (the default,
    ASLDRO develop) repeats them; indices stay consecutive."""
    parameters = {"asl_context": "m0scan control label m0scan", "signal_time": [2.0, 2.5, 3.0]}
    every = _series(**parameters)
    assert every.m0scan_phases == "all"
    assert every.volume_tokens == ("m0scan", "control", "label", "m0scan") * 3
    first = _series(**parameters, m0scan_phases="first")
    assert (
        first.volume_tokens
        == ("m0scan", "control", "label", "m0scan")
        + (
            "control",
            "label",
        )
        * 2
    )
    assert [v.index for v in first.volumes] == list(range(8))
    assert [v.phase for v in first.volumes] == [0, 0, 0, 0, 1, 1, 2, 2]
    assert [v.token_index for v in first.volumes] == [0, 1, 2, 3, 1, 2, 1, 2]


def test_the_resolved_file_keeps_numbers_and_lists_as_given() -> None:
    """Scalars stay scalars, lists lists; loading the resolved file gives the same series. An
    absent m0scan_phases is not stated (a key added after ASLDRO 2.2.0) but typed as "all"."""
    params = load_params(document(asl(label_duration=1.5, signal_time=[2.0, 3])))
    resolved = params.resolved["image_series"][0]["series_parameters"]
    assert resolved["label_duration"] == 1.5
    assert resolved["signal_time"] == [2.0, 3.0]
    assert "m0scan_phases" not in resolved
    assert params.series[0].m0scan_phases == "all"
    assert params.series[0].signal_time == (2.0, 3.0)
    again = load_params(json.loads(json.dumps(params.resolved)))
    assert again == params


def test_lists_of_different_lengths_are_one_error_naming_both() -> None:
    """label_duration with 2 values and signal_time with 3: one line, both keys and lengths."""
    assert _errors(label_duration=[1.0, 1.2], signal_time=[2.0, 2.5, 3.0]) == [
        f"{SP0}.label_duration: 2 values (one per phase) but signal_time has 3: two lists must "
        "have the same length (or give a number, used in every phase)"
    ]


def test_a_label_duration_list_is_refused_for_pasl() -> None:
    """A PASL bolus has one width: a list of label durations is refused."""
    errors = _errors(label_type="pasl", label_duration=[0.7, 0.8], signal_time=[1.5, 1.8])
    assert len(errors) == 1
    assert errors[0].startswith(f"{SP0}.label_duration: a list (one per phase) is not supported")
    assert "'pasl'" in errors[0]
    assert len(_series(label_type="pasl", label_duration=0.8, signal_time=[1.0, 1.8]).phases) == 2


def test_every_phase_needs_a_non_negative_delay() -> None:
    """(p)CASL PLD = t - tau >= 0 per phase; the message names the first failing phase."""
    assert _errors(label_duration=1.8, signal_time=[2.0, 1.5, 1.0]) == [
        f"{SP0}.signal_time[1]: 1.5 must be >= label_duration (1.8) for pcasl: the "
        "post-labelling delay signal_time - label_duration = -0.3 must be >= 0 (also phases 2)"
    ]
    assert _errors(label_duration=[1.0, 2.0], signal_time=1.8) == [
        f"{SP0}.signal_time: 1.8 must be >= label_duration[1] (2.0) for pcasl: the "
        "post-labelling delay signal_time - label_duration = -0.2 must be >= 0"
    ]


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({"signal_time": []}, f"{SP0}.signal_time: expected at least 1 value, got 0"),
        ({"signal_time": [2.0, 120]}, f"{SP0}.signal_time[1]: 120 must be in [0, 100]"),
        ({"label_duration": [1.0, "2"]}, f'{SP0}.label_duration[1]: expected a number, got "2"'),
        ({"m0scan_phases": "last"}, f'{SP0}.m0scan_phases: "last" is not one of all, first'),
    ],
)
def test_malformed_per_phase_values(parameters: dict, message: str) -> None:
    """The schema's own rules for the new keys, one line each."""
    assert _errors(**parameters) == [message]


def test_a_phase_mismatch_exits_65_with_one_line(tmp_path, capsys) -> None:
    """Through the command line: exit 65, one line on stderr, nothing written."""
    params = tmp_path / "p.json"
    params.write_text(json.dumps(document(asl(label_duration=[1.0, 1.2], signal_time=[2, 3, 4]))))
    out = tmp_path / "out"
    assert main(["generate", "--params", str(params), str(out)]) == 65
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "label_duration: 2 values" in err[0] and "signal_time has 3" in err[0]
    assert not out.exists()


def test_a_per_token_list_of_one_per_volume_is_explained() -> None:
    """9 echo times for 3 tokens x 3 phases: the values are per token and repeat per phase."""
    assert _errors(echo_time=[0.01] * 9, signal_time=[2.0, 2.5, 3.0]) == [
        f"{SP0}.echo_time: expected 3 values (one per asl_context volume; they repeat in each "
        "of the 3 phases), got 9"
    ]
