#!/usr/bin/env bash
# End-to-end scan on a mirror farm (issue 16): a loopback `git daemon` serving a directory of
# bare repositories laid out as OWNER/NAME (or OWNER/NAME.git), crates downloaded from the real
# registry, `crate-provenance scan --list VERSIONS --mirror https://github.com/=git://
# 127.0.0.1:PORT/` with a cold cache; then the reference method (full `git clone` from the same
# daemon + `git checkout` + `cargo package --no-verify --offline`) on a sample of the same
# versions, in the same run.
#
# Usage: benches/mirror_farm.sh FARM SAMPLE CRATE...
#   FARM: the directory of bare repositories; SAMPLE: versions per crate for the reference.
# The versions are every published version of CRATE... with `.cargo_vcs_info.json` (found by
# benches/mirror_farm_versions.py, which downloads them outside the scan's cache), scanned from
# one `--list`. Prints versions/s of the scan, seconds per version of both methods, pack bytes
# fetched per repository and per version (benches/mirror_farm_stats.py: the packs left in the
# cache), and the upload-pack requests the daemon served per repository (with the batch
# engine's prefetch: 1, or 2 when some commits are on no advertised tag or branch and
# reachability needs a deepen). JOBS: `scan --jobs` (default: the number of cores).
# Needs: git, cargo, python3 >= 3.11, network to index.crates.io and static.crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
farm=$(cd "$1" && pwd); sample=$2; shift 2
crates=("$@")
# BIN: an already built binary (e.g. a debug build, slower: conservative for "ours").
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin crate-provenance
fi
bin=${BIN:-${CARGO_TARGET_DIR:-$root/target}/release/crate-provenance}
tmp=$(mktemp -d)
# The reference runs cargo in third-party checkouts: the active toolchain, not theirs.
RUSTUP_TOOLCHAIN=$(rustup show active-toolchain | cut -d' ' -f1); export RUSTUP_TOOLCHAIN
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$(git --exec-path)/git-daemon" --export-all --base-path="$farm" --reuseaddr --listen=127.0.0.1 --port="$port" \
  --verbose "$farm" 2>"$tmp/daemon.log" &
daemon_pid=$!
cleanup() { kill "$daemon_pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
# Ready when it accepts a connection.
for _ in $(seq 200); do
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$port" 2>/dev/null && break
  sleep 0.05
done

# Step 1: the versions (every published version with vcs info), downloaded outside the cache.
python3 benches/mirror_farm_versions.py "$tmp/dl" "$tmp/list.txt" "$tmp/sample.txt" "${crates[@]}"

# Step 2: the scan, cold cache.
start=$(date +%s%N)
"$bin" scan --list "$tmp/list.txt" --out "$tmp/results.jsonl" --cache-dir "$tmp/cache" \
  --mirror "https://github.com/=git://127.0.0.1:$port/" --allow-insecure-transport \
  --format json ${JOBS:+--jobs "$JOBS"} >"$tmp/summary.json" 2>"$tmp/scan.err" || true
end=$(date +%s%N)
scan_ns=$((end - start))

# Step 3: its figures.
python3 benches/mirror_farm_stats.py "$tmp/results.jsonl" "$scan_ns" "$tmp/daemon.log" "$tmp/cache"

# The reference method on SAMPLE versions per crate (spread over the list).
ref_ns=0; ref_n=0; ref_ok=0
for c in "${crates[@]}"; do
  mapfile -t picks < <(grep "^SAMPLE $c " "$tmp/sample.txt" | awk -v n="$sample" '{a[NR]=$0} END {for (i=1;i<=n && i<=NR;i++) print a[int((i-0.5)*NR/n)+1]}')
  for p in "${picks[@]}"; do
    read -r _ name version repo sha path <<<"$p"
    rel=${repo#https://github.com/}; rel=${rel%.git}; rel=${rel%/}
    w=$tmp/ref-$name-$version
    s=$(date +%s%N)
    if git clone -q "git://127.0.0.1:$port/$rel" "$w" 2>/dev/null && git -C "$w" -c advice.detachedHead=false checkout -q "$sha" 2>/dev/null \
       && (cd "$w/$path" && CARGO_TARGET_DIR="$tmp/ref-target" cargo package --no-verify --allow-dirty --offline -q >/dev/null 2>&1); then
      ref_ok=$((ref_ok + 1))
    fi
    e=$(date +%s%N)
    ref_ns=$((ref_ns + e - s)); ref_n=$((ref_n + 1)); rm -rf "$w"
  done
done
python3 - "$scan_ns" "$(grep -c . "$tmp/results.jsonl")" "$ref_ns" "$ref_n" "$ref_ok" <<'EOF'
import sys
scan_ns, n, ref_ns, ref_n, ref_ok = map(int, sys.argv[1:])
ours = scan_ns / 1e9 / n
ref = ref_ns / 1e9 / max(1, ref_n)
print(f"reference (clone + checkout + cargo package): {ref_n} versions ({ref_ok} packaged), {ref:.2f} s/version")
print(f"ours: {ours:.2f} s/version (cold scan, downloads included) -> reference / ours = {ref/ours:.1f}x")
EOF
