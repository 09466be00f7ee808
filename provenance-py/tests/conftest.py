"""Shared fixtures: the real-world crates of tests/data/realworld, downloaded and checked, with their
repositories extracted, and the CLI binary for byte-for-byte comparisons.

Environment:

* ``CRATE_PROVENANCE_REALWORLD``: the realworld folder (default ``<repo>/tests/data/realworld``).
  Its absence is a failure, not a skip.
* ``CRATE_PROVENANCE_TEST_CACHE``: where downloaded ``.crate`` files are kept
  (default ``provenance-py/tests/.cache``, gitignored).
* ``CRATE_PROVENANCE_CLI``: the ``crate-provenance`` binary (default: built with
  ``cargo build --bin crate-provenance`` in the workspace).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import tarfile
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent.parent
REALWORLD = Path(
    os.environ.get("CRATE_PROVENANCE_REALWORLD", REPO_ROOT / "tests" / "data" / "realworld")
)
CACHE = Path(os.environ.get("CRATE_PROVENANCE_TEST_CACHE", TESTS / ".cache"))

# Files cargo generates; never byte-compared, so never in our `differences`.
GENERATED = {"Cargo.toml", "Cargo.lock", ".cargo_vcs_info.json"}


def _entry_names() -> List[str]:
    if not REALWORLD.is_dir():
        return []
    return sorted(p.parent.name for p in REALWORLD.glob("*/expected.json"))


ENTRY_NAMES = _entry_names()


@dataclass(frozen=True)
class Entry:
    """One realworld crate version, ready to verify."""

    id: str
    expected: Dict[str, Any]
    crate_file: Path
    repo: Path

    @property
    def expected_verdict(self) -> str:
        return str(self.expected["expected_verdict"])

    @property
    def expected_difference_paths(self) -> List[str]:
        """What our report must list: nothing unless the verdict is `mismatch` (differences are
        only computed at an existing commit, and a `match` has none); then the reference's
        differences minus the files cargo generates."""
        if self.expected_verdict != "mismatch":
            return []
        return sorted(
            d["path"]
            for d in self.expected["reference"]["differences"]
            if d["path"] not in GENERATED
        )


def require_realworld() -> None:
    if not REALWORLD.is_dir() or not ENTRY_NAMES:
        pytest.fail(
            f"realworld test data not found at {REALWORLD} "
            "(set CRATE_PROVENANCE_REALWORLD); it is required, not optional",
            pytrace=False,
        )


def download_crate(expected: Dict[str, Any]) -> Path:
    """The `.crate` named by `expected`, from the cache or downloaded; its SHA-256 is checked."""
    CACHE.mkdir(parents=True, exist_ok=True)
    dest = CACHE / f"{expected['name']}-{expected['version']}.crate"
    want = expected["crate_sha256"]
    if dest.exists() and hashlib.sha256(dest.read_bytes()).hexdigest() == want:
        return dest
    with urllib.request.urlopen(expected["crate_url"], timeout=60) as resp:
        data = resp.read()
    got = hashlib.sha256(data).hexdigest()
    assert got == want, f"{expected['crate_url']}: sha256 {got}, expected {want}"
    tmp = dest.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return dest


def _extract(archive: str, repos: Dict[str, Path], base: Path) -> Path:
    """Extract `repo_archive` once (several versions share one), giving its `repo.git`."""
    if archive not in repos:
        dest = base / archive.replace("/", "_").replace(".tar.gz", "")
        dest.mkdir(parents=True)
        with tarfile.open(REALWORLD / archive) as t:
            t.extractall(dest)  # trusted test data (tests/data/realworld)
        repos[archive] = dest / "repo.git"
    return repos[archive]


@pytest.fixture(scope="session")
def realworld(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Entry]:
    """Every realworld entry, by `NAME-VERSION`."""
    require_realworld()
    base = tmp_path_factory.mktemp("repos")
    repos: Dict[str, Path] = {}
    out: Dict[str, Entry] = {}
    for name in ENTRY_NAMES:
        expected = json.loads((REALWORLD / name / "expected.json").read_text())
        out[name] = Entry(
            id=name,
            expected=expected,
            crate_file=download_crate(expected),
            repo=_extract(expected["repo_archive"], repos, base),
        )
    return out


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `crate-provenance` binary."""
    env = os.environ.get("CRATE_PROVENANCE_CLI")
    if env:
        return Path(env)
    subprocess.run(
        ["cargo", "build", "--quiet", "--bin", "crate-provenance"],
        cwd=REPO_ROOT,
        check=True,
    )
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"])
    return target / "debug" / "crate-provenance"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `entry_id` parametrizes over the realworld set; an absent set still yields one case,
    # which fails in `require_realworld`.
    if "entry_id" in metafunc.fixturenames:
        metafunc.parametrize("entry_id", ENTRY_NAMES or ["<realworld missing>"])


@pytest.fixture
def entry(entry_id: str, realworld: Dict[str, Entry]) -> Entry:
    return realworld[entry_id]


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """Python's own SIGINT handler (it raises `KeyboardInterrupt`) for the test, whatever this
    process inherited: a shell that starts us in the background (`cmd &`, nohup, a scheduler)
    starts us with SIGINT ignored, and then Python installs no handler. Restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set from the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def prompt_budget(baseline: float, at_most: float) -> float:
    """How long an interrupt may take to be honoured, in seconds, given `baseline`: how long
    the same work took uninterrupted in the same test, so that a busy machine gets a larger
    budget. The binding checks for signals every 50 ms and gives the worker a 500 ms grace;
    ten times the baseline, at least 1 s, keeps a wide margin. `at_most` keeps the budget
    below what an ignored interrupt would wait for."""
    return min(max(1.0, 10 * baseline), at_most)
