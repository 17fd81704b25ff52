#!/usr/bin/env bash
# Container test (GitHub issue 5): build the BIDS-App image with podman and run it the way the
# README tells users to (read-only root, no network, non-root UID, only the output folder
# mounted), validate the result on the host, then build the Singularity recipe with apptainer and
# run that too. Called from .ci/run; runs as root on a Debian 12 machine.
#
# Machine facts it works around (nothing global is changed; all state lives under $W):
#   * crun refuses hybrid cgroups: runtime = "runc" in a private containers.conf;
#   * no CAP_SYS_RESOURCE: default ulimits no higher than the host's hard limits;
#   * no container registry: the base image is debootstrapped from the machine's Debian mirror
#     (read from its apt sources) and imported under the name the Dockerfile's FROM resolves to;
#     builds use --pull=never;
#   * HTTPS goes through an intercepting proxy: the host's CA files are copied into that base;
#   * builds use --network host and runs --network none, so no firewall rule is ever added.
# Images built here carry the host's CA files and a stand-in base: never push them.
#
# Environment:
#   W                       work directory for all state (default: $PWD/.ci-containers)
#   KEEP_CONTAINER_STATE=1  keep the imported base image and the apptainer tool image (podman
#                           storage under $W) for the next run; the project image is removed.
#                           KEEP_CONTAINER_STATE=all keeps everything (for debugging)
#   APPTAINER_TEST=0        skip building and running the Singularity recipe with apptainer
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
BV_CONFIG=$ROOT/asldro/bids/bv-config.json
# Under --read-only, podman (unlike docker) still mounts writable tmpfs on /tmp, /var/tmp and
# /run; --read-only-tmpfs=false gives docker's strict behaviour, so that any write outside /out
# fails here as it would under docker. Apart from this flag, runs use the README's arguments.
PODMAN_STRICT=(--read-only-tmpfs=false)

log() { printf '[container-test] %s\n' "$*"; }
die() {
  log "FAIL: $*"
  exit 1
}
T0=$(date +%s.%N)
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
step_start() {
  STEP=$1
  TS=$(date +%s.%N)
  log "$STEP ..."
}
step_end() { log "$STEP: $(since "$TS") s"; }
mirror() { # the Debian mirror of this machine's apt sources
  local m
  m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$m" ] || die "no Debian mirror found in the apt sources"
  echo "$m"
}

# ---------------------------------------------------------------------------------------------
step_start "static checks (hadolint, spython)"
"$VENV_BIN/hadolint" --failure-threshold error Dockerfile
"$PY" -m pytest -q -p no:cacheprovider tests/e2e/test_container_static.py
step_end

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

# The host's forwarding switch, firewall rules and interfaces: compared again at the end.
net_state() {
  {
    sysctl -n net.ipv4.ip_forward
    if command -v iptables >/dev/null; then iptables -S && iptables -t nat -S; fi
    ip -br link | awk '{print $1}'
  } 2>&1 | md5sum
}
NET_BEFORE=$(net_state)

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
  log "cleanup (exit status $rc)"
  if [ "$KEEP_CONTAINER_STATE" = all ]; then
    log "keeping $W and all images"
  elif [ "$KEEP_CONTAINER_STATE" = 1 ]; then
    podman rmi -f "$IMAGE" "$IMAGE-rebuild" >/dev/null 2>&1
    podman image prune -f >/dev/null 2>&1
    rm -rf "$W/out" "$W/any-uid" "$W/bad" "$W/sing" "$W/tmp" "$W/deno" "$W/apptainer" "$W/tampered" \
      "$W"/*.log "$W"/freeze-*.txt
  else
    podman rmi -a -f >/dev/null 2>&1
    rm -rf "$W"
  fi
  if [ "$(net_state)" != "$NET_BEFORE" ]; then
    log "FAIL: the host's forwarding, firewall or interfaces changed"
    rc=1
  fi
  log "total: $(since "$T0") s"
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# The base image, imported under the exact name the Dockerfile's FROM resolves to.
fq() { # the fully qualified name podman uses for a short image name
  case $1 in */*)
    echo "$1"
    return
    ;;
  esac
  local n=${1%%:*} t=${1##*:} full
  full=$(awk -F'"' -v n="$n" '$2 == n {print $4; exit}' \
    /etc/containers/registries.conf.d/shortnames.conf 2>/dev/null || true)
  echo "${full:-localhost/$n}:$t"
}
BASE=$(awk 'toupper($1) == "FROM" {print $2; exit}' Dockerfile)
[ "$BASE" = "debian:bookworm-slim" ] || die "Dockerfile FROM is '$BASE'; this script provides debian:bookworm-slim"
DEB=$(fq "$BASE")
step_start "base image $DEB (debootstrap + import)"
if podman image exists "$DEB"; then
  log "base image already present"
