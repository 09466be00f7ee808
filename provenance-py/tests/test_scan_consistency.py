"""One batch engine: the same list through `crate-provenance scan --out` and
`crate_provenance.scan(out=...)` (and, when Dask is installed, `crate_provenance.distributed`)
gives the same results file, line for line, and the same summary.

The world: a loopback sparse registry and a loopback `git daemon`, 13 crate versions —
matches (one repository under two spellings), a mismatch, no repository, a commit missing from
its repository, a repository whose host refuses connections (issue 16: `repository_not_found`
with a `repository_unreachable` finding everywhere, never a `network` error), a corrupt archive,
a version the registry does not have, and a crate whose declared repository host does not exist
(`https://github.invalid/…`) served only under a mirror (`--mirror` / `mirrors=`, issue 16).

No field is removed before comparing scans: reports carry no timing and nothing that depends on
the cache, so the lines are byte-identical. A single verification's report differs from the
scan's line only in the transfer figures (`fetch.repository.strategy`/`objects`/`bytes`/
`commit_objects`), which docs/VERDICTS.md ("The answer and the run metadata") defines as run
metadata: a scan fetches each repository once for all its versions. Every other field is
compared. The C library (`provenance-c`, built with cargo and driven through its C API with
ctypes) is compared like a single verification."""

from __future__ import annotations

import ctypes
import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import crate_provenance as cp

