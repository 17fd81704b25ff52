"""One ``image_series`` entry after validation: defaults, per-token values, the rules across
keys, and the typed series (docs/physics.md §2.3, §2.4).

The entry has passed the schema (:mod:`asldro.params.validate`); here, in code, are the rules
the schema cannot state: one value per ``asl_context`` token (D11; ASLDRO develop's
``{m0scan, control, label}`` objects and motion distributions become those lists, and drawn
motion is checked against the key's range), TR >= TE (+ TI for ir), the phases (per-phase lists
of one length; no list of label durations for PASL), PLD = signal_time - label_duration >= 0 for
(p)CASL in every phase (D17), the kinetic options (:mod:`asldro.params.kinetic_rules`: the PASL
bolus cut-off and its times, dispersion with the full model only), a structural modality names
what is written (PDT2, a two-volume image in BIDS, is refused; UNIT1, a parametric map without
``part``, is magnitude only), and the values not simulated yet
(:mod:`asldro.params.unsupported`). Which keys are per token or per phase, their defaults and the
typed fields all come from the catalog.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Mapping

from asldro.params.background import suppression_problems
from asldro.params.catalog import CONTEXT_KEY, Parameter, PerVolume, default_description, parameters
from asldro.params.distributions import draw, is_distribution
from asldro.params.kinds import NO_DEFAULT, AnyOf, Tokens, json_type_of, unwrap
from asldro.params.kinetic_rules import resolve_kinetic_options
from asldro.params.rules import INVALID, bounds_text, fmt, outside_bounds, show
from asldro.params.slice_checks import slice_problems
from asldro.params.unsupported import refusals
from asldro.params.volume_rules import (
    context_problem,
    image_type_problem,
    missing_context_keys,
    missing_key_text,
)
from asldro.params.types import AslSeries, GroundTruthSeries, Motion, Series, StructuralSeries
from asldro.params.validate import Failures, JsonPath, Problem, convert, text_path
from asldro.params.timing import post_labeling_delay

_TYPED: dict[str, type[AslSeries] | type[StructuralSeries] | type[GroundTruthSeries]] = {
    "asl": AslSeries,
    "structural": StructuralSeries,
    "ground_truth": GroundTruthSeries,
}
_GROUPS = {"motion": Motion}
"""The typed value of each row ``group`` of the catalog."""


# pylint: disable-next=too-many-return-statements  # one return per way the value is given
def _per_token(
    row: Parameter,
    given: Mapping[str, Any],
    tokens: tuple[str, ...] | None,
    path: JsonPath,
    problems: list[Problem],
) -> Any:
    """One value per asl_context token: a list of that length, a broadcast number, or the
    default fitted to the tokens (docs/physics.md §2.3)."""
    if row.name not in given:
        if tokens is None:
            return INVALID
        if isinstance(row.default, Mapping):
            return [convert(row.kind, row.default[token]) for token in tokens]
        return [convert(row.kind, row.default)] * len(tokens)
    value = convert(row.kind, given[row.name])
    if tokens is None:
        return INVALID
    if json_type_of(value) == "number":
        return [value] * len(tokens)
    if is_distribution(value):
        return _drawn(row, value, len(tokens), path, problems)
    if isinstance(value, Mapping):  # {m0scan, control, label, ...}: the value of each token
        missing = missing_context_keys(value, tokens)
        for token in missing:
            problems.append(Problem((*path, token), missing_key_text(text_path(path), token)))
        return INVALID if missing else [value[token] for token in tokens]
    if len(value) != len(tokens):
        phases = _given_phases(given)
        repeat = f"; they repeat in each of the {phases} phases" if phases > 1 else ""
        problems.append(
            Problem(
                path,
                f"{text_path(path)}: expected {len(tokens)} values (one per asl_context volume"
                f"{repeat}), got {len(value)}",
            )
        )
        return INVALID
    return value


def _drawn(
    row: Parameter, spec: Mapping[str, Any], count: int, path: JsonPath, problems: list[Problem]
) -> Any:
    """The values drawn from the distribution ``spec``, one per token, checked against the
    range of the key (ASLDRO develop does not check them)."""
    values = draw(spec, count)
    element = row.kind.options[0] if isinstance(row.kind, AnyOf) else row.kind
    rule = unwrap(element).schema()
    bad = [i for i, value in enumerate(values) if outside_bounds(value, rule)]
    if not bad:
        return values
    shown = ", ".join(f"{show(values[i])} (volume {i})" for i in bad[:3])
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    problems.append(
        Problem(
            path,
            f"{text_path(path)}: the {spec['distribution']} distribution drew {shown}{more}, "
            f"which must be {bounds_text(rule)} {row.unit}",
        )
    )
    return INVALID


def _given_phases(given: Mapping[str, Any]) -> int:
    """The number of phases the per-phase keys of ``given`` ask for (for messages only: the
    longest list, 1 without one)."""
    lengths = [len(given[key]) for key in _PER_PHASE_KEYS if isinstance(given.get(key), list)]
    return max(lengths, default=1)


def _timing_problem(echo: float, repetition: float, ti: float, contrast: str) -> str | None:
    """Why ``repetition`` is too short for ``echo`` (and ``ti`` for ir), or None."""
    if contrast == "ir" and repetition < echo + ti:
        return (
            f"{show(repetition)} must be >= echo_time + inversion_time "
            f"({show(echo)} + {show(ti)} = {fmt(echo + ti)}) for acq_contrast 'ir'"
        )
    if repetition < echo:
        return f"{show(repetition)} must be >= echo_time ({show(echo)})"
    return None


def _check_timing(
    out: Mapping[str, Any], series_type: str, path: JsonPath, problems: list[Problem]
) -> None:
    """TR >= TE per volume; for ir TR >= TE + TI (docs/physics.md §2.3); the phases of an asl
    series (per-phase lists of one length, no list of label durations for pasl); for (p)casl
    signal_time >= label_duration in every phase, i.e. PLD >= 0 (D17). One message per rule,
    reported after the keys' own problems."""
    where = text_path(path)
    problem = _repetition_problem(out, series_type, where)
    if problem:
        problems.append(Problem(path, problem, True))
    if series_type != "asl":
        return
    problem = _phase_problem(out, where) or _post_label_delay_problem(out, where)
    if problem:
        problems.append(Problem(path, problem, True))


