"""The stubs match the native module, and the example type-checks under `mypy --strict`."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO_ROOT
    )


def test_stubtest_native_module() -> None:
    r = _run("mypy.stubtest", "crate_provenance._native")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_example() -> None:
    r = _run("mypy", "--strict", "examples/python/scan_lockfile.py")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_package() -> None:
    r = _run("mypy", "--strict", "-p", "crate_provenance")
    assert r.returncode == 0, r.stdout + r.stderr
