"""``global_configuration.cohort`` (issue 14; docs/cohort.md): the typed :class:`Cohort` and the
rules across its keys that the schema cannot state.

Refused here (one line each, exit 65): a uniform with ``min > max``, a truncated normal with
``min >= max`` or holding less than :data:`TRUNCNORMAL_MIN_MASS` of its parent normal, two
groups with one name (in any case), a group with neither ``share`` nor ``participants``, shares
that do not sum to 1, a participant label in two groups' lists, a jumps scenario without
exactly one of ``count`` and ``rate``, and a session label given twice. What needs the ground
truth or the participant labels (tissue and quantity names, drawn values in range, a label in
no group) is checked by :func:`asldro.cohort.check_cohort` before the output is touched.

Each distribution has its analytic :meth:`Distribution.mean` and :meth:`Distribution.sd`:
the truncated normal's from Johnson, Kotz & Balakrishnan (1994), *Continuous Univariate
Distributions* vol. 1, 2nd ed., §10.1 eqs (13.134)-(13.135); the log-normal is parametrised by
the mean ``m`` and SD ``s`` of the value, ``sigma^2 = ln(1 + s^2/m^2)``, ``mu = ln m -
sigma^2/2`` (ibid. ch. 14, eq. (14.8a)-(14.9a)).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

from asldro.labels import SUBJECT_PREFIX
from asldro.params.catalog import (
    COHORT_DEFAULT_SEED,
    COHORT_LESION_DEFAULT_NAME,
    COHORT_QUANTITIES,
    DISTRIBUTION_TAG,
    LESION_DEFAULT_EDGE_WIDTH,
)
from asldro.params.lesions import LesionValue
from asldro.params.validate import JsonPath, Problem, first_name_problem, text_path

COHORT_KEY = "cohort"
SESSION_PREFIX = "ses-"
TRUNCNORMAL_MIN_MASS = 1e-6
"""A truncated normal must keep at least this part of its parent normal (else its draws, by
rejection, would take too long and its bounds are certainly not what was meant)."""
SHARE_TOLERANCE = 1e-6
"""Shares sum to 1 within this."""


def _phi(x: float) -> float:
    """Standard normal density (0 at +-inf)."""
    return 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    """Standard normal distribution function, via ``math.erf``."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@dataclass(frozen=True)
