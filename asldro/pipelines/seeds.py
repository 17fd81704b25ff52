"""Deterministic random streams (docs/physics.md §7.3, docs/design.md "Determinism").

Every noise draw comes from its own ``numpy.random.Generator`` whose ``SeedSequence`` is
derived from (seed, participant label, series index, volume index): output never depends on
which other participants run, their order, or parallelism, and never on the global RNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union, cast

import numpy as np

from asldro.params.types import AslSeries, StructuralSeries


def label_key(participant_label: str) -> int:
    """The participant label as an integer for a SeedSequence spawn key (UTF-8 bytes, big-endian).

    Python's salted ``hash()`` is never used, so the key is the same in every process.
    """
    return int.from_bytes(participant_label.encode("utf-8"), "big")


def seed_sequence(
    seed: int, participant_label: str, series_index: int, volume_index: int
) -> np.random.SeedSequence:
    """The SeedSequence for one volume of one series of one participant."""
    return np.random.SeedSequence(
        entropy=int(seed),
        spawn_key=(label_key(participant_label), int(series_index), int(volume_index)),
    )


@dataclass(frozen=True)
class SeriesStreams:
    """The noise streams of one series of one participant: one per volume."""

    seed: int
    participant_label: str
    series_index: int

    @classmethod
    def of(
        cls,
        series: Union[AslSeries, StructuralSeries],
        participant_label: str,
        series_index: int,
        seed: int | None = None,
    ) -> "SeriesStreams":
        """The streams of ``series``: ``seed`` (``--seed``) replaces its ``random_seed``."""
        return cls(series.random_seed if seed is None else seed, participant_label, series_index)

    def volume(self, volume_index: int) -> np.random.SeedSequence:
        """The SeedSequence of one volume (:func:`seed_sequence`)."""
        return seed_sequence(self.seed, self.participant_label, self.series_index, volume_index)


def describe(sequence: np.random.SeedSequence) -> dict[str, Any]:
    """JSON-able record of a SeedSequence, enough to recreate it."""
    entropy = cast(int, sequence.entropy)  # seed_sequence's: one integer
    return {"entropy": int(entropy), "spawn_key": [int(k) for k in sequence.spawn_key]}
