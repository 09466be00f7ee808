#!/usr/bin/env bash
# Our one-revision fetch vs git, against the same local `git daemon`, same repository, in one run.
#   ours: `crate-provenance verify --crate-file X --repo git://127.0.0.1:PORT/repo.git
#          --allow-insecure-transport --cache-dir <fresh>` (fetch the recorded commit by id with
#          depth 1, then verify)
#   git:  `git clone --depth 1 git://… && git fetch --depth 1 origin SHA` (the 2024 study's
#          cheapest equivalent, without checkout: --no-checkout)
# Median of 5 runs each, wall clock. Usage: benches/fetch.sh [ID ...] (default: pin-project-1.1.13
# ryu-1.0.23 walkdir-2.5.0). Needs: git, python3, the realworld crates cached by the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rw=${CRATE_PROVENANCE_REALWORLD:-$root/tests/data/realworld}
cache=$root/target/realworld-cache
cargo build --release --quiet
bin=$root/target/release/crate-provenance
ids=("$@"); [ ${#ids[@]} -gt 0 ] || ids=(pin-project-1.1.13 ryu-1.0.23 walkdir-2.5.0)
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
daemon_pid=
cleanup() { [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { python3 -c "import sys; print(f'{int(sys.argv[1])/1e6:.0f} ms')" "$1"; }

echo "| crate | repository commits | ours (fetch + verify) | git clone --depth 1 + fetch | git / ours |"
echo "|---|---:|---:|---:|---:|"
for id in "${ids[@]}"; do
  read -r archive sha commits < <(python3 -c '
import json,sys
e=json.load(open(sys.argv[1]))
print(e["repo_archive"], e["vcs_info"]["git"]["sha1"], e["repo_upstream"]["commits"])' "$rw/$id/expected.json")
  base=$tmp/serve-$id; mkdir -p "$base"
  tar -xzf "$rw/$archive" -C "$base"
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  git daemon --export-all --base-path="$base" --reuseaddr --listen=127.0.0.1 --port="$port" "$base" &
  daemon_pid=$!
  sleep 0.5
  url=git://127.0.0.1:$port/repo.git
  [ -f "$cache/crates/$id.crate" ] || { echo "missing $cache/crates/$id.crate: run the test suite once" >&2; exit 1; }
  ours=(); gits=()
  for i in 1 2 3 4 5; do
    c=$tmp/cache-$id-$i
    s=$(date +%s%N)
    "$bin" verify --crate-file "$cache/crates/$id.crate" --repo "$url" --allow-insecure-transport --cache-dir "$c" --format json >/dev/null || true
    e=$(date +%s%N); ours+=($((e - s))); rm -rf "$c"
    g=$tmp/git-$id-$i
    s=$(date +%s%N)
    git clone -q --no-checkout --depth 1 "$url" "$g" && git -C "$g" fetch -q --depth 1 origin "$sha"
    e=$(date +%s%N); gits+=($((e - s))); rm -rf "$g"
  done
  o=$(printf '%s\n' "${ours[@]}" | median); g=$(printf '%s\n' "${gits[@]}" | median)
  ratio=$(python3 -c "import sys; print(f'{int(sys.argv[2])/int(sys.argv[1]):.2f}x')" "$o" "$g")
  echo "| $id | $commits | $(ms "$o") | $(ms "$g") | $ratio |"
done
