#!/usr/bin/env bash
# End-to-end scan on an air-gapped mirror farm (issue 16): a loopback `git daemon` serving a
# directory of bare repositories laid out as OWNER/NAME.git, and a registry mirror (a cargo
# `local-registry` holding the index files and every `.crate` of CRATE..., downloaded once from
# static.crates.io and checked against the index's SHA-256), read through `--cargo-config`
# (`[source.crates-io] replace-with`). Timed: `crate-provenance scan --list VERSIONS --mirror
# https://github.com/=git://127.0.0.1:PORT/ --cargo-config …` with a cold cache (every
# repository fetched from the daemon, every `.crate` read from the registry mirror), then the same
# scan again on the now warm cache; then the reference method on a sample of the same versions,
# in the same run: `git clone` from the same daemon + `git checkout` + `cargo package
# --no-verify --offline` + reading the same `.crate` from the registry mirror.
#
# Usage: benches/mirror_farm.sh FARM SAMPLE CRATE...
#   FARM: the directory of bare repositories; SAMPLE: versions per crate for the reference.
# The versions are every published version of CRATE... with `.cargo_vcs_info.json` (found by
# benches/mirror_farm_versions.py while it fills the registry mirror), scanned from one `--list`.
# Prints versions/s of the scans, seconds per version of both methods, pack bytes fetched per
# repository and per version (benches/mirror_farm_stats.py: the packs left in the cache), and the
# upload-pack requests the daemon served per repository (the batch engine's prefetch: 1, or 2
# when some commits are on no advertised tag or branch and reachability needs a deepen).
# JOBS: `scan --jobs` (default: the number of cores). REAL_REGISTRY=1: the scan downloads from
# the real registry instead of the mirror (the crates' download inside the timed scan). REGISTRY: where the registry mirror is kept
# between runs (default: TARGET/mirror-farm-registry; only missing or wrong files are downloaded).
# Needs: git, cargo, python3 >= 3.11; network to index.crates.io and static.crates.io only to fill
# the registry mirror, before anything is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
farm=$(cd "$1" && pwd); sample=$2; shift 2
crates=("$@")
target=${CARGO_TARGET_DIR:-$root/target}
# BIN: an already built binary (e.g. a debug build, slower: conservative for "ours").
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin crate-provenance
fi
bin=${BIN:-$target/release/crate-provenance}
registry=${REGISTRY:-$target/mirror-farm-registry}
mkdir -p "$registry"; registry=$(cd "$registry" && pwd)
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

# Step 1: the registry mirror and the versions (every published version with vcs info).
python3 benches/mirror_farm_versions.py "$registry" "$tmp/list.txt" "$tmp/sample.txt" "${crates[@]}"
mkdir -p "$tmp/cfg/.cargo"
printf '[source.crates-io]\nreplace-with = "farm"\n\n[source.farm]\nlocal-registry = "%s"\n' "$registry" \
  >"$tmp/cfg/.cargo/config.toml"

# Step 2: the scan, cold cache.
start=$(date +%s%N)
# REAL_REGISTRY=1: the crates from index.crates.io and static.crates.io inside the timed scan
# (not air-gapped) instead of the registry mirror.
registry_args=(--cargo-config "$tmp/cfg/.cargo/config.toml")
[ -n "${REAL_REGISTRY:-}" ] && registry_args=()
scan() {
  "$bin" scan --list "$tmp/list.txt" --out "$1" --cache-dir "$tmp/cache" \
    --mirror "https://github.com/=git://127.0.0.1:$port/" --allow-insecure-transport \
    "${registry_args[@]}" \
    --format json ${JOBS:+--jobs "$JOBS"} >"$tmp/summary.json" 2>"$tmp/scan.err" || true
}
scan "$tmp/results.jsonl"
end=$(date +%s%N)
scan_ns=$((end - start))

# Step 3: its figures.
python3 benches/mirror_farm_stats.py "$tmp/results.jsonl" "$scan_ns" "$tmp/daemon.log" "$tmp/cache"

# The same scan again, warm cache (nothing fetched): the per-version cost of the scan itself.
start=$(date +%s%N)
scan "$tmp/warm.jsonl"
end=$(date +%s%N)
warm_ns=$((end - start))
# Compared without the run metadata of docs/VERDICTS.md (fetch.repository strategy, objects,
# bytes, commit_objects): a warm scan fetches nothing.
python3 - "$tmp/results.jsonl" "$tmp/warm.jsonl" "$warm_ns" <<'EOF'
import json, sys
def answers(path):
    out = []
    for line in open(path):
        d = json.loads(line)
        for k in ("strategy", "objects", "bytes", "commit_objects"):
            ((d.get("fetch") or {}).get("repository") or {}).pop(k, None)
        out.append(json.dumps(d, sort_keys=True))
    return sorted(out)
cold, warm = answers(sys.argv[1]), answers(sys.argv[2])
ns, n = int(sys.argv[3]), len(cold)
same = "identical" if cold == warm else "DIFFERENT"
print(f"warm scan: {ns/1e9:.2f} s = {ns/1e9/n*1000:.1f} ms/version (answers {same} to the cold scan's)")
EOF

# The reference method on SAMPLE versions per crate (spread over the list).
ref_ns=0; ref_n=0; ref_ok=0; ref_ok_ns=0
for c in "${crates[@]}"; do
  mapfile -t picks < <(grep "^SAMPLE $c " "$tmp/sample.txt" | awk -v n="$sample" '{a[NR]=$0} END {for (i=1;i<=n && i<=NR;i++) print a[int((i-0.5)*NR/n)+1]}')
  for p in "${picks[@]}"; do
    read -r _ name version repo sha path <<<"$p"
    rel=${repo#https://github.com/}; rel=${rel%.git}; rel=${rel%/}
    w=$tmp/ref-$name-$version
    s=$(date +%s%N)
    ok=0
    if git clone -q "git://127.0.0.1:$port/$rel" "$w" 2>/dev/null && git -C "$w" -c advice.detachedHead=false checkout -q "$sha" 2>/dev/null \
       && (cd "$w/$path" && CARGO_TARGET_DIR="$tmp/ref-target" cargo package --no-verify --allow-dirty --offline -q >/dev/null 2>&1) \
       && sha256sum "$registry/$name-$version.crate" >/dev/null; then
      ok=1
    fi
    e=$(date +%s%N)
    ref_ns=$((ref_ns + e - s)); ref_n=$((ref_n + 1)); rm -rf "$w"
    if [ "$ok" = 1 ]; then ref_ok=$((ref_ok + 1)); ref_ok_ns=$((ref_ok_ns + e - s)); fi
  done
done
python3 - "$scan_ns" "$(grep -c . "$tmp/results.jsonl")" "$ref_ns" "$ref_n" "$ref_ok" "$ref_ok_ns" <<'EOF'
import sys
scan_ns, n, ref_ns, ref_n, ref_ok, ref_ok_ns = map(int, sys.argv[1:])
ours = scan_ns / 1e9 / n
ref = ref_ns / 1e9 / max(1, ref_n)
# A `cargo package` that fails (e.g. a lock file it cannot resolve offline) ends early: the
# mean over the packaged versions alone is printed too.
print(f"reference, packaged versions only: {ref_ok_ns / 1e9 / max(1, ref_ok):.3f} s/version")
print(f"reference (clone + checkout + cargo package + read the .crate): {ref_n} versions ({ref_ok} packaged), {ref:.3f} s/version")
print(f"ours: {ours:.3f} s/version (cold scan: every repository fetched, every .crate read) -> reference / ours = {ref/ours:.1f}x")
EOF
