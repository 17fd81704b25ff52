"""Bundled ground truths from the ICBM 2009a templates that nilearn ships (docs/physics.md §3.2).

The label map is derived deterministically, in memory, from three uint8 (0..255) templates in
``<nilearn>/datasets/data/``: ``mni_icbm152_{gm,wm,t1}_tal_nlin_sym_09a_converted.nii.gz``
(197 x 233 x 189 voxels, 1 mm, affine diag(1, 1, 1) translated by (-98, -134, -72): the grid of
ASLDRO's bundled ground truth). The files are located without importing nilearn.

Labelling rule (0 background, 1 grey matter, 2 white matter, 3 CSF):

1. *Intracranial* = voxels where the T1 template is non-zero (nilearn's T1 template is already
   brain-masked; the mask has no holes).
2. Inside it, the CSF probability is ``1 - p_GM - p_WM``. A voxel is **CSF** when that
   probability is at least ``CSF_MIN_PROBABILITY`` (0.65); otherwise it is **GM** when
   ``p_GM >= p_WM`` and **WM** when ``p_WM > p_GM``.
3. Everything outside the intracranial mask is background.

The 0.65 threshold makes the CSF count match ASLDRO's (95 411 vs 95 623 voxels); GM and WM are
then within 3 % and 11 % of ASLDRO's counts (1 155 535 vs 1 186 556; 635 593 vs 572 775).
Tissue values per label and the scalar parameters are data, in ``tissues.json``.

That label map is the ``single_label`` tissue model. The default ``partial_volume`` model
(``global_configuration.tissue_model``, issue 13; docs/physics.md §3.5) keeps the probabilities
as per-voxel tissue fractions (:func:`icbm_fractions`):

1. Outside the intracranial mask: background 1, every tissue 0.
2. Inside it: ``GM = p_GM / 255``, ``WM = p_WM / 255``, ``CSF = 1 - GM - WM``, background 0.
   Where ``p_GM + p_WM > 255`` (impossible for a probability, not present in nilearn's
   templates but possible in other copies) GM and WM are scaled to sum to 1
   (``GM = p_GM / (p_GM + p_WM)``) and CSF is 0: both tissues keep their ratio, no fraction is
   negative.

The fractions are float32 and sum to 1 within 2e-7 in every voxel; the label map is then their
majority tissue (:func:`asldro.acquisition.sampling.majority`, ties to the lower label).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from asldro.acquisition.sampling import majority
from asldro.groundtruth.errors import GroundTruthError
from asldro.groundtruth.types import GroundTruth, TissueFractions, read_only
from asldro.params.builtin import BUILTIN_GROUND_TRUTHS, DEFAULT_TISSUE_MODEL, TISSUE_MODELS

TISSUES_FILE = Path(__file__).with_name("tissues.json")
TEMPLATE_PATTERN = "mni_icbm152_{}_tal_nlin_sym_09a_converted.nii.gz"
CSF_MIN_PROBABILITY = 0.65
TEMPLATE_MAX = 255  # the templates store probabilities as uint8 0..255


@functools.lru_cache(maxsize=1)
def tissue_tables() -> dict[str, Any]:
    """The parsed ``tissues.json`` (units, segmentation, values per ground truth and tissue)."""
    with TISSUES_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def template_dir() -> Path:
    """Folder holding nilearn's ICBM 2009a templates, found without importing nilearn."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise GroundTruthError("nilearn is not installed: the built-in ground truths need it")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def _load_template(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The template's data and affine. The file is decompressed in one call (the templates are
    8.7 MB each; nibabel's streamed gzip reader takes several times longer) and read from
    memory."""
    import nibabel as nib

    from asldro.bids.nifti import GZIP_WBITS

    path = template_dir() / TEMPLATE_PATTERN.format(kind)
    if not path.is_file():
        raise GroundTruthError(f"{path}: ICBM 2009a template not found (nilearn installation)")
    try:
        raw = zlib.decompress(path.read_bytes(), GZIP_WBITS)
        img = nib.Nifti1Image.from_bytes(raw)
    except (zlib.error, nib.filebasedimages.ImageFileError) as error:
        raise GroundTruthError(f"{path}: not a gzipped NIfTI-1 image ({error})") from error
    proxy: Any = img.dataobj  # an ArrayProxy: where and how the data are stored in ``raw``
    if (proxy.slope, proxy.inter) != (1.0, 0.0) or proxy.order != "F":
        return np.asarray(proxy), img.affine  # scaled data: nibabel applies the scaling
    data = np.frombuffer(raw, proxy.dtype, int(np.prod(proxy.shape)), int(proxy.offset))
    return data.reshape(proxy.shape, order="F"), img.affine  # nibabel's array, not copied


def _label_lookup() -> np.ndarray:
    """Label for every (p_GM, p_WM) pair of uint8 template values, indexed by ``gm << 8 | wm``:
    the rule of the module docstring as a 65 536-entry table (one pass over the volume)."""
    labels = tissue_tables()["segmentation"]
    gm = np.arange(TEMPLATE_MAX + 1)[:, np.newaxis]
    wm = np.arange(TEMPLATE_MAX + 1)[np.newaxis, :]
    max_tissue = int(np.floor((1.0 - CSF_MIN_PROBABILITY) * TEMPLATE_MAX))
    lookup = np.where(wm > gm, labels["white_matter"], labels["grey_matter"])
    lookup = np.where(gm + wm <= max_tissue, labels["csf"], lookup)
    return lookup.astype(np.uint16).ravel()


@functools.lru_cache(maxsize=1)
def icbm_label_map() -> tuple[np.ndarray, np.ndarray]:
    """The uint16 label map and its affine, derived as described in the module docstring.

    Returns read-only arrays (cached in-process; nothing is written to disk).
    """
    gm, affine = _load_template("gm")
    wm, _ = _load_template("wm")
    t1, _ = _load_template("t1")
    seg = _label_lookup()[(gm.astype(np.uint16) << 8) | wm]
    seg[t1 == 0] = 0
    return read_only(seg), read_only(np.array(affine, dtype=np.float64))


def _fraction_lookup() -> np.ndarray:
    """GM, WM and CSF fractions for every (p_GM, p_WM) pair of uint8 template values, indexed by
    ``gm << 8 | wm``: rule 2 of the partial-volume model (module docstring), ``(65 536, 3)``."""
    gm = np.arange(TEMPLATE_MAX + 1, dtype=np.float64)[:, np.newaxis]
    wm = np.arange(TEMPLATE_MAX + 1, dtype=np.float64)[np.newaxis, :]
    total = gm + wm
    scale = np.maximum(total, TEMPLATE_MAX)  # p_GM + p_WM > 255: GM and WM sum to 1
    grey, white = np.broadcast_arrays(gm / scale, wm / scale)
    csf = np.where(total > TEMPLATE_MAX, 0.0, np.clip(1.0 - grey - white, 0.0, None))
    return np.stack([grey.ravel(), white.ravel(), csf.ravel()], axis=1)


def _template_codes() -> tuple[np.ndarray, np.ndarray, tuple[int, ...], np.ndarray]:
    """The intracranial voxels (flat C-order indices into the template grid), their
    ``p_GM << 8 | p_WM`` codes (uint16), the grid's shape and its affine."""
    gm, affine = _load_template("gm")
    wm, _ = _load_template("wm")
    t1, _ = _load_template("t1")
    where = np.flatnonzero(np.ascontiguousarray(t1) != 0)
    grid = (np.ascontiguousarray(gm), np.ascontiguousarray(wm))
    code = grid[0].reshape(-1)[where].astype(np.uint16)
    code <<= 8
    code |= grid[1].reshape(-1)[where]
    return read_only(where), read_only(code), gm.shape, np.array(affine, dtype=np.float64)


def _component_lookup() -> np.ndarray:
    """The float32 fractions of the four components (background 0, then the tissues in label
    order) inside the intracranial mask, for every template code: ``(4, 65 536)``."""
    labels = tissue_tables()["segmentation"]
    lookup = _fraction_lookup()
    rows = np.zeros((max(labels.values()) + 1, lookup.shape[0]), dtype=np.float32)
    for column, tissue in enumerate(("grey_matter", "white_matter", "csf")):
        rows[labels[tissue]] = lookup[:, column]
    return rows


@functools.lru_cache(maxsize=1)
def _partial_volume() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`icbm_fractions`' fractions, :func:`icbm_majority_labels`' labels and the affine,
    built together from one read of the templates (whose codes are not kept)."""
    where, codes, shape, affine = _template_codes()
    rows = _component_lookup()
    fractions = np.zeros((rows.shape[0],) + shape, dtype=np.float32)
    # only the intracranial voxels (a fifth of the grid) are looked up: 4x faster than the grid
    fractions[0] = 1.0
    fractions[0].reshape(-1)[where] = 0.0
    for component in range(1, rows.shape[0]):
        fractions[component].reshape(-1)[where] = rows[component][codes]
    # the majority tissue per template code (the fractions are a function of it)
    by_code = majority(rows, np.arange(rows.shape[0], dtype=np.uint16)).astype(np.uint16)
    seg = np.zeros(shape, dtype=np.uint16)
    seg.reshape(-1)[where] = by_code[codes]
    return read_only(fractions), read_only(seg), read_only(affine)


def icbm_fractions() -> tuple[np.ndarray, np.ndarray]:
    """The partial-volume tissue fractions (module docstring) and their affine.

    Returns
    -------
    tuple of numpy.ndarray
        float32 ``(4, X, Y, Z)`` (background, then the tissues in label order: component ``l``
        is label ``l`` of ``tissues.json``'s segmentation), read-only and cached in-process; and
        the affine.
    """
    fractions, _, affine = _partial_volume()
    return fractions, affine


def icbm_majority_labels() -> np.ndarray:
    """The label map of the partial-volume model: the majority tissue of :func:`icbm_fractions`
    (uint16, read-only, cached), found per template code (the fractions are a function of it)."""
    return _partial_volume()[1]


def _tissue_layout(tissue_model: str) -> tuple[np.ndarray, np.ndarray, TissueFractions | None]:
    """Label map, affine and (partial volume) tissue fractions of ``tissue_model``."""
    if tissue_model != "partial_volume":
        seg, affine = icbm_label_map()
        return seg, affine, None
    fractions, affine = icbm_fractions()
    components = np.arange(fractions.shape[0], dtype=np.uint16)
    tissue = TissueFractions(values=fractions, labels=read_only(components))
    return icbm_majority_labels(), affine, tissue


def _table(values: list[float]) -> np.ndarray:
    """A read-only float64 lookup table."""
    return read_only(np.array(values, dtype=np.float64))


def builtin_ground_truth(name: str, tissue_model: str = DEFAULT_TISSUE_MODEL) -> GroundTruth:
    """The bundled ground truth ``name`` (docs/physics.md §3.2), with lookup tables per quantity.

    Parameters
    ----------
    name : str
        One of ``BUILTIN_GROUND_TRUTHS``.
    tissue_model : str
        ``single_label`` (one tissue per voxel, the label rule of the module docstring) or
        ``partial_volume`` (tissue fractions per voxel, docs/physics.md §3.5; the default of
        the parameter file, :data:`asldro.params.builtin.DEFAULT_TISSUE_MODEL`).

    Returns
    -------
    GroundTruth
        Cached and immutable (read-only arrays): the same object for the same name and model.
    """
    return cached_builtin_ground_truth(name, tissue_model)


def builtin_tables(name: str) -> dict[str, np.ndarray]:
    """The lookup tables of the built-in ``name`` (one of ``BUILTIN_GROUND_TRUTHS``): per
    quantity, the value of each label of ``tissues.json``'s segmentation (background 0 first),
    read-only float64."""
    tables = tissue_tables()
    segmentation = {"background": 0, **tables["segmentation"]}
    n_labels = max(segmentation.values()) + 1
    maps = {}
    for quantity, per_tissue in tables["ground_truths"][name]["values"].items():
        values = [0.0] * n_labels
        for tissue, value in per_tissue.items():
            values[segmentation[tissue]] = float(value)
        maps[quantity] = _table(values)
    return maps


@functools.lru_cache(maxsize=None)
def cached_builtin_ground_truth(name: str, tissue_model: str) -> GroundTruth:
    """:func:`builtin_ground_truth` (the model always given, so that one cache entry serves
    the default and the named model)."""
    tables = tissue_tables()
    if name not in BUILTIN_GROUND_TRUTHS or name not in tables["ground_truths"]:
        raise GroundTruthError(
            f"unknown built-in ground truth {name!r}; available: {', '.join(BUILTIN_GROUND_TRUTHS)}"
        )
    if tissue_model not in TISSUE_MODELS:
        raise GroundTruthError(
            f"unknown tissue model {tissue_model!r}; available: {', '.join(TISSUE_MODELS)}"
        )
    entry = tables["ground_truths"][name]
    maps = builtin_tables(name)
    seg, affine, tissue = _tissue_layout(tissue_model)
    return GroundTruth(
        affine=affine,
        shape=seg.shape,
        seg=seg,
        tissue=tissue,
        segmentation=dict(tables["segmentation"]),
        maps=maps,
        units=dict(tables["units"]),
        parameters=dict(entry["parameters"]),
        quantity_order=tuple(tables["quantity_order"]),
    )
