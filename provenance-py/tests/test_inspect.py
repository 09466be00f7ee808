"""`crate_provenance.inspect()` and `Inspection`: attributes against the JSON document,
`to_json()` byte for byte against `crate-provenance inspect --format json` (whose output
tests/inspect.rs validates against schema/inspect.v1.json), tampered crates, argument checks,
errors, the registry arguments without a registry, and progress."""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import pytest

import crate_provenance as cp
from crate_provenance import exceptions as exc

from conftest import Entry


def cli_inspect(cli: Path, crate_file: Path) -> Tuple[int, str]:
    """`crate-provenance inspect FILE --format json`: (exit status, stdout)."""
    out = subprocess.run(
        [str(cli), "inspect", str(crate_file), "--format", "json"],
        capture_output=True,
        text=True,
    )
    return out.returncode, out.stdout


def tamper(src: Path, dst: Path, edit: Callable[[str, bytes], bytes]) -> Path:
    """Rewrite the `.crate` at `src` into `dst` with `edit(path, data)` applied to every file."""
    old = tarfile.open(fileobj=io.BytesIO(gzip.decompress(src.read_bytes())))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as new:
        for m in old.getmembers():
            f = old.extractfile(m)
            data = f.read() if f is not None else b""
            if m.isfile():
                data = edit(m.name.split("/", 1)[1], data)
                m.size = len(data)
            new.addfile(m, io.BytesIO(data))
    dst.write_bytes(gzip.compress(out.getvalue()))
    return dst


def test_inspection_fields_match_its_json(entry: Entry) -> None:
    i = cp.inspect(entry.crate_file)
    d = i.to_dict()
    assert d["kind"] == "inspect"
    assert i.schema_version == d["schema_version"] == 1
    assert (i.name, i.version, i.sha256) == (
        d["crate"]["name"],
        d["crate"]["version"],
        d["crate"]["sha256"],
    )
    assert (i.name, i.version) == (entry.expected["name"], entry.expected["version"])
    assert i.crate_name == i.name
    assert i.sha256 == entry.expected["crate_sha256"]
    assert (i.era_min, i.era_max, i.era_evidence) == (
        d["era"]["min"],
        d["era"]["max"],
        d["era"]["evidence"],
    )
    assert i.era_evidence, "every crate gives at least one clue (`Cargo.toml.orig` or not)"
    assert i.inventory == d["inventory"]
    assert i.declared == d["declared"]
    assert [(f.kind, f.severity, f.message, f.path) for f in i.findings] == [
        (f["kind"], f["severity"], f["message"], f.get("path")) for f in d["findings"]
    ]
    assert i.has_high == any(f.severity == "high" for f in i.findings)
    assert repr(i) == (
        f"Inspection(name={i.name!r}, version={i.version!r}, "
        f"findings={len(d['findings'])}, has_high={i.has_high})"
    )


def test_to_json_equals_the_cli(entry: Entry, cli: Path) -> None:
    i = cp.inspect(entry.crate_file)
    code, stdout = cli_inspect(cli, entry.crate_file)
    assert stdout == i.to_json() + "\n"
    assert code == (1 if i.has_high else 0)


def test_known_values(realworld: dict[str, Entry]) -> None:
    member = cp.inspect(realworld["ref-cast-impl-1.0.26"].crate_file)
    assert member.declared["path_in_vcs"] == "derive"
    assert member.declared["vcs_info"] is True and member.declared["dirty"] is False
    assert member.declared["commit"] is not None and len(member.declared["commit"]) == 40
    assert member.inventory["proc_macro"] is True
    old = cp.inspect(realworld["fnv-1.0.6"].crate_file)
    assert old.declared["vcs_info"] is False and old.declared["commit"] is None
    hexyl = cp.inspect(realworld["hexyl-0.17.0"].crate_file)
    assert hexyl.inventory["binary_files"], "hexyl 0.17.0 publishes binary files"
    assert all(f["reason"] for f in hexyl.inventory["binary_files"])
    assert hexyl.inventory["files"] == sum(d["files"] for d in hexyl.inventory["directories"])


def test_tampered_manifest_is_a_high_finding_not_an_exception(
    realworld: dict[str, Entry], tmp_path: Path, cli: Path
) -> None:
    def add_dependency(path: str, data: bytes) -> bytes:
        return data + b'\n[dependencies.evil]\nversion = "1"\n' if path == "Cargo.toml" else data

    bad = tamper(realworld["ryu-1.0.23"].crate_file, tmp_path / "ryu-1.0.23.crate", add_dependency)
    i = cp.inspect(bad)
    assert i.has_high
    [f] = [f for f in i.findings if f.severity == "high"]
    assert f.kind == "normalized_manifest_diverges"
    assert "dependencies.evil" in f.message
    code, stdout = cli_inspect(cli, bad)
    assert (code, stdout) == (1, i.to_json() + "\n")


