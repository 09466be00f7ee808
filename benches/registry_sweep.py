#!/usr/bin/env python3
"""Registry sweep: run `crate-provenance inspect` over a seeded sample of real crates.io
versions spread over every publication year, and tabulate the findings (docs/sweep.md).

Python 3.11 standard library only. Network: the sparse index (index.crates.io) and the
crate CDN (static.crates.io); nothing else. Four steps:

    python3 benches/registry_sweep.py sample --seeds-from-lock Cargo.lock --count 2400 \\
        --seed 1 --index-cache /work/sweep-cache/index --out /work/sweep-cache/sample.tsv
    python3 benches/registry_sweep.py download --sample /work/sweep-cache/sample.tsv \\
        --cache /work/sweep-cache
    python3 benches/registry_sweep.py run --sample /work/sweep-cache/sample.tsv \\
        --cache /work/sweep-cache --bin target/release/crate-provenance \\
        --out /work/sweep-cache/results.jsonl
    python3 benches/registry_sweep.py table --results /work/sweep-cache/results.jsonl --markdown

`sample` discovers crate names only through dependency lists: it starts from seed names and
follows, breadth first, the `deps` of every version (old ones included) of every index file it
reads. No name is guessed. `run` never builds anything; it calls an existing binary.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

USER_AGENT = "crate-provenance-sweep (research)"
INDEX_URL = "https://index.crates.io"
CRATE_URL = "https://static.crates.io/crates"
FIRST_YEAR = 2014  # crates.io opened in November 2014
SAMPLE_COLUMNS = ["name", "version", "year", "pubtime", "cksum", "yanked"]
SEVERITIES = ["info", "low", "medium", "high"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# HTTP


class NotFound(Exception):
    pass


class HTTPStatus(Exception):
    def __init__(self, url: str, code: int, retry_after: str | None):
        super().__init__(f"HTTP {code} for {url}")
        self.code = code
        self.retry_after = retry_after


_local = threading.local()


def _get_once(url: str, timeout: float) -> bytes:
    """One GET over a keep-alive connection of this thread (one TLS connection per thread and
    host, reused: fewer handshakes and lookups than a new connection per request)."""
    u = urllib.parse.urlsplit(url)
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    conn = conns.get(u.netloc)
    if conn is None:
        conn = conns[u.netloc] = http.client.HTTPSConnection(u.netloc, timeout=timeout)
    path = u.path + ("?" + u.query if u.query else "")
    try:
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        body = resp.read()
    except Exception:
        conn.close()
        conns.pop(u.netloc, None)
        raise
    if resp.getheader("Connection", "").lower() == "close":
        conn.close()
        conns.pop(u.netloc, None)
    if resp.status != 200:
        raise HTTPStatus(url, resp.status, resp.getheader("Retry-After"))
    if (resp.getheader("Content-Encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    return body


def http_get(url: str, *, attempts: int = 5, timeout: float = 60.0) -> bytes:
    """GET with a User-Agent and retries (exponential backoff with jitter) on network errors,
    429 and 5xx. A 403/404/410 raises NotFound at once; another 4xx raises HTTPStatus."""
    delay = 1.0
    for attempt in range(1, attempts + 1):
        try:
            return _get_once(url, timeout)
        except HTTPStatus as e:
            if e.code in (403, 404, 410):
                raise NotFound(str(e)) from None
            if e.code != 429 and e.code < 500:
                raise
            if e.retry_after and e.retry_after.isdigit():
                delay = max(delay, min(float(e.retry_after), 120.0))
            err: Exception = e
        except (http.client.HTTPException, OSError, EOFError, gzip.BadGzipFile) as e:
            err = e
        if attempt == attempts:
            raise RuntimeError(f"{url}: {err!r} (after {attempts} attempts)")
        time.sleep(delay + random.random() * delay / 2)
        delay = min(delay * 2, 60.0)
    raise AssertionError("unreachable")


def run_all(jobs: int, fn, items: list) -> None:
    """fn(item) for every item on `jobs` threads. On Ctrl-C the items not started yet are
    dropped (the running ones finish, so nothing is left half written)."""
    ex = cf.ThreadPoolExecutor(max_workers=jobs)
    try:
        for fut in cf.as_completed([ex.submit(fn, i) for i in items]):
            fut.result()
    except KeyboardInterrupt:
        log("interrupted: waiting for the running items, dropping the others")
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown(wait=True)


def index_path(name: str) -> str:
    n = name.lower()
    if len(n) == 1:
        return f"1/{n}"
    if len(n) == 2:
        return f"2/{n}"
    if len(n) == 3:
        return f"3/{n[0]}/{n}"
    return f"{n[0:2]}/{n[2:4]}/{n}"


def fetch_index_file(name: str, cache: Path | None) -> bytes | None:
    """The raw sparse-index file of `name` (None if the crate does not exist, e.g. deleted).
    With `cache`, a file read before is reused (so a re-run sees the same index) and a 404 is
    remembered as an empty `.missing` marker."""
    path = index_path(name)
    if cache is not None:
        f = cache / path
        if f.exists():
            return f.read_bytes()
        if (cache / (path + ".missing")).exists():
            return None
    try:
        body = http_get(f"{INDEX_URL}/{path}")
    except NotFound:
        body = None
    if cache is not None:
        f = cache / path
        f.parent.mkdir(parents=True, exist_ok=True)
        target = f if body is not None else cache / (path + ".missing")
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        tmp.write_bytes(body or b"")
        tmp.replace(target)
    return body


# ---------------------------------------------------------------------------------------------
# sample


@dataclass(frozen=True)
class Version:
    name: str
    version: str
    pubtime: str
    cksum: str
    yanked: bool

    @property
    def year(self) -> int:
        return int(self.pubtime[:4])


def seeds_from_lock(path: Path) -> list[str]:
    """Names of the registry packages of a Cargo.lock (workspace members, git and path packages
    are left out)."""
    names: set[str] = set()
    name = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line == "[[package]]":
            name = None
        elif line.startswith("name = "):
            name = line.split("=", 1)[1].strip().strip('"')
        elif line.startswith("source = ") and name and '"registry+' in line:
            names.add(name)
    return sorted(names)


def seeds_from_file(path: Path) -> list[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line.split("@", 1)[0].strip())
    return sorted(names)


def parse_index(body: bytes) -> tuple[list[Version], list[str], int]:
    """The versions of one index file, the crates.io crate names its deps refer to (all
    versions, all dependency kinds; `package` is the real name of a renamed dependency; deps on
    other registries are left out), and the number of lines without `pubtime`."""
    versions, deps, no_pubtime = [], set(), 0
    for line in body.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        for d in e.get("deps") or []:
            if d.get("registry"):
                continue
            dn = d.get("package") or d.get("name")
            if isinstance(dn, str) and NAME_RE.match(dn):
                deps.add(dn)
        pubtime = e.get("pubtime")
        if not isinstance(pubtime, str) or not pubtime[:4].isdigit():
            no_pubtime += 1
            continue
        versions.append(
            Version(e["name"], e["vers"], pubtime, e.get("cksum", ""), bool(e.get("yanked")))
        )
    return versions, sorted(deps), no_pubtime


def discover(seeds: list[str], max_crates: int, jobs: int, cache: Path | None) -> list[Version]:
    """Breadth-first walk of the dependency graph from `seeds`, reading at most `max_crates`
    index files. Deterministic for a given index content: the queue is processed in order
    (batches are fetched in parallel but their results are consumed in queue order, and each
    crate's dependency names are appended sorted)."""
    queue = collections.deque(seeds)
    seen = {s.lower() for s in seeds}
    pool: list[Version] = []
    read = missing = no_pubtime = 0
    batch_size = max(jobs * 8, 32)
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        while queue and read < max_crates:
            batch = [queue.popleft() for _ in range(min(batch_size, len(queue), max_crates - read))]
            bodies = list(ex.map(lambda n: fetch_index_file(n, cache), batch))
            for name, body in zip(batch, bodies):
                read += 1
                if body is None:
                    missing += 1
                    continue
                versions, deps, npt = parse_index(body)
                pool.extend(versions)
                no_pubtime += npt
                for d in deps:
                    if d.lower() not in seen:
                        seen.add(d.lower())
                        queue.append(d)
            log(
                f"discover: {read} index files read ({missing} missing), {len(queue)} names "
                f"queued, {len(pool)} versions, {time.monotonic() - t0:.0f}s"
            )
    if no_pubtime:
        log(f"discover: {no_pubtime} index lines without pubtime left out")
    return pool


def allocate(capacity: dict[int, int], total: int) -> dict[int, int]:
    """Equal quota per year; a year that cannot fill its quota takes all it has and the rest is
    shared among the others (water filling)."""
    quota = {y: 0 for y in capacity}
    open_years = {y for y, c in capacity.items() if c > 0}
    left = total
    while left > 0 and open_years:
        share, extra = divmod(left, len(open_years))
        for i, y in enumerate(sorted(open_years)):
            want = share + (1 if i < extra else 0)
            got = min(want, capacity[y] - quota[y])
            quota[y] += got
            left -= got
        open_years = {y for y in open_years if quota[y] < capacity[y]}
    return quota


def pick_year(
    versions: list[Version], quota: int, per_crate: int, yanked_share: float, rng: random.Random
) -> list[Version]:
    """`quota` versions of one year: round robin over the crates in random order, one random
    version of each crate per round, at most `per_crate` per crate. Non-yanked versions first;
    at most `yanked_share` of the quota (rounded) may be yanked, more only if the year has
    too few non-yanked versions."""
    by_crate: dict[str, list[Version]] = collections.defaultdict(list)
    for v in versions:
        by_crate[v.name].append(v)
    crates = sorted(by_crate)
    rng.shuffle(crates)
    ok, yk = {}, {}
    for c in crates:
        vs = sorted(by_crate[c], key=lambda v: (v.pubtime, v.version))
        rng.shuffle(vs)
        ok[c] = [v for v in vs if not v.yanked]
        yk[c] = [v for v in vs if v.yanked]
    taken: collections.Counter[str] = collections.Counter()
    out: list[Version] = []

    def rounds(src: dict[str, list[Version]], limit: int) -> None:
        for _ in range(per_crate):
            for c in crates:
                if len(out) >= limit:
                    return
                if taken[c] < per_crate and src[c]:
                    out.append(src[c].pop())
                    taken[c] += 1

    yanked_cap = round(quota * yanked_share)
    rounds(yk, min(yanked_cap, quota))
    rounds(ok, quota)
    rounds(yk, quota)  # only if the non-yanked ones ran out
    return out


def cmd_sample(a: argparse.Namespace) -> int:
    seeds: list[str] = []
    if a.seeds_from_lock:
        seeds += seeds_from_lock(Path(a.seeds_from_lock))
    if a.seeds:
        seeds += seeds_from_file(Path(a.seeds))
    seeds = sorted(set(seeds))
    if not seeds:
        log("sample: no seed names (--seeds FILE or --seeds-from-lock Cargo.lock)")
        return 2
    log(f"sample: {len(seeds)} seed names")
    cache = Path(a.index_cache) if a.index_cache else None
    pool = discover(seeds, a.max_crates, a.jobs, cache)

    # dedupe (a name can be reached twice only through case variants; keep the first)
    uniq: dict[tuple[str, str], Version] = {}
    for v in pool:
        uniq.setdefault((v.name, v.version), v)
    by_year: dict[int, list[Version]] = collections.defaultdict(list)
    for v in uniq.values():
        if FIRST_YEAR <= v.year <= a.last_year:
            by_year[v.year].append(v)
    years = list(range(FIRST_YEAR, a.last_year + 1))
    capacity = {}
    for y in years:
        per: collections.Counter[str] = collections.Counter(v.name for v in by_year[y])
        capacity[y] = sum(min(a.per_crate, n) for n in per.values())
    quota = allocate(capacity, a.count)

    sample: list[tuple[Version, int]] = []
    log("year  pool-versions  pool-crates  capacity  quota")
    for y in years:
        rng = random.Random(f"{a.seed}:{y}")
        picked = pick_year(by_year[y], quota[y], a.per_crate, a.yanked_share, rng)
        crates_y = len({v.name for v in by_year[y]})
        log(f"{y}  {len(by_year[y]):13}  {crates_y:11}  {capacity[y]:8}  {len(picked):5}")
        sample += [(v, y) for v in picked]
    sample.sort(key=lambda t: (t[1], t[0].name.lower(), t[0].pubtime, t[0].version))

    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w") as f:
        f.write("\t".join(SAMPLE_COLUMNS) + "\n")
        for v, y in sample:
            f.write(f"{v.name}\t{v.version}\t{y}\t{v.pubtime}\t{v.cksum}\t{str(v.yanked).lower()}\n")
    tmp.replace(out)
    yanked = sum(v.yanked for v, _ in sample)
    ncrates = len({v.name for v, _ in sample})
    log(f"sample: {len(sample)} versions of {ncrates} crates ({yanked} yanked) -> {out}")
    return 0


# ---------------------------------------------------------------------------------------------
# download


def read_sample(path: Path) -> list[dict[str, str]]:
    rows = []
    with path.open() as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def crate_file(cache: Path, row: dict[str, str]) -> Path:
    return cache / f"{row['name']}-{row['version']}.crate"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cmd_download(a: argparse.Namespace) -> int:
    rows = read_sample(Path(a.sample))
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    fail_file = cache / "download-failures.tsv"
    fail_file.unlink(missing_ok=True)
    lock = threading.Lock()
    stats: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    done = 0
    t0 = time.monotonic()

    def one(row: dict[str, str]) -> None:
        nonlocal done
        path = crate_file(cache, row)
        status, size, note = "ok", 0, ""
        if path.exists() and sha256_file(path) == row["cksum"]:
            status, size = "present", path.stat().st_size
        else:
            url = f"{CRATE_URL}/{row['name']}/{row['name']}-{row['version']}.crate"
            try:
                body = http_get(url, attempts=a.attempts)
                digest = hashlib.sha256(body).hexdigest()
                if digest != row["cksum"]:
                    path.unlink(missing_ok=True)
                    status, note = "mismatch", f"sha256 {digest} != index cksum {row['cksum']}"
                else:
                    tmp = path.with_name(path.name + ".part")
                    tmp.write_bytes(body)
                    tmp.replace(path)
                    size = len(body)
            except NotFound as e:
                status, note = "missing", str(e)
            except Exception as e:  # noqa: BLE001 - report and go on
                status, note = "failed", str(e)
        with lock:
            done += 1
            stats[status] += 1
            stats["bytes_" + ("fetched" if status == "ok" else "present")] += size
            if note:
                failures.append(f"{row['name']}\t{row['version']}\t{status}\t{note}")
                log(f"download: {status}: {row['name']} {row['version']}: {note}")
            if done % 100 == 0 or done == len(rows):
                log(
                    f"download: {done}/{len(rows)} (new {stats['ok']}, present {stats['present']},"
                    f" failed {done - stats['ok'] - stats['present']}),"
                    f" {(stats['bytes_fetched'] + stats['bytes_present']) / 1e6:.1f} MB,"
                    f" {time.monotonic() - t0:.0f}s"
                )

    run_all(a.jobs, one, rows)
    total = stats["bytes_fetched"] + stats["bytes_present"]
    log(
        f"download: done: {stats['ok']} downloaded ({stats['bytes_fetched']} bytes), "
        f"{stats['present']} already present, {stats['mismatch']} checksum mismatches, "
        f"{stats['missing']} not found, {stats['failed']} failed; "
        f"{stats['ok'] + stats['present']} valid files, {total} bytes in total"
    )
    if failures:
        fail_file.write_text("\n".join(failures) + "\n")
        log(f"download: failures listed in {fail_file}")
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------
# run


def tail(text: str, n: int = 4000) -> str:
    return text if len(text) <= n else "…" + text[-n:]


def inspect_one(binary: str, path: Path, timeout: float) -> dict:
    """Runs `BIN inspect PATH --format json` in a process group of its own (killed whole on
    timeout). Exit 0 = no high finding, 1 = a high finding, 2 = error, anything else or a
    signal = crash."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [binary, "inspect", str(path), "--format", "json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return {
            "exit": None,
            "status": "timeout",
            "seconds": round(time.monotonic() - t0, 2),
            "error": f"no result within {timeout:g} s (killed)",
            "stderr": tail(err.decode("utf-8", "replace")),
        }
    rec: dict = {"exit": proc.returncode, "seconds": round(time.monotonic() - t0, 2)}
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    report = None
    try:
        parsed = json.loads(stdout)
        if isinstance(parsed, dict):
            report = parsed
    except json.JSONDecodeError:
        pass
    rc = proc.returncode
    if rc in (0, 1) and report is not None:
        rec["status"] = "ok"
        rec["report"] = report
        if stderr.strip():
            rec["stderr"] = tail(stderr)
        return rec
    if rc in (0, 1):
        rec["status"] = "bad_output"
        rec["error"] = f"exit {rc} but stdout is not a JSON object"
    elif rc == 2:
        rec["status"] = "error"
        rec["error"] = (stderr.strip().splitlines() or ["exit 2"])[-1]
    else:
        rec["status"] = "crash"
        if rc < 0:
            try:
                rec["signal"] = signal.Signals(-rc).name
            except ValueError:
                rec["signal"] = str(-rc)
            rec["error"] = f"killed by {rec['signal']}"
        else:
            rec["error"] = f"exit status {rc}"
        lines = stderr.splitlines()
        for i, line in enumerate(lines):
            if "panicked at" in line:  # Rust >= 1.73 puts the message on the next line
                msg = line.strip() + (" " + lines[i + 1].strip() if line.rstrip().endswith(":") and i + 1 < len(lines) else "")
                rec["error"] += f" (panic: {msg})"
                break
    if report is not None:
        rec["report"] = report
    elif stdout.strip():
        rec["stdout"] = tail(stdout)
    rec["stderr"] = tail(stderr)
    return rec


def load_results(path: Path) -> list[dict]:
    out = []
    if path.exists():
        with path.open() as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        log(f"warning: unreadable line in {path} skipped")
    return out


def cmd_run(a: argparse.Namespace) -> int:
    rows = read_sample(Path(a.sample))
    cache = Path(a.cache)
    out = Path(a.out)
    binary = str(Path(a.bin).resolve())
    if not os.access(binary, os.X_OK):
        log(f"run: {binary} is not an executable file")
        return 2
    done = {(r.get("name"), r.get("version")) for r in load_results(out)}
    todo, absent = [], 0
    for row in rows:
        if (row["name"], row["version"]) in done:
            continue
        if not crate_file(cache, row).exists():
            absent += 1
            continue
        todo.append(row)
    log(
        f"run: {len(rows)} in sample, {len(done)} already in {out}, {absent} not downloaded "
        f"(left out), {len(todo)} to run with {a.jobs} processes"
    )
    lock = threading.Lock()
    counts: collections.Counter[str] = collections.Counter()
    t0 = time.monotonic()
    if out.exists() and out.stat().st_size and not out.read_bytes().endswith(b"\n"):
        with out.open("a") as f:  # a line cut short by a kill: keep the next one apart
            f.write("\n")
    with out.open("a") as f:

        def one(row: dict[str, str]) -> None:
            rec = {"name": row["name"], "version": row["version"], "year": int(row["year"])}
            if row.get("cksum"):
                rec["cksum"] = row["cksum"]
            rec.update(inspect_one(binary, crate_file(cache, row), a.timeout))
            with lock:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                f.flush()
                counts[rec["status"] + ("/high" if rec.get("exit") == 1 else "")] += 1
                n = sum(counts.values())
                if rec["status"] != "ok":
                    log(f"run: {rec['status']}: {row['name']} {row['version']}: {rec.get('error')}")
                if n % 50 == 0 or n == len(todo):
                    log(f"run: {n}/{len(todo)} {dict(sorted(counts.items()))} {time.monotonic() - t0:.0f}s")

        run_all(a.jobs, one, todo)
    log(f"run: done: {dict(sorted(counts.items()))}")
    return 0


# ---------------------------------------------------------------------------------------------
# table


def render(headers: list[str], rows: list[list], markdown: bool, right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(headers)))
    cells = [["-" if c is None else str(c) for c in r] for r in rows]
    if markdown:

        def esc(s: str) -> str:
            return s.replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(esc(h) for h in headers) + " |"]
        lines.append("| " + " | ".join("---:" if i in right else "---" for i in range(len(headers))) + " |")
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in cells]
        return "\n".join(lines)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def fmt(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells])


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def findings_of(rec: dict) -> list[dict]:
    rep = rec.get("report") if rec.get("status") == "ok" else None
    fs = rep.get("findings") if isinstance(rep, dict) else None
    return [f for f in fs if isinstance(f, dict)] if isinstance(fs, list) else []


def cmd_table(a: argparse.Namespace) -> int:
    recs_all = load_results(Path(a.results))
    # the last line of a (name, version) wins (a re-run appended after removing nothing)
    latest: dict[tuple, dict] = {}
    for r in recs_all:
        latest[(r.get("name"), r.get("version"))] = r
    recs = sorted(latest.values(), key=lambda r: (r.get("year", 0), str(r.get("name")).lower(), str(r.get("version"))))
    md = a.markdown
    out: list[str] = []

    def section(title: str) -> None:
        out.append("")
        out.append(f"### {title}" if md else f"== {title} ==")
        out.append("")

    years = sorted({r.get("year") for r in recs if isinstance(r.get("year"), int)})
    status_c = collections.Counter(r.get("status") for r in recs)
    ok = [r for r in recs if r.get("status") == "ok"]
    high = [r for r in ok if any(f.get("severity") == "high" for f in findings_of(r))]
    high_ids = {id(r) for r in high}
    exit1 = sum(1 for r in ok if r.get("exit") == 1)
    incons = [r for r in ok if (r.get("exit") == 1) != (id(r) in high_ids)]
    sha_bad = [
        r
        for r in ok
        if r.get("cksum")
        and isinstance(r["report"].get("crate"), dict)
        and r["report"]["crate"].get("sha256") not in (None, r["cksum"])
    ]

    section("Summary")
    rows = [
        ["crate versions in results", len(recs)],
        ["inspected (exit 0 or 1, JSON report)", len(ok)],
        ["  with a high finding (exit 1)", exit1],
        ["errors (exit 2)", status_c["error"]],
        ["crashes (panic, signal, other exit)", status_c["crash"]],
        ["timeouts", status_c["timeout"]],
        ["bad output (exit 0/1, no JSON object)", status_c["bad_output"]],
    ]
    if incons:
        rows.append(["exit code disagrees with high findings", len(incons)])
    if sha_bad:
        rows.append(["report crate.sha256 != index cksum", len(sha_bad)])
    out.append(render(["", "count"], rows, md))

    kinds = sorted({str(f.get("kind")) for r in ok for f in findings_of(r)})
    section("Findings by kind and severity (crate versions with at least one)")
    rows = []
    for k in kinds:
        per_sev = []
        for s in SEVERITIES:
            per_sev.append(sum(1 for r in ok if any(str(f.get("kind")) == k and f.get("severity") == s for f in findings_of(r))))
        anyk = sum(1 for r in ok if any(str(f.get("kind")) == k for f in findings_of(r)))
        rows.append([k] + per_sev + [anyk, pct(anyk, len(ok))])
    any_f = sum(1 for r in ok if findings_of(r))
    rows.append(["(any kind)"] + [
        sum(1 for r in ok if any(f.get("severity") == s for f in findings_of(r))) for s in SEVERITIES
    ] + [any_f, pct(any_f, len(ok))])
    out.append(render(["kind"] + SEVERITIES + ["any", "share"], rows, md))

    section("By publication year")
    rows = []
    for y in years:
        ry = [r for r in recs if r.get("year") == y]
        oky = [r for r in ry if r.get("status") == "ok"]
        hy = [r for r in oky if id(r) in high_ids]
        fails = len(ry) - len(oky)
        anyy = sum(1 for r in oky if findings_of(r))
        rows.append([y, len(ry), len(oky), fails, anyy, len(hy), pct(len(hy), len(oky))])
    rows.append(["all", len(recs), len(ok), len(recs) - len(ok), any_f, len(high), pct(len(high), len(ok))])
    out.append(render(["year", "versions", "inspected", "failed", "any finding", "high", "high share"], rows, md))

    if kinds:
        section("Crate versions with at least one finding of each kind, by year")
        rows = []
        for k in kinds:
            row: list = [k]
            for y in years:
                row.append(sum(1 for r in ok if r.get("year") == y and any(str(f.get("kind")) == k for f in findings_of(r))))
            rows.append(row)
        out.append(render(["kind"] + [str(y) for y in years], rows, md))

    eras = collections.Counter()
    for r in ok:
        e = r["report"].get("era")
        if e is not None:
            if isinstance(e, dict) and "min" in e and "max" in e:
                # `inspect` reports {"min": "1.19", "max": "1.56", "evidence": [...]}.
                eras[f"cargo {e['min']} to {e['max']}"] += 1
            else:
                eras[e if isinstance(e, str) else json.dumps(e, sort_keys=True)] += 1
    if eras:
        section("By era (as reported)")
        out.append(render(["era", "versions"], [[e, n] for e, n in sorted(eras.items())], md))

    section(f"Every high finding ({sum(1 for r in high for f in findings_of(r) if f.get('severity') == 'high')})")
    rows = []
    for r in high:
        for f in findings_of(r):
            if f.get("severity") == "high":
                msg = str(f.get("message", ""))
                if f.get("path"):
                    msg = f"{f['path']}: {msg}"
                rows.append([r.get("name"), r.get("version"), r.get("year"), f.get("kind"), msg])
    out.append(render(["name", "version", "year", "kind", "message"], rows, md, right={2}) if rows else "(none)")

    bad = [r for r in recs if r.get("status") != "ok"]
    section(f"Errors, crashes and timeouts ({len(bad)})")
    rows = []
    for r in bad:
        rows.append([r.get("name"), r.get("version"), r.get("year"), r.get("status"), r.get("exit"), str(r.get("error", ""))[:300]])
    out.append(render(["name", "version", "year", "status", "exit", "error"], rows, md, right={2, 4}) if rows else "(none)")

    if incons or sha_bad:
        section("Inconsistencies")
        rows = [[r["name"], r["version"], "exit code vs high findings"] for r in incons]
        rows += [[r["name"], r["version"], "crate.sha256 != index cksum"] for r in sha_bad]
        out.append(render(["name", "version", "what"], rows, md, right=set()))

    print("\n".join(out).lstrip("\n"))
    return 0


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("sample", help="discover names through dependency lists and draw a per-year sample")
    g = s.add_argument_group("seeds (at least one)")
    g.add_argument("--seeds", help="file of crate names, one a line (NAME or NAME@VERSION, # comments)")
    g.add_argument("--seeds-from-lock", metavar="CARGO_LOCK", help="the registry packages of this Cargo.lock")
    s.add_argument("--count", type=int, default=2400, help="sample size (default 2400)")
    s.add_argument("--out", required=True, help="sample TSV to write")
    s.add_argument("--seed", default="1", help="random seed (default 1)")
    s.add_argument("--max-crates", type=int, default=12000, help="index files to read at most (default 12000)")
    s.add_argument("--per-crate", type=int, default=3, help="versions of one crate per year at most (default 3)")
    s.add_argument("--yanked-share", type=float, default=0.03, help="share of a year's quota that may be yanked (default 0.03)")
    s.add_argument("--last-year", type=int, default=2026, help="last publication year (default 2026)")
    s.add_argument("--jobs", type=int, default=8, help="parallel index requests (default 8)")
    s.add_argument("--index-cache", help="keep the index files read here and reuse them on a re-run")
    s.set_defaults(fn=cmd_sample)

    d = sub.add_parser("download", help="download the sample's .crate files, checked against the index cksum")
    d.add_argument("--sample", required=True)
    d.add_argument("--cache", required=True, help="directory for NAME-VERSION.crate files")
    d.add_argument("--jobs", type=int, default=8, help="parallel downloads (default 8)")
    d.add_argument("--attempts", type=int, default=5, help="attempts per file (default 5)")
    d.set_defaults(fn=cmd_download)

    r = sub.add_parser("run", help="run `BIN inspect CRATE --format json` over the sample (resumable)")
    r.add_argument("--sample", required=True)
    r.add_argument("--cache", required=True)
    r.add_argument("--bin", required=True, help="path to the crate-provenance binary")
    r.add_argument("--out", required=True, help="results JSON Lines (appended; crates already in it are skipped)")
    r.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    r.add_argument("--timeout", type=float, default=60.0, help="seconds per crate (default 60)")
    r.set_defaults(fn=cmd_run)

    t = sub.add_parser("table", help="tabulate results.jsonl")
    t.add_argument("--results", required=True)
    t.add_argument("--markdown", action="store_true", help="markdown tables (for docs/sweep.md)")
    t.set_defaults(fn=cmd_table)

    a = p.parse_args(argv)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `table ... | head` ends quietly
    try:
        return a.fn(a)
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
