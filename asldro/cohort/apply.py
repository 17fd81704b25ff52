"""A participant's draws applied (docs/cohort.md "Application"): to the ground truth and the
series' motion, and as the participant's provenance record and participants.tsv columns.

Order: the base ground truth (global configuration applied, no lesions:
:func:`asldro.groundtruth.load_base_ground_truth`) -> the participant's tissue values in the
lookup tables (every component of the tissue's label: the partial-volume components, or the
label's entry of a single-label table; ``m0_scale`` multiplies the tissue's ``m0``) -> the
global lesions and then the cohort's lesion, inserted together by
:func:`asldro.groundtruth.finish_ground_truth` (so a lesion's ``scale`` applies to the drawn
tissue value) -> the default ``abat``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping, Sequence

import numpy as np

from asldro.cohort.draw import (
    DrawnValue,
    ParticipantDraw,
    describe_motion,
    draw_motion,
    draw_participant,
    motion_scenario,
)
from asldro.groundtruth.arterial import with_named_quantities
from asldro.groundtruth.types import GroundTruth, read_only
from asldro.params.catalog import ARTERIAL_QUANTITIES, COHORT_QUANTITIES, quantity
from asldro.params.cohort import Cohort, CohortLesion, Distribution
from asldro.params.errors import ParamError
from asldro.params.lesions import Lesion, LesionValue
from asldro.params.rules import bounds_text, outside_bounds, quantity_rule
from asldro.params.types import AslSeries, DroParams, Motion, Series

M0_SCALE = "m0_scale"
"""The cohort quantity that multiplies the tissue's ``m0``."""
TRUNCNORMAL_HINT = "use a truncnormal with min and max inside that range"
COHORT_ORDER = {name: position for position, name in enumerate(COHORT_QUANTITIES)}
"""The column order of the quantities."""


@dataclasses.dataclass(frozen=True)
class ParticipantSetup:
    """What a participant is simulated from (contract 3 of issue 14): ``params`` (the asl
    series carrying the drawn motion), ``ground_truth`` (the participant's tissue values and
    lesions), ``record`` (JSON-able: every drawn value and its stream; empty without a cohort)
    and ``columns`` (the participants.tsv columns: ``name``, ``value``, ``Description``,
    optional ``Units`` and ``Levels``; empty without a cohort)."""

    params: DroParams
    ground_truth: Any
    record: Mapping[str, Any]
    columns: list[dict[str, Any]]


def participant_setup(
    params: DroParams,
    ground_truth: Any,
    label: str,
    *,
    seed: int | None,
    session: str | None = None,
) -> ParticipantSetup:
    """The parameters, ground truth, record and columns of participant ``label`` (module
    docstring); the inputs unchanged, an empty record and no columns without a cohort.

    ``ground_truth`` is the base ground truth of ``params`` (without lesions, as
    :func:`asldro.api.load_params_ground_truth` loads it when there is a cohort; loaded when
    None). ``seed`` (``--seed``) replaces the cohort's. The physiology depends only on (seed,
    label), the motion on (seed, label, session, series).

    Raises
    ------
    ParamError
        A tissue or quantity the ground truth lacks, a drawn value outside its physical range,
        a label in no group (one line naming the participant, tissue, quantity and value).
    """
    cohort = params.global_config.cohort
    if cohort is None:
        if ground_truth is None:
            from asldro.groundtruth import load_ground_truth

            ground_truth = load_ground_truth(
                params.global_config.ground_truth, params.global_config
            )
        return ParticipantSetup(params, ground_truth, {}, [])
    if ground_truth is None:
        from asldro.groundtruth import load_base_ground_truth

        ground_truth = load_base_ground_truth(
            params.global_config.ground_truth, params.global_config
        )
    check_ground_truth(params, cohort, ground_truth)
    draw = draw_participant(cohort, label, seed)
    valued = with_tissue_values(ground_truth, draw)
    truth = _with_lesions(params, valued, draw)
    moved, motion = with_motion(params, cohort, draw, session)
    record = {**draw.record(), "session": session, "motion": motion}
    return ParticipantSetup(moved, truth, record, participant_columns(cohort, valued, draw))


def _with_lesions(params: DroParams, valued: GroundTruth, draw: ParticipantDraw) -> Any:
    """``valued`` (the participant's tissue values) with the global lesions, then the
    participant's cohort lesion, and the default ``abat``."""
    from asldro.groundtruth import finish_ground_truth

    lesion = cohort_lesion(draw, len(params.global_config.lesions))
    extra = () if lesion is None else (lesion,)
    return finish_ground_truth(valued, (*params.global_config.lesions, *extra))


# --------------------------------------------------------------------------------------------
# Checks against the ground truth


