#!/usr/bin/env bash
# The C library suite (provenance-c/tests/run.sh): pinned cbindgen, header up to date, C tests
# plain, under ASan+UBSan and under valgrind, `make install` + pkg-config acceptance.
set -euo pipefail
cd "$(dirname "$0")/.."
exec provenance-c/tests/run.sh
