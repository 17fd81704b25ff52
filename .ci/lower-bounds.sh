#!/usr/bin/env bash
# The lower-bounds job (issue 17; as nibabel's minimum-dependency job): a venv with the oldest
# versions pyproject.toml allows (.ci/requirements/constraints-min.txt, written from its lower
# bounds by .ci/lock.py and checked against them by tests/test_locks.py) runs the physics, the
# parameter tests and `asldro generate` + validation (own checks, pybids, bids-validator-deno) of
# the defaults (the HTML report included: matplotlib at its bound) and of a separate-M0 layout (pybids < 0.21 fails its IntendedFor association).
# Transitive dependencies are the newest that those versions accept. Called from .ci/run (which
# bounds its time); the venv is .venv-min (kept for the next run).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-min/bin/python ] || python3 -m venv .venv-min
PY=.venv-min/bin/python
"$PY" -m pip install -q -c .ci/requirements/constraints-min.txt -e '.[plots]' pytest
"$PY" -m pip check
# The versions under test must be the bounds themselves (a constraint that did not apply fails).
"$PY" - <<'PYEOF'
import importlib.metadata as md
from packaging.version import Version
for line in open(".ci/requirements/constraints-min.txt", encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    name, bound = line.strip().split("==")
    got = md.version(name)
    assert Version(got) == Version(bound), f"{name}: installed {got}, lower bound {bound}"
    print(f"  {name} {got}")
PYEOF
"$PY" -m pytest -q -p no:cacheprovider tests/physics tests/params \
  "tests/e2e/test_generate.py::test_defaults_validate_as_a_user_runs_it" \
  "tests/e2e/test_generate.py::test_layout_validates[m0_separate]"
