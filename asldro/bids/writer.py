"""Write one participant's series as BIDS, atomically (docs/design.md "Output dataset";
docs/bids.md §1–§9).

Everything is built in a hidden temp dir inside the output folder, then renamed into place:
the derivative subject first, the participant's resolved parameters and provenance next and the
raw ``sub-<label>`` last, so a visible raw subject means a complete one. An existing subject of
the same label is replaced, but only when every file in it is one asldro wrote (its provenance
lists them). :func:`planned_files` gives the names a participant will get without simulating it.

A participant with test–retest sessions (docs/bids.md §1.1) is built session after session with
:func:`participant_build` (each session's images are written, then released, before the next
is simulated) into ``sub-<label>/ses-<session>/`` and its ground truth into
``derivatives/groundtruth/sub-<label>/ses-<session>/``, and put in place once, like a
participant without sessions.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, Union, cast

import numpy as np

from asldro import __version__
from asldro.bids import atomic
from asldro.bids.atomic import move_aside, put_in_place, temp_dir
from asldro.bids.dataset import (
    ensure_dataset_files,
    foreign_subject_files,
    groundtruth_root,
    participant_params_path,
    provenance_path,
    tissue_abbreviation,
    update_participants,
)
from asldro.bids.fields import fields
from asldro.jsonable import json_bytes, to_jsonable
from asldro.bids.naming import (
    SeriesName,
    asl_context,
    bids_stem,
    check_label,
    groundtruth_series_entities,
    groundtruth_suffix,
    raw_series_names,
)
from asldro.bids.nifti import NiftiGzStream, nifti_gz_bytes
from asldro.bids.provenance import record_summary
from asldro.bids.sidecars import (
    asl_sidecar,
    aslcontext_tsv,
    groundtruth_sidecar,
    m0scan_sidecar,
    structural_sidecar,
)
from asldro.exit_codes import OutputError
from asldro.groundtruth.types import GroundTruth
from asldro.image import Image
from asldro.params.types import AslSeries, Series, StructuralSeries
from asldro.pipelines.records import AslAcquisition, GroundTruthMap, StructuralAcquisition
from asldro.pipelines.streamed import StreamedImage, image_layout, image_volumes
from asldro.pipelines.types import SeriesResult
from asldro.resources import thread_budget


def params_uri(label: str) -> str:
    """BIDS URI of participant ``label``'s resolved parameters (the ``Sources`` of its files)."""
    return f"bids:raw:{participant_params_path(label)}"


class _Tree:
    """Files of one subject, collected under a temp root; remembers what it wrote. Write errors
    name the file at its final place (``final_root``), not the temporary one. Images are
    compressed on ``threads`` threads (the participant's budget). ``prefix`` (``ses-<s>/`` while
    a session is written, else empty) goes before every relative path put."""

    def __init__(self, root: Path, final_root: Path, threads: int = 1) -> None:
        self.root = root
        self.final_root = final_root
        self.threads = threads
        self.prefix = ""
        self.written: list[Path] = []

    def put(self, relative: str, content: bytes) -> None:
        """Write ``content`` at ``prefix + relative`` under the temp root."""
        relative = self.prefix + relative
        path = self.root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_file(path, content)
        except OSError as err:
            raise atomic.named(err, self.final_root / relative) from err
        self.written.append(Path(relative))

    def put_image(self, relative: str, data: np.ndarray, affine: np.ndarray, **header) -> None:
        """Write ``data`` as a ``.nii.gz`` at ``relative`` (``header``: the keywords of
        :func:`nifti_gz_bytes`), compressed on this tree's threads."""
        self.put(relative, nifti_gz_bytes(data, affine, threads=self.threads, **header))

    @contextmanager
    def open_image(
        self, relative: str, shape: tuple[int, ...], affine: np.ndarray, **header
    ) -> Iterator[NiftiGzStream]:
        """A ``.nii.gz`` at ``relative`` written volume by volume (:class:`NiftiGzStream`,
        the bytes of :meth:`put_image`), compressed on this tree's threads; the caller
        records it with :meth:`record` (the files are listed in the order of their kind).
        ``prefix`` goes before ``relative``, as in :meth:`put`."""
        relative = self.prefix + relative
        path = self.root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                with NiftiGzStream(handle, shape, affine, threads=self.threads, **header) as stream:
                    yield stream
        except OSError as err:
            raise atomic.named(err, self.final_root / relative) from err

    def record(self, relative: str) -> None:
        """Count ``relative`` (written by :meth:`open_image`, ``prefix`` before it) among the
        files written."""
        self.written.append(Path(self.prefix + relative))