else
  rm -rf "$W/rootfs"
  debootstrap --variant=minbase bookworm "$W/rootfs" "$(mirror)" >/dev/null
  mkdir -p "$W/rootfs/usr/local/share/ca-certificates" "$W/rootfs/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$W/rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$W/rootfs/etc/ssl/certs/"
  echo 'Acquire::Check-Valid-Until "false";' >"$W/rootfs/etc/apt/apt.conf.d/99no-valid-until"
  # As slim as the official image (its dpkg excludes, no apt lists or caches), so that the
  # reported image size is close to what a user's build gives.
  printf 'path-exclude %s\n' /usr/share/doc/\* /usr/share/groff/\* /usr/share/info/\* \
    /usr/share/linda/\* /usr/share/lintian/overrides/\* /usr/share/locale/\* /usr/share/man/\* \
    >"$W/rootfs/etc/dpkg/dpkg.cfg.d/docker"
  echo 'path-include /usr/share/doc/*/copyright' >>"$W/rootfs/etc/dpkg/dpkg.cfg.d/docker"
  find "$W/rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  rm -rf "$W/rootfs"/var/lib/apt/lists/* "$W/rootfs"/var/cache/apt/* \
    "$W/rootfs"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/*
  tar -C "$W/rootfs" -c . | podman import -q - "$DEB" >/dev/null
  rm -rf "$W/rootfs"
fi
step_end

# ---------------------------------------------------------------------------------------------
# README: docker build -t asldro/asldro:<version> .
step_start "build $IMAGE"
podman build --network host --pull=never -t "$IMAGE" .
SIZE=$(podman image inspect "$IMAGE" --format '{{.Size}}')
log "image size: $((SIZE / 1000000)) MB ($SIZE bytes)"
step_end

# ---------------------------------------------------------------------------------------------
# The lock makes the image reproducible: a tampered hash fails the build at the locked install
# layer (the layers before it come from the cache), and a second build from the same commit and
# lock with no cache at all installs exactly the same packages, which are the lock's.
step_start "tampered lock: the build fails at the locked install"
TAMPERED=$W/tampered
rm -rf "$TAMPERED" && mkdir -p "$TAMPERED"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$TAMPERED"
# Every hash of one package (jsonschema: one wheel and one sdist) gets its first digit changed.
awk '/^[A-Za-z0-9._-]+==/ { pkg = $1 }
     pkg ~ /^jsonschema==/ && match($0, /sha256:[0-9a-f]/) {
       d = substr($0, RSTART + 7, 1)
       $0 = substr($0, 1, RSTART + 6) (d == "0" ? "1" : "0") substr($0, RSTART + 8)
     }
     { print }' .ci/requirements/container.txt >"$TAMPERED/.ci/requirements/container.txt"
changed=$(diff .ci/requirements/container.txt "$TAMPERED/.ci/requirements/container.txt" | grep -c '^>' || true)
[ "$changed" -ge 1 ] || die "the lock copy was not altered"
rc=0
podman build --network host --pull=never -t localhost/asldro-tampered:test "$TAMPERED" \
  >"$W/tampered.log" 2>&1 || rc=$?
if [ "$rc" = 0 ]; then
  podman rmi -f localhost/asldro-tampered:test >/dev/null 2>&1 || true
  die "tampered lock: the build succeeded"
fi
grep -q "DO NOT MATCH THE HASHES" "$W/tampered.log" && grep -q "jsonschema" "$W/tampered.log" ||
  {
    tail -30 "$W/tampered.log"
    die "tampered lock: build exit status $rc without pip's hash mismatch for jsonschema"
  }
