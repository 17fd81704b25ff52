"""Byte-identity of generated datasets across a refactor.

``record MANIFEST`` generates the default dataset and every case of ``tests/e2e/test_generate.py``
(no validation: the validators' reports are not part of the data) and writes the sha256 of every
file of each dataset to ``MANIFEST`` (JSON); ``check MANIFEST`` regenerates them and reports every
file that was added, removed or changed. Exit status 0 when identical, 1 otherwise::

    .venv/bin/python bench/identical.py record /tmp/before.json   # on the old code
    .venv/bin/python bench/identical.py check /tmp/before.json    # on the new code
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent


def cases() -> dict[str, dict | None]:
    """The documents to generate: ``defaults`` (None: the built-in defaults) and the e2e cases."""
    sys.path.insert(0, str(ROOT))
    from tests.e2e.test_generate import CASES  # pylint: disable=import-error # the repo's tests

    return {"defaults": None, **CASES}


def hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``, keyed by relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def manifest() -> dict[str, dict[str, str]]:
    """Generate every case into a temporary folder and hash its files."""
    from asldro.api import generate

    out: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="asldro-identical-") as scratch:
        for name, document in cases().items():
            folder = Path(scratch) / name
            generate(document, folder, validate=False)
            out[name] = hashes(folder)
    return out


def compare(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> list[str]:
    """One line per difference between two manifests."""
    lines = []
    for case in sorted(set(before) | set(after)):
        old, new = before.get(case, {}), after.get(case, {})
        for rel in sorted(set(old) | set(new)):
            if rel not in new:
                lines.append(f"{case}: removed {rel}")
            elif rel not in old:
                lines.append(f"{case}: added {rel}")
            elif old[rel] != new[rel]:
                lines.append(f"{case}: changed {rel}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """``record`` or ``check`` a manifest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("manifest", type=Path)
    args = parser.parse_args(argv)
    current = manifest()
    files = sum(len(v) for v in current.values())
    if args.action == "record":
        args.manifest.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        print(f"recorded {files} files of {len(current)} datasets in {args.manifest}")
        return 0
    differences = compare(json.loads(args.manifest.read_text()), current)
    for line in differences:
        print(line)
    print(f"{len(differences)} differences in {files} files of {len(current)} datasets")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