# --------------------------------------------------------------------------------------------
# File names of each kind of series (used to write them and to plan them)


def parts(complex_output: bool) -> tuple[str | None, ...]:
    """The ``part`` entities of an image: ``mag`` and ``phase`` for complex output, else none
    (docs/bids.md §2, §8)."""
    return tuple(fields()["complex_parts"]) if complex_output else (None,)


PART_VALUES: Mapping[str | None, Callable[[np.ndarray], np.ndarray]] = {
    "mag": np.abs,
    "phase": np.angle,
    None: lambda data: data,
}
"""The data each ``part`` holds: the magnitude, the phase (rad), or the image itself."""


def _with_part(entities: Mapping[str, str], part: str | None) -> dict[str, str]:
    return {**entities, "part": part} if part is not None else dict(entities)


def _is_complex(record: Any, image: Image | StreamedImage) -> bool:
    """Whether an image is written as part-mag and part-phase."""
    return record.image_type == "complex" or image_layout(image)[1].kind == "c"


def _asl_files(label: str, name: SeriesName, part: str | None = None) -> tuple[str, str, str]:
    """Image, sidecar and aslcontext of an asl series (the image and sidecar of ``part``),
    relative to the subject folder; the aslcontext never has ``part`` (BIDS
    ``rules/files/raw/perf.yaml``), so that both parts share it."""
    stem = bids_stem(label, _with_part(name.entities, part), "asl")
    context_stem = bids_stem(label, name.entities, "aslcontext")
    return f"perf/{stem}.nii.gz", f"perf/{stem}.json", f"perf/{context_stem}.tsv"


def _m0scan_files(label: str, name: SeriesName, part: str | None = None) -> tuple[str, str]:
    """Image and sidecar of a separate m0scan (of ``part``), relative to the subject folder."""
    stem = bids_stem(label, _with_part(name.entities, part), "m0scan")
    return f"perf/{stem}.nii.gz", f"perf/{stem}.json"


def _structural_files(
    label: str, name: SeriesName, complex_output: bool
) -> list[tuple[str | None, str, str]]:
    """(part, image, sidecar) of a structural series: one, or ``mag`` and ``phase``."""
    files = []
    for part in parts(complex_output):
        stem = bids_stem(label, _with_part(name.entities, part), name.suffix)
        files.append((part, f"anat/{stem}.nii.gz", f"anat/{stem}.json"))
    return files


def _groundtruth_files(
    label: str,
    entities: Mapping[str, str],
    quantity: str,
    segmentation: Mapping[str, int] | None = None,
) -> tuple[str, str]:
    """Image and sidecar of one ground-truth map, relative to the derivative subject: a
    quantity, a ``probseg`` (``label-<tissue abbreviation>``, the tissue the one entry of
    ``segmentation`` names) or the ``brain_mask`` (``desc-brain``) (docs/bids.md §9)."""
    datatype, suffix, _ = groundtruth_suffix(quantity)
    entry = fields()["groundtruth_quantities"].get(quantity, {})
    named = dict(entities)
    if quantity == "probseg" and segmentation:
        tissue, index = next(iter(segmentation.items()))
        named["label"] = tissue_abbreviation(tissue, index)
    named["desc"] = entry.get("desc", fields()["groundtruth_desc"])
    stem = bids_stem(label, named, suffix, derivative=True)
    return f"{datatype}/{stem}.nii.gz", f"{datatype}/{stem}.json"


def series_grid_entities(name: SeriesName) -> dict[str, str]:
    """Entities of the ground-truth derivatives at the grid of a raw series (docs/bids.md §9):
    the raw file's entities (``part`` dropped: the truth is real) and ``res-<raw suffix>``."""
    entities = {key: value for key, value in name.entities.items() if key != "part"}
    return {**entities, "res": name.suffix}


