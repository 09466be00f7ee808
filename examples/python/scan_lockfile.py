#!/usr/bin/env python3
"""Verify every registry dependency of a ``Cargo.lock`` and print a table.

    python scan_lockfile.py path/to/Cargo.lock
    python scan_lockfile.py Cargo.lock --crate-dir ~/.cargo/registry/cache/index.crates.io-*/ \\
        --repo fnv=../rust-fnv.git --jobs 4

Each ``[[package]]`` whose ``source`` is a registry is verified with
``crate_provenance.verify``: from ``--crate-dir`` when it holds ``NAME-VERSION.crate``
(cargo's own download cache works), else downloaded from the registry. The repository is the
crate's ``package.repository`` unless ``--repo NAME=URL_OR_PATH`` overrides it. Verifications
run on a thread pool: the GIL is released while they work.

Exit status: 0 when every crate matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import crate_provenance as cp

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Package:
    """One registry package of the lock file."""

    name: str
    version: str
    source: str


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    package: Package
    verdict: str
    differences: int
    detail: str

    @property
    def ok(self) -> bool:
        return self.verdict == "match"


def registry_packages(lock_file: Path) -> Iterator[Package]:
    """The registry packages of a ``Cargo.lock`` (path and git dependencies are skipped)."""
    with lock_file.open("rb") as f:
        lock = tomllib.load(f)
    for p in lock.get("package", []):
        source = p.get("source", "")
        if isinstance(source, str) and source.startswith(("registry+", "sparse+")):
            yield Package(name=str(p["name"]), version=str(p["version"]), source=source)


def verify_one(
    package: Package,
    crate_dirs: Sequence[Path],
    repos: dict[str, str],
    cache_dir: Optional[Path],
    offline: bool,
) -> Row:
    """Verify one package; errors become rows too."""
    local = next(
        (
            d / f"{package.name}-{package.version}.crate"
            for d in crate_dirs
            if (d / f"{package.name}-{package.version}.crate").is_file()
        ),
        None,
    )
    try:
        if local is not None:
            report = cp.verify(
                crate_file=local,
                repo=repos.get(package.name),
                cache_dir=cache_dir,
                offline=offline,
            )
        else:
            report = cp.verify(
                package.name,
                package.version,
                repo=repos.get(package.name),
                cache_dir=cache_dir,
                offline=offline,
            )
    except cp.ProvenanceError as e:
        return Row(package, f"error: {e.kind}", 0, str(e))
    detail = report.source.commit or ""
    if report.differences:
        detail = ", ".join(f"{d.kind} {d.path}" for d in report.differences[:3])
        if len(report.differences) > 3:
            detail += ", …"
    return Row(package, report.verdict, len(report.differences), detail)


def table(rows: Sequence[Row]) -> str:
    """An aligned text table."""
    header = ("crate", "version", "verdict", "diffs", "commit / differences / error")
    cells = [header] + [
        (r.package.name, r.package.version, r.verdict, str(r.differences), r.detail)
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header) - 1)]
    lines = []
    for c in cells:
        lines.append(
            "  ".join(c[i].ljust(widths[i]) for i in range(len(widths))) + "  " + c[-1]
        )
    return "\n".join(line.rstrip() for line in lines)


def parse_repos(values: Sequence[str]) -> dict[str, str]:
    repos: dict[str, str] = {}
    for v in values:
        name, sep, repo = v.partition("=")
        if not sep or not name or not repo:
            raise SystemExit(f"--repo expects NAME=URL_OR_PATH, got {v!r}")
        repos[name] = repo
    return repos


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("lock_file", type=Path, help="the Cargo.lock to scan")
    parser.add_argument(
        "--crate-dir",
        type=Path,
        action="append",
        default=[],
        help="a directory with NAME-VERSION.crate files (repeatable)",
    )
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="NAME=URL_OR_PATH",
        help="the repository of crate NAME (repeatable)",
    )
    parser.add_argument("--cache-dir", type=Path, help="cache for downloads and repositories")
    parser.add_argument("--offline", action="store_true", help="use only what is cached")
    parser.add_argument("--jobs", type=int, default=4, help="parallel verifications")
    args = parser.parse_args(argv)

    packages = sorted(
        set(registry_packages(args.lock_file)), key=lambda p: (p.name, p.version)
    )
    repos = parse_repos(args.repo)
    crate_dirs: list[Path] = args.crate_dir
    cache_dir: Optional[Path] = args.cache_dir
    offline: bool = args.offline
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        rows = list(
            pool.map(
                lambda p: verify_one(p, crate_dirs, repos, cache_dir, offline), packages
            )
        )
    print(table(rows))
    matched = sum(r.ok for r in rows)
    print(f"\n{matched} of {len(rows)} registry packages match")
    return 0 if matched == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
