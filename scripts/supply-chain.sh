#!/usr/bin/env bash
# Supply-chain checks (shared/SECURITY.md §5 promise 14) with cargo-deny and deny.toml:
#   bans licenses sources — offline, from Cargo.lock and the registry cache: always run, must pass;
#   advisories            — needs the RustSec advisory-db (a git clone from github.com). It is
#                           fetched when reachable; else an existing local copy is used offline;
#                           else the check is skipped with a notice (never silently).
# The dependency floors are also a plain test: tests/dependency_floors.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deny >/dev/null 2>&1 || cargo install cargo-deny --locked
cargo deny --version

echo "== cargo deny: bans licenses sources"
cargo deny --locked --offline check bans licenses sources

echo "== cargo deny: advisories"
db_dir="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if cargo deny --locked check advisories 2>/tmp/cargo-deny-advisories.$$; then
  for d in "$db_dir"/advisory-db-*; do
    [ -d "$d" ] && git -C "$d" log -1 --format="advisories: checked against advisory-db %H (%cI)"
  done
elif grep -qE 'failed to (fetch|clone)|Could not resolve host|unable to access' /tmp/cargo-deny-advisories.$$; then
  if compgen -G "$db_dir/advisory-db-*/crates" >/dev/null; then
    echo "advisories: advisory-db not reachable; using the local copy in $db_dir:"
    git -C "$(compgen -G "$db_dir/advisory-db-*" | head -n1)" log -1 --format='  %H %cI' || true
    cargo deny --locked --offline check advisories
  else
    echo "advisories: SKIPPED — the RustSec advisory-db (github.com) is not reachable from here and"
    echo "no local copy exists in $db_dir; bans/licenses/sources above did run."
  fi
else
  cat /tmp/cargo-deny-advisories.$$
  rm -f /tmp/cargo-deny-advisories.$$
  exit 1
fi
rm -f /tmp/cargo-deny-advisories.$$
