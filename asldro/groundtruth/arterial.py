"""The optional arterial-component quantities of a ground truth (docs/physics.md §3.3, §4.9).

``abv`` (arterial blood volume, a fraction) and ``abat`` (arterial bolus arrival time, s) are
optional: a ground truth without ``abv`` has no arterial component, and its numbers are those of
a ground truth without the quantities. ``image_override`` and ``ground_truth_modulate`` may name
them although the ground truth lacks them: they then start from 0 everywhere
(:func:`with_named_quantities`). Where ``abv`` > 0 and no ``abat`` is given, ``abat`` is
``transit_time`` minus :data:`~asldro.params.catalog.ARTERIAL_ARRIVAL_LEAD` (0.3 s, Fabber's prior
``batart = bat - 0.3``), clipped at 0; it is 0 where ``abv`` is 0 (:func:`with_default_abat`).
Lookup tables stay lookup tables.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

import numpy as np

from asldro.groundtruth.types import GroundTruth, read_only
from asldro.params.catalog import ARTERIAL_ARRIVAL_LEAD, ARTERIAL_QUANTITIES, quantity


def _with_maps(gt: GroundTruth, added: dict[str, np.ndarray]) -> GroundTruth:
    """``gt`` with the quantities ``added`` (their units from the catalog), listed last."""
    order = gt.quantity_order
    if order:
        order = (*order, *(name for name in added if name not in order))
    return dataclasses.replace(
        gt,
        maps={**gt.maps, **added},
        units={**gt.units, **{name: quantity(name).unit for name in added}},
        quantity_order=order,
    )


def with_named_quantities(gt: GroundTruth, names: Iterable[str]) -> GroundTruth:
    """``gt`` with each arterial quantity among ``names`` that it lacks added as a lookup table
    of zeros (absent means 0), so that an override or a modulation can set it."""
    missing = [name for name in ARTERIAL_QUANTITIES if name in set(names) and name not in gt.maps]
    if not missing:
        return gt
    size = gt.n_components
    return _with_maps(gt, {name: read_only(np.zeros(size)) for name in missing})


def with_default_abat(gt: GroundTruth) -> GroundTruth:
    """``gt`` with ``abat`` where it has ``abv`` but no ``abat``: ``max(transit_time - 0.3 s,
    0)`` where aBV > 0, else 0 (a lookup table when both inputs are tables of one length)."""
    if "abv" not in gt.maps or "abat" in gt.maps:
        return gt
    abv, transit = gt.maps["abv"], gt.maps["transit_time"]
    if not (abv.ndim == transit.ndim == 1 and abv.shape == transit.shape):
        abv, transit = gt.dense("abv"), gt.dense("transit_time")
    abat = np.where(abv > 0, np.maximum(transit - ARTERIAL_ARRIVAL_LEAD, 0.0), 0.0)
    return _with_maps(gt, {"abat": read_only(abat.astype(np.float64))})
