#!/usr/bin/env bash
# Install asldro into ./.venv (idempotent). Installs python3-venv from Debian if needed.
# Usage: bash scripts/setup.sh [extra]    extra: "test" (default) or "validate"
set -euo pipefail
cd "$(dirname "$0")/.."
extra=${1:-test}
PY=${PYTHON:-python3}
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
  else
    echo "setup: python3 with venv and ensurepip is required (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[$extra]"
echo "setup: asldro $(cat version) installed in .venv (extra: $extra)"
