"""Memory a participant leaves behind: peak and retained bytes of ``generate_series``.

Simulates one participant of a parameter set whose series move with rotation (the path that
builds summed-volume tables on the ground-truth grid) and reports, from ``tracemalloc`` (numpy
reports its arrays to it) and the resident set size:

* the peak traced while the participant is simulated, above what was traced before;
* what is still traced once the results are dropped and ``gc.collect()`` has run (the caches
  a participant leaves behind);
* the resident set size at the same two moments (``/proc/self/statm``; the allocator may keep
  freed pages, so RSS falls less than the traced bytes).

Run from the repository root (any asldro on ``PYTHONPATH`` works, the old one included)::

    .venv/bin/python bench/participant_memory.py
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

MIB = float(1 << 20)

#: asl volumes with a different rotation each, a rotated structural and ground-truth series.
SERIES = [
    {
        "series_type": "asl",
        "series_parameters": {
            "acq_matrix": [64, 64, 24],
            "asl_context": "m0scan control label control label",
            "rot_z": [0.0, 1.0, 2.0, 3.0, 4.0],
            "transl_y": [0.5, 0.0, -0.5, 1.0, 0.0],
        },
    },
    {"series_type": "structural", "series_parameters": {"acq_matrix": [96, 96, 72], "rot_x": 3.0}},
    {
        "series_type": "ground_truth",
        "series_parameters": {"acq_matrix": [64, 64, 24], "rot_z": 5.0},
    },
]


def resident_mib() -> float:
    """Resident set size of this process now, MiB (0 when unknown)."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / MIB


def main() -> int:
    """Simulate two participants one after the other and print the figures of each."""
    from asldro.groundtruth import builtin_ground_truth
    from asldro.params import default_params, load_params
    from asldro.pipelines import generate_series

    document = default_params()
    document["image_series"] = SERIES
    params = load_params(document)
    ground_truth = builtin_ground_truth("hrgt_icbm_2009a_nls_3t")
    gc.collect()
    tracemalloc.start()
    before, rss_before = tracemalloc.get_traced_memory()[0], resident_mib()
    print(f"ground truth loaded: RSS {rss_before:.0f} MiB")
    for label in ("01", "02"):
        tracemalloc.reset_peak()
        results = generate_series(params, ground_truth, participant_label=label)
        rss_with_results = resident_mib()
        peak = tracemalloc.get_traced_memory()[1] - before
        del results
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
        print(
            f"participant {label}: traced peak {peak / MIB:.0f} MiB, retained after return "
            f"{retained / MIB:.1f} MiB; RSS with results {rss_with_results:.0f} MiB, "
            f"after {resident_mib():.0f} MiB"
        )
    tracemalloc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