from registry import Registry

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GitDaemon:
    """`git daemon` on 127.0.0.1 serving every repository under `base`."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
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
                str(base),
            ],
            env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(base)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.025)

    def url(self, path: str) -> str:
        return f"git://127.0.0.1:{self.port}/{path}"

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


class World:
    def __init__(self, base: Path, registry: Registry, daemon: GitDaemon) -> None:
        self.base = base
        self.registry = registry
        self.daemon = daemon
        self.versions: List[str] = []

    def add_repo(
        self,
        name: str,
        versions: List[str],
        spellings: List[str],
        *,
        tamper: Optional[str] = None,
        commit: Optional[str] = None,
        declared: Optional[str] = None,
        served_as: Optional[str] = None,
        yanked: Optional[str] = None,
    ) -> None:
        """A bare repository `NAME.git`, one commit per version, each published (`tamper`: that
        version's published lib differs; `commit`: every version records this commit)."""
        work = self.base / f"{name}.work"
        (work / "src").mkdir(parents=True)
        git(work, "init", "-q", "-b", "main")
        for i, v in enumerate(versions):
            m = manifest(name, v, declared or self.daemon.url(spellings[i % len(spellings)]))
            lib = f"pub fn version() -> &'static str {{\n    \"{v}\"\n}}\n"
            (work / "Cargo.toml").write_text(m)
            (work / "src/lib.rs").write_text(lib)
            git(work, "add", "-A")
            git(work, "commit", "-q", "-m", f"release {v}")
            sha1 = commit or git(work, "rev-parse", "HEAD")
            published = lib + "// tampered\n" if v == tamper else lib
            self.registry.publish(name, v, make_crate(name, v, m, sha1, published), yanked=v == yanked)
            self.versions.append(f"{name}@{v}")
        bare = self.base / (served_as or f"{name}.git")
        bare.parent.mkdir(parents=True, exist_ok=True)
        git(self.base, "clone", "-q", "--bare", str(work), str(bare))

    def add_submodule_crate(self, name: str, version: str) -> None:
        """A package whose `vendor/` is a submodule (relative URL `../NAME-sub.git`)."""
        sub = self.base / f"{name}-sub.work"
        sub.mkdir()
        git(sub, "init", "-q", "-b", "main")
        (sub / "data.txt").write_text("from the submodule\n")
        git(sub, "add", "-A")
        git(sub, "commit", "-q", "-m", "sub")
        sub_commit = git(sub, "rev-parse", "HEAD")
        git(self.base, "clone", "-q", "--bare", str(sub), str(self.base / f"{name}-sub.git"))
        work = self.base / f"{name}.work"
        (work / "src").mkdir(parents=True)
        git(work, "init", "-q", "-b", "main")
        m = manifest(name, version, self.daemon.url(f"{name}.git"))
        lib = "pub fn f() {}\n"
        gitmodules = f'[submodule "vendor"]\n\tpath = vendor\n\turl = ../{name}-sub.git\n'
        (work / "Cargo.toml").write_text(m)
        (work / "src/lib.rs").write_text(lib)
        (work / ".gitmodules").write_text(gitmodules)
        git(work, "add", "-A")
        git(work, "update-index", "--add", "--cacheinfo", f"160000,{sub_commit},vendor")
        git(work, "commit", "-q", "-m", "package")
        sha1 = git(work, "rev-parse", "HEAD")
        git(self.base, "clone", "-q", "--bare", str(work), str(self.base / f"{name}.git"))
        vcs = '{\n  "git": {\n    "sha1": "%s"\n  },\n  "path_in_vcs": ""\n}' % sha1
        files = [
            (".cargo_vcs_info.json", vcs.encode()),
            (".gitmodules", gitmodules.encode()),
            ("Cargo.toml", m.encode()),
            ("Cargo.toml.orig", m.encode()),
            ("src/lib.rs", lib.encode()),
            ("vendor/data.txt", b"from the submodule\n"),
        ]
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
            for path, data in files:
                info = tarfile.TarInfo(f"{name}-{version}/{path}")
                info.size = len(data)
                info.mode = 0o644
                t.addfile(info, io.BytesIO(data))
        self.publish(name, version, gzip.compress(buf.getvalue(), mtime=0))

    def publish(self, name: str, version: str, data: bytes) -> None:
        self.registry.publish(name, version, data)
        self.versions.append(f"{name}@{version}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("srv")
    daemon = GitDaemon(base)
    with Registry() as reg:
        w = World(base, reg, daemon)
        w.add_repo("alpha", ["1.0.0", "1.1.0", "1.2.0"], ["alpha.git"])
        w.add_repo("beta", ["0.1.0", "0.2.0"], ["beta.git", "beta"])  # two spellings
        w.add_repo("gamma", ["2.0.0", "2.1.0"], ["gamma.git"], tamper="2.1.0")  # mismatch
        w.add_repo("zeta", ["0.0.1"], ["zeta.git"], commit="ab" * 20)  # revision_not_found
        w.publish("delta", "1.0.0", make_crate("delta", "1.0.0", manifest("delta", "1.0.0", None), None, "\n"))
        # A repository host that refuses connections: nothing listens on this loopback port.
        closed = f"git://127.0.0.1:{free_port()}/gone.git"
        w.publish(
            "unreach",
            "1.0.0",
            make_crate("unreach", "1.0.0", manifest("unreach", "1.0.0", closed), "cd" * 20, "\n"),
        )
        w.publish("corrupt", "1.0.0", b"this is not a crate")  # checksum right, not a .crate
        w.versions.append("missing@9.9.9")  # not in the registry
        # Declared on a host that does not exist, served only under the mirror (`MIRRORS`).
        w.add_repo(
            "mirrored",
            ["0.3.0"],
            [],
            declared="https://github.invalid/acme/mirrored",
            served_as="mirror/acme/mirrored.git",
        )
        # Six versions of one repository, one of them yanked (verified as usual, with a finding).
        w.add_repo("eta", [f"0.{i}.0" for i in range(6)], ["eta.git"], yanked="0.4.0")
        # A package with a submodule (relative URL), fetched with the superproject.
        w.add_submodule_crate("subby", "1.0.0")
        # A match after the failures: the results keep the list's order.
        w.add_repo("omega", ["3.0.0"], ["omega.git"])
        yield w
    daemon.close()


def mirrors(world: World) -> Dict[str, str]:
    return {"https://github.invalid/": world.daemon.url("mirror/")}


def write_list(world: World, path: Path) -> Path:
    path.write_text("# every outcome of interest\n" + "".join(f"{v}\n" for v in world.versions))
    return path


def by_key(lines: List[str]) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for line in lines:
        obj = json.loads(line)
        out[f"{obj['crate']['name']}@{obj['crate']['version']}"] = obj
    return out


def cli_scan(cli: Path, world: World, lst: Path, out: Path, cache: Path, *extra: str) -> Any:
    p = subprocess.run(
        [
            str(cli),
            "scan",
            "--list",
            str(lst),
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            "--index-url",
            world.registry.index_url,
            "--allow-insecure-transport",
            "--format",
            "json",
            "--deny",
            "mismatch,error",
            *[f"--mirror={k}={v}" for k, v in mirrors(world).items()],
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "CI"},
    )
    assert p.returncode == 1, p.stderr  # the gate fails: a mismatch and errors
    return p


def test_cli_and_python_scan_write_the_same_lines(world: World, cli: Path, tmp_path: Path) -> None:
    assert len(world.versions) >= 20
    lst = write_list(world, tmp_path / "list.txt")

    # The CLI: worker processes (its default), one job, so the order is the list's.
    p = cli_scan(cli, world, lst, tmp_path / "cli.jsonl", tmp_path / "cache-cli", "--jobs", "1")
    # The Python package: in-process, one job.
    s = cp.scan(
        lst,
        out=tmp_path / "py.jsonl",
        jobs=1,
        deny=["mismatch", "error"],
        cache_dir=tmp_path / "cache-py",
        index_url=world.registry.index_url,
        allow_insecure_transport=True,
        mirrors=mirrors(world),
    )
    cli_lines = (tmp_path / "cli.jsonl").read_text().splitlines()
    py_lines = (tmp_path / "py.jsonl").read_text().splitlines()
    assert len(cli_lines) == len(world.versions)
    for i, (a, b) in enumerate(zip(cli_lines, py_lines)):
        assert a == b, f"line {i + 1} differs:\nCLI:    {a}\nPython: {b}"
    assert len(py_lines) == len(cli_lines)
    # The same summary document.
    assert s.to_json() == p.stdout
    assert s.gate_failed and not s.ok and s.verified == len(world.versions) and s.already == 0

    got = by_key(cli_lines)
    assert [f"{o['crate']['name']}@{o['crate']['version']}" for o in map(json.loads, cli_lines)] == world.versions
    verdicts = {k: o.get("verdict") or o["error"]["kind"] for k, o in got.items()}
    assert verdicts == {
        "alpha@1.0.0": "match",
        "alpha@1.1.0": "match",
        "alpha@1.2.0": "match",
        "beta@0.1.0": "match",
        "beta@0.2.0": "match",
        "gamma@2.0.0": "match",
        "gamma@2.1.0": "mismatch",
        "zeta@0.0.1": "revision_not_found",
        "delta@1.0.0": "no_repository",
        "unreach@1.0.0": "repository_not_found",
        "corrupt@1.0.0": "invalid_archive",
        "missing@9.9.9": "crate_not_found",
        "mirrored@0.3.0": "match",
        **{f"eta@0.{i}.0": "match" for i in range(6)},
        "subby@1.0.0": "match",
        "omega@3.0.0": "match",
    }, verdicts
    assert "yanked" in [f["kind"] for f in got["eta@0.4.0"]["findings"]]
    (sub,) = got["subby@1.0.0"]["fetch"]["repository"]["submodules"]
    assert sub["available"] and sub["url"] == world.daemon.url("subby-sub.git"), sub
    assert got["mirrored@0.3.0"]["source"]["repository"] == "https://github.invalid/acme/mirrored"
    assert got["mirrored@0.3.0"]["source"]["fetched_from"] == world.daemon.url("mirror/acme/mirrored")
    # Issue 16: an unreachable host is a verdict with a finding, not a `network` error.
    findings = [f["kind"] for f in got["unreach@1.0.0"]["findings"]]
    assert "repository_unreachable" in findings, got["unreach@1.0.0"]
    assert s.denied == ["gamma@2.1.0", "corrupt@1.0.0", "missing@9.9.9"]

    # Resuming: the same call again verifies nothing and appends nothing.
    again = cp.scan(
        lst,
        out=tmp_path / "py.jsonl",
        cache_dir=tmp_path / "cache-py",
        index_url=world.registry.index_url,
        allow_insecure_transport=True,
        mirrors=mirrors(world),
    )
    assert (again.verified, again.already) == (0, len(world.versions))
    assert (tmp_path / "py.jsonl").read_text().splitlines() == py_lines


def test_parallel_jobs_give_the_same_lines(world: World, cli: Path, tmp_path: Path) -> None:
    """With two jobs the order is the completion order; the lines are the same."""
    lst = write_list(world, tmp_path / "list.txt")
    cli_scan(cli, world, lst, tmp_path / "cli.jsonl", tmp_path / "cache-cli", "--jobs", "2", "--no-isolation")
    cp.scan(
        [tuple(v.split("@")) for v in world.versions],
        out=tmp_path / "py.jsonl",
        jobs=2,
        cache_dir=tmp_path / "cache-py",
        index_url=world.registry.index_url,
        allow_insecure_transport=True,
        mirrors=mirrors(world),
    )
    assert sorted((tmp_path / "cli.jsonl").read_text().splitlines()) == sorted(
        (tmp_path / "py.jsonl").read_text().splitlines()
    )


def test_distributed_writes_the_same_lines(world: World, cli: Path, tmp_path: Path) -> None:
    """`crate_provenance.distributed` (Dask) merges to the same lines, sorted by crate."""
    distributed = pytest.importorskip("distributed")
    from crate_provenance import distributed as cpd

    lst = write_list(world, tmp_path / "list.txt")
    cli_scan(cli, world, lst, tmp_path / "cli.jsonl", tmp_path / "cache-cli", "--jobs", "2")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(c)
    try:
        s = cpd.scan(
            [tuple(v.split("@")) for v in world.versions],
            client=client,
            out=tmp_path / "dist",
            cache_dir=str(tmp_path / "cache-{worker}"),
            partition_size=4,
            deny=["mismatch", "error"],
            index_url=world.registry.index_url,
            allow_insecure_transport=True,
            mirrors=mirrors(world),
        )
    finally:
        client.close()
        c.close()
    cli_lines = (tmp_path / "cli.jsonl").read_text().splitlines()
    dist_lines = s.results.read_text().splitlines()
    # The merged file is sorted by `NAME@VERSION`; otherwise the same lines.
    keyed = sorted((f"{o['crate']['name']}@{o['crate']['version']}", line) for o, line in zip(map(json.loads, cli_lines), cli_lines))
    assert dist_lines == [line for _, line in keyed]
    assert s.denied == sorted(["gamma@2.1.0", "corrupt@1.0.0", "missing@9.9.9"])


def test_verify_through_a_mirror_cli_and_python(world: World, cli: Path, tmp_path: Path) -> None:
    """`crate-provenance verify --mirror` and `crate_provenance.verify(mirrors=...)` give the same
    report; without the mirror the declared host cannot be reached."""
    (k, v), = mirrors(world).items()
    args = ["--index-url", world.registry.index_url, "--allow-insecure-transport", "--format", "json"]
    p = subprocess.run(
        [str(cli), "verify", "mirrored@0.3.0", "--cache-dir", str(tmp_path / "c1"), "--mirror", f"{k}={v}", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    r = cp.verify(
        "mirrored",
        "0.3.0",
        cache_dir=tmp_path / "c2",
        index_url=world.registry.index_url,
        allow_insecure_transport=True,
        mirrors=mirrors(world),
    )
    assert r.to_json() + "\n" == p.stdout
    assert r.source.fetched_from == world.daemon.url("mirror/acme/mirrored")
    assert r.source.repository == "https://github.invalid/acme/mirrored"
    with pytest.raises(cp.ProvenanceError) as e:
        cp.verify("mirrored", "0.3.0", mirrors={"https://github.invalid/": "ext::sh"})
    assert e.value.kind == "invalid_input"


def cli_verify(cli: Path, world: World, spec: str, cache: Path, *extra: str) -> Dict[str, Any]:
    p = subprocess.run(
        [
            str(cli),
            "verify",
            spec,
            "--format",
            "json",
            "--cache-dir",
            str(cache),
            "--index-url",
            world.registry.index_url,
            "--allow-insecure-transport",
            *[f"--mirror={k}={v}" for k, v in mirrors(world).items()],
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc: Dict[str, Any] = json.loads(p.stdout)
    assert p.returncode == (2 if "error" in doc else 0 if doc["verdict"] == "match" else 1), p.stderr
    return doc


def py_verify(world: World, spec: str, cache: Path, **extra: Any) -> Dict[str, Any]:
    name, version = spec.split("@")
    try:
        r = cp.verify(
            name,
            version,
            cache_dir=cache,
            index_url=world.registry.index_url,
            allow_insecure_transport=True,
            mirrors=mirrors(world),
            **extra,
        )
    except cp.ProvenanceError as e:
        return {"schema_version": 1, "error": {"kind": e.kind, "message": str(e)}}
    doc: Dict[str, Any] = json.loads(r.to_json())
    return doc


def without_crate(line: Dict[str, Any]) -> Dict[str, Any]:
    """A scan's error line names the crate; a single verification's error does not."""
    if "error" in line:
        return {"schema_version": line["schema_version"], "error": line["error"]}
    return line


# The run metadata of docs/VERDICTS.md ("The answer and the run metadata"), and nothing else.
TRANSFER = ("strategy", "objects", "bytes", "commit_objects")


def without_transfer(doc: Dict[str, Any]) -> Dict[str, Any]:
    """A report without the figures of how its commit arrived: a scan fetches each repository
    once for all its versions (`fetch.repository.strategy` `prefetch`, the pack shared), a
    single verification fetches its own. Everything else is compared."""
    doc = json.loads(json.dumps(doc))
    repo = (doc.get("fetch") or {}).get("repository")
    if isinstance(repo, dict):
        for k in TRANSFER:
            repo.pop(k, None)
    return doc


REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def clib() -> ctypes.CDLL:
    """The C library (`provenance-c`'s cdylib), built with cargo like the CLI; driven through
    its C API (include/crate_provenance.h) with ctypes."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed: the C library cannot be built")
    subprocess.run(["cargo", "build", "--quiet", "-p", "provenance-c", "--lib"], cwd=REPO_ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"]) / "debug"
    lib = ctypes.CDLL(str(target / "libcrate_provenance.so"))
    p, u32, sz = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t
    sigs = {
        "prov_options_new": (u32, [ctypes.POINTER(p)]),
        "prov_options_free": (None, [p]),
        "prov_options_set_cache_dir": (u32, [p, ctypes.c_char_p]),
        "prov_options_set_index_url": (u32, [p, ctypes.c_char_p]),
        "prov_options_set_allow_insecure_transport": (u32, [p, ctypes.c_bool]),
        "prov_options_set_offline": (u32, [p, ctypes.c_bool]),
        "prov_options_add_mirror": (u32, [p, ctypes.c_char_p, ctypes.c_char_p]),
        "prov_verify_crate_ex": (u32, [p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(p), ctypes.POINTER(p)]),
        "prov_report_json": (u32, [p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(sz)]),
        "prov_report_free": (None, [p]),
        "prov_error_message": (u32, [p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(sz)]),
        "prov_error_free": (None, [p]),
        "prov_result_name": (ctypes.c_char_p, [u32]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


def c_verify(lib: ctypes.CDLL, world: World, spec: str, cache: Path, offline: bool = False) -> Dict[str, Any]:
    """`prov_verify_crate_ex` of `spec` with the options the CLI gets: the report's JSON
    (`prov_report_json`), or the error as the CLI writes it (kind `prov_result_name`, message
    `prov_error_message`)."""
    name, version = spec.split("@")
    opts = ctypes.c_void_p()
    assert lib.prov_options_new(ctypes.byref(opts)) == 0
    try:
        assert lib.prov_options_set_cache_dir(opts, str(cache).encode()) == 0
        assert lib.prov_options_set_index_url(opts, world.registry.index_url.encode()) == 0
        assert lib.prov_options_set_allow_insecure_transport(opts, True) == 0
        assert lib.prov_options_set_offline(opts, offline) == 0
        for k, v in mirrors(world).items():
            assert lib.prov_options_add_mirror(opts, k.encode(), v.encode()) == 0
        report, err = ctypes.c_void_p(), ctypes.c_void_p()
        code = lib.prov_verify_crate_ex(opts, name.encode(), version.encode(), ctypes.byref(report), ctypes.byref(err))
        text, n = ctypes.c_char_p(), ctypes.c_size_t()
        if code != 0:
            try:
                assert lib.prov_error_message(err, ctypes.byref(text), ctypes.byref(n)) == 0
                message = ctypes.string_at(text, n.value).decode()
            finally:
                lib.prov_error_free(err)
            return {"schema_version": 1, "error": {"kind": lib.prov_result_name(code).decode(), "message": message}}
        try:
            assert lib.prov_report_json(report, ctypes.byref(text), ctypes.byref(n)) == 0
            doc: Dict[str, Any] = json.loads(ctypes.string_at(text, n.value))
        finally:
            lib.prov_report_free(report)
        return doc
    finally:
        lib.prov_options_free(opts)


def test_single_verifications_give_the_scan_lines(world: World, cli: Path, clib: ctypes.CDLL, tmp_path: Path) -> None:
    """Issue 16, one answer everywhere: CLI `verify` and `crate_provenance.verify` of every
    version give exactly the scan's line (reports field by field but the transfer figures, which
    say how the commit arrived: once per repository in a scan; errors by kind and message),
    including the unreachable host, the corrupt archive, the missing version, the yanked one and
    the one only a mirror serves; and the C library (`prov_verify_crate_ex`, `prov_report_json`)
    likewise. The Dask scan is compared with the CLI scan above."""
    lst = write_list(world, tmp_path / "list.txt")
    cli_scan(cli, world, lst, tmp_path / "scan.jsonl", tmp_path / "cache-scan", "--jobs", "1")
    lines = by_key((tmp_path / "scan.jsonl").read_text().splitlines())
    assert len(lines) == len(world.versions) >= 20
    for spec in world.versions:
        want = without_transfer(without_crate(lines[spec]))
        assert without_transfer(cli_verify(cli, world, spec, tmp_path / "cache-cli")) == want, spec
        assert without_transfer(py_verify(world, spec, tmp_path / "cache-py")) == want, spec
        assert without_transfer(c_verify(clib, world, spec, tmp_path / "cache-c")) == want, spec


def test_offline_cache_miss_is_the_same_error_everywhere(
    world: World, cli: Path, clib: ctypes.CDLL, tmp_path: Path
) -> None:
    """An offline cache miss: the same error (kind and message) from CLI verify, Python verify,
    the C library and a Python scan line."""
    spec = "alpha@1.0.0"
    empty = tmp_path / "empty-cache"
    a = cli_verify(cli, world, spec, empty, "--offline")
    b = py_verify(world, spec, empty, offline=True)
    s = cp.scan(
        [tuple(spec.split("@"))],
        out=tmp_path / "off.jsonl",
        cache_dir=empty,
        offline=True,
        index_url=world.registry.index_url,
        allow_insecure_transport=True,
        mirrors=mirrors(world),
    )
    assert s.verified == 1
    (line,) = (tmp_path / "off.jsonl").read_text().splitlines()
    c = c_verify(clib, world, spec, empty, offline=True)
    assert a == b == c == without_crate(json.loads(line))
    assert a["error"]["kind"] == "unsupported" and a["error"]["message"].startswith("offline: "), a


def test_cargo_config_keyword_is_the_cli_flag(world: World, cli: Path, tmp_path: Path) -> None:
    """`cargo_config=` on verify, inspect and scan takes the registry from a cargo config's
    `[source.crates-io] replace-with` exactly like `--cargo-config`: the same reports as the CLI
    with the flag and as `index_url=`; with `index_url=` too it is `invalid_input`."""
    config = tmp_path / ".cargo" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        '[source.crates-io]\nreplace-with = "air-gapped"\n\n'
        f'[source.air-gapped]\nregistry = "{world.registry.index_url}"\n'
    )
    spec = "alpha@1.0.0"
    name, version = spec.split("@")
    r = cp.verify(
        name, version, cache_dir=tmp_path / "c1", cargo_config=config,
        allow_insecure_transport=True, mirrors=mirrors(world),
    )
    a = json.loads(r.to_json())
    assert "verdict" in a, a
    p = subprocess.run(
        [str(cli), "verify", spec, "--format", "json", "--cache-dir", str(tmp_path / "c3"),
         "--cargo-config", str(config), "--allow-insecure-transport",
         *[f"--mirror={k}={v}" for k, v in mirrors(world).items()]],
        capture_output=True, text=True, timeout=300,
    )
    assert json.loads(p.stdout) == a, p.stderr
    assert a == py_verify(world, spec, tmp_path / "c4")

    # `inspect` has no `allow_insecure_transport`: the loopback `http://` index is refused, the
    # same way through either keyword (the message names the index `cargo_config` led to).
    errs = []
    for kw in ({"cargo_config": config}, {"index_url": world.registry.index_url}):
        with pytest.raises(cp.ProvenanceError) as e:
            cp.inspect(name=name, version=version, cache_dir=tmp_path / "c5", **kw)
        errs.append((e.value.kind, str(e.value)))
    assert errs[0] == errs[1] and world.registry.index_url.removeprefix("sparse+") in errs[0][1], errs

    s = cp.scan(
        [(name, version)], out=tmp_path / "cfg.jsonl", cache_dir=tmp_path / "c7",
        cargo_config=config, allow_insecure_transport=True, mirrors=mirrors(world),
    )
    assert s.verified == 1
    (line,) = (tmp_path / "cfg.jsonl").read_text().splitlines()
    assert without_transfer(json.loads(line)) == without_transfer(a)

    for call in (
        lambda: cp.verify(name, version, index_url=world.registry.index_url, cargo_config=config),
        lambda: cp.inspect(name=name, version=version, index_url=world.registry.index_url, cargo_config=config),
        lambda: cp.scan([(name, version)], index_url=world.registry.index_url, cargo_config=config),
    ):
        with pytest.raises(cp.ProvenanceError) as e:
            call()
        assert e.value.kind == "invalid_input" and "cargo_config" in str(e.value)
