"""Reading JSON files strictly: duplicate keys, deep nesting, a UTF-8 BOM (issue 9 items 7, 13, 17).

The parameter loader and the ground-truth reader share this reader; each case is checked
through ``load_params`` (the public entry point) and the ground-truth JSON in
``tests/groundtruth/test_io.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asldro.params import ParamError, load_params

from .conftest import BUILTIN, asl, document

DUPLICATE_SNR = """{
  "global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},
  "image_series": [
    {"series_type": "asl",
     "series_parameters": {
       "desired_snr": 10,
       "desired_snr": 100
     }}
  ]
}
"""


def _write(tmp_path: Path, text: str, name: str = "params.json", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_duplicate_key_is_rejected_naming_key_and_line(tmp_path: Path) -> None:
    """The last value does not silently win: the key and the line of its repetition are named."""
    path = _write(tmp_path, DUPLICATE_SNR)
    with pytest.raises(ParamError) as info:
        load_params(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert 'duplicate key "desired_snr" at line 7' in message
    assert "first at line 6" in message
    assert "\n" not in message


def test_same_key_in_sibling_objects_is_fine(tmp_path: Path) -> None:
    """``scale`` under two quantities is not a duplicate (keys are unique per object)."""
    doc = document(asl(), ground_truth_modulate={"t1": {"scale": 1.1}, "t2": {"scale": 0.9}})
    params = load_params(_write(tmp_path, json.dumps(doc, indent=2)))
    assert params.global_config.ground_truth_modulate["t2"].scale == 0.9


def test_duplicate_top_level_key_is_rejected(tmp_path: Path) -> None:
    """A repeated top-level key is named with its line too."""
    text = '{"global_configuration": {"ground_truth": "%s"},\n "image_series": [],\n "image_series": []}'
    with pytest.raises(ParamError, match=r'duplicate key "image_series" at line 3'):
        load_params(_write(tmp_path, text % BUILTIN))


def test_duplicate_key_in_a_list_item_names_its_line(tmp_path: Path) -> None:
    """Objects inside arrays are checked as well."""
    text = (
        '{"global_configuration": {"ground_truth": "%s"},\n'
        ' "image_series": [{"series_type": "asl"},\n'
        '   {"series_type": "structural",\n'
        '    "series_type": "asl"}]}'
    ) % BUILTIN
    with pytest.raises(ParamError, match=r'duplicate key "series_type" at line 4'):
        load_params(_write(tmp_path, text))


def test_deeply_nested_json_is_a_param_error_naming_the_file(tmp_path: Path) -> None:
    """200 000 nested arrays: a ParamError naming the file, not a RecursionError."""
    depth = 200_000
    path = _write(tmp_path, "[" * depth + "]" * depth, name="deep.json")
    with pytest.raises(ParamError) as info:
        load_params(path)
    assert str(info.value).startswith(f"{path}: ")
    assert "nested" in str(info.value)


def test_nesting_limit_message_names_the_limit(tmp_path: Path) -> None:
    """A file just past the limit is refused with the limit in the message."""
    path = _write(tmp_path, '{"a": ' * 150 + "1" + "}" * 150, name="deep.json")
    with pytest.raises(ParamError, match=r"nested more than 100 levels deep"):
        load_params(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """A parameter file saved with a byte-order mark (Windows editors) loads as without it."""
    doc = document(asl(desired_snr=42))
    with_bom = load_params(_write(tmp_path, json.dumps(doc), name="bom.json", bom=True))
    without = load_params(_write(tmp_path, json.dumps(doc), name="plain.json"))
    assert with_bom.series == without.series
    assert with_bom.series[0].desired_snr == 42


def test_invalid_json_still_names_line_and_column(tmp_path: Path) -> None:
    """Syntax errors keep their one-line message with line and column."""
    path = _write(tmp_path, '{\n  "global_configuration": ,\n}')
    with pytest.raises(ParamError, match=r"invalid JSON at line 2 column 27"):
        load_params(path)
