#!/usr/bin/env bash
# The whole test suite: install, format and lint checks, every test (slow and container ones
# included). This is what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
# Debian packages the tests use (strace traces that only OUTPUT_DIR is written)
if ! command -v strace >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends strace >/dev/null
fi
bash scripts/setup.sh test
echo "== black"; .venv/bin/black --check --quiet asldro bids_app tests bench run.py
echo "== pylint"; .venv/bin/pylint --rcfile=.pylintrc --score=n asldro bids_app run.py bench
echo "== pytest"; .venv/bin/python -m pytest -q -p no:cacheprovider tests
if [ "${SKIP_CONTAINER_TEST:-0}" != 1 ]; then
  echo "== container"; bash .ci/container-test.sh
fi
echo "test.sh: all checks passed in $(( $(date +%s) - t0 )) s"