def _resolution(record: GroundTruthMap, label: str, name: SeriesName) -> str:
    """The ``Resolution`` a ``res-`` file needs: the raw series whose grid it is on."""
    raw = bids_stem(label, name.entities, name.suffix)
    size = "x".join(f"{value:g}" for value in record.voxel_size)
    return f"The acquisition grid of {name.datatype}/{raw} ({size} mm voxels)"


def _first_label_control_tr(record: AslAcquisition) -> float:
    """pixdim[4] of a 4-D asl image: the TR of the first control/label volume (docs/physics.md
    D16)."""
    volumes = record.volumes
    first = next((volume for volume in volumes if volume.token != "m0scan"), volumes[0])
    return float(first.repetition_time)


def _put_volumes(
    tree: _Tree,
    image: Image | StreamedImage,
    files: Mapping[str | None, str],
    shape: tuple[int, ...],
    repetition_time: float | None,
) -> None:
    """Write ``image`` (4-D, or 3-D: one volume) as the image file of each part of ``files``
    with the header ``shape``, volume by volume: each is simulated (a streamed image), split
    into its parts, cast and compressed as it comes (issue 16 item 1)."""
    with ExitStack() as files_open:
        streams = {
            part: files_open.enter_context(
                tree.open_image(relative, shape, image.affine, repetition_time=repetition_time)
            )
            for part, relative in files.items()
        }
        for volume in image_volumes(image):
            for part, stream in streams.items():
                stream.write(PART_VALUES[part](volume))


def _write_asl(
    tree: _Tree, label: str, result: SeriesResult, name: SeriesName, has_separate_m0: bool
) -> dict[str | None, str]:
    """Write an asl run (both parts of a complex one, sharing one aslcontext); returns the
    image file name of each part."""
    image, record = result.images["asl"], cast(AslAcquisition, result.records["asl"])
    shape = image_layout(image)[0]
    shape = shape if len(shape) == 4 else (*shape, 1)
    context = asl_context(result)
    if shape[3] != len(context):
        raise ValueError(
            f"series {result.index}: the asl image has {shape[3]} volumes, its parameters "
            f"give {len(context)} (the asl_context tokens of every phase)"
        )
    tr = _first_label_control_tr(record)
    image_parts = parts(_is_complex(record, image))
    files = {part: _asl_files(label, name, part)[0] for part in image_parts}
    _put_volumes(tree, image, files, shape, tr)
    written: dict[str | None, str] = {}
    for part in image_parts:
        tree.record(files[part])
        sidecar = asl_sidecar(record, has_separate_m0=has_separate_m0, part=part)
        tree.put(_asl_files(label, name, part)[1], json_bytes(sidecar))
        written[part] = Path(files[part]).name
    tree.put(_asl_files(label, name)[2], aslcontext_tsv(context).encode())
    return written


def _write_m0scan(
    tree: _Tree,
    label: str,
    result: SeriesResult,
    name: SeriesName,
    asl_files: Mapping[str | None, str],
) -> None:
    """Write a separate m0scan (each part intended for the same part of its asl run: the
    loader requires both to have the same output_image_type); a single volume is 3-D."""
    image, record = result.images["asl"], cast(AslAcquisition, result.records["asl"])
    shape = image_layout(image)[0]
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    tr = float(record.volumes[0].repetition_time)
    image_parts = parts(_is_complex(record, image))
    files = {part: _m0scan_files(label, name, part)[0] for part in image_parts}
    _put_volumes(tree, image, files, shape, tr if len(shape) == 4 else None)
    for part in image_parts:
        tree.record(files[part])
        intended = f"bids::sub-{label}/{tree.prefix}perf/{asl_files[part]}"
        sidecar = m0scan_sidecar(record, intended_for=intended, part=part)
        tree.put(_m0scan_files(label, name, part)[1], json_bytes(sidecar))


def _in_memory(image: Image | StreamedImage) -> Image:
    """An image that is never streamed (a structural image, a ground-truth map)."""
    if not isinstance(image, Image):
        raise TypeError("only asl series are streamed")
    return image


def _write_structural(tree: _Tree, label: str, result: SeriesResult, name: SeriesName) -> None:
    image = _in_memory(result.images["structural"])
    record = cast(StructuralAcquisition, result.records["structural"])
    for part, image_file, sidecar_file in _structural_files(
        label, name, _is_complex(record, image)
    ):
        tree.put_image(image_file, PART_VALUES[part](image.data), image.affine)
        tree.put(sidecar_file, json_bytes(structural_sidecar(record, part=part)))


