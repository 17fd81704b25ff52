"""What the report shows, read from the written dataset alone (docs/design.md: ``report/`` reads
the dataset, never the engine's internals; docs/report.md).

Files are found by their BIDS entities and suffixes, not by fixed names: the ASL runs
(``sub-<label>/[ses-*/]perf/*_asl.nii[.gz]``, read as :mod:`asldro.quantify.reading` reads any
BIDS ASL run: ΔM per distinct PLD, M0 by ``M0Type``), the structural images (``anat/``), the
ground truth (``derivatives/groundtruth/sub-<label>/``: every ``desc-groundtruth`` image, CBF,
ATT, M0, T1, segmentation, tissue probabilities ``label-<tissue>_probseg`` and whatever else is
there), the participant's provenance (motion per volume, noise σ and its reference), its
resolved parameters (``code/sub-<label>_dro_params.json``) and the validation report
(``code/validation.json``). Whatever is absent is left out of the report, never an error.

A participant with sessions (``sub-<label>/ses-<session>/``, docs/bids.md §1.1) is read session
by session: each session's ground truth, runs and structural images, never mixed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from asldro.bids.checks import (
    find_asl_runs,
    image_stem,
    read_json_object,
    relative,
    split_name,
)
from asldro.bids.dataset import groundtruth_root, participant_params_path, provenance_path
from asldro.bids.fields import fields
from asldro.bids.validate import REPORT_PATH

#: Ground-truth suffixes in the order the report shows them, with their title, colour map and
#: unit; any other suffix follows with its own name.
GROUND_TRUTH_VIEWS: Mapping[str, tuple[str, str, str]] = {
    "cbf": ("CBF", "viridis", "mL/100g/min"),
    "att": ("ATT", "viridis", "s"),
    "M0map": ("M0", "gray", "a.u."),
    "T1map": ("T1", "gray", "s"),
    "T2map": ("T2", "gray", "s"),
    "T2starmap": ("T2*", "gray", "s"),
    "probseg": ("tissue fraction", "cividis", "fraction"),
    "dseg": ("segmentation", "cividis", "label"),
    "mask": ("mask", "cividis", "label"),
}
#: Tissue abbreviations of the kinetic curve (rows of desc-groundtruth_dseg.tsv).
CURVE_TISSUES = ("GM", "WM")
#: A tissue-probability voxel belongs to the tissue's mask from this fraction on.
PROBSEG_MASK_FRACTION = 0.5


@dataclass(frozen=True)
class Volume:
    """A 3-D image to show as orthogonal slices: data in the closest canonical (RAS+)
    orientation, its affine, and how to show it."""

    title: str
    data: np.ndarray
    affine: np.ndarray
    cmap: str
    unit: str
    source: str  # the file (dataset-relative) it comes from

    @property
    def zooms(self) -> tuple[float, float, float]:
        """Voxel edge lengths (mm)."""
        x, y, z = (float(v) for v in np.linalg.norm(self.affine[:3, :3], axis=0))
        return x, y, z


@dataclass(frozen=True)
class KineticCurve:
    """Mean ΔM in each tissue mask at each sampled PLD (s) of one ASL run."""

    post_labeling_delays: tuple[float, ...]
    label_durations: tuple[float, ...]
    means: dict[str, tuple[float, ...]]  # tissue abbreviation -> mean ΔM per PLD
    voxels: dict[str, int]  # tissue abbreviation -> voxels in its mask
    mask_source: str


@dataclass(frozen=True)
class Motion:
    """The rigid motion of each volume (``transl_*`` mm, ``rot_*`` degrees), from provenance."""

    names: tuple[str, ...]
    values: np.ndarray  # (volumes, names)


@dataclass
class AslSeriesView:  # pylint: disable=too-many-instance-attributes  # one per shown fact
    """Everything the report shows of one ASL run."""

    relative: str
    label_type: str = ""
    volume_types: tuple[str, ...] = ()
    images: list[Volume] = field(default_factory=list)
    curve: KineticCurve | None = None
    motion: Motion | None = None
    noise: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class StructuralView:
    """A structural image with its motion and noise."""

    relative: str
    image: Volume
    motion: Motion | None = None
    noise: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParticipantView:
    """What the participant report shows: its images, or, with sessions, those of each session
    (``sessions``: the session label and a view of that session alone)."""

    label: str
    ground_truth: list[Volume]
    asl: list[AslSeriesView]
    structural: list[StructuralView]
    parameters: list[tuple[str, str]]
    description: str
    sessions: list[tuple[str, "ParticipantView"]] = field(default_factory=list)


def subject_folder(root: Path, label: str, session: str | None = None) -> Path:
    """``root/sub-<label>`` or, for ``session``, ``root/sub-<label>/ses-<session>``."""
    folder = Path(root) / f"sub-{label}"
    return folder if session is None else folder / f"ses-{session}"


def sessions_of(root: Path, label: str) -> list[str]:
    """The sessions of participant ``label`` (its ``ses-*`` folders in the raw dataset), sorted;
    empty without sessions."""
    folder = subject_folder(root, label)
    return sorted(p.name[len("ses-") :] for p in folder.glob("ses-*") if p.is_dir())


# --------------------------------------------------------------------------------------------
# images


def _read_image(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(voxel data, affine) of a NIfTI file."""
    import nibabel as nib

    image: Any = nib.load(str(path))  # a NIfTI image (a SpatialImage)
    return np.asanyarray(image.dataobj), np.asarray(image.affine, dtype=np.float64)


