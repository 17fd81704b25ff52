"""The small helpers behind the messages: suggestions, value display, one-value checks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from asldro.params.rules import INVALID, check, show, suggest


@pytest.mark.parametrize(
    "word, options, expected",
    [
        ("snr", ["desired_snr", "random_seed"], "desired_snr"),  # substring
        ("echo_tme", ["echo_time", "repetition_time"], "echo_time"),  # difflib
        ("Echo_Time", ["echo_time"], "echo_time"),  # case
        ("seed", ["desired_snr", "random_seed"], "random_seed"),
        ("zz", ["echo_time", "label_type"], None),
    ],
)
def test_suggest(word: str, options: list[str], expected: str | None) -> None:
    """The closest valid name for a typo, or None when nothing is close."""
    assert suggest(word, options) == expected


def test_show_is_json_and_short() -> None:
    """Values appear as JSON (true, "x", null), long ones cut to one short piece."""
    assert show(True) == "true"
    assert show("x") == '"x"'
    assert show(None) == "null"
    long = show(list(range(100)))
    assert len(long) == 60 and long.endswith("...")


def test_check_number_rules() -> None:
    """Numbers: ints to float, booleans and infinities rejected, bounds enforced."""
    errors: list[str] = []
    rule = {"type": "number", "minimum": 0, "maximum": 1}
    assert check(1, rule, "p", errors) == 1.0 and isinstance(check(1, rule, "p", errors), float)
    assert check(True, rule, "p", errors) is INVALID
    assert check(float("inf"), rule, "p", errors) is INVALID
    assert check(2, rule, "p", errors) is INVALID
    assert errors == [
        "p: expected a number, got true",
        "p: expected a number, got Infinity",
        "p: 2 must be in [0, 1]",
    ]


def test_check_follows_refs_to_defs() -> None:
    """A $ref into schema.json $defs is followed (the acq_matrix rule)."""
    errors: list[str] = []
    assert check([1, 2, 3], {"$ref": "#/$defs/acq_matrix"}, "m", errors) == [1, 2, 3]
    assert check([1, 2, -3], {"$ref": "#/$defs/acq_matrix"}, "m", errors) is INVALID
    assert errors == ["m[2]: -3 must be > 0"]


def test_import_stays_light() -> None:
    """Importing asldro.params pulls in neither nilearn, scipy, numpy nor jsonschema."""
    code = (
        "import sys, asldro.params; "
        "print(sorted(m for m in ('nilearn', 'scipy', 'numpy', 'jsonschema', 'bids') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
