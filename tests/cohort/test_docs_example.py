"""The example of docs/cohort.md loads, and its 100 participants draw without a refusal."""

from __future__ import annotations

import json
import re
from pathlib import Path

from asldro.api import load_params_ground_truth
from asldro.cohort import check_cohort, draw_participant
from asldro.params import load_params

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cohort.md"


def _example() -> dict:
    block = re.search(r"```json\n(.*?)\n```", PAGE.read_text(encoding="utf-8"), re.S)
    assert block
    return json.loads(block.group(1))


def test_the_documented_example_loads_and_draws_100_participants():
    params = load_params(_example())
    cohort = params.global_config.cohort
    assert cohort is not None and cohort.sessions == ("1", "2")
    labels = [f"{n:03d}" for n in range(1, 101)]
    checked, truth = check_cohort(params, load_params_ground_truth(params), labels, None)
    assert "infarct" in truth.segmentation  # the checks ran on a participant with the lesion
    assert checked.series[0].added_motion
    groups = [draw_participant(cohort, label).group.name for label in labels]
    assert 30 < groups.count("patient") < 70
