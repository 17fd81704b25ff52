"""The rules across the kinetic-option keys of an asl series (docs/physics.md §2.6, §4.7-§4.10):
``gkm_model``, the PASL bolus cut-off (``bolus_cut_off_technique``, ``bolus_cut_off_delay_time``)
and ``dispersion``.

:func:`resolve_kinetic_options` completes the resolved ``series_parameters`` of an asl series
(a cut-off technique given without times gets the catalog's default times; a ``dispersion``
object gets the defaults of the kernel parameters it leaves out, so the resolved file states
what was simulated) and reports, one line each:

* a bolus cut-off for (p)CASL (the cut-off is a PASL technique);
* ``bolus_cut_off_delay_time`` without a technique;
* the times in the wrong form for the technique (QUIPSS / QUIPSS II: one number, TI1; Q2TIPS:
  [TI1, TI1s]) or in the wrong order (the rule of ``asldro.physics.bolus.BolusCutOff``);
* a dispersion other than none with a ``gkm_model`` other than full (the dispersed models are
  the full model's and the arterial component's only).

A QUIPSS II / Q2TIPS cut-off at a TI1 after the natural bolus has ended (``label_duration`` <
TI1) has no effect: one warning line says so.
"""

from __future__ import annotations

import warnings
from typing import Any, MutableMapping

from asldro.params.catalog import DISPERSION, default_bolus_cut_off_delay_time, parameters
from asldro.params.kinds import NO_DEFAULT
from asldro.params.rules import INVALID, show
from asldro.params.types import bolus_cut_off
from asldro.params.validate import JsonPath, Problem, text_path

TECHNIQUE = "bolus_cut_off_technique"
DELAY = "bolus_cut_off_delay_time"
PAIR_TECHNIQUE = "Q2TIPS"


def resolve_kinetic_options(
    out: MutableMapping[str, Any], path: JsonPath, problems: list[Problem]
) -> None:
    """Fill the defaults of the kinetic options of the resolved asl ``series_parameters``
    ``out`` (at ``path``) and append the problems of the rules above to ``problems``."""
    _fill_dispersion_defaults(out)
    technique, delay = out.get(TECHNIQUE), out.get(DELAY)
    if isinstance(technique, str) and delay is None:
        out[DELAY] = default_bolus_cut_off_delay_time(technique)
    where = text_path(path)
    problems.extend(_cut_off_problems(out, path, where))
    problem = _dispersion_problem(out, where)
    if problem:
        problems.append(Problem((*path, "dispersion"), problem))


def _fill_dispersion_defaults(out: MutableMapping[str, Any]) -> None:
    """The ``dispersion`` object with every kernel parameter it leaves out at its default, in
    the catalog's key order (the type first)."""
    given = out.get("dispersion")
    if not isinstance(given, dict):
        return
    record = DISPERSION.resolved(given)
    filled = {}
    for field in record.fields:
        if field.name in given:
            filled[field.name] = given[field.name]
        elif field.default is not NO_DEFAULT:
            filled[field.name] = float(field.default)
    out["dispersion"] = filled


def _cut_off_problems(out: MutableMapping[str, Any], path: JsonPath, where: str) -> list[Problem]:
    """The problems of the cut-off keys (one at most), and the warning of a cut-off after the
    natural bolus."""
    technique, delay, label_type = out.get(TECHNIQUE), out.get(DELAY), out.get("label_type")
    if INVALID in (technique, delay, label_type) or (technique is None and delay is None):
        return []
    problem = _cut_off_problem(technique, delay, label_type, where)
    if problem is not None:
        key, text = problem
        return [Problem((*path, key), text)]
    _warn_if_after_the_bolus(out, bolus_cut_off(technique, delay), where)
    return []


def _cut_off_problem(
    technique: Any, delay: Any, label_type: Any, where: str
) -> tuple[str, str] | None:
    """(key, message) of the first rule the cut-off keys break, or None."""
    if technique is None:
        return DELAY, (
            f"{where}.{DELAY}: {show(delay)} is given without {TECHNIQUE}; give the "
            "technique (QUIPSSII, Q2TIPS or QUIPSS) or remove the key"
        )
    if label_type != "pasl":
        return TECHNIQUE, (
            f"{where}.{TECHNIQUE}: {show(technique)} is a PASL bolus cut-off, but "
            f"label_type is {show(label_type)}; remove the key or use label_type 'pasl'"
        )
    paired = isinstance(delay, list)
    if paired != (technique == PAIR_TECHNIQUE):
        takes = (
            "one time, TI1" if paired else "two times [TI1, TI1s] (first and last saturation pulse)"
        )
        return DELAY, f"{where}.{DELAY}: {show(delay)} for {technique}, which takes {takes}"
    try:
        bolus_cut_off(technique, delay)
    except ValueError as error:
        return DELAY, f"{where}.{DELAY}: {show(delay)}: {error}"
    return None


def _warn_if_after_the_bolus(out: MutableMapping[str, Any], cut_off: Any, where: str) -> None:
    """One warning when a QUIPSS II / Q2TIPS cut-off comes after the natural bolus has ended
    (``label_duration`` < TI1): it has no effect (docs/physics.md §4.8)."""
    natural = out.get("label_duration")
    if not isinstance(natural, float):
        return
    from asldro.physics.bolus import cut_off_ineffective  # lazy: asldro.params stays light

    if cut_off_ineffective(natural, cut_off):
        warnings.warn(
            f"{where}.label_duration: the natural bolus ({show(natural)} s) ends before the "
            f"{cut_off.technique} cut-off at TI1 = {show(cut_off.delay_time)} s, which then has "
            f"no effect: the bolus width stays {show(natural)} s",
            stacklevel=4,
        )


def _dispersion_problem(out: MutableMapping[str, Any], where: str) -> str | None:
    dispersion = out.get("dispersion")
    model = out.get("gkm_model", parameters("asl")["gkm_model"].default)
    if not isinstance(dispersion, dict) or model is INVALID:
        return None
    kind = dispersion.get(DISPERSION.tag)
    if kind in (None, "none") or model == "full":
        return None
    return (
        f"{where}.dispersion: type {show(kind)} is defined for gkm_model 'full' only (and the "
        f"arterial component), got gkm_model {show(model)}; use gkm_model 'full' or remove "
        "the dispersion"
    )
