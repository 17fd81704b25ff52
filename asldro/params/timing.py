"""The post-labelling delay of a labelling scheme (docs/physics.md §4.6, D21).

The one rule, used by the parameter checks (PLD >= 0, D17) and by the BIDS sidecar
(``PostLabelingDelay``): for continuous and pseudo-continuous labelling the delay runs from the
end of the label, ``PLD = signal_time - label_duration``; for pulsed labelling BIDS's
``PostLabelingDelay`` is the inversion time, ``PLD = TI = signal_time`` (Alsop et al. 2015,
doi 10.1002/mrm.25197, Eq. 1 and 2 use PLD and TI this way).
"""

from __future__ import annotations


def post_labeling_delay(label_type: str, label_duration: float, signal_time: float) -> float:
    """PLD in s: ``signal_time - label_duration`` for ``casl``/``pcasl``, ``signal_time`` for
    ``pasl`` (case-insensitive)."""
    if label_type.lower() == "pasl":
        return float(signal_time)
    return float(signal_time) - float(label_duration)
