#!/usr/bin/env bash
# Run every test of the project: Rust (unit, realworld, differential, tamper, CLI, schema),
# then the Python and C binding suites. This is the command the README gives and the one CI runs.
#
# Every suite runs even when an earlier one fails; at the end a summary names each suite with
# its result and the closing lines of its test runners (cargo test, pytest), and the script
# exits non-zero if any suite failed (or could not be run: a missing or non-executable suite
# script is a failure, never skipped silently).
#
# Needs: cargo, git, curl, python3 (with venv), gcc. The test data is in the repository
# (tests/data/realworld; CRATE_PROVENANCE_REALWORLD may point elsewhere). Network:
# static.crates.io / index.crates.io only.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

logs=$(mktemp -d "${TMPDIR:-/tmp}/test-all.XXXXXX")
trap 'rm -rf "$logs"' EXIT

names=()
results=()
failures=0

# run_suite NAME COMMAND...: run COMMAND with its output shown as it comes and kept in a log
# for the summary.
run_suite() {
  local name=$1 start status
  shift
  echo "== $name"
  start=$SECONDS
  "$@" 2>&1 | tee "$logs/${#names[@]}.log"
  status=${PIPESTATUS[0]}
  names+=("$name")
  if [ "$status" -eq 0 ]; then
    results+=("passed in $((SECONDS - start)) s")
  else
    results+=("FAILED (exit status $status) after $((SECONDS - start)) s")
    failures=$((failures + 1))
  fi
}

# not_run NAME REASON: a suite that could not be started counts as failed.
not_run() {
  echo "== $1"
  echo "error: $2"
  : >"$logs/${#names[@]}.log"
  names+=("$1")
  results+=("FAILED: $2")
  failures=$((failures + 1))
}

run_suite "rust tests" cargo test --workspace --all-targets --no-fail-fast

for extra in "$root"/scripts/test-python.sh "$root"/scripts/test-c.sh; do
  name=$(basename "$extra")
  if [ ! -e "$extra" ]; then
    not_run "$name" "$extra is missing"
  elif [ ! -x "$extra" ]; then
    not_run "$name" "$extra is not executable"
  else
    run_suite "$name" "$extra"
  fi
done

# The lines of a suite's log that say how its runners ended: cargo's "test result:" line of
# every test binary, the failing tests and its list of failed targets; pytest's FAILED/ERROR
# lines and closing line; mypy's verdicts; error lines of the scripts.
closing_lines() {
  grep -E \
    -e '^test result: ' \
    -e '^---- .+ ----$' \
    -e '^error: [0-9]+ targets? failed' \
    -e '^    `[^`]+`$' \
    -e '^(FAILED|ERROR) ' \
    -e '^=+ .*(passed|failed|error|errors|skipped|xfailed|xpassed|no tests ran).* in [0-9.]+s.* =+$' \
    -e '^error' \
    -e '^=== provenance-c: ' \
    -e '^Success: ' \
    -e '^Found [0-9]+ errors? ' \
    "$1"
}

echo
echo "== summary"
for i in "${!names[@]}"; do
  echo "-- ${names[$i]}: ${results[$i]}"
  closing_lines "$logs/$i.log" | sed 's/^/   /'
done
if [ "$failures" -gt 0 ]; then
  echo "== $failures of ${#names[@]} suites failed"
  exit 1
fi
echo "== all tests passed"
