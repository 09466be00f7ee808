#!/usr/bin/env bash
# The Python package suite (provenance-py/run-tests.sh): fresh venv, pip install ./provenance-py
# (maturin), pytest, stubtest, mypy --strict. The extension is built with the dev profile and the
# test-only `fault-injection` feature in target/fault-injection (shared with the C suite's
# fault-injection library; see provenance-py/run-tests.sh); set MATURIN_PEP517_ARGS="" for a
# release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS---profile dev}"
exec provenance-py/run-tests.sh