class ImageLoader:
    """Reads NIfTI files, those named in :meth:`prefetch` ahead on a thread pool (gzip
    decompression releases the GIL, so the files decompress while the report does other
    work). Use it as a context manager; without one, every file is read when asked for."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = max(1, int(threads))
        self._pool: Any = None
        self._pending: dict[Path, Any] = {}

    def __enter__(self) -> "ImageLoader":
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=self.threads)
        return self

    def __exit__(self, *exc: object) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pool.shutdown(wait=True)
        self._pool = None
        self._pending.clear()

    def prefetch(self, paths: Iterable[Path]) -> None:
        """Start reading ``paths`` (inside the context only)."""
        if self._pool is None:
            return
        for path in paths:
            if path not in self._pending:
                self._pending[path] = self._pool.submit(_read_image, path)

    def read(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        """(voxel data, affine) of ``path``; read errors propagate."""
        future = self._pending.pop(path, None)
        return future.result() if future is not None else _read_image(path)


def load_volume(
    path: Path, root: Path, title: str, cmap: str, unit: str, loader: ImageLoader | None = None
) -> Volume:
    """The image at ``path`` as a :class:`Volume` (its first volume when 4-D; the magnitude of
    complex data), in the closest canonical orientation."""
    data, affine = (loader or ImageLoader()).read(path)
    if data.ndim == 4:
        data = data[..., 0]
    if np.iscomplexobj(data):
        data = np.abs(data)
    return canonical_volume(data, affine, title, cmap, unit, relative(path, root))


def canonical_volume(
    data: np.ndarray, affine: np.ndarray, title: str, cmap: str, unit: str, source: str
) -> Volume:
    """``data`` (3-D, on ``affine``) reoriented to the closest canonical (RAS+) axes."""
    import nibabel as nib

    image = nib.as_closest_canonical(nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine))
    return Volume(
        title,
        np.asarray(image.dataobj, dtype=np.float32),
        np.asarray(image.affine, dtype=np.float64),
        cmap,
        unit,
        source,
    )


def sample_nearest(
    values: np.ndarray, source_affine: np.ndarray, shape: Sequence[int], affine: np.ndarray
) -> np.ndarray:
    """``values`` (3-D, on ``source_affine``) at the voxel centres of the grid ``shape`` /
    ``affine``, nearest neighbour; 0 outside the source grid."""
    grid = np.indices(tuple(shape), dtype=np.float64).reshape(3, -1)
    homogeneous = np.vstack([grid, np.ones((1, grid.shape[1]))])
    mapping = np.linalg.inv(source_affine) @ np.asarray(affine, dtype=np.float64)
    index = np.rint((mapping @ homogeneous)[:3]).astype(np.int64)
    inside = np.all((index >= 0) & (index < np.array(values.shape)[:, None]), axis=0)
    sampled = np.zeros(index.shape[1], dtype=np.float64)
    sampled[inside] = values[tuple(index[:, inside])]
    return sampled.reshape(tuple(shape))


def centre_of_mass(volume: Volume) -> np.ndarray:
    """World coordinates (mm) of the centre of mass of the positive voxels of ``volume`` (its
    grid centre when it has none)."""
    weights = np.clip(np.nan_to_num(volume.data.astype(np.float64)), 0, None)
    total = weights.sum()
    if total > 0:
        index = (
            np.array(
                [
                    (weights.sum(axis=tuple(a for a in range(3) if a != axis)) * np.arange(n)).sum()
                    for axis, n in enumerate(weights.shape)
                ]
            )
            / total
        )
    else:
        index = (np.array(weights.shape) - 1) / 2.0
    return (volume.affine @ np.append(index, 1.0))[:3]


def brain_centre(ground_truth: Sequence[Volume]) -> np.ndarray | None:
    """The brain's centre of mass (world, mm): of the segmentation's tissue (label > 0), else
    of the tissue fractions' sum, else of the M0 truth; None without any of them."""
    for suffix in ("dseg", "probseg", "M0map"):
        chosen = [v for v in ground_truth if split_name(Path(v.source).name)[1] == suffix]
        if chosen:
            data = sum(
                (v.data > 0).astype(np.float32) if suffix == "dseg" else v.data for v in chosen
            )
            first = chosen[0]
            return centre_of_mass(Volume(first.title, np.asarray(data), first.affine, "", "", ""))
    return None