log "tampered lock ($changed hashes of jsonschema altered): build exit status $rc, pip: hash mismatch"
rm -rf "$TAMPERED"
step_end

REBUILD=$IMAGE-rebuild
step_start "second build, no cache: the same installed packages"
podman build --network host --pull=never --no-cache -t "$REBUILD" . >"$W/rebuild.log" 2>&1 ||
  {
    tail -30 "$W/rebuild.log"
    die "second build failed"
  }
freeze() { podman run --rm --network none --entrypoint pip "$1" freeze --all 2>/dev/null | LC_ALL=C sort; }
freeze "$IMAGE" >"$W/freeze-1.txt"
freeze "$REBUILD" >"$W/freeze-2.txt"
diff -u "$W/freeze-1.txt" "$W/freeze-2.txt" || die "two builds of one commit and lock installed different packages"
"$PY" - "$W/freeze-1.txt" .ci/requirements/container.txt <<'PYEOF' || die "the image's packages are not the lock's"
import re
import sys

from packaging.utils import canonicalize_name

frozen = {}
for line in open(sys.argv[1], encoding="utf-8"):
    name, sep, version = line.strip().partition("==")
    if sep:
        frozen[canonicalize_name(name)] = version
    elif not line.startswith("asldro @ "):  # the project itself, installed from /src
        sys.exit(f"unexpected pip freeze line: {line.strip()}")
text = open(sys.argv[2], encoding="utf-8").read()
locked = {
    canonicalize_name(m.group(1)): m.group(2)
    for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", text, flags=re.MULTILINE)
}
if frozen != locked:
    extra = sorted(set(frozen.items()) - set(locked.items()))
    missing = sorted(set(locked.items()) - set(frozen.items()))
    sys.exit(f"installed but not locked: {extra}; locked but not installed: {missing}")
PYEOF
log "both builds: $(wc -l <"$W/freeze-1.txt") lines of pip freeze --all, identical, the lock's pins + asldro"
podman rmi -f "$REBUILD" >/dev/null
step_end

# ---------------------------------------------------------------------------------------------
step_start "--version, labels, default user"
# README: docker run --rm --network none asldro/asldro:<version> --version
got=$(podman run --rm --network none "$IMAGE" --version)
log "--version printed: $got"
[ "$got" = "$VERSION" ] || die "--version printed '$got', expected $VERSION"
label=$(podman image inspect "$IMAGE" --format '{{index .Labels "org.opencontainers.image.version"}}')
[ "$label" = "$VERSION" ] || die "OCI version label '$label' != $VERSION"
user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
case $user in "" | root | root:* | 0 | 0:*) die "image runs as root by default ('$user')" ;; esac
step_end

# ---------------------------------------------------------------------------------------------
# check_dataset DIR SUBJECT...: the result of participant runs and group, checked on the host.
check_dataset() {
  local out=$1 d s stray
  shift
  for d in "$@" dataset_description.json participants.tsv derivatives/groundtruth; do
    [ -e "$out/$d" ] || die "missing $d in $out"
  done
  for s in "$@"; do
    grep -q "^$s\b" "$out/participants.tsv" || die "$s not in $out/participants.tsv"
  done
  stray=$(find "$out" ! -user 1000 -print -quit)
  [ -z "$stray" ] || die "not written by UID 1000: $stray"
  stray=$(find "$out" \( -name '.asldro-tmp-*' -o -name '.asldro-scratch-*' \) -print -quit)
  [ -z "$stray" ] || die "temporary left behind: $stray"
  grep -q "\"asldro/asldro:$VERSION\"" "$out/dataset_description.json" ||
    die "$out/dataset_description.json does not record the container asldro/asldro:$VERSION"
  for d in "$out" "$out/derivatives/groundtruth"; do
    DENO_DIR=$W/deno "$VENV_BIN/bids-validator-deno" -c "$BV_CONFIG" "$d" >"$W/bv.log" 2>&1 ||
      {
        cat "$W/bv.log"
        die "bids-validator-deno: $d"
      }
    log "bids-validator-deno $d: exit status 0"
  done
  DENO_DIR=$W/deno "$VENV_BIN/asldro" validate "$out" || die "asldro validate: $out"
}

