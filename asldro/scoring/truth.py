"""The ground-truth derivative as ``asldro score`` reads it (docs/score.md §2, §3): its images
found by their BIDS entities and suffix (never by asldro's own parameter files), the truth of a
quantity and the region masks carried to a map's grid.

* **Truth**: the ``*_<quantity>`` image (``cbf``, ``att``, ``abv``, ``abat``) whose grid equals
  the map's (shape equal, affine within :data:`GRID_TOLERANCE` mm); else the finest one (the
  smallest voxel volume) volume-averaged onto the map's grid with the box average of
  :class:`asldro.acquisition.Resampler` (any grid and orientation in the same world space, exact
  without rotation). ``att`` and ``abat`` are not additive: as in the derivative itself
  (docs/bids.md §9) they are averaged with their weight, ``sum(f*CBF*ATT)/sum(f*CBF)`` and
  ``sum(f*aBV*aBAT)/sum(f*aBV)``, and are defined only where the weight is > 0.
* **Regions**: every label > 0 of ``desc-groundtruth_dseg.tsv``. A label with a
  ``label-<abbreviation>_probseg`` image is a voxel's when its fraction is at least the purity
  (the probseg on the map's grid, else the finest one volume-averaged); a label without one is
  taken from the ``dseg`` on the map's grid (the voxels with that label: purity unknown), else
  from the finest ``dseg`` (the fraction of its voxels with the label, at least the purity).
  ``brain`` is every label: the sum of the probsegs, else the dseg's labels > 0, the same way.
* Voxels only partly inside the ground truth's field of view are left out of every region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from asldro.acquisition import Grid, Resampler
from asldro.bids.checks import image_stem, relative, split_name
from asldro.bids.fields import fields
from asldro.exit_codes import UsageError
from asldro.scoring.errors import ScoreError

#: Two grids are the same when their shapes are equal and their affines agree within this (mm).
GRID_TOLERANCE = 1e-4
#: The weight each non-additive quantity is averaged with (docs/bids.md §9: the derivative's own
#: definition; ``tests/scoring`` checks it against the generator's table).
WEIGHTED = {"att": "cbf", "abat": "abv"}
#: A map voxel counts as inside the ground truth when at least this fraction of it is.
COVERED = 1.0 - 1e-6
#: A resampled weight at most this fraction of its largest value counts as 0 (rounding of the
#: rotated box average leaves ~1e-12 where the true weight is 0).
NO_WEIGHT = 1e-9
#: Fractions stored as float32 (0.9 -> 0.89999998) count as equal to the purity within this.
PURITY_TOLERANCE = 1e-6
#: NIfTI xform codes of template spaces (Talairach, MNI 152, other template); 1 (scanner) and
#: 2 (aligned anatomy) are the subject's own world space.
TEMPLATE_CODES = (3, 4, 5)
BRAIN = "brain"


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D NIfTI image of the ground truth (or a map): where it is, its BIDS name parts and
    its grid; the voxels are read on demand."""

    path: Path
    entities: Mapping[str, str]
    suffix: str
    grid: Grid
    space_code: int

    @property
    def voxel_volume(self) -> float:
        """The volume of one voxel (mm³)."""
        return float(abs(np.linalg.det(self.grid.affine[:3, :3])))

    def voxel_text(self) -> str:
        """``2x2x2 mm``."""
        return "x".join(f"{size:.4g}" for size in self.grid.voxel_size) + " mm"

    def data(self, root: Path) -> np.ndarray:
        """The voxel values as float64, 3-D; a file that cannot be read is an error naming it
        (relative to ``root``)."""
        image = load_volume_image(self.path, root)
        try:
            values = np.asarray(image.dataobj, dtype=np.float64)
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            raise
        except Exception as err:  # pylint: disable=broad-except  # nibabel raises many types
            raise ScoreError(
                f"{relative(self.path, root)}: cannot read the voxel data ({err})"
            ) from err
        return values.reshape(self.grid.shape)