def _label_dtype(data: np.ndarray) -> type:
    if data.size and (data.min() < 0 or data.max() > np.iinfo(np.int16).max):
        return np.uint16 if data.min() >= 0 else np.int32
    return np.int16


def _write_groundtruth(
    tree: _Tree,
    label: str,
    result: SeriesResult,
    entities: Mapping[str, str],
    grid_of: SeriesName | None = None,
) -> None:
    """Write the ground-truth maps of ``result`` (every record that is a
    :class:`GroundTruthMap`); ``grid_of`` names the raw series whose grid they are on (their
    sidecars then state its ``Resolution``)."""
    for key, image in result.images.items():
        any_record = result.records[key]
        if not isinstance(any_record, GroundTruthMap):
            continue
        record, image = any_record, _in_memory(image)
        image_file, sidecar_file = _groundtruth_files(
            label, entities, record.quantity, record.segmentation
        )
        if record.quantity == "seg_label":
            dtype = _label_dtype(np.asarray(image.data))
        elif record.quantity == "brain_mask":
            dtype = np.uint8
        else:
            dtype = np.float32
        tree.put_image(image_file, image.data, image.affine, dtype=dtype)
        sidecar = groundtruth_sidecar(
            record,
            sources=[params_uri(label)],
            resolution=None if grid_of is None else _resolution(record, label, grid_of),
        )
        tree.put(sidecar_file, json_bytes(sidecar))


def _groundtruth_extras(results: Sequence[SeriesResult]) -> tuple[dict[str, int] | None, set]:
    """Segmentation (union over ground_truth series) and suffixes needing ``.bidsignore``."""
    segmentation: dict[str, int] | None = None
    extra: set[str] = set()
    for result in results:
        for any_record in result.records.values():
            if not isinstance(any_record, GroundTruthMap):
                continue
            record = any_record
            _, suffix, is_bids = groundtruth_suffix(record.quantity)
            if not is_bids:
                extra.add(suffix)
            if record.segmentation is not None:
                segmentation = {**(segmentation or {}), **dict(record.segmentation)}
    return segmentation, extra


def _series_provenance(
    results: Sequence[SeriesResult], files: Mapping[int, list[str]]
) -> list[dict[str, Any]]:
    """Each series' files, parameters, each image's record summary (seeds, noise sigma and
    reference, motion ..., under ``meta``) and filter history."""
    series = []
    for result in results:
        layouts = {key: image_layout(image) for key, image in result.images.items()}
        images = {
            key: {
                "shape": list(layouts[key][0]),
                "dtype": str(layouts[key][1]),
                "meta": to_jsonable(record_summary(result.records[key])),
                "history": to_jsonable(image.history),
            }
            for key, image in result.images.items()
        }
        series.append(
            {
                "index": result.index,
                "series_type": result.series_type,
                "description": result.description,
                "files": files.get(result.index, []),
                "parameters": to_jsonable(result.params),
                "images": images,
            }
        )
    return series


def _provenance_header(label: str) -> dict[str, Any]:
    """The keys every participant provenance file starts with (how asldro recognises it)."""
    return {
        "participant_id": f"sub-{label}",
        "generated_by": f"asldro {__version__}",
        "parameters": participant_params_path(label),
    }


def _with_record(document: dict[str, Any], record: Mapping | None) -> dict[str, Any]:
    """``document`` with the participant setup's ``record`` (``asldro.api._session_inputs``:
    what was drawn for it) under ``cohort`` when there is one."""
    return {**document, "cohort": to_jsonable(record)} if record else document


def session_path(session: str) -> str:
    """The folder of ``session`` inside a subject folder (docs/bids.md §1.1)."""
    return f"ses-{check_label(session)}"


def sessions_tsv(sessions: Sequence[str]) -> str:
    """``sub-<label>_sessions.tsv``: one ``session_id`` row per session, in order."""
    return "session_id\n" + "".join(f"{session_path(s)}\n" for s in sessions)


