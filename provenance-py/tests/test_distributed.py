"""`crate_provenance.distributed` on a `LocalCluster(n_workers=2, processes=True)`, with crates
from a loopback sparse registry and repositories from a loopback `git daemon`."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import pytest

distributed = pytest.importorskip("distributed")

import crate_provenance as cp  # noqa: E402
from crate_provenance import distributed as cpd  # noqa: E402

from registry import Registry  # noqa: E402

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    # No automatic `git gc` racing a following clone (issue 18).
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "gc.auto",
    "GIT_CONFIG_VALUE_0": "0",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}
    out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, f"git {args}: {out.stderr}"
    return out.stdout.strip()


class GitDaemon:
    """`git daemon` on 127.0.0.1 serving every repository under `base`."""

    def __init__(self, base: Path, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = log
        self.proc = subprocess.Popen(
            [
                # `git-daemon` itself: `git daemon` runs it as a child that killing the
                # wrapper would leave behind.
                os.path.join(subprocess.check_output(["git", "--exec-path"], text=True).strip(), "git-daemon"),
                "--export-all",
                f"--base-path={base}",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                "--verbose",
                "--enable=upload-pack",
                str(base),
            ],
            env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(log.parent)},
            stdout=subprocess.DEVNULL,
            stderr=open(log, "wb"),  # noqa: SIM115 (closed with the process)
        )
        # Ready once it accepts a connection. The deadline only catches a daemon that never
        # comes up; a busy machine starting it slowly just waits longer.
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"git daemon exited ({self.proc.returncode}): {log.read_text()}"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"git daemon not listening on {self.port} after 120 s")
                time.sleep(0.025)

    def url(self, path: str) -> str:
        return f"git://127.0.0.1:{self.port}/{path}"

    def upload_packs(self) -> List[str]:
        """The repository of every upload-pack request served so far."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if "Request upload-pack for '" in line:
                out.append(line.split("Request upload-pack for '", 1)[1].rstrip("'"))
        return out

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def manifest(name: str, version: str, repository: Optional[str]) -> str:
    m = (
        f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'
        f'license = "MIT"\ndescription = "fixture"\n'
    )
    if repository is not None:
        m += f'repository = "{repository}"\n'
    return m


