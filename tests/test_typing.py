"""Types (issue 17): asldro ships ``py.typed``; the mypy configuration (run by ``.ci/run`` on
``asldro/`` and ``bids_app/``) is strict on ``asldro/physics`` and ``asldro/params`` and permissive
nowhere else than for a third-party package without type information; every ``type: ignore`` in
the code names its error code and gives its reason."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
with open(ROOT / "pyproject.toml", "rb") as _file:
    PYPROJECT = tomllib.load(_file)
MYPY = PYPROJECT["tool"]["mypy"]
STRICT_PACKAGES = ("asldro.physics", "asldro.params")
STRICT_FLAGS = (
    # mypy --strict, as listed by mypy --help (warn_unused_configs, warn_redundant_casts and
    # warn_unused_ignores are global-only; the others may be set per module)
    "check_untyped_defs",
    "disallow_any_generics",
    "disallow_incomplete_defs",
    "disallow_subclassing_any",
    "disallow_untyped_calls",
    "disallow_untyped_decorators",
    "disallow_untyped_defs",
    "extra_checks",
    "no_implicit_reexport",
    "strict_equality",
    "warn_return_any",
)
GLOBAL_ONLY = ("warn_unused_configs", "warn_redundant_casts", "warn_unused_ignores")
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?(.*)$")


def _settings_for(module: str) -> dict:
    """The mypy settings that apply to ``module`` (global, then the matching overrides)."""
    settings = {k: v for k, v in MYPY.items() if k != "overrides"}
    for override in MYPY.get("overrides", []):
        patterns = override["module"]
        patterns = [patterns] if isinstance(patterns, str) else patterns
        for pattern in patterns:
            if pattern == module or (
                pattern.endswith(".*") and module.startswith(pattern[:-2] + ".")
            ):
                settings.update({k: v for k, v in override.items() if k != "module"})
    return settings


def test_py_typed_is_shipped():
    """PEP 561: the marker is in the package and in its package data (so in the wheel)."""
    assert (ROOT / "asldro" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["asldro"]


def test_mypy_checks_both_packages():
    assert MYPY["files"] == ["asldro", "bids_app"]
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^stage mypy; \.venv/bin/mypy\b", run, flags=re.MULTILINE)


def test_physics_and_params_are_checked_strictly():
    for flag in GLOBAL_ONLY:
        assert MYPY.get(flag) is True, flag
    for package in STRICT_PACKAGES:
        for module in (package, f"{package}.catalog", f"{package}.gkm", f"{package}.anything"):
            settings = _settings_for(module)
            missing = [flag for flag in STRICT_FLAGS if settings.get(flag) is not True]
            assert not missing, (module, missing)


def test_nothing_of_the_project_is_exempt():
    """No module's errors are ignored; only third-party packages may lack type information."""
    assert not MYPY.get("ignore_errors") and not MYPY.get("ignore_missing_imports")
    assert "disable_error_code" not in MYPY
    for override in MYPY.get("overrides", []):
        modules = override["module"]
        modules = [modules] if isinstance(modules, str) else modules
        assert not override.get("ignore_errors"), modules
        assert "disable_error_code" not in override, modules
        if override.get("ignore_missing_imports"):
            assert not any(m.split(".")[0] in ("asldro", "bids_app") for m in modules), modules


def test_every_type_ignore_names_its_code_and_reason():
    """``# type: ignore[code]`` with a reason after it or in a comment on the line above."""
    bare = []
    for path in sorted([*(ROOT / "asldro").rglob("*.py"), *(ROOT / "bids_app").rglob("*.py")]):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = IGNORE.search(line)
            if not match:
                continue
            reason_after = match.group(2).strip().startswith("#")
            reason_above = number > 0 and lines[number - 1].strip().startswith("#")
            if not match.group(1) or not (reason_after or reason_above):
                bare.append(f"{path.relative_to(ROOT)}:{number + 1}: {line.strip()}")
    assert not bare, "\n".join(bare)
