"""Write one participant's series as BIDS, atomically (DESIGN.md "Output dataset";
bids-asl.md §1–§9).

Everything is built in a hidden temp dir inside the output folder, then renamed into place:
the derivative subject first, the provenance file next and the raw ``sub-<label>`` last, so a
visible raw subject means a complete one. An existing subject of the same label is replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from asldro import __version__
from asldro.bids.atomic import move_aside, put_in_place, temp_dir
from asldro.bids.dataset import ensure_dataset_files, groundtruth_root, update_participants
from asldro.bids.fields import fields
from asldro.bids.jsonable import json_bytes, to_jsonable
from asldro.bids.naming import (
    SeriesName,
    asl_context,
    bids_stem,
    check_label,
    groundtruth_series_entities,
    groundtruth_suffix,
    raw_series_names,
)
from asldro.bids.nifti import nifti_gz_bytes
from asldro.bids.sidecars import (
    asl_sidecar,
    aslcontext_tsv,
    groundtruth_sidecar,
    m0_type,
    m0scan_sidecar,
    structural_sidecar,
)
from asldro.image import Image
from asldro.pipelines.types import SeriesResult

PARAMS_URI = "bids:raw:code/dro_params.json"


class _Tree:
    """Files of one subject, collected under a temp root; remembers what it wrote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[Path] = []

    def put(self, relative: str, content: bytes) -> None:
        """Write ``content`` at ``relative`` under the temp root."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.written.append(Path(relative))


def _first_label_control_tr(meta: Mapping[str, Any]) -> float:
    """pixdim[4] of a 4-D asl image: the TR of the first control/label volume (physics.md D16)."""
    trs = list(meta["repetition_time"])
    context = [str(t).lower() for t in meta["asl_context"]]
    for token, tr in zip(context, trs):
        if token != "m0scan":
            return float(tr)
    return float(trs[0])


def _image_4d(image: Image) -> np.ndarray:
    return image.data if image.data.ndim == 4 else image.data[..., np.newaxis]


def _write_asl(
    tree: _Tree, label: str, result: SeriesResult, name: SeriesName, has_separate_m0: bool
) -> str:
    image = result.images["asl"]
    stem = bids_stem(label, name.entities, "asl")
    m0_fields = m0_type(
        asl_context(result),
        has_separate_m0=has_separate_m0,
        m0_uniform_value=image.meta.get("m0_uniform_value"),
    )
    data = _image_4d(image)
    tr = _first_label_control_tr(image.meta)
    tree.put(f"perf/{stem}.nii.gz", nifti_gz_bytes(data, image.affine, repetition_time=tr))
    tree.put(f"perf/{stem}.json", json_bytes(asl_sidecar(image, m0_fields=m0_fields)))
    context_stem = bids_stem(label, name.entities, "aslcontext")
    tree.put(f"perf/{context_stem}.tsv", aslcontext_tsv(asl_context(result)).encode())
    return f"{stem}.nii.gz"


def _write_m0scan(
    tree: _Tree, label: str, result: SeriesResult, name: SeriesName, asl_file: str
) -> None:
    image = result.images["asl"]
    stem = bids_stem(label, name.entities, "m0scan")
    data = image.data
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    tr = float(list(image.meta["repetition_time"])[0])
    nifti = nifti_gz_bytes(data, image.affine, repetition_time=tr if data.ndim == 4 else None)
    tree.put(f"perf/{stem}.nii.gz", nifti)
    intended = f"bids::sub-{label}/perf/{asl_file}"
    tree.put(f"perf/{stem}.json", json_bytes(m0scan_sidecar(image, intended_for=intended)))


def _write_structural(tree: _Tree, label: str, result: SeriesResult, name: SeriesName) -> None:
    image = result.images["structural"]
    complex_output = str(
        image.meta.get("output_image_type", "magnitude")
    ) == "complex" or np.iscomplexobj(image.data)
    if complex_output:
        parts = {"mag": np.abs(image.data), "phase": np.angle(image.data)}
    else:
        parts = {None: image.data}
    for part, data in parts.items():
        entities = dict(name.entities)
        if part is not None:
            entities["part"] = part
        stem = bids_stem(label, entities, name.suffix)
        tree.put(f"anat/{stem}.nii.gz", nifti_gz_bytes(data, image.affine))
        sidecar = structural_sidecar(image, part=part)
        tree.put(f"anat/{stem}.json", json_bytes(sidecar))


def _label_dtype(data: np.ndarray) -> type:
    if data.size and (data.min() < 0 or data.max() > np.iinfo(np.int16).max):
        return np.uint16 if data.min() >= 0 else np.int32
    return np.int16


def _write_groundtruth(
    tree: _Tree, label: str, result: SeriesResult, entities: Mapping[str, str]
) -> None:
    desc = fields()["groundtruth_desc"]
    for quantity, image in result.images.items():
        quantity = str(image.meta.get("quantity", quantity))
        datatype, suffix, _ = groundtruth_suffix(quantity)
        stem = bids_stem(label, {**entities, "desc": desc}, suffix, derivative=True)
        if quantity == "seg_label":
            dtype = _label_dtype(np.asarray(image.data))
        else:
            dtype = np.float32
        tree.put(f"{datatype}/{stem}.nii.gz", nifti_gz_bytes(image.data, image.affine, dtype=dtype))
        sidecar = groundtruth_sidecar(image, sources=[PARAMS_URI])
        tree.put(f"{datatype}/{stem}.json", json_bytes(sidecar))


def _groundtruth_extras(results: Sequence[SeriesResult]) -> tuple[dict[str, int] | None, set]:
    """Segmentation (union over ground_truth series) and suffixes needing ``.bidsignore``."""
    segmentation: dict[str, int] | None = None
    extra: set[str] = set()
    for result in results:
        if result.series_type != "ground_truth":
            continue
        for quantity, image in result.images.items():
            _, suffix, is_bids = groundtruth_suffix(str(image.meta.get("quantity", quantity)))
            if not is_bids:
                extra.add(suffix)
            if image.meta.get("segmentation") is not None:
                segmentation = {**(segmentation or {}), **dict(image.meta["segmentation"])}
    return segmentation, extra


def _provenance(
    label: str,
    results: Sequence[SeriesResult],
    files: Mapping[int, list[str]],
    provenance: Mapping,
) -> dict[str, Any]:
    """Per-participant provenance: the given mapping plus each series' parameters, image meta
    (seeds, noise sigma and reference, motion ...) and filter history."""
    series = []
    for result in results:
        images = {
            key: {
                "shape": list(image.data.shape),
                "dtype": str(image.data.dtype),
                "meta": to_jsonable(image.meta),
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
    return {
        "participant_id": f"sub-{label}",
        "generated_by": f"asldro {__version__}",
        "provenance": to_jsonable(provenance),
        "series": series,
    }


def write_participant(
    output_dir: Path,
    label: str,
    results: Sequence[SeriesResult],
    *,
    m0_pairs: Mapping[int, int],
    resolved_params: Mapping,
    provenance: Mapping,
    ground_truth_description: str,
) -> list[Path]:
    """Write ``sub-<label>`` (raw ``perf``/``anat``), its ground-truth derivative and
    ``code/provenance/sub-<label>.json``, atomically; ensure the dataset-level files and update
    ``participants.tsv``. Returns the subject's files written (absolute paths, sorted).

    All files are built in a hidden temp dir first; the dataset-level files are written only
    once that succeeded, so a failure leaves no new files (bids-asl.md §1, DESIGN.md).

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
        Written to ``code/dro_params.json`` and into the provenance file.
    ground_truth_description : str
        Human description of the ground truth (dataset descriptions, README).
    """
    root = Path(output_dir)
    label = check_label(label)
    names = raw_series_names(results, m0_pairs)  # naming errors before anything is written
    gt_entities = groundtruth_series_entities(results)
    segmentation, extra_suffixes = _groundtruth_extras(results)
    subject = f"sub-{label}"
    gt_target = groundtruth_root(root) / subject
    raw_target = root / subject
    prov_target = root / "code" / "provenance" / f"{subject}.json"
    with temp_dir(root) as tmp:
        raw, derivative = _Tree(tmp / "raw" / subject), _Tree(tmp / "gt" / subject)
        files: dict[int, list[str]] = {}
        asl_files: dict[int, str] = {}
        for result in results:
            start_raw, start_gt = len(raw.written), len(derivative.written)
            name = names.get(result.index)
            if result.series_type == "asl" and name is not None and name.suffix == "asl":
                has_m0 = result.index in m0_pairs.values()
                asl_files[result.index] = _write_asl(raw, label, result, name, has_m0)
            elif result.series_type == "structural":
                _write_structural(raw, label, result, name)
            elif result.series_type == "ground_truth":
                _write_groundtruth(derivative, label, result, gt_entities[result.index])
            files[result.index] = [f"{subject}/{p}" for p in raw.written[start_raw:]] + [
                f"{fields()['groundtruth_dir']}/{subject}/{p}"
                for p in derivative.written[start_gt:]
            ]
        for m0_index, asl_index in m0_pairs.items():
            start = len(raw.written)
            m0_result = next(r for r in results if r.index == m0_index)
            _write_m0scan(raw, label, m0_result, names[m0_index], asl_files[asl_index])
            files[m0_index] = [f"{subject}/{p}" for p in raw.written[start:]]
        prov_tmp = tmp / "provenance.json"
        prov_tmp.write_bytes(json_bytes(_provenance(label, results, files, provenance)))

        ensure_dataset_files(
            root,
            resolved_params=resolved_params,
            ground_truth_description=ground_truth_description,
            segmentation=segmentation,
            extra_suffixes=extra_suffixes,
        )
        move_aside(raw_target, tmp)  # an old raw subject never sits beside a new derivative
        if derivative.written:
            put_in_place(derivative.root, gt_target, tmp)
        else:
            move_aside(gt_target, tmp)
        put_in_place(prov_tmp, prov_target, tmp)
        raw.root.mkdir(parents=True, exist_ok=True)
        put_in_place(raw.root, raw_target, tmp)
    update_participants(root)
    written = [raw_target / p for p in raw.written]
    written += [gt_target / p for p in derivative.written]
    return sorted(written + [prov_target])
