"""Verify many crate versions on a Dask cluster, partitioned by repository.

>>> from crate_provenance.distributed import scan, latest_versions
>>> summary = scan(latest_versions(["serde", "fnv"]), out="results/")  # doctest: +SKIP
>>> summary.counts  # doctest: +SKIP
{'match': 2}

Needs the ``dask`` extra (``pip install "crate_provenance[dask]"``): ``dask[distributed]``, and
``pyarrow`` for the Parquet copies of the results.

How it works:

This module only distributes: everything it shares with ``crate-provenance scan`` — list
parsing, version selection, planning by repository, the result lines and the mapping from errors
to lines, resuming, merging, the summary — is the library's batch engine
(``provenance_core::batch``, bound in :mod:`crate_provenance._native`), so a version gets the same
line here as from ``crate-provenance scan`` and :func:`crate_provenance.scan`.

1. *Locate* (in parallel on the workers, :func:`crate_provenance._native.locate_versions`):
   selections are expanded from the registry index, and every version's ``.crate`` is downloaded
   (checked against the index, kept in the worker's cache) to read its ``package.repository``,
   normalized with core's URL normalization.
2. *Partition* (:func:`crate_provenance._native.plan_partitions`): versions are grouped by
   repository; whole repositories are packed into partitions of about ``partition_size``
   versions (a bigger repository is cut into ``partition_size`` pieces). One partition is one
   Dask task: its worker fetches each repository into its cache once and verifies every version
   of it from there.
3. *Verify*: each partition is one :func:`crate_provenance.scan` (in the worker process) with
   the results file ``OUT/parts/<id>.partial.jsonl``; when it finishes, the client writes
   ``OUT/parts/<id>.jsonl`` (and ``<id>.parquet``) and removes the partial file.
4. *Merge*: ``OUT/results.jsonl`` gets every line of every part, in the line format of
   ``crate-provenance scan --out``, so ``crate-provenance report OUT/results.jsonl --html DIR``
   renders it.

Re-running the same command resumes: versions that already have a line under ``OUT/parts`` (also
in partial files left by a lost worker or Ctrl-C) are not located or verified again.

A worker that dies is replaced and its partition retried by Dask; the retry continues after the
last line of the partial file (the engine resumes from it). A crate version that was started
twice without finishing (it crashed its worker twice, according to the engine's crash journal
``OUT/parts/<id>.attempts``) is recorded as an ``internal`` error line and skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from . import _native
from .exceptions import ProvenanceError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "ScanSummary",
    "VersionSelection",
    "all_versions",
    "latest_versions",
    "main",
    "merge",
    "scan",
]

#: Environment variable naming a ``NAME@VERSION`` whose verification kills its worker process
#: (for testing crash handling only).
CRASH_ENV = "CRATE_PROVENANCE_DISTRIBUTED_TEST_CRASH"
#: With :data:`CRASH_ENV`: crash only while this file does not exist (it is created first).
CRASH_ONCE_ENV = "CRATE_PROVENANCE_DISTRIBUTED_TEST_CRASH_ONCE"

#: Starts of one version without a result after which it is recorded as crashing its worker.
MAX_CRASHES = 2
#: Versions (or names, for selections) per locate task.
LOCATE_CHUNK = 64


@dataclasses.dataclass(frozen=True)
class VersionSelection:
    """Versions chosen from the registry index: see :func:`all_versions` and
    :func:`latest_versions`."""

    names: tuple[str, ...]
    latest_only: bool
    include_yanked: bool = False


def all_versions(names: Iterable[str], *, include_yanked: bool = False) -> VersionSelection:
    """Every version of each crate in ``names`` listed by the registry index (yanked ones only
    with ``include_yanked``)."""
    return VersionSelection(tuple(names), latest_only=False, include_yanked=include_yanked)


def latest_versions(names: Iterable[str], *, include_yanked: bool = False) -> VersionSelection:
    """The greatest version of each crate in ``names`` (by semantic-version precedence; a
    pre-release only when there is no release), not yanked unless ``include_yanked``."""
    return VersionSelection(tuple(names), latest_only=True, include_yanked=include_yanked)


Specs = Union[Iterable[tuple[str, str]], VersionSelection]


@dataclasses.dataclass
class ScanSummary:
    """What :func:`scan` did."""

    out: Path
    """The output directory."""
    results: Path
    """The merged results file (``OUT/results.jsonl``)."""
    total: int
    """Crate versions with a result line (this run and earlier ones)."""
    counts: dict[str, int]
    """Lines per verdict, and ``"error"`` for failed verifications."""
    verified: int
    """Crate versions verified (or failed) in this run."""
    skipped: int
    """Crate versions skipped because an earlier run recorded them."""
    partitions: int
    """Partitions run in this run."""
    repositories: int
    """Distinct repositories among the versions of this run."""
    elapsed: float
    """Seconds."""
    denied: list[str] = dataclasses.field(default_factory=list)
    """``NAME@VERSION`` of the results whose verdict (or ``"error"``) is in ``deny``."""

    @property
    def ok(self) -> bool:
        """No result is denied."""
        return not self.denied


# --- result lines -----------------------------------------------------------------------------


def _key(name: str, version: str) -> str:
    return f"{name}@{version}"


def _line_key(line: str) -> str | None:
    """``NAME@VERSION`` of a results line (the engine's reading), or ``None``."""
    return _native.result_key(line)


def _read_lines(path: Path) -> list[str]:
    """The complete lines of a results file (the engine's reading: a torn last line is
    dropped); ``[]`` when the file does not exist."""
    return _native.result_lines(path)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_parquet(path: Path, lines: Sequence[str]) -> None:
    """``lines`` as Parquet (when pyarrow is installed): name, version, verdict, error kind and
    message, repository, commit, and the whole line."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "name",
            "version",
            "verdict",
            "error_kind",
            "error_message",
            "repository",
            "commit",
            "line",
        )
    }
    for line in lines:
        obj = json.loads(line)
        err = obj.get("error") or {}
        src = obj.get("source") or {}
        cols["name"].append(obj["crate"]["name"])
        cols["version"].append(obj["crate"]["version"])
        cols["verdict"].append(obj.get("verdict"))
        cols["error_kind"].append(err.get("kind"))
        cols["error_message"].append(err.get("message"))
        cols["repository"].append(src.get("repository"))
        cols["commit"].append(src.get("commit"))
        cols["line"].append(line)
    table = pa.table({k: pa.array(v, type=pa.string()) for k, v in cols.items()})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, str(tmp))
    os.replace(tmp, path)


def _parts_dir(out: Path) -> Path:
    return out / "parts"


def _recover(out: Path) -> None:
    """Turn partial files left by an interrupted run into finished part files."""
    parts = _parts_dir(out)
    for partial in sorted(parts.glob("*.partial.jsonl")):
        pid = partial.name[: -len(".partial.jsonl")]
        lines = _read_lines(partial)
        if lines:
            final = parts / f"{pid}.r{int(time.time() * 1000)}.jsonl"
            _write_atomic(final, "".join(ln + "\n" for ln in lines).encode())
            _write_parquet(final.with_suffix(".parquet"), lines)
        partial.unlink(missing_ok=True)
        (parts / f"{pid}.attempts").unlink(missing_ok=True)


def _part_files(out: Path) -> list[Path]:
    return [f for f in sorted(_parts_dir(out).glob("*.jsonl")) if not f.name.endswith(".partial.jsonl")]


def _finished(out: Path) -> dict[str, str]:
    """Every recorded line under ``OUT/parts``, by ``NAME@VERSION`` (a later file wins)."""
    done: dict[str, str] = {}
    for f in _part_files(out):
        for line in _read_lines(f):
            k = _line_key(line)
            if k is not None:
                done[k] = line
    return done


def merge(out: str | os.PathLike[str]) -> Path:
    """Write ``OUT/results.jsonl``: one line per crate version recorded under ``OUT/parts``
    (sorted by name and version), the format ``crate-provenance report`` reads. Returns its
    path."""
    root = Path(out)
    dest = root / "results.jsonl"
    _native.merge_results(list(_part_files(root)), dest)
    return dest


# --- worker side ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Settings:
    cache_dir: str | None
    index_url: str | None
    allow_insecure_transport: bool
    mirrors: tuple[tuple[str, str], ...] = ()


def _cache_dir(settings: _Settings) -> str | None:
    """``cache_dir`` with ``{worker}`` replaced by the Dask worker's name."""
    d = settings.cache_dir
    if d is None or "{worker}" not in d:
        return d
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except (ImportError, ValueError):
        name = "client"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return d.replace("{worker}", safe)


def _locate(
    specs: list[tuple[str, str]],
    names: list[str],
    latest_only: bool,
    include_yanked: bool,
    skip: list[str],
    settings: _Settings,
) -> list[tuple[str, str, str | None, str | None]]:
    """For each version: ``(name, version, partition key, None)``; for a name whose index
    cannot be read ``(name, "*", None, error line)``. ``names`` are expanded from the index
    first (the ``NAME@VERSION`` in ``skip`` left out)."""
    return _native.locate_versions(
        specs,
        names,
        latest_only=latest_only,
        include_yanked=include_yanked,
        skip=skip,
        cache_dir=_cache_dir(settings),
        index_url=settings.index_url,
        allow_insecure_transport=settings.allow_insecure_transport,
    )


def _maybe_crash(name: str, version: str) -> None:
    if os.environ.get(CRASH_ENV) != _key(name, version):
        return
    once = os.environ.get(CRASH_ONCE_ENV)
    if once:
        if os.path.exists(once):
            return
        Path(once).touch()
    os._exit(70)


def _verify_partition(
    pid: str, items: list[tuple[str, str]], out: str, settings: _Settings
) -> list[str]:
    """Verify ``items`` with the engine (one :func:`crate_provenance.scan`), appending each line
    to the partition's partial file; return every line of the partition. Continues after the
    lines of an earlier attempt; the engine's crash journal gives up a version after
    :data:`MAX_CRASHES` starts."""
    parts = _parts_dir(Path(out))
    parts.mkdir(parents=True, exist_ok=True)
    partial = parts / f"{pid}.partial.jsonl"
    _native.scan(
        items,
        out=partial,
        jobs=1,
        cache_dir=_cache_dir(settings),
        index_url=settings.index_url,
        allow_insecure_transport=settings.allow_insecure_transport,
        mirrors=dict(settings.mirrors),
        journal=parts / f"{pid}.attempts",
        max_starts=MAX_CRASHES,
        before_verify=_maybe_crash,
    )
    return _read_lines(partial)


# --- client side ------------------------------------------------------------------------------


def _partition_id(items: Sequence[tuple[str, str]]) -> str:
    h = hashlib.sha256("\n".join(_key(n, v) for n, v in sorted(items)).encode())
    return "p-" + h.hexdigest()[:20]


def _chunks(seq: Sequence[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield list(seq[i : i + n])


def _is_killed_worker(e: BaseException | None) -> bool:
    return e is not None and type(e).__name__ == "KilledWorker"


def scan(
    specs: Specs,
    *,
    client: Client | None = None,
    out: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    partition_size: int = 256,
    deny: Iterable[str] | None = None,
    index_url: str | None = None,
    allow_insecure_transport: bool = False,
    progress: Callable[[int, int], object] | None = None,
    mirrors: Mapping[str, str] | None = None,
) -> ScanSummary:
    """Verify ``specs`` on a Dask cluster, one task per partition of repositories.

    :param specs: ``(name, version)`` pairs, or :func:`all_versions` / :func:`latest_versions`.
    :param client: the ``distributed.Client``; default: the current client
        (``distributed.get_client()``), which fails when there is none.
    :param out: the output directory (created): ``parts/`` and the merged ``results.jsonl``.
        Workers write their partial files there, so on a multi-machine cluster it must be a
        directory every worker and the client see (NFS, a shared volume); otherwise resuming
        inside an interrupted partition and crash detection only work on the same machine.
    :param cache_dir: each worker's cache of downloads and repositories (default: core's default,
        ``~/.cache/crate-provenance``); ``{worker}`` in it is replaced by the worker's name.
    :param partition_size: versions per partition (whole repositories are packed together).
    :param deny: verdicts (or ``"error"``) listed in :attr:`ScanSummary.denied`.
    :param index_url: sparse index URL of the registry (default crates.io).
    :param allow_insecure_transport: allow ``http://``, ``git://`` and ``file://`` URLs.
    :param mirrors: repository mirrors ``{from: to}`` (git ``url.<to>.insteadOf=<from>`` on
        normalized URLs, as :func:`crate_provenance.verify`); a local ``to`` must exist on every
        worker.
    :param progress: called as ``progress(partitions_done, partitions_total)`` on the client
        after each partition; an exception raised by it stops the scan (finished partitions
        stay recorded; a re-run resumes).
    """
    if partition_size < 1:
        raise ValueError("partition_size must be at least 1")
    deny_list = list(deny or ())
    _native.summarize(None, deny=deny_list)  # an unknown verdict fails before the scan
    try:
        import distributed as _distributed
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            'crate_provenance.distributed needs Dask: pip install "crate_provenance[dask]"'
        ) from e
    # `distributed` is only partly annotated: use it as `Any`.
    distributed: Any = _distributed
    cl: Any = distributed.get_client() if client is None else client
    start = time.monotonic()
    root = Path(out)
    _parts_dir(root).mkdir(parents=True, exist_ok=True)
    settings = _Settings(
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
        index_url=index_url,
        allow_insecure_transport=allow_insecure_transport,
        mirrors=tuple((mirrors or {}).items()),
    )
    _recover(root)
    done = _finished(root)

    # Locate.
    locate_futures: list[Any] = []
    skipped = 0
    if isinstance(specs, VersionSelection):
        skip: dict[str, list[str]] = {}
        for k in done:
            n, _, _v = k.partition("@")
            skip.setdefault(n, []).append(k)
        names = sorted(set(specs.names))
        for chunk in _chunks(names, max(1, LOCATE_CHUNK // 8)):
            locate_futures.append(
                cl.submit(
                    _locate,
                    [],
                    chunk,
                    specs.latest_only,
                    specs.include_yanked,
                    [k for n in chunk for k in skip.get(n, ())],
                    settings,
                    pure=False,
                    retries=2,
                )
            )
        skipped = sum(len(skip.get(n, ())) for n in names)
    else:
        # The engine's reading of the targets: an invalid NAME@VERSION fails here, not on a worker.
        targets, _ = _native.read_targets([(str(n), str(v)) for n, v in specs])
        pairs = sorted(set(targets))
        todo = [p for p in pairs if _key(*p) not in done]
        skipped = len(pairs) - len(todo)
        for chunk in _chunks(todo, LOCATE_CHUNK):
            locate_futures.append(
                cl.submit(_locate, chunk, [], False, False, [], settings, pure=False, retries=2)
            )
    located: list[tuple[str, str, str]] = []
    errors: list[str] = []
    for fut in distributed.as_completed(locate_futures):
        for name, version, key, line in fut.result():
            if line is not None:
                errors.append(line)
            elif key is not None:
                located.append((name, version, key))
    if errors:
        f = (
            _parts_dir(root)
            / f"locate-{hashlib.sha256(''.join(errors).encode()).hexdigest()[:20]}.jsonl"
        )
        _write_atomic(f, "".join(ln + "\n" for ln in errors).encode())
        _write_parquet(f.with_suffix(".parquet"), errors)
    verified = len(errors)

    # Verify.
    partitions = _native.plan_partitions(sorted(located), partition_size)
    total = len(partitions)
    pending: dict[Any, tuple[str, list[tuple[str, str]], bool]] = {}
    for items in partitions:
        pid = _partition_id(items)
        fut = cl.submit(
            _verify_partition, pid, items, os.fspath(root), settings, key=f"verify-{pid}", retries=1
        )
        pending[fut] = (pid, items, False)
    finished = 0
    queue = distributed.as_completed(list(pending))
    try:
        for fut in queue:
            pid, items, single = pending.pop(fut)
            exc = fut.exception() if fut.status == "error" else None
            if exc is not None and _is_killed_worker(exc) and not single:
                # The partition killed its workers again and again: verify what is left of it
                # one version per task, so the crashing version is identified.
                recorded = {
                    k
                    for k in map(_line_key, _read_lines(_parts_dir(root) / f"{pid}.partial.jsonl"))
                }
                for n, v in items:
                    if _key(n, v) in recorded:
                        continue
                    sid = _partition_id([(n, v)])
                    sf = cl.submit(
                        _verify_partition,
                        sid,
                        [(n, v)],
                        os.fspath(root),
                        settings,
                        key=f"verify-{sid}",
                        retries=0,
                    )
                    pending[sf] = (sid, [(n, v)], True)
                    queue.add(sf)
                lines = _read_lines(_parts_dir(root) / f"{pid}.partial.jsonl")
            elif exc is not None and _is_killed_worker(exc):
                (n, v) = items[0]
                lines = [_native.lost_line(n, v)]
            elif exc is not None:
                raise exc
            else:
                lines = fut.result()
            if lines:
                final = _parts_dir(root) / f"{pid}.jsonl"
                _write_atomic(final, "".join(ln + "\n" for ln in lines).encode())
                _write_parquet(final.with_suffix(".parquet"), lines)
            verified += len(lines)
            (_parts_dir(root) / f"{pid}.partial.jsonl").unlink(missing_ok=True)
            (_parts_dir(root) / f"{pid}.attempts").unlink(missing_ok=True)
            if not single:
                finished += 1
            if progress is not None:
                progress(finished, total)
    except BaseException:
        cl.cancel(list(pending))
        raise

    results = merge(root)
    summary = _native.summarize(results, deny=deny_list)
    return ScanSummary(
        out=root,
        results=results,
        total=summary.total,
        counts={k: n for k, n in summary.counts.items() if n},
        verified=verified,
        skipped=skipped,
        partitions=total,
        repositories=len({key for _, _, key in located}),
        elapsed=time.monotonic() - start,
        denied=sorted(summary.denied),
    )


# --- command line -----------------------------------------------------------------------------


def _read_list(path: str) -> list[tuple[str, str]]:
    """A ``NAME@VERSION`` list, read by the engine as ``crate-provenance scan --list`` reads it."""
    try:
        targets, _ = _native.read_targets(path)
    except ProvenanceError as e:
        raise SystemExit(f"{path}: {e}") from e
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m crate_provenance.distributed``: exit 0 done, 1 a denied verdict, 2 error,
    130 interrupted."""
    p = argparse.ArgumentParser(
        prog="python -m crate_provenance.distributed",
        description="Verify many crate versions on a Dask cluster, partitioned by repository.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://HOST:PORT")
    where.add_argument("--local", type=int, metavar="N", help="start a LocalCluster of N workers")
    p.add_argument("--list", metavar="FILE", help="NAME@VERSION per line, # comments")
    p.add_argument("--all-versions", nargs="+", metavar="NAME", help="every version in the index")
    p.add_argument("--latest", nargs="+", metavar="NAME", help="the latest version in the index")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--cache-dir", metavar="DIR", help="each worker's cache ({worker} = its name)")
    p.add_argument("--partition-size", type=int, default=256, metavar="N")
    p.add_argument("--deny", metavar="VERDICT[,VERDICT...]", help="exit 1 when one is found")
    p.add_argument("--index-url", metavar="URL")
    p.add_argument("--allow-insecure-transport", action="store_true")
    p.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="FROM=TO",
        help="fetch repositories under FROM from TO instead (repeatable)",
    )
    p.add_argument("--merge-only", action="store_true", help="only rewrite OUT/results.jsonl")
    a = p.parse_args(argv)
    if a.merge_only:
        print(merge(a.out))
        return 0
    if any("=" not in m for m in a.mirror):
        p.error("--mirror expects FROM=TO")
    mirrors = dict(m.split("=", 1) for m in a.mirror)
    given = [x for x in (a.list, a.all_versions, a.latest) if x]
    if len(given) != 1:
        p.error("give exactly one of --list, --all-versions, --latest")
    if a.scheduler is None and a.local is None:
        p.error("give --scheduler ADDRESS or --local N")
    specs: Specs
    if a.list:
        specs = _read_list(a.list)
    elif a.all_versions:
        specs = all_versions(a.all_versions)
    else:
        specs = latest_versions(a.latest)
    import distributed as _distributed

    # `distributed` is only partly annotated: use it as `Any`.
    distributed: Any = _distributed
    cluster: Any = None
    try:
        if a.local is not None:
            cluster = distributed.LocalCluster(n_workers=a.local, threads_per_worker=1, processes=True)
            client: Any = distributed.Client(cluster)
        else:
            client = distributed.Client(a.scheduler)

        def report(done: int, total: int) -> None:
            print(f"partitions {done}/{total}", file=sys.stderr, flush=True)

        try:
            s = scan(
                specs,
                client=client,
                out=a.out,
                cache_dir=a.cache_dir,
                partition_size=a.partition_size,
                deny=[d for d in (a.deny or "").split(",") if d],
                index_url=a.index_url,
                allow_insecure_transport=a.allow_insecure_transport,
                progress=report,
                mirrors=mirrors,
            )
        finally:
            client.close()
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if cluster is not None:
            cluster.close()
    print(
        json.dumps(
            {
                "results": str(s.results),
                "total": s.total,
                "counts": s.counts,
                "verified": s.verified,
                "skipped": s.skipped,
                "partitions": s.partitions,
                "repositories": s.repositories,
                "elapsed_seconds": round(s.elapsed, 3),
                "denied": s.denied,
            },
            indent=2,
        )
    )
    return 1 if s.denied else 0


if __name__ == "__main__":
    # Run `main` of the imported module, not of `__main__`, so the functions shipped to the
    # workers are importable there as `crate_provenance.distributed._…`.
    from crate_provenance.distributed import main as _main

    sys.exit(_main())