def sessions_tsv_path(label: str) -> str:
    """Where the sessions table of participant ``label`` goes, relative to its subject."""
    return f"sub-{label}_sessions.tsv"


@dataclass(frozen=True)
class _SessionRecord:
    """What the provenance keeps of one written session (the images themselves are gone)."""

    session: str | None
    series: list[dict[str, Any]]
    provenance: Mapping
    record: Mapping | None


class ParticipantBuild:
    """One participant being built in the temp dir ``tmp`` of the dataset at ``root``:
    :meth:`add` writes the series of one session (or of the participant, without sessions),
    :meth:`finish` writes the ``code/`` files and the dataset-level files and puts it all in
    place. Use it through :func:`participant_build`."""

    def __init__(self, root: Path, label: str, tmp: Path, threads: int) -> None:
        self.root = root
        self.label = label
        self.trees = _Trees(root, label, tmp, threads)
        self.tmp = tmp
        self.sessions: list[_SessionRecord] = []
        self.segmentation: dict[str, int] | None = None
        self.extra_suffixes: set[str] = set()

    def add(
        self,
        results: Sequence[SeriesResult],
        *,
        m0_pairs: Mapping[int, int],
        provenance: Mapping | Callable[[], Mapping],
        session: str | None = None,
        record: Mapping | None = None,
    ) -> None:
        """Write the series of ``session`` (None: a participant without sessions, which then
        has no other) into the temp trees; ``provenance`` (or what it returns once the series
        are written, when it is callable: a streamed series' history is complete only then)
        and ``record`` go into the participant's provenance file."""
        if self.sessions and (session is None or self.sessions[0].session is None):
            raise ValueError(f"sub-{self.label}: sessions, or one set of series without one")
        names = raw_series_names(results, m0_pairs)  # naming errors before anything is written
        entities = groundtruth_series_entities(results)
        if session is not None:
            names = {i: _in_session(name, session) for i, name in names.items()}
            entities = {i: {"ses": session, **value} for i, value in entities.items()}
        segmentation, extra = _groundtruth_extras(results)
        if segmentation is not None:
            self.segmentation = {**(self.segmentation or {}), **segmentation}
        self.extra_suffixes |= extra
        prefix = "" if session is None else f"{session_path(session)}/"
        self.trees.raw.prefix = self.trees.derivative.prefix = prefix
        files = _write_series(self.trees, results, names, m0_pairs, entities)
        self.trees.raw.prefix = self.trees.derivative.prefix = ""
        series = _series_provenance(results, files)
        if callable(provenance):
            provenance = provenance()
        self.sessions.append(_SessionRecord(session, series, provenance, record))

    def provenance_document(self, participant: Mapping | None = None) -> dict[str, Any]:
        """The participant's provenance file: its series (and the run provenance), or, with
        sessions, the participant-level files and each session's series; ``participant`` (its
        ``participants.tsv`` columns, when there are any) under ``participant``."""
        header = _provenance_header(self.label)
        if participant:
            header["participant"] = to_jsonable(participant)
        if len(self.sessions) == 1 and self.sessions[0].session is None:
            only = self.sessions[0]
            document = {
                **header,
                "provenance": to_jsonable(only.provenance),
                "series": only.series,
            }
            return _with_record(document, only.record)
        sessions = [
            _with_record(
                {
                    "session_id": session_path(cast(str, entry.session)),
                    "provenance": to_jsonable(entry.provenance),
                    "series": entry.series,
                },
                entry.record,
            )
            for entry in self.sessions
        ]
        files = [f"sub-{self.label}/{sessions_tsv_path(self.label)}"]
        return {**header, "files": files, "sessions": sessions}

    def finish(
        self,
        *,
        resolved_params: Mapping,
        ground_truth_description: str,
        participant: Mapping | None = None,
    ) -> None:
        """Write the sessions table (with sessions), the resolved parameters and the provenance
        (with ``participant``, :meth:`provenance_document`), ensure the dataset-level files and
        put the participant in place."""
        if not self.sessions:
            raise ValueError(f"sub-{self.label}: nothing was added")
        trees = self.trees
        labels = [entry.session for entry in self.sessions]
        if labels[0] is not None:
            trees.raw.put(sessions_tsv_path(self.label), sessions_tsv(cast(list, labels)).encode())
        trees.code.put(participant_params_path(self.label), json_bytes(resolved_params))
        document = self.provenance_document(participant)
        trees.code.put(provenance_path(self.label), json_bytes(document))
        ensure_dataset_files(
            self.root,
            ground_truth_description=ground_truth_description,
            segmentation=self.segmentation,
            extra_suffixes=self.extra_suffixes,
        )
        trees.put_in_place(self.tmp)


