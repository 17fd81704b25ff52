"""The lint configuration (issue 10): size and duplication checks are never disabled for the
whole project, and every message that stays disabled globally says why in ``.pylintrc``."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

PYLINTRC = Path(__file__).resolve().parents[1] / ".pylintrc"
#: Disabled only where they occur, on that line, with a reason.
LOCAL_ONLY = (
    "too-many-locals",
    "too-many-instance-attributes",
    "duplicate-code",
    "too-many-branches",
    "too-many-statements",
    "too-many-return-statements",
    "too-few-public-methods",
    "invalid-name",
)


def _global_disables() -> list[str]:
    config = configparser.ConfigParser()
    config.read(PYLINTRC, encoding="utf-8")
    text = config.get("MESSAGES CONTROL", "disable", fallback="")
    return [name.strip() for name in re.split(r"[,\s]+", text) if name.strip()]


def test_size_and_duplication_checks_are_not_disabled_globally():
    disabled = _global_disables()
    assert disabled, "the configuration was not read"
    assert not set(disabled) & set(LOCAL_ONLY), sorted(set(disabled) & set(LOCAL_ONLY))


def test_every_global_disable_gives_its_reason_in_a_comment():
    comments = "\n".join(
        line.lstrip("# ").rstrip()
        for line in PYLINTRC.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    )
    for name in _global_disables():
        stated = re.search(rf"(^|[ ,]){re.escape(name)}[,:]", comments, flags=re.MULTILINE)
        assert stated, f"{name} is disabled in .pylintrc without a comment saying why"
