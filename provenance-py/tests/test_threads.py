"""The GIL is released: threads verify concurrently, correctly, without deadlock."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

import crate_provenance as cp

from conftest import Entry

THREADS = 4
ROUNDS = 3


def _workload(entries: List[Entry]) -> List[Tuple[str, str]]:
    """Verify every realworld entry ROUNDS times; (id, verdict) of each."""
    out = []
    for _ in range(ROUNDS):
        for e in entries:
            out.append((e.id, cp.verify(crate_file=e.crate_file, repo=e.repo).verdict))
    return out


def test_b04_threads_verify_concurrently(realworld: Dict[str, Entry]) -> None:
    entries = list(realworld.values())
    expected = [(e.id, e.expected_verdict) for e in entries] * ROUNDS
    _workload(entries)  # warm the page cache

    start = time.perf_counter()
    assert _workload(entries) == expected
    one = time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(_workload, entries) for _ in range(THREADS)]
        results = [f.result(timeout=300) for f in futures]
    concurrent = time.perf_counter() - start

    for r in results:
        assert r == expected
    print(
        f"\n{THREADS} threads x {len(expected)} verifications: one thread {one:.3f}s, "
        f"{THREADS} threads {concurrent:.3f}s = {concurrent / one:.2f}x one "
        f"(serial would be {THREADS}.00x)"
    )


def test_b04_progress_callbacks_from_many_threads(realworld: Dict[str, Entry]) -> None:
    """Callbacks re-acquire the GIL on each verifying thread without deadlock."""
    e = realworld["pin-project-1.1.13"]

    def run(_: int) -> int:
        calls: List[str] = []
        r = cp.verify(
            crate_file=e.crate_file,
            repo=e.repo,
            progress=lambda stage, done, total: calls.append(stage),
        )
        assert r.ok
        return len(calls)

    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(run, range(THREADS * 4), timeout=300))
    assert all(c > 0 for c in counts)
