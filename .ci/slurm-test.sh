#!/usr/bin/env bash
# The README's SLURM recipe on a real single-node SLURM cluster (issue 14 item 6).
#
# Starts munged, slurmctld and slurmd on this machine, configured in a temporary folder (nothing
# under /etc is read or changed; the daemons listen on 127.0.0.1 only), writes the two code
# blocks of the README's "SLURM" section as they are (the participant array script and the
# submission commands), submits them, waits (bounded) for the array and the dependent group job,
# and checks the dataset: every participant, a valid dataset (asldro validate: own checks,
# pybids, bids-validator-deno), participants.tsv with every row. The daemons and the folder are
# removed at the end, also on failure or interruption.
#
# Apptainer: the recipe runs `apptainer run ... asldro-<version>.sif`. This script runs on the CI
# host, where Apptainer is not installed (the container stage runs Apptainer inside a privileged
# podman container, where SLURM is not); so it puts a stand-in `apptainer` first on the jobs'
# PATH that runs the venv's run.py with each bind's container path replaced by its host path
# (-B SRC:DST[:ro]) -- the recipe's arguments reach run.py unchanged.
#
# Needs: slurmctld, slurmd, slurm-client and munge (Debian packages; .ci/run installs them) and
# the project's venv (.venv). Usage: bash .ci/slurm-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TIMEOUT=${SLURM_TEST_TIMEOUT:-900}

