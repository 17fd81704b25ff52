"""One ``image_series`` entry after validation: defaults, per-token values, the rules across
keys, and the typed series (docs/physics.md §2.3, §2.4).

The entry has passed the schema (:mod:`asldro.params.validate`); here, in code, are the rules
the schema cannot state: one value per ``asl_context`` token (D11), TR >= TE (+ TI for ir), and
PLD = signal_time - label_duration >= 0 for (p)CASL (D17). Which keys are per token, their
defaults and the typed fields all come from the catalog.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from asldro.params.catalog import CONTEXT_KEY, Parameter, PerVolume, default_description, parameters
from asldro.params.kinds import NO_DEFAULT, Tokens, json_type_of, unwrap
from asldro.params.rules import INVALID, fmt, show
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
    if len(value) != len(tokens):
        problems.append(
            Problem(
                path,
                f"{text_path(path)}: expected {len(tokens)} values (one per asl_context volume), "
                f"got {len(value)}",
            )
        )
        return INVALID
    return value


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
    """TR >= TE per volume; for ir TR >= TE + TI (docs/physics.md §2.3); for (p)casl
    signal_time >= label_duration, i.e. PLD >= 0 (D17). One message per rule, reported after
    the keys' own problems."""
    problem = _repetition_problem(out, series_type, text_path(path))
    if problem:
        problems.append(Problem(path, problem, True))
    problem = _post_label_delay_problem(out, series_type, text_path(path))
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


def _post_label_delay_problem(out: Mapping[str, Any], series_type: str, where: str) -> str | None:
    """signal_time >= label_duration of a (p)casl series (PLD >= 0, D17), or None."""
    tau: Any  # each is a valid value of its key, or INVALID: checked below
    t: Any
    label_type: Any
    tau, t, label_type = out.get("label_duration"), out.get("signal_time"), out.get("label_type")
    if series_type != "asl" or INVALID in (tau, t, label_type):
        return None
    delay = post_labeling_delay(label_type, tau, t)
    if delay >= 0:
        return None
    return (
        f"{where}.signal_time: {show(t)} must be >= label_duration ({show(tau)}) "
        f"for {label_type}: the post-labelling delay signal_time - label_duration "
        f"= {fmt(delay)} must be >= 0"
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
        elif row.default is not NO_DEFAULT:
            out[name] = convert(row.kind, row.default)
    _check_timing(out, series_type, path, problems)
    return out


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
        if name not in given:
            continue
        if row.group is None:
            values[name] = _typed(row, given[name])
            continue
        groups.setdefault(row.group, {})[name] = given[name]
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
