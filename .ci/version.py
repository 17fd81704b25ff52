#!/usr/bin/env python3
"""The ``version`` file is the one source of the version; this writes it into the files that must
state it literally (the Dockerfile's ``ARG VERSION`` default and example tag, the Singularity
recipe's header and help, the Boutiques descriptor, the README's and docs' example commands).

    python .ci/version.py            rewrite every stale mention from the version file
    python .ci/version.py --check    write nothing; exit 1 naming each stale file

Everything else reads the file at run time or build time: pyproject.toml (``dynamic =
["version"]``), ``asldro.__version__`` (and through it ``DROSoftware``, ``GeneratedBy``,
``asldro --version``, ``run.py --version``), the OCI labels (from ``ARG VERSION``, which the image
build checks against the copied file) and ``.ci/container-test.sh``. To release: edit
``version``, run this script, move CHANGELOG.md's Unreleased entries under the new version.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

VERSION = r"[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
"""A PEP 440 public version (what ``version`` may hold)."""

IMAGE_TAG = r"asldro/asldro:(?P<v>{v})"
SIF_OR_TAR = r"asldro-(?P<v>{v})\.(?:sif|tar)\b"
DRO_SOFTWARE = r'"DROSoftware": "asldro (?P<v>{v})"'
DESCRIBES = r"It describes asldro (?P<v>{v})"

MENTIONS: dict[str, tuple[str, ...]] = {
    "Dockerfile": (r"^ARG VERSION=(?P<v>{v})$", IMAGE_TAG),
    "Singularity": (IMAGE_TAG, r"^    Version (?P<v>{v})$", r"^    asldro (?P<v>{v}):", SIF_OR_TAR),
    "bids_app/descriptor.json": (r'"tool-version": "(?P<v>{v})"', IMAGE_TAG),
    "README.md": (IMAGE_TAG, SIF_OR_TAR, DRO_SOFTWARE),
    "docs/bids.md": (DESCRIBES, DRO_SOFTWARE),
    "docs/physics.md": (DESCRIBES,),
}
"""File -> the patterns whose group ``v`` must be the version (each must occur at least once)."""


def read_version(root: Path = ROOT) -> str:
    """The content of the ``version`` file (checked to be a PEP 440 public version)."""
    text = (root / "version").read_text(encoding="utf-8").strip()
    if not re.fullmatch(VERSION, text):
        raise ValueError(f"{root / 'version'}: {text!r} is not a version like 3.0.0")
    return text


def expected_text(text: str, patterns: tuple[str, ...], version: str) -> tuple[str, list[str]]:
    """``text`` with every mention set to ``version``, and the patterns that matched nothing."""
    missing = []
    for pattern in patterns:
        regex = re.compile(pattern.format(v=VERSION), flags=re.MULTILINE)
        if not regex.search(text):
            missing.append(pattern.format(v="<version>"))
            continue
        text = regex.sub(lambda m: m.group(0).replace(m.group("v"), version, 1), text)
    return text, missing


def stale_files(root: Path = ROOT) -> dict[Path, str]:
    """Each file whose mentions differ from the version file, with the text it should have.

    Raises
    ------
    ValueError
        When a file has lost one of its mentions (the pattern list needs updating).
    """
    version = read_version(root)
    out = {}
    for name, patterns in MENTIONS.items():
        path = root / name
        text = path.read_text(encoding="utf-8")
        fixed, missing = expected_text(text, patterns, version)
        if missing:
            raise ValueError(f"{path}: no mention matches {missing[0]!r} (update .ci/version.py)")
        if fixed != text:
            out[path] = fixed
    return out


def main(argv: list[str]) -> int:
    """Rewrite (or with ``--check`` list) the stale files; exit 1 when ``--check`` finds some."""
    check = argv == ["--check"]
    if argv and not check:
        print("usage: python .ci/version.py [--check]", file=sys.stderr)
        return 64
    try:
        stale = stale_files()
    except (OSError, ValueError) as err:
        print(f".ci/version.py: error: {err}", file=sys.stderr)
        return 1
    for path, text in stale.items():
        if check:
            print(
                f".ci/version.py: {path} does not state version {read_version()}", file=sys.stderr
            )
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
