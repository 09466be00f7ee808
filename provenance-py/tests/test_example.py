"""examples/python/scan_lockfile.py on a Cargo.lock of realworld crates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT, Entry

EXAMPLE = REPO_ROOT / "examples" / "python" / "scan_lockfile.py"


def test_scan_lockfile(tmp_path: Path, realworld: dict[str, Entry]) -> None:
    names = ["fnv-1.0.7", "ryu-1.0.23", "hex-0.4.0"]
    lock = ['version = 4\n']
    crates = tmp_path / "crates"
    crates.mkdir()
    args = []
    for n in names:
        e = realworld[n]
        name, version = e.expected["name"], e.expected["version"]
        lock.append(
            f'[[package]]\nname = "{name}"\nversion = "{version}"\n'
            'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
            f'checksum = "{e.expected["crate_sha256"]}"\n'
        )
        (crates / e.crate_file.name).write_bytes(e.crate_file.read_bytes())
        args += ["--repo", f"{name}={e.repo}"]
    lock.append('[[package]]\nname = "local"\nversion = "0.1.0"\n')
    lock_file = tmp_path / "Cargo.lock"
    lock_file.write_text("\n".join(lock))

    r = subprocess.run(
        [sys.executable, str(EXAMPLE), str(lock_file), "--crate-dir", str(crates), *args],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1, r.stderr  # hex-0.4.0 is revision_not_found
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["crate", "version", "verdict", "diffs"]
    rows = {line.split()[0]: line.split()[2] for line in lines[1:4]}
    assert rows == {"fnv": "match", "hex": "revision_not_found", "ryu": "match"}
    assert "local" not in r.stdout
    assert lines[-1] == "2 of 3 registry packages match"