def _repetition_problem(out: Mapping[str, Any], series_type: str, where: str) -> str | None:
    """TR >= TE (+ TI for ir) of the resolved parameters ``out`` at ``where``: the message
    naming the first failing volume of an asl series (and the others), or None."""
    te: Any  # each is a valid value of its key, or INVALID: checked below
    tr: Any
    ti: Any
    contrast: Any
    te, tr = out.get("echo_time"), out.get("repetition_time")
    ti, contrast = out.get("inversion_time"), out.get("acq_contrast")
    if INVALID in (te, tr, ti, contrast) or te is None:
        return None
    if series_type != "asl":
        problem = _timing_problem(te, tr, ti, contrast)
        return f"{where}.repetition_time: {problem}" if problem else None
    failing = [
        (i, problem)
        for i, (echo, repetition) in enumerate(zip(te, tr))
        if (problem := _timing_problem(echo, repetition, ti, contrast))
    ]
    if not failing:
        return None
    first, problem = failing[0]
    more = ", ".join(str(i) for i, _ in failing[1:])
    extra = f" (also volumes {more})" if more else ""
    return f"{where}.repetition_time[{first}]: {problem}{extra}"


_PER_PHASE_KEYS = ("label_duration", "signal_time")


def _phase_problem(out: Mapping[str, Any], where: str) -> str | None:
    """Why the per-phase keys of an asl series do not make phases, or None: two lists of
    different lengths, or a list of label durations for pasl (one bolus width)."""
    tau, t, label_type = (out.get(key) for key in (*_PER_PHASE_KEYS, "label_type"))
    if isinstance(tau, list) and isinstance(t, list) and len(tau) != len(t):
        return (
            f"{where}.label_duration: {len(tau)} values (one per phase) but signal_time has "
            f"{len(t)}: two lists must have the same length (or give a number, used in every "
            "phase)"
        )
    if isinstance(tau, list) and label_type == "pasl":
        return (
            f"{where}.label_duration: a list (one per phase) is not supported for label_type "
            "'pasl': a PASL bolus has one width (BolusCutOffDelayTime); give a number"
        )
    return None


def _phase_values(value: Any, phases: int) -> list[Any]:
    return value if isinstance(value, list) else [value] * phases