class Distribution:
    """A distribution of a drawn value; ``spec`` is its object as given, ``where`` its place in
    the parameter file (for messages).

    ``kind`` ``normal`` (``loc`` mean, ``scale`` SD), ``truncnormal`` (``loc``, ``scale`` of the
    parent normal, bounds ``low``, ``high``, infinite when absent), ``uniform`` (``low``,
    ``high``), ``lognormal`` (``loc``, ``scale``: the mean and SD of the value itself) or
    ``fixed`` (``loc``)."""

    kind: str
    where: str
    spec: Mapping[str, Any]
    loc: float = 0.0
    scale: float = 0.0
    low: float = -math.inf
    high: float = math.inf

    @classmethod
    def of(cls, spec: Mapping[str, Any], where: str) -> "Distribution":
        """The typed distribution of a (valid) distribution object."""
        kind = str(spec[DISTRIBUTION_TAG])

        def get(key: str, default: float) -> float:
            return float(spec.get(key, default))

        if kind == "uniform":
            return cls(kind, where, dict(spec), low=get("min", 0), high=get("max", 0))
        if kind == "fixed":
            return cls(kind, where, dict(spec), loc=get("value", 0))
        return cls(
            kind,
            where,
            dict(spec),
            loc=get("mean", 0),
            scale=get("sd", 0),
            low=get("min", -math.inf),
            high=get("max", math.inf),
        )

    @property
    def _standard_bounds(self) -> tuple[float, float]:
        return (self.low - self.loc) / self.scale, (self.high - self.loc) / self.scale

    @property
    def truncated_mass(self) -> float:
        """The part of the parent normal inside ``[low, high]`` (truncnormal)."""
        alpha, beta = self._standard_bounds
        return _cdf(beta) - _cdf(alpha)

    @property
    def lognormal_parameters(self) -> tuple[float, float]:
        """``(mu, sigma)`` of the log of a log-normal value of mean ``loc`` and SD ``scale``."""
        sigma2 = math.log1p((self.scale / self.loc) ** 2)
        return math.log(self.loc) - sigma2 / 2.0, math.sqrt(sigma2)

    def mean(self) -> float:
        """The analytic mean (module docstring)."""
        if self.kind == "truncnormal":
            alpha, beta = self._standard_bounds
            return self.loc + self.scale * (_phi(alpha) - _phi(beta)) / self.truncated_mass
        if self.kind == "uniform":
            return (self.low + self.high) / 2.0
        return self.loc

    def sd(self) -> float:
        """The analytic standard deviation (module docstring)."""
        if self.kind == "truncnormal":
            alpha, beta = self._standard_bounds
            mass = self.truncated_mass
            a_term = 0.0 if math.isinf(alpha) else alpha * _phi(alpha)
            b_term = 0.0 if math.isinf(beta) else beta * _phi(beta)
            shift = (_phi(alpha) - _phi(beta)) / mass
            return self.scale * math.sqrt(max(1.0 + (a_term - b_term) / mass - shift**2, 0.0))
        if self.kind == "uniform":
            return (self.high - self.low) / math.sqrt(12.0)
        if self.kind == "fixed":
            return 0.0
        return self.scale

    def draw(self, rng: Any) -> float:
        """One value drawn from ``rng`` (a ``numpy.random.Generator``): normal and lognormal
        by numpy, uniform as ``low + (high - low) U``, truncnormal by rejection (normals drawn
        16 at a time, the first inside the bounds)."""
        if self.kind == "fixed":
            return self.loc
        if self.kind == "uniform":
            return float(self.low + (self.high - self.low) * rng.random())
        if self.kind == "lognormal":
            mu, sigma = self.lognormal_parameters
            return float(rng.lognormal(mu, sigma))
        if self.kind == "normal":
            return float(rng.normal(self.loc, self.scale))
        while True:
            for value in rng.normal(self.loc, self.scale, 16):
                if self.low <= value <= self.high:
                    return float(value)


Value = Union[float, Distribution]
"""A number given as it is, or a distribution it is drawn from."""


def _value(given: Any, where: str) -> Value:
    if isinstance(given, Mapping):
        return Distribution.of(given, where)
    return float(given)


def _triple(given: Any, where: str) -> tuple[Value, Value, Value]:
    if isinstance(given, (list, tuple)):
        return (
            _value(given[0], f"{where}[0]"),
            _value(given[1], f"{where}[1]"),
            _value(given[2], f"{where}[2]"),
        )
    one = _value(given, where)
    return (one, one, one)


@dataclass(frozen=True)
class MotionScenario:  # pylint: disable=too-many-instance-attributes  # the keys of one scenario
    """The cohort motion of every asl volume (docs/cohort.md "Motion"): ``scenario`` ``none``,
    ``jitter`` (Gaussian per volume and axis of ``*_sd``), ``drift`` (linear from 0 at the first
    volume to ``translation``/``rotation`` at the last) or ``jumps`` (``count`` jumps, or one
    with probability ``rate`` at each volume after the first, each a Gaussian step of ``*_sd``
    that persists). Translations in mm, rotations in degrees, [x, y, z]."""

    scenario: str
    where: str
    translation_sd: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation_sd: tuple[float, float, float] = (0.0, 0.0, 0.0)
    translation: tuple[Value, Value, Value] = (0.0, 0.0, 0.0)
    rotation: tuple[Value, Value, Value] = (0.0, 0.0, 0.0)
    count: int | None = None
    rate: float | None = None

    @classmethod
    def of(cls, given: Mapping[str, Any], where: str) -> "MotionScenario":
        """The typed scenario of a (valid) motion object."""

        def sds(key: str) -> tuple[float, float, float]:
            value = given.get(key, 0.0)  # numbers only (the schema's PER_AXIS_SD)
            values = value if isinstance(value, (list, tuple)) else [value] * 3
            return (float(values[0]), float(values[1]), float(values[2]))

        return cls(
            scenario=str(given["scenario"]),
            where=where,
            translation_sd=sds("translation_sd"),
            rotation_sd=sds("rotation_sd"),
            translation=_triple(given.get("translation", 0.0), f"{where}.translation"),
            rotation=_triple(given.get("rotation", 0.0), f"{where}.rotation"),
            count=None if "count" not in given else int(given["count"]),
            rate=None if "rate" not in given else float(given["rate"]),
        )


