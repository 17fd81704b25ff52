"""Cohorts (issue 14; docs/cohort.md): per-participant physiology, lesions and motion drawn from
``global_configuration.cohort`` (:mod:`asldro.params.cohort`).

:mod:`asldro.cohort.draw` draws (pure functions of the cohort, the seed and the label);
:mod:`asldro.cohort.apply` applies the draws to the ground truth and the series.
:func:`participant_setup` is the entry point of the engine (``asldro.api.generate_participant``).
"""

from __future__ import annotations

from asldro.cohort.apply import ParticipantSetup, check_cohort, participant_setup
from asldro.cohort.draw import ParticipantDraw, draw_participant

__all__ = [
    "ParticipantDraw",
    "ParticipantSetup",
    "check_cohort",
    "draw_participant",
    "participant_setup",
]