def _negative_delays(tau: Any, t: Any, label_type: str) -> list[tuple[int, float]]:
    """(phase, PLD) of every phase whose post-labelling delay is negative."""
    phases = max((len(v) for v in (tau, t) if isinstance(v, list)), default=1)
    pairs = zip(_phase_values(tau, phases), _phase_values(t, phases))
    delays = (post_labeling_delay(label_type, one_tau, one_t) for one_tau, one_t in pairs)
    return [(phase, delay) for phase, delay in enumerate(delays) if delay < 0]


def _named(key: str, value: Any, phase: int) -> tuple[str, Any]:
    """``key (value)`` of a per-phase key at ``phase``: ``signal_time[2]`` for a list."""
    if isinstance(value, list):
        return f"{key}[{phase}]", value[phase]
    return key, value


def _post_label_delay_problem(out: Mapping[str, Any], where: str) -> str | None:
    """signal_time >= label_duration in every phase of a (p)casl series (PLD >= 0, D17), or
    None; a list is named with the index of the first failing phase (and the others)."""
    tau, t, label_type = (out.get(key) for key in (*_PER_PHASE_KEYS, "label_type"))
    if INVALID in (tau, t, label_type):
        return None
    # an asl series always resolves label_type (a Choice of strings, default "pcasl", resolved
    # when absent) to a string or INVALID, and INVALID returned above
    assert isinstance(label_type, str)
    failing = _negative_delays(tau, t, label_type)
    if not failing:
        return None
    phase, delay = failing[0]
    t_key, t_value = _named("signal_time", t, phase)
    tau_key, tau_value = _named("label_duration", tau, phase)
    more = ", ".join(str(p) for p, _ in failing[1:])
    extra = f" (also phases {more})" if more else ""
    return (
        f"{where}.{t_key}: {show(t_value)} must be >= {tau_key} ({show(tau_value)}) "
        f"for {label_type}: the post-labelling delay signal_time - label_duration "
        f"= {fmt(delay)} must be >= 0{extra}"
    )


def resolve_parameters(
    series_type: str,
    given: Mapping[str, Any],
    path: JsonPath,
    failures: Failures,
    problems: list[Problem],
) -> dict[str, Any]:
    """``series_parameters`` with every default filled, in catalog order; a key that failed
    validation is :data:`INVALID`."""
    rows = parameters(series_type)
    tokens = None
    if CONTEXT_KEY in rows and failures.clean((*path, CONTEXT_KEY)):
        context = given.get(CONTEXT_KEY, rows[CONTEXT_KEY].default)
        tokens = tuple(context.split(" "))
    out: dict[str, Any] = {}
    for name, row in rows.items():
        key_path = (*path, name)
        if not failures.clean(key_path):
            out[name] = INVALID
        elif row.per_volume is PerVolume.PER_TOKEN:
            out[name] = _per_token(row, given, tokens, key_path, problems)
        elif name in given:
            out[name] = convert(row.kind, given[name])
        elif row.default is not NO_DEFAULT and row.resolved_when_absent:
            out[name] = convert(row.kind, row.default)
    if series_type == "asl":
        resolve_kinetic_options(out, path, problems)
    _check_timing(out, series_type, path, problems)
    _check_modality(out, series_type, path, problems)
    for key, text in refusals(series_type, out, text_path(path)):
        problems.append(Problem((*path, key), text))
    if series_type == "asl":
        _check_volume_types(out, path, problems)
        _readout_problems(out, path, problems)
    return out


def _check_volume_types(out: Mapping[str, Any], path: JsonPath, problems: list[Problem]) -> None:
    """The rules of the vendor volume types (:mod:`asldro.params.volume_rules`): noRF volumes
    need a perfusion volume; deltam and cbf volumes cannot be complex."""
    where = text_path(path)
    for problem in (context_problem(out, where), image_type_problem(out, where)):
        if problem is not None:
            problems.append(Problem((*path, problem[0]), problem[1]))


def _readout_problems(out: Mapping[str, Any], path: JsonPath, problems: list[Problem]) -> None:
    """The readout rules of an asl series (2D slices, background suppression); the
    background-suppression warnings are issued here."""
    for key, text in slice_problems(out, text_path(path)):
        problems.append(Problem((*path, key), text, True))
    for key, text, is_warning in suppression_problems(out, text_path(path)):
        if is_warning:
            warnings.warn(text, stacklevel=3)
        else:
            problems.append(Problem((*path, key), text, True))


