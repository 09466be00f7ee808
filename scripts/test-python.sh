#!/usr/bin/env bash
# The Python package suite (provenance-py/run-tests.sh): fresh venv, pip install ./provenance-py
# (maturin), pytest, stubtest, mypy --strict. The extension is built with the dev profile so it
# reuses what `cargo test` compiled; set MATURIN_PEP517_ARGS="" for a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS---profile dev}"
exec provenance-py/run-tests.sh
