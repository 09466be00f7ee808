#!/usr/bin/env bash
# Everything CI runs for the C library (issue 6), in order:
#   1. install the pinned cbindgen (into provenance-c/.tools) unless $CBINDGEN already is it
#   2. regenerate the header and fail on any difference from the committed one
#   3. rustfmt + clippy for provenance-c
#   4. cargo test -p provenance-c: unit tests, header/version tests, C tests (tests/c/*.c and
#      examples/c/*.c) built against the staticlib and run plainly and under ASan+UBSan; the
#      SECURITY.md B1 test links a second staticlib built with the test-only `fault-injection`
#      feature in <target>/fault-injection (never in release builds or `make install`)
#   5. the same C tests under valgrind (--error-exitcode --leak-check=full)
#   6. `make install PREFIX=<tmp>`, then build examples/c/*.c with
#      `cc prog.c $(pkg-config --cflags --libs crate-provenance)` (and statically), and check
#      that for every realworld crate the C program prints byte-for-byte the CLI's
#      `verify --format json` output with the same exit status, and tests/c/inspect.c the CLI's
#      `inspect --format json` output; run sbom_check over all of them
#
# Usage: provenance-c/tests/run.sh [--fix-header | --skip-tests]
#   --fix-header  regenerate the header in place and stop
#   --skip-tests  skip steps 3-5 (quick re-run of the install/pkg-config acceptance)
# Needs: cargo, cc (gcc), valgrind, pkg-config, curl, sha256sum, tar, and the realworld data
# set at tests/data/realworld in the workspace (or $PROV_REALWORLD_DIR).
set -euo pipefail

CBINDGEN_VERSION=0.29.4

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) # provenance-c
root=$(cd "$here/.." && pwd)
cd "$root"
step() { printf '\n=== %s\n' "$*"; }

# ---------------------------------------------------------------- 1. pinned cbindgen
step "cbindgen $CBINDGEN_VERSION"
CBINDGEN=${CBINDGEN:-$here/.tools/bin/cbindgen}
if ! "$CBINDGEN" --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --root "$here/.tools"
    CBINDGEN=$here/.tools/bin/cbindgen
fi
export CBINDGEN
"$CBINDGEN" --version

# ---------------------------------------------------------------- 2. header up to date
header=$here/include/crate_provenance.h
if [[ ${1:-} == --fix-header ]]; then
    (cd "$here" && "$CBINDGEN" --config cbindgen.toml --crate provenance-c --quiet --output "$header")
    echo "regenerated $header"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step "header is up to date"
(cd "$here" && "$CBINDGEN" --config cbindgen.toml --crate provenance-c --quiet --output "$tmp/crate_provenance.h")
if ! diff -u "$header" "$tmp/crate_provenance.h"; then
    echo "error: provenance-c/include/crate_provenance.h is stale; run provenance-c/tests/run.sh --fix-header" >&2
    exit 1
fi

skip_tests=false
[[ ${1:-} == --skip-tests ]] && skip_tests=true

if ! $skip_tests; then
# ---------------------------------------------------------------- 3. lints
step "fmt + clippy"
cargo fmt -p provenance-c -- --check
cargo clippy -p provenance-c --all-targets --no-deps -- -D warnings

# ---------------------------------------------------------------- 4./5. tests
step "cargo test (unit, header, C tests plain + ASan/UBSan)"
cargo test -p provenance-c
step "C tests under valgrind"
command -v valgrind >/dev/null || { echo "error: valgrind not installed" >&2; exit 1; }
cargo test -p provenance-c --test c_harness valgrind -- --ignored
fi

# ---------------------------------------------------------------- 6. install + pkg-config
step "make install + pkg-config acceptance"
command -v pkg-config >/dev/null || { echo "error: pkg-config not installed (apt-get install -y pkg-config)" >&2; exit 1; }
prefix=$tmp/prefix
# Library and CLI from one cargo invocation, so both use the same build of provenance-core.
cargo build --release -p provenance-c -p crate-provenance
cli=${CARGO_TARGET_DIR:-$root/target}/release/crate-provenance
make -C provenance-c install PREFIX="$prefix"
for f in lib/libcrate_provenance.so lib/libcrate_provenance.a include/crate_provenance.h lib/pkgconfig/crate-provenance.pc; do
    test -f "$prefix/$f" || { echo "error: $prefix/$f not installed" >&2; exit 1; }
done
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
version=$(sed -n 's/^#define PROV_VERSION_STRING "\(.*\)"/\1/p' "$header")
test "$(pkg-config --modversion crate-provenance)" = "$version"

cc_flags=(-std=c11 -Wall -Wextra -Werror -O2)
# shellcheck disable=SC2046 # word splitting of pkg-config output is intended
cc "${cc_flags[@]}" examples/c/verify.c $(pkg-config --cflags --libs crate-provenance) -o "$tmp/verify"
# shellcheck disable=SC2046
cc "${cc_flags[@]}" examples/c/sbom_check.c $(pkg-config --cflags --libs crate-provenance) -o "$tmp/sbom_check"
# Static linking (recommended for shipping): the archive plus its native dependencies.
# shellcheck disable=SC2046
cc "${cc_flags[@]}" examples/c/verify.c $(pkg-config --cflags crate-provenance) \
    "$(pkg-config --variable=libdir crate-provenance)/libcrate_provenance.a" \
    $(pkg-config --variable=native_static_libs crate-provenance) -o "$tmp/verify-static"