# --------------------------------------------------------------------------------------------
# the ground truth


def _ground_truth_order(path: Path) -> tuple[int, str]:
    suffix = split_name(path.name)[1]
    order = list(GROUND_TRUTH_VIEWS)
    return (order.index(suffix) if suffix in order else len(order), path.name)


def ground_truth_images(root: Path, label: str, session: str | None = None) -> list[Path]:
    """Every image of participant ``label`` (of ``session`` only, when given) in the
    ground-truth derivative, in display order."""
    folder = subject_folder(groundtruth_root(root), label, session)
    found = [p for p in folder.rglob("*") if p.is_file() and image_stem(p) is not None]
    return sorted(found, key=_ground_truth_order)


def ground_truth_title(path: Path) -> tuple[str, str, str]:
    """(title, colour map, unit) of a ground-truth image from its suffix and entities
    (``label-GM_probseg``: "tissue fraction GM")."""
    entities, suffix, _ = split_name(path.name)
    title, cmap, unit = GROUND_TRUTH_VIEWS.get(suffix, (suffix, "gray", ""))
    extra = [entities[key] for key in ("label", "acq", "run") if key in entities]
    return " ".join([title, *extra]), cmap, unit


def read_ground_truth(
    root: Path, label: str, loader: ImageLoader | None = None, session: str | None = None
) -> list[Volume]:
    """The participant's ground-truth images (of ``session``, when given) as volumes."""
    volumes = []
    for path in ground_truth_images(root, label, session):
        title, cmap, unit = ground_truth_title(path)
        volumes.append(load_volume(path, root, f"truth: {title}", cmap, unit, loader))
    return volumes


def tissue_labels(root: Path) -> dict[str, int]:
    """Tissue abbreviation -> label of the ground truth's ``desc-groundtruth_dseg.tsv``."""
    table = groundtruth_root(root) / f"desc-{fields()['groundtruth_desc']}_dseg.tsv"
    labels: dict[str, int] = {}
    try:
        lines = table.read_text(encoding="utf-8").splitlines()
    except OSError:
        return labels
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) >= 3 and cells[0].isdigit():
            labels[cells[2]] = int(cells[0])
    return labels