def _in_session(name: SeriesName, session: str) -> SeriesName:
    """``name`` with the ``ses`` entity of ``session``."""
    return dataclasses.replace(name, entities={"ses": session, **name.entities})


@contextmanager
def participant_build(
    output_dir: Path, label: str, *, threads: int | None = None
) -> Iterator[ParticipantBuild]:
    """A :class:`ParticipantBuild` of participant ``label`` in a temp dir of ``output_dir``
    (removed on exit whatever happens, so an unfinished participant leaves nothing); refuses
    (:class:`OutputError`) a ``sub-<label>`` holding a file asldro did not write before
    anything is written. ``participants.tsv`` is updated once the participant is in place."""
    root = Path(output_dir)
    label = check_label(label)
    threads = thread_budget(threads)
    _refuse_foreign_files(root, label)
    with temp_dir(root) as tmp:
        build = ParticipantBuild(root, label, tmp, threads)
        yield build
        finished = build.trees.code.written
    if finished:
        update_participants(root)


def write_participant(
    output_dir: Path,
    label: str,
    results: Sequence[SeriesResult],
    *,
    m0_pairs: Mapping[int, int],
    resolved_params: Mapping,
    provenance: Mapping | Callable[[], Mapping],
    ground_truth_description: str,
    threads: int | None = None,
    participant: Mapping | None = None,
) -> list[Path]:
    """Write ``sub-<label>`` (raw ``perf``/``anat``), its ground-truth derivative and
    ``code/provenance/sub-<label>.json``, atomically; ensure the dataset-level files and update
    ``participants.tsv``. Returns the subject's files written (absolute paths, sorted).

    All files are built in a hidden temp dir first; the dataset-level files are written only
    once that succeeded, so a failure leaves no new files (docs/bids.md §1, docs/design.md).

    Parameters
    ----------
    output_dir : Path
        Root of the raw dataset (created if missing).
    label : str
        Participant label without ``sub-``.
    results : sequence of SeriesResult
        The simulated series of this participant, in parameter-file order.
    m0_pairs : Mapping[int, int]
        m0scan-only series index -> index of the asl series it calibrates (1-based).
    resolved_params, provenance : Mapping
        Written to ``code/sub-<label>_dro_params.json`` and into the provenance file;
        ``provenance`` may be a function giving it, called once the images are written (the
        history of a streamed series is known then).
    ground_truth_description : str
        Human description of the ground truth (dataset descriptions, README).
    threads : int, optional
        The CPUs this participant may use to compress its images
        (``asldro.resources.thread_budget``: default ``ASLDRO_THREADS``, else the CPUs
        available); the bytes written do not depend on it.
    participant : Mapping, optional
        The top-level ``participant`` entry of the provenance file: ``{"columns": [...]}``, the
        participant's participants.tsv columns of a cohort (docs/cohort.md); absent when None.

    Raises
    ------
    OutputError
        The existing ``sub-<label>`` (or its ground truth or ``code/`` files) holds a file asldro
        did not write; nothing is written.
    """
    raw_series_names(results, m0_pairs)  # naming errors before anything is written
    with participant_build(output_dir, label, threads=threads) as build:
        build.add(results, m0_pairs=m0_pairs, provenance=provenance)
        build.finish(
            resolved_params=resolved_params,
            ground_truth_description=ground_truth_description,
            participant=participant,
        )
    return build.trees.written()


def _refuse_foreign_files(root: Path, label: str) -> None:
    """Raise :class:`OutputError` when ``sub-<label>`` holds a file asldro did not write."""
    foreign = foreign_subject_files(root, label)
    if foreign:
        raise OutputError(
            f"{foreign[0]}: asldro did not write this file ({len(foreign)} such file(s) where "
            f"sub-{label} would be replaced); asldro replaces only what it wrote: move them away"
        )


