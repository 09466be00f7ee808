#!/usr/bin/env bash
# Measure, in one run on this machine, for every tests/data/realworld crate:
#   ours       offline verify (crate bytes + local repository -> report), criterion median
#   floor      gunzip + untar into memory + hashing every file as a git blob, criterion median
#   reference  the 2024 study's method: `git worktree add --detach` at the commit, then
#              `cargo package --no-verify --allow-dirty --offline` in path_in_vcs, then compare
#              the archive listings; median of 3 runs (wall clock)
#   peak RSS   of one `crate-provenance verify --crate-file ... --repo ...` process
# plus scan throughput (100 verifications, warm caches, 1 and 2 threads), and print a markdown
# table. Usage: benches/report.sh   (needs cargo, git, /usr/bin/time; network for crate downloads)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export RUSTUP_TOOLCHAIN="${RUSTUP_TOOLCHAIN:-$(rustup show active-toolchain 2>/dev/null | cut -d' ' -f1 || true)}"
[ -n "$RUSTUP_TOOLCHAIN" ] || unset RUSTUP_TOOLCHAIN

cargo build --release --quiet
[ -n "${SKIP_BENCH:-}" ] || cargo bench --bench verify -- --noplot >"$root/target/bench-verify.log" 2>&1 || { tail -20 "$root/target/bench-verify.log" >&2; exit 1; }
bin=$root/target/release/crate-provenance
cache=$root/target/realworld-cache
rw=${CRATE_PROVENANCE_REALWORLD:-$root/tests/data/realworld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median_ns() { # criterion estimates.json -> median in ns
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' "$1"
}

printf '| crate | files | ours | floor | reference | reference / ours | ours / floor | peak RSS |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
ratios=()
for dir in "$rw"/*/; do
  id=$(basename "$dir"); [ -f "$dir/expected.json" ] || continue
  read -r archive rev path files < <(python3 -c '
import json,sys
e=json.load(open(sys.argv[1]))
r=e["reference"]
print(e["repo_archive"], r["rev"], r["path_in_vcs"] or ".", len(r["files_published"]))' "$dir/expected.json")
  repo=$cache/repos/${archive//\//_}/repo.git
  crate=$cache/crates/$id.crate
  ours=$(median_ns "target/criterion/verify_offline/$id/new/estimates.json")
  floor=$(median_ns "target/criterion/floor/$id/new/estimates.json")
  # Reference: worktree + cargo package, 3 runs, median wall clock.
  times=()
  for i in 1 2 3; do
    wt=$tmp/wt-$id-$i
    start=$(date +%s%N)
    git --git-dir="$repo" worktree prune
    git --git-dir="$repo" worktree add -q --detach "$wt" "$rev" >/dev/null 2>&1 || { echo "$id: worktree add failed" >&2; exit 1; }
    ( cd "$wt/$path" && CARGO_TARGET_DIR=$tmp/target-$id cargo package --no-verify --allow-dirty --offline -q >/dev/null 2>&1 \
      || CARGO_TARGET_DIR=$tmp/target-$id cargo package --no-verify --allow-dirty -q >/dev/null 2>&1 || true )
    pkg=$(ls "$tmp"/target-"$id"/package/*.crate 2>/dev/null | head -1 || true)
    [ -n "$pkg" ] && diff <(tar -tzf "$pkg" | sed 's|^[^/]*/||' | sort) <(tar -tzf "$crate" | sed 's|^[^/]*/||' | sort) >/dev/null || true
    end=$(date +%s%N)
    times+=($((end - start)))
    git --git-dir="$repo" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"
    git --git-dir="$repo" worktree prune
    rm -rf "$tmp/target-$id"
  done
  ref=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  # (exit status 1 for a non-match verdict is expected here)
  rss=$( { /usr/bin/time -v "$bin" verify --crate-file "$crate" --repo "$repo" --format json >/dev/null || true; } 2>&1 | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' )
  read -r ratio line < <(python3 -c '
import sys
ours,floor,ref,rss,files,id=float(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]),sys.argv[5],sys.argv[6]
f=lambda ns: f"{ns/1e6:.2f} ms" if ns<1e9 else f"{ns/1e9:.2f} s"
print(ref/ours, f"| {id} | {files} | {f(ours)} | {f(floor)} | {f(ref)} | {ref/ours:.0f}x | {ours/floor:.1f}x | {rss/1024:.1f} MiB |")' "$ours" "$floor" "$ref" "$rss" "$files" "$id")
  echo "$line"
  ratios+=("$ratio")
done
med=$(printf '%s\n' "${ratios[@]}" | sort -g | python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.stdin):.0f}")')
echo
echo "median reference / ours: ${med}x"
for j in 1 2; do
  est=target/criterion/scan_throughput/jobs$j/new/estimates.json
  python3 -c 'import json,sys; ns=json.load(open(sys.argv[1]))["median"]["point_estimate"]; print(f"scan throughput, {sys.argv[2]} job(s): {100/(ns/1e9):.0f} crate versions/s")' "$est" "$j"
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m)"
