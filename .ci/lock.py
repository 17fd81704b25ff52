#!/usr/bin/env python3
"""Write the locked requirements from pyproject.toml (issue 17): the one command that refreshes
them is

    .venv/bin/pip install -e '.[lock]' && .venv/bin/python .ci/lock.py

* ``.ci/requirements/ci.txt``: every requirement of the project and of its extras (but ``lock``),
  the build backend (``[build-system] requires``) and pip, each pinned with its sha256 hashes;
  ``.ci/run`` installs it with ``pip install --require-hashes --no-deps``.
* ``.ci/requirements/container.txt``: the same pins restricted to what the image needs (the
  dependencies, the ``validate`` and ``plots`` extras, the build backend and pip); the
  Dockerfile installs it the same way. It is resolved with ``ci.txt`` as constraints, so the image runs exactly the
  versions CI tested.
* ``.ci/requirements/constraints-min.txt``: the lower bound of every requirement of the
  dependencies, the ``validate`` and ``plots`` extras and the test runner, as ``name==bound``:
  the oldest versions the library allows, which the lower-bounds job (``.ci/lower-bounds.sh``)
  installs and tests.

The locks are for CPython 3.11 on Linux x86-64 (the image's Debian bookworm Python and CI's),
resolved by uv wherever this runs; each pin lists the hashes of all its files (every platform), so
a build on another architecture checks the same hashes. The package index is pip's / uv's own
configuration: nothing here names one. ``--check`` writes nothing and needs no network: exit 1
when ``constraints-min.txt`` is not what pyproject.toml makes (the locks are checked against
pyproject.toml by ``tests/test_locks.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]  # the same API under its old name

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / ".ci" / "requirements"
CI_LOCK = HERE / "ci.txt"
CONTAINER_LOCK = HERE / "container.txt"
MIN_CONSTRAINTS = HERE / "constraints-min.txt"
COMMAND = "python .ci/lock.py"
PYTHON_VERSION = "3.11"
PLATFORM = "x86_64-manylinux_2_28"
CONTAINER_EXTRAS = ("validate", "plots")
NOT_LOCKED_EXTRAS = ("lock",)
MIN_TEST_RUNNER = "pytest"
"""The one requirement of the ``test`` extra that the lower-bounds job also takes at its bound."""


def pyproject(root: Path = ROOT) -> dict:
    """The parsed pyproject.toml."""
    with open(root / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def build_requirements(project: dict) -> list[str]:
    """The build backend's requirements and pip (installed from the locks, never unpinned)."""
    return [*project["build-system"]["requires"], "pip"]


def lower_bound(requirement: Requirement) -> str | None:
    """The version of the requirement's ``>=`` specifier (None if it has none)."""
    bounds = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return bounds[0] if len(bounds) == 1 else None


def min_requirements(project: dict) -> list[Requirement]:
    """The requirements whose lower bounds the lower-bounds job installs."""
    table = project["project"]
    texts = list(table["dependencies"])
    for extra in CONTAINER_EXTRAS:
        texts += table["optional-dependencies"][extra]
    texts += [
        text
        for text in table["optional-dependencies"]["test"]
        if Requirement(text).name == MIN_TEST_RUNNER
    ]
    unique: dict[str, Requirement] = {}
    for text in texts:
        requirement = Requirement(text)
        unique.setdefault(requirement.name.lower(), requirement)
    return list(unique.values())


def min_constraints_text(project: dict) -> str:
    """The content of ``constraints-min.txt``.

    Raises
    ------
    ValueError
        When a requirement has no single ``>=`` lower bound.
    """
    lines = [
        f"# The lower bounds of pyproject.toml, written by {COMMAND} (do not edit):",
        "# the oldest versions asldro allows, installed by the lower-bounds job of .ci/run with",
        "# pip install -c .ci/requirements/constraints-min.txt -e '.[plots]' pytest",
    ]
    for requirement in sorted(min_requirements(project), key=lambda r: r.name.lower()):
        bound = lower_bound(requirement)
        if bound is None:
            raise ValueError(f"pyproject.toml: {requirement} has no single '>=' lower bound")
        lines.append(f"{requirement.name}=={bound}")
    return "\n".join(lines) + "\n"


def _compile(output: Path, extras: list[str], stdin: str, constraints: Path | None) -> None:
    command = [
        sys.executable,
        "-m",
        "uv",
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--python-version",
        PYTHON_VERSION,
        "--python-platform",
        PLATFORM,
        "--custom-compile-command",
        COMMAND,
        "--output-file",
        str(output.relative_to(ROOT)),
        "pyproject.toml",
        "-",
    ]
    for extra in extras:
        command += ["--extra", extra]
    if constraints is not None:
        command += ["--constraints", str(constraints.relative_to(ROOT))]
    subprocess.run(command, input=stdin, text=True, check=True, cwd=ROOT)


def write_locks(project: dict) -> None:
    """Resolve and write ``ci.txt``, then ``container.txt`` within its pins."""
    extras = [
        name
        for name in project["project"]["optional-dependencies"]
        if name not in NOT_LOCKED_EXTRAS
    ]
    build = "\n".join(build_requirements(project)) + "\n"
    _compile(CI_LOCK, extras, build, None)
    _compile(CONTAINER_LOCK, list(CONTAINER_EXTRAS), build, CI_LOCK)


def main(argv: list[str]) -> int:
    """Write the locks and the lower bounds (``--check``: compare the lower bounds only)."""
    project = pyproject()
    try:
        expected = min_constraints_text(project)
    except ValueError as err:
        print(f".ci/lock.py: error: {err}", file=sys.stderr)
        return 1
    if argv == ["--check"]:
        current = MIN_CONSTRAINTS.read_text(encoding="utf-8") if MIN_CONSTRAINTS.exists() else ""
        if current != expected:
            print(f".ci/lock.py: {MIN_CONSTRAINTS} is stale", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: python .ci/lock.py [--check]", file=sys.stderr)
        return 64
    MIN_CONSTRAINTS.write_text(expected, encoding="utf-8")
    try:
        write_locks(project)
    except (OSError, subprocess.CalledProcessError) as err:
        print(f".ci/lock.py: error: uv failed ({err}); pip install -e '.[lock]'", file=sys.stderr)
        return 1
    for path in (CI_LOCK, CONTAINER_LOCK, MIN_CONSTRAINTS):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