def check_ground_truth(params: DroParams, cohort: Cohort, gt: GroundTruth) -> None:
    """Every tissue a cohort or group names is one of the ground truth's, every quantity is a
    lookup table of it (``abv``/``abat`` may be absent: they start from 0), and no cohort
    lesion takes the name or label of a global lesion."""
    tables = [("global_configuration.cohort.tissues", cohort.tissues)]
    tables += [
        (f"global_configuration.cohort.groups[{g.index}].tissues", g.tissues) for g in cohort.groups
    ]
    for _, tissues in tables:
        for tissue, quantities in tissues.items():
            for name, distribution in quantities.items():
                _check_named(gt, tissue, name, distribution)
    for lesion in cohort.lesions():
        for other in params.global_config.lesions:
            if other.name.lower() == lesion.name.lower():
                raise ParamError(
                    f"{lesion.where}.name: {json.dumps(lesion.name)} is the name of "
                    f"{other.where} too (give the cohort's lesion another name)"
                )
            if lesion.label is not None and other.label == lesion.label:
                raise ParamError(
                    f"{lesion.where}.label: {lesion.label} is the label of {other.where} too"
                )


def _check_named(gt: GroundTruth, tissue: str, name: str, distribution: Distribution) -> None:
    where = distribution.where
    if tissue not in gt.segmentation:
        known = ", ".join(gt.segmentation)
        raise ParamError(
            f"{where.rsplit('.', 1)[0]}: the ground truth has no tissue {json.dumps(tissue)} "
            f"(its tissues: {known})"
        )
    target = "m0" if name == M0_SCALE else name
    if target not in gt.maps:
        if target in ARTERIAL_QUANTITIES:
            return
        raise ParamError(
            f"{where}: the ground truth has no quantity {json.dumps(target)} "
            f"(it has {', '.join(gt.maps)})"
        )
    if not gt.is_table(target):
        raise ParamError(
            f"{where}: {target} is a map of its own in this ground truth (not one value per "
            "tissue); a cohort draws per-tissue values only"
        )


# --------------------------------------------------------------------------------------------
# Tissue values


def _components(gt: GroundTruth, tissue: str) -> np.ndarray:
    """The lookup-table entries of ``tissue``: every component with its label."""
    label = int(gt.segmentation[tissue])
    labels = gt.tissue.labels if gt.tissue is not None else np.arange(gt.n_components)
    return np.flatnonzero(np.asarray(labels) == label)


def _refuse_outside(
    label: str, tissue: str, name: str, drawn: DrawnValue, value: float, target: str
) -> None:
    rule = quantity_rule(target)
    if not np.isfinite(value) or outside_bounds(value, rule):
        where = drawn.distribution.where if drawn.distribution is not None else name
        what = (
            f"{target} {value:g} (m0_scale {drawn.value:g})"
            if name == M0_SCALE
            else (f"{drawn.value:g}")
        )
        raise ParamError(
            f"{where}: participant {json.dumps(label)} drew {tissue} {name} {what}, outside "
            f"the range of {target} ({bounds_text(rule)}); {TRUNCNORMAL_HINT}"
        )


def with_tissue_values(gt: GroundTruth, draw: ParticipantDraw) -> GroundTruth:
    """``gt`` with the participant's drawn tissue values in its lookup tables (module
    docstring); refused (ParamError) when a value is outside its quantity's physical range."""
    named = [name for quantities in draw.tissues.values() for name in quantities]
    gt = with_named_quantities(gt, named)
    tables = {name: np.array(gt.maps[name], dtype=np.float64) for name in gt.maps}
    changed: set[str] = set()
    for tissue, quantities in draw.tissues.items():
        components = _components(gt, tissue)
        for name, drawn in quantities.items():
            target = "m0" if name == M0_SCALE else name
            for component in components:
                value = (
                    tables[target][component] * drawn.value if name == M0_SCALE else (drawn.value)
                )
                _refuse_outside(draw.label, tissue, name, drawn, float(value), target)
                tables[target][component] = value
            changed.add(target)
    if not changed:
        return gt
    maps = {name: read_only(tables[name]) if name in changed else gt.maps[name] for name in gt.maps}
    return dataclasses.replace(gt, maps=maps)


def _tissue_value(gt: GroundTruth, tissue: str, name: str, draw: ParticipantDraw) -> Any:
    """The participant's value of ``(tissue, name)`` for its column: the drawn one, else the
    ground truth's (``m0_scale`` 1); None when the ground truth has no such quantity."""
    drawn = draw.tissues.get(tissue, {}).get(name)
    if drawn is not None and name != M0_SCALE:
        components = _components(gt, tissue)
        return float(gt.maps[name][components[0]]) if components.size else drawn.value
    if name == M0_SCALE:
        return 1.0 if drawn is None else drawn.value
    if name not in gt.maps or not gt.is_table(name) or tissue not in gt.segmentation:
        return None
    components = _components(gt, tissue)
    return float(gt.maps[name][components[0]]) if components.size else None


