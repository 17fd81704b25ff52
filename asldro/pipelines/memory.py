"""Peak memory of a run, estimated from the parameters before anything is simulated (issue 9
item 14), and the check that refuses a run the machine cannot hold.

The estimate models one participant process: the interpreter and libraries, the ground truth
(its label map, dense maps, and the transient of reading a file), then the series one after the
other, each with its transient working set while it is simulated and written, while the results
of every series are kept until the subject is written; an asl series is streamed to disk as its
volumes are simulated (issue 16 item 1), so it keeps nothing and its working set does not grow
with its volumes (only their records, :data:`ASL_VOLUME_OBJECTS` each). Coefficients are bytes
per voxel (of the acquisition grid, ``N``, or of the ground-truth grid, ``N_gt``), calibrated
against the measured peak RSS by ``bench/memory_estimate.py`` (the table in its docstring:
estimate / measured between 1.00 and 1.19).

Refusing is a parameter problem (exit status 65): the same parameters fail on any output
location, and smaller ``acq_matrix`` or fewer volumes fix it. ``--max-memory`` replaces the
limit (the memory available to this process: MemAvailable, or a cgroup limit when lower).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, cast

from asldro.groundtruth.types import GroundTruth
from asldro.params.errors import ParamError
from asldro.params.types import AslSeries, DroParams, GroundTruthSeries, Motion, StructuralSeries
from asldro.pipelines.asl import ALL_QUANTITIES as ASL_QUANTITIES
from asldro.pipelines.asl import volume_threads
from asldro.pipelines.structural import QUANTITIES as STRUCTURAL_QUANTITIES
from asldro.resources import thread_budget, threads_per_process, worker_processes

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
#: The quantities whose distinct combinations a dispersed ΔM is computed for (with λ and T1b).
DISPERSION_QUANTITIES = ("transit_time", "t1", "perfusion_rate")
_UNITS = {"": None, "K": KIB, "M": MIB, "G": GIB, "T": 1 << 40}

#: Interpreter, numpy, scipy, nibabel and asldro (measured 123 MB with no series).
PROCESS_BASE = 150 * MIB
#: Built-in ground truth: uint16 labels plus the uint8 templates they are built from.
BUILTIN_BYTES = 5
#: Label map (uint16) of a ground-truth file.
SEG_BYTES = 2
#: Reading a ground-truth file: the 5-D data and one copy, per quantity and byte of its dtype.
FILE_READ_COPIES = 2
#: A series with rotation: summed-volume tables on the ground-truth grid.
ROTATION = 20

#: asl series on a resampled grid, streamed to disk as its volumes are simulated (issue 16
#: item 1): the simulation working set ``8 L + ASL_SIM + ASL_THREAD T`` per acquisition voxel
#: (L labels, T volume threads), whatever the number of volumes.
ASL_SIM, ASL_THREAD = 14.0, 21.5
#: asl series on the ground-truth grid itself (no resampling).
ASL_IDENTITY = 16.0
#: Volumes simulated ahead of the writer: ``AHEAD_PER_THREAD`` per volume thread
#: (``asldro.pipelines.streamed``), each a float32 volume (complex64 for a complex series).
ASL_AHEAD, ASL_AHEAD_COMPLEX = 4.0, 8.0
#: The compressor of a streamed image: the chunk being filled and two per thread in flight,
#: for each part written (magnitude and phase of a complex series).
GZIP_CHUNK = 4 * MIB
#: The HTML report (issue 10) reads each asl run back after the participant is written: its
#: float32 4-D image (``REPORT_VOLUME`` bytes per acquisition voxel and volume), its float64
#: maps (``REPORT_MAPS`` per acquisition voxel) and the ground-truth images and figures it reads
#: one at a time (``REPORT_FIXED``); 549 MB measured for 100 volumes at 128x128x48. Counted
#: whether or not the report is wanted (the estimate errs high).
REPORT_VOLUME, REPORT_MAPS, REPORT_FIXED = 4.0, 48.0, 64 * MIB
#: Python objects per asl volume (history, seed records), whatever the grid.
ASL_VOLUME_OBJECTS = 130 * KIB
#: asl series with dense ground-truth maps: the signal is computed on the ground-truth grid.
ASL_DENSE, ASL_DENSE_THREAD = 8.0, 40.0
#: asl series with dense ground-truth maps: each distinct labelling timing after the first
#: holds one more float64 ΔM map on the ground-truth grid (multi-PLD, variable LD).
ASL_DENSE_TIMING = 8.0
#: asl series with a bolus dispersion and dense kinetic maps (docs/physics.md §4.11): while ΔM
#: is computed, ``DISPERSION_DENSE`` bytes per ground-truth voxel (the distinct-value search and
#: the model's temporaries), ``DISPERSION_DISTINCT`` per distinct (Δt, T1, CBF) of the truth
#: (the quadrature rows) and the quadrature's chunk (tracemalloc peaks of gkm.delta_m: 97 B per
#: voxel with 1000 distinct values, 120 B when every voxel differs, 28 MB fixed). The larger of
#: this and the simulation's dense working set is counted.
DISPERSION_DENSE, DISPERSION_DISTINCT, DISPERSION_CHUNK = 100.0, 25.0, 32 * MIB
#: structural series per acquisition voxel (resampled / on the ground-truth grid), and dense maps.
STRUCTURAL, STRUCTURAL_IDENTITY, STRUCTURAL_DENSE = 62.0, 24.0, 48.0
#: ground_truth series: ``GT_LABEL L + GT_QUANTITY Q + GT_BASE`` per voxel (Q quantities).
GT_LABEL, GT_QUANTITY, GT_BASE, GT_IDENTITY_BASE, GT_DENSE = 16.0, 4.0, 60.0, 40.0, 24.0


class MemoryLimitError(ParamError):
    """The parameters ask for more memory than the limit (exit status 65)."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak resident memory of one participant process, in bytes.

    ``parts`` names each contribution (the ground truth, then each series' peak with the other
    series' kept results); ``largest`` is the part that sets the peak.
    """

    total: int
    largest: str
    parts: tuple[tuple[str, int], ...]


def format_bytes(size: float) -> str:
    """``1.5 GiB``, ``640 MiB``: binary units, as ``--max-memory`` reads them."""
    if size >= GIB:
        return f"{size / GIB:.1f} GiB"
    return f"{size / MIB:.0f} MiB"


def parse_memory_size(text: str) -> int:
    """Bytes of a size such as ``16G``, ``16GiB``, ``800M``, ``1.5T`` (binary units, any case).

    Raises ValueError (with a message for the command line) for anything else, a bare number
    included: ``16`` is more likely 16 GiB than 16 bytes, so the unit is required.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([kmgt]?)(i?b)?\s*", text, flags=re.IGNORECASE)
    unit = _UNITS.get(match.group(2).upper()) if match else None
    if match is None or unit is None:
        raise ValueError(f"expected a size with a unit, such as 16G or 800M, got {text!r}")
    size = int(float(match.group(1)) * unit)
    if size <= 0:
        raise ValueError(f"expected a size above 0, got {text!r}")
    return size


def _voxels(shape: Sequence[int]) -> int:
    return int(math.prod(int(n) for n in shape))


def _motions(series) -> tuple[Motion, ...]:
    """The motion of every volume (an asl series' volumes carry a cohort's added motion)."""
    if isinstance(series, AslSeries):
        return tuple(volume.motion for volume in series.volumes)
    return series.motion if isinstance(series.motion, tuple) else (series.motion,)


def _rotated(motion: Motion | Sequence[Motion]) -> bool:
    motions = motion if isinstance(motion, (tuple, list)) else (motion,)
    return any(m.rot_x or m.rot_y or m.rot_z for m in motions)


def _on_truth_grid(series, gt: GroundTruth) -> bool:
    motions = _motions(series)
    return tuple(series.acq_matrix) == tuple(gt.shape) and all(m.is_identity for m in motions)


def _dense(gt: GroundTruth, names: Sequence[str]) -> bool:
    return any(name in gt.maps and not gt.is_table(name) for name in names)


def _distinct_kinetics(gt: GroundTruth) -> int:
    """An upper bound of the distinct (transit time, T1, CBF) of the ground truth, which a
    dispersed ΔM is computed once for: the product of each quantity's distinct values (a
    table's length), at most the voxel count."""
    import numpy as np

    count = 1
    for name in DISPERSION_QUANTITIES:
        values = gt.maps[name]
        count *= values.size if values.ndim == 1 else int(np.unique(values).size)
    return min(count, _voxels(gt.shape))


def _dispersion_bytes(series: AslSeries, gt: GroundTruth) -> float:
    """Transient bytes of computing a dispersed ΔM on dense maps (0 on lookup tables or
    without a dispersion, where ΔM costs nothing in comparison)."""
    if series.dispersion_kernel is None or not _dense(gt, DISPERSION_QUANTITIES):
        return 0.0
    n_gt = _voxels(gt.shape)
    return n_gt * DISPERSION_DENSE + _distinct_kinetics(gt) * DISPERSION_DISTINCT + DISPERSION_CHUNK


def _timings(series: AslSeries) -> int:
    """Distinct labelling timings of an asl series: one ΔM array each."""
    return len({volume.timing for volume in series.volumes})


def _asl_streamed_bytes(series: AslSeries, n_acq: int, threads: int) -> float:
    """Bytes of an asl series' volumes in flight between the simulation and the disk: the
    volumes simulated ahead and the compressor's chunks (of each part written)."""
    from asldro.pipelines.streamed import AHEAD_PER_THREAD

    complex_output = series.output_image_type == "complex"
    ahead = (
        AHEAD_PER_THREAD * threads * n_acq * (ASL_AHEAD_COMPLEX if complex_output else ASL_AHEAD)
    )
    chunks = (1 + 2 * threads) * GZIP_CHUNK * (2 if complex_output else 1)
    return ahead + chunks


def _asl_stack(series: AslSeries, gt: GroundTruth, n_acq: int) -> float:
    """Bytes of an asl series' image kept until the subject is written: none when it is
    streamed (a partial-volume truth), else its float32 (complex64) stack."""
    if gt.tissue is not None:
        return 0.0
    return n_acq * len(series.volumes) * (8.0 if series.output_image_type == "complex" else 4.0)


def _asl_per_voxel(identity: bool, n_labels: int, threads: int) -> float:
    """Peak bytes per acquisition voxel of simulating an asl series on ``threads`` volume
    threads (not growing with its volumes: they are streamed to disk)."""
    if identity:
        return ASL_IDENTITY
    return 8 * n_labels + ASL_SIM + ASL_THREAD * threads


def _series_bytes(series, gt: GroundTruth, n_labels: int, threads: int) -> tuple[float, float]:
    """(peak while this series is simulated and written, bytes of its kept result);
    ``threads`` is the participant's thread budget."""
    n_acq, n_gt = _voxels(series.acq_matrix), _voxels(gt.shape)
    identity = _on_truth_grid(series, gt)
    extra = ROTATION * n_gt if _rotated(_motions(series)) else 0.0
    if isinstance(series, AslSeries):
        volumes = len(series.volumes)
        threads = volume_threads(volumes, threads)
        if _dense(gt, ASL_QUANTITIES):
            simulation = n_gt * (ASL_DENSE + ASL_DENSE_THREAD * threads)
            extra += max(simulation, _dispersion_bytes(series, gt))
            extra += n_gt * ASL_DENSE_TIMING * (_timings(series) - 1)
        peak = n_acq * _asl_per_voxel(identity, n_labels, threads)
        peak += _asl_streamed_bytes(series, n_acq, threads) + volumes * ASL_VOLUME_OBJECTS
        # streamed on a partial-volume truth: nothing of the image is kept; on label maps its
        # float32 (complex64) stack is kept until the subject is written
        return peak + extra + _asl_stack(series, gt, n_acq), _asl_stack(series, gt, n_acq)
    if isinstance(series, StructuralSeries):
        if _dense(gt, STRUCTURAL_QUANTITIES):
            extra += n_gt * STRUCTURAL_DENSE
        kept = 8.0 if series.output_image_type == "complex" else 4.0
        per_voxel = STRUCTURAL_IDENTITY if identity else STRUCTURAL
        return n_acq * per_voxel + extra, kept * n_acq
    if isinstance(series, GroundTruthSeries):
        n_quantities = len(gt.quantities)
        base = GT_IDENTITY_BASE if identity else GT_BASE + GT_LABEL * n_labels
        if _dense(gt, tuple(gt.maps)):
            extra += n_gt * GT_DENSE
        peak = n_acq * (GT_QUANTITY * n_quantities + base) + extra
        return peak, n_acq * (4.0 * (n_quantities - 1) + 2.0)
    raise TypeError(f"unknown series type {type(series).__name__}")  # pragma: no cover


def _describe(index: int, series) -> str:
    shape = "x".join(str(n) for n in series.acq_matrix)
    volumes = f", {len(series.volumes)} volumes" if isinstance(series, AslSeries) else ""
    return f"image_series[{index}] ({series.series_type}, acq_matrix {shape}{volumes})"


def _file_itemsize(params: DroParams) -> int:
    """Bytes per value of a ground-truth file (from its header; 8 if it cannot be read)."""
    nifti = params.global_config.ground_truth.nifti
    try:
        import nibabel as nib

        # a file ground truth (the caller returns earlier for a built-in): a NIfTI image
        image = cast(nib.Nifti1Image, nib.load(cast(Path, nifti)))
        return int(image.header.get_data_dtype().itemsize)
    except Exception:  # pylint: disable=broad-except  # the ground truth was read already
        return 8


def _ground_truth_bytes(params: DroParams, ground_truth: GroundTruth) -> tuple[float, float]:
    """(resident bytes of the loaded ground truth, transient bytes of reading it)."""
    n_gt = _voxels(ground_truth.shape)
    dense_bytes = sum(values.nbytes for values in ground_truth.maps.values() if values.ndim == 3)
    # a partial-volume built-in (or one from probseg maps), and any ground truth with lesions,
    # also holds its float32 tissue fractions (docs/physics.md §3.5-§3.7)
    fractions = 0 if ground_truth.tissue is None else ground_truth.tissue.values.nbytes
    source = params.global_config.ground_truth
    if source.name is not None or source.subject is not None:
        return BUILTIN_BYTES * n_gt + dense_bytes + fractions, 0.0
    quantities = len(ground_truth.quantities)
    read_transient = FILE_READ_COPIES * quantities * _file_itemsize(params) * n_gt
    return SEG_BYTES * n_gt + dense_bytes + fractions, read_transient


def _report_bytes(params: DroParams) -> list[tuple[int, AslSeries, float]]:
    """(index, series, bytes) of the report's reading of each asl series."""
    return [
        (
            index,
            series,
            REPORT_FIXED
            + _voxels(series.acq_matrix) * (REPORT_VOLUME * len(series.volumes) + REPORT_MAPS),
        )
        for index, series in enumerate(params.series)
        if isinstance(series, AslSeries)
    ]


def estimate_peak_memory(
    params: DroParams, ground_truth: GroundTruth, threads: int | None = None
) -> MemoryEstimate:
    """Estimated peak resident memory of simulating and writing one participant that may use
    ``threads`` CPUs (``asldro.resources.thread_budget``: default the CPUs available)."""
    n_labels = int(ground_truth.seg.max(initial=0)) + 1
    resident, read_transient = _ground_truth_bytes(params, ground_truth)
    threads = thread_budget(threads)
    costs = [_series_bytes(series, ground_truth, n_labels, threads) for series in params.series]
    kept = sum(result for _, result in costs)
    parts = [("the ground truth", PROCESS_BASE + resident + read_transient)]
    for index, (series, (peak, result)) in enumerate(zip(params.series, costs)):
        parts.append((_describe(index, series), PROCESS_BASE + resident + peak - result + kept))
    parts += [
        (f"the report of {_describe(index, series)}", PROCESS_BASE + resident + report)
        for index, series, report in _report_bytes(params)
    ]
    largest, total = max(parts, key=lambda part: part[1])
    return MemoryEstimate(
        total=int(total), largest=largest, parts=tuple((n, int(b)) for n, b in parts)
    )


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _inactive_file(stat: Path) -> int:
    """Reclaimable page cache of a cgroup (``inactive_file`` of memory.stat)."""
    try:
        lines = stat.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    for line in lines:
        key, _, value = line.partition(" ")
        if key in ("inactive_file", "total_inactive_file") and value.isdigit():
            return int(value)
    return 0


def _cgroup_room() -> int | None:
    """Room left under the tightest memory limit of this process's cgroups (v1 or v2)."""
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    rooms = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: memory.max/current in the unified hierarchy
            base, files = Path("/sys/fs/cgroup"), ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory")
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        folder = base / path.lstrip("/")
        for candidate in (folder, *folder.parents):
            if base not in (candidate, *candidate.parents):
                break
            limit, usage = (_read_int(candidate / name) for name in files)
            if limit is not None and usage is not None and limit < (1 << 60):
                used = usage - _inactive_file(candidate / "memory.stat")
                rooms.append(max(limit - used, 0))
    return min(rooms) if rooms else None


def available_memory() -> int | None:
    """Bytes this process can still allocate: MemAvailable, or the cgroup room when lower
    (a container's limit); None when unknown (not Linux)."""
    try:
        meminfo = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    found = re.search(r"^MemAvailable:\s+(\d+) kB", meminfo, flags=re.MULTILINE)
    if found is None:
        return None
    room = _cgroup_room()
    available = int(found.group(1)) * KIB
    return available if room is None else min(available, room)


def resident_memory() -> int:
    """Resident bytes of this process now (0 when unknown)."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def check_memory(
    params: DroParams,
    *,
    participants: int = 1,
    parallel: int = 1,
    max_memory: int | None = None,
    ground_truth: GroundTruth | None = None,
    threads: int | None = None,
) -> MemoryEstimate:
    """Estimate the run's peak memory and refuse it when it exceeds the limit.

    The ground truth is loaded (and so validated) when not given. With several participants
    and ``parallel > 1`` that many worker processes run at once, each with the estimated peak
    and its share of the ``threads`` budget (``asldro.resources``), while this process stays
    resident. The limit is ``max_memory`` when given, else the memory available now plus what
    this process already holds; unknown (not Linux): no check.

    Raises
    ------
    MemoryLimitError
        One line with the estimate, the part that sets it, and the limit.
    """
    if ground_truth is None:
        from asldro.groundtruth import load_ground_truth

        ground_truth = load_ground_truth(params.global_config.ground_truth, params.global_config)
    workers = worker_processes(parallel, participants)
    per_process = threads_per_process(thread_budget(threads), workers)
    estimate = estimate_peak_memory(params, ground_truth, threads=per_process)
    held = resident_memory()
    need = estimate.total if workers == 1 else held + workers * estimate.total
    limit = _memory_limit(max_memory, held)
    if limit is not None and need > limit[0]:
        each = f" ({workers} participants in parallel)" if workers > 1 else ""
        raise MemoryLimitError(
            f"the run needs an estimated {format_bytes(need)} of memory at its peak{each}, set "
            f"by {estimate.largest}, more than the {format_bytes(limit[0])} {limit[1]}; use a "
            "smaller acq_matrix or fewer volumes, or raise the limit with --max-memory"
        )
    return estimate


def _memory_limit(max_memory: int | None, held: int) -> tuple[int, str] | None:
    """(limit in bytes, where it comes from): ``max_memory``, else the memory available now
    plus the ``held`` bytes of this process; None when unknown (not Linux)."""
    if max_memory is not None:
        return max_memory, "allowed by --max-memory"
    available = available_memory()
    if available is None:
        return None
    return available + held, "available on this machine"
