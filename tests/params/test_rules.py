"""The small helpers behind the messages: suggestions, value display, paths, bounds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from asldro.params.rules import bounds_text, join, quantity_rule, show, suggest, unknown_key_message


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


def test_join_paths() -> None:
    """Keys join with dots, indices with brackets, an empty key shows as [""]."""
    assert join("", "image_series") == "image_series"
    assert join("image_series", 0) == "image_series[0]"
    assert join("a", "b") == "a.b"
    assert join("a", "") == 'a[""]'
    assert unknown_key_message("a", "", ["b"]) == 'a[""]: unknown key (allowed: b)'


def test_bounds_text() -> None:
    """Closed and open intervals and one-sided bounds in words."""
    assert bounds_text({"minimum": 0, "maximum": 1}) == "in [0, 1]"
    assert bounds_text({"exclusiveMinimum": 0, "maximum": 100}) == "in (0, 100]"
    assert bounds_text({"minimum": 0}) == ">= 0"
    assert bounds_text({"exclusiveMaximum": 3}) == "< 3"
    assert bounds_text({}) is None


def test_quantity_rules_come_from_the_catalog() -> None:
    """A known quantity has its range, an extra any finite number."""
    assert quantity_rule("m0") == {"type": "number", "minimum": 0, "maximum": 1e12}
    assert quantity_rule("my_extra") == {"type": "number"}


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