# README: docker run --rm --read-only --network none -u "$(id -u):$(id -g)" \
#           -v "$PWD/out":/out asldro/asldro:<version> /out participant --participant-label 01
# (as root here, "$(id -u):$(id -g)" would be 0:0, so the non-root 1000:1000 is written out)
OUT=$W/out
rm -rf "$OUT" && mkdir -p "$OUT" && chown 1000:1000 "$OUT"
RUN=(podman run "${PODMAN_STRICT[@]}" --rm --read-only --network none -u 1000:1000
  -v "$OUT":/out "$IMAGE")

step_start "participant 01 and 02 03 (--n-procs 2) at once (--read-only, --network none, -u 1000:1000)"
"${RUN[@]}" /out participant --participant-label 01 >"$W/p01.log" 2>&1 &
p1=$!
"${RUN[@]}" /out participant --participant-label 02 03 --n-procs 2 >"$W/p02.log" 2>&1 &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
cat "$W/p01.log" "$W/p02.log"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] || die "participant runs exited $rc1 and $rc2"
step_end

step_start "group"
"${RUN[@]}" /out group || die "group run exited $?"
step_end

step_start "validate on the host (bids-validator-deno, asldro validate)"
check_dataset "$OUT" sub-01 sub-02 sub-03
step_end

# ---------------------------------------------------------------------------------------------
step_start "any UID (4321:4321, no passwd entry): participant run, asldro on PATH"
ANY=$W/any-uid
rm -rf "$ANY" && mkdir -p "$ANY" && chown 4321:4321 "$ANY"
podman run "${PODMAN_STRICT[@]}" --rm --read-only --network none -u 4321:4321 -v "$ANY":/out \
  "$IMAGE" /out participant --participant-label 01 || die "participant run as UID 4321 exited $?"
[ -d "$ANY/sub-01" ] || die "UID 4321 run wrote no sub-01"
stray=$(find "$ANY" ! -user 4321 -print -quit)
[ -z "$stray" ] || die "not written by UID 4321: $stray"
podman run "${PODMAN_STRICT[@]}" --rm --read-only --network none -u 4321:4321 \
  --entrypoint asldro "$IMAGE" --help >/dev/null || die "asldro --help in the image exited $?"
step_end

# ---------------------------------------------------------------------------------------------
step_start "bad parameter file (read-only mount): exit 65, one line"
BAD=$W/bad
rm -rf "$BAD" && mkdir -p "$BAD/out" && chown 1000:1000 "$BAD/out"
printf '%s\n' '{"global_configuration": {"ground_truth": "hrgt_icbm_2009a_nls_3t"},' \
  ' "image_series": [{"series_type": "asl", "series_parameters": {"echo_time": "not a number"}}]}' \
  >"$BAD/params.json"
chmod 0444 "$BAD/params.json"
rc=0
podman run "${PODMAN_STRICT[@]}" --rm --read-only --network none -u 1000:1000 \
  -v "$BAD/out":/out -v "$BAD/params.json":/params.json:ro "$IMAGE" \
  /out participant --participant-label 01 --params /params.json >"$BAD/stdout" 2>"$BAD/stderr" || rc=$?
log "exit status $rc; stderr: $(cat "$BAD/stderr")"
[ "$rc" = 65 ] || die "bad parameter file: exit status $rc, expected 65"
[ "$(wc -l <"$BAD/stderr")" = 1 ] || die "bad parameter file: expected exactly one line on stderr"
! grep -q Traceback "$BAD/stderr" || die "bad parameter file: traceback printed"
[ -z "$(find "$BAD/out" -mindepth 1 ! -name '.asldro*' -print -quit)" ] ||
  die "bad parameter file: output left behind: $(ls -A "$BAD/out")"
step_end

# ---------------------------------------------------------------------------------------------
# The Singularity recipe, built and run with apptainer as UID 1000 inside a privileged podman
# container (bookworm cannot install apptainer: it needs glibc >= 2.38; Debian sid has it).
if [ "$APPTAINER_TEST" = 1 ]; then
  step_start "apptainer tool image (Debian sid)"
  mkdir -p "$W/apptainer"
  cat >"$W/apptainer/as-uid1000" <<'EOF'
