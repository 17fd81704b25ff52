"""The BIDS label and suffix formats, stated once (BIDS schema ``objects.formats``: a label is
``[0-9a-zA-Z+]+``, a suffix alphanumeric).

Nothing heavy is imported here: the front doors check participant labels before the numeric
stack is loaded.
"""

from __future__ import annotations

import re

ALPHANUMERIC = "0-9a-zA-Z"
"""The characters of a BIDS suffix (a regular-expression character class body)."""
LABEL_CHARACTERS = ALPHANUMERIC + "+"
"""The characters of a BIDS label (entity values, participant labels)."""
SUBJECT_PREFIX = "sub-"

_LABEL = re.compile(f"[{LABEL_CHARACTERS}]+")
_SUFFIX = re.compile(f"[{ALPHANUMERIC}]+")
_NOT_ALPHANUMERIC = re.compile(f"[^{ALPHANUMERIC}]")


def is_label(text: object) -> bool:
    """True when ``text`` is a whole BIDS label (letters, digits and ``+``; nothing else, not
    even a trailing newline)."""
    return isinstance(text, str) and _LABEL.fullmatch(text) is not None


def is_suffix(text: object) -> bool:
    """True when ``text`` is a BIDS suffix (letters and digits only)."""
    return isinstance(text, str) and _SUFFIX.fullmatch(text) is not None


def alphanumeric(text: str) -> str:
    """``text`` with every character that may not be in a suffix removed."""
    return _NOT_ALPHANUMERIC.sub("", text)


def subject_label(folder_name: str) -> str | None:
    """The label of a ``sub-<label>`` folder name, or None when it is not one."""
    if not folder_name.startswith(SUBJECT_PREFIX):
        return None
    label = folder_name[len(SUBJECT_PREFIX) :]
    return label if is_label(label) else None
