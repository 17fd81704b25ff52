"""Reading a BIDS ASL run from its files alone (docs/quantify.md §1): the image, its sidecars by
the BIDS inheritance principle, ``aslcontext.tsv``, the M0 its ``M0Type`` names, and the
per-volume ``PostLabelingDelay`` / ``LabelingDuration`` arrays.

The control and label volumes (or ``deltam`` volumes) are grouped by their distinct
(post-labelling delay, labelling duration) pair; each group gives one ΔM image,
``mean(control) − mean(label)`` (or ``mean(deltam)``), with the weight of its inverse variance.
A run without such volumes but with ``cbf`` volumes (of one PLD, ``Units`` mL/100g/min) is a
*cbf run*: its CBF is the mean of its cbf volumes, no M0 is read. ``noRF`` volumes, and ``cbf``
volumes beside a ΔM, are not used (docs/quantify.md §1).
Nothing of asldro's own parameter files is read, so any BIDS ASL dataset can be quantified.
Every problem is a :class:`~asldro.quantify.errors.QuantifyError` (exit 65) naming the file,
the field and the rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence, overload

import numpy as np

from asldro.bids.checks import (
    ASLCONTEXT_VALUES,
    AslRun,
    applicable_sidecars,
    images_with_suffix,
    intended_for_targets,
    read_aslcontext,
    read_json_object,
    relative,
    resolve_intended_for,
)
from asldro.exit_codes import StatusError
from asldro.quantify.errors import QuantifyError

LABEL_TYPES = ("CASL", "PCASL", "PASL")
M0_TYPES = ("Included", "Separate", "Estimate", "Absent")
#: Bolus cut-off techniques the PASL formula and fit support, and how TI1 is read.
CUT_OFF_TECHNIQUES = ("QUIPSSII", "Q2TIPS")
#: PLD and labelling durations are compared (grouped) after rounding to this many decimals (s).
TIME_DECIMALS = 9
SLICE_AXES = {"i": 0, "j": 1, "k": 2}
#: The volume types a ΔM is formed from.
DELTA_M_VOLUMES = ("control", "label", "deltam")
#: The Units of cbf volumes (BIDS' spelling); compared ignoring case and spaces.
CBF_UNITS = "mL/100g/min"
#: Errors that mean a file could not be read at all (an I/O error, exit 74), not bad content.
IO_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError)


@dataclass(frozen=True)
class Metadata:
    """A run's sidecar metadata (BIDS inheritance applied) and the file each key came from."""

    values: dict[str, Any]
    origin: dict[str, str]
    default_place: str

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (``default`` when absent)."""
        return self.values.get(key, default)

    def file_of(self, key: str) -> str:
        """The sidecar that set ``key`` (the run's own sidecar when none did)."""
        return self.origin.get(key, self.default_place)

    def where(self, key: str) -> str:
        """``file: key``, naming the sidecar that set ``key`` (the run's own sidecar when none
        did)."""
        return f"{self.file_of(key)}: {key}"


@dataclass(frozen=True)
class PerfusionGroup:
    """The volumes sharing one (PLD, labelling duration): their ΔM is one data point."""

    post_labeling_delay: float
    label_duration: float  # tau: the labelling duration, PASL the bolus duration TI1
    signal_time: float  # t since the start of labelling: tau + PLD ((P)CASL), TI (PASL)
    controls: tuple[int, ...] = ()
    labels: tuple[int, ...] = ()
    deltams: tuple[int, ...] = ()

    @property
    def weight(self) -> float:
        """The inverse variance of the group's ΔM in units of one volume's variance: 1 /
        (1/#control + 1/#label) for control/label pairs, #deltam/2 for deltam volumes."""
        if self.controls and self.labels:
            return 1.0 / (1.0 / len(self.controls) + 1.0 / len(self.labels))
        return len(self.deltams) / 2.0

    def describe(self) -> str:
        """``"2 control, 2 label"`` or ``"3 deltam"``."""
        if self.controls and self.labels:
            return f"{len(self.controls)} control, {len(self.labels)} label"
        return f"{len(self.deltams)} deltam"


@dataclass(frozen=True)
class M0Source:
    """Where the M0 of a run comes from (``files`` are dataset-relative paths)."""

    m0_type: str
    description: str
    files: tuple[str, ...] = ()
    image: Path | None = None  # a separate m0scan image
    volumes: tuple[int, ...] = ()  # m0scan rows of the run (Included)
    estimate: float | None = None
    repetition_times: tuple[float, ...] = ()  # of the M0 volumes, when known


@dataclass(frozen=True)
class CbfVolumes:
    """The cbf volumes a cbf run is quantified from, and their one PLD and labelling duration
    (None when the sidecar has none, as for PASL)."""

    volumes: tuple[int, ...]
    post_labeling_delay: float
    label_duration: float | None


@dataclass(frozen=True)
class RunPlan:  # pylint: disable=too-many-instance-attributes  # what a run's files say, checked
    """Everything read about one ASL run before its voxel data (checked, nothing loaded). A cbf
    run has ``cbf`` and no ``groups``."""

    image: Path
    relative: str
    metadata: Metadata
    label_type: str  # BIDS ArterialSpinLabelingType
    volume_types: tuple[str, ...]
    groups: tuple[PerfusionGroup, ...]
    m0: M0Source
    shape: tuple[int, ...]
    affine: np.ndarray
    bolus_cut_off: tuple[str, float] | None  # (technique, TI1) for PASL
    slice_timing: tuple[int, np.ndarray] | None  # (axis, time of each index along it)
    sources: tuple[str, ...] = field(default=())
    background_suppression: bool = False  # BackgroundSuppression true
    cbf: CbfVolumes | None = None

    @property
    def stem(self) -> str:
        """The image name without ``_asl`` and its extension (the output's entities)."""
        name = self.image.name
        return name[: name.index("_asl.")]

    @property
    def folder(self) -> str:
        """The image's folder relative to the dataset root (``sub-01/perf``)."""
        return str(Path(self.relative).parent.as_posix())

    @property
    def multi_pld(self) -> bool:
        """True when there are several distinct (PLD, labelling duration) groups."""
        return len(self.groups) > 1

    def unused_volumes(self) -> dict[str, int]:
        """The number of volumes of each type that are not used (``noRF``; ``cbf`` beside a
        ΔM), for the types that have any."""
        unused = {"cbf": self.volume_types.count("cbf") if self.groups else 0}
        unused["noRF"] = self.volume_types.count("noRF")
        return {kind: count for kind, count in unused.items() if count}


@dataclass(frozen=True)
class RunData:
    """A run's voxel data: one ΔM per group (float64, ``shape + (groups,)``) and M0."""

    delta_m: np.ndarray
    m0: np.ndarray


# --------------------------------------------------------------------------------------------
# metadata


def read_metadata(image: Path, root: Path) -> Metadata:
    """The metadata of ``image`` by the BIDS inheritance principle (top level, participant,
    session and file level; more specific files win) and the file each key came from. A
    sidecar that is not a JSON object is an error."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path in applicable_sidecars(image, root):
        content = read_json_object(path)
        rel = relative(path, root)
        if content is None:
            raise QuantifyError(f"{rel}: not a readable JSON object")
        values.update(content)
        origin.update({key: rel for key in content})
    own = relative(image.parent / (_image_stem(image) + ".json"), root)
    return Metadata(values, origin, own)


def _image_stem(path: Path) -> str:
    for extension in (".nii.gz", ".nii"):
        if path.name.endswith(extension):
            return path.name[: -len(extension)]
    return path.stem


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


@overload
def per_volume(
    meta: Metadata, key: str, volumes: int, *, required: Literal[True]
) -> np.ndarray: ...


@overload
def per_volume(meta: Metadata, key: str, volumes: int, *, required: bool) -> np.ndarray | None: ...


def per_volume(meta: Metadata, key: str, volumes: int, *, required: bool) -> np.ndarray | None:
    """The per-volume values of ``key``: a scalar repeated, or an array of one number >= 0 per
    volume (BIDS); None when absent and not ``required``."""
    value = meta.get(key)
    if value is None:
        if required:
            raise QuantifyError(f"{meta.where(key)}: missing (required)")
        return None
    if _number(value) and value >= 0:
        return np.full(volumes, float(value))
    if isinstance(value, list):
        if len(value) != volumes:
            raise QuantifyError(
                f"{meta.where(key)}: {len(value)} values, but the image and its aslcontext "
                f"have {volumes} volumes (one value per volume, or one number)"
            )
        for index, item in enumerate(value):
            if not (_number(item) and item >= 0):
                raise QuantifyError(
                    f"{meta.where(key)}[{index}]: expected a number >= 0, got {item!r}"
                )
        return np.asarray(value, dtype=np.float64)
    raise QuantifyError(
        f"{meta.where(key)}: expected a number >= 0 or an array of them, got {value!r}"
    )


# --------------------------------------------------------------------------------------------
# images


def load_image(path: Path, root: Path, error: type[StatusError] = QuantifyError) -> Any:
    """The nibabel image of ``path``; an unreadable NIfTI is an ``error`` naming it (default
    :class:`QuantifyError`; ``asldro score`` raises its own)."""
    import nibabel as nib
    from nibabel.spatialimages import SpatialImage

    try:
        image = nib.load(str(path))
        if not isinstance(image, SpatialImage):  # e.g. GIFTI: a header without a data shape
            raise TypeError(f"a {type(image).__name__}, not a volume image")
        image.header.get_data_shape()
    except IO_ERRORS:
        raise
    except Exception as err:  # pylint: disable=broad-except  # nibabel raises many types
        raise error(f"{relative(path, root)}: not a readable NIfTI image ({err})") from err
    return image


def image_volumes(shape: Sequence[int], where: str) -> int:
    """The number of volumes of an image of ``shape`` (3-D: 1)."""
    if len(shape) == 3:
        return 1
    if len(shape) == 4:
        return int(shape[3])
    raise QuantifyError(f"{where}: a {len(shape)}-D image; expected 3-D or 4-D")


#: Bytes decompressed per read (gzip's readinto reads all it is asked for into a copy first).
_READ_CHUNK = 16 << 20


def _read_unscaled(proxy: Any) -> np.ndarray | None:
    """The voxel data of an unscaled, native-endian ``.nii``/``.nii.gz`` image read straight
    into one array (nibabel reads a compressed file through a second buffer of the same size:
    twice the memory of a long series, issue 16 item 1); None for anything else, or a file
    shorter than its header says, which nibabel then reads (and explains)."""
    import gzip

    try:
        file_like, offset, dtype = proxy.file_like, int(proxy.offset), np.dtype(proxy.dtype)
        shape, order, slope, inter = tuple(proxy.shape), proxy.order, proxy.slope, proxy.inter
    except (AttributeError, TypeError, ValueError):
        return None
    if not isinstance(file_like, str) or order != "F" or not dtype.isnative:
        return None
    if slope != 1 or inter != 0 or not file_like.endswith((".nii", ".nii.gz")):
        return None
    out = np.empty(shape[::-1], dtype=dtype)  # the transpose is the F-ordered image
    buffer = out.data.cast("B")
    opener: Any = gzip.open if file_like.endswith(".gz") else open
    try:
        with opener(file_like, "rb") as handle:
            handle.seek(offset)
            done = 0
            while done < len(buffer):
                count = handle.readinto(buffer[done : done + _READ_CHUNK])
                if not count:
                    return None
                done += count
    except (OSError, EOFError):  # a corrupt stream: nibabel gives its error
        return None
    return out.T


def image_data(image: Any, path: Path, root: Path) -> np.ndarray:
    """The voxel data of ``image`` as 4-D (scaling applied, the file's precision); non-finite
    values are refused."""
    try:
        data = _read_unscaled(image.dataobj)
        if data is None:
            data = np.asanyarray(image.dataobj)
    except IO_ERRORS:
        raise
    except Exception as err:  # pylint: disable=broad-except  # a truncated or corrupt file
        raise QuantifyError(f"{relative(path, root)}: cannot read the voxel data ({err})") from err
    if data.ndim == 3:
        data = data[..., np.newaxis]
    if not np.isfinite(data).all():
        count = int(data.size - np.count_nonzero(np.isfinite(data)))
        raise QuantifyError(f"{relative(path, root)}: {count} non-finite voxel values (NaN or Inf)")
    return data


# --------------------------------------------------------------------------------------------
# the plan of a run


def _label_type(meta: Metadata) -> str:
    value = meta.get("ArterialSpinLabelingType")
    if value not in LABEL_TYPES:
        got = "missing" if value is None else f"{value!r}"
        raise QuantifyError(
            f"{meta.where('ArterialSpinLabelingType')}: {got}; expected one of "
            f"{', '.join(LABEL_TYPES)}"
        )
    return str(value)


def _volume_types(run: AslRun, root: Path, volumes: int) -> tuple[str, ...]:
    rel = relative(run.context, root)
    parsed = read_aslcontext(run.context) if run.context.is_file() else None
    if parsed is None:
        raise QuantifyError(f"{rel}: missing or unreadable (every ASL run needs its aslcontext)")
    header, rows = parsed
    if header != ["volume_type"]:
        raise QuantifyError(f"{rel}: header {header!r}; must be exactly volume_type")
    bad = sorted({row for row in rows if row not in ASLCONTEXT_VALUES})
    if bad:
        raise QuantifyError(
            f"{rel}: volume types {bad} not in {sorted(ASLCONTEXT_VALUES)} (case-sensitive)"
        )
    if len(rows) != volumes:
        raise QuantifyError(
            f"{rel}: {len(rows)} rows, but {relative(run.image, root)} has {volumes} volumes"
        )
    return tuple(rows)


def _bolus_cut_off(meta: Metadata) -> tuple[str, float]:
    """(technique, TI1) of a PASL run: QUIPSS II (TI1 = BolusCutOffDelayTime) or Q2TIPS (TI1 =
    its first value)."""
    flag = meta.get("BolusCutOffFlag")
    if flag is not True:
        raise QuantifyError(
            f"{meta.where('BolusCutOffFlag')}: {'missing' if flag is None else repr(flag)}: "
            "PASL without a bolus cut-off has no known bolus duration, which the PASL formula "
            "needs (QUIPSSII or Q2TIPS)"
        )
    technique = meta.get("BolusCutOffTechnique")
    if technique not in CUT_OFF_TECHNIQUES:
        got = "missing" if technique is None else f"{technique!r}"
        raise QuantifyError(
            f"{meta.where('BolusCutOffTechnique')}: {got}; supported: "
            f"{', '.join(CUT_OFF_TECHNIQUES)}"
        )
    delay = meta.get("BolusCutOffDelayTime")
    if technique == "Q2TIPS":
        valid = isinstance(delay, list) and len(delay) == 2 and all(_number(v) for v in delay)
        ti1 = float(delay[0]) if valid else 0.0
        rule = "Q2TIPS needs [TI1, TI1s] (s)"
    else:
        valid = _number(delay) or (
            isinstance(delay, list) and len(delay) == 1 and _number(delay[0])
        )
        ti1 = float(delay[0] if isinstance(delay, list) else delay) if valid else 0.0
        rule = "QUIPSSII needs one number, TI1 (s)"
    if not (valid and ti1 > 0):
        raise QuantifyError(f"{meta.where('BolusCutOffDelayTime')}: {delay!r}; {rule}, > 0")
    return str(technique), ti1


def _group_members(
    meta: Metadata, label_type: str, types: Sequence[str], ti1: float | None
) -> dict[tuple[float, float], dict[str, list[int]]]:
    """The control, label and deltam volumes of each (PLD, labelling duration) pair (PASL: the
    bolus duration TI1), the times rounded to :data:`TIME_DECIMALS`."""
    volumes = len(types)
    pld = per_volume(meta, "PostLabelingDelay", volumes, required=True)
    duration: np.ndarray
    if label_type == "PASL":
        duration = np.full(volumes, float(ti1 or 0.0))
    else:
        duration = per_volume(meta, "LabelingDuration", volumes, required=True)
    members: dict[tuple[float, float], dict[str, list[int]]] = {}
    for index, kind in enumerate(types):
        if kind in DELTA_M_VOLUMES:
            key = (
                round(float(pld[index]), TIME_DECIMALS),
                round(float(duration[index]), TIME_DECIMALS),
            )
            members.setdefault(key, {"control": [], "label": [], "deltam": []})[kind].append(index)
    if not members:
        raise QuantifyError(
            f"{meta.default_place}: the run has no control/label, deltam or cbf volumes to "
            f"quantify (aslcontext: {', '.join(sorted(set(types)))})"
        )
    return members


def _cbf_volumes(meta: Metadata, types: Sequence[str]) -> CbfVolumes:
    """The cbf volumes of a cbf run: ``Units`` mL/100g/min, one (PLD, labelling duration)."""
    units = meta.get("Units")
    if not (isinstance(units, str) and _same_units(units, CBF_UNITS)):
        got = "missing" if units is None else repr(units)
        raise QuantifyError(
            f"{meta.where('Units')}: {got}; the CBF of a run with cbf volumes (and no "
            f"control/label or deltam volume) is the mean of its cbf volumes, which must be in "
            f"{CBF_UNITS}"
        )
    rows = tuple(index for index, kind in enumerate(types) if kind == "cbf")
    pld = per_volume(meta, "PostLabelingDelay", len(types), required=True)
    duration = per_volume(meta, "LabelingDuration", len(types), required=False)
    times = sorted(
        {
            (
                round(float(pld[i]), TIME_DECIMALS),
                None if duration is None else round(float(duration[i]), TIME_DECIMALS),
            )
            for i in rows
        },
        key=lambda pair: (pair[0], pair[1] or 0.0),
    )
    if len(times) > 1:
        listed = ", ".join(
            f"{delay:g} s" if tau is None else f"{delay:g} s (labelling duration {tau:g} s)"
            for delay, tau in times
        )
        raise QuantifyError(
            f"{meta.where('PostLabelingDelay')}: the run's cbf volumes have {len(times)} "
            f"different PLDs ({listed}); asldro quantify writes one CBF map per run and does "
            "not average CBF maps of different PLDs (give each PLD its own run)"
        )
    return CbfVolumes(rows, times[0][0], times[0][1])


def _same_units(units: str, expected: str) -> bool:
    """``units`` is ``expected`` but for case and spaces (``ml/100 g/min``)."""
    return "".join(units.split()).lower() == expected.lower()


def _background_suppression(meta: Metadata) -> bool:
    """``BackgroundSuppression``: true or false (missing: false, no pulses)."""
    value = meta.get("BackgroundSuppression")
    if value is None:
        return False
    if not isinstance(value, bool):
        raise QuantifyError(
            f"{meta.where('BackgroundSuppression')}: {value!r}; expected true or false"
        )
    return value


def _groups(
    meta: Metadata,
    label_type: str,
    types: Sequence[str],
    ti1: float | None,
) -> tuple[PerfusionGroup, ...]:
    """The (PLD, labelling duration) groups of the perfusion volumes, ordered by signal time:
    control/label pairs where both are there, else deltam volumes."""
    groups = []
    for (delay, tau), kinds in _group_members(meta, label_type, types, ti1).items():
        if kinds["control"] and kinds["label"]:
            chosen = {"controls": tuple(kinds["control"]), "labels": tuple(kinds["label"])}
        elif kinds["deltam"]:
            chosen = {"deltams": tuple(kinds["deltam"])}
        else:
            have, lack = ("control", "label") if kinds["control"] else ("label", "control")
            raise QuantifyError(
                f"{meta.where('PostLabelingDelay')}: the {have} volumes with PLD {delay:g} s "
                f"(labelling duration {tau:g} s) have no {lack} volume to pair with (and no "
                "deltam volume)"
            )
        signal_time = delay if label_type == "PASL" else tau + delay
        if label_type == "PASL" and not signal_time > 0:
            raise QuantifyError(
                f"{meta.where('PostLabelingDelay')}: a PASL perfusion volume has inversion time "
                f"{delay!r}; it must be > 0"
            )
        groups.append(PerfusionGroup(delay, tau, signal_time, **chosen))
    return tuple(sorted(groups, key=lambda g: (g.signal_time, g.label_duration)))


def _slice_timing(meta: Metadata, shape: Sequence[int]) -> tuple[int, np.ndarray] | None:
    """(axis, acquisition time of each index along it) from ``SliceTiming`` and
    ``SliceEncodingDirection`` (default ``k``; a negative direction lists the slices in
    reverse order, BIDS)."""
    timing = meta.get("SliceTiming")
    if timing is None:
        return None
    direction = meta.get("SliceEncodingDirection", "k")
    if not (isinstance(direction, str) and direction.rstrip("-") in SLICE_AXES):
        raise QuantifyError(
            f"{meta.where('SliceEncodingDirection')}: {direction!r}; expected i, j, k, i-, j- or k-"
        )
    axis = SLICE_AXES[direction.rstrip("-")]
    if not (isinstance(timing, list) and all(_number(t) and t >= 0 for t in timing)):
        raise QuantifyError(f"{meta.where('SliceTiming')}: expected an array of numbers >= 0")
    if len(timing) != shape[axis]:
        raise QuantifyError(
            f"{meta.where('SliceTiming')}: {len(timing)} values, but the image has "
            f"{shape[axis]} slices along {direction.rstrip('-')}"
        )
    times = np.asarray(timing, dtype=np.float64)
    return axis, (times[::-1] if direction.endswith("-") else times)


def _find_separate_m0(run: AslRun, root: Path) -> Path:
    """The m0scan of a ``Separate`` run: the one whose IntendedFor names the run, else the one
    with the same entities."""
    target = run.image.resolve()
    naming = []
    for path, stem in images_with_suffix(root, "m0scan"):
        content = read_json_object(path.parent / f"{stem}.json") or {}
        for entry in intended_for_targets(content.get("IntendedFor", [])):
            if isinstance(entry, str) and entry:
                resolved = resolve_intended_for(entry, path, root)
                if resolved is not None and resolved.resolve() == target:
                    naming.append(path)
    if len(naming) > 1:
        listed = ", ".join(relative(p, root) for p in naming)
        raise QuantifyError(
            f"{relative(run.image, root)}: M0Type Separate, but several m0scans name it in "
            f"IntendedFor ({listed})"
        )
    if naming:
        return naming[0]
    if run.m0scan is not None:
        return run.m0scan
    raise QuantifyError(
        f"{relative(run.image, root)}: M0Type Separate, but no m0scan names it in IntendedFor "
        "nor has its entities"
    )


def _m0_source(
    run: AslRun,
    root: Path,
    meta: Metadata,
    types: Sequence[str],
    volumes: int,
    strict: bool = True,
) -> M0Source:
    m0_type = meta.get("M0Type")
    if m0_type not in M0_TYPES:
        got = "missing" if m0_type is None else f"{m0_type!r}"
        raise QuantifyError(f"{meta.where('M0Type')}: {got}; expected one of {', '.join(M0_TYPES)}")
    if m0_type == "Absent" and not strict:
        return M0Source("Absent", "no M0 (M0Type Absent)")
    if m0_type == "Absent" and _background_suppression(meta):
        raise QuantifyError(
            f"{meta.where('M0Type')}: Absent with BackgroundSuppression true: there is no M0, "
            "and the control volumes are background-suppressed, so they cannot calibrate CBF "
            "either (an m0scan or M0Estimate is needed)"
        )
    if m0_type == "Absent":
        raise QuantifyError(
            f"{meta.where('M0Type')}: Absent: there is no M0 to calibrate CBF with (an m0scan "
            "or M0Estimate is needed)"
        )
    if m0_type == "Estimate":
        value = meta.get("M0Estimate")
        if not (_number(value) and value > 0):
            raise QuantifyError(
                f"{meta.where('M0Estimate')}: {value!r}; M0Type Estimate needs a number > 0"
            )
        return M0Source(
            "Estimate",
            f"M0Estimate {float(value):g} of the sidecar (M0Type Estimate)",
            estimate=float(value),
        )
    if m0_type == "Included":
        rows = tuple(i for i, kind in enumerate(types) if kind == "m0scan")
        if not rows:
            raise QuantifyError(
                f"{meta.where('M0Type')}: Included, but aslcontext has no m0scan row"
            )
        tr = per_volume(meta, "RepetitionTimePreparation", volumes, required=False)
        return M0Source(
            "Included",
            f"mean of the run's {len(rows)} m0scan volume(s) (M0Type Included)",
            volumes=rows,
            repetition_times=tuple(float(tr[i]) for i in rows) if tr is not None else (),
        )
    image = _find_separate_m0(run, root)
    m0_meta = read_metadata(image, root)
    m0_volumes = image_volumes(load_image(image, root).shape, relative(image, root))
    tr = per_volume(m0_meta, "RepetitionTimePreparation", m0_volumes, required=False)
    files = tuple(sorted({relative(image, root), *m0_meta.origin.values()}))
    return M0Source(
        "Separate",
        f"mean of the {m0_volumes} volume(s) of {relative(image, root)} (M0Type Separate)",
        files=files,
        image=image,
        repetition_times=tuple(float(v) for v in tr) if tr is not None else (),
    )


def plan_run(run: AslRun, root: Path, *, strict: bool = True) -> RunPlan:
    """Read and check everything about ``run`` except its voxel data. With ``strict`` false
    (the report, which shows ΔM without quantifying it) a run without an M0 (``M0Type``
    Absent) and a PASL run without a bolus cut-off are read as they are."""
    rel = relative(run.image, root)
    meta = read_metadata(run.image, root)
    image = load_image(run.image, root)
    shape = tuple(int(n) for n in image.header.get_data_shape())
    volumes = image_volumes(shape, rel)
    label_type = _label_type(meta)
    types = _volume_types(run, root, volumes)
    background_suppression = _background_suppression(meta)
    if "cbf" in types and not any(kind in DELTA_M_VOLUMES for kind in types):
        return RunPlan(  # a cbf run: no M0, no bolus cut-off, no slice timing needed
            image=run.image,
            relative=rel,
            metadata=meta,
            label_type=label_type,
            volume_types=types,
            groups=(),
            m0=M0Source(str(meta.get("M0Type", "n/a")), "not used (the cbf volumes are CBF)"),
            shape=shape[:3],
            affine=np.asarray(image.affine, dtype=np.float64),
            bolus_cut_off=None,
            slice_timing=None,
            sources=tuple(sorted({rel, relative(run.context, root), *meta.origin.values()})),
            background_suppression=background_suppression,
            cbf=_cbf_volumes(meta, types),
        )
    cut_off = None
    if label_type == "PASL" and (strict or meta.get("BolusCutOffFlag") is True):
        cut_off = _bolus_cut_off(meta)
    groups = _groups(meta, label_type, types, cut_off[1] if cut_off else None)
    m0 = _m0_source(run, root, meta, types, volumes, strict)
    sources = {rel, relative(run.context, root), *meta.origin.values(), *m0.files}
    return RunPlan(
        image=run.image,
        relative=rel,
        metadata=meta,
        label_type=label_type,
        volume_types=types,
        groups=groups,
        m0=m0,
        shape=shape[:3],
        affine=np.asarray(image.affine, dtype=np.float64),
        bolus_cut_off=cut_off,
        slice_timing=_slice_timing(meta, shape[:3]),
        sources=tuple(sorted(sources)),
        background_suppression=background_suppression,
    )


# --------------------------------------------------------------------------------------------
# voxel data


def mean_volumes(data: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """The float64 mean of the volumes ``indices`` of a 4-D image, accumulated in float64
    without a copy of them when they are evenly spaced (a view; control and label volumes
    alternate), else of those volumes only: the same values with less memory (issue 16)."""
    chosen = list(indices)
    steps = {b - a for a, b in zip(chosen, chosen[1:])}
    if len(steps) == 1 and min(steps) > 0:
        step = steps.pop()
        volumes = data[..., chosen[0] : chosen[-1] + 1 : step]
    elif len(chosen) == 1:
        volumes = data[..., chosen[0] : chosen[0] + 1]
    else:
        volumes = data[..., chosen]
    return np.asarray(np.mean(volumes, axis=-1, dtype=np.float64))


def _tr_corrected(volumes: np.ndarray, trs: Sequence[float], t1: float, where: str) -> np.ndarray:
    """``M0 / (1 − exp(−TR/T1))`` volume by volume (the optional M0 TR correction)."""
    if len(trs) != volumes.shape[-1]:
        raise QuantifyError(f"{where}: RepetitionTimePreparation is needed for --m0-tr-correction")
    factors = np.array([-math.expm1(-tr / t1) if tr > 0 else 0.0 for tr in trs])
    if not (factors > 0).all():
        raise QuantifyError(f"{where}: RepetitionTimePreparation of an M0 volume is 0")
    return volumes / factors


def load_run(
    plan: RunPlan,
    root: Path,
    *,
    m0_tr_correction: float | None = None,
    data: np.ndarray | None = None,
) -> RunData:
    """The ΔM of each group and the M0 image of ``plan`` (float64), with the optional M0
    repetition-time correction ``M0 / (1 − exp(−TR/T1))`` for the T1 given; ``data`` is the
    run's :func:`image_data` when the caller has read it already (read here otherwise)."""
    if data is None:
        data = image_data(load_image(plan.image, root), plan.image, root)
    delta_m = np.empty(plan.shape + (len(plan.groups),), dtype=np.float64)
    for index, group in enumerate(plan.groups):
        if group.controls and group.labels:
            delta_m[..., index] = mean_volumes(data, group.controls) - mean_volumes(
                data, group.labels
            )
        else:
            delta_m[..., index] = mean_volumes(data, group.deltams)
    source = plan.m0
    if source.m0_type == "Estimate":  # (no TR correction: refused by runs.check_run)
        return RunData(delta_m, np.full(plan.shape, float(source.estimate or 0.0)))
    if source.m0_type == "Absent":  # only from plan_run(strict=False)
        return RunData(delta_m, np.zeros(plan.shape))
    if source.m0_type == "Included":
        volumes = data[..., list(source.volumes)].astype(np.float64)
        where = plan.metadata.where("RepetitionTimePreparation")
    else:
        assert source.image is not None
        m0_image = load_image(source.image, root)
        volumes = image_data(m0_image, source.image, root).astype(np.float64)
        where = f"{relative(source.image, root)}: RepetitionTimePreparation"
        if volumes.shape[:3] != plan.shape or not np.allclose(
            m0_image.affine, plan.affine, atol=1e-3
        ):
            raise QuantifyError(
                f"{relative(source.image, root)}: its grid (shape {volumes.shape[:3]}) differs "
                f"from {plan.relative}'s (shape {plan.shape}); resampling M0 is not supported"
            )
    if m0_tr_correction is not None:
        volumes = _tr_corrected(volumes, source.repetition_times, m0_tr_correction, where)
    return RunData(delta_m, volumes.mean(axis=-1))


def load_cbf(plan: RunPlan, root: Path) -> np.ndarray:
    """The CBF of a cbf run: the mean of its cbf volumes (float64)."""
    assert plan.cbf is not None
    data = image_data(load_image(plan.image, root), plan.image, root)
    return mean_volumes(data, plan.cbf.volumes)


def slice_offsets(plan: RunPlan) -> np.ndarray | None:
    """The time (s) each voxel is acquired after the first slice (``SliceTiming``), as an
    array of the run's grid shape; None without ``SliceTiming``."""
    if plan.slice_timing is None:
        return None
    axis, times = plan.slice_timing
    shape = [1, 1, 1]
    shape[axis] = len(times)
    return np.broadcast_to(times.reshape(shape), plan.shape)
