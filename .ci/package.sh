#!/usr/bin/env bash
# Packaging check (issue 17), called from .ci/run: build the sdist and, from it, the wheel (so a
# file missing from the sdist fails the build), check both with twine, install the wheel with its
# validators into a clean venv, and run the README's quick start there, outside the source tree:
# `asldro generate out/` (which validates with the own checks, pybids and bids-validator-deno)
# and `asldro validate out`. The wheel's dependencies are resolved from its own metadata, pinned
# to the versions of .ci/requirements/container.txt. Everything lives in a temporary folder.
#   PY  the Python with build and twine (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
VERSION=$(cat version)
W=$(mktemp -d "${TMPDIR:-/tmp}/asldro-package.XXXXXX")
trap 'rm -rf "$W"' EXIT
log() { printf '[package] %s\n' "$*"; }
die() {
  log "FAIL: $*"
  exit 1
}

# The tracked files of the working tree: nothing untracked is packaged, nothing is written here.
mkdir -p "$W/src" "$W/run"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$W/src"
"$PY" -m build --no-isolation --outdir "$W/dist" "$W/src" >"$W/build.log" 2>&1 ||
  {
    tail -30 "$W/build.log"
    die "python -m build"
  }
WHEEL=$W/dist/asldro-$VERSION-py3-none-any.whl
SDIST=$W/dist/asldro-$VERSION.tar.gz
[ -f "$WHEEL" ] && [ -f "$SDIST" ] || die "expected $(basename "$WHEEL") and $(basename "$SDIST"), got: $(ls "$W/dist")"
log "built $(basename "$SDIST") ($(stat -c %s "$SDIST") bytes), $(basename "$WHEEL") ($(stat -c %s "$WHEEL") bytes)"
"$PY" -m twine check --strict "$W"/dist/*

python3 -m venv "$W/venv"
grep -E '^[A-Za-z0-9._-]+==' .ci/requirements/container.txt | sed 's/ .*//' >"$W/pins.txt"
"$W/venv/bin/python" -m pip install -q -c "$W/pins.txt" "$WHEEL"
"$W/venv/bin/python" -m pip check

# The README's quick start, in a folder that is not the checkout.
cd "$W/run"
export DENO_DIR=$W/deno
got=$("$W/venv/bin/asldro" --version)
[ "$got" = "asldro $VERSION" ] || die "asldro --version printed '$got'"
where=$("$W/venv/bin/python" -c 'import asldro, bids_app; print(asldro.__file__, bids_app.__file__)')
case $where in "$W/venv/"*" $W/venv/"*) ;; *) die "asldro imported from outside the venv: $where" ;; esac
"$W/venv/bin/asldro" generate out/
"$W/venv/bin/asldro" validate out
[ -f out/derivatives/groundtruth/dataset_description.json ] || die "no ground-truth derivative"
log "wheel installed outside the source tree: asldro generate + asldro validate passed"
