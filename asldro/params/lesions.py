"""``global_configuration.lesions`` (issue 13 item 3; docs/physics.md §3.7): the rules across the
keys of the lesion list that the schema cannot state, and the typed :class:`Lesion`.

Resolved as given, except that a mask path becomes absolute (relative paths resolve against the
parameter file's folder, as ground-truth paths do) and must name an existing file. Refused here:
two lesions with one name (in any case) or one label, and an ``edge_width`` without
``"edge": "smooth"``. What needs the ground truth (the field of view, its labels and quantities,
the mask's content) is checked when the lesions are inserted (:mod:`asldro.groundtruth.lesions`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from asldro.params.catalog import LESION_DEFAULT_EDGE_WIDTH
from asldro.params.validate import JsonPath, Problem, first_name_problem, text_path

LESIONS_KEY = "lesions"


@dataclass(frozen=True)
class LesionValue:
    """A quantity inside a lesion: ``value`` replaces every tissue's value, or ``scale``
    multiplies it (exactly one of the two is given)."""

    value: float | None = None
    scale: float | None = None

    def of(self, tissue_value: Any) -> Any:
        """The lesion's value where the tissue's is ``tissue_value`` (a number or an array)."""
        if self.scale is not None:
            return tissue_value * self.scale
        return tissue_value * 0.0 + self.value


@dataclass(frozen=True)
class Lesion:  # pylint: disable=too-many-instance-attributes  # the keys of docs/physics.md §3.7
    """One lesion (docs/physics.md §3.7); ``index`` is its 0-based position in the list (for
    messages: ``global_configuration.lesions[index]``).

    ``radii`` are the semi-axes in mm (a sphere's radius three times), ``rotation`` the
    ellipsoid's [x, y, z] rotation in degrees about its centre; ``mask`` the absolute path of a
    mask lesion (``centre`` and ``radii`` are then None); ``label`` None takes the default (one
    above every label before it)."""

    index: int
    shape: str
    name: str
    label: int | None = None
    centre: tuple[float, float, float] | None = None
    radii: tuple[float, float, float] | None = None
    rotation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    mask: Path | None = None
    edge: str = "sharp"
    edge_width: float = LESION_DEFAULT_EDGE_WIDTH
    values: Mapping[str, LesionValue] = field(default_factory=dict)
    place: str = ""
    """The lesion's place in the parameter file when it is not ``lesions[index]`` (a cohort's
    lesion: ``global_configuration.cohort.lesions``)."""

    @property
    def where(self) -> str:
        """The lesion's place in the parameter file, for messages."""
        return self.place or f"global_configuration.{LESIONS_KEY}[{self.index}]"

    @property
    def smooth(self) -> bool:
        """True for a smooth edge (a raised-cosine ramp of ``edge_width`` mm)."""
        return self.edge == "smooth"


def default_name(index: int) -> str:
    """The name of a lesion given without one: ``lesion<n>``, ``n`` its 1-based position."""
    return f"lesion{index + 1}"


def resolve_lesions(
    value: Sequence[Mapping[str, Any]], folder: Path, path: JsonPath, problems: list[Problem]
) -> list[dict[str, Any]]:
    """The resolved lesion list (already valid against the schema): each entry as given, a mask
    path made absolute against ``folder``; the rules across entries appended to ``problems``."""
    out: list[dict[str, Any]] = []
    names: dict[str, int] = {}
    labels: dict[int, int] = {}
    for index, entry in enumerate(value):
        where = text_path((*path, index))
        resolved = dict(entry)
        name = str(entry.get("name", default_name(index)))
        repeated = first_name_problem(
            names,
            name,
            index,
            path,
            " (names differ in more than case: each is a dseg label and a file name)",
        )
        if repeated is not None:
            problems.append(repeated)
        if "label" in entry:
            label = int(entry["label"])
            if label in labels:
                problems.append(
                    Problem(
                        (*path, index, "label"),
                        f"{where}.label: {label} is the label of lesions[{labels[label]}] too "
                        "(each lesion has its own label in the dseg)",
                    )
                )
            labels.setdefault(label, index)
        if "edge_width" in entry and entry.get("edge", "sharp") != "smooth":
            problems.append(
                Problem(
                    (*path, index, "edge_width"),
                    f'{where}.edge_width: given for a sharp edge; add "edge": "smooth" or '
                    "leave edge_width out",
                )
            )
        if "mask" in entry:
            mask = Path(os.path.normpath(folder / Path(entry["mask"]).expanduser()))
            if not mask.is_file():
                problems.append(
                    Problem(
                        (*path, index, "mask"),
                        f"{where}.mask: mask file {json.dumps(str(mask))} does not exist",
                    )
                )
            resolved["mask"] = str(mask)
        out.append(resolved)
    return out


def _triple(values: Sequence[float] | None) -> tuple[float, float, float] | None:
    if values is None:
        return None
    return (float(values[0]), float(values[1]), float(values[2]))


def lesions_from(resolved: Sequence[Mapping[str, Any]] | None) -> tuple[Lesion, ...]:
    """The typed lesions of a resolved lesion list (None or empty: none)."""
    lesions = []
    for index, entry in enumerate(resolved or ()):
        radius = entry.get("radius")
        values = {
            quantity: (
                LesionValue(scale=float(given["scale"]))
                if isinstance(given, Mapping)
                else LesionValue(value=float(given))
            )
            for quantity, given in entry.get("values", {}).items()
        }
        lesions.append(
            Lesion(
                index=index,
                shape=str(entry["shape"]),
                name=str(entry.get("name", default_name(index))),
                label=None if "label" not in entry else int(entry["label"]),
                centre=_triple(entry.get("centre")),
                radii=_triple([radius] * 3 if radius is not None else entry.get("radii")),
                rotation=_triple(entry.get("rotation")) or (0.0, 0.0, 0.0),
                mask=Path(entry["mask"]) if "mask" in entry else None,
                edge=str(entry.get("edge", "sharp")),
                edge_width=float(entry.get("edge_width", LESION_DEFAULT_EDGE_WIDTH)),
                values=values,
            )
        )
    return tuple(lesions)
