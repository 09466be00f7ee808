"""benches/mirror_farm.sh, step 3: the scan's figures.

Usage: python3 mirror_farm_stats.py RESULTS.jsonl SCAN_NS DAEMON_LOG CACHE_DIR

Bytes fetched are the packs the fetches left in the cache's bare repositories (gix keeps a
received pack as it was sent): with the batch engine's prefetch, the reports'
`fetch.repository.bytes` no longer carry the shared pack."""

import collections
import json
import os
import sys

lines = [json.loads(line) for line in open(sys.argv[1])]
ns = int(sys.argv[2])
verdicts = collections.Counter(line.get("verdict") or "error:" + line["error"]["kind"] for line in lines)
strategies = collections.Counter(
    ((line.get("fetch") or {}).get("repository") or {}).get("strategy") for line in lines
)
per_repo = collections.Counter(
    line["source"]["repository"] for line in lines if (line.get("source") or {}).get("commit")
)
packs: collections.Counter = collections.Counter()
for line in open(sys.argv[3], errors="replace"):
    if "Request upload-pack for" in line:
        packs[line.split("'")[1]] += 1
n = max(1, len(lines))
print(f"versions scanned: {len(lines)}; verdicts: {dict(verdicts)}; fetch strategies: {dict(strategies)}")
print(f"scan wall clock: {ns / 1e9:.1f} s = {len(lines) / (ns / 1e9):.2f} versions/s = {ns / 1e9 / n:.3f} s/version")
print(f"versions per declared repository: {dict(per_repo)}")
print(f"upload-pack requests per repository: {dict(sorted(packs.items()))}")
root = os.path.join(sys.argv[4], "git")
total = 0
for d in sorted(os.listdir(root)) if os.path.isdir(root) else []:
    pack_dir = os.path.join(root, d, "objects", "pack")
    b = 0
    if os.path.isdir(pack_dir):
        b = sum(os.path.getsize(os.path.join(pack_dir, f)) for f in os.listdir(pack_dir) if f.endswith(".pack"))
    total += b
    print(f"  pack bytes fetched into cache/git/{d}: {b}")
print(f"pack bytes fetched in all: {total} = {total // n} per version")
