"""A participant's draws from a cohort (docs/cohort.md "Streams"): pure functions of the typed
:class:`~asldro.params.cohort.Cohort`, the seed and the participant label (and, for the motion,
the session and the series), never of the other participants, their order or the parallelism.

Every drawn value has its own stream, ``numpy.random.Generator(PCG64(SeedSequence(entropy=seed,
spawn_key=(key(label), key(part), ...))))`` with ``key(text)`` the integer of the text's UTF-8
bytes (:func:`asldro.pipelines.seeds.label_key`):

* group: ``(label, "group")``, one uniform against the cumulative shares;
* tissue values: ``(label, "physiology", tissue, quantity)``;
* lesion: ``(label, "lesion", "presence")``, ``(label, "lesion", "radius")``,
  ``(label, "lesion", "centre", axis)``, ``(label, "lesion", "values", quantity)``;
* motion: ``(label, "motion", session or "", series index)``.

Adding a quantity, a tissue or a group therefore changes no other value's draw; the noise
streams (``(label, series, volume)``, :mod:`asldro.pipelines.seeds`) are separate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from asldro.params.cohort import (
    Cohort,
    CohortLesion,
    Distribution,
    Group,
    MotionScenario,
    Value,
)
from asldro.params.errors import ParamError
from asldro.pipelines.seeds import describe, label_key

AXES = ("x", "y", "z")
MOTION_KEYS = ("transl_x", "transl_y", "transl_z", "rot_x", "rot_y", "rot_z")
"""The six parameters of a drawn volume motion, in the order of :func:`draw_motion`'s rows."""


def stream_key(part: str | int) -> int:
    """A spawn-key entry: an integer as it is, a text as the integer of its UTF-8 bytes."""
    return int(part) if isinstance(part, int) else label_key(part)


def sequence(seed: int, label: str, *parts: str | int) -> np.random.SeedSequence:
    """The SeedSequence of one draw of participant ``label`` (module docstring)."""
    return np.random.SeedSequence(
        entropy=int(seed), spawn_key=(label_key(label), *(stream_key(p) for p in parts))
    )


def generator(seed: int, label: str, *parts: str | int) -> np.random.Generator:
    """The generator of :func:`sequence`."""
    return np.random.Generator(np.random.PCG64(sequence(seed, label, *parts)))


@dataclass(frozen=True)
class DrawnValue:
    """One drawn value, with its distribution (None: given as a number) and its stream."""

    value: float
    distribution: Distribution | None
    stream: Mapping[str, Any]

    def record(self) -> dict[str, Any]:
        """JSON-able: the value, the distribution object as given, the stream."""
        spec = None if self.distribution is None else dict(self.distribution.spec)
        return {"value": self.value, "distribution": spec, "stream": dict(self.stream)}


def _draw_value(value: Value, seed: int, label: str, *parts: str | int) -> DrawnValue:
    stream = describe(sequence(seed, label, *parts))
    if isinstance(value, Distribution):
        return DrawnValue(value.draw(generator(seed, label, *parts)), value, stream)
    return DrawnValue(float(value), None, stream)


@dataclass(frozen=True)
class LesionDraw:
    """The cohort lesion of a participant: ``present`` or not; when present its drawn
    ``radius`` (mm), ``centre`` (world mm) and ``values`` per quantity (a drawn value, or None
    for a number or scale given as it is: :attr:`~asldro.params.cohort.CohortLesion.values`)."""

    lesion: CohortLesion
    present: bool
    radius: DrawnValue | None = None
    centre: tuple[DrawnValue, ...] = ()
    values: Mapping[str, DrawnValue] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """JSON-able record of the draw."""
        out: dict[str, Any] = {"where": self.lesion.where, "present": self.present}
        if self.present and self.radius is not None:
            out["name"] = self.lesion.name
            out["radius_mm"] = self.radius.record()
            out["centre_mm"] = [axis.record() for axis in self.centre]
            out["values"] = {name: value.record() for name, value in self.values.items()}
        return out


@dataclass(frozen=True)
class ParticipantDraw:
    """Everything a cohort draws for one participant that does not depend on the session: the
    ``group`` (None without groups), the tissue values ``{tissue: {quantity: drawn}}``, the
    lesion (None when the group has none)."""

    label: str
    seed: int
    group: Group | None
    tissues: Mapping[str, Mapping[str, DrawnValue]]
    lesion: LesionDraw | None

    def record(self) -> dict[str, Any]:
        """JSON-able record of every drawn value and its stream."""
        return {
            "seed": self.seed,
            "group": None if self.group is None else self.group.name,
            "group_stream": describe(sequence(self.seed, self.label, "group")),
            "tissues": {
                tissue: {name: value.record() for name, value in quantities.items()}
                for tissue, quantities in self.tissues.items()
            },
            "lesion": None if self.lesion is None else self.lesion.record(),
        }


