#!/usr/bin/env bash
# Per-call speed in CLI terms (issue 19): for each crate below, in one run on this machine,
#   ours       wall clock of one `crate-provenance verify --crate-file X --repo LOCAL --format json`
#              process (release build), median of $RUNS runs after 2 warm-up runs;
#   start      wall clock of `crate-provenance --version` (process start + exit), median;
#   reference  the 2024 study's method on the same inputs: `git worktree add --detach` at the
#              recorded commit, `cargo package --no-verify --allow-dirty --offline` in path_in_vcs
#              (RUSTUP_TOOLCHAIN set), compare the archive listings; one untimed warm-up run (it
#              may use the network to fill cargo's cache), then the median of $REF_RUNS runs;
#   stages     the in-process breakdown printed by CRATE_PROVENANCE_TIMINGS=1 (median per stage);
#   peak RSS   of one process (`/usr/bin/time -v`).
# Prints a markdown table, the median reference / ours over the 12 popular crates (vcpkg, the
# mismatch-heavy crate, is reported but not part of the median), and the load average.
#
# Crates: for each, the latest version (at the time of writing, 2026-12-07) whose
# `.cargo_vcs_info.json` commit exists in the local snapshot of its repository. The `.crate`
# files are downloaded once from static.crates.io into target/cli-bench/ and checked against
# the registry index's SHA-256; the repositories are local bare clones (hard links) of the
# snapshots in $CRATE_PROVENANCE_MIRRORS (default /work/.mirror, one OWNER+NAME/repo per
# repository), so that `git worktree add` never writes into the snapshots.
#
# Usage: benches/cli_calls.sh [CRATE...]   (RUNS=15 REF_RUNS=3 by default; SKIP_REFERENCE=1
#        skips the reference method; CRATE_PROVENANCE_BIN=PATH measures another binary;
#        BASELINE_BIN=PATH also measures an older build, interleaved with ours, as "before"; needs
#        cargo, git, python3, /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export RUSTUP_TOOLCHAIN="${RUSTUP_TOOLCHAIN:-$(rustup show active-toolchain 2>/dev/null | cut -d' ' -f1 || true)}"
[ -n "$RUSTUP_TOOLCHAIN" ] || unset RUSTUP_TOOLCHAIN
target=${CARGO_TARGET_DIR:-$root/target}
if [ -n "${CRATE_PROVENANCE_BIN:-}" ]; then # another build, e.g. a baseline
  export BIN=$CRATE_PROVENANCE_BIN
else
  cargo build --release --quiet --bin crate-provenance
  export BIN=$target/release/crate-provenance
fi
export BENCH_DIR=$target/cli-bench
export MIRRORS=${CRATE_PROVENANCE_MIRRORS:-/work/.mirror}
mkdir -p "$BENCH_DIR"
exec python3 - "$@" <<'PY'
import json, hashlib, os, re, shutil, statistics, subprocess, sys, tarfile, tempfile, time, urllib.request

BIN, BENCH, MIRRORS = os.environ["BIN"], os.environ["BENCH_DIR"], os.environ["MIRRORS"]
RUNS, REF_RUNS = int(os.environ.get("RUNS", "15")), int(os.environ.get("REF_RUNS", "3"))
# name, version, snapshot (OWNER+NAME), SHA-256 from the registry index
CRATES = [
    ("itoa", "1.0.18", "dtolnay+itoa", "8f42a60cbdf9a97f5d2305f08a87dc4e09308d1276d28c869c684d7777685682"),
    ("memchr", "2.8.3", "BurntSushi+memchr", "cf8baf1c55e62ffcace7a9f06f4bd9cd3f0c4beb022d3b367256b91b87513d98"),
    ("libc", "0.2.189", "rust-lang+libc", "3eaf3ede3fee6db1a4c2ee091bf8a8b4dccdc6d17f656fb07896ee72867612f2"),
    ("log", "0.4.33", "rust-lang+log", "0ceec5bc11778974d1bcb055b18002eba7f4b3518b6a0081b3af5f21666da9ad"),
    ("hashbrown", "0.17.1", "rust-lang+hashbrown", "ed5909b6e89a2db4456e54cd5f673791d7eca6732202bbf2a9cc504fe2f9b84a"),
    ("either", "1.17.0", "rayon-rs+either", "9e5e8f6c15a24b9a3ee5efec809ccd006d3b30e8b3bb63c39af737c7f87daa1d"),
    ("syn", "3.0.3", "dtolnay+syn", "53e9bae58849f64dfa4f5d5ae372c8341f7305f82a3868709269343628b659a3"),
    ("semver", "1.0.27", "dtolnay+semver", "d767eb0aabc880b29956c35734170f26ed551a859dbd361d140cdbeca61ab1e2"),
    ("serde", "1.0.228", "serde-rs+serde", "9a8e94ea7f378bd32cbbd37198a4a91436180c5bb472411e48b5ec2e2124ae9e"),
    ("serde_json", "1.0.150", "serde-rs+json", "e8014e44b4736ed0538adeecded0fce2a272f22dc9578a7eb6b2d9993c74cfb9"),
    ("tokio", "1.53.1", "tokio-rs+tokio", "202caea871b69668250d242070849eb495be178ed697a3e98aebce5bc81a0bed"),
    ("regex", "1.13.1", "rust-lang+regex", "f020237b6c8eed93db2e2cb53c00c60a8e1bc73da7d073199a1180401450218d"),
    # mismatch-heavy (line-ending differences in most files); not part of the median
    ("vcpkg", "0.2.15", "mcgoo+vcpkg-rs", "accd4ea62f7bb7a82fe23066fb0957d48ef677f6eeb8215f372f52e48bb32426"),
]
MEDIAN_OF = 12
only = set(sys.argv[1:])

