#!/usr/bin/env bash
# Run every test of the project: Rust (unit, realworld, differential, tamper, CLI, schema),
# then the Python and C binding suites. This is the command the README gives and the one CI runs.
#
# Needs: cargo, git, curl, python3 (with venv), gcc. The test data is in the repository
# (tests/data/realworld; CRATE_PROVENANCE_REALWORLD may point elsewhere). Network:
# static.crates.io / index.crates.io only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

echo "== rust tests"
cargo test --workspace --all-targets --no-fail-fast

for extra in "$root"/scripts/test-python.sh "$root"/scripts/test-c.sh; do
  if [ -x "$extra" ]; then
    echo "== $(basename "$extra")"
    "$extra"
  fi
done
echo "== all tests passed"
