"""Command-line values shared by both front doors (``asldro generate`` and ``run.py``): one rule
each for participant labels (and their default), ``--seed`` and ``--n-procs`` (docs/design.md
"Facts in one place").

Nothing here imports the numeric stack, so argument errors stay fast.
"""

from __future__ import annotations

import argparse
import math
from typing import Iterable

from asldro.labels import SUBJECT_PREFIX, is_label
from asldro.exit_codes import UsageError

DEFAULT_PARTICIPANT_LABEL = "01"
"""The participant label when neither the command line nor the parameter file's
``global_configuration.subject_label`` gives one."""


def participant_labels(values: Iterable[str] | None) -> tuple[str, ...]:
    """Participant labels without one leading ``sub-``, de-duplicated in order.

    Raises ``UsageError`` (exit 64) for anything that is not a BIDS label (``../x``, ``a_b``,
    ``""``).
    """
    return _bids_labels(values, SUBJECT_PREFIX, "participant")


def session_labels(values: Iterable[str] | None) -> tuple[str, ...]:
    """Session labels without one leading ``ses-``, de-duplicated in order (the rule of
    :func:`participant_labels`; ``UsageError``, exit 64, for one that is not a BIDS label)."""
    return _bids_labels(values, "ses-", "session")


def _bids_labels(values: Iterable[str] | None, prefix: str, what: str) -> tuple[str, ...]:
    labels: list[str] = []
    for value in values or ():
        label = value[len(prefix) :] if value.startswith(prefix) else value
        if not is_label(label):
            raise UsageError(
                f"{what} label {value!r} is not a BIDS label (letters, digits and + only)"
            )
        if label not in labels:
            labels.append(label)
    return tuple(labels)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def non_negative_int(text: str) -> int:
    """argparse type of ``--seed``: an integer >= 0."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _process_count_problem(value: int) -> str | None:
    """The ``n_procs`` rule: at least one worker process."""
    return None if value >= 1 else f"expected an integer >= 1, got {value}"


def process_count(text: str) -> int:
    """argparse type of ``--n-procs``: an integer >= 1."""
    value = _integer(text)
    problem = _process_count_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def check_process_count(value: int) -> int:
    """``n_procs`` of the Python API; raises ``ValueError`` when it breaks the rule."""
    problem = _process_count_problem(value)
    if problem:
        raise ValueError(f"n_procs: {problem}")
    return value


def positive_number(text: str) -> float:
    """argparse type of a physical constant (``--lambda``, ``--t1-blood`` ...): a finite
    number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def efficiency(text: str) -> float:
    """argparse type of an efficiency (``--bs-efficiency-per-pulse``): a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return value


def number_or_path(text: str) -> float | str:
    """argparse type of ``--t1-tissue``: a number > 0, or anything else as a file path."""
    try:
        float(text)
    except ValueError:
        return text
    return positive_number(text)


def memory_size(text: str) -> int:
    """argparse type of ``--max-memory``: a size with its unit (``16G``, ``500MiB``), in bytes."""
    from asldro.pipelines.memory import parse_memory_size

    try:
        return parse_memory_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
