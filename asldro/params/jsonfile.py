"""Strict reading of the JSON files a user gives (parameter files, ground-truth JSON).

Python's ``json`` lets the last of two equal keys win silently, gives a ``RecursionError`` for
deeply nested input and refuses a UTF-8 byte-order mark. Here:

* a **duplicate key** in any object is an error naming the key and the lines of both
  occurrences;
* nesting deeper than :data:`MAX_DEPTH` objects/arrays is an error (no ``RecursionError``);
* a leading UTF-8 **BOM** (written by common Windows editors) is accepted;
* every failure is a :class:`JsonFileError` whose message is one line starting with the path.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from pathlib import Path
from typing import Any, Callable

MAX_DEPTH = 100
"""Deepest nesting of objects and arrays accepted (an ASLDRO parameter file uses 4)."""

_WHITESPACE: Callable[[str, int], re.Match[str]]  # matches the empty string: never None
# The pure-Python decoder's internals used below exist at run time but typeshed does not
# declare them (attr-defined).
_WHITESPACE = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]


class JsonFileError(ValueError):
    """A JSON file cannot be read or parsed; the message is one line starting with the path."""


class _TooDeep(Exception):
    """Raised inside the decoder when the nesting exceeds :data:`MAX_DEPTH`."""


class _DuplicateKey(Exception):
    """Raised inside the decoder: ``key`` repeated at ``position`` (first at ``first``)."""

    def __init__(self, key: str, first: int, position: int) -> None:
        super().__init__(key)
        self.key, self.first, self.position = key, first, position


def _skip(text: str, position: int) -> int:
    return _WHITESPACE(text, position).end()


def _key_positions(
    text: str, start: int, scan_once: Callable[[str, int], tuple[Any, int]], strict: bool
) -> list[tuple[str, int]]:
    """(key, offset of its opening quote) of the already-validated object opened at ``start-1``."""
    keys: list[tuple[str, int]] = []
    position = _skip(text, start)
    if text[position] == "}":
        return keys
    while True:
        # json's internals are not in typeshed (see _WHITESPACE)
        key, after = json.decoder.scanstring(  # type: ignore[attr-defined]
            text, position + 1, strict
        )
        keys.append((key, position))
        position = _skip(text, _skip(text, after) + 1)  # past the colon
        _, position = scan_once(text, position)
        position = _skip(text, position)
        if text[position] == "}":
            return keys
        position = _skip(text, position + 1)  # past the comma


class _StrictDecoder(json.JSONDecoder):
    """A decoder that tracks the nesting depth and refuses duplicate keys (pure-Python scanner,
    which calls ``parse_object`` and ``parse_array`` for every object and array)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parse_object = self._parse_object
        self.parse_array = self._parse_array
        # json's internals are not in typeshed (see _WHITESPACE)
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep()

    def _parse_object(
        self,
        s_and_end: tuple[str, int],
        strict: bool,
        scan_once: Callable[[str, int], tuple[Any, int]],
        object_hook: Callable[[dict[str, Any]], Any] | None,
        object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None,
        memo: dict[str, str] | None = None,
    ) -> tuple[Any, int]:
        text, start = s_and_end
        self._enter()
        try:
            pairs: list[tuple[str, Any]]
            end: int
            # json's internals are not in typeshed (see _WHITESPACE)
            pairs, end = json.decoder.JSONObject(  # type: ignore[attr-defined]
                s_and_end, strict, scan_once, None, list, memo
            )  # object_pairs_hook=list keeps every pair, duplicates included
        finally:
            self.depth -= 1
        if len({key for key, _ in pairs}) != len(pairs):
            first: dict[str, int] = {}
            for key, position in _key_positions(text, start, scan_once, strict):
                if key in first:
                    raise _DuplicateKey(key, first[key], position)
                first[key] = position
        if object_pairs_hook is not None:
            return object_pairs_hook(pairs), end
        result = dict(pairs)
        return (object_hook(result) if object_hook is not None else result), end

    def _parse_array(
        self, s_and_end: tuple[str, int], scan_once: Callable[[str, int], tuple[Any, int]]
    ) -> tuple[list[Any], int]:
        self._enter()
        try:
            # json's internals are not in typeshed (see _WHITESPACE)
            parsed: tuple[list[Any], int] = json.decoder.JSONArray(  # type: ignore[attr-defined]
                s_and_end, scan_once
            )
            return parsed
        finally:
            self.depth -= 1


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def parse_json_text(text: str) -> Any:
    """Parse JSON text strictly (see the module docstring); raise :class:`JsonFileError` with
    a message without the path (``"duplicate key ..."``, ``"invalid JSON at line ..."``)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return _StrictDecoder().decode(text)
    except json.JSONDecodeError as err:
        raise JsonFileError(
            f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    except _DuplicateKey as err:
        raise JsonFileError(
            f"duplicate key {json.dumps(err.key)} at line {_line(text, err.position)} "
            f"(first at line {_line(text, err.first)}); each key may appear once per object"
        ) from None
    except (_TooDeep, RecursionError):
        raise JsonFileError(
            f"JSON nested more than {MAX_DEPTH} levels deep (objects and arrays)"
        ) from None


def read_json_file(path: Path, kind: str) -> Any:
    """The parsed content of the JSON file ``path`` (``kind`` names it in messages, e.g.
    ``"parameter file"``); every failure is one :class:`JsonFileError` line naming the path."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise JsonFileError(f"{path}: {kind} not found") from None
    except IsADirectoryError:
        raise JsonFileError(f"{path}: is a directory, not a {kind}") from None
    except OSError as err:
        raise JsonFileError(f"{path}: cannot read ({err.strerror or err})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise JsonFileError(f"{path}: not UTF-8 text ({err.reason})") from None
    try:
        return parse_json_text(text)
    except JsonFileError as err:
        raise JsonFileError(f"{path}: {err}") from None