def test_lockfile_with_undeclared_package(
    realworld: dict[str, Entry], tmp_path: Path
) -> None:
    def add_package(path: str, data: bytes) -> bytes:
        if path != "Cargo.lock":
            return data
        return data + (
            b'\n[[package]]\nname = "evil"\nversion = "1.0.0"\n'
            b'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
        )

    bad = tamper(realworld["ryu-1.0.23"].crate_file, tmp_path / "ryu-1.0.23.crate", add_package)
    i = cp.inspect(crate_file=bad)
    kinds = [(f.kind, f.path) for f in i.findings if f.severity == "high"]
    assert kinds == [("lockfile_inconsistent", "Cargo.lock")]


def test_inspection_is_immutable(realworld: dict[str, Entry]) -> None:
    i = cp.inspect(realworld["fnv-1.0.7"].crate_file)
    for attr in ("name", "findings", "has_high", "inventory", "declared", "era_min"):
        with pytest.raises(AttributeError):
            setattr(i, attr, "x")
    i.inventory["files"] = -1
    i.declared["dirty"] = True
    i.era_evidence.append("x")
    i.findings.append("x")  # type: ignore[arg-type]
    d = i.to_dict()
    assert i.inventory["files"] == d["inventory"]["files"] > 0
    assert i.declared["dirty"] is False
    assert i.era_evidence == d["era"]["evidence"]
    assert len(i.findings) == len(d["findings"])
    with pytest.raises(TypeError):
        cp.Inspection()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"name": "fnv"},
        {"version": "1.0.7"},
        {"crate_file": "fnv-1.0.7.crate", "name": "fnv", "version": "1.0.7"},
        {"crate_file": "fnv-1.0.7.crate", "name": "fnv"},
        {"crate_file": "fnv-1.0.7.crate", "cache_dir": ""},
    ],
)
def test_exactly_one_crate_argument(kwargs: dict[str, str]) -> None:
    with pytest.raises(cp.InvalidInputError) as info:
        cp.inspect(**kwargs)  # type: ignore[arg-type]
    assert info.value.kind == "invalid_input"


def test_progress_must_be_callable(realworld: dict[str, Entry]) -> None:
    with pytest.raises(TypeError):
        cp.inspect(realworld["fnv-1.0.7"].crate_file, progress=1)  # type: ignore[arg-type]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        cp.inspect(tmp_path / "missing.crate")
    assert isinstance(missing.value, exc.LocalFileNotFoundError)
    assert missing.value.kind == "not_found"
    corrupt = tmp_path / "corrupt.crate"
    corrupt.write_bytes(b"plain text, no gzip header")
    with pytest.raises(exc.ArchiveError) as bad:
        cp.inspect(corrupt)
    assert bad.value.kind == "invalid_archive"


def test_registry_crate_offline_with_empty_cache_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(cp.UnsupportedError):
        cp.inspect(name="x", version="1.0.0", offline=True, cache_dir=tmp_path)


def test_registry_crate_over_http_is_refused_by_policy(tmp_path: Path) -> None:
    """`inspect` has no `allow_insecure_transport` (nor has the CLI's `inspect`): an `http://`
    index is refused before anything is fetched, online or offline."""
    for offline in (False, True):
        with pytest.raises(cp.FetchError) as info:
            cp.inspect(
                name="fnv",
                version="1.0.7",
                index_url="sparse+http://127.0.0.1:9/index/",
                cache_dir=tmp_path,
                offline=offline,
            )
        assert info.value.kind == "url_policy"


def test_progress_on_the_calling_thread(realworld: dict[str, Entry]) -> None:
    calls: List[Tuple[str, int, Optional[int], int]] = []

    def progress(stage: str, done: int, total: Optional[int]) -> None:
        calls.append((stage, done, total, threading.get_ident()))

    i = cp.inspect(realworld["fnv-1.0.7"].crate_file, progress=progress)
    assert [c[:2] for c in calls] == [
        ("read_crate", 0),
        ("read_crate", realworld["fnv-1.0.7"].crate_file.stat().st_size),
    ]
    assert {c[3] for c in calls} == {threading.get_ident()}
    assert i.name == "fnv"


def test_progress_exception_propagates(realworld: dict[str, Entry]) -> None:
    class Stop(Exception):
        pass

    def progress(stage: str, done: int, total: Optional[int]) -> None:
        raise Stop(stage)

    with pytest.raises(Stop):
        cp.inspect(realworld["fnv-1.0.7"].crate_file, progress=progress)