def crate_file(name, version, sha):
    path = os.path.join(BENCH, "crates", f"{name}-{version}.crate")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = urllib.request.urlopen(f"https://static.crates.io/crates/{name}/{name}-{version}.crate").read()
        if hashlib.sha256(data).hexdigest() != sha:
            sys.exit(f"{name}-{version}: SHA-256 differs from the registry index")
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.rename(path + ".part", path)
    return path

def repository(snapshot):
    path = os.path.join(BENCH, "repos", snapshot + ".git")
    if not os.path.exists(path):
        src = os.path.join(MIRRORS, snapshot, "repo")
        subprocess.run(["git", "clone", "-q", "--bare", src, path + ".part"], check=True)
        os.rename(path + ".part", path)
    return path

def vcs_info(path, name, version):
    with tarfile.open(path) as t:
        vcs = json.load(t.extractfile(f"{name}-{version}/.cargo_vcs_info.json"))
        files = sum(1 for m in t.getmembers() if m.isfile())
    return vcs["git"]["sha1"], vcs.get("path_in_vcs", "") or ".", files

def wall_ns(argv, env=None):
    """Wall clock of one process (stdout and stderr discarded), exit status."""
    t0 = time.perf_counter_ns()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter_ns() - t0, p.returncode

def ours_argv(crate, repo):
    return [BIN, "verify", "--crate-file", crate, "--repo", repo, "--format", "json"]

def stages(crate, repo, runs):
    """Median per stage (ms) of CRATE_PROVENANCE_TIMINGS=1 (lines `timing STAGE MS` on stderr)."""
    env = dict(os.environ, CRATE_PROVENANCE_TIMINGS="1")
    per = {}
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        p = subprocess.run(ours_argv(crate, repo), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        wall = (time.perf_counter_ns() - t0) / 1e6
        for line in p.stderr.splitlines():
            m = re.match(r"timing (\S+) ([0-9.]+)", line)
            if m:
                per.setdefault(m[1], []).append(float(m[2]))
                if m[1] == "main":
                    per.setdefault("start", []).append(wall - float(m[2]))
    return {k: statistics.median(v) for k, v in per.items()}

def peak_rss_kib(crate, repo):
    p = subprocess.run(["/usr/bin/time", "-v"] + ours_argv(crate, repo), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)[1])

def missing_blobs(repo, rev):
    """Paths at `rev` whose blobs the snapshot does not hold (snapshots may leave out their
    largest files); `git worktree add` cannot check them out."""
    tree = subprocess.run(["git", "--git-dir", repo, "ls-tree", "-r", "-z", rev], check=True, capture_output=True).stdout
    entries = [e.split(b"\t", 1) for e in tree.split(b"\0") if e]
    blobs = [(meta.split()[2], p) for meta, p in entries if meta.split()[1] == b"blob"]
    check = subprocess.run(["git", "--git-dir", repo, "cat-file", "--batch-check"], input=b"".join(i + b"\n" for i, _ in blobs), check=True, capture_output=True).stdout
    return [p.decode() for (_, p), line in zip(blobs, check.splitlines()) if line.endswith(b" missing")]