PARTLESS_MODALITIES = ("UNIT1",)
"""Structural modalities whose BIDS suffix is a parametric map: the ``part`` entity is not
allowed there (BIDS ``rules/files/raw/anat.yaml`` ``parametric``), so complex output cannot
be written as part-mag/part-phase."""

TWO_VOLUME_MODALITIES = ("PDT2",)
"""Structural modalities whose BIDS suffix names a two-volume image (PDT2: a PD-weighted and a
T2-weighted volume; bids-validator-deno PDT2_FILE_SHOULD_HAVE_TWO_VOLUMES): a structural series
is one volume, so asldro refuses them rather than write a mislabelled file."""


def _check_modality(
    out: Mapping[str, Any], series_type: str, path: JsonPath, problems: list[Problem]
) -> None:
    """A structural modality must name what asldro writes: one volume, and for complex output
    a suffix that allows ``part`` (one message each)."""
    modality, image_type = out.get("modality"), out.get("output_image_type")
    where = text_path(path)
    if series_type != "structural":
        return
    if modality in TWO_VOLUME_MODALITIES:
        problems.append(
            Problem(
                (*path, "modality"),
                f"{where}.modality: {show(modality)} names a two-volume image in BIDS (a "
                "PD-weighted and a T2-weighted volume); a structural series is one volume: use "
                "two structural series with modality 'PDw' and 'T2w'",
            )
        )
    elif modality in PARTLESS_MODALITIES and image_type == "complex":
        problems.append(
            Problem(
                path,
                f"{where}.output_image_type: 'complex' cannot be written for modality "
                f"{show(modality)}: BIDS has no part-mag/part-phase for its parametric maps; "
                "use output_image_type 'magnitude' or another modality",
                True,
            )
        )


def resolve_series(value: Any, index: int, failures: Failures, problems: list[Problem]) -> Any:
    """The validated ``image_series[index]`` in ASLDRO layout, defaults filled (:data:`INVALID`
    when the entry or its type failed validation; its ``series_parameters`` are INVALID when
    that object failed as a whole)."""
    path: JsonPath = ("image_series", index)
    if not isinstance(value, Mapping) or not failures.clean((*path, "series_type")):
        return INVALID
    series_type = value["series_type"]
    given = value.get("series_parameters", {})
    description = value.get("series_description")
    parameters_path = (*path, "series_parameters")
    if failures.broken(parameters_path):
        resolved: Any = INVALID
    else:
        resolved = resolve_parameters(series_type, given, parameters_path, failures, problems)
    return {
        "series_type": series_type,
        "series_description": (
            description if isinstance(description, str) else default_description(series_type)
        ),
        "series_parameters": resolved,
    }


def _typed(row: Parameter, value: Any) -> Any:
    """A resolved value as its typed field holds it: tokens and lists as tuples."""
    if isinstance(unwrap(row.kind), Tokens):
        return tuple(value.split(" "))
    return tuple(value) if isinstance(value, list) else value


def series_from(resolved: Mapping[str, Any]) -> Series:
    """The typed series of a resolved ``image_series`` entry, built from the catalog rows of its
    type: a row's value goes to the field of its name, or into the field of its ``group``
    (the six motion keys make a :class:`Motion`, one per volume for a per-token asl series)."""
    series_type = resolved["series_type"]
    given = resolved["series_parameters"]
    values: dict[str, Any] = {"description": resolved["series_description"]}
    groups: dict[str, dict[str, Any]] = {}
    per_token_groups = set()
    for name, row in parameters(series_type).items():
        if name in given:
            value = given[name]
        elif row.default is not NO_DEFAULT and not row.resolved_when_absent:
            value = row.default  # the resolved file leaves it out; the typed series has it
        else:
            continue
        if row.group is None:
            values[name] = _typed(row, value)
            continue
        groups.setdefault(row.group, {})[name] = value
        if row.per_volume is PerVolume.PER_TOKEN:
            per_token_groups.add(row.group)
    for group, members in groups.items():
        make = _GROUPS[group]
        if group in per_token_groups:
            count = len(next(iter(members.values())))
            values[group] = tuple(
                make(**{name: items[i] for name, items in members.items()}) for i in range(count)
            )
        else:
            values[group] = make(**members)
    cls = _TYPED[series_type]
    return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values})
