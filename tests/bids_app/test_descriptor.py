"""Boutiques descriptor (docs/bids.md §11): ``bosh validate`` and ``bosh exec simulate``."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bids_app.cli import build_parser, clean_labels

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR = ROOT / "bids_app" / "descriptor.json"
BOSH = shutil.which("bosh", path=str(Path(sys.executable).parent)) or shutil.which("bosh")

needs_bosh = pytest.mark.skipif(BOSH is None, reason="boutiques (bosh) is not installed")


def test_descriptor_fields_follow_the_contract():
    descriptor = json.loads(DESCRIPTOR.read_text())
    assert descriptor["schema-version"] == "0.5"
    assert descriptor["tool-version"] == (ROOT / "version").read_text().strip()
    assert descriptor["command-line"] == (
        "/run.py [BIDS_DIR] [OUTPUT_DIR] [ANALYSIS_LEVEL] [PARTICIPANT_LABEL] [PARAMS] [SEED]"
        " [N_PROCS] [MAX_MEMORY] [SKIP_VALIDATION] [REPORT] [NO_REPORT] [QUIET]"
    )
    inputs = {item["id"]: item for item in descriptor["inputs"]}
    assert inputs["analysis_level"]["value-choices"] == ["participant", "group"]
    assert inputs["participant_label"]["list"] is True
    assert inputs["seed"]["integer"] is True
    assert descriptor["container-image"]["image"].endswith(":" + descriptor["tool-version"])
    assert descriptor["output-files"][0]["path-template"] == "[OUTPUT_DIR]"
    # Every flag of the descriptor is one the parser knows.
    parser_flags = {s for action in build_parser()._actions for s in action.option_strings}
    flags = {item["command-line-flag"] for item in inputs.values() if "command-line-flag" in item}
    assert flags <= parser_flags
    # ... and every option of the parser that a user sets is in the descriptor.
    described = {
        action.dest for action in build_parser()._actions if set(action.option_strings) & flags
    }
    settable = {
        action.dest
        for action in build_parser()._actions
        if action.option_strings and action.dest not in ("help", "version", "debug")
    }
    assert settable == described


@needs_bosh
def test_bosh_validate_ok():
    done = subprocess.run(
        [BOSH, "validate", str(DESCRIPTOR)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("OK")


def simulate(tmp_path: Path, invocation: dict) -> list[str]:
    file = tmp_path / "invocation.json"
    file.write_text(json.dumps(invocation))
    done = subprocess.run(
        [BOSH, "exec", "simulate", str(DESCRIPTOR), "-i", str(file)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("/run.py")]
    assert len(lines) == 1, done.stdout
    return shlex.split(lines[0])


@needs_bosh
def test_simulated_command_lines_are_accepted_by_the_parser(tmp_path):
    params = tmp_path / "params.json"
    params.write_text("{}")
    argv = simulate(
        tmp_path,
        {
            "bids_dir": "/dev/null",
            "output_dir": "out",
            "analysis_level": "participant",
            "participant_label": ["01", "sub-02"],
            "params": str(params),
            "seed": 42,
            "skip_bids_validator": True,
        },
    )
    assert argv[0] == "/run.py"
    args = build_parser().parse_intermixed_args(argv[1:])
    assert (args.bids_dir, args.output_dir, args.analysis_level) == (
        "/dev/null",
        "out",
        "participant",
    )
    assert clean_labels(args.participant_label) == ("01", "02")
    assert (args.seed, args.params, args.skip_validation) == (42, str(params), True)

    # The two-positional form: no bids_dir in the invocation.
    argv = simulate(tmp_path, {"output_dir": "out", "analysis_level": "group"})
    assert argv == ["/run.py", "out", "group"]
    args = build_parser().parse_intermixed_args(argv[1:])
    assert (args.bids_dir, args.output_dir, args.analysis_level) == (None, "out", "group")
