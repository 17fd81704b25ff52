"""The post-labelling delay of a labelling scheme and the precision of the times asldro reports
(docs/physics.md §4.6, D21; docs/bids.md §6, §13).

The one rule, used by the parameter checks (PLD >= 0, D17) and by the BIDS sidecar
(``PostLabelingDelay``): for continuous and pseudo-continuous labelling the delay runs from the
end of the label, ``PLD = signal_time - label_duration``; for pulsed labelling BIDS's
``PostLabelingDelay`` is the inversion time, ``PLD = TI = signal_time`` (Alsop et al. 2015,
doi 10.1002/mrm.25197, Eq. 1 and 2 use PLD and TI this way).

Reported times are rounded to :data:`TIME_DECIMALS` decimals of a second (1e-9 s, far below any
scanner's timing resolution), so that float noise never reaches a sidecar: ``2.8 - 1.8`` is
``0.9999999999999998`` in floating point and ``1.0`` here (ASLDRO develop wrote the former:
defect D34 of docs/bids.md §13).
"""

from __future__ import annotations

TIME_DECIMALS = 9
"""Decimals of a second kept in reported times (1e-9 s)."""


def round_seconds(value: float) -> float:
    """A time in s rounded to 1e-9 s (:data:`TIME_DECIMALS`); ``-0.0`` becomes ``0.0``."""
    return round(float(value), TIME_DECIMALS) + 0.0


def post_labeling_delay(label_type: str, label_duration: float, signal_time: float) -> float:
    """PLD in s, rounded to 1e-9 s (:func:`round_seconds`): ``signal_time - label_duration``
    for ``casl``/``pcasl``, ``signal_time`` for ``pasl`` (case-insensitive)."""
    if label_type.lower() == "pasl":
        return round_seconds(signal_time)
    return round_seconds(float(signal_time) - float(label_duration))
