"""Parameter files of the benchmark protocols shared by ``bench/run.py`` (time, peak RSS) and
``bench/memory_estimate.py`` (the memory estimate against the measured peak)."""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

#: The multi-PLD protocol of issue 11: one m0scan, then 6 PLDs x 8 control/label pairs.
MULTI_PLD_MATRIX = (64, 64, 40)
MULTI_PLD_DELAYS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
MULTI_PLD_PAIRS = 8
MULTI_PLD_LABEL_DURATION = 1.8


def multi_pld_params(
    base: dict[str, Any],
    matrix: Sequence[int] = MULTI_PLD_MATRIX,
    delays: Sequence[float] = MULTI_PLD_DELAYS,
    pairs: int = MULTI_PLD_PAIRS,
    *,
    one_delay: bool = False,
    two_d: bool = False,
) -> dict[str, Any]:
    """A multi-PLD pCASL series: one m0scan (``m0scan_phases`` first), then ``pairs``
    control/label pairs at each of ``delays`` (label duration 1.8 s), at ``matrix``, with motion
    (varying over the tokens, repeated in every phase) and noise (the default SNR).

    ``one_delay``: the same volumes at the first delay only, spelled out as one phase (the
    single-PLD series the multi-PLD row is compared with). ``two_d``: a 2D multi-slice readout
    (interleaved, the default 0.035 s per slice: one slice time per slice of ``matrix``)."""
    series = json.loads(
        json.dumps(next(s for s in base["image_series"] if s["series_type"] == "asl"))
    )
    phases = 1 if one_delay else len(delays)
    tokens = ["m0scan"] + ["control", "label"] * pairs * (len(delays) if one_delay else 1)
    parameters = series["series_parameters"]
    parameters["asl_context"] = " ".join(tokens)
    parameters["label_duration"] = MULTI_PLD_LABEL_DURATION
    times = [round(MULTI_PLD_LABEL_DURATION + delay, 9) for delay in delays[:phases]]
    parameters["signal_time"] = times[0] if one_delay else times
    parameters["m0scan_phases"] = "first"
    parameters["echo_time"] = 0.01
    parameters["repetition_time"] = [10.0 if t == "m0scan" else 5.0 for t in tokens]
    amplitudes = {"rot_x": 1.0, "rot_y": 1.5, "rot_z": 2.0}
    amplitudes.update({"transl_x": 0.5, "transl_y": 1.0, "transl_z": 0.8})
    for phase, (key, amplitude) in enumerate(amplitudes.items()):
        parameters[key] = [
            round(amplitude * math.sin(2 * math.pi * (i + 1) / len(tokens) + phase), 4)
            for i in range(len(tokens))
        ]
    parameters["acq_matrix"] = list(matrix)
    if not parameters.get("desired_snr"):
        parameters["desired_snr"] = 100.0
    if two_d:
        parameters["mr_acq_type"] = "2D"
        parameters["slice_order"] = "interleaved"
    return {**base, "image_series": [series]}


def realistic_params(base: dict[str, Any]) -> dict[str, Any]:
    """The realistic multi-PLD protocol of issue 16: :func:`multi_pld_params` (m0scan + 6 PLDs
    x 8 pairs at 64x64x40, motion, noise) acquired 2D with slice timing (interleaved) and with
    background suppression (the default pulses, inversion times optimised; TR 6 s, which holds
    the earliest pulse before the longest signal time)."""
    document = multi_pld_params(base, two_d=True)
    parameters = document["image_series"][0]["series_parameters"]
    parameters["background_suppression"] = True
    parameters["repetition_time"] = [
        10.0 if t == "m0scan" else 6.0 for t in parameters["asl_context"].split()
    ]
    return document