#!/bin/sh
# Run a command as UID/GID 1000. /dev/fuse is the container's own device node (mode 0600 as on
# the host): open it to that user so that apptainer can mount the SIF with squashfuse.
chmod 0666 /dev/fuse
exec setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/home/asldro "$@"
EOF
  cat >"$W/apptainer/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
ARG MIRROR
RUN echo "deb ${MIRROR} sid main" > /etc/apt/sources.list.d/sid.list \
 && apt-get -o Acquire::Check-Valid-Until=false update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t sid \
      apptainer squashfs-tools squashfuse fuse3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --user-group --create-home asldro \
 && apptainer --version
COPY as-uid1000 /usr/local/bin/
RUN chmod 0755 /usr/local/bin/as-uid1000
EOF
  podman image exists localhost/apptainer:sid ||
    podman build --network host --pull=never -q --build-arg MIRROR="$(mirror)" \
      -t localhost/apptainer:sid "$W/apptainer" >/dev/null
  step_end

  step_start "apptainer build from the Singularity recipe (as UID 1000)"
  SING=$W/sing
  rm -rf "$SING" && mkdir -p "$SING/out"
  # README: docker save -o asldro-<version>.tar asldro/asldro:<version>, and the recipe's header
  # pointed at that archive (no registry serves docker://asldro/asldro:<version> here).
  (cd "$SING" && podman save -o "asldro-$VERSION.tar" "$IMAGE")
  sed -e 's|^Bootstrap: docker$|Bootstrap: docker-archive|' \
    -e "s|^From: .*|From: asldro-$VERSION.tar|" Singularity >"$SING/Singularity.local"
  grep -q '^Bootstrap: docker-archive$' "$SING/Singularity.local" || die "recipe header not rewritten"
  chown -R 1000:1000 "$SING"
  # lz4 instead of gzip only to save about 80 s of mksquashfs on two cores.
  APPTAINER=(podman run --rm --privileged --network host -v "$SING":/build -w /build
    -e APPTAINER_TMPDIR=/build/tmp -e APPTAINER_CACHEDIR=/build/cache
    -e "APPTAINER_MKSQUASHFS_ARGS=-comp lz4" localhost/apptainer:sid as-uid1000)
  "${APPTAINER[@]}" sh -c 'mkdir -p /build/tmp /build/cache' || die "apptainer work folders"
  "${APPTAINER[@]}" apptainer build "asldro-$VERSION.sif" Singularity.local >"$W/sing-build.log" 2>&1 ||
    {
      grep -v 'warn rootless' "$W/sing-build.log" | tail -30
      die "apptainer build failed"
    }
  rm -f "$SING/asldro-$VERSION.tar"
  log "SIF size: $(($(stat -c %s "$SING/asldro-$VERSION.sif") / 1000000)) MB"
  step_end

  step_start "apptainer run: --version, participant 01 and 02 at once, group (as UID 1000)"
  # README: apptainer run --containall -B "$PWD/out":/out asldro-<version>.sif /out participant ...
  SRUN=("${APPTAINER[@]}" apptainer --quiet run --containall -B /build/out:/out "asldro-$VERSION.sif")
  got=$("${SRUN[@]}" --version)
  [ "$got" = "$VERSION" ] || die "apptainer --version printed '$got'"
  "${SRUN[@]}" /out participant --participant-label 01 >"$W/s01.log" 2>&1 &
  p1=$!
  "${SRUN[@]}" /out participant --participant-label 02 >"$W/s02.log" 2>&1 &
  p2=$!
  rc1=0 rc2=0
  wait "$p1" || rc1=$?
  wait "$p2" || rc2=$?
  cat "$W/s01.log" "$W/s02.log"
  [ "$rc1" = 0 ] && [ "$rc2" = 0 ] || die "apptainer participant runs exited $rc1 and $rc2"
  "${SRUN[@]}" /out group || die "apptainer group run exited $?"
  step_end

  step_start "validate the apptainer output on the host"
  check_dataset "$SING/out" sub-01 sub-02
  step_end
fi

log "container test passed in $(since "$T0") s"