def _probseg_masks(
    paths: Sequence[Path], shape: Sequence[int], affine: np.ndarray
) -> dict[str, tuple[np.ndarray, Path]]:
    """Tissue -> (mask, file) from the ``label-<tissue>_probseg`` images (fraction >= 0.5): the
    one on the grid ``shape``/``affine`` itself when there is one (the ``res-`` derivative of
    that series), else the first, sampled by nearest neighbour."""
    masks = {}
    for tissue in CURVE_TISSUES:
        found = []
        for path in paths:
            entities, suffix, _ = split_name(path.name)
            if suffix == "probseg" and entities.get("label") == tissue:
                found.append(_read_image(path) + (path,))
        same = [
            item
            for item in found
            if item[0].shape[:3] == tuple(shape) and np.allclose(item[1], affine, atol=1e-4)
        ]
        if same or found:
            values, source_affine, path = (same or found)[0]
            sampled = sample_nearest(values.astype(np.float64), source_affine, shape, affine)
            masks[tissue] = (sampled >= PROBSEG_MASK_FRACTION, path)
    return masks


def tissue_masks(
    root: Path,
    label: str,
    shape: Sequence[int],
    affine: np.ndarray,
    session: str | None = None,
) -> tuple[dict[str, np.ndarray], str]:
    """The GM and WM masks on the grid ``shape``/``affine`` (nearest neighbour) of the ground
    truth of ``label`` (in ``session``, when given): from the
    tissue probabilities (``label-GM_probseg`` >= 0.5) when present, else from the
    segmentation (``dseg`` label of the tissue). Returns the masks and the files they came
    from."""
    paths = ground_truth_images(root, label, session)
    found = _probseg_masks(paths, shape, affine)
    masks = {tissue: mask for tissue, (mask, _) in found.items()}
    used = [relative(path, root) for _, path in found.values()]
    labels = tissue_labels(root)
    dseg = next((p for p in paths if split_name(p.name)[1] == "dseg"), None)
    missing = [t for t in CURVE_TISSUES if t not in masks and t in labels]
    if missing and dseg is not None:
        values, source_affine = _read_image(dseg)
        sampled = sample_nearest(values.astype(np.float64), source_affine, shape, affine)
        masks.update({tissue: sampled == labels[tissue] for tissue in missing})
        used.append(relative(dseg, root))
    return masks, ", ".join(used)


# --------------------------------------------------------------------------------------------
# provenance: motion and noise of each image


def read_provenance(root: Path, label: str) -> dict[str, Any]:
    """The participant's provenance document (empty when unreadable)."""
    return read_json_object(root / provenance_path(label)) or {}


def image_facts(provenance: Mapping[str, Any], relative_image: str) -> dict[str, Any]:
    """The provenance facts (``meta``) of the image written as ``relative_image``."""
    stem = relative_image.rsplit("/", 1)[-1]
    stem = stem[: stem.index(".")] if "." in stem else stem
    sessions = [s for s in provenance.get("sessions") or () if isinstance(s, dict)]
    every = [s for entry in [provenance, *sessions] for s in entry.get("series") or ()]
    for series in every:
        if not isinstance(series, dict) or relative_image not in (series.get("files") or ()):
            continue
        images = series.get("images") or {}
        if len(images) == 1:
            only = next(iter(images.values()))
            return only.get("meta", {}) if isinstance(only, dict) else {}
        for name, image in images.items():
            if isinstance(image, dict) and str(name) in stem:
                return image.get("meta", {})
        for image in images.values():
            if isinstance(image, dict):
                return image.get("meta", {})
    return {}


def motion_of(facts: Mapping[str, Any]) -> Motion | None:
    """The per-volume motion of an image's facts (None when not recorded)."""
    motion = facts.get("motion")
    if isinstance(motion, dict):
        motion = [motion]
    if not (isinstance(motion, list) and motion and all(isinstance(m, dict) for m in motion)):
        return None
    names = tuple(sorted({key for entry in motion for key in entry}, key=_motion_order))
    values = np.array([[float(entry.get(n, 0.0) or 0.0) for n in names] for entry in motion])
    return Motion(names, values)


def _motion_order(name: str) -> tuple[int, str]:
    return (0 if name.startswith("transl") else 1, name)


def noise_of(facts: Mapping[str, Any]) -> dict[str, Any]:
    """σ, its reference and the desired SNR of an image's facts (those recorded)."""
    return {
        key: facts[key]
        for key in ("noise_sigma", "noise_reference", "desired_snr")
        if facts.get(key) is not None
    }


# --------------------------------------------------------------------------------------------
# ASL runs