# shellcheck disable=SC2046
cc "${cc_flags[@]}" provenance-c/tests/c/inspect.c $(pkg-config --cflags --libs crate-provenance) -o "$tmp/inspect"
if ldd "$tmp/verify-static" | grep -q crate_provenance; then
    echo "error: verify-static links the shared library" >&2
    exit 1
fi

realworld=${PROV_REALWORLD_DIR:-$root/tests/data/realworld}
if [[ ! -f $realworld/README.md ]]; then
    echo "error: realworld data set not found at $realworld (set PROV_REALWORLD_DIR)" >&2
    exit 1
fi
cache=$here/tests/.cache
mkdir -p "$cache/repos" "$tmp/repos"
json_field() { sed -n "s/^  \"$2\": \"\(.*\)\",\{0,1\}$/\1/p" "$1" | head -n 1; }

: >"$tmp/sbom.txt"
: >"$tmp/sbom.expected"
checked=0
for expected in "$realworld"/*/expected.json; do
    nv=$(basename "$(dirname "$expected")")
    url=$(json_field "$expected" crate_url)
    sha=$(json_field "$expected" crate_sha256)
    archive=$(json_field "$expected" repo_archive)
    want=$(json_field "$expected" expected_verdict)
    crate=$cache/$nv.crate
    # Same cache layout as tests/c_harness.rs.
    if ! echo "$sha  $crate" | sha256sum -c --status 2>/dev/null; then
        curl -fsSL --retry 3 -o "$crate.part$$" "$url"
        echo "$sha  $crate.part$$" | sha256sum -c --status || { echo "error: sha256 of $url" >&2; exit 1; }
        mv "$crate.part$$" "$crate"
    fi
    key=${archive//[\/+]/_}
    key=${key%.tar.gz}
    if [[ ! -f $cache/repos/$key/repo.git/HEAD ]]; then
        rm -rf "$cache/repos/$key.part$$"
        mkdir -p "$cache/repos/$key.part$$"
        tar -xzf "$realworld/$archive" -C "$cache/repos/$key.part$$"
        rm -rf "$cache/repos/$key"
        mv "$cache/repos/$key.part$$" "$cache/repos/$key"
    fi
    repo=$cache/repos/$key/repo.git

    # The C program and the CLI: same bytes, same exit status.
    c_status=0 cli_status=0 s_status=0
    "$tmp/verify" "$crate" "$repo" >"$tmp/c.json" || c_status=$?
    "$cli" verify --crate-file "$crate" --repo "$repo" --format json >"$tmp/cli.json" || cli_status=$?
    "$tmp/verify-static" "$crate" "$repo" >"$tmp/s.json" || s_status=$?
    if ! cmp -s "$tmp/c.json" "$tmp/cli.json" || ! cmp -s "$tmp/s.json" "$tmp/cli.json" ||
        [[ $c_status != "$cli_status" || $s_status != "$cli_status" ]]; then
        echo "error: $nv: C output (status $c_status/$s_status) differs from the CLI (status $cli_status)" >&2
        diff -u "$tmp/cli.json" "$tmp/c.json" >&2 || true
        exit 1
    fi
    # The inspection: same bytes as `crate-provenance inspect --format json`.
    "$tmp/inspect" json "$crate" >"$tmp/c-inspect.json" || { echo "error: $nv: inspect.c failed" >&2; exit 1; }
    "$cli" inspect "$crate" --format json >"$tmp/cli-inspect.json" || [[ $? == 1 ]]
    if ! cmp -s "$tmp/c-inspect.json" "$tmp/cli-inspect.json"; then
        echo "error: $nv: C inspection differs from the CLI's" >&2
        diff -u "$tmp/cli-inspect.json" "$tmp/c-inspect.json" >&2 || true
        exit 1
    fi
    got=$(sed -n 's/^  "verdict": "\(.*\)",$/\1/p' "$tmp/c.json")
    printf '%-32s %-20s (expected_verdict %s)\n' "$nv" "$got" "$want"

    name=$(json_field "$expected" name)
    version=$(json_field "$expected" version)
    ln -sfn "$repo" "$tmp/repos/$nv"
    echo "$name@$version" >>"$tmp/sbom.txt"
    printf '%s@%s\t%s\n' "$name" "$version" "$got" >>"$tmp/sbom.expected"
    checked=$((checked + 1))
done
test "$checked" -gt 0

step "sbom_check over the realworld set"
s_status=0
"$tmp/sbom_check" --crate-dir "$cache" --repo-dir "$tmp/repos" --offline "$tmp/sbom.txt" >"$tmp/sbom.out" || s_status=$?
cat "$tmp/sbom.out"
# Differences counts are appended after a tab; compare NAME@VERSION<TAB>VERDICT.
cut -f1,2 "$tmp/sbom.out" | diff -u "$tmp/sbom.expected" -
[[ $s_status -le 1 ]] || { echo "error: sbom_check reported errors" >&2; exit 1; }

step "provenance-c: all checks passed ($checked realworld crates)"