for tool in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$tool" >/dev/null || { echo "slurm-test: $tool not found (Debian: slurmctld slurmd slurm-client munge)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/asldro-slurm.XXXXXX")
pids=()
cleanup() {
  local status=$?
  [ -z "${SLURM_CONF:-}" ] || scancel --quiet --user="$(id -un)" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$status" != 0 ]; then
    for log in "$work"/*.log "$work"/run/slurm-*.out; do
      [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 20 "$log"; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# munge: its own key, socket, pid, seed and log files
mkdir -p "$work/munge" "$work/spool" "$work/state" "$work/bin" "$work/run"
chmod 700 "$work/munge"
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
munged --force --foreground --key-file="$work/munge/munge.key" --socket="$socket" \
  --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" \
  --log-file="$work/munged.log" >>"$work/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "slurm-test: munged did not start" >&2; exit 1; }

# slurm.conf: one node (this machine's CPUs and memory), one partition, no accounting
host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/^MemTotal:/ {print int($2 / 1024) - 512}' /proc/meminfo)
user=$(id -un)
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=asldroci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i >>"$work/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D >>"$work/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do
  sinfo --noheader --states=idle --format=%n 2>/dev/null | grep -qx "$host" && break
  sleep 0.2
done
sinfo --noheader --states=idle --format=%n | grep -qx "$host" || {
  echo "slurm-test: the node did not become idle" >&2; sinfo >&2 || true; exit 1; }

# The recipe: the README's two code blocks of the SLURM section, written as they are
python3 - "$ROOT/README.md" "$work/run" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("### SLURM", 1)[1].split("\n### ", 1)[0]
blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
assert len(blocks) == 2, f"the README's SLURM section has {len(blocks)} bash blocks, expected 2"
open(f"{sys.argv[2]}/participants.sbatch", "w", encoding="utf-8").write(blocks[0])
open(f"{sys.argv[2]}/submit.sh", "w", encoding="utf-8").write(blocks[1])
EOF
image=$(grep -o 'asldro-[0-9][0-9.]*\.sif' "$work/run/participants.sbatch" | head -n 1)
count=$(grep -o -- '--array=1-[0-9]*' "$work/run/submit.sh" | head -n 1 | cut -d- -f4)

cat >"$work/bin/apptainer" <<EOF
#!/usr/bin/env bash
# stand-in for 'apptainer run [--containall] -B SRC:DST[:ro] ... IMAGE ARGS...' (see
# .ci/slurm-test.sh): the venv's run.py with each DST in ARGS replaced by its SRC
set -euo pipefail
[ "\$1" = run ] || { echo "apptainer stand-in: only 'run' is supported" >&2; exit 2; }
shift
binds=()
while [ \$# -gt 0 ]; do
  case "\$1" in
    --containall) shift ;;
    -B|--bind) binds+=("\$2"); shift 2 ;;
    *.sif) shift; break ;;
    *) echo "apptainer stand-in: unexpected option \$1" >&2; exit 2 ;;
  esac
done
args=()
for arg in "\$@"; do
  for bind in "\${binds[@]}"; do
    IFS=: read -r src dst _ <<<"\$bind"
    if [ "\$arg" = "\$dst" ]; then arg=\$src; fi
  done
  args+=("\$arg")
done
exec "$ROOT/.venv/bin/python" "$ROOT/run.py" "\${args[@]}"
EOF
chmod +x "$work/bin/apptainer"
touch "$work/run/$image"  # the image file the recipe names (the stand-in does not read it)

cd "$work/run"
"$ROOT/.venv/bin/asldro" output params params.json
# the default parameters with a two-group cohort (docs/cohort.md), so that participants.tsv
# carries each participant's drawn truth: a column missing from a row would show
"$ROOT/.venv/bin/python" - params.json <<'PY'
import json, sys
path = sys.argv[1]
document = json.load(open(path, encoding="utf-8"))
normal = lambda mean, sd: {"distribution": "normal", "mean": mean, "sd": sd}
document["global_configuration"]["cohort"] = {
    "tissues": {"grey_matter": {"perfusion_rate": normal(60, 8)}},
    "groups": [
        {"name": "control", "share": 0.5},
        {"name": "patient", "share": 0.5,
         "tissues": {"grey_matter": {"perfusion_rate": normal(40, 8)}}},
    ],
}
json.dump(document, open(path, "w", encoding="utf-8"), indent=2)
PY
export PATH=$work/bin:$PATH
echo "slurm-test: submitting the README's recipe ($count participants, then the group job)"
bash -euo pipefail submit.sh

deadline=$(($(date +%s) + TIMEOUT))
while [ -n "$(squeue --noheader --format=%i)" ]; do
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "slurm-test: jobs still queued or running after ${TIMEOUT} s" >&2; squeue >&2; exit 1
  fi
  sleep 2
done
states=$(scontrol show job --oneliner | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
echo "slurm-test: job states: $(echo "$states" | tr -s ' \n' ' ')"
if scontrol show job --oneliner | grep -o 'JobState=[A-Z_]*' | grep -vqx 'JobState=COMPLETED'; then
  echo "slurm-test: not every job completed" >&2; exit 1
fi

# The dataset: every participant, participants.tsv complete, valid
out=$work/run/dro
found=$(find "$out" -maxdepth 1 -name 'sub-*' -type d | wc -l)
rows=$(($(wc -l <"$out/participants.tsv") - 1))
[ "$found" = "$count" ] || { echo "slurm-test: $found participant folders, expected $count" >&2; exit 1; }
[ "$rows" = "$count" ] || { echo "slurm-test: participants.tsv has $rows rows, expected $count" >&2; exit 1; }
for i in $(seq "$count"); do
  grep -qP "^sub-$(printf %02d "$i")\t(control|patient)\t[0-9.]+$" "$out/participants.tsv" || {
    echo "slurm-test: participants.tsv lacks sub-$(printf %02d "$i") with its group and CBF" >&2
    cat "$out/participants.tsv" >&2; exit 1; }
done
head -1 "$out/participants.tsv" | grep -qx "participant_id	group	grey_matter_perfusion_rate" || {
  echo "slurm-test: participants.tsv columns: $(head -1 "$out/participants.tsv")" >&2; exit 1; }
[ -s "$out/code/cohort_summary.tsv" ] || { echo "slurm-test: no cohort summary" >&2; exit 1; }
"$ROOT/.venv/bin/asldro" validate "$out" >"$work/validate.log" 2>&1 || {
  echo "slurm-test: the dataset failed validation" >&2; cat "$work/validate.log" >&2; exit 1; }
echo "slurm-test: $count participants and the group job ran under SLURM; the dataset is valid"
