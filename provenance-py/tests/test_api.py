"""The Report API, progress callbacks, Ctrl-C, and the package surface."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

import crate_provenance as cp
from crate_provenance import _native

from conftest import Entry, prompt_budget


def test_package_surface() -> None:
    assert cp.__version__ == _native.__version__
    assert cp.__version__.count(".") == 2
    for name in cp.__all__:
        assert hasattr(cp, name), name
    assert cp.verify is _native.verify
    assert cp.VERDICTS[0] == "no_repository" and cp.VERDICTS[-1] == "match"
    assert len(set(cp.VERDICTS)) == 10


def test_report_fields(realworld: dict[str, Entry]) -> None:
    e = realworld["ref-cast-impl-1.0.26"]
    r = cp.verify(crate_file=e.crate_file, repo=e.repo)
    d = r.to_dict()
    assert r.ok is True and r.verdict == "match"
    assert r.schema_version == d["schema_version"] == 1
    assert (r.name, r.version, r.sha256) == (
        d["crate"]["name"],
        d["crate"]["version"],
        d["crate"]["sha256"],
    )
    src = d["source"]
    assert r.source.repository == src["repository"] == str(e.repo)
    assert r.source.commit == src["commit"]
    assert r.source.path_in_vcs == src["path_in_vcs"] == "derive"
    assert r.source.dirty is src["dirty"] is False
    assert r.source.how == src["how"] == "recorded"
    assert (r.files.published, r.files.compared, r.files.equal) == (
        d["files"]["published"],
        d["files"]["compared"],
        d["files"]["equal"],
    )
    assert r.differences == [] and r.assisted is None
    assert [(f.kind, f.severity, f.message, f.path) for f in r.findings] == [
        (f["kind"], f["severity"], f["message"], f.get("path")) for f in d["findings"]
    ]
    assert repr(r) == (
        "Report(name='ref-cast-impl', version='1.0.26', verdict='match', "
        f"differences=0, findings={len(d['findings'])})"
    )
    assert "commit='" in repr(r.source)
    assert json.loads(r.to_json()) == d


def test_report_is_immutable(realworld: dict[str, Entry]) -> None:
    e = realworld["fnv-1.0.7"]
    r = cp.verify(crate_file=e.crate_file, repo=e.repo)
    for attr in ("verdict", "ok", "name", "differences", "source"):
        with pytest.raises(AttributeError):
            setattr(r, attr, "x")
    with pytest.raises(AttributeError):
        r.source.commit = "x"  # type: ignore[misc]
    r.differences.append("x")  # type: ignore[arg-type]
    assert r.differences == []
    with pytest.raises(TypeError):
        cp.Report()  # type: ignore[call-arg]


def test_assisted_and_findings(realworld: dict[str, Entry]) -> None:
    fnv = cp.verify(crate_file=realworld["fnv-1.0.6"].crate_file, repo=realworld["fnv-1.0.6"].repo)
    assert fnv.verdict == "no_vcs_info" and not fnv.ok
    a = fnv.assisted
    assert a is not None
    assert (a.how, a.ref, a.verdict) == ("tag", "refs/tags/v1.0.6", "match")
    assert fnv.to_dict()["assisted"]["ref"] == a.ref
    assert fnv.to_dict()["assisted"]["commit"] == a.commit
    assert a.files.published == fnv.files.published
    # Every field of the JSON `assisted` object is an attribute with the same value.
    d = fnv.to_dict()["assisted"]
    fields = {
        "how", "ref", "commit", "verdict", "path_in_vcs", "files", "differences", "summary",
        "findings", "reason", "tried", "commits_walked", "complete", "era",
    }
    assert set(d) == fields
    for k in fields - {"files", "differences", "findings"}:
        assert getattr(a, k) == d[k], k
    assert (a.files.published, a.files.compared, a.files.equal) == tuple(
        d["files"][k] for k in ("published", "compared", "equal")
    )
    assert [x.path for x in a.differences] == [x["path"] for x in d["differences"]]
    assert [(f.kind, f.message) for f in a.findings] == [
        (f["kind"], f["message"]) for f in d["findings"]
    ]
    assert a.reason == "exact match" and a.tried >= 1 and a.complete is True
    assert isinstance(a.commits_walked, int) and a.era
    phf = realworld["phf_macros-0.10.0"]
    r = cp.verify(crate_file=phf.crate_file, repo=phf.repo)
    kinds = [f.kind for f in r.findings]
    assert "older_cargo_rule" in kinds
    f = r.findings[kinds.index("older_cargo_rule")]
    assert f.severity in {"info", "low", "medium", "high"}
    assert f.message
    assert "older_cargo_rule" in repr(f)


def test_mismatch_is_a_report_with_differences(
    realworld: dict[str, Entry], tmp_path: Path
) -> None:
    """Tamper with a published file: verify returns `mismatch` with a diff, not an exception."""
    import gzip
    import io
    import tarfile

    e = realworld["fnv-1.0.7"]
    src = tarfile.open(fileobj=io.BytesIO(gzip.decompress(e.crate_file.read_bytes())))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else b""  # type: ignore[union-attr]
            if m.name.endswith("/lib.rs"):
                data += b"// tampered\n"
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    f = tmp_path / "fnv-1.0.7.crate"
    f.write_bytes(gzip.compress(out.getvalue()))
    r = cp.verify(crate_file=f, repo=e.repo)
    assert r.verdict == "mismatch" and not r.ok
    [d] = r.differences
    assert (d.path, d.kind) == ("lib.rs", "content_differs")
    assert d.diff is not None and "+" in d.diff
    assert d.published is not None and d.repo is not None
    assert d.published.size == d.repo.size + len(b"// tampered\n")
    assert len(d.published.sha256) == 64
    wire = r.to_dict()["differences"][0]
    assert (d.category, d.severity) == (wire.get("category"), wire.get("severity"))
    assert d.severity == "high"
    assert r.summary == r.to_dict()["summary"] and r.summary
    assert repr(d) == "Difference(path='lib.rs', kind='content_differs')"
    assert r.to_dict()["differences"][0]["path"] == "lib.rs"


def test_progress_callback_reports_stages_on_calling_thread(
    realworld: dict[str, Entry],
) -> None:
    e = realworld["pin-project-1.1.13"]
    calls: List[Tuple[str, int, Optional[int], int]] = []

    def progress(stage: str, done: int, total: Optional[int]) -> None:
        calls.append((stage, done, total, threading.get_ident()))

    r = cp.verify(crate_file=e.crate_file, repo=e.repo, progress=progress)
    assert r.ok
    assert {c[3] for c in calls} == {threading.get_ident()}
    stages = [c[0] for c in calls]
    assert stages[0] == "read_crate"
    assert {"read_crate", "open_repository", "rebuild", "compare"} <= set(stages)
    read_end = [c for c in calls if c[0] == "read_crate"][-1]
    assert read_end[1] == e.crate_file.stat().st_size
    # Stage granularity: a handful of calls, not one per file.
    assert len(calls) < 50


def test_b09_progress_callback_raises_exception_propagates(realworld: dict[str, Entry]) -> None:
    e = realworld["pin-project-1.1.13"]
    seen: List[str] = []

    class Stop(Exception):
        pass

    def progress(stage: str, done: int, total: Optional[int]) -> None:
        seen.append(stage)
        if stage == "open_repository":
            raise Stop(stage)

    with pytest.raises(Stop):
        cp.verify(crate_file=e.crate_file, repo=e.repo, progress=progress)
    assert seen[-1] == "open_repository"  # never called again after raising


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="needs the main thread"
)
def test_b05_ctrl_c_during_verification_raises_keyboard_interrupt(
    realworld: dict[str, Entry], default_sigint: None
) -> None:
    """SIGINT while verifications run raises KeyboardInterrupt promptly (no hang): within 1 s
    on an idle machine; the budget is 10 times one verification measured first (see
    `prompt_budget`). The SIGINT is sent once the loop has started its second verification.
    The stalled-download case is in test_bindings_security.py."""
    e = realworld["pin-project-1.1.13"]
    start = time.monotonic()
    assert cp.verify(crate_file=e.crate_file, repo=e.repo).ok
    baseline = time.monotonic() - start
    budget = prompt_budget(baseline, at_most=60.0)

    started = threading.Event()
    ended = threading.Event()
    fired: List[float] = []

    def interrupt() -> None:
        while not ended.is_set():
            if started.wait(timeout=0.05):
                fired.append(time.monotonic())
                os.kill(os.getpid(), signal.SIGINT)
                return

    interrupter = threading.Thread(target=interrupt, daemon=True)
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            # Bounded: a SIGINT that is never honoured ends the loop with a failure.
            for i in range(200):
                if i == 1:
                    started.set()
                cp.verify(crate_file=e.crate_file, repo=e.repo)
        raised = time.monotonic()
    finally:
        ended.set()
        interrupter.join()
    assert fired
    took = raised - fired[0]
    print(
        f"\nKeyboardInterrupt {took:.3f}s after SIGINT "
        f"(budget {budget:.2f}s, baseline {baseline:.3f}s)"
    )
    assert took < budget


def test_b05_ctrl_c_while_a_path_argument_is_converted(realworld: dict[str, Entry]) -> None:
    """Ctrl-C can land while an argument is converted: `os.fspath` runs Python code, where the
    signal handler raises. That is a KeyboardInterrupt too, never turned into a TypeError."""
    e = realworld["fnv-1.0.7"]

    class Interrupted:
        def __fspath__(self) -> str:
            raise KeyboardInterrupt

    for kw in (
        {"crate_file": Interrupted()},
        {"crate_file": e.crate_file, "repo": Interrupted()},
        {"crate_file": e.crate_file, "repo": e.repo, "cache_dir": Interrupted()},
    ):
        with pytest.raises(KeyboardInterrupt):
            cp.verify(**kw)  # type: ignore[arg-type]


def test_b09_progress_callback_raises_keyboard_interrupt(realworld: dict[str, Entry]) -> None:
    e = realworld["pin-project-1.1.13"]

    def progress(stage: str, done: int, total: Optional[int]) -> None:
        if stage == "rebuild":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cp.verify(crate_file=e.crate_file, repo=e.repo, progress=progress)


def test_b08_pathlib_str_and_file_url_arguments(realworld: dict[str, Entry]) -> None:
    e = realworld["walkdir-2.5.0"]
    a = cp.verify(crate_file=e.crate_file, repo=e.repo)  # pathlib.Path
    b = cp.verify(crate_file=str(e.crate_file), repo=str(e.repo))
    c = cp.verify(crate_file=str(e.crate_file), repo="file://" + str(e.repo))
    assert a.to_json() == b.to_json()
    assert a.verdict == c.verdict == "match"


def test_repository_not_found_is_a_verdict(
    realworld: dict[str, Entry], tmp_path: Path
) -> None:
    e = realworld["fnv-1.0.7"]
    r = cp.verify(crate_file=e.crate_file, repo=tmp_path / "no-such-repo.git")
    assert r.verdict == "repository_not_found"
    assert not r.ok
