#!/usr/bin/env bash
# End-to-end scan on a mirror farm (issue 16): a loopback `git daemon` serving a directory of
# bare repositories laid out as OWNER/NAME (or OWNER/NAME.git), crates downloaded from the real
# registry, `crate-provenance scan --all-versions NAME... --mirror https://github.com/=git://
# 127.0.0.1:PORT/` with a cold cache; then the reference method (full `git clone` from the same
# daemon + `git checkout` + `cargo package --no-verify --offline`) on a sample of the same
# versions, in the same run.
#
# Usage: benches/mirror_farm.sh FARM SAMPLE CRATE...
#   FARM: the directory of bare repositories; SAMPLE: versions per crate for the reference.
# Prints versions/s of the scan, seconds per version of both methods, pack bytes fetched per
# repository and per version (from the reports' `fetch.repository.bytes`), and how many
# upload-pack requests the daemon served per repository (one fetch per repository would be 1).
# Needs: git, cargo, python3, network to index.crates.io and static.crates.io.
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

args=()
for c in "${crates[@]}"; do args+=(--all-versions "$c"); done
start=$(date +%s%N)
"$bin" scan "${args[@]}" --out "$tmp/results.jsonl" --cache-dir "$tmp/cache" \
  --mirror "https://github.com/=git://127.0.0.1:$port/" --allow-insecure-transport \
  --format json >"$tmp/summary.json" || true
end=$(date +%s%N)
scan_ns=$((end - start))

python3 - "$tmp/results.jsonl" "$scan_ns" "$tmp/daemon.log" >"$tmp/stats.txt" <<'EOF'
import collections, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ns = int(sys.argv[2])
verdicts = collections.Counter(l.get("verdict") or "error:" + l["error"]["kind"] for l in lines)
with_vcs = [l for l in lines if l.get("source", {}).get("commit")]
by_repo = collections.defaultdict(list)
for l in with_vcs:
    r = (l.get("fetch") or {}).get("repository") or {}
    by_repo[l["source"]["repository"]].append(r.get("bytes", 0))
packs = collections.Counter()
for line in open(sys.argv[3]):
    if "Request upload-pack for" in line:
        packs[line.split("'")[1]] += 1
print(f"versions scanned: {len(lines)} ({len(with_vcs)} with vcs info); verdicts: {dict(verdicts)}")
print(f"scan wall clock: {ns/1e9:.1f} s = {len(lines)/(ns/1e9):.2f} versions/s = {ns/1e9/len(lines):.2f} s/version")
for repo, b in sorted(by_repo.items()):
    print(f"  {repo}: {len(b)} versions, {sum(b)} pack bytes fetched, {sum(b)//max(1,len(b))} per version")
print(f"upload-pack requests per repository: {dict(packs)}")
for l in with_vcs:
    print("SAMPLE", l["crate"]["name"], l["crate"]["version"], l["source"]["repository"],
          l["source"]["commit"], l["source"].get("path_in_vcs") or "")
EOF
grep -v '^SAMPLE' "$tmp/stats.txt"

# The reference method on SAMPLE versions per crate (spread over the list).
ref_ns=0; ref_n=0; ref_ok=0
for c in "${crates[@]}"; do
  mapfile -t picks < <(grep "^SAMPLE $c " "$tmp/stats.txt" | awk -v n="$sample" '{a[NR]=$0} END {for (i=1;i<=n && i<=NR;i++) print a[int((i-0.5)*NR/n)+1]}')
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
