#!/usr/bin/env bash
# Container test (GitHub issue 5): build the BIDS-App image with podman and run it the way the
# README tells users to (read-only root, no network, non-root UID, only the output folder
# mounted), then validate the result on the host.
#
# Runs as root on a Debian 12 machine (see /work/shared/reference/containers.md for the machine
# facts it works around: runc instead of crun, ulimits, the proxy's CA files, no registry).
#
# Environment:
#   W                       work directory for all state (default: $PWD/.ci-containers)
#   KEEP_CONTAINER_STATE=1  keep the imported base image (and podman storage) for the next run
#   APPTAINER_TEST=0        skip building/running the Singularity recipe with apptainer
#   PY                      host Python with the project installed (default: .venv/bin/python)
#
# Prints one "[container-test] <step>: <seconds> s" line per step; exits non-zero on any failure.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
W=${W:-$ROOT/.ci-containers}
PY=${PY:-$ROOT/.venv/bin/python}
VENV_BIN=$(dirname "$PY")
APPTAINER_TEST=${APPTAINER_TEST:-1}
KEEP_CONTAINER_STATE=${KEEP_CONTAINER_STATE:-0}
VERSION=$(cat "$ROOT/version")
IMAGE=asldro/asldro:$VERSION
# The user-facing run options from the README. Podman (unlike docker) still mounts writable
# tmpfs on /tmp, /var/tmp and /run under --read-only; --read-only-tmpfs=false gives docker's
# strict behaviour, so that any write outside /out fails here as it would under docker.
PODMAN_STRICT=(--read-only-tmpfs=false)

log() { printf '[container-test] %s\n' "$*"; }
die() { log "FAIL: $*"; exit 1; }
T0=$(date +%s.%N)
step_start() { STEP=$1; TS=$(date +%s.%N); log "$STEP ..."; }
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
step_end() { log "$STEP: $(since "$TS") s"; }
elapsed() { since "$T0"; }

# ---------------------------------------------------------------------------------------------
step_start "packages (podman runc debootstrap uidmap)"
need=()
for p in podman runc debootstrap uidmap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
step_end

# ---------------------------------------------------------------------------------------------
step_start "podman configuration (private storage under \$W)"
mkdir -p "$W/tmp"
export TMPDIR="$W/tmp" CONTAINERS_CONF="$W/containers.conf" CONTAINERS_STORAGE_CONF="$W/storage.conf"
HARD_NOFILE=$(ulimit -Hn)
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$HARD_NOFILE:$HARD_NOFILE", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$W/storage"
runroot = "$W/run"
EOF
podman --version
step_end