def load_volume_image(path: Path, root: Path) -> Any:
    """The nibabel image of ``path``; an unreadable file is a :class:`ScoreError` naming it
    (the rule of ``asldro quantify``'s reader)."""
    from asldro.quantify.reading import load_image

    return load_image(path, root, ScoreError)


def read_volume(path: Path, root: Path) -> Volume:
    """The :class:`Volume` of a 3-D image (or 4-D with one volume); anything else is an error."""
    image = load_volume_image(path, root)
    shape = tuple(int(n) for n in image.shape)
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) != 3:
        raise ScoreError(
            f"{relative(path, root)}: a map is one 3-D volume, this image has shape {shape}"
        )
    entities, suffix, _ = split_name(path.name)
    header = image.header
    code = int(header.get_sform(coded=True)[1] or 0)
    if code == 0:
        code = int(header.get_qform(coded=True)[1] or 0)
    grid = Grid(shape=shape, affine=np.asarray(image.affine, dtype=np.float64))
    return Volume(path, entities, suffix, grid, code)


def same_grid(first: Grid, second: Grid) -> bool:
    """Shapes equal and affines within :data:`GRID_TOLERANCE` mm."""
    return first.shape == second.shape and bool(
        np.allclose(first.affine, second.affine, rtol=0.0, atol=GRID_TOLERANCE)
    )


def same_world_space(first: Volume, second: Volume) -> bool:
    """False when one image is in a template space (NIfTI xform code 3, 4 or 5) and the other is
    not, or in another template space; code 0 (unknown) is taken as the subject's space."""
    kinds = [c if c in TEMPLATE_CODES else 0 for c in (first.space_code, second.space_code)]
    return kinds[0] == kinds[1]


@dataclass(frozen=True)
class Label:
    """A row of ``desc-groundtruth_dseg.tsv``."""

    index: int
    name: str
    abbreviation: str


@dataclass(frozen=True)
class GroundTruth:
    """The images of one participant in the ground-truth derivative and its labels."""

    dataset: Path
    root: Path
    participant: str
    volumes: tuple[Volume, ...]
    labels: tuple[Label, ...]

    def rel(self, path: Path) -> str:
        """``path`` relative to the dataset (how errors and sources name files)."""
        return relative(path, self.dataset)

    def with_suffix(self, suffix: str, **entities: str) -> list[Volume]:
        """The images ending in ``_<suffix>`` whose entities include ``entities``."""
        return [
            volume
            for volume in self.volumes
            if volume.suffix == suffix
            and all(volume.entities.get(key) == value for key, value in entities.items())
        ]


def groundtruth_folder(dataset: Path) -> Path:
    """``DATASET/derivatives/groundtruth`` (docs/bids.md §9)."""
    return Path(dataset) / fields()["groundtruth_dir"]


def participants(dataset: Path) -> list[str]:
    """The labels of the participants of the ground-truth derivative, sorted."""
    folder = groundtruth_folder(dataset)
    return sorted(p.name[len("sub-") :] for p in folder.glob("sub-*") if p.is_dir())


def read_labels(root: Path, dataset: Path) -> tuple[Label, ...]:
    """The labels > 0 of ``desc-groundtruth_dseg.tsv`` (columns ``index``, ``name`` and,
    optionally, ``abbreviation``)."""
    path = root / f"desc-{fields()['groundtruth_desc']}_dseg.tsv"
    where = relative(path, dataset)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as err:
        raise ScoreError(f"{where}: missing (the labels of the ground truth's dseg)") from err
    header = lines[0].split("\t") if lines else []
    if "index" not in header or "name" not in header:
        raise ScoreError(f"{where}: expected the columns index and name, got {header}")
    column = {name: header.index(name) for name in header}
    labels = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        try:
            index = int(cells[column["index"]])
            name = cells[column["name"]]
        except (IndexError, ValueError) as err:
            raise ScoreError(
                f"{where}: line {number}: expected an integer index and a name"
            ) from err
        abbreviation = name
        if "abbreviation" in column and len(cells) > column["abbreviation"]:
            abbreviation = cells[column["abbreviation"]] or name
        if index > 0:
            labels.append(Label(index, name, abbreviation))
    return tuple(sorted(labels, key=lambda label: label.index))