# --------------------------------------------------------------------------------------------
# The cohort lesion


def cohort_lesion(draw: ParticipantDraw, index: int) -> Lesion | None:
    """The :class:`~asldro.params.lesions.Lesion` of the participant's drawn cohort lesion
    (None when it has none), at position ``index`` after the global lesions; refused
    (ParamError) when a drawn radius is not > 0 or a drawn value is outside its range."""
    found = draw.lesion
    if found is None or not found.present or found.radius is None:
        return None
    lesion: CohortLesion = found.lesion
    radius = found.radius.value
    if not radius > 0:
        raise ParamError(
            f"{lesion.where}.radius: participant {json.dumps(draw.label)} drew {radius:g} mm; "
            "a radius must be > 0 (use a truncnormal with min > 0)"
        )
    values: dict[str, LesionValue] = {}
    for name, given in lesion.values.items():
        if isinstance(given, Distribution):
            value = found.values[name].value
            rule = quantity_rule(name)
            if not np.isfinite(value) or outside_bounds(value, rule):
                raise ParamError(
                    f"{given.where}: participant {json.dumps(draw.label)} drew {name} "
                    f"{value:g} inside the lesion, outside its range ({bounds_text(rule)}); "
                    f"{TRUNCNORMAL_HINT}"
                )
            values[name] = LesionValue(value=value)
        else:
            values[name] = given
    return Lesion(
        index=index,
        shape="sphere",
        name=lesion.name,
        label=lesion.label,
        centre=(found.centre[0].value, found.centre[1].value, found.centre[2].value),
        radii=(radius, radius, radius),
        edge=lesion.edge,
        edge_width=lesion.edge_width,
        values=values,
        place=lesion.where,
    )


# --------------------------------------------------------------------------------------------
# Motion


def with_motion(
    params: DroParams, cohort: Cohort, draw: ParticipantDraw, session: str | None
) -> tuple[DroParams, list[dict[str, Any]]]:
    """``params`` with the participant's drawn motion added to every volume of every asl
    series (series index = position in the list, 1-based, as the noise streams count), and the
    record of each draw; ``params`` itself without a scenario or with ``none``."""
    scenario = motion_scenario(cohort, draw.group)
    if scenario is None or scenario.scenario == "none":
        return params, []
    series: list[Series] = []
    records = []
    for position, entry in enumerate(params.series, start=1):
        if not isinstance(entry, AslSeries):
            series.append(entry)
            continue
        rows = draw_motion(scenario, draw.seed, draw.label, session, position, len(entry.volumes))
        added = tuple(
            Motion(
                transl_x=float(row[0]),
                transl_y=float(row[1]),
                transl_z=float(row[2]),
                rot_x=float(row[3]),
                rot_y=float(row[4]),
                rot_z=float(row[5]),
            )
            for row in rows
        )
        series.append(dataclasses.replace(entry, added_motion=added))
        records.append(describe_motion(scenario, draw.seed, draw.label, session, position, rows))
    return dataclasses.replace(params, series=tuple(series)), records


# --------------------------------------------------------------------------------------------
# participants.tsv columns (contract 1 of issue 14)


def _words(name: str) -> str:
    return name.replace("_", " ")


QUANTITY_WORDS = {
    "perfusion_rate": "perfusion rate (CBF)",
    "transit_time": "transit time (ATT)",
    "t1": "T1",
    "t2": "T2",
    "t2_star": "T2*",
    "m0": "M0",
    M0_SCALE: "M0 scale factor (multiplies the tissue's M0)",
    "abv": "arterial blood volume (aBV)",
    "abat": "arterial bolus arrival time (aBAT)",
}
"""How the column descriptions name the quantities."""


def _quantity_text(name: str) -> str:
    return QUANTITY_WORDS.get(name, _words(name))


def participant_columns(
    cohort: Cohort, gt: GroundTruth, draw: ParticipantDraw
) -> list[dict[str, Any]]:
    """The participant's participants.tsv columns, in a fixed order for the cohort: ``group``
    (with groups), ``<tissue>_<quantity>`` for every (tissue, quantity) any group draws, then,
    when any group has a lesion, ``lesion`` (yes/no), ``lesion_radius``, ``lesion_x/y/z`` and
    ``lesion_<quantity>`` (a value) or ``lesion_<quantity>_scale`` (a factor) for each quantity
    a lesion names (n/a without the lesion). ``gt`` is the ground truth with the tissue
    values, before the lesions."""
    columns: list[dict[str, Any]] = []
    if cohort.groups:
        columns.append(
            {
                "name": "group",
                "value": None if draw.group is None else draw.group.name,
                "Description": "cohort group the participant was drawn in",
                "Levels": {group.name: f"cohort group {group.name}" for group in cohort.groups},
            }
        )
    for tissue, name in cohort.tissue_columns():
        column: dict[str, Any] = {
            "name": f"{tissue}_{name}",
            "value": _tissue_value(gt, tissue, name, draw),
            "Description": f"{_words(tissue)} {_quantity_text(name)} of the participant: drawn "
            "from its group's distribution (the ground truth's value where the group draws "
            "none)",
        }
        unit = "" if name == M0_SCALE else gt.units.get(name, quantity(name).unit)
        if unit:
            column["Units"] = unit
        columns.append(column)
    lesions = cohort.lesions()
    if lesions:
        columns.extend(_lesion_columns(lesions, draw, gt))
    return columns


