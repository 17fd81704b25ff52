"""Package data (issue 17): every data file the code loads, and every other file of the packages,
is in the wheel, which is built from the sdist (``python -m build``, as ``.ci/package.sh``)."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("asldro", "bids_app")
VERSION = (ROOT / "version").read_text(encoding="utf-8").strip()
BESIDE_MODULE = re.compile(
    r"Path\(__file__\)(?:\.resolve\(\))?"
    r"(?:\.with_name\(\s*[\"']([^\"']+)[\"']\s*\)|\.parent\s*/\s*[\"']([^\"']+)[\"'])"
)
"""``Path(__file__).with_name("x.json")`` or ``Path(__file__).parent / "x.json"``."""
IN_RESOURCES = re.compile(
    r"files\(\s*[\"']([\w.]+)[\"']\s*\)\s*"
    r"(?:/\s*[\"']([^\"']+)[\"']|\.joinpath\(\s*[\"']([^\"']+)[\"']\s*\))"
)
"""``importlib.resources.files("pkg") / "x.json"`` (or ``.joinpath("x.json")``)."""


def tracked_files() -> list[str]:
    """The files git tracks (the sources the sdist is made of)."""
    done = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"git ls-files failed (not a checkout?): {done.stderr.strip()}")
    return done.stdout.splitlines()


def loaded_package_data() -> set[str]:
    """Every data file the packages' code opens by its place in the package (relative paths)."""
    found = set()
    for package in PACKAGES:
        for module in sorted((ROOT / package).rglob("*.py")):
            text = module.read_text(encoding="utf-8")
            for match in BESIDE_MODULE.finditer(text):
                name = match.group(1) or match.group(2)
                found.add((module.parent / name).relative_to(ROOT).as_posix())
            for match in IN_RESOURCES.finditer(text):
                folder = match.group(1).replace(".", "/")
                found.add(f"{folder}/{match.group(2) or match.group(3)}")
    return found


def package_files() -> set[str]:
    """Every tracked file of the packages that is not Python source."""
    return {
        name
        for name in tracked_files()
        if name.split("/")[0] in PACKAGES and not name.endswith(".py")
    }


@pytest.fixture(name="dist", scope="module")
def fixture_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from a copy of the tracked files (nothing written here)."""
    base = tmp_path_factory.mktemp("package")
    source = base / "src"
    for name in tracked_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(base / "dist"), "."],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return base / "dist"


def test_the_scan_finds_the_data_the_code_loads():
    """The scan is not empty: it finds the data files known to be read at run time."""
    loaded = loaded_package_data()
    assert {
        "asldro/bids/bv-config.json",
        "asldro/bids/fields.json",
        "asldro/groundtruth/tissues.json",
    } <= loaded
    for name in loaded:
        assert (ROOT / name).is_file(), f"{name} is loaded but does not exist"


def test_loaded_data_is_tracked():
    """A data file the code loads but git does not track would be missing from the sdist."""
    assert loaded_package_data() <= package_files()


def test_wheel_holds_every_package_file(dist):
    """The wheel (built from the sdist) has each data file the code loads and every other
    tracked file of the packages (the generated schema and defaults, the descriptor ...)."""
    wheel = dist / f"asldro-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert not loaded_package_data() - names
    assert not package_files() - names
    assert "asldro/py.typed" in names  # PEP 561: type checkers use the hints
    assert f"asldro-{VERSION}.dist-info/licenses/LICENSE" in names  # the MIT licence text
    tops = {name.split("/")[0] for name in names}
    assert tops == {*PACKAGES, f"asldro-{VERSION}.dist-info"}


def test_sdist_holds_the_build_inputs(dist):
    """The sdist has what building the wheel reads: pyproject.toml, version, README.md."""
    with tarfile.open(dist / f"asldro-{VERSION}.tar.gz") as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "version", "README.md", "LICENSE"} <= names
    assert not package_files() - names
