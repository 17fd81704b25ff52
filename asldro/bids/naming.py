"""BIDS file names for the simulated series (docs/bids.md §2, §8, §9).

Entities are written in the fixed order ``sub, ses, acq, rec, dir, run, echo, part`` (raw) and
``..., desc`` (derivative); labels are ``[0-9a-zA-Z+]+``. Series numbers and free text never
appear in a name: several series of one kind are told apart by ``run-<i>`` in series order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence, cast

from asldro.bids.fields import fields
from asldro.labels import alphanumeric, is_label, is_suffix
from asldro.params.types import AslSeries, Series


class NamedSeries(Protocol):
    """What naming reads of a series: its position, type, description and typed parameters (a
    :class:`~asldro.pipelines.types.SeriesResult`, or a series not yet simulated)."""

    @property
    def index(self) -> int:
        """1-based position in the parameter file."""

    @property
    def series_type(self) -> str:
        """``asl``, ``structural`` or ``ground_truth``."""

    @property
    def description(self) -> str:
        """The series' free-text description (named in warnings, never in file names)."""

    @property
    def params(self) -> Series:
        """The series' typed parameters."""


class NamingError(ValueError):
    """The series cannot be mapped to valid, unique BIDS names."""


@dataclass(frozen=True)
class SeriesName:
    """Where one raw series goes: ``<datatype>/sub-<l>[_<entities>]_<suffix>``."""

    index: int
    datatype: str
    suffix: str
    entities: Mapping[str, str] = field(default_factory=dict)


def check_label(label: str) -> str:
    """Return ``label`` when it is a valid BIDS label (``[0-9a-zA-Z+]+``), else raise."""
    if not is_label(label):
        raise NamingError(f"invalid BIDS label {label!r}: use letters, digits and '+' only")
    return label


def bids_stem(
    label: str, entities: Mapping[str, object], suffix: str, *, derivative: bool = False
) -> str:
    """Build ``sub-<label>[_key-value...]_<suffix>`` with entities in BIDS order (docs/bids.md §2).

    Parameters
    ----------
    label : str
        Participant label (without ``sub-``).
    entities : Mapping
        Entity key to value (``run`` values are integers or digit strings).
    suffix : str
        BIDS suffix, e.g. ``asl``, ``m0scan``, ``T1w``, ``T1map``.
    derivative : bool
        Allow the derivative entities (``label``, ``desc``).
    """
    order = fields()["derivative_entity_order" if derivative else "entity_order"]
    unknown = set(entities) - set(order)
    if unknown:
        raise NamingError(f"entities {sorted(unknown)} are not allowed here")
    parts = [f"sub-{check_label(label)}"]
    for key in order[1:]:
        if key in entities:
            value = str(entities[key])
            if key in ("run", "echo") and not value.isdigit():
                raise NamingError(f"{key} index must be a number, got {value!r}")
            parts.append(f"{key}-{check_label(value)}")
    if not is_suffix(suffix):
        raise NamingError(f"invalid BIDS suffix {suffix!r}")
    return "_".join(parts + [suffix])


def asl_context(result: NamedSeries) -> tuple[str, ...]:
    """The volume types of an asl series, one per volume in order (every phase's tokens:
    ``AslSeries.volume_tokens``)."""
    # every caller passes an asl series (series_type "asl"), whose params are an AslSeries
    return tuple(cast(AslSeries, result.params).volume_tokens)


def is_m0_only(result: NamedSeries) -> bool:
    """True for an asl series whose tokens are all ``m0scan`` (written as ``_m0scan``)."""
    return result.series_type == "asl" and all(t == "m0scan" for t in asl_context(result))


def _run_entities(count: int, position: int) -> dict[str, str]:
    return {"run": str(position)} if count > 1 else {}


def check_m0_pairs(results: Sequence[NamedSeries], m0_pairs: Mapping[int, int]) -> None:
    """Check the m0scan pairing (docs/bids.md §2, §5); raise :class:`NamingError` if broken.

    Every m0-only series must calibrate exactly one asl series with control/label volumes, an asl
    series takes at most one m0scan, and an asl series with m0scan rows cannot also have one.
    """
    by_index = {r.index: r for r in results}
    m0_only = {r.index for r in results if is_m0_only(r)}
    for m0_index, asl_index in m0_pairs.items():
        if m0_index not in m0_only:
            raise NamingError(f"series {m0_index} is paired as an m0scan but is not m0scan-only")
        target = by_index.get(asl_index)
        if target is None or target.series_type != "asl" or is_m0_only(target):
            raise NamingError(
                f"m0scan series {m0_index} is paired with series {asl_index}, "
                "which is not an asl series with control/label volumes"
            )
        if "m0scan" in asl_context(target):
            raise NamingError(
                f"asl series {asl_index} has m0scan volumes and a separate m0scan series "
                f"({m0_index}): M0Type cannot be both Included and Separate"
            )
    for m0_index in sorted(m0_only - set(m0_pairs)):
        raise NamingError(f"m0scan series {m0_index} has no asl series to calibrate")
    targets = list(m0_pairs.values())
    for asl_index in set(targets):
        if targets.count(asl_index) > 1:
            raise NamingError(
                f"asl series {asl_index} is calibrated by more than one m0scan series"
            )


