"""Docstrings and comments cite documents that exist in the repository, and sections they have.

Every ``docs/<name>.md §N[.M]`` reference in the code must name a file under ``docs/`` with a
heading numbered ``N[.M]``; a defect number ``docs/physics.md D<n>`` must be a row of the defect
tables of docs/physics.md §10.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    path
    for folder in ("asldro", "bids_app", "bench", "tests")
    for path in sorted((ROOT / folder).rglob("*"))
    if path.suffix in (".py", ".json") and path.is_file()
    # not hidden folders: bench/run.py installs ASLDRO 2.2.0 into bench/.asldro-2.2.0-venv
    and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
] + [ROOT / "run.py"]
REFERENCE = re.compile(r"docs/([a-z-]+\.md)(?: ?(§|D)([0-9]+(?:\.[0-9]+)*))?")
OLD_NAMES = re.compile(r"(?<![/\w])(physics\.md|bids-asl\.md|DESIGN\.md|kinetics-readouts\.md)")


def _sections(document: Path) -> set[str]:
    numbers = set()
    for line in document.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#+ ([0-9]+(?:\.[0-9]+)*)\.? ", line)
        if match:
            numbers.add(match.group(1))
    return numbers


def _defects(document: Path) -> set[str]:
    return set(re.findall(r"^\| *D([0-9]+) *\|", document.read_text(encoding="utf-8"), re.M))


def _references() -> list[tuple[str, str, str, str]]:
    found = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for match in REFERENCE.finditer(text):
            found.append((str(path.relative_to(ROOT)), *match.groups(default="")))
    return found


def test_the_code_cites_documents():
    assert len(_references()) > 100  # the docstrings do cite the docs


@pytest.mark.parametrize("source, name, kind, number", _references())
def test_every_citation_names_an_existing_document_and_section(source, name, kind, number):
    document = ROOT / "docs" / name
    assert document.is_file(), f"{source} cites docs/{name}, which does not exist"
    if kind == "§":
        assert number in _sections(document), f"{source} cites docs/{name} §{number}"
    elif kind == "D":
        assert number in _defects(document), f"{source} cites docs/{name} D{number}"


def test_no_citation_of_documents_outside_the_repository():
    stale = [
        f"{path.relative_to(ROOT)}: {match.group(1)}"
        for path in SOURCES
        if path.name != "test_citations.py"
        for match in OLD_NAMES.finditer(path.read_text(encoding="utf-8"))
    ]
    assert stale == []