class _Trees:
    """The three trees of one participant built in the temp dir ``tmp`` (raw subject,
    ground-truth subject, ``code/`` files) and where each goes in the dataset at ``root``; images
    are compressed on ``threads`` threads."""

    def __init__(self, root: Path, label: str, tmp: Path, threads: int) -> None:
        subject = f"sub-{label}"
        self.label = label
        self.raw = _Tree(tmp / "raw" / subject, root / subject, threads)
        self.derivative = _Tree(tmp / "gt" / subject, groundtruth_root(root) / subject, threads)
        self.code = _Tree(tmp / "code", root)

    def put_in_place(self, tmp: Path) -> None:
        """Move the trees into the dataset, the raw subject last (a visible raw subject is a
        complete one); what they replace goes into ``tmp``."""
        raw, derivative, code = self.raw, self.derivative, self.code
        move_aside(raw.final_root, tmp)  # an old raw subject never sits beside a new derivative
        if derivative.written:
            put_in_place(derivative.root, derivative.final_root, tmp)
        else:
            move_aside(derivative.final_root, tmp)
        for relative in (participant_params_path(self.label), provenance_path(self.label)):
            put_in_place(code.root / relative, code.final_root / relative, tmp)
        raw.root.mkdir(parents=True, exist_ok=True)
        put_in_place(raw.root, raw.final_root, tmp)

    def counts(self) -> tuple[int, int]:
        """How many raw and ground-truth files are written so far."""
        return len(self.raw.written), len(self.derivative.written)

    def files_since(self, counts: tuple[int, int]) -> list[str]:
        """The raw and ground-truth files written since :meth:`counts` gave ``counts``, relative
        to the dataset."""
        subject = f"sub-{self.label}"
        raw = [f"{subject}/{path}" for path in self.raw.written[counts[0] :]]
        return raw + [
            f"{fields()['groundtruth_dir']}/{subject}/{path}"
            for path in self.derivative.written[counts[1] :]
        ]

    def written(self) -> list[Path]:
        """Every file of the participant at its final place (absolute paths, sorted)."""
        return sorted(
            [
                tree.final_root / path
                for tree in (self.raw, self.derivative, self.code)
                for path in tree.written
            ]
        )


def _write_series(
    trees: _Trees,
    results: Sequence[SeriesResult],
    names: Mapping[int, SeriesName],
    m0_pairs: Mapping[int, int],
    entities: Mapping[int, Mapping[str, str]],
) -> dict[int, list[str]]:
    """Write every series into ``trees`` (m0scans last: they name their asl file); ``entities``
    are those of each ground_truth series' derivatives. Returns each series' files
    (dataset-relative)."""
    files: dict[int, list[str]] = {}
    asl_files: dict[int, dict[str | None, str]] = {}
    for result in results:
        start = trees.counts()
        name = names.get(result.index)
        if result.series_type == "asl" and name is not None and name.suffix == "asl":
            calibrated = result.index in m0_pairs.values()
            asl_files[result.index] = _write_asl(trees.raw, trees.label, result, name, calibrated)
        elif result.series_type == "structural":  # every structural series is named
            _write_structural(trees.raw, trees.label, result, cast(SeriesName, name))
        elif result.series_type == "ground_truth":
            _write_groundtruth(trees.derivative, trees.label, result, entities[result.index])
        if result.series_type != "ground_truth" and name is not None:
            grid_entities = series_grid_entities(name)
            _write_groundtruth(trees.derivative, trees.label, result, grid_entities, name)
        files[result.index] = trees.files_since(start)
    for m0_index, asl_index in m0_pairs.items():
        start = trees.counts()
        m0_result = next(r for r in results if r.index == m0_index)
        _write_m0scan(trees.raw, trees.label, m0_result, names[m0_index], asl_files[asl_index])
        files[m0_index] = files.get(m0_index, []) + trees.files_since(start)
    return files


# --------------------------------------------------------------------------------------------
# The names a participant will get, without simulating it


@dataclass(frozen=True)
class _PlannedSeries:
    """What naming reads of a simulated series, known from the parameters alone."""

    index: int
    series_type: str
    description: str
    params: Series


def _planned_series(params: Any) -> list[_PlannedSeries]:
    return [
        _PlannedSeries(index, series.series_type, series.description, series)
        for index, series in enumerate(params.series, start=1)
    ]


