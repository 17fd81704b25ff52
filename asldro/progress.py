"""Progress of a long run on stderr (issue 14; README "Command line"): a bar redrawn in place
(carriage return) when stderr is a terminal, else one line per participant
(``wrote sub-01 (3/20)``), nothing with ``--quiet``. Both front doors (``asldro generate``,
``run.py participant``) use :class:`Progress`; stdout keeps the results only.
"""

from __future__ import annotations

import sys
from typing import TextIO

BAR_WIDTH = 30


class Progress:
    """Participants done out of ``total``, on ``stream`` (default: ``sys.stderr``).

    Call :meth:`participant_done` as each participant is complete (it is the ``on_written``
    callback of :func:`asldro.api.generate_participants`), :meth:`volumes` for the volumes of
    the participant being written when they are known, and :meth:`close` at the end (the bar's
    line is ended; usable as a context manager)."""

    def __init__(self, total: int, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.total = max(int(total), 0)
        self.done = 0
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.on_terminal = not quiet and _is_terminal(self.stream)
        self._drawn = False
        self._detail = ""  # the bar is first drawn at the first event (not before an error)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def participant_done(self, label: str) -> None:
        """Participant ``label`` is complete: redraw the bar or print ``wrote sub-<label>
        (done/total)``."""
        self.done += 1
        self._detail = f"sub-{label}"
        if self.quiet:
            return
        if self.on_terminal:
            self._draw()
        else:
            print(f"wrote sub-{label} ({self.done}/{self.total})", file=self.stream, flush=True)

    def volumes(self, done: int, total: int) -> None:
        """``done`` of the ``total`` volumes of the participant being written (shown on the bar
        only: a log gets one line per participant)."""
        if self.on_terminal:
            self._detail = f"volume {done}/{total}"
            self._draw()

    def close(self) -> None:
        """End the bar's line (nothing to do for a log or when quiet)."""
        if self.on_terminal and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _draw(self) -> None:
        filled = BAR_WIDTH * self.done // self.total if self.total else BAR_WIDTH
        drawn = "#" * filled + "." * (BAR_WIDTH - filled)
        text = f"\rparticipants [{drawn}] {self.done}/{self.total} {self._detail}"
        self.stream.write(text.ljust(BAR_WIDTH + 40))
        self.stream.flush()
        self._drawn = True


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