def reference_once(repo, rev, path, crate, tmp, offline, missing):
    wt = tempfile.mkdtemp(dir=tmp)
    os.rmdir(wt)
    target = os.path.join(tmp, "target")
    quiet = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.perf_counter_ns()
    if missing:  # check out everything but the blobs the snapshot lacks
        subprocess.run(["git", "--git-dir", repo, "worktree", "add", "-q", "--detach", "--no-checkout", wt, rev], **quiet)
        patterns = "/*\n" + "".join(f"!/{p}\n" for p in missing)
        subprocess.run(["git", "-C", wt, "sparse-checkout", "set", "--no-cone", "--stdin"], input=patterns.encode(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["git", "-C", wt, "read-tree", "-mu", "HEAD"], **quiet)
    else:
        subprocess.run(["git", "--git-dir", repo, "worktree", "add", "-q", "--detach", wt, rev], **quiet)
    argv = ["cargo", "package", "--no-verify", "--allow-dirty", "-q"] + (["--offline"] if offline else [])
    ok = subprocess.run(argv, cwd=os.path.join(wt, path), env=dict(os.environ, CARGO_TARGET_DIR=target), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    pkgs = [f for f in os.listdir(os.path.join(target, "package"))] if ok and os.path.isdir(os.path.join(target, "package")) else []
    pkg = next((os.path.join(target, "package", f) for f in pkgs if f.endswith(".crate")), None)
    if pkg:
        strip = lambda names: sorted(n.split("/", 1)[1] for n in names if "/" in n)
        with tarfile.open(pkg) as a, tarfile.open(crate) as b:
            _same = strip(a.getnames()) == strip(b.getnames())
    elapsed = time.perf_counter_ns() - t0
    subprocess.run(["git", "--git-dir", repo, "worktree", "remove", "--force", wt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["git", "--git-dir", repo, "worktree", "prune"], check=True)
    shutil.rmtree(wt, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    return elapsed, pkg is not None

def reference(repo, rev, path, crate):
    missing = missing_blobs(repo, rev)
    with tempfile.TemporaryDirectory() as tmp:
        reference_once(repo, rev, path, crate, tmp, False, missing)  # warm-up: fills cargo's cache
        times = []
        for _ in range(REF_RUNS):
            ns, ok = reference_once(repo, rev, path, crate, tmp, True, missing)
            if not ok:
                return None
            times.append(ns)
    return statistics.median(times)

def ms(ns):
    return f"{ns / 1e6:.1f} ms" if ns < 1e9 else f"{ns / 1e9:.2f} s"

# in-process stages (ms): `main` is everything after process start; `hash` and `diff` are
# parts of `compare` (and `hash` also covers the SHA-256 of the .crate)
STAGE_COLS = ["main", "read_crate", "inflate", "hash", "open_repository", "lookup_commit", "refs",
              "rebuild", "compare", "diff", "classify", "cross_checks", "json"]
print(f"load before: {open('/proc/loadavg').read().split()[:3]}", file=sys.stderr)
start = statistics.median(wall_ns([BIN, "--version"])[0] for _ in range(RUNS))
BASELINE = os.environ.get("BASELINE_BIN")
breakdown, ratios, before_ratios = [], [], []
extra = " before | before / ours |" if BASELINE else ""
print("| crate | files | verdict | ours | reference | reference / ours | peak RSS |" + extra)
print("|---|---:|---|---:|---:|---:|---:|" + ("---:|---:|" if BASELINE else ""))
for i, (name, version, snapshot, sha) in enumerate(CRATES):
    if only and name not in only:
        continue
    crate, repo = crate_file(name, version, sha), repository(snapshot)
    rev, path, files = vcs_info(crate, name, version)
    argv = ours_argv(crate, repo)
    out = subprocess.run(argv, capture_output=True, text=True)
    verdict = json.loads(out.stdout).get("verdict", "error")
    for _ in range(2):
        wall_ns(argv)
    if BASELINE:  # interleaved, so that both see the same load
        base_argv = [BASELINE] + argv[1:]
        wall_ns(base_argv)
        pairs = [(wall_ns(argv)[0], wall_ns(base_argv)[0]) for _ in range(RUNS)]
        ours, before = (statistics.median(x) for x in zip(*pairs))
    else:
        ours = statistics.median(wall_ns(argv)[0] for _ in range(RUNS))
    st = stages(crate, repo, max(3, RUNS // 3))
    rss = peak_rss_kib(crate, repo)
    ref = None if os.environ.get("SKIP_REFERENCE") else reference(repo, rev, path, crate)
    ratio = ref / ours if ref else None
    if ratio and i < MEDIAN_OF:
        ratios.append(ratio)
    cols = [f"{st[c]:.2f}" if c in st else "-" for c in STAGE_COLS]
    breakdown.append(f"| {name} | {st.get('start', float('nan')):.2f} | " + " | ".join(cols) + " |")
    print(f"| {name}-{version} | {files} | {verdict} | {ms(ours)} | {ms(ref) if ref else 'n/a'} | "
          f"{f'{ratio:.0f}x' if ratio else 'n/a'} | {rss / 1024:.1f} MiB |"
          + (f" {ms(before)} | {before / ours:.1f}x |" if BASELINE else ""), flush=True)
    if BASELINE and i < MEDIAN_OF:
        before_ratios.append(before / ours)
print()
print("Stages (ms, median; `start` = wall clock − `main` of the same process: process start, loading, exit):")
print()
print("| crate | start | " + " | ".join(STAGE_COLS) + " |")
print("|---|" + "---:|" * (len(STAGE_COLS) + 1))
print("\n".join(breakdown))
print()
print(f"process start (`--version`): {ms(start)}")
if ratios:
    print(f"median reference / ours over {len(ratios)} crates: {statistics.median(ratios):.0f}x")
if before_ratios:
    print(f"median before / ours over {len(before_ratios)} crates: {statistics.median(before_ratios):.2f}x")
print(f"load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}; machine: {os.cpu_count()} cores")
PY