@dataclass(frozen=True)
class CohortLesion:  # pylint: disable=too-many-instance-attributes  # the keys of the lesion
    """The cohort's lesion: present with ``probability``, a sphere of ``radius`` (mm) at
    ``centre`` (world mm), each a number or a distribution; ``values`` per quantity a
    :class:`~asldro.params.lesions.LesionValue` (a number or a scale) or a distribution of the
    value."""

    where: str
    probability: float
    radius: Value
    centre: tuple[Value, Value, Value]
    name: str = COHORT_LESION_DEFAULT_NAME
    label: int | None = None
    values: Mapping[str, LesionValue | Distribution] = field(default_factory=dict)
    edge: str = "sharp"
    edge_width: float = LESION_DEFAULT_EDGE_WIDTH

    @classmethod
    def of(cls, given: Mapping[str, Any], where: str) -> "CohortLesion":
        """The typed lesion of a (valid) cohort lesion object."""
        values: dict[str, LesionValue | Distribution] = {}
        for quantity, value in given.get("values", {}).items():
            place = f"{where}.values.{quantity}"
            if isinstance(value, Mapping) and DISTRIBUTION_TAG in value:
                values[quantity] = Distribution.of(value, place)
            elif isinstance(value, Mapping):
                values[quantity] = LesionValue(scale=float(value["scale"]))
            else:
                values[quantity] = LesionValue(value=float(value))
        return cls(
            where=where,
            probability=float(given["probability"]),
            radius=_value(given["radius"], f"{where}.radius"),
            centre=_triple(given["centre"], f"{where}.centre"),
            name=str(given.get("name", COHORT_LESION_DEFAULT_NAME)),
            label=None if "label" not in given else int(given["label"]),
            values=values,
            edge=str(given.get("edge", "sharp")),
            edge_width=float(given.get("edge_width", LESION_DEFAULT_EDGE_WIDTH)),
        )


Tissues = Mapping[str, Mapping[str, Distribution]]
"""``{tissue: {quantity: distribution}}``."""


@dataclass(frozen=True)
class Group:  # pylint: disable=too-many-instance-attributes  # the keys of one group
    """One group of the cohort, with its settings resolved: ``tissues`` the cohort's with the
    group's distributions replacing them per (tissue, quantity); ``lesion`` and ``motion`` the
    group's when it gives them, else the cohort's."""

    index: int
    name: str
    share: float | None
    participants: tuple[str, ...]
    tissues: Tissues
    lesion: CohortLesion | None
    motion: MotionScenario | None


