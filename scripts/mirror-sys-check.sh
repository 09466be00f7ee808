#!/usr/bin/env bash
# Issue 16 acceptance, by hand: the -sys crates whose C sources live in submodules (and the
# objc2 crates whose `src/generated` links into one) verify as `match` against a directory of
# bare repositories laid out as OWNER/NAME (or OWNER/NAME.git), through
# `--mirror https://github.com/=FARM/`. Needs those repositories (not committed: third-party):
#   rust-lang/libz-sys madler/zlib zlib-ng/zlib-ng gyscos/zstd-rs facebook/zstd
#   alexcrichton/xz2-rs xz-mirror/xz purpleprotocol/mimalloc_rust microsoft/mimalloc
#   madsmtm/objc2 madsmtm/objc2-generated
# and network to the real registry. Usage: scripts/mirror-sys-check.sh FARM
set -euo pipefail
cd "$(dirname "$0")/.."
farm=$(cd "$1" && pwd)
cargo build --quiet --bin crate-provenance
bin=${CARGO_TARGET_DIR:-target}/debug/crate-provenance
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
status=0
for spec in libz-sys@1.1.16 zstd-sys@2.0.13+zstd.1.5.6 lzma-sys@0.1.20 libmimalloc-sys@0.1.49 \
            objc2-foundation@0.3.2 objc2-core-foundation@0.3.2 objc2-core-graphics@0.3.2 dispatch2@0.3.1; do
  if "$bin" verify "$spec" --mirror "https://github.com/=$farm/" --cache-dir "$cache" >"$cache/out.txt"; then
    echo "ok   $spec: $(head -1 "$cache/out.txt")"
  else
    echo "FAIL $spec: $(head -1 "$cache/out.txt")"; status=1
  fi
done
exit $status
