"""benches/mirror_farm.sh, step 1: every published version of CRATE... that has
`.cargo_vcs_info.json`, found by downloading the `.crate`s into DL (never into the scan's cache,
which stays cold). Writes LIST (`NAME@VERSION` lines for `scan --list`) and SAMPLE
(`SAMPLE NAME VERSION REPOSITORY SHA1 PATH_IN_VCS` lines for the reference method).

Usage: python3 mirror_farm_versions.py DL LIST SAMPLE CRATE...  (Python >= 3.11)"""

import concurrent.futures
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
    dl, listf, samplef, crates = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    os.makedirs(dl, exist_ok=True)
    jobs = []
    for c in crates:
        for line in get(f"https://index.crates.io/{index_path(c)}").decode().splitlines():
            jobs.append((c, json.loads(line)["vers"]))

    def vcs(job):
        name, v = job
        data = get(f"https://static.crates.io/crates/{name}/{name}-{v}.crate")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            if f"{name}-{v}/.cargo_vcs_info.json" not in t.getnames():
                return None
            info = json.load(t.extractfile(f"{name}-{v}/.cargo_vcs_info.json"))
            manifest = tomllib.load(t.extractfile(f"{name}-{v}/Cargo.toml"))
        repo = manifest.get("package", {}).get("repository", "")
        return (name, v, repo, info["git"]["sha1"], info.get("path_in_vcs", ""))

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        found = [r for r in ex.map(vcs, jobs) if r]
    print(f"published versions: {len(jobs)}, with vcs info: {len(found)}")
    with open(listf, "w") as f, open(samplef, "w") as s:
        for name, v, repo, sha, path in found:
            f.write(f"{name}@{v}\n")
            s.write(f"SAMPLE {name} {v} {repo} {sha} {path}\n")


main()
