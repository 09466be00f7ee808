#!/usr/bin/env bash
# The Python package's test suite, as CI runs it: a fresh venv, `pip install ./provenance-py`
# (maturin is the build backend; with the `dask` extra), pytest, stubtest, mypy --strict on the
# example and on crate_provenance.distributed.
#
# Needs: python3 (3.9+, with venv), cargo, the realworld data in tests/data/realworld (or
# CRATE_PROVENANCE_REALWORLD), network to static.crates.io (cached in
# CRATE_PROVENANCE_TEST_CACHE, default provenance-py/tests/.cache).
#
# VENV (default target/py-venv) is recreated on every run. Set
# MATURIN_PEP517_ARGS="--profile dev" to build the extension with the dev profile (much faster
# in CI than the default release build).
#
# The extension under test is built with the test-only `fault-injection` feature (SECURITY.md
# B1: the parser panics on a magic input, so the panic boundary is tested end to end), in its
# own target directory ($CARGO_TARGET_DIR or target/, plus /fault-injection; the C suite builds
# its fault-injection library there too and shares the dependencies), so it never replaces the
# normal artifacts. Wheels built with `maturin build` / `pip install ./provenance-py` never
# have the feature.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-target/py-venv}"
fault_target="${CARGO_TARGET_DIR:-$PWD/target}/fault-injection"
# Tells tests/test_bindings_security.py that the installed extension must have the feature.
export CRATE_PROVENANCE_TEST_FAULT_INJECTION=1

rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# The `dask` extra (dask[distributed], pyarrow) for tests/test_distributed.py.
CARGO_TARGET_DIR="$fault_target" MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS:-} --features fault-injection" \
    "$venv/bin/python" -m pip install --quiet "./provenance-py[dask]" pytest mypy
"$venv/bin/python" -m pytest provenance-py/tests -ra
"$venv/bin/python" -m mypy.stubtest crate_provenance._native
"$venv/bin/python" -m mypy --strict examples/python/scan_lockfile.py
"$venv/bin/python" -m mypy --strict provenance-py/python/crate_provenance/distributed.py
