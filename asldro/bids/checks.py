"""Own consistency checks: what the schema validator misses (docs/bids.md §12.3).

Each check takes a dataset root and returns a list of :class:`Finding`. File paths in findings
are relative to the dataset root they were found in (POSIX form, ``""`` = the dataset itself).
The checks read only NIfTI headers, except :func:`check_non_finite_values`, which streams the
voxel data of floating-point images one volume at a time.
"""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence, cast

from asldro.params.catalog import NEEDS_M0_TOKENS
from asldro.params.slices import repeats_per_band

ERROR = "error"
WARNING = "warning"

#: aslcontext values allowed by BIDS 1.10 (docs/bids.md §6), case-sensitive.
ASLCONTEXT_VALUES = frozenset({"control", "label", "m0scan", "deltam", "cbf", "noRF", "n/a"})
#: M0Type enum (docs/bids.md §5).
M0_TYPES = frozenset({"Separate", "Included", "Estimate", "Absent"})
#: Fields that may be a scalar or one value per volume (docs/bids.md §6).
PER_VOLUME_FIELDS = (
    "PostLabelingDelay",
    "LabelingDuration",
    "FlipAngle",
    "EchoTime",
    "RepetitionTimePreparation",
)
#: Bolus cut-off techniques with a scalar delay, and the one that takes [first, last] (§3).
SCALAR_DELAY_TECHNIQUES = frozenset({"QUIPSS", "QUIPSSII"})
PAIR_DELAY_TECHNIQUES = frozenset({"Q2TIPS"})
#: Volume types that carry a perfusion weighting (their PLD is meaningful).
PERFUSION_VOLUMES = frozenset({"control", "label", "deltam", "cbf"})
#: Volume types without labelling: their PLD and LabelingDuration entries are 0 (BIDS: "Any
#: image within the time-series without a PLD, for example an m0scan, is indicated by a zero").
UNLABELLED_VOLUMES = frozenset({"m0scan", "noRF"})
#: The labelling times that are a scalar when every perfusion volume has the same value, with
#: the code of an array that holds one value only (docs/bids.md §6).
LABELLING_TIMES = {
    "PostLabelingDelay": "PLD_ARRAY_FOR_SINGLE_PLD",
    "LabelingDuration": "LABELING_DURATION_ARRAY_FOR_SINGLE_VALUE",
}
IMAGE_EXTENSIONS = (".nii.gz", ".nii")
#: Smallest acceptable .nii.gz, in bytes (docs/bids.md §7: legacy NIFTI_TOO_SMALL).
MIN_NIFTI_GZ_BYTES = 348
NIFTI1_HEADER_BYTES = 348
NIFTI2_HEADER_BYTES = 540
NO_T1W_MESSAGE = "no anat/*_T1w image: ASLPrep and fMRIPrep need a T1w per subject"


@dataclass(frozen=True)
class Finding:
    """One validation finding.

    ``code`` is UPPER_SNAKE, ``severity`` is ``"error"`` or ``"warning"``, ``file`` is relative
    to the dataset named by ``dataset`` (``"raw"`` or ``"derivatives/<name>"``), ``layer`` is the
    layer that found it (``"own"``, ``"pybids"``, ``"bids-validator"``).
    """

    code: str
    severity: str
    file: str
    message: str
    layer: str = "own"
    dataset: str = "raw"

    def to_dict(self) -> dict[str, str]:
        """The finding as a JSON-able dict."""
        return asdict(self)

    @property
    def place(self) -> str:
        """Where it was found, relative to the raw dataset (``"."`` = the raw dataset itself):
        a derivative's files are prefixed with its folder (``derivatives/groundtruth/sub-01``)."""
        parts = [part for part in (self.dataset, self.file) if part and part != "raw"]
        return "/".join(parts) or "."

    def line(self) -> str:
        """One readable line, ``ERROR CODE place: message [layer]`` (``WARNING`` likewise)."""
        message = " ".join(str(self.message).split())
        return f"{self.severity.upper()} {self.code} {self.place}: {message} [{self.layer}]"

    def __str__(self) -> str:
        return self.line()


def _finding(code: str, file: str, message: str, severity: str = ERROR) -> Finding:
    return Finding(code=code, severity=severity, file=file, message=message)


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (``path`` itself if outside ``root``)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# ---------------------------------------------------------------------------------------------
# file-name helpers


def split_name(name: str) -> tuple[dict[str, str], str, str]:
    """Split a BIDS file name into (entities, suffix, extension).

    ``sub-01_acq-pcasl_asl.nii.gz`` -> ``({"sub": "01", "acq": "pcasl"}, "asl", ".nii.gz")``.
    """
    stem, dot, rest = name.partition(".")
    extension = dot + rest
    parts = stem.split("_")
    entities: dict[str, str] = {}
    for part in parts[:-1]:
        key, _, value = part.partition("-")
        entities[key] = value
    return entities, parts[-1], extension


def image_stem(path: Path) -> str | None:
    """The name of an image without its NIfTI extension, or None if not a NIfTI file."""
    for extension in IMAGE_EXTENSIONS:
        if path.name.endswith(extension):
            return path.name[: -len(extension)]
    return None