@dataclass(frozen=True)
class Cohort:
    """``global_configuration.cohort``: ``seed`` (``--seed`` replaces it), the cohort-level
    ``tissues``, ``motion`` and ``lesion``, the ``groups`` (empty: one cohort without groups)
    and the ``sessions`` labels (empty: no session level)."""

    seed: int
    tissues: Tissues
    groups: tuple[Group, ...] = ()
    motion: MotionScenario | None = None
    lesion: CohortLesion | None = None
    sessions: tuple[str, ...] = ()

    def tissue_columns(self) -> tuple[tuple[str, str], ...]:
        """Every (tissue, quantity) any group draws: tissues in order of first mention,
        quantities in :data:`~asldro.params.catalog.COHORT_QUANTITIES` order."""
        tissues: list[str] = []
        for table in (self.tissues, *(group.tissues for group in self.groups)):
            tissues.extend(name for name in table if name not in tissues)
        tables = (self.tissues, *(group.tissues for group in self.groups))
        return tuple(
            (tissue, quantity)
            for tissue in tissues
            for quantity in COHORT_QUANTITIES
            if any(quantity in table.get(tissue, {}) for table in tables)
        )

    def lesions(self) -> tuple[CohortLesion, ...]:
        """The cohort's lesion and every group's (each once)."""
        found: list[CohortLesion] = []
        for lesion in (self.lesion, *(group.lesion for group in self.groups)):
            if lesion is not None and lesion not in found:
                found.append(lesion)
        return tuple(found)


def _tissues(given: Mapping[str, Any] | None, where: str) -> dict[str, dict[str, Distribution]]:
    return {
        tissue: {
            quantity: Distribution.of(spec, f"{where}.{tissue}.{quantity}")
            for quantity, spec in quantities.items()
        }
        for tissue, quantities in (given or {}).items()
    }


def _merged(base: Tissues, override: Tissues) -> dict[str, dict[str, Distribution]]:
    out = {tissue: dict(quantities) for tissue, quantities in base.items()}
    for tissue, quantities in override.items():
        out.setdefault(tissue, {}).update(quantities)
    return out


def session_labels(given: Any) -> tuple[str, ...]:
    """``sessions`` as labels: a count ``n`` is ``("1", ..., "n")``, a list its labels
    without a leading ``ses-``; absent: ``()``."""
    if given is None:
        return ()
    if isinstance(given, int):
        return tuple(str(n) for n in range(1, given + 1))
    return tuple(_unprefixed(str(label), SESSION_PREFIX) for label in given)


def _unprefixed(label: str, prefix: str) -> str:
    return label[len(prefix) :] if label.startswith(prefix) else label


def cohort_from(resolved: Mapping[str, Any] | None) -> Cohort | None:
    """The typed :class:`Cohort` of a resolved ``cohort`` object (None when absent)."""
    if resolved is None:
        return None
    where = f"global_configuration.{COHORT_KEY}"
    tissues = _tissues(resolved.get("tissues"), f"{where}.tissues")
    motion = (
        MotionScenario.of(resolved["motion"], f"{where}.motion") if "motion" in resolved else None
    )
    lesion = (
        CohortLesion.of(resolved["lesions"], f"{where}.lesions") if "lesions" in resolved else None
    )
    groups = []
    for index, group in enumerate(resolved.get("groups", ())):
        place = f"{where}.groups[{index}]"
        groups.append(
            Group(
                index=index,
                name=str(group["name"]),
                share=None if "share" not in group else float(group["share"]),
                participants=tuple(
                    _unprefixed(str(label), SUBJECT_PREFIX)
                    for label in group.get("participants", ())
                ),
                tissues=_merged(tissues, _tissues(group.get("tissues"), f"{place}.tissues")),
                lesion=(
                    CohortLesion.of(group["lesions"], f"{place}.lesions")
                    if "lesions" in group
                    else lesion
                ),
                motion=(
                    MotionScenario.of(group["motion"], f"{place}.motion")
                    if "motion" in group
                    else motion
                ),
            )
        )
    return Cohort(
        seed=int(resolved.get("seed", COHORT_DEFAULT_SEED)),
        tissues=tissues,
        groups=tuple(groups),
        motion=motion,
        lesion=lesion,
        sessions=session_labels(resolved.get("sessions")),
    )


# --------------------------------------------------------------------------------------------
# The rules across keys


