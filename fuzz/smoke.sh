#!/usr/bin/env bash
# Fuzz smoke test for CI: builds the cargo-fuzz targets on the stable toolchain (libFuzzer with
# SanitizerCoverage, no sanitizer: `-s none`, which needs no nightly), replays the seeds and every
# kept crasher, then fuzzes each target for a few seconds from a scratch corpus.
# Each target fuzzes for 12 s (libFuzzer's own -max_total_time); the outer `timeout` is only a
# hang guard with a wide margin, so a busy CI machine cannot fail the smoke test (issue 18).
# Long runs: see fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")"
SECS="${FUZZ_SMOKE_SECS:-12}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export CARGO_TARGET_DIR="$PWD/target"
cargo fuzz build -s none -O
bin="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in crate_parse vcs_info manifest file_selection; do
  mkdir -p "$scratch/$t" "$scratch/artifacts/$t"
  inputs=(seeds/"$t")
  if [ -d "artifacts/$t" ] && [ -n "$(ls -A "artifacts/$t")" ]; then
    inputs+=(artifacts/"$t")
    # Replay every kept crasher first: a regression fails here with its file name.
    "$bin/$t" -runs=0 -rss_limit_mb=2048 -timeout=20 artifacts/"$t"/* >"$scratch/$t.replay" 2>&1 ||
      { cat "$scratch/$t.replay"; echo "fuzz smoke: $t: a kept crasher fails again"; exit 1; }
  fi
  echo "== fuzz smoke: $t (${SECS}s)"
  timeout "$((SECS + 300))" "$bin/$t" "$scratch/$t" "${inputs[@]}" -max_total_time="$SECS" -rss_limit_mb=2048 \
    -timeout=10 -max_len=16384 -artifact_prefix="$scratch/artifacts/$t/" -print_final_stats=1 \
    >"$scratch/$t.log" 2>&1 || {
    status=$?
    tail -n 60 "$scratch/$t.log"
    ls "$scratch/artifacts/$t"
    echo "fuzz smoke: $t failed (exit $status)"
    exit 1
  }
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$scratch/$t.log" | tr '\n' ' '
  echo
done
echo "fuzz smoke: 4 targets clean"