def read_asl_run(
    run: Any,
    root: Path,
    label: str,
    provenance: Mapping[str, Any],
    session: str | None = None,
) -> AslSeriesView:
    """One ASL run (of ``session``, when given): M0, mean control, mean ΔM, ΔM per PLD
    (multi-PLD), the kinetic curve in GM and WM of its session's ground truth, motion and
    noise. A run the reference reader refuses keeps its note."""
    from asldro.quantify import reading

    rel = relative(run.image, root)
    facts = image_facts(provenance, rel)
    view = AslSeriesView(rel, motion=motion_of(facts), noise=noise_of(facts))
    try:
        plan = reading.plan_run(run, root, strict=False)
        raw = reading.image_data(reading.load_image(plan.image, root), plan.image, root)
        data = reading.load_run(plan, root, data=raw)  # the 4-D image read once
    except (reading.QuantifyError, OSError) as err:
        view.notes.append(f"ΔM not shown: {err}")
        return view
    view.label_type, view.volume_types = plan.label_type, plan.volume_types
    view.images = _asl_images(plan, data, raw, view.notes)
    masks, source = tissue_masks(root, label, plan.shape, plan.affine, session)
    if masks:
        view.curve = kinetic_curve(plan, data.delta_m, masks, source)
    else:
        view.notes.append("kinetic curve not shown: no GM/WM segmentation in the ground truth")
    return view


def _asl_images(plan: Any, data: Any, raw: np.ndarray, notes: list[str]) -> list[Volume]:
    """M0 (when the run has an image of it), mean control, mean ΔM (the groups weighted by
    their inverse variance) and, for several PLDs, the ΔM of each."""
    from asldro.quantify.reading import mean_volumes

    def volume(title: str, values: np.ndarray, cmap: str) -> Volume:
        return canonical_volume(values, plan.affine, title, cmap, "a.u.", plan.relative)

    images = []
    if plan.m0.m0_type in ("Included", "Separate"):
        images.append(volume("M0", data.m0, "gray"))
    else:
        notes.append(f"M0: {plan.m0.description}")
    controls = [i for group in plan.groups for i in group.controls]
    if controls:
        images.append(volume("mean control", mean_volumes(raw, controls), "gray"))
    weights = np.array([group.weight for group in plan.groups])
    images.append(
        volume("mean ΔM", (data.delta_m * weights).sum(axis=-1) / weights.sum(), "viridis")
    )
    if plan.multi_pld:
        for index, group in enumerate(plan.groups):
            title = f"ΔM, PLD {group.post_labeling_delay:g} s (LD {group.label_duration:g} s)"
            images.append(volume(title, data.delta_m[..., index], "viridis"))
    return images


def kinetic_curve(
    plan: Any, delta_m: np.ndarray, masks: Mapping[str, np.ndarray], source: str
) -> KineticCurve:
    """The mean ΔM of each group (PLD) in each tissue mask."""
    means = {
        tissue: tuple(
            float(delta_m[..., index][mask].mean()) if mask.any() else float("nan")
            for index in range(len(plan.groups))
        )
        for tissue, mask in masks.items()
    }
    return KineticCurve(
        tuple(group.post_labeling_delay for group in plan.groups),
        tuple(group.label_duration for group in plan.groups),
        means,
        {tissue: int(mask.sum()) for tissue, mask in masks.items()},
        source,
    )


def structural_images(root: Path, label: str, session: str | None = None) -> list[Path]:
    """The structural images of participant ``label`` (``anat/``; of ``session`` only, when
    given), magnitude parts only."""
    found = []
    for path in sorted(subject_folder(root, label, session).rglob("anat/*")):
        if image_stem(path) is not None and split_name(path.name)[0].get("part") != "phase":
            found.append(path)
    return found


def read_structural(
    root: Path,
    label: str,
    provenance: Mapping[str, Any],
    loader: ImageLoader | None = None,
    session: str | None = None,
) -> list[StructuralView]:
    """The structural images of participant ``label`` (of ``session``, when given) with their
    motion and noise."""
    views = []
    for path in structural_images(root, label, session):
        suffix = split_name(path.name)[1]
        rel = relative(path, root)
        facts = image_facts(provenance, rel)
        volume = load_volume(path, root, f"{suffix} ({path.name})", "gray", "a.u.", loader)
        views.append(StructuralView(rel, volume, motion_of(facts), noise_of(facts)))
    return views


