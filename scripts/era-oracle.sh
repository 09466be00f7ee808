#!/usr/bin/env bash
# Regenerate tests/data/era/: the `.crate` files that *older* cargo releases make from the era
# fixtures (tests/fixtures/era_*.sh). They are the ground truth tests/era_oracle.rs checks our
# manifest and lock-file checks against (every normalization rule of those eras must pass).
#
# Not part of CI (building an old cargo takes ~8-15 min on 2 cores): run it by hand after
# adding an era fixture, and commit the new files.
#
#   scripts/era-oracle.sh            # build missing cargos, then package every fixture
#   OLD_CARGO_DIR=DIR scripts/era-oracle.sh
#
# Old cargos are built from the registry (`cargo install cargo --version 0.N+1.0 --locked`)
# into $OLD_CARGO_DIR (default ~/.cache/crate-provenance/old-cargo), outside the clone.
# A fixture an old cargo refuses to package is recorded as refused (a `.refused` file with
# cargo's message), which is also ground truth: that cargo never published such a crate.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=${OLD_CARGO_DIR:-$HOME/.cache/crate-provenance/old-cargo}
# Rust 1.N ships cargo 0.(N+1).0. 1.61: before explicit targets and feature stripping;
# 1.79: feature stripping (1.78, PR #13518), still before explicit targets (1.80, PR #13713).
read -r -a versions <<<"${ERA_CARGO_VERSIONS:-61 79}"
out=tests/data/era
mkdir -p "$out"
for minor in "${versions[@]}"; do
  bin="$dir/1.$minor/bin/cargo"
  if [ ! -x "$bin" ]; then
    echo "== building cargo 1.$minor (cargo 0.$((minor + 1)).0)"
    cargo install cargo --version "0.$((minor + 1)).0" --locked --root "$dir/1.$minor"
  fi
  for fixture in tests/fixtures/era_*.sh; do
    name=$(basename "$fixture" .sh)
    work=$(mktemp -d)
    bash "$fixture" "$work/repo" >/dev/null
    pkg=$(cd "$work/repo" && git ls-files '*Cargo.toml' | xargs grep -l '^name = "era' | head -1)
    pkg_dir="$work/repo/$(dirname "$pkg")"
    rm -f "$out/$name@cargo-1.$minor".*
    if log=$(cd "$pkg_dir" && CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" \
      "$bin" package --no-verify --offline 2>&1); then
      cp "$work"/target/package/*.crate "$out/$name@cargo-1.$minor.crate"
      echo "$name: packaged by cargo 1.$minor"
    else
      printf '%s\n' "$log" | grep -E '^(error|Caused by|  )' >"$out/$name@cargo-1.$minor.refused" || true
      echo "$name: refused by cargo 1.$minor"
    fi
    rm -rf "$work"
  done
done
ls -la "$out"