def assign_group(cohort: Cohort, seed: int, label: str) -> Group | None:
    """The group of ``label``: the group whose ``participants`` list has it, else one drawn by
    the shares (one uniform of the ``(label, "group")`` stream against their cumulative sum, in
    list order); None without groups.

    Raises
    ------
    ParamError
        The label is in no list and no group has a share.
    """
    if not cohort.groups:
        return None
    for group in cohort.groups:
        if label in group.participants:
            return group
    shared = [group for group in cohort.groups if group.share is not None]
    if not shared:
        names = ", ".join(group.name for group in cohort.groups)
        raise ParamError(
            f"global_configuration.cohort.groups: participant {json.dumps(label)} is in no "
            f"group's participants list ({names}); add it to one, or give the groups a share"
        )
    draw = float(generator(seed, label, "group").random())
    total = 0.0
    for group in shared:
        total += float(group.share or 0.0)
        if draw < total:
            return group
    return shared[-1]  # shares sum to 1 within rounding


def _lesion_draw(lesion: CohortLesion, seed: int, label: str) -> LesionDraw:
    presence = float(generator(seed, label, "lesion", "presence").random())
    if presence >= lesion.probability:
        return LesionDraw(lesion, False)
    return LesionDraw(
        lesion,
        True,
        radius=_draw_value(lesion.radius, seed, label, "lesion", "radius"),
        centre=tuple(
            _draw_value(value, seed, label, "lesion", "centre", axis)
            for axis, value in zip(AXES, lesion.centre)
        ),
        values={
            name: _draw_value(value, seed, label, "lesion", "values", name)
            for name, value in lesion.values.items()
            if isinstance(value, Distribution)
        },
    )


def tissue_settings(cohort: Cohort, group: Group | None) -> Mapping[str, Mapping[str, Any]]:
    """The distributions a participant of ``group`` draws from (the cohort's without groups)."""
    return cohort.tissues if group is None else group.tissues


def draw_participant(cohort: Cohort, label: str, seed: int | None = None) -> ParticipantDraw:
    """The physiology of participant ``label``: its group, a value of every (tissue, quantity)
    its group names, and its lesion (module docstring); ``seed`` (``--seed``) replaces the
    cohort's."""
    seed = cohort.seed if seed is None else int(seed)
    group = assign_group(cohort, seed, label)
    tissues = {
        tissue: {
            quantity: _draw_value(distribution, seed, label, "physiology", tissue, quantity)
            for quantity, distribution in quantities.items()
        }
        for tissue, quantities in tissue_settings(cohort, group).items()
    }
    lesion = cohort.lesion if group is None else group.lesion
    return ParticipantDraw(
        label=label,
        seed=seed,
        group=group,
        tissues=tissues,
        lesion=None if lesion is None else _lesion_draw(lesion, seed, label),
    )


def motion_scenario(cohort: Cohort, group: Group | None) -> MotionScenario | None:
    """The motion scenario of a participant of ``group``."""
    return cohort.motion if group is None else group.motion


def draw_motion(
    scenario: MotionScenario,
    seed: int,
    label: str,
    session: str | None,
    series_index: int,
    volumes: int,
) -> np.ndarray:
    """``(volumes, 6)`` motion parameters (:data:`MOTION_KEYS`: mm, degrees) of one asl series
    from the ``(label, "motion", session or "", series_index)`` stream (docs/cohort.md
    "Motion")."""
    rng = generator(seed, label, "motion", session or "", int(series_index))
    out = np.zeros((volumes, 6), dtype=np.float64)
    sd = np.array([*scenario.translation_sd, *scenario.rotation_sd], dtype=np.float64)
    if scenario.scenario == "jitter":
        out[:] = rng.normal(0.0, 1.0, (volumes, 6)) * sd
    elif scenario.scenario == "drift":
        ends = np.array(
            [_drifted(value, rng) for value in (*scenario.translation, *scenario.rotation)]
        )
        ramp = np.linspace(0.0, 1.0, volumes) if volumes > 1 else np.zeros(1)
        out[:] = ramp[:, np.newaxis] * ends
    elif scenario.scenario == "jumps" and volumes > 1:
        if scenario.count is not None:
            count = min(int(scenario.count), volumes - 1)
            at = np.sort(rng.choice(np.arange(1, volumes), size=count, replace=False))
        else:
            at = np.flatnonzero(rng.random(volumes - 1) < float(scenario.rate or 0.0)) + 1
        steps = np.zeros((volumes, 6), dtype=np.float64)
        steps[at] = rng.normal(0.0, 1.0, (at.size, 6)) * sd
        out[:] = np.cumsum(steps, axis=0)
    return out


def _drifted(value: Value, rng: np.random.Generator) -> float:
    return value.draw(rng) if isinstance(value, Distribution) else float(value)


def describe_motion(
    scenario: MotionScenario,
    seed: int,
    label: str,
    session: str | None,
    series_index: int,
    motion: np.ndarray | Sequence[Sequence[float]],
) -> dict[str, Any]:
    """JSON-able record of one series' drawn motion."""
    return {
        "where": scenario.where,
        "scenario": scenario.scenario,
        "series_index": int(series_index),
        "session": session,
        "stream": describe(sequence(seed, label, "motion", session or "", int(series_index))),
        "keys": list(MOTION_KEYS),
        "volumes": [[float(v) for v in row] for row in motion],
    }


__all__ = [
    "DrawnValue",
    "LesionDraw",
    "ParticipantDraw",
    "assign_group",
    "draw_motion",
    "draw_participant",
    "generator",
    "sequence",
    "stream_key",
]