def make_crate(name: str, version: str, manifest_text: str, sha1: Optional[str], lib: str) -> bytes:
    """The `.crate` cargo would publish (the normalized manifest equals the original)."""
    files: List[Tuple[str, bytes]] = []
    if sha1 is not None:
        vcs = '{\n  "git": {\n    "sha1": "%s"\n  },\n  "path_in_vcs": ""\n}' % sha1
        files.append((".cargo_vcs_info.json", vcs.encode()))
    files += [
        ("Cargo.toml", manifest_text.encode()),
        ("Cargo.toml.orig", manifest_text.encode()),
        ("src/lib.rs", lib.encode()),
    ]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for path, data in files:
            info = tarfile.TarInfo(f"{name}-{version}/{path}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


@dataclass
class World:
    registry: Registry
    daemon: GitDaemon
    base: Path
    versions: List[Tuple[str, str]] = field(default_factory=list)
    #: Repository (bare directory name) of each version; `None` = no repository.
    repo_of: Dict[Tuple[str, str], Optional[str]] = field(default_factory=dict)

    @property
    def index_url(self) -> str:
        return self.registry.index_url

    def downloads(self) -> List[Tuple[str, str]]:
        """`(name, version)` of every `.crate` download so far."""
        out = []
        for p in list(self.registry.requests):
            if p.startswith("/dl/"):
                _, _, name, version, _ = p.split("/", 4)
                out.append((name, version))
        return out

    def add_repo(self, repo: str, name: str, versions: List[str], spellings: List[str]) -> None:
        """A bare repository `repo.git` with one commit per version, each published; the
        manifest of version i names the repository as `spellings[i % len(spellings)]`."""
        work = self.base / f"{repo}.work"
        (work / "src").mkdir(parents=True)
        git(work, "init", "-q", "-b", "main")
        for i, v in enumerate(versions):
            url = self.daemon.url(spellings[i % len(spellings)])
            m = manifest(name, v, url)
            lib = f"pub fn version() -> &'static str {{\n    \"{v}\"\n}}\n"
            (work / "Cargo.toml").write_text(m)
            (work / "src/lib.rs").write_text(lib)
            git(work, "add", "-A")
            git(work, "commit", "-q", "-m", f"release {v}")
            sha1 = git(work, "rev-parse", "HEAD")
            published = lib if not (name == "eps" and v == "1.0.0") else lib + "// tampered\n"
            self.registry.publish(name, v, make_crate(name, v, m, sha1, published))
            self.versions.append((name, v))
            self.repo_of[(name, v)] = repo
        git(self.base, "clone", "-q", "--bare", str(work), str(self.base / f"{repo}.git"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("srv")
    daemon = GitDaemon(base, base.parent / f"{base.name}-daemon.log")
    with Registry() as reg:
        w = World(registry=reg, daemon=daemon, base=base)
        w.add_repo("alpha", "alpha", ["1.0.0", "1.1.0", "1.2.0"], ["alpha.git"])
        w.add_repo("beta", "beta", ["0.1.0", "0.2.0"], ["beta.git"])
        # Two spellings of one repository share a partition.
        w.add_repo("gamma", "gamma", ["2.0.0", "2.1.0", "2.2.0"], ["gamma.git", "gamma"])
        w.add_repo("eps", "eps", ["1.0.0"], ["eps.git"])  # mismatch
        w.add_repo("zeta", "zeta", ["0.0.1", "0.0.2"], ["zeta.git"])
        m = manifest("delta", "1.0.0", None)  # no repository
        reg.publish("delta", "1.0.0", make_crate("delta", "1.0.0", m, None, "\n"))
        w.versions.append(("delta", "1.0.0"))
        w.repo_of[("delta", "1.0.0")] = None
        reg.publish("zeta", "0.0.3", b"yanked, never downloaded", yanked=True)
        yield w
    daemon.close()


@pytest.fixture
def cluster() -> Iterator[Any]:
    c = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(c)
    try:
        yield client
    finally:
        client.close()
        c.close()


def lines_by_key(path: Path) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        obj = json.loads(line)
        k = f"{obj['crate']['name']}@{obj['crate']['version']}"
        assert k not in out, f"{k} twice in {path}"
        out[k] = obj
    return out


def keys(versions: List[Tuple[str, str]]) -> Set[str]:
    return {f"{n}@{v}" for n, v in versions}


def run(world: World, client: Any, out: Path, cache: str, **kw: Any) -> cpd.ScanSummary:
    return cpd.scan(
        kw.pop("specs", world.versions),
        client=client,
        out=out,
        cache_dir=cache,
        index_url=world.index_url,
        allow_insecure_transport=True,
        **kw,
    )


TRANSFER = ("strategy", "objects", "bytes", "commit_objects")


def without_transfer(doc: Dict[str, Any]) -> Dict[str, Any]:
    """A report without the figures of how its commit arrived: a scan fetches each repository
    once for all its versions (strategy `prefetch`), a single verification fetches its own."""
    doc = json.loads(json.dumps(doc))
    repo = (doc.get("fetch") or {}).get("repository")
    if isinstance(repo, dict):
        for k in TRANSFER:
            repo.pop(k, None)
    return doc


def test_results_equal_single_process_and_partitioned_by_repository(
    world: World, cluster: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    before = len(world.daemon.upload_packs())
    s = run(world, cluster, out, str(tmp_path / "cache-{worker}"), partition_size=4, deny=["mismatch"])
    got = lines_by_key(s.results)
    assert set(got) == keys(world.versions)
    assert s.total == s.verified == len(world.versions) and s.skipped == 0
    assert s.repositories == 6  # five repositories (two spellings of gamma) + no repository
    assert s.denied == ["eps@1.0.0"] and not s.ok
    errors = [line for line in got.values() if "error" in line]
    assert s.counts == {"match": 10, "mismatch": 1, "no_repository": 1}, errors

    packs = world.daemon.upload_packs()[before:]
    # Equal to single-process results.
    single_cache = tmp_path / "single"
    for name, version in world.versions:
        r = cp.verify(
            name,
            version,
            cache_dir=single_cache,
            index_url=world.index_url,
            allow_insecure_transport=True,
        )
        want = without_transfer(r.to_dict())
        assert without_transfer(got[f"{name}@{version}"]) == want, f"{name}@{version}"
    single_packs = world.daemon.upload_packs()[before + len(packs) :]

    # Partitioned by repository: every repository's versions are in one part file, and its
    # clone is in exactly one worker's cache.
    part_of: Dict[Optional[str], Set[str]] = {}
    for f in (out / "parts").glob("*.jsonl"):
        for k in lines_by_key(f):
            n, v = k.split("@")
            part_of.setdefault(world.repo_of[(n, v)], set()).add(f.name)
    assert all(len(files) == 1 for files in part_of.values()), part_of
    clones = sorted(p.parent.parent.name for p in tmp_path.glob("cache-*/git/*"))
    assert len(clones) == 5, clones
    assert len({p.name for p in tmp_path.glob("cache-*/git/*")}) == 5
    # The git server saw each repository once per scan (the batch engine's prefetch: every
    # commit in one negotiation, plus one deepen when a commit is on no advertised tip), never
    # more often than one process verifying version after version with one cache (no
    # repository was fetched by two workers).
    # (Two spellings of one repository are fetched through the first one.)
    seen, single = Counter(packs), Counter(single_packs)
    assert set(seen) <= set(single) and len(seen) >= len(single) - 1, (packs, single_packs)
    assert all(n <= min(2, single[r]) for r, n in seen.items()), (packs, single_packs)
    if pytest.importorskip("pyarrow"):
        import pyarrow.parquet as pq

        rows = sum(pq.read_table(p).num_rows for p in (out / "parts").glob("*.parquet"))
        assert rows == len(world.versions)

    # Index-derived selections; a re-run skips what is recorded.
    n_dl = len(world.downloads())
    s2 = run(
        world,
        cluster,
        out,
        str(tmp_path / "cache-{worker}"),
        specs=cpd.all_versions(["alpha", "zeta", "gamma"]),
    )
    assert (s2.verified, s2.skipped, s2.total) == (0, 8, len(world.versions))
    assert len(world.downloads()) == n_dl  # the yanked zeta 0.0.3 is not selected
    out3 = tmp_path / "latest"
    s3 = run(world, cluster, out3, str(tmp_path / "cache-{worker}"), specs=cpd.latest_versions(["alpha", "zeta"]))
    assert set(lines_by_key(s3.results)) == {"alpha@1.2.0", "zeta@0.0.2"}


def test_worker_killed_mid_run_scan_completes(world: World, cluster: Any, tmp_path: Path) -> None:
    pids = cluster.run(os.getpid)
    killed: List[int] = []

    def progress(done: int, total: int) -> None:
        if not killed:
            # Kill a worker that is running a partition right now.
            busy = [w for w, tasks in cluster.processing().items() if tasks]
            victim = pids[busy[0]] if busy else next(iter(pids.values()))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    world.registry.download_delay = 0.2
    try:
        s = run(world, cluster, tmp_path / "out", str(tmp_path / "cache"), partition_size=2, progress=progress)
    finally:
        world.registry.download_delay = 0.0
    assert killed
    got = lines_by_key(s.results)
    assert set(got) == keys(world.versions)
    assert all("error" not in obj for obj in got.values()), got


def test_interrupt_and_resume_verifies_no_version_twice(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"

    class Stop(Exception):
        pass

    def stop_after_one(done: int, total: int) -> None:
        # Nothing more is downloaded until the cluster is closed, so the scan cannot finish
        # every version before it stops, however the machine schedules the workers.
        world.registry.hold_downloads()
        raise Stop

    world.registry.download_delay = 0.1
    start = len(world.registry.requests)
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(c)
    try:
        with pytest.raises(Stop):
            run(world, client, out, str(tmp_path / "cache1"), partition_size=2, progress=stop_after_one)
    finally:
        client.close()
        c.close()  # kills the tasks still running
        world.registry.release_downloads()
        world.registry.download_delay = 0.0
    recorded = set(cpd._finished(out)) | {
        k
        for p in (out / "parts").glob("*.partial.jsonl")
        for k in map(cpd._line_key, cpd._read_lines(p))
        if k is not None
    }
    assert recorded and recorded != keys(world.versions)

    # Resume with an empty cache: only the versions without a line are downloaded.
    assert len(world.registry.requests) > start
    n_before = len(world.downloads())
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(c)
    try:
        s = run(world, client, out, str(tmp_path / "cache2"), partition_size=2)
    finally:
        client.close()
        c.close()
    resumed = [f"{n}@{v}" for n, v in world.downloads()[n_before:]]
    assert len(resumed) == len(set(resumed)), resumed
    assert set(resumed) == keys(world.versions) - recorded
    assert s.skipped == len(recorded)
    got = lines_by_key(s.results)
    assert set(got) == keys(world.versions)


def test_crate_that_crashes_its_worker_is_recorded(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cpd.CRASH_ENV, "beta@0.2.0")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(c)
    try:
        s = run(world, client, tmp_path / "out", str(tmp_path / "cache"), partition_size=4)
    finally:
        client.close()
        c.close()
    got = lines_by_key(s.results)
    assert set(got) == keys(world.versions)
    err = got["beta@0.2.0"]["error"]
    assert err["kind"] == "internal" and "crashed its worker" in err["message"], err
    assert all("error" not in o for k, o in got.items() if k != "beta@0.2.0")


def test_cli_local_cluster(world: World, tmp_path: Path) -> None:
    lst = tmp_path / "list.txt"
    lst.write_text("# fixture\nalpha@1.0.0\nbeta@0.1.0\n\ndelta@1.0.0\n")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "crate_provenance.distributed",
        "--local",
        "2",
        "--list",
        str(lst),
        "--out",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--index-url",
        world.index_url,
        "--allow-insecure-transport",
        "--deny",
        "no_repository",
    ]
    # A hang guard only: starting a two-process cluster and verifying three crates takes
    # seconds.
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert p.returncode == 1, p.stderr
    summary = json.loads(p.stdout)
    assert summary["total"] == 3 and summary["denied"] == ["delta@1.0.0"]
    assert set(lines_by_key(out / "results.jsonl")) == {"alpha@1.0.0", "beta@0.1.0", "delta@1.0.0"}
