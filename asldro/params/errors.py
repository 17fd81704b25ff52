"""The one error type of the parameter layer (docs/physics.md §10.2 D13)."""

from __future__ import annotations

from typing import Iterable


class ParamError(ValueError):
    """A parameter file is invalid; every problem found is listed in ``errors``.

    ``str(err)`` is one line: the message itself when there is one problem, otherwise
    ``"<n> problems: <msg1>; <msg2>; ..."``. Each message names the JSON path, the value and
    the rule that failed.
    """

    def __init__(self, errors: str | Iterable[str]) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        if not self.errors:
            raise ValueError("ParamError needs at least one message")
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        lines = [msg.replace("\r", " ").replace("\n", " ") for msg in self.errors]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems: " + "; ".join(lines)

    def __str__(self) -> str:
        return self._one_line()
