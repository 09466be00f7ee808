#!/usr/bin/env bash
# Run the whole test suite (scripts/test-all.sh) while the machine is busy, to check that no
# test depends on elapsed time or machine speed (issue 18). Not run by CI.
#
# Usage: scripts/stress-tests.sh [-l LOAD] [-n RUNS] [-- COMMAND [ARGS...]]
#   -l LOAD  number of CPU-bound load processes (default: 2 x the number of cores;
#            STRESS_LOAD in the environment works too)
#   -n RUNS  how many times to run COMMAND in a row (default 1; STRESS_RUNS)
#   COMMAND  what to run under load (default: scripts/test-all.sh), e.g.
#            scripts/stress-tests.sh -n 3 -- cargo test -p provenance-core --test security_repo
#
# The load is `stress-ng --cpu LOAD` when stress-ng is installed, else LOAD plain shell busy
# loops. Each load process also ends on its own when this script is gone, and the script
# stops them on exit, Ctrl-C or TERM. Every run is timed; the script prints one line per run
# (status, duration, load average) and exits non-zero if any run failed. All runs are made
# even when one fails.
set -uo pipefail
cd "$(dirname "$0")/.."

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
load=${STRESS_LOAD:-$((2 * cores))}
runs=${STRESS_RUNS:-1}
usage() { sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -l) [ $# -ge 2 ] || usage; load=$2; shift 2 ;;
    -n) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) usage ;;
  esac
done
case "$load$runs" in *[!0-9]*) usage ;; esac
[ "$runs" -ge 1 ] || usage
if [ $# -eq 0 ]; then
  set -- scripts/test-all.sh
fi

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }

pids=()
stop_load() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap 'stop_load' EXIT
trap 'stop_load; exit 130' INT
trap 'stop_load; exit 143' TERM

me=$$
if [ "$load" -gt 0 ]; then
  if command -v stress-ng >/dev/null 2>&1; then
    how="stress-ng --cpu $load"
    stress-ng --cpu "$load" --quiet &
    pids+=("$!")
  else
    how="$load shell busy loops"
    for _ in $(seq "$load"); do
      # `kill -0` is a builtin: the loop stays CPU-bound and ends when this script is gone.
      ( trap - INT TERM; while kill -0 "$me" 2>/dev/null; do :; done ) &
      pids+=("$!")
    done
  fi
else
  how="no load"
fi
echo "== stress: $how on $cores cores; load average before: $(loadavg)"
echo "== stress: running $runs time(s): $*"

results=()
failed=0
for i in $(seq "$runs"); do
  echo "== stress: run $i of $runs ($(date -u +%H:%M:%SZ), load average $(loadavg))"
  start=$SECONDS
  "$@"
  status=$?
  took=$((SECONDS - start))
  line="run $i: $([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)") in $((took / 60)) min $((took % 60)) s, load average after: $(loadavg)"
  echo "== stress: $line"
  results+=("$line")
  [ "$status" -eq 0 ] || failed=$((failed + 1))
done
stop_load

echo
echo "== stress summary ($how on $cores cores): $*"
for line in "${results[@]}"; do
  echo "   $line"
done
if [ "$failed" -gt 0 ]; then
  echo "== stress: $failed of $runs run(s) failed"
  exit 1
fi
echo "== stress: all $runs run(s) passed"
