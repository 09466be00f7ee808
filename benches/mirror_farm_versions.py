"""benches/mirror_farm.sh, step 1: the registry mirror and the versions to scan.

Downloads the index files of CRATE... from index.crates.io and every published `.crate` from
static.crates.io once into REGISTRY, a cargo `local-registry` (`index/…` in the registry's
layout, `NAME-VERSION.crate` beside it), each `.crate` checked against the index's SHA-256
`cksum` (a file already there with the right checksum is not downloaded again). The scan then
reads the registry mirror through `--cargo-config` (`[source.crates-io] replace-with` a
`local-registry`), air-gapped. Writes LIST (`NAME@VERSION` lines for `scan --list`: every
version whose `.crate` has `.cargo_vcs_info.json`) and SAMPLE (`SAMPLE NAME VERSION REPOSITORY
SHA1 PATH_IN_VCS` lines for the reference method).

Usage: python3 mirror_farm_versions.py REGISTRY LIST SAMPLE CRATE...  (Python >= 3.11)"""

import concurrent.futures
import hashlib
import io
import json
import os
import sys
import tarfile
import tomllib
import urllib.request


def index_path(n: str) -> str:
    n = n.lower()
    return {1: f"1/{n}", 2: f"2/{n}", 3: f"3/{n[0]}/{n}"}.get(len(n), f"{n[:2]}/{n[2:4]}/{n}")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def main() -> None:
    reg, listf, samplef, crates = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    jobs = []
    for c in crates:
        path = os.path.join(reg, "index", index_path(c))
        if not os.path.exists(path):
            data = get(f"https://index.crates.io/{index_path(c)}")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
        for line in open(path, encoding="utf-8").read().splitlines():
            entry = json.loads(line)
            jobs.append((c, entry["vers"], entry["cksum"]))
    downloaded = 0

    def fetch(job):
        nonlocal downloaded
        name, v, cksum = job
        path = os.path.join(reg, f"{name}-{v}.crate")
        data = open(path, "rb").read() if os.path.exists(path) else b""
        if hashlib.sha256(data).hexdigest() != cksum:
            data = get(f"https://static.crates.io/crates/{name}/{name}-{v}.crate")
            if hashlib.sha256(data).hexdigest() != cksum:
                raise SystemExit(f"{name}-{v}.crate does not match the index's cksum")
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
            downloaded += 1
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            if f"{name}-{v}/.cargo_vcs_info.json" not in t.getnames():
                return None
            info = json.load(t.extractfile(f"{name}-{v}/.cargo_vcs_info.json"))
            manifest = tomllib.load(t.extractfile(f"{name}-{v}/Cargo.toml"))
        repo = manifest.get("package", {}).get("repository", "")
        return (name, v, repo, info["git"]["sha1"], info.get("path_in_vcs", ""))

    os.makedirs(reg, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        found = [r for r in ex.map(fetch, jobs) if r]
    print(f"published versions: {len(jobs)} ({downloaded} downloaded now, sha256 checked), with vcs info: {len(found)}")
    with open(listf, "w") as f, open(samplef, "w") as s:
        for name, v, repo, sha, path in found:
            f.write(f"{name}@{v}\n")
            s.write(f"SAMPLE {name} {v} {repo} {sha} {path}\n")


main()