# --------------------------------------------------------------------------------------------
# parameters, dataset facts, validation


def flatten(document: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(JSON path, value) rows of a JSON document; lists of numbers and strings stay one row."""
    rows: list[tuple[str, str]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            rows += flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(document, list) and any(isinstance(v, (dict, list)) for v in document):
        if (
            all(isinstance(v, dict) for v in document)
            and len({json.dumps(sorted(v)) for v in document}) == 1
            and prefix.endswith("motion")
        ):
            rows.append((prefix, json.dumps(document, separators=(", ", ": "))))
        else:
            for index, value in enumerate(document):
                rows += flatten(value, f"{prefix}[{index}]")
    else:
        rows.append((prefix, json.dumps(document)))
    return rows


def read_parameters(root: Path, label: str) -> list[tuple[str, str]]:
    """The rows of the participant's resolved parameter file (empty when absent)."""
    document = read_json_object(root / participant_params_path(label))
    return flatten(document) if document is not None else []


def dataset_description_text(root: Path) -> str:
    """The raw dataset's name and what it was simulated from."""
    description = read_json_object(root / "dataset_description.json") or {}
    sources = [
        str(s.get("Description"))
        for s in description.get("SourceDatasets") or ()
        if isinstance(s, dict) and s.get("Description")
    ]
    name = str(description.get("Name", root.name))
    return f"{name}; simulated from {', '.join(sources)}" if sources else name


def read_validation(root: Path) -> dict[str, Any] | None:
    """The raw dataset's ``code/validation.json`` (None when absent or unreadable)."""
    return read_json_object(root / REPORT_PATH)


def participant_images(root: Path, label: str) -> list[Path]:
    """The ground-truth and structural images of participant ``label`` (to prefetch)."""
    return [*ground_truth_images(root, label), *structural_images(root, label)]


def read_participant(root: Path, label: str, loader: ImageLoader | None = None) -> ParticipantView:
    """Everything the report of participant ``label`` shows, read from the dataset (session by
    session, when it has sessions)."""
    provenance = read_provenance(root, label)
    runs = find_asl_runs(root, [label])  # its own runs: the others are not read
    sessions = [
        (session, _session_view(root, label, (provenance, runs), loader, session))
        for session in sessions_of(root, label)
    ]
    if sessions:
        return ParticipantView(
            label=label,
            ground_truth=[],
            asl=[],
            structural=[],
            parameters=read_parameters(root, label),
            description=dataset_description_text(root),
            sessions=sessions,
        )
    view = _session_view(root, label, (provenance, runs), loader, None)
    return dataclasses.replace(view, parameters=read_parameters(root, label))


def _session_view(
    root: Path,
    label: str,
    provenance_runs: tuple[Mapping[str, Any], Sequence[Any]],
    loader: ImageLoader | None,
    session: str | None,
) -> ParticipantView:
    """The images of participant ``label`` in ``session`` (None: a participant without
    sessions), with the ``provenance`` and among the ASL ``runs`` of ``provenance_runs``."""
    provenance, runs = provenance_runs
    folder = relative(subject_folder(root, label, session), root)
    mine = [r for r in runs if relative(r.image, root).startswith(f"{folder}/")]
    return ParticipantView(
        label=label,
        ground_truth=read_ground_truth(root, label, loader, session),
        asl=[read_asl_run(run, root, label, provenance, session) for run in mine],
        structural=read_structural(root, label, provenance, loader, session),
        parameters=[],
        description=dataset_description_text(root),
    )


def read_participants_table(root: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of ``participants.tsv`` (empty when absent)."""
    try:
        lines = (root / "participants.tsv").read_text(encoding="utf-8").splitlines()
    except OSError:
        return [], []
    if not lines:
        return [], []
    header = lines[0].split("\t")
    rows = [(line.split("\t") + [""] * len(header))[: len(header)] for line in lines[1:] if line]
    return header, rows