def sessions_of(folder: Path) -> list[str]:
    """The session labels of a subject folder (its ``ses-*`` folders), sorted."""
    return sorted(p.name[len("ses-") :] for p in folder.glob("ses-*") if p.is_dir())


def _session_folder(folder: Path, dataset: Path, session: str | None) -> Path:
    """The folder of the ground truth of ``session`` in the subject ``folder``: the subject
    itself when it has no sessions (a map's ``ses`` entity then changes nothing); with
    sessions, the one the map's name gives (``UsageError`` when it gives none or another)."""
    known = sessions_of(folder)
    if not known:
        return folder
    listed = ", ".join(f"ses-{k}" for k in known)
    if session is None:
        raise UsageError(
            f"{relative(folder, dataset)}: the ground truth has sessions ({listed}) and the "
            "map's name does not say which (no ses- entity): name it "
            f"{folder.name}_ses-<label>_..."
        )
    if session not in known:
        raise UsageError(
            f"{relative(folder, dataset)}: no ground truth of ses-{session} (it has: {listed})"
        )
    return folder / f"ses-{session}"


def read_ground_truth(dataset: Path, participant: str, session: str | None = None) -> GroundTruth:
    """The ground-truth derivative of ``participant`` (in ``session``, which a participant with
    sessions needs: docs/bids.md §1.1): every NIfTI under its ``sub-<label>[/ses-<label>]``
    folder (headers only) and the labels."""
    root = groundtruth_folder(dataset)
    if not root.is_dir():
        raise ScoreError(
            f"{dataset}: no ground truth ({fields()['groundtruth_dir']} is missing); asldro score "
            "needs a dataset written by asldro generate"
        )
    folder = root / f"sub-{participant}"
    if not folder.is_dir() and (Path(dataset) / f"sub-{participant}").is_dir():
        raise ScoreError(
            f"{relative(folder, dataset)}: missing: the dataset has no ground truth of "
            f"sub-{participant} (generated without a ground_truth series?)"
        )
    if not folder.is_dir():
        known = ", ".join(f"sub-{p}" for p in participants(dataset)) or "none"
        raise UsageError(
            f"{relative(folder, dataset)}: no ground truth of participant sub-{participant} "
            f"(the ground truth has: {known})"
        )
    folder = _session_folder(folder, Path(dataset), session)
    volumes = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and image_stem(path) is not None and not path.name.startswith("."):
            volumes.append(read_volume(path, dataset))
    return GroundTruth(dataset, root, participant, tuple(volumes), read_labels(root, dataset))


def tissue_names() -> set[str]:
    """The names of the tissues (not background, not a lesion) in asldro's label table."""
    table = fields()["tissues"]
    return {entry["name"] for key, entry in table.items() if key not in ("background", "lesion")}


@dataclass(frozen=True, eq=False)
class Region:
    """A set of voxels of the map's grid: ``kind`` is ``tissue``, ``label`` (a dseg label
    that is no tissue: a lesion, a user ground truth's own label) or ``brain``; ``mask_source``
    says how the mask was made."""

    name: str
    description: str
    kind: str
    index: int | None
    mask: np.ndarray
    mask_source: str


