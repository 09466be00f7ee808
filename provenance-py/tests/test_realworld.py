"""Every tests/data/realworld crate version: the expected verdict and differences, and `to_json()`
byte-for-byte equal to the CLI's `--format json` output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import crate_provenance as cp

from conftest import Entry


def test_realworld_verdict_and_differences(entry: Entry) -> None:
    report = cp.verify(crate_file=entry.crate_file, repo=str(entry.repo))
    assert report.verdict == entry.expected_verdict, report.to_json()
    assert report.ok == (entry.expected_verdict == "match")
    assert report.name == entry.expected["name"]
    assert report.version == entry.expected["version"]
    assert report.sha256 == entry.expected["crate_sha256"]
    assert sorted(d.path for d in report.differences) == entry.expected_difference_paths
    vcs = entry.expected["vcs_info"]
    if vcs is not None and entry.expected_verdict != "revision_not_found":
        assert report.source.commit == vcs["git"]["sha1"]
        if "path_in_vcs" in vcs:
            assert report.source.path_in_vcs == vcs["path_in_vcs"]
    if entry.expected["reference"]["verdict"] != entry.expected_verdict:
        # README: an older cargo rule explains the reference's difference.
        assert "older_cargo_rule" in [f.kind for f in report.findings]


def test_realworld_to_json_equals_cli(entry: Entry, cli: Path) -> None:
    report = cp.verify(crate_file=str(entry.crate_file), repo=str(entry.repo))
    out = subprocess.run(
        [
            str(cli),
            "verify",
            "--crate-file",
            str(entry.crate_file),
            "--repo",
            str(entry.repo),
            "--format",
            "json",
        ],
        capture_output=True,
        check=False,
    )
    assert out.returncode == (0 if report.ok else 1), out.stderr
    assert (report.to_json() + "\n").encode() == out.stdout
    assert report.to_dict() == json.loads(out.stdout)


def test_realworld_list_files_match_reference(realworld: dict[str, Entry]) -> None:
    """`list_files` at the recorded commit gives cargo's file list for the current rules."""
    for name in ("ryu-1.0.23", "phf-0.14.0", "ref-cast-impl-1.0.26"):
        entry = realworld[name]
        vcs = entry.expected["vcs_info"]
        files = cp.list_files(entry.repo, vcs["git"]["sha1"], vcs.get("path_in_vcs", ""))
        assert sorted(files) == sorted(entry.expected["reference"]["files_generated"]), name
