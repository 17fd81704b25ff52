"""JSON sidecars and the aslcontext table (docs/bids.md §3–§6, §8, §9; docs/physics.md D20, D21).

The asl, m0scan and structural sidecars are made in ONE place, :func:`catalog_fields`: it walks
the catalog's field order (:data:`asldro.params.catalog.SIDECAR_FIELDS`) and computes each field
from the acquisition record (:mod:`asldro.pipelines.records`) through the field's catalog row:

* a :class:`~asldro.params.catalog.Parameter` row: the parameter as used
  (:meth:`record.value <asldro.pipelines.records.AslAcquisition.value>`), converted through the
  ``fields.json`` table the row names, else collapsed per :class:`~asldro.params.catalog.Collapse`;
  a table entry that is an object gives the field and the other BIDS fields (CamelCase keys) it
  holds, in its order (``contrasts``: ``ScanningSequence`` then ``PulseSequenceType``);
* a :class:`~asldro.params.catalog.Derived` row: its rule in :mod:`asldro.bids.derived`;
* a :class:`~asldro.params.catalog.Fixed` row: its value;

each only where its ``when`` condition holds. The writer adds ``IntendedFor`` (first, m0scan),
the phase image's ``Units`` and ``DROSoftware`` (last). Units: s, degrees, T, mm.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from asldro import __version__
from asldro.bids import derived
from asldro.bids.checks import ASLCONTEXT_VALUES
from asldro.bids.derived import Layout, scalar_or_list
from asldro.bids.fields import fields
from asldro.params import catalog
from asldro.pipelines.records import (
    AcquisitionRecord,
    AslAcquisition,
    GroundTruthMap,
    StructuralAcquisition,
)


def aslcontext_tsv(context: Sequence[str]) -> str:
    """``*_aslcontext.tsv`` text: header ``volume_type``, one row per volume (docs/bids.md §6):
    ``context`` is the token of every volume (``AslSeries.volume_tokens``)."""
    bad = [t for t in context if t not in ASLCONTEXT_VALUES]
    if bad:
        raise ValueError(f"invalid aslcontext volume types {bad}")
    return "volume_type\n" + "".join(f"{t}\n" for t in context)


def _holds(when: str | None, record: AcquisitionRecord) -> bool:
    return when is None or derived.CONDITIONS[when](record)


def _from_table(table: str, field: str, value: Any) -> dict[str, Any]:
    entry = fields()[table][value]
    if not isinstance(entry, Mapping):
        return {field: entry}
    return {field: entry[field]} | {
        key: item for key, item in entry.items() if key != field and key[:1].isupper()
    }


def _collapsed(collapse: catalog.Collapse, value: Any) -> Any:
    if collapse is catalog.Collapse.SCALAR_OR_LIST:
        return scalar_or_list(value if isinstance(value, Sequence) else [value])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _row_fields(
    field: str,
    row: catalog.Parameter | catalog.Derived | catalog.Fixed,
    record: AcquisitionRecord,
    layout: Layout,
) -> Mapping[str, Any]:
    """The field of ``row`` (with the fields that come with it), or nothing when the row's
    condition does not hold."""
    if isinstance(row, catalog.Parameter):
        assert row.bids is not None  # bids_rows gives rows with a BIDS mapping only
        if not _holds(row.bids.when, record):
            return {}
        if row.per_volume is catalog.PerVolume.PER_TOKEN:
            value = record.per_volume(row.name)  # type: ignore[union-attr]  # asl rows only
        else:
            value = record.value(row.name)
        if row.bids.table is not None:
            return _from_table(row.bids.table, field, value)
        return {field: _collapsed(row.bids.collapse, value)}
    if not _holds(row.when, record):
        return {}
    if isinstance(row, catalog.Derived):
        value = derived.RULES[row.rule](record, layout)
        return value if isinstance(value, Mapping) else {field: value}
    return {field: row.value}


def catalog_fields(
    sidecar: str, record: AcquisitionRecord, layout: Layout = Layout()
) -> dict[str, Any]:
    """The catalog's fields of ``sidecar`` (``asl``, ``m0scan``, ``structural``) for ``record``,
    in :data:`~asldro.params.catalog.SIDECAR_FIELDS` order."""
    rows = catalog.bids_rows(sidecar)
    out: dict[str, Any] = {}
    for field in catalog.SIDECAR_FIELDS[sidecar]:
        out.update(_row_fields(field, rows[field], record, layout))
    return out


def _signed(sidecar: dict[str, Any]) -> dict[str, Any]:
    sidecar["DROSoftware"] = f"asldro {__version__}"
    return sidecar


def _of_part(sidecar: dict[str, Any], part: str | None) -> dict[str, Any]:
    """The sidecar of the image ``part``: the phase image of a complex series has ``Units``
    rad."""
    if part == "phase":
        sidecar["Units"] = "rad"
    return sidecar


def asl_sidecar(
    record: AslAcquisition, *, has_separate_m0: bool = False, part: str | None = None
) -> dict[str, Any]:
    """``*_asl.json`` (docs/bids.md §3): every REQUIRED and conditional field.
    ``has_separate_m0``: an m0scan file calibrates this run (``M0Type`` Separate); ``part``:
    the part of a complex run."""
    fields_ = catalog_fields("asl", record, Layout(has_separate_m0=has_separate_m0))
    return _signed(_of_part(fields_, part))


def m0scan_sidecar(
    record: AslAcquisition, *, intended_for: str, part: str | None = None
) -> dict[str, Any]:
    """``*_m0scan.json`` (docs/bids.md §4): ``IntendedFor`` (a BIDS URI) first, EchoTime and the
    real TR as ``RepetitionTimePreparation``; ``part``: the part of a complex m0scan."""
    sidecar = {"IntendedFor": intended_for, **catalog_fields("m0scan", record)}
    return _signed(_of_part(sidecar, part))


def structural_sidecar(record: StructuralAcquisition, *, part: str | None = None) -> dict[str, Any]:
    """``anat/*.json`` for a structural series (docs/bids.md §8): sequence, TE, TR, FA, TI; the
    phase image of a complex series (``part`` ``phase``) has ``Units`` rad."""
    return _signed(_of_part(catalog_fields("structural", record), part))


def groundtruth_sidecar(
    record: GroundTruthMap,
    *,
    sources: Sequence[str] = (),
    description: str | None = None,
    resolution: str | None = None,
) -> dict[str, Any]:
    """Derivative sidecar of a ground-truth map (docs/bids.md §9): ``SkullStripped`` false
    (REQUIRED), ``Description`` (what the quantity is, then how the value was formed from the
    ground truth: the record's ``derivation``), ``Units``, the field strength and voxel size
    (the catalog's rules), ``Sources``, and ``Resolution`` for a file with ``res-`` (BIDS: the
    entity needs it)."""
    quantity = record.quantity
    table = fields()["groundtruth_quantities"].get(quantity, {})
    units = table.get("Units", record.units or "arbitrary")
    what = description or table.get("Description", f"Ground-truth {quantity}")
    how = record.derivation
    sidecar: dict[str, Any] = {
        "SkullStripped": False,
        "Description": f"{what}. {how}" if how else what,
    }
    if units:
        sidecar["Units"] = units
    sidecar["MagneticFieldStrength"] = derived.magnetic_field_strength(record)
    sidecar["AcquisitionVoxelSize"] = derived.acquisition_voxel_size(record)
    if resolution is not None:
        sidecar["Resolution"] = resolution
    if sources:
        sidecar["Sources"] = list(sources)
    sidecar["GroundTruthQuantity"] = quantity
    return _signed(sidecar)
