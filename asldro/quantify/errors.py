"""The quantifier's error: a dataset it cannot quantify (docs/quantify.md §6)."""

from __future__ import annotations

from asldro.exit_codes import ExitCode, StatusError


class QuantifyError(StatusError):
    """The dataset cannot be quantified as it is (a missing or inconsistent file or sidecar
    field, an M0 that is absent, an unsupported technique): exit 65, one line naming the file,
    the field and the rule."""

    exit_status = ExitCode.DATA