def _distribution_problems(value: Any, path: JsonPath, problems: list[Problem]) -> None:
    """Every distribution object below ``value`` (a dict/list tree) checked for its bounds."""
    if isinstance(value, Mapping) and DISTRIBUTION_TAG in value:
        where = text_path(path)
        spec = Distribution.of(value, where)
        if spec.kind == "uniform" and spec.low > spec.high:
            problems.append(
                Problem(path, f"{where}: uniform min {spec.low:g} is above max {spec.high:g}")
            )
        if spec.kind == "truncnormal":
            if spec.low >= spec.high:
                problems.append(
                    Problem(
                        path,
                        f"{where}: truncnormal min {spec.low:g} must be below max {spec.high:g}",
                    )
                )
            elif spec.truncated_mass < TRUNCNORMAL_MIN_MASS:
                problems.append(
                    Problem(
                        path,
                        f"{where}: truncnormal [min, max] = [{spec.low:g}, {spec.high:g}] holds "
                        f"{spec.truncated_mass:.3g} of the normal of mean {spec.loc:g} and sd "
                        f"{spec.scale:g} (at least {TRUNCNORMAL_MIN_MASS:g} needed): move the "
                        "mean or the bounds",
                    )
                )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _distribution_problems(item, (*path, key), problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _distribution_problems(item, (*path, index), problems)


def _motion_problems(motion: Mapping[str, Any], path: JsonPath, problems: list[Problem]) -> None:
    if motion.get("scenario") == "jumps" and ("count" in motion) == ("rate" in motion):
        problems.append(
            Problem(
                path,
                f"{text_path(path)}: a jumps scenario needs exactly one of 'count' and 'rate'",
            )
        )


def _group_problems(
    groups: Sequence[Mapping[str, Any]], path: JsonPath, problems: list[Problem]
) -> None:
    names: dict[str, int] = {}
    owners: dict[str, int] = {}
    shares = []
    for index, group in enumerate(groups):
        where = text_path((*path, index))
        name = str(group["name"])
        repeated = first_name_problem(names, name, index, path)
        if repeated is not None:
            problems.append(repeated)
        if "share" not in group and "participants" not in group:
            problems.append(
                Problem((*path, index), f"{where}: give a 'share' or a 'participants' list")
            )
        if "share" in group:
            shares.append(float(group["share"]))
        for label in group.get("participants", ()):
            label = _unprefixed(str(label), SUBJECT_PREFIX)
            if label in owners and owners[label] != index:
                problems.append(
                    Problem(
                        (*path, index, "participants"),
                        f"{where}.participants: participant {json.dumps(label)} is in the list "
                        f"of groups[{owners[label]}] too (a participant is in one group)",
                    )
                )
            owners.setdefault(label, index)
        if isinstance(group.get("motion"), Mapping):
            _motion_problems(group["motion"], (*path, index, "motion"), problems)
    if shares and abs(sum(shares) - 1.0) > SHARE_TOLERANCE:
        problems.append(
            Problem(
                path,
                f"{text_path(path)}: the groups' shares sum to {sum(shares):.6g}, not 1",
            )
        )


def resolve_cohort(value: Mapping[str, Any], path: JsonPath, problems: list[Problem]) -> Any:
    """The resolved ``cohort`` (already valid against the schema): as given, with ``seed``
    filled in (so that the resolved file reproduces the draws); the rules across keys
    (module docstring) appended to ``problems``."""
    out = {"seed": COHORT_DEFAULT_SEED, **dict(value)}
    _distribution_problems(value, path, problems)
    if isinstance(value.get("motion"), Mapping):
        _motion_problems(value["motion"], (*path, "motion"), problems)
    _group_problems(value.get("groups", ()), (*path, "groups"), problems)
    sessions = value.get("sessions")
    if isinstance(sessions, list):
        seen: set[str] = set()
        for index, label in enumerate(session_labels(sessions)):
            if label in seen:
                problems.append(
                    Problem(
                        (*path, "sessions", index),
                        f"{text_path((*path, 'sessions', index))}: session {json.dumps(label)} "
                        "is given twice",
                    )
                )
            seen.add(label)
    return out