def _lesion_columns(
    lesions: Sequence[CohortLesion], draw: ParticipantDraw, gt: GroundTruth
) -> list[dict[str, Any]]:
    found = draw.lesion
    present = found is not None and found.present
    columns: list[dict[str, Any]] = [
        {
            "name": "lesion",
            "value": "yes" if present else "no",
            "Description": "whether the participant has the cohort's lesion",
            "Levels": {"yes": "the lesion is present", "no": "no lesion"},
        },
        {
            "name": "lesion_radius",
            "value": found.radius.value if present and found and found.radius else None,
            "Description": "radius of the participant's lesion (a sphere)",
            "Units": "mm",
        },
    ]
    for axis in range(3):
        letter = "xyz"[axis]
        columns.append(
            {
                "name": f"lesion_{letter}",
                "value": found.centre[axis].value if present and found else None,
                "Description": f"world {letter} coordinate of the lesion's centre",
                "Units": "mm",
            }
        )
    for name, scale in _lesion_value_kinds(lesions):
        column: dict[str, Any] = {
            "name": f"lesion_{name}_scale" if scale else f"lesion_{name}",
            "value": _lesion_value(found, name, scale) if present else None,
            "Description": (
                f"factor on each tissue's {_words(name)} inside the lesion"
                if scale
                else f"{_quantity_text(name)} inside the lesion"
            ),
        }
        unit = gt.units.get(name, quantity(name).unit)
        if unit and not scale:
            column["Units"] = unit
        columns.append(column)
    return columns


def _lesion_value_kinds(lesions: Sequence[CohortLesion]) -> list[tuple[str, bool]]:
    """Every (quantity, is a scale) the lesions' values name, in column order."""
    kinds: list[tuple[str, bool]] = []
    for lesion in lesions:
        for name, given in lesion.values.items():
            scale = isinstance(given, LesionValue) and given.scale is not None
            if (name, scale) not in kinds:
                kinds.append((name, scale))
    return sorted(kinds, key=lambda kind: (COHORT_ORDER.get(kind[0], len(COHORT_ORDER)), kind))


def _lesion_value(found: Any, name: str, scale: bool) -> float | None:
    """The participant's lesion value (or scale factor) of ``name``; None when its lesion
    gives none of that kind."""
    given = found.lesion.values.get(name)
    if isinstance(given, Distribution) and not scale:
        return float(found.values[name].value)
    if isinstance(given, LesionValue) and (given.scale is not None) == scale:
        return given.scale if scale else given.value
    return None


# --------------------------------------------------------------------------------------------
# Before the output is touched


def check_cohort(
    params: DroParams, ground_truth: Any, labels: Sequence[str], seed: int | None
) -> tuple[DroParams, Any]:
    """Draw every participant of ``labels`` and refuse (ParamError, one line) a tissue or
    quantity the ground truth lacks, a drawn value outside its range, a label in no group, a
    drawn lesion centre outside the field of view; cheap (no lesion is inserted but one).
    Returns the parameters and ground truth of the first participant with a lesion (else the
    first participant), for the memory and file-name checks; ``(params, ground_truth)``
    without a cohort."""
    cohort = params.global_config.cohort
    if cohort is None or not labels:
        return params, ground_truth
    from asldro.groundtruth.lesions import inside_field_of_view

    check_ground_truth(params, cohort, ground_truth)
    chosen = labels[0]
    for label in labels:
        draw = draw_participant(cohort, label, seed)
        with_tissue_values(ground_truth, draw)
        lesion = cohort_lesion(draw, len(params.global_config.lesions))
        if lesion is not None and lesion.centre is not None:
            if not inside_field_of_view(ground_truth, lesion.centre):
                raise ParamError(
                    f"{lesion.where}.centre: participant {json.dumps(label)} drew "
                    f"{list(lesion.centre)} mm, outside the ground truth's field of view"
                )
            if chosen == labels[0]:
                chosen = label
    setup = participant_setup(params, ground_truth, chosen, seed=seed)
    return setup.params, setup.ground_truth
