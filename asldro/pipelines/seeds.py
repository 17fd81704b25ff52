"""Deterministic random streams (docs/physics.md §7.3, docs/design.md "Determinism").

Every noise draw comes from its own ``numpy.random.Generator`` whose ``SeedSequence`` is
derived from (seed, participant label, series index, volume index): output never depends on
which other participants run, their order, or parallelism, and never on the global RNG. In a
dataset with sessions the session enters the label part of the key (:func:`stream_label`), so
each session of a participant gets new noise; without sessions the key is the label alone.
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


def stream_label(participant_label: str, session: str | None = None) -> str:
    """What the label part of a spawn key encodes: the participant label, or
    ``<label>_ses-<session>`` in a session. Labels are alphanumeric, so ``_ses-`` never occurs
    in one: a session's key differs from every participant's key without sessions and from
    every other (participant, session) pair's."""
    return participant_label if session is None else f"{participant_label}_ses-{session}"


def seed_sequence(
    seed: int,
    participant_label: str,
    series_index: int,
    volume_index: int,
    session: str | None = None,
) -> np.random.SeedSequence:
    """The SeedSequence for one volume of one series of one participant (in ``session``)."""
    key = label_key(stream_label(participant_label, session))
    return np.random.SeedSequence(
        entropy=int(seed), spawn_key=(key, int(series_index), int(volume_index))
    )


@dataclass(frozen=True)
class SeriesStreams:
    """The noise streams of one series of one participant (in ``session``, None without
    sessions): one per volume."""

    seed: int
    participant_label: str
    series_index: int
    session: str | None = None

    @classmethod
    def of(
        cls,
        series: Union[AslSeries, StructuralSeries],
        participant_label: str,
        series_index: int,
        seed: int | None = None,
        session: str | None = None,
    ) -> "SeriesStreams":
        """The streams of ``series``: ``seed`` (``--seed``) replaces its ``random_seed``."""
        chosen = series.random_seed if seed is None else seed
        return cls(chosen, participant_label, series_index, session)

    def volume(self, volume_index: int) -> np.random.SeedSequence:
        """The SeedSequence of one volume (:func:`seed_sequence`)."""
        return seed_sequence(
            self.seed, self.participant_label, self.series_index, volume_index, self.session
        )


def describe(sequence: np.random.SeedSequence) -> dict[str, Any]:
    """JSON-able record of a SeedSequence, enough to recreate it."""
    entropy = cast(int, sequence.entropy)  # seed_sequence's: one integer
    return {"entropy": int(entropy), "spawn_key": [int(k) for k in sequence.spawn_key]}
