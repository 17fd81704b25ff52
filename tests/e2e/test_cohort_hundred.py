"""Issue 14's "must show" on a generated cohort: 100 participants in two groups, the truth read
back from ``participants.tsv`` (sample mean and SD of every drawn quantity within 3 standard
errors of the requested distribution, per group; the group difference visible), every
participant byte-identical when regenerated alone, and ``--n-procs 1`` equal to ``2``."""

from __future__ import annotations

import csv
import hashlib
import math
from pathlib import Path

import pytest

from asldro.api import as_params, generate, generate_participant, load_params_ground_truth

from .conftest import document, small

LABELS = tuple(f"{n:03d}" for n in range(1, 101))
CONTROL = {
    "grey_matter": {
        "perfusion_rate": {"distribution": "normal", "mean": 60.0, "sd": 8.0},
        "transit_time": {"distribution": "truncnormal", "mean": 1.2, "sd": 0.3, "min": 0.6},
        "t1": {"distribution": "uniform", "min": 1.2, "max": 1.5},
        "m0_scale": {"distribution": "lognormal", "mean": 1.0, "sd": 0.05},
    },
    "white_matter": {"perfusion_rate": {"distribution": "normal", "mean": 20.0, "sd": 3.0}},
}
PATIENT = {
    "grey_matter": {
        "perfusion_rate": {"distribution": "truncnormal", "mean": 40.0, "sd": 10.0, "min": 10.0},
        "transit_time": {"distribution": "normal", "mean": 1.7, "sd": 0.2},
    },
}
COHORT = {
    "seed": 3,
    "tissues": CONTROL,
    "groups": [
        {"name": "control", "share": 0.5},
        {"name": "patient", "share": 0.5, "tissues": PATIENT},
    ],
    "motion": {"scenario": "jitter", "translation_sd": 0.2, "rotation_sd": 0.1},
}


def _document() -> dict:
    return document(
        small("asl", asl_context="m0scan control label", acq_matrix=[12, 14, 10]),
        cohort=COHORT,
    )


def _digests(root: Path, label: str | None = None) -> dict[str, str]:
    """sha256 of every file under ``root`` (those of participant ``label`` only when given)."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and (label is None or f"sub-{label}" in path.name)
    }


@pytest.fixture(scope="module", name="cohort")
def fixture_cohort(tmp_path_factory) -> Path:
    """The 100-participant cohort written by 2 worker processes, not validated."""
    out = tmp_path_factory.mktemp("hundred") / "dro"
    generate(_document(), out, participant_labels=LABELS, n_procs=2, validate=False, report=False)
    return out


def _rows(root: Path) -> list[dict[str, str]]:
    with open(root / "participants.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_participants_tsv_holds_the_requested_distributions_per_group(cohort: Path) -> None:
    rows = _rows(cohort)
    assert [row["participant_id"] for row in rows] == [f"sub-{label}" for label in LABELS]
    cohort_params = as_params(_document()).global_config.cohort
    assert cohort_params is not None
    groups = {group.name: group for group in cohort_params.groups}
    assert {row["group"] for row in rows} == set(groups)
    checked = 0
    for name, group in groups.items():
        members = [row for row in rows if row["group"] == name]
        assert len(members) > 30  # shares of 0.5: binomial(100, 0.5)
        for tissue, quantities in group.tissues.items():
            for quantity, distribution in quantities.items():
                values = [float(row[f"{tissue}_{quantity}"]) for row in members]
                n = len(values)
                mean = sum(values) / n
                sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
                assert abs(mean - distribution.mean()) <= 3 * distribution.sd() / math.sqrt(n), (
                    name,
                    tissue,
                    quantity,
                )
                assert abs(sd - distribution.sd()) <= 3 * distribution.sd() / math.sqrt(
                    2 * (n - 1)
                ), (name, tissue, quantity)
                checked += 1
    assert checked == 2 * 5  # every drawn quantity of both groups


def test_the_group_difference_is_visible_in_participants_tsv(cohort: Path) -> None:
    rows = _rows(cohort)

    def mean(group: str, column: str) -> float:
        values = [float(row[column]) for row in rows if row["group"] == group]
        return sum(values) / len(values)

    assert (
        mean("control", "grey_matter_perfusion_rate")
        - mean("patient", "grey_matter_perfusion_rate")
        > 15.0
    )
    assert (
        mean("patient", "grey_matter_transit_time") - mean("control", "grey_matter_transit_time")
        > 0.3
    )


def test_one_process_writes_the_same_bytes_as_two(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "dro"
    generate(_document(), out, participant_labels=LABELS, n_procs=1, validate=False, report=False)
    assert _digests(out) == _digests(cohort)


def test_every_participant_regenerated_alone_is_byte_identical(
    cohort: Path, tmp_path: Path
) -> None:
    params = as_params(_document())
    truth = load_params_ground_truth(params)
    for label in LABELS:
        alone = tmp_path / label
        generate_participant(params, alone, label, ground_truth=truth)
        mine = _digests(alone, label)
        assert len(mine) >= 5
        assert mine == {name: digest for name, digest in _digests(cohort, label).items()}
