#!/usr/bin/env python3
"""Throughput of `crate_provenance.distributed` with 1 and 2 local workers on the same batch of
real crates.io versions, plus the per-version and per-repository costs the whole-registry
estimate in docs/distributed.md is computed from.

Usage (network to index.crates.io, static.crates.io and the crates' git hosts):

    pip install "./provenance-py[dask]"          # a release build of the extension
    python3 benches/distributed_throughput.py [--crates fnv,hex,...] [--per-crate 10]

Every measurement starts from an empty cache (each run gets fresh directories), so the
repository fetches are part of it, as in a registry-wide scan. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import crate_provenance as cp
from crate_provenance import _native
from crate_provenance import distributed as cpd

DEFAULT_CRATES = "fnv,hex,itoa,ryu,unicode-ident,cfg-if"


def loopback_world(repos: int, per_repo: int, tmp: Path) -> tuple[object, list[tuple[str, str]], dict[str, object]]:
    """A loopback sparse registry and `git daemon` (the test suite's fixtures) with `repos`
    repositories of `per_repo` published versions each (one commit per version)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "provenance-py" / "tests"))
    from registry import Registry  # type: ignore[import-not-found]
    from test_distributed import GitDaemon, World  # type: ignore[import-not-found]

    base = tmp / "srv"
    base.mkdir()
    daemon = GitDaemon(base, tmp / "daemon.log")
    reg = Registry().__enter__()
    w = World(registry=reg, daemon=daemon, base=base)
    for r in range(repos):
        name = f"bench{r:03d}"
        w.add_repo(name, name, [f"1.{i}.0" for i in range(per_repo)], [f"{name}.git"])
    opts = {"index_url": reg.index_url, "allow_insecure_transport": True}
    return (reg, daemon), list(w.versions), opts


def batch(crates: list[str], per_crate: int, cache: Path) -> list[tuple[str, str]]:
    """The newest `per_crate` non-yanked versions of each crate (index order is publication
    order)."""
    out = []
    for name in crates:
        versions = [v for v, yanked in _native.index_versions(name, cache_dir=cache) if not yanked]
        out.extend((name, v) for v in versions[-per_crate:])
    return out


def single_process(
    specs: list[tuple[str, str]], cache: Path, opts: dict[str, object]
) -> tuple[list[float], list[float], int]:
    """Verify repository after repository in this process: seconds of the first version of each
    repository (download + first fetch + verify) and of the others (download + incremental fetch
    + verify), and the number of repositories."""
    by_repo: dict[str, list[tuple[str, str]]] = {}
    for name, version in specs:
        repo = _native.crate_repository(name, version, cache_dir=cache, **opts)  # type: ignore[arg-type]
        key = _native.repository_key(repo, allow_insecure_transport=True) if repo else "none:"
        by_repo.setdefault(key, []).append((name, version))
    # Locating downloaded the crates; time the verifications from a cache that has the crates
    # but no repositories, as a partition does on the worker that located them.
    first: list[float] = []
    rest: list[float] = []
    for versions in by_repo.values():
        for i, (name, version) in enumerate(versions):
            t = time.perf_counter()
            cp.verify(name, version, cache_dir=cache, **opts)  # type: ignore[arg-type]
            (rest if i else first).append(time.perf_counter() - t)
    return first, rest, len(by_repo)


def dask_run(
    specs: list[tuple[str, str]], workers: int, tmp: Path, opts: dict[str, object]
) -> float:
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    try:
        t = time.perf_counter()
        s = cpd.scan(
            specs,
            client=client,
            out=tmp / f"out-{workers}",
            cache_dir=str(tmp / f"cache-{workers}-{{worker}}"),
            # Small partitions, so 2 workers have work to share on a small batch.
            partition_size=8,
            **opts,  # type: ignore[arg-type]
        )
        elapsed = time.perf_counter() - t
        assert s.total == len(specs), s
        return elapsed
    finally:
        client.close()
        cluster.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument(
        "--source",
        choices=["loopback", "crates.io"],
        default="loopback",
        help="loopback: generated crates on a local registry + git daemon (no network); "
        "crates.io: real crates and their git hosts (needs direct network access)",
    )
    p.add_argument("--crates", default=DEFAULT_CRATES, help="crates.io: the crates")
    p.add_argument("--per-crate", type=int, default=10, help="crates.io: newest N versions each")
    p.add_argument("--repos", type=int, default=12, help="loopback: repositories")
    p.add_argument("--per-repo", type=int, default=8, help="loopback: versions per repository")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        opts: dict[str, object] = {}
        if a.source == "loopback":
            _servers, specs, opts = loopback_world(a.repos, a.per_repo, tmp)
            what = f"loopback, {a.repos} repositories x {a.per_repo} versions"
        else:
            specs = batch(a.crates.split(","), a.per_crate, tmp / "index")
            what = f"crates.io: {a.crates}, newest {a.per_crate} each"
        first, rest, repos = single_process(specs, tmp / "single", opts)
        one = dask_run(specs, 1, tmp, opts)
        two = dask_run(specs, 2, tmp, opts)
    n = len(specs)
    print(f"batch: {n} versions of {repos} repositories ({what})\n")
    print("| run | wall clock | versions/s | speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| 1 local worker | {one:.1f} s | {n / one:.2f} | 1.00 |")
    print(f"| 2 local workers | {two:.1f} s | {n / two:.2f} | {one / two:.2f} |")
    print()
    t_version = statistics.median(rest) if rest else float("nan")
    t_first = statistics.median(first)
    print("| single process, cold cache | median | mean |")
    print("|---|---:|---:|")
    print(
        f"| first version of a repository | {t_first:.2f} s | {statistics.mean(first):.2f} s |"
    )
    if rest:
        print(f"| each further version | {t_version:.2f} s | {statistics.mean(rest):.2f} s |")
    print(
        f"\nper-repository cost (first - further, median): {t_first - t_version:.2f} s; "
        f"per-version cost: {t_version:.2f} s (plus one .crate download while locating)"
    )


if __name__ == "__main__":
    main()