@dataclass
class OnGrid:  # pylint: disable=too-many-instance-attributes  # the grid, its caches, its record
    """The ground truth carried to one map's grid (resamplers and voxel data kept for reuse)."""

    truth: GroundTruth
    target: Grid
    purity: float
    _resamplers: dict[Grid, Resampler] = field(default_factory=dict)
    _data: dict[Path, np.ndarray] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    coarser: list[str] = field(default_factory=list)

    def data(self, volume: Volume) -> np.ndarray:
        """The voxels of a ground-truth image (read once)."""
        if volume.path not in self._data:
            self._data[volume.path] = volume.data(self.truth.dataset)
            self.sources.append(self.truth.rel(volume.path))
        return self._data[volume.path]

    def resampler(self, source: Grid) -> Resampler:
        """The box average from ``source`` onto the map's grid."""
        if source not in self._resamplers:
            self._resamplers[source] = Resampler(source.affine, source.shape, self.target)
        return self._resamplers[source]

    def pick(self, volumes: Sequence[Volume]) -> tuple[Volume, bool]:
        """The image on the map's grid (True), else the finest (False; ties: the first by
        name)."""
        for volume in volumes:
            if same_grid(volume.grid, self.target):
                return volume, True
        finest = min(volumes, key=lambda v: (round(v.voxel_volume, 9), str(v.path)))
        if finest.voxel_volume > abs(np.linalg.det(self.target.affine[:3, :3])) * (1 + 1e-6):
            self.coarser.append(self.truth.rel(finest.path))
        return finest, False

    def volume_mean(self, volume: Volume, values: np.ndarray | None = None) -> np.ndarray:
        """``values`` (default: the image's voxels) box-averaged onto the map's grid."""
        data = self.data(volume) if values is None else values
        return self.resampler(volume.grid).resample(data)

    def coverage(self, volume: Volume) -> np.ndarray:
        """The fraction of each map voxel inside the field of view of ``volume``'s grid."""
        return self.resampler(volume.grid).resample(np.ones(volume.grid.shape))

    def quantity(self, suffix: str) -> tuple[np.ndarray, np.ndarray, str]:
        """The truth of ``suffix`` on the map's grid, where it is defined (inside the ground
        truth; for ``att``, ``abat`` where the weight is > 0), and how it was formed."""
        candidates = self.truth.with_suffix(suffix)
        if not candidates:
            raise ScoreError(
                f"{self.truth.rel(self.truth.root)}/sub-{self.truth.participant}: no ground truth "
                f"of {suffix} (no *_{suffix}.nii.gz image)"
            )
        volume, on_grid = self.pick(candidates)
        weight_suffix = WEIGHTED.get(suffix)
        weight_volume = self._weight(volume, weight_suffix, on_grid)
        name = self.truth.rel(volume.path)
        if on_grid:
            values = self.data(volume)
            defined = np.ones(self.target.shape, dtype=bool)
            method = f"{name} (on the map's grid)"
            if weight_volume is not None:
                defined = self.data(weight_volume) > 0
        elif weight_volume is None:
            values = self.volume_mean(volume)
            defined = self.coverage(volume) >= COVERED
            method = (
                f"{name} ({volume.voxel_text()}) volume-averaged onto the map's grid (box "
                "average, asldro.acquisition.Resampler)"
            )
        else:
            weights = self.data(weight_volume)
            mean_weight = self.volume_mean(weight_volume)
            product = self.volume_mean(volume, weights * self.data(volume))
            defined = (self.coverage(volume) >= COVERED) & (
                mean_weight > NO_WEIGHT * float(np.max(weights, initial=0.0))
            )
            values = np.zeros(self.target.shape)
            np.divide(product, mean_weight, out=values, where=defined)
            method = (
                f"{name} ({volume.voxel_text()}) averaged onto the map's grid weighted by "
                f"{self.truth.rel(weight_volume.path)}: sum(f*{weight_suffix}*{suffix})/"
                f"sum(f*{weight_suffix}) (box average, asldro.acquisition.Resampler); defined "
                f"where the {weight_suffix} is > 0"
            )
        return values, defined, method

    def _weight(self, volume: Volume, suffix: str | None, on_grid: bool) -> Volume | None:
        """The weight image of a non-additive quantity on ``volume``'s grid (None for an
        additive one)."""
        if suffix is None:
            return None
        for candidate in self.truth.with_suffix(suffix):
            if same_grid(candidate.grid, volume.grid):
                return candidate
        if on_grid:
            return None  # defined everywhere: the derivative has set it where undefined
        raise ScoreError(
            f"{self.truth.rel(volume.path)}: the {volume.suffix} truth is averaged with the "
            f"{suffix} as weight, and the ground truth has no {suffix} on its grid"
        )

    def inside(self) -> np.ndarray:
        """Map voxels wholly inside the field of view of every ground-truth image used."""
        covered = np.ones(self.target.shape, dtype=bool)
        for grid in self._resamplers:
            covered &= self.resampler(grid).resample(np.ones(grid.shape)) >= COVERED
        return covered

    def _fraction(self, volumes: Sequence[Volume]) -> tuple[np.ndarray, bool, Volume]:
        """The fractions of a probseg on the map's grid (:meth:`pick`), whether it was there,
        and the image used."""
        volume, on_grid = self.pick(volumes)
        data = self.data(volume)
        return (data if on_grid else self.volume_mean(volume, data)), on_grid, volume

    def regions(self) -> list[Region]:
        """The tissue and label regions (dseg.tsv order), then ``brain``."""
        probsegs = {
            label.index: self.truth.with_suffix("probseg", label=label.abbreviation)
            for label in self.truth.labels
        }
        dsegs = self.truth.with_suffix("dseg")
        found = [
            region
            for label in self.truth.labels
            if (region := self._label_region(label, probsegs[label.index], dsegs)) is not None
        ]
        brain = self._brain_region(found, probsegs, dsegs)
        if brain is None:
            raise ScoreError(
                f"{self.truth.rel(self.truth.root)}/sub-{self.truth.participant}: no tissue masks "
                "(neither a probseg nor a dseg image)"
            )
        return [*found, brain]

    def _label_region(
        self, label: Label, probsegs: Sequence[Volume], dsegs: Sequence[Volume]
    ) -> Region | None:
        """One label's region: from its probseg, else from the dseg (None without either); a
        tissue when its name is one of the built-in tissues', else a label (a lesion, a user
        structure), whatever files describe it."""
        kind = "tissue" if label.name in tissue_names() else "label"
        if probsegs:
            fraction, on_grid, volume = self._fraction(probsegs)
            mask = fraction >= self.purity - PURITY_TOLERANCE
            source = self._fraction_text("probseg", volume, on_grid)
        elif dsegs:
            index = label.index
            mask, source = self._dseg_mask(dsegs, lambda seg: seg == index)
        else:
            return None
        return Region(label.abbreviation, label.name, kind, label.index, mask, source)

    def _brain_region(
        self,
        found: Sequence[Region],
        probsegs: Mapping[int, Sequence[Volume]],
        dsegs: Sequence[Volume],
    ) -> Region | None:
        """``brain``: the summed probsegs when every tissue has one, else the dseg's labels > 0
        (None without either)."""
        with_probseg = [r for r in found if r.index is not None and probsegs[r.index]]
        tissues = [r for r in found if r.kind == "tissue"]
        if with_probseg and all(r.index is not None and probsegs[r.index] for r in tissues):
            total = np.zeros(self.target.shape)
            for region in with_probseg:
                assert region.index is not None  # with_probseg holds labels only
                total += self._fraction(probsegs[region.index])[0]
            names = ", ".join(region.name for region in with_probseg)
            source = f"sum of the probsegs of {names} >= {self.purity:g}"
            mask = total >= self.purity - PURITY_TOLERANCE
            return Region(BRAIN, "every label", BRAIN, None, mask, source)
        if dsegs:
            mask, source = self._dseg_mask(dsegs, lambda seg: seg > 0)
            return Region(BRAIN, "every label", BRAIN, None, mask, source)
        return None

    def _fraction_text(self, what: str, volume: Volume, on_grid: bool) -> str:
        name = self.truth.rel(volume.path)
        if on_grid:
            return f"{what} {name} >= {self.purity:g}"
        return f"{what} {name} ({volume.voxel_text()}) volume-averaged, >= {self.purity:g}"

    def _dseg_mask(
        self, dsegs: Sequence[Volume], select: Callable[[np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, str]:
        volume, on_grid = self.pick(dsegs)
        chosen = select(np.rint(self.data(volume))).astype(np.float64)
        if on_grid:
            return chosen > 0.5, f"dseg {self.truth.rel(volume.path)} (purity unknown)"
        fraction = self.volume_mean(volume, chosen)
        return fraction >= self.purity - PURITY_TOLERANCE, (
            f"dseg {self.truth.rel(volume.path)} ({volume.voxel_text()}): fraction of its voxels "
            f"with the label >= {self.purity:g}"
        )
