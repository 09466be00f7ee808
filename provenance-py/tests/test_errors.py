"""Each exception class raised by a real bad input, and the exception hierarchy."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from pathlib import Path

import pytest

import crate_provenance as cp
from crate_provenance import exceptions as exc

from conftest import Entry
from registry import Registry


def test_missing_crate_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        cp.verify(crate_file=tmp_path / "missing.crate", repo=tmp_path)
    err = info.value
    assert isinstance(err, exc.LocalFileNotFoundError)
    assert isinstance(err, exc.LocalIOError)
    assert isinstance(err, cp.ProvenanceError)
    assert err.kind == "not_found"
    assert "missing.crate" in str(err)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root reads files regardless of their permissions",
)
def test_unreadable_crate_file_is_permission_error(tmp_path: Path) -> None:
    f = tmp_path / "locked.crate"
    f.write_bytes(b"x")
    f.chmod(0)
    with pytest.raises(PermissionError) as info:
        cp.verify(crate_file=f)
    assert isinstance(info.value, exc.LocalPermissionError)
    assert info.value.kind == "permission_denied"


def test_corrupt_gzip_is_archive_error(tmp_path: Path) -> None:
    f = tmp_path / "corrupt.crate"
    f.write_bytes(b"\x1f\x8b\x08\x00 this is not deflate data at all" * 4)
    with pytest.raises(ValueError) as info:
        cp.verify(crate_file=f, repo=tmp_path)
    assert isinstance(info.value, exc.ArchiveError)
    assert info.value.kind == "invalid_archive"


def test_not_gzip_is_archive_error(tmp_path: Path) -> None:
    f = tmp_path / "plain.crate"
    f.write_bytes(b"plain text, no gzip header")
    with pytest.raises(exc.ArchiveError) as info:
        cp.verify(crate_file=f)
    assert info.value.kind == "invalid_archive"


def test_bad_tar_is_archive_error(tmp_path: Path) -> None:
    f = tmp_path / "badtar.crate"
    f.write_bytes(gzip.compress(b"\x01" * 1536))  # gzip fine, tar header checksum wrong
    with pytest.raises(exc.ArchiveError) as info:
        cp.verify(crate_file=f)
    assert info.value.kind == "invalid_archive"


def test_crate_without_manifest_is_metadata_error(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        data = b"fn main() {}\n"
        info = tarfile.TarInfo("demo-1.0.0/src/main.rs")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    f = tmp_path / "demo-1.0.0.crate"
    f.write_bytes(buf.getvalue())
    with pytest.raises(exc.ArchiveError) as info_:
        cp.verify(crate_file=f)
    assert info_.value.kind == "invalid_metadata"


def test_registry_crate_offline_with_empty_cache_is_unsupported(tmp_path: Path) -> None:
    """`verify("x", "1.0.0")` that may not touch the network and has nothing cached."""
    with pytest.raises(cp.UnsupportedError) as info:
        cp.verify("x", "1.0.0", offline=True, cache_dir=tmp_path)
    assert info.value.kind == "unsupported"


def test_unknown_crate_on_loopback_registry_is_crate_not_found(tmp_path: Path) -> None:
    with Registry() as reg:
        with pytest.raises(LookupError) as info:
            cp.verify(
                "x",
                "1.0.0",
                index_url=reg.index_url,
                allow_insecure_transport=True,
                cache_dir=tmp_path,
            )
    err = info.value
    assert isinstance(err, cp.CrateNotFoundError)
    assert isinstance(err, cp.FetchError)
    assert err.kind == "crate_not_found"


def test_unknown_version_on_loopback_registry_is_crate_not_found(
    tmp_path: Path, realworld: dict[str, Entry]
) -> None:
    fnv = realworld["fnv-1.0.7"]
    with Registry() as reg:
        reg.publish("fnv", "1.0.7", fnv.crate_file.read_bytes())
        with pytest.raises(cp.CrateNotFoundError):
            cp.verify(
                "fnv",
                "9.9.9",
                index_url=reg.index_url,
                allow_insecure_transport=True,
                cache_dir=tmp_path,
            )


def test_checksum_mismatch_on_loopback_registry_is_fetch_error(
    tmp_path: Path, realworld: dict[str, Entry]
) -> None:
    fnv = realworld["fnv-1.0.7"]
    with Registry() as reg:
        reg.publish("fnv", "1.0.7", fnv.crate_file.read_bytes(), cksum="0" * 64)
        with pytest.raises(cp.FetchError) as info:
            cp.verify(
                "fnv",
                "1.0.7",
                repo=fnv.repo,
                index_url=reg.index_url,
                allow_insecure_transport=True,
                cache_dir=tmp_path,
            )
    assert not isinstance(info.value, cp.CrateNotFoundError)
    assert info.value.kind == "checksum_mismatch"


def test_loopback_registry_download_verifies(
    tmp_path: Path, realworld: dict[str, Entry]
) -> None:
    fnv = realworld["fnv-1.0.7"]
    with Registry() as reg:
        reg.publish("fnv", "1.0.7", fnv.crate_file.read_bytes())
        report = cp.verify(
            "fnv",
            "1.0.7",
            repo=fnv.repo,
            index_url=reg.index_url,
            allow_insecure_transport=True,
            cache_dir=tmp_path,
        )
    assert report.verdict == "match"
    assert report.sha256 == fnv.expected["crate_sha256"]


def test_http_registry_refused_without_insecure_transport(tmp_path: Path) -> None:
    with Registry() as reg:
        with pytest.raises(cp.FetchError) as info:
            cp.verify("x", "1.0.0", index_url=reg.index_url, cache_dir=tmp_path)
    assert info.value.kind == "url_policy"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"name": "x"},
        {"version": "1.0.0"},
        {"name": "x", "version": "1.0.0", "crate_file": "x.crate"},
    ],
)
def test_inconsistent_arguments_are_invalid_input(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError) as info:
        cp.verify(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, cp.InvalidInputError)
    assert info.value.kind == "invalid_input"


def test_progress_must_be_callable(realworld: dict[str, Entry]) -> None:
    fnv = realworld["fnv-1.0.7"]
    with pytest.raises(TypeError):
        cp.verify(crate_file=fnv.crate_file, repo=fnv.repo, progress=42)  # type: ignore[arg-type]


def test_wrong_argument_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        cp.verify(crate_file=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cp.verify("x", "1", unknown=True)  # type: ignore[call-arg]


def test_list_files_errors(realworld: dict[str, Entry], tmp_path: Path) -> None:
    ryu = realworld["ryu-1.0.23"]
    with pytest.raises(cp.InvalidInputError):
        cp.list_files(ryu.repo, "not-a-commit")
    with pytest.raises(FileNotFoundError) as info:
        cp.list_files(ryu.repo, "0" * 40)
    assert info.value.kind == "not_found"  # type: ignore[attr-defined]
    with pytest.raises(cp.ProvenanceError):
        cp.list_files(tmp_path / "nope", "0" * 40)


def test_b07_exception_hierarchy() -> None:
    assert issubclass(cp.CrateNotFoundError, cp.FetchError)
    assert issubclass(cp.CrateNotFoundError, LookupError)
    assert issubclass(cp.ArchiveError, ValueError)
    assert issubclass(cp.LocalFileNotFoundError, FileNotFoundError)
    assert issubclass(cp.LocalPermissionError, PermissionError)
    for name in exc.__all__:
        cls = getattr(exc, name)
        assert issubclass(cls, cp.ProvenanceError), name
        assert cls.__doc__, name
        assert cls.__module__ == "crate_provenance.exceptions"


def test_exceptions_pickle() -> None:
    for name in exc.__all__:
        cls = getattr(exc, name)
        err = cls(f"message of {name}", "some_kind")
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is cls
        assert str(back) == f"message of {name}"
        assert back.kind == "some_kind"