def subject_dirs(root: Path, labels: Sequence[str] | None = None) -> list[Path]:
    """The ``sub-*`` folders of a dataset, sorted (with ``labels``: those participants' only,
    so that reading one participant does not scan the others)."""
    if labels is not None:
        return sorted(p for p in (root / f"sub-{label}" for label in labels) if p.is_dir())
    return sorted(p for p in root.glob("sub-*") if p.is_dir())


def _visible_files(folder: Path) -> Iterator[Path]:
    """Files under ``folder``, skipping hidden files and folders."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(
            part.startswith(".") for part in path.relative_to(folder).parts
        ):
            yield path


def data_files(root: Path, labels: Sequence[str] | None = None) -> list[Path]:
    """All visible files under the ``sub-*`` folders of a dataset (of ``labels``' only)."""
    return [path for sub in subject_dirs(root, labels) for path in _visible_files(sub)]


def nifti_files(root: Path, labels: Sequence[str] | None = None) -> list[Path]:
    """All NIfTI images under the ``sub-*`` folders of a dataset (of ``labels``' only)."""
    return [path for path in data_files(root, labels) if image_stem(path) is not None]


def images_with_suffix(
    root: Path, suffix: str, labels: Sequence[str] | None = None
) -> list[tuple[Path, str]]:
    """(image, name without its extension) of every NIfTI under the ``sub-*`` folders (of
    ``labels``' only) whose name ends in ``_<suffix>`` (``asl``, ``m0scan``)."""
    found = []
    for path in nifti_files(root, labels):
        stem = image_stem(path)
        if stem is not None and stem.endswith(f"_{suffix}"):
            found.append((path, stem))
    return found


# ---------------------------------------------------------------------------------------------
# reading


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A JSON object file as a dict, or None if it is unreadable or not an object."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def sidecar_metadata(image: Path, root: Path) -> tuple[dict[str, Any], list[Path]]:
    """Metadata of an image by the BIDS inheritance principle, and the sidecars used.

    Sidecars are JSON files with the image's suffix whose entities are a subset of the image's,
    in the image's folder or any parent up to ``root``; deeper and more specific files win.
    """
    merged: dict[str, Any] = {}
    used: list[Path] = []
    for path in applicable_sidecars(image, root):
        content = read_json_object(path)
        if content is not None:
            merged.update(content)
            used.append(path)
    return merged, used


def applicable_sidecars(image: Path, root: Path) -> list[Path]:
    """The sidecars that apply to ``image`` (see :func:`sidecar_metadata`), the least specific
    first: by depth below ``root``, then by the number of entities they name."""
    entities, suffix, _ = split_name(image.name)
    folders = [image.parent]
    while folders[-1] != root and root in folders[-1].parents:
        folders.append(folders[-1].parent)
    candidates: list[tuple[int, int, Path]] = []
    for depth, folder in enumerate(reversed(folders)):
        for path in folder.glob(f"*_{suffix}.json"):
            found, found_suffix, extension = split_name(path.name)
            if found_suffix == suffix and extension == ".json":
                if all(entities.get(key) == value for key, value in found.items()):
                    candidates.append((depth, len(found), path))
        top_level = folder / f"{suffix}.json"
        if top_level.is_file():
            candidates.append((depth, 0, top_level))
    return [path for _, _, path in sorted(candidates)]


@dataclass(frozen=True)
class NiftiInfo:
    """What the checks need from a NIfTI header: its size, dim[4] and the spatial dims
    (dim[1..3], 1 where the image has fewer)."""

    header_bytes: int | None
    volumes: int | None
    spatial: tuple[int, int, int] | None = None


def nifti_info(path: Path) -> NiftiInfo:
    """Header size (348 = NIfTI-1, 540 = NIfTI-2) and number of volumes (dim[4], 1 if 3-D).

    Reads only the first bytes of the (possibly gzipped) file; unreadable fields are None.
    """
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as stream:
            head = stream.read(NIFTI2_HEADER_BYTES)
    except (OSError, EOFError):
        return NiftiInfo(None, None)
    if len(head) < 4:
        return NiftiInfo(None, None)
    for endian in "<>":
        size = struct.unpack(f"{endian}i", head[:4])[0]
        if size == NIFTI1_HEADER_BYTES and len(head) >= 56:
            dims = struct.unpack(f"{endian}8h", head[40:56])
            return NiftiInfo(size, _volumes(dims), _spatial(dims))
        if size == NIFTI2_HEADER_BYTES and len(head) >= 80:
            dims = struct.unpack(f"{endian}8q", head[16:80])
            return NiftiInfo(size, _volumes(dims), _spatial(dims))
    return NiftiInfo(None, None)


def _volumes(dims: tuple[int, ...]) -> int:
    return int(dims[4]) if dims[0] >= 4 else 1


def _spatial(dims: tuple[int, ...]) -> tuple[int, int, int]:
    count = max(0, min(int(dims[0]), 3))
    x, y, z = (int(dims[axis]) if axis <= count else 1 for axis in (1, 2, 3))
    return (x, y, z)


def read_aslcontext(path: Path) -> tuple[list[str], list[str]] | None:
    """(header columns, one volume_type per row) of an aslcontext TSV, or None if unreadable.

    Trailing empty lines are ignored; an empty line in the middle is kept as an empty value.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return [], []
    return lines[0].split("\t"), [line.split("\t")[0] for line in lines[1:]]


# ---------------------------------------------------------------------------------------------
# (8) NIfTI format


def check_nifti_format(root: Path) -> list[Finding]:
    """(8) Every image is NIfTI-1 and every ``.nii.gz`` has >= 348 bytes (docs/bids.md §7)."""
    findings = []
    for path in nifti_files(root):
        rel = relative(path, root)
        if path.name.endswith(".gz") and path.stat().st_size < MIN_NIFTI_GZ_BYTES:
            findings.append(
                _finding(
                    "NIFTI_TOO_SMALL",
                    rel,
                    f"{path.stat().st_size} bytes; the legacy validator rejects .nii.gz files "
                    f"under {MIN_NIFTI_GZ_BYTES} bytes",
                )
            )
        info = nifti_info(path)
        if info.header_bytes is None:
            findings.append(_finding("NIFTI_UNREADABLE", rel, "not a readable NIfTI file"))
        elif info.header_bytes != NIFTI1_HEADER_BYTES:
            findings.append(_finding("NIFTI_NOT_NIFTI1", rel, "NIfTI-2 image; write NIfTI-1 (§7)"))
    return findings


# ---------------------------------------------------------------------------------------------
# (2) IntendedFor targets


def intended_for_targets(value: Any) -> list[Any]:
    """IntendedFor as a list (it may be a string or an array)."""
    return list(value) if isinstance(value, list) else [value]


def resolve_intended_for(target: str, sidecar: Path, root: Path) -> Path | None:
    """The file an IntendedFor entry points at, or None if the form is not resolvable here.

    ``bids::<path>`` is relative to the dataset root; a plain path is subject-relative
    (docs/bids.md §4).
    """
    if target.startswith("bids::"):
        return root / target[len("bids::") :]
    if target.startswith("bids:"):
        return None
    subject = next(
        (parent for parent in sidecar.parents if parent.parent == root), None
    )  # the sub-<label> folder
    return subject / target if subject is not None else None


def check_intended_for(root: Path) -> list[Finding]:
    """(2) Every IntendedFor target of every sidecar under ``sub-*`` exists (§4)."""
    findings = []
    for path in data_files(root):
        if path.suffix != ".json":
            continue
        content = read_json_object(path)
        if content is None or "IntendedFor" not in content:
            continue
        rel = relative(path, root)
        for target in intended_for_targets(content["IntendedFor"]):
            if not isinstance(target, str) or not target:
                findings.append(
                    _finding(
                        "INTENDEDFOR_INVALID", rel, f"IntendedFor entry {target!r} is not a path"
                    )
                )
                continue
            resolved = resolve_intended_for(target, path, root)
            if resolved is None:
                findings.append(
                    _finding(
                        "INTENDEDFOR_UNRESOLVABLE",
                        rel,
                        f"IntendedFor {target!r} names another dataset; not checked",
                        WARNING,
                    )
                )
            elif not resolved.is_file():
                findings.append(
                    _finding(
                        "INTENDEDFOR_TARGET_MISSING", rel, f"IntendedFor {target!r}: no such file"
                    )
                )
            elif not target.startswith("bids:"):
                findings.append(
                    _finding(
                        "INTENDEDFOR_SUBJECT_RELATIVE",
                        rel,
                        f"IntendedFor {target!r} is subject-relative (deprecated); use bids::",
                        WARNING,
                    )
                )
    return findings


# ---------------------------------------------------------------------------------------------
# ASL runs: (1) M0Type, (3) Units, (4) arrays and aslcontext, (5) counts, (6) PASL


@dataclass(frozen=True)
class AslRun:
    """The files of one ASL run (docs/bids.md §2): asl image, aslcontext, separate m0scan."""

    image: Path
    context: Path
    m0scan: Path | None


def find_asl_runs(root: Path, labels: Sequence[str] | None = None) -> list[AslRun]:
    """Every ``*_asl.nii[.gz]`` under ``sub-*`` (of ``labels``' only) with its aslcontext and
    matching m0scan."""
    runs = []
    for path, stem in images_with_suffix(root, "asl", labels):
        base = stem[: -len("_asl")]
        context_base = "_".join(
            part for part in base.split("_") if not part.startswith(("echo-", "part-"))
        )
        m0scan = next(
            (
                path.parent / f"{base}_m0scan{ext}"
                for ext in IMAGE_EXTENSIONS
                if (path.parent / f"{base}_m0scan{ext}").is_file()
            ),
            None,
        )
        runs.append(AslRun(path, path.parent / f"{context_base}_aslcontext.tsv", m0scan))
    return runs


def check_m0type(
    rel: str, meta: dict[str, Any], rows: list[str] | None, run: AslRun
) -> list[Finding]:
    """(1) M0Type consistent with the m0scan file and aslcontext rows (docs/bids.md §5)."""
    m0_type = meta.get("M0Type")
    if m0_type is None:
        return [_finding("M0TYPE_MISSING", rel, "M0Type is required")]
    if m0_type not in M0_TYPES:
        return [_finding("M0TYPE_INVALID", rel, f"M0Type {m0_type!r} not in {sorted(M0_TYPES)}")]
    findings = []
    has_rows = rows is not None and "m0scan" in rows
    has_file = run.m0scan is not None
    if m0_type == "Separate" and not has_file:
        findings.append(
            _finding("M0TYPE_SEPARATE_WITHOUT_M0SCAN", rel, "M0Type Separate but no m0scan file")
        )
    if m0_type == "Included" and rows is not None and not has_rows:
        findings.append(
            _finding(
                "M0TYPE_INCLUDED_WITHOUT_M0SCAN_ROWS",
                rel,
                "M0Type Included but no m0scan row in aslcontext",
            )
        )
    if has_file and m0_type != "Separate":
        findings.append(
            _finding(
                "M0SCAN_FILE_WITH_M0TYPE_NOT_SEPARATE",
                rel,
                f"an m0scan file exists but M0Type is {m0_type}",
            )
        )
    if has_rows and m0_type != "Included":
        findings.append(
            _finding(
                "M0SCAN_ROWS_WITH_M0TYPE_NOT_INCLUDED",
                rel,
                f"aslcontext has m0scan rows but M0Type is {m0_type}",
            )
        )
    if m0_type == "Estimate" and not _positive(meta.get("M0Estimate")):
        findings.append(
            _finding("M0ESTIMATE_MISSING", rel, "M0Type Estimate needs a positive M0Estimate")
        )
    if m0_type == "Absent":
        if "M0Estimate" in meta:
            findings.append(
                _finding("M0TYPE_ABSENT_WITH_M0ESTIMATE", rel, "M0Type Absent with M0Estimate")
            )
        quantifiable = rows is None or any(row in NEEDS_M0_TOKENS for row in rows)
        if meta.get("BackgroundSuppression") is True and quantifiable:
            findings.append(
                _finding(
                    "M0TYPE_ABSENT_WITH_BACKGROUND_SUPPRESSION",
                    rel,
                    "M0Type Absent with BackgroundSuppression true (ASLPrep ValueError)",
                )
            )
    return findings


def _positive(value: Any) -> bool:
    return _is_number(value) and value > 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_aslcontext(rel: str, parsed: tuple[list[str], list[str]] | None) -> list[Finding]:
    """(4) aslcontext header exactly ``volume_type`` and values from the allowed set (§6)."""
    if parsed is None:
        return [_finding("ASLCONTEXT_MISSING", rel, "no readable aslcontext.tsv for this run")]
    header, rows = parsed
    findings = []
    if header != ["volume_type"]:
        findings.append(
            _finding("ASLCONTEXT_HEADER", rel, f"header {header!r}; must be exactly volume_type")
        )
    bad = sorted({row for row in rows if row not in ASLCONTEXT_VALUES})
    if bad:
        findings.append(
            _finding(
                "ASLCONTEXT_VALUE",
                rel,
                f"values {bad} not in {sorted(ASLCONTEXT_VALUES)} (case-sensitive)",
            )
        )
    return findings


def check_volume_counts(
    rel: str, meta: dict[str, Any], rows: list[str] | None, volumes: int | None
) -> list[Finding]:
    """(4) aslcontext rows and per-volume arrays match dim[4] and the aslcontext rows (§6)."""
    findings = []
    if rows is not None and volumes is not None and len(rows) != volumes:
        findings.append(
            _finding(
                "ASLCONTEXT_ROWS_NOT_MATCHING_NIFTI",
                rel,
                f"aslcontext has {len(rows)} rows, the image has {volumes} volumes",
            )
        )
    for field in PER_VOLUME_FIELDS:
        value = meta.get(field)
        if not isinstance(value, list):
            continue
        if volumes is not None and len(value) != volumes:
            findings.append(
                _finding(
                    "ARRAY_LENGTH_NOT_MATCHING_NIFTI",
                    rel,
                    f"{field} has {len(value)} values, the image has {volumes} volumes",
                )
            )
        if rows is not None and len(value) != len(rows):
            findings.append(
                _finding(
                    "ARRAY_LENGTH_NOT_MATCHING_ASLCONTEXT",
                    rel,
                    f"{field} has {len(value)} values, aslcontext has {len(rows)} rows",
                )
            )
    return findings


def check_labelling_times(rel: str, meta: dict[str, Any], rows: list[str] | None) -> list[Finding]:
    """(4) ``PostLabelingDelay`` and ``LabelingDuration`` as BIDS and the consumers read them
    (docs/bids.md §6): a scalar when every control/label volume has one value (ASLPrep counts
    the distinct values of the whole array: ``[0, 1.8, 1.8]`` is multi-PLD to it; a scalar can
    only state one value, so a scalar is a single PLD); in an array, 0 for every m0scan (and
    noRF) row; ``LabelingDuration`` a float (ASLPrep takes an integer for an array)."""
    findings = []
    duration = meta.get("LabelingDuration")
    if isinstance(duration, int) and not isinstance(duration, bool):
        findings.append(
            _finding(
                "LABELING_DURATION_NOT_FLOAT",
                rel,
                f"LabelingDuration {duration!r} is an integer; write it as a float "
                f"({float(duration)!r}): ASLPrep takes a non-float for a per-volume array",
            )
        )
    if rows is None:
        return findings
    for field, code in LABELLING_TIMES.items():
        value = meta.get(field)
        if not isinstance(value, list) or len(value) != len(rows):
            continue  # lengths: ARRAY_LENGTH_NOT_MATCHING_*
        perfusion = {v for v, row in zip(value, rows) if row in PERFUSION_VOLUMES and _is_number(v)}
        if len(perfusion) <= 1:
            findings.append(
                _finding(
                    code,
                    rel,
                    f"every control/label volume has one {field}: it must be a scalar, not an "
                    "array (ASLPrep reads an array of several distinct values as multi-PLD)",
                )
            )
        unlabelled = [
            i for i, (v, row) in enumerate(zip(value, rows)) if row in UNLABELLED_VOLUMES and v != 0
        ]
        if unlabelled:
            where = ", ".join(str(i) for i in unlabelled[:5]) + (
                ", ..." if len(unlabelled) > 5 else ""
            )
            findings.append(
                _finding(
                    "M0SCAN_LABELLING_TIME_NOT_ZERO",
                    rel,
                    f"{field} must be 0 for m0scan (and noRF) volumes; volume(s) {where} have "
                    f"{sorted({value[i] for i in unlabelled})}",
                )
            )
    return findings


def check_units_for_cbf(rel: str, meta: dict[str, Any], rows: list[str] | None) -> list[Finding]:
    """(3) ``Units`` present when aslcontext has cbf rows (docs/bids.md §3)."""
    if rows is not None and "cbf" in rows and not meta.get("Units"):
        return [_finding("UNITS_MISSING_FOR_CBF", rel, "aslcontext has cbf rows but no Units")]
    return []


def check_pair_counts(rel: str, meta: dict[str, Any], rows: list[str] | None) -> list[Finding]:
    """(5) #control == #label == TotalAcquiredPairs (docs/bids.md §6).

    Label-only (control-only) contexts: TotalAcquiredPairs == #label (#control), the writer's
    documented convention.
    """
    if rows is None:
        return []
    controls, labels = rows.count("control"), rows.count("label")
    if not controls and not labels:
        return []
    findings = []
    if controls and labels and controls != labels:
        findings.append(
            _finding(
                "CONTROL_LABEL_COUNT_MISMATCH",
                rel,
                f"{controls} control rows but {labels} label rows (ASLPrep ValueError)",
            )
        )
    expected = labels if labels else controls
    pairs = meta.get("TotalAcquiredPairs")
    if pairs is None:
        findings.append(_finding("TOTAL_ACQUIRED_PAIRS_MISSING", rel, "TotalAcquiredPairs missing"))
    elif pairs != expected:
        findings.append(
            _finding(
                "TOTAL_ACQUIRED_PAIRS_MISMATCH",
                rel,
                f"TotalAcquiredPairs {pairs!r}, aslcontext has {controls} control and "
                f"{labels} label rows",
            )
        )
    return findings


def check_pasl(rel: str, meta: dict[str, Any]) -> list[Finding]:
    """(6) The bolus cut-off fields of a PASL run as BIDS states them (docs/bids.md §3):
    ``BolusCutOffFlag`` a boolean; false: neither ``BolusCutOffTechnique`` nor
    ``BolusCutOffDelayTime`` ("MUST NOT be defined"); true: a technique, and ``QUIPSS`` /
    ``QUIPSSII`` with one positive delay or ``Q2TIPS`` with two, [first, last], increasing
    (ASLPrep reads them so); never ``LabelingDuration``."""
    if meta.get("ArterialSpinLabelingType") != "PASL":
        return []
    findings = []
    flag = meta.get("BolusCutOffFlag")
    if not isinstance(flag, bool):
        findings.append(
            _finding(
                "PASL_BOLUS_CUT_OFF_FLAG_MISSING",
                rel,
                f"PASL needs BolusCutOffFlag true or false, got {flag!r}",
            )
        )
    elif not flag:
        present = [key for key in ("BolusCutOffTechnique", "BolusCutOffDelayTime") if key in meta]
        if present:
            findings.append(
                _finding(
                    "PASL_BOLUS_CUT_OFF_FIELDS_WITHOUT_FLAG",
                    rel,
                    f"BolusCutOffFlag false, but {' and '.join(present)} given (BIDS: they "
                    "must not be defined without a bolus cut-off)",
                )
            )
    else:
        findings += _bolus_cut_off_findings(rel, meta)
    if "LabelingDuration" in meta:
        findings.append(
            _finding(
                "PASL_WITH_LABELING_DURATION", rel, "PASL sidecar must not have LabelingDuration"
            )
        )
    return findings


def _bolus_cut_off_findings(rel: str, meta: dict[str, Any]) -> list[Finding]:
    """The technique and delay of a PASL run whose ``BolusCutOffFlag`` is true."""
    technique = meta.get("BolusCutOffTechnique")
    delay = meta.get("BolusCutOffDelayTime")
    if technique in SCALAR_DELAY_TECHNIQUES:
        if _positive(delay):
            return []
        return [
            _finding(
                "PASL_BOLUS_CUT_OFF_DELAY_INVALID",
                rel,
                f"{technique} needs one positive BolusCutOffDelayTime, got {delay!r}",
            )
        ]
    if technique in PAIR_DELAY_TECHNIQUES:
        if (
            isinstance(delay, list)
            and len(delay) == 2
            and all(map(_positive, delay))
            and delay[0] <= delay[1]
        ):
            return []
        return [
            _finding(
                "PASL_BOLUS_CUT_OFF_DELAY_INVALID",
                rel,
                "Q2TIPS needs BolusCutOffDelayTime [first, last], two positive times in "
                f"increasing order, got {delay!r}",
            )
        ]
    allowed = sorted(SCALAR_DELAY_TECHNIQUES | PAIR_DELAY_TECHNIQUES)
    return [
        _finding(
            "PASL_BOLUS_CUT_OFF_TECHNIQUE_INVALID",
            rel,
            f"BolusCutOffFlag true needs BolusCutOffTechnique in {allowed}, got {technique!r}",
        )
    ]


#: ``SliceEncodingDirection`` axis letters and the spatial axis each names (absent: k).
SLICE_AXES = {"i": 0, "j": 1, "k": 2}


def check_slice_timing(rel: str, meta: dict[str, Any], info: NiftiInfo) -> list[Finding]:
    """(12) ``SliceTiming`` as BIDS and the consumers read it (docs/bids.md §3, §12.3): never
    for a 3D readout (ASLPrep shifts every delay by it when present), required for 2D, one
    time per slice along ``SliceEncodingDirection`` (default k), each >= 0 and the earliest 0
    (the post-labelling delay refers to the first acquired slice); with
    ``MultibandAccelerationFactor`` > 1 the same times in every band (ASLPrep, BASIL)."""
    acq_type = meta.get("MRAcquisitionType")
    times = meta.get("SliceTiming")
    if times is None:
        if acq_type == "2D":
            return [
                _finding("SLICE_TIMING_MISSING_2D", rel, "MRAcquisitionType 2D needs SliceTiming")
            ]
        return []
    if acq_type != "2D":
        return [
            _finding(
                "SLICE_TIMING_NOT_2D",
                rel,
                f"SliceTiming with MRAcquisitionType {acq_type!r}: BIDS allows it for 2D only, "
                "and ASLPrep shifts every post-labelling delay by it",
            )
        ]
    if not isinstance(times, list) or not times or not all(map(_is_number, times)):
        return [_finding("SLICE_TIMING_INVALID", rel, f"SliceTiming {times!r}: a list of s")]
    findings = []
    direction = str(meta.get("SliceEncodingDirection", "k"))
    axis = SLICE_AXES.get(direction.rstrip("-"))
    if info.spatial is not None and axis is not None and len(times) != info.spatial[axis]:
        findings.append(
            _finding(
                "SLICE_TIMING_LENGTH",
                rel,
                f"SliceTiming has {len(times)} values, the image has {info.spatial[axis]} "
                f"slices along {direction}",
            )
        )
    if min(times) != 0:
        findings.append(
            _finding(
                "SLICE_TIMING_MIN_NOT_ZERO",
                rel,
                f"the earliest SliceTiming is {min(times)!r}, not 0: the post-labelling delay "
                "refers to the first acquired slice",
            )
        )
    factor = meta.get("MultibandAccelerationFactor", 1)
    if _is_number(factor) and factor > 1 and not repeats_per_band(times, int(factor)):
        findings.append(
            _finding(
                "SLICE_TIMING_NOT_REPEATING_PER_BAND",
                rel,
                f"MultibandAccelerationFactor {factor!r}: the {len(times)} slice times must "
                "split into that many bands with the same times",
            )
        )
    return findings


def check_asl_runs(root: Path) -> list[Finding]:
    """(1), (3), (4), (5), (6) for every ASL run of a raw dataset."""
    findings = []
    for run in find_asl_runs(root):
        rel = relative(run.image, root)
        meta, sidecars = sidecar_metadata(run.image, root)
        if not sidecars:
            findings.append(_finding("ASL_SIDECAR_MISSING", rel, "no _asl.json sidecar"))
        parsed = read_aslcontext(run.context) if run.context.is_file() else None
        findings += check_aslcontext(relative(run.context, root), parsed)
        rows = parsed[1] if parsed is not None else None
        findings += check_m0type(rel, meta, rows, run)
        info = nifti_info(run.image)
        findings += check_volume_counts(rel, meta, rows, info.volumes)
        findings += check_slice_timing(rel, meta, info)
        findings += check_labelling_times(rel, meta, rows)
        findings += check_units_for_cbf(rel, meta, rows)
        findings += check_pair_counts(rel, meta, rows)
        findings += check_pasl(rel, meta)
    return findings


# ---------------------------------------------------------------------------------------------
# (7) m0scan sidecars


def check_m0scans(root: Path) -> list[Finding]:
    """(7) Every m0scan has a sidecar with IntendedFor and RepetitionTimePreparation > 0 (§4)."""
    findings = []
    for path, _ in images_with_suffix(root, "m0scan"):
        rel = relative(path, root)
        meta, sidecars = sidecar_metadata(path, root)
        if not sidecars:
            findings.append(_finding("M0SCAN_SIDECAR_MISSING", rel, "no _m0scan.json sidecar"))
            continue
        if "IntendedFor" not in meta:
            findings.append(_finding("M0SCAN_INTENDEDFOR_MISSING", rel, "m0scan needs IntendedFor"))
        rtp = meta.get("RepetitionTimePreparation")
        values = rtp if isinstance(rtp, list) else [rtp]
        if not values or not all(map(_positive, values)):
            findings.append(
                _finding(
                    "M0SCAN_RTP_NOT_POSITIVE",
                    rel,
                    f"RepetitionTimePreparation {rtp!r}; must be > 0 (ExploreASL)",
                )
            )
        info = nifti_info(path)
        volumes = info.volumes
        findings += check_slice_timing(rel, meta, info)
        for field in ("EchoTime", "RepetitionTimePreparation", "FlipAngle"):
            value = meta.get(field)
            if isinstance(value, list) and volumes is not None and len(value) != volumes:
                findings.append(
                    _finding(
                        "ARRAY_LENGTH_NOT_MATCHING_NIFTI",
                        rel,
                        f"{field} has {len(value)} values, the image has {volumes} volumes",
                    )
                )
    return findings


# ---------------------------------------------------------------------------------------------
# (9) participants, (10) T1w, (11) SkullStripped


def check_participants(root: Path) -> list[Finding]:
    """(9) participants.tsv ``participant_id`` == the ``sub-*`` folders exactly (§10)."""
    path = root / "participants.tsv"
    if not path.is_file():
        return [
            _finding("PARTICIPANTS_TSV_MISSING", "participants.tsv", "no participants.tsv", WARNING)
        ]
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header = lines[0].split("\t") if lines else []
    if not header or header[0] != "participant_id":
        return [
            _finding(
                "PARTICIPANTS_ID_COLUMN",
                "participants.tsv",
                "the first column must be participant_id",
            )
        ]
    listed = [line.split("\t")[0] for line in lines[1:]]
    present = [p.name for p in subject_dirs(root)]
    findings = []
    duplicates = sorted({label for label in listed if listed.count(label) > 1})
    if duplicates:
        findings.append(
            _finding(
                "PARTICIPANTS_TSV_DUPLICATE", "participants.tsv", f"listed twice: {duplicates}"
            )
        )
    missing, extra = sorted(set(present) - set(listed)), sorted(set(listed) - set(present))
    if missing or extra:
        findings.append(
            _finding(
                "PARTICIPANTS_TSV_MISMATCH",
                "participants.tsv",
                f"sub-* folders not listed: {missing}; listed without a folder: {extra}",
            )
        )
    return findings


def check_t1w(root: Path) -> list[Finding]:
    """(10) Every subject has a T1w image (ASLPrep/fMRIPrep NO_T1W, docs/bids.md §8).

    A warning, not an error: BIDS does not require a T1w (an ASL-only DRO is a valid dataset),
    but the preprocessing pipelines do."""
    findings = []
    for subject in subject_dirs(root):
        if not any(
            split_name(path.name)[1] == "T1w" and image_stem(path) is not None
            for path in subject.rglob("anat/*")
        ):
            findings.append(_finding("NO_T1W", subject.name, NO_T1W_MESSAGE, severity=WARNING))
    return findings


def check_skull_stripped(root: Path) -> list[Finding]:
    """(11) Every image of a derivative dataset has ``SkullStripped`` in its sidecar (§9)."""
    findings = []
    for path in nifti_files(root):
        rel = relative(path, root)
        meta, sidecars = sidecar_metadata(path, root)
        if not sidecars:
            findings.append(_finding("DERIVATIVE_SIDECAR_MISSING", rel, "image without sidecar"))
        elif not isinstance(meta.get("SkullStripped"), bool):
            findings.append(
                _finding("SKULLSTRIPPED_MISSING", rel, "SkullStripped (true/false) is required")
            )
    return findings


def check_derivative_description(root: Path) -> list[Finding]:
    """Derivative ``dataset_description.json``: ``DatasetType`` "derivative" and
    ``GeneratedBy[0].Name`` (pybids refuses the layout without it; docs/bids.md §9)."""
    rel = "dataset_description.json"
    content = read_json_object(root / rel)
    if content is None:
        return [_finding("DATASET_DESCRIPTION_MISSING", rel, "missing or not a JSON object")]
    findings = []
    if content.get("DatasetType") != "derivative":
        findings.append(
            _finding("DERIVATIVE_DATASET_TYPE", rel, 'DatasetType must be "derivative"')
        )
    generated_by = content.get("GeneratedBy")
    if not (
        isinstance(generated_by, list)
        and generated_by
        and isinstance(generated_by[0], dict)
        and generated_by[0].get("Name")
    ):
        findings.append(
            _finding("DERIVATIVE_GENERATEDBY_MISSING", rel, "GeneratedBy[0].Name is required")
        )
    return findings


# ---------------------------------------------------------------------------------------------
# non-finite voxel values (issue 9 item 5)


#: Bytes read (and at most inflated) at a time when a file's data are streamed.
STREAM_CHUNK = 1 << 22


def _stream_bytes(path: Path) -> Iterator[bytes]:
    """The bytes of the file, decompressed when it ends in ``.gz`` (every gzip member), in
    chunks of at most :data:`STREAM_CHUNK`: one ``zlib`` inflater on large reads (the
    ``gzip`` module's 8 KiB reads cost a third of the time). A truncated stream just ends;
    a corrupt one raises ``zlib.error``."""
    from asldro.bids.nifti import GZIP_WBITS  # (numpy is imported only when images are read)

    with open(path, "rb") as handle:
        if not path.name.endswith(".gz"):
            while chunk := handle.read(STREAM_CHUNK):
                yield chunk
            return
        inflater = zlib.decompressobj(GZIP_WBITS)
        pending = b""
        while True:
            if not pending:
                pending = handle.read(STREAM_CHUNK)
                if not pending:
                    return
            out = inflater.decompress(pending, STREAM_CHUNK)
            if out:
                yield out
            if not inflater.eof:
                pending = inflater.unconsumed_tail
                continue
            pending = inflater.unused_data  # the next member, if any
            if pending and not pending.startswith(b"\x1f\x8b"):
                return  # trailing bytes that are not a gzip member
            inflater = zlib.decompressobj(GZIP_WBITS)


def _blocks(chunks: Iterator[bytes], offset: int, size: int) -> Iterator[memoryview]:
    """Consecutive blocks of ``size`` bytes after the first ``offset`` bytes of ``chunks``
    (a last incomplete block is not given)."""
    block = bytearray(size)
    filled = -offset  # negative while the bytes before the data are skipped
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            if filled < 0:
                skipped = min(-filled, len(view))
                view, filled = view[skipped:], filled + skipped
                continue
            taken = min(size - filled, len(view))
            block[filled : filled + taken] = view[:taken]
            view, filled = view[taken:], filled + taken
            if filled == size:
                yield memoryview(block)
                filled = 0


def _non_finite_per_volume(path: Path) -> list[int] | None:
    """Non-finite values in each volume of a floating-point image (streamed from the file);
    None for an integer image (finite by type) or one nibabel cannot read."""
    import nibabel as nib
    import numpy as np

    try:
        image = cast(nib.Nifti1Image, nib.load(path))  # any other image fails below
        dtype = image.header.get_data_dtype()
        shape = image.header.get_data_shape()
        # the file's data offset: the loaded header's own vox_offset reads 0 (nibabel resets
        # it for writing), which made the header's 352 bytes count as the first voxels
        offset = int(cast(Any, image.dataobj).offset)
    except Exception:  # pylint: disable=broad-except  # unreadable: NIFTI_UNREADABLE reports it
        return None
    if dtype.kind not in "fc" or not shape:
        return None
    per_volume = int(np.prod(shape[:3]))
    volumes = int(np.prod(shape[3:])) if len(shape) > 3 else 1
    counts: list[int] = []
    try:  # NIfTI data is in Fortran order: a volume is one block
        for block in _blocks(_stream_bytes(path), offset, per_volume * dtype.itemsize):
            values = np.frombuffer(block, dtype=dtype)
            counts.append(int(values.size - np.count_nonzero(np.isfinite(values))))
            if len(counts) == volumes:
                break  # (a truncated file has fewer: the validators report it)
    except (OSError, EOFError, zlib.error):
        pass  # a corrupt stream: the validators report it; count what was read
    return counts


def check_non_finite_values(root: Path) -> list[Finding]:
    """Every floating-point image under ``sub-*`` holds only finite values: NaN or Inf is never
    a valid MR signal or ground-truth value (an image of Inf passed every other check)."""
    findings = []
    for path in nifti_files(root):
        counts = _non_finite_per_volume(path)
        total = sum(counts or ())
        if counts is None or not total:  # (None: total is 0)
            continue
        where = ""
        if len(counts) > 1:
            bad = [str(v) for v, count in enumerate(counts) if count]
            where = f" in volume{'s' if len(bad) > 1 else ''} " + ", ".join(bad[:5])
            where += ", ..." if len(bad) > 5 else ""
        findings.append(
            _finding(
                "NON_FINITE_VALUES",
                relative(path, root),
                f"{total} non-finite value{'s' if total != 1 else ''} (NaN or infinite){where}",
            )
        )
    return findings


# ---------------------------------------------------------------------------------------------
# entry points


def check_raw_dataset(root: Path) -> list[Finding]:
    """All own checks for a raw dataset (docs/bids.md §12.3 (1)-(10))."""
    return (
        check_asl_runs(root)
        + check_intended_for(root)
        + check_m0scans(root)
        + check_nifti_format(root)
        + check_participants(root)
        + check_t1w(root)
        + check_non_finite_values(root)
    )


def check_derivative_dataset(root: Path, name: str) -> list[Finding]:
    """Own checks for a derivative dataset: description, (2), (8), (11); tagged with ``name``."""
    findings = (
        check_derivative_description(root)
        + check_intended_for(root)
        + check_nifti_format(root)
        + check_skull_stripped(root)
        + check_non_finite_values(root)
    )
    return [
        Finding(f.code, f.severity, f.file, f.message, layer=f.layer, dataset=name)
        for f in findings
    ]