def structural_suffix(result: NamedSeries) -> str:
    """The anat suffix for a structural series (docs/bids.md §8).

    ``modality`` T1w/T2w/FLAIR is used as is; ASLDRO's ``"anat"`` is not a BIDS suffix and is
    written as ``T1w`` (the default structural is T1-weighted) with a warning naming the series.
    """
    modality = str(result.params.modality)  # type: ignore[union-attr]  # a structural's
    suffixes = fields()["structural_suffixes"]
    if modality not in suffixes:
        raise NamingError(
            f"series {result.index}: modality {modality!r} is not one of {sorted(suffixes)}"
        )
    if modality == "anat":
        warnings.warn(
            f"series {result.index} ({result.description!r}): modality 'anat' is not a BIDS "
            "suffix; writing it as T1w. Set series_parameters.modality explicitly.",
            stacklevel=2,
        )
    return suffixes[modality]


def contrast_acq_label(acq_contrast: str) -> str:
    """The ``acq-`` label for a simulated sequence: se -> se, ge -> gre, ir -> ir."""
    return fields()["contrasts"][str(acq_contrast).lower()]["acq"]


def raw_series_names(
    results: Sequence[NamedSeries], m0_pairs: Mapping[int, int]
) -> dict[int, SeriesName]:
    """Map each asl and structural series (by ``SeriesResult.index``) to its raw BIDS name.

    asl series with control/label volumes -> ``perf/..._asl`` (``run-<i>`` in series order when
    there are several); an m0scan-only series -> ``perf/..._m0scan`` with the entities of the
    asl run it calibrates; structural -> ``anat/..._acq-<seq>_<suffix>`` with ``run-<i>`` when two
    structurals would otherwise share a name (docs/bids.md §2, §8).
    """
    check_m0_pairs(results, m0_pairs)
    names: dict[int, SeriesName] = {}
    asl_runs = [r for r in results if r.series_type == "asl" and not is_m0_only(r)]
    for position, result in enumerate(asl_runs, start=1):
        entities = _run_entities(len(asl_runs), position)
        names[result.index] = SeriesName(result.index, "perf", "asl", entities)
    for m0_index, asl_index in m0_pairs.items():
        names[m0_index] = SeriesName(m0_index, "perf", "m0scan", dict(names[asl_index].entities))

    structurals = [r for r in results if r.series_type == "structural"]
    keys = {
        r.index: (
            # structurals only (a StructuralSeries)
            contrast_acq_label(r.params.acq_contrast),  # type: ignore[union-attr]
            structural_suffix(r),
        )
        for r in structurals
    }
    for result in structurals:
        acq, suffix = keys[result.index]
        same = [r.index for r in structurals if keys[r.index] == (acq, suffix)]
        entities = {"acq": acq, **_run_entities(len(same), same.index(result.index) + 1)}
        names[result.index] = SeriesName(result.index, "anat", suffix, entities)
    return names


def groundtruth_series_entities(results: Sequence[NamedSeries]) -> dict[int, dict[str, str]]:
    """Entities of each ground_truth series: ``run-<i>`` in series order when there are several."""
    gts = [r for r in results if r.series_type == "ground_truth"]
    return {r.index: _run_entities(len(gts), pos) for pos, r in enumerate(gts, start=1)}


def groundtruth_suffix(quantity: str) -> tuple[str, str, bool]:
    """Datatype and suffix of a ground-truth quantity (docs/bids.md §9 table).

    Returns ``(datatype, suffix, is_bids_suffix)``; quantities without a BIDS suffix (cbf, att,
    abv, abat and any extra quantity) return ``False`` and must be listed in the derivative's
    ``.bidsignore`` (cbf and att always, the others when written).
    An extra quantity gets a suffix made of its name's letters and digits (``my_map`` -> ``mymap``).
    """
    table = fields()["groundtruth_quantities"]
    ignored = {p.split("_")[-1].split(".")[0] for p in fields()["groundtruth_bidsignore"]}
    if quantity in table:
        entry = table[quantity]
        suffix = entry["suffix"]
        return entry["datatype"], suffix, suffix not in ignored and entry.get("bids_suffix", True)
    suffix = alphanumeric(quantity)
    if not suffix:
        raise NamingError(f"ground-truth quantity {quantity!r} cannot be turned into a suffix")
    known = {q["suffix"] for q in table.values()}
    if suffix in known:
        suffix = f"{suffix}extra"
    return fields()["groundtruth_extra_datatype"], suffix, False
