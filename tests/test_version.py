"""One version (issue 17): the ``version`` file, a major release after ASLDRO 2.x, stated the same
everywhere (package metadata, ``--version``, ``DROSoftware``, ``GeneratedBy``, the container
recipes, the Boutiques descriptor, the README and docs), and the CHANGELOG's newest release."""

from __future__ import annotations

import importlib.metadata
import json
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.version import Version

import asldro
from asldro.cli import main as asldro_main
from tests.e2e.conftest import document, small

ROOT = Path(__file__).resolve().parents[1]
VERSION = (ROOT / "version").read_text(encoding="utf-8").strip()
TOOL = runpy.run_path(str(ROOT / ".ci" / "version.py"))
KEEP_A_CHANGELOG_SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_version_succeeds_asldro_2():
    """``pip install -U asldro`` must prefer this project to ASLDRO 2.2.0 on the package index:
    a major version above 2 (its output format changed to BIDS)."""
    assert Version(VERSION) > Version("2.2.0")
    assert Version(VERSION).major >= 3
    assert Version(VERSION).public == VERSION


def test_every_literal_mention_states_the_version_file(capsys):
    """The Dockerfile ARG default, Singularity header, descriptor, README and docs agree."""
    status = TOOL["main"](["--check"])
    assert status == 0, capsys.readouterr().err


def test_version_tool_rewrites_every_stale_mention(tmp_path):
    """Changing ``version`` and running the tool updates each file (and nothing else)."""
    for name in TOOL["MENTIONS"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "version").write_text("9.8.7rc1\n", encoding="utf-8")
    stale = TOOL["stale_files"](tmp_path)
    assert sorted(stale) == sorted(tmp_path / name for name in TOOL["MENTIONS"])
    for path, text in stale.items():
        assert "9.8.7rc1" in text
        assert f"asldro/asldro:{VERSION}" not in text, path
        before = (ROOT / path.relative_to(tmp_path)).read_text(encoding="utf-8")
        # only version strings changed: each changed line is the old one with the new version
        new_lines, old_lines = text.splitlines(), before.splitlines()
        assert len(new_lines) == len(old_lines)
        for new, old in zip(new_lines, old_lines):
            if new != old:
                assert new.replace("9.8.7rc1", "V") == old.replace(VERSION, "V"), (path, new)


def test_package_metadata_and_commands_state_the_version():
    """``__version__``, the installed metadata, ``asldro --version`` and ``run.py --version``."""
    assert asldro.__version__ == VERSION
    assert importlib.metadata.version("asldro") == VERSION, "stale install: pip install -e ."
    cli = subprocess.run(
        [sys.executable, "-m", "asldro.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.stdout.strip() == f"asldro {VERSION}", cli.stdout + cli.stderr
    app = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert app.stdout.strip() == VERSION, app.stdout + app.stderr


def test_source_tree_version_wins_over_stale_install_metadata(monkeypatch):
    """An editable install made before ``version`` changed keeps the old version in its metadata;
    running from the source tree, the file is what ``__version__`` (so ``DROSoftware``) says."""
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1")
    assert asldro._read_version() == VERSION  # pylint: disable=protected-access  # the rule


def test_generated_dataset_states_the_version(tmp_path):
    """``DROSoftware`` in every sidecar and ``GeneratedBy`` name the version file's version."""
    params = tmp_path / "params.json"
    params.write_text(json.dumps(document(small("asl"), small("structural"))), encoding="utf-8")
    out = tmp_path / "out"
    assert asldro_main(["generate", "--params", str(params), "--skip-validation", str(out)]) == 0
    sidecars = sorted(out.glob("sub-01/*/*.json"))
    assert len(sidecars) >= 2
    for sidecar in sidecars:
        assert json.loads(sidecar.read_text())["DROSoftware"] == f"asldro {VERSION}", sidecar
    description = json.loads((out / "dataset_description.json").read_text())
    assert [g["Version"] for g in description["GeneratedBy"] if g["Name"] == "asldro"] == [VERSION]


def _changelog_headings() -> list[str]:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^(##+) (.+)$", text, flags=re.MULTILINE)


def test_changelog_newest_release_is_the_version():
    """keep-a-changelog: Unreleased first, then releases newest first, the newest the version."""
    releases = [title for level, title in _changelog_headings() if level == "##"]
    assert releases[0] == "[Unreleased]"
    dated = [re.fullmatch(r"\[([^\]]+)\] - (\d{4}-\d{2}-\d{2})", title) for title in releases[1:]]
    assert all(dated), releases
    versions = [Version(match.group(1)) for match in dated]
    assert versions[0] == Version(VERSION)
    assert versions == sorted(versions, reverse=True)


def test_changelog_uses_keep_a_changelog_sections():
    """Only the section names keep-a-changelog defines (the others do not sort releases)."""
    sections = {title for level, title in _changelog_headings() if level == "###"}
    assert sections and sections <= KEEP_A_CHANGELOG_SECTIONS, sections