def _planned_maps(
    label: str,
    entities: Mapping[str, str],
    quantities: Sequence[str],
    segmentation: Mapping[str, int],
) -> list[str]:
    """The ground-truth derivative files of ``quantities`` and of the tissue maps (a probseg
    per tissue of ``segmentation``, the brain mask), relative to the raw root (in the session
    folder of a ``ses`` entity)."""
    gt_subject = f"{fields()['groundtruth_dir']}/sub-{label}{_session_folder(entities)}"
    maps: list[tuple[str, Mapping[str, int] | None]] = [(q, None) for q in quantities]
    maps += [("probseg", {tissue: index}) for tissue, index in segmentation.items()]
    maps.append(("brain_mask", None))
    return [
        f"{gt_subject}/{path}"
        for quantity, tissue in maps
        for path in _groundtruth_files(label, entities, quantity, tissue)
    ]


def _planned_series_files(
    label: str, planned: _PlannedSeries, name: SeriesName | None
) -> list[str]:
    """The raw files of one series (raw-root relative), from its parameters and name."""
    subject = f"sub-{label}{_session_folder(name.entities if name else {})}"
    if planned.series_type == "asl" and name is not None:
        made: list[str] = []
        for part in parts(cast(AslSeries, planned.params).output_image_type == "complex"):
            found = _asl_files if name.suffix == "asl" else _m0scan_files
            made += [f for f in found(label, name, part) if f not in made]
        return [f"{subject}/{f}" for f in made]
    if planned.series_type == "structural" and name is not None:
        complex_output = cast(StructuralSeries, planned.params).output_image_type == "complex"
        return [
            f"{subject}/{path}"
            for _, image_file, sidecar_file in _structural_files(label, name, complex_output)
            for path in (image_file, sidecar_file)
        ]
    return []


def _planned_derivatives(
    label: str,
    planned: _PlannedSeries,
    name: SeriesName | None,
    entities: Mapping[str, str],
    ground_truth: GroundTruth,
) -> list[str]:
    """The ground-truth derivative files of one series: every quantity and the tissue maps of a
    ground_truth series, the derivatives at the grid of an asl or structural series."""
    from asldro.pipelines.groundtruth import series_grid_quantities

    segmentation = dict(ground_truth.segmentation)
    if planned.series_type == "ground_truth":
        return _planned_maps(label, entities, tuple(ground_truth.quantities), segmentation)
    if name is None:
        return []
    grid_quantities = series_grid_quantities(
        ground_truth, cast(Union[AslSeries, StructuralSeries], planned.params)
    )
    if grid_quantities is None:
        return []
    return _planned_maps(label, series_grid_entities(name), grid_quantities, segmentation)


def _session_folder(entities: Mapping[str, str]) -> str:
    """``/ses-<s>`` for the entities of a file in a session, else empty."""
    return f"/{session_path(entities['ses'])}" if "ses" in entities else ""


def planned_files(
    label: str,
    params: Any,
    ground_truth: GroundTruth,
    m0_pairs: Mapping[int, int],
    sessions: Sequence[str] = (),
) -> list[str]:
    """Every file :func:`write_participant` (or, with ``sessions``, a
    :class:`ParticipantBuild` of them) will write for participant ``label`` with these
    parameters (``DroParams``) and ground truth (POSIX paths relative to the raw root), found
    with the writer's own naming rules without simulating anything."""
    import warnings

    series = _planned_series(params)
    with warnings.catch_warnings():  # naming warnings are given when the data are written
        warnings.simplefilter("ignore")
        names = raw_series_names(series, m0_pairs)
    gt_entities = groundtruth_series_entities(series)
    files = [participant_params_path(label), provenance_path(label)]
    if sessions:
        files.append(f"sub-{label}/{sessions_tsv_path(label)}")
    for session in sessions or (None,):
        for planned in series:
            entities = gt_entities.get(planned.index, {})
            name = names.get(planned.index)
            if session is not None:
                entities = {"ses": session, **entities}
                name = None if name is None else _in_session(name, session)
            files += _planned_series_files(label, planned, name)
            files += _planned_derivatives(label, planned, name, entities, ground_truth)
    return files
