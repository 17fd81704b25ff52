"""Locked dependencies (issue 17): ``.ci/requirements/container.txt`` (the image) and
``.ci/requirements/ci.txt`` (CI) pin, with hashes, versions that satisfy every requirement of
pyproject.toml; the library keeps ranges; ``.ci/requirements/constraints-min.txt`` holds the
lower bounds. Refresh with ``python .ci/lock.py`` (docs/developing.md)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK_TOOL = runpy.run_path(str(ROOT / ".ci" / "lock.py"))
PROJECT = LOCK_TOOL["pyproject"]()
CONTAINER = ROOT / ".ci" / "requirements" / "container.txt"
CI = ROOT / ".ci" / "requirements" / "ci.txt"
MIN = ROOT / ".ci" / "requirements" / "constraints-min.txt"
TARGET = {
    **default_environment(),
    "python_version": "3.11",
    "python_full_version": "3.11.2",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}
"""The environment the locks are for (.ci/lock.py: CPython 3.11, Linux x86-64)."""


def parse_lock(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """``{name: (version, sha256 hashes)}`` of a hashed requirements file."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line.split(" --hash=")[0].strip())
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{path}: {line}"
        hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})\b", line))
        assert hashes, f"{path}: {requirement.name} has no sha256 hash"
        pins[canonicalize_name(requirement.name)] = (specifiers[0].version, hashes)
    return pins


def requirements(project: dict, extras: tuple[str, ...]) -> list[tuple[Requirement, str]]:
    """The requirements a lock must satisfy, each with the extra it comes from ("" for none):
    the dependencies, those of ``extras`` and the build backend's."""
    table = project["project"]
    found = [(Requirement(text), "") for text in table["dependencies"]]
    for extra in extras:
        found += [(Requirement(text), extra) for text in table["optional-dependencies"][extra]]
    found += [(Requirement(text), "") for text in LOCK_TOOL["build_requirements"](project)]
    return found


def unsatisfied(project: dict, extras: tuple[str, ...], pins: dict) -> list[str]:
    """Each requirement (whose marker holds on the target) that the pins do not satisfy."""
    problems = []
    for requirement, extra in requirements(project, extras):
        if requirement.marker and not requirement.marker.evaluate({**TARGET, "extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement}: not in the lock")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{requirement}: the lock pins {pins[name][0]}")
    return problems


def ci_extras(project: dict) -> tuple[str, ...]:
    """Every extra but those the CI lock leaves out (``lock``)."""
    return tuple(
        name
        for name in project["project"]["optional-dependencies"]
        if name not in LOCK_TOOL["NOT_LOCKED_EXTRAS"]
    )


LOCKS = {
    "container": (CONTAINER, LOCK_TOOL["CONTAINER_EXTRAS"]),
    "ci": (CI, ci_extras(PROJECT)),
}


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_lock_satisfies_pyproject(name):
    """Every requirement of pyproject.toml for this lock is pinned within its range (run
    ``python .ci/lock.py`` after changing pyproject.toml)."""
    path, extras = LOCKS[name]
    assert not unsatisfied(PROJECT, extras, parse_lock(path))


def test_a_requirement_the_lock_misses_is_reported():
    """The check above can fail: a raised bound and a new dependency are both found."""
    changed = {
        **PROJECT,
        "project": {
            **PROJECT["project"],
            "dependencies": [
                "numpy>=99",
                "a-package-asldro-never-needed>=1",
                *PROJECT["project"]["dependencies"][1:],
            ],
        },
    }
    problems = unsatisfied(changed, (), parse_lock(CONTAINER))
    assert len(problems) == 2
    assert problems[0].startswith("numpy>=99: the lock pins ")
    assert problems[1] == "a-package-asldro-never-needed>=1: not in the lock"


def test_the_image_runs_the_versions_ci_tests():
    """Every pin of the container lock is CI's (same version, same hashes)."""
    container, ci = parse_lock(CONTAINER), parse_lock(CI)
    assert {name: pin for name, pin in container.items() if ci.get(name) != pin} == {}
    for tool in ("pytest", "black", "pylint"):
        assert tool not in container and tool in ci


def test_locks_are_generated_and_name_no_index():
    """Written by the documented command; the index is the installer's configuration."""
    for path in (CONTAINER, CI):
        text = path.read_text(encoding="utf-8")
        assert text.startswith(
            "# This file was autogenerated by uv via the following command:\n"
            "#    python .ci/lock.py\n"
        ), path
        assert not re.search(r"--(extra-)?index-url|--find-links|--trusted-host|://", text)
    for path in (ROOT / "pyproject.toml", ROOT / "Dockerfile", ROOT / ".ci" / "run"):
        assert "://" not in path.read_text(encoding="utf-8"), path


def test_the_library_keeps_ranges():
    """pyproject.toml pins nothing: every requirement is a range with one lower bound."""
    table = PROJECT["project"]
    texts = list(table["dependencies"]) + [
        text for extra in table["optional-dependencies"].values() for text in extra
    ]
    for text in texts:
        requirement = Requirement(text)
        operators = {spec.operator for spec in requirement.specifier}
        assert not operators & {"==", "===", "~="}, text
        assert LOCK_TOOL["lower_bound"](requirement) is not None, text


def test_min_constraints_are_the_lower_bounds():
    """constraints-min.txt pins each runtime requirement (and the test runner) at its bound."""
    lines = [
        line for line in MIN.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ]
    pinned = dict(line.split("==") for line in lines)
    table = PROJECT["project"]
    expected = {}
    for text in [
        *table["dependencies"],
        *table["optional-dependencies"]["validate"],
        *table["optional-dependencies"]["plots"],
        next(t for t in table["optional-dependencies"]["test"] if t.startswith("pytest")),
    ]:
        requirement = Requirement(text)
        bounds = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        expected[requirement.name] = bounds[0]
    assert pinned == expected
    assert all(Version(version) for version in pinned.values())
    assert LOCK_TOOL["main"](["--check"]) == 0


IN_IMAGE = "/opt/asldro/requirements/container.txt"


@pytest.mark.parametrize(
    "path, commands",
    [
        (
            "Dockerfile",
            (
                f"COPY .ci/requirements/container.txt {IN_IMAGE}",
                f"pip install --no-cache-dir --require-hashes --no-deps -r {IN_IMAGE}",
            ),
        ),
        (".ci/run", ("pip install -q --require-hashes --no-deps -r .ci/requirements/ci.txt",)),
    ],
)
def test_installs_use_the_lock_with_hashes(path, commands):
    """The image and CI install the lock with --require-hashes, then the project --no-deps."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / path).read_text(encoding="utf-8"))
    for command in commands:
        assert command in text
    assert re.search(r"pip install [^&\n]*--no-deps --no-build-isolation", text)
    assert "pip check" in text
    if path == "Dockerfile":
        assert "!.ci/requirements/container.txt" in (ROOT / ".dockerignore").read_text()