cleanup() {
  local rc=$?
  set +e
  log "cleanup (rc=$rc)"
  if [ "$KEEP_CONTAINER_STATE" = 1 ]; then
    # Keep only the imported base image(s); drop everything built from them.
    podman rmi -f "$IMAGE" localhost/apptainer:sid >/dev/null 2>&1
    podman image prune -f >/dev/null 2>&1
    rm -rf "$W/out" "$W/bad" "$W/sing" "$W/tmp" "$W/static"
  else
    podman rmi -a -f >/dev/null 2>&1
    rm -rf "$W"
  fi
  log "total: $(elapsed) s"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# The base image, imported under the exact name the Dockerfile's FROM resolves to.
fq() { # fully qualified name podman uses for a short image name
  case $1 in */*) echo "$1"; return ;; esac
  local n=${1%%:*} t=${1##*:} full
  full=$(awk -F'"' -v n="$n" '$2==n {print $4; exit}' \
    /etc/containers/registries.conf.d/shortnames.conf 2>/dev/null || true)
  echo "${full:-localhost/$n}:$t"
}
BASE=$(awk 'toupper($1)=="FROM"{print $2; exit}' Dockerfile)
[ "$BASE" = "debian:bookworm-slim" ] || die "Dockerfile FROM is '$BASE'; this script imports debian:bookworm-slim"
DEB=$(fq "$BASE")
step_start "base image $DEB (debootstrap + import)"
if podman image exists "$DEB"; then
  log "base image already present"
else
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
  [ -n "$MIRROR" ] || die "no Debian mirror found in the apt sources"
  rm -rf "$W/rootfs"
  debootstrap --variant=minbase bookworm "$W/rootfs" "$MIRROR" >/dev/null
  mkdir -p "$W/rootfs/usr/local/share/ca-certificates" "$W/rootfs/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$W/rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$W/rootfs/etc/ssl/certs/"
  echo 'Acquire::Check-Valid-Until "false";' >"$W/rootfs/etc/apt/apt.conf.d/99no-valid-until"
  tar -C "$W/rootfs" -c . | podman import -q - "$DEB" >/dev/null
  rm -rf "$W/rootfs"
fi
step_end

# ---------------------------------------------------------------------------------------------
step_start "static checks (hadolint, spython)"
"$VENV_BIN/hadolint" --failure-threshold error Dockerfile
"$PY" -m pytest -q -p no:cacheprovider tests/e2e/test_container_static.py
step_end

# ---------------------------------------------------------------------------------------------
# README: docker build -t asldro/asldro:<version> .
step_start "build $IMAGE"
podman build --network host --pull=never -t "$IMAGE" .
SIZE=$(podman image inspect "$IMAGE" --format '{{.Size}}')
log "image size: $((SIZE / 1000000)) MB ($SIZE bytes)"
step_end

# ---------------------------------------------------------------------------------------------
step_start "--version"
# README: docker run --rm asldro/asldro:<version> --version
got=$(podman run --rm --network none "$IMAGE" --version)
log "--version printed: $got"
case $got in *"$VERSION"*) ;; *) die "--version printed '$got', expected $VERSION" ;; esac
label=$(podman image inspect "$IMAGE" --format '{{index .Labels "org.opencontainers.image.version"}}')
[ "$label" = "$VERSION" ] || die "OCI version label '$label' != $VERSION"
user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
case $user in "" | root | 0 | 0:*) die "image runs as root by default ('$user')" ;; esac
step_end

# ---------------------------------------------------------------------------------------------
# README: docker run --rm --read-only --network none -u "$(id -u):$(id -g)" \
#           -v "$PWD/out":/out asldro/asldro:<version> /out participant --participant-label 01
OUT=$W/out
rm -rf "$OUT" && mkdir -p "$OUT" && chown 1000:1000 "$OUT"
RUN=(podman run "${PODMAN_STRICT[@]}" --rm --read-only --network none -u 1000:1000 -v "$OUT":/out "$IMAGE")

step_start "participant 01 and 02 at once (--read-only, --network none, -u 1000:1000)"
"${RUN[@]}" /out participant --participant-label 01 >"$W/p01.log" 2>&1 &
p1=$!
"${RUN[@]}" /out participant --participant-label 02 >"$W/p02.log" 2>&1 &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
if [ "$rc1" != 0 ] || [ "$rc2" != 0 ]; then
  cat "$W/p01.log" "$W/p02.log"
  die "participant runs exited $rc1 and $rc2"
fi
step_end

step_start "group"
"${RUN[@]}" /out group || die "group run exited $?"
step_end

# ---------------------------------------------------------------------------------------------
step_start "validate on the host (bids-validator-deno, project checks)"
for d in sub-01 sub-02 dataset_description.json participants.tsv derivatives/groundtruth; do
  [ -e "$OUT/$d" ] || die "missing $d in the output"
done
for s in sub-01 sub-02; do grep -q "^$s" "$OUT/participants.tsv" || die "$s not in participants.tsv"; done
stray=$(find "$OUT" ! -user 1000 -print -quit)
[ -z "$stray" ] || die "file not written by UID 1000: $stray"
grep -q "asldro:$VERSION" "$OUT/dataset_description.json" ||
  die "dataset_description.json does not record the container asldro:$VERSION"
BV_CONFIG=$ROOT/asldro/bids/bv-config.json
DENO_DIR=$W/deno "$VENV_BIN/bids-validator-deno" -c "$BV_CONFIG" "$OUT"
DENO_DIR=$W/deno "$VENV_BIN/bids-validator-deno" -c "$BV_CONFIG" "$OUT/derivatives/groundtruth"
if [ -x "$VENV_BIN/asldro" ] && "$VENV_BIN/asldro" validate --help >/dev/null 2>&1; then
  DENO_DIR=$W/deno "$VENV_BIN/asldro" validate "$OUT"
else
  DENO_DIR=$W/deno "$PY" - "$OUT" <<'EOF'
import sys
from asldro.bids.validate import validate_dataset
report = validate_dataset(sys.argv[1])
print(report)
ok = getattr(report, "ok", None)
sys.exit(0 if ok is None or ok else 1)
EOF
fi
step_end

# ---------------------------------------------------------------------------------------------
step_start "bad parameter file (read-only mount): exit 65, one line"
BAD=$W/bad
rm -rf "$BAD" && mkdir -p "$BAD/out" && chown 1000:1000 "$BAD/out"
printf '{"global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"}, "image_series": [{"series_type": "asl", "series_parameters": {"echo_time": "not a number"}}]}\n' >"$BAD/params.json"
chmod 0444 "$BAD/params.json"
rc=0
podman run "${PODMAN_STRICT[@]}" --rm --read-only --network none -u 1000:1000 \
  -v "$BAD/out":/out -v "$BAD/params.json":/params.json:ro "$IMAGE" \
  /out participant --participant-label 01 --params /params.json >"$BAD/stdout" 2>"$BAD/stderr" || rc=$?
log "exit $rc; stderr: $(cat "$BAD/stderr")"
[ "$rc" = 65 ] || die "bad parameter file: exit $rc, expected 65"
[ "$(wc -l <"$BAD/stderr")" = 1 ] || die "bad parameter file: expected one line on stderr"
! grep -q Traceback "$BAD/stderr" || die "bad parameter file: traceback printed"
[ -z "$(find "$BAD/out" -name 'sub-*' -print -quit)" ] || die "bad parameter file: partial output left"
step_end

# ---------------------------------------------------------------------------------------------
# Optional: the Singularity recipe, built and run with apptainer inside a privileged container
# (bookworm cannot install apptainer: it needs glibc >= 2.38; Debian sid has it).
if [ "$APPTAINER_TEST" = 1 ]; then
  step_start "apptainer image (Debian sid)"
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
  mkdir -p "$W/apptainer"
  cat >"$W/apptainer/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
ARG MIRROR
RUN echo "deb ${MIRROR} sid main" > /etc/apt/sources.list.d/sid.list \
 && apt-get -o Acquire::Check-Valid-Until=false update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t sid \
      apptainer squashfs-tools ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && echo root:100000:65536 >> /etc/subuid && echo root:100000:65536 >> /etc/subgid \
 && apptainer --version
EOF
  podman image exists localhost/apptainer:sid ||
    podman build --network host --pull=never -q --build-arg MIRROR="$MIRROR" \
      -t localhost/apptainer:sid "$W/apptainer" >/dev/null
  step_end

  step_start "apptainer build from the Singularity recipe"
  SING=$W/sing
  rm -rf "$SING" && mkdir -p "$SING/out"
  # README: docker save -o asldro-<version>.tar asldro/asldro:<version>, then point the recipe's
  # header at the archive (there is no registry to pull docker://asldro/asldro:<version> from).
  podman save --format docker-archive -o "$SING/asldro-$VERSION.tar" "$IMAGE"
  sed -E -e 's|^Bootstrap:[[:space:]]*docker[[:space:]]*$|Bootstrap: docker-archive|' \
    -e "s|^From:.*\$|From: asldro-$VERSION.tar|" Singularity >"$SING/Singularity.local"
  grep -q '^Bootstrap: docker-archive$' "$SING/Singularity.local" || die "recipe header not rewritten"
  # --fakeroot / --no-privs: the CI machine lacks CAP_SYS_RESOURCE (containers.md §6.3).
  APPTAINER=(podman run --rm --privileged --network host -v "$SING":/build -w /build
    -e APPTAINER_TMPDIR=/build/tmp -e APPTAINER_CACHEDIR=/build/cache localhost/apptainer:sid)
  "${APPTAINER[@]}" sh -c 'mkdir -p tmp cache &&
    apptainer build --fakeroot asldro-'"$VERSION"'.sif Singularity.local' >"$SING/build.log" 2>&1 ||
    { tail -30 "$SING/build.log"; die "apptainer build failed"; }
  rm -f "$SING/asldro-$VERSION.tar"
  step_end

  step_start "apptainer run (participant 01, 02; group) as UID 1000"
  chown 1000:1000 "$SING/out"
  # README: apptainer run --containall -B "$PWD/out":/out asldro-<version>.sif /out participant ...
  "${APPTAINER[@]}" sh -c '
    set -e
    run() { setpriv --reuid=1000 --regid=1000 --clear-groups \
      apptainer run --no-privs --containall -B /build/out:/out asldro-'"$VERSION"'.sif "$@"; }
    run --version
    run /out participant --participant-label 01 &
    a=$!
    run /out participant --participant-label 02 &
    b=$!
    wait $a; wait $b
    run /out group'
  DENO_DIR=$W/deno "$VENV_BIN/bids-validator-deno" -c "$BV_CONFIG" "$SING/out"
  step_end
fi

log "container test passed in $(elapsed) s"
