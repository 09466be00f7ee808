#!/usr/bin/env bash
# The repository needs nothing outside itself: no test, script, example, doc or source file may
# read the `shared` folder that used to sit beside the checkout. The only files allowed to
# mention it are the contract documents copied verbatim from there (docs/VERDICTS.md, docs/spec/)
# and the copied real-world data set (tests/data/realworld/). Also checks the data set against
# its recorded checksums. CI (.ci/run) runs this; it exits 1 on the first problem.
set -euo pipefail
cd "$(dirname "$0")/.."

# A regular expression, so that this file does not match itself.
pattern='\.\./shared'
allowed='^(docs/VERDICTS\.md|docs/spec/|tests/data/realworld/)'

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and untracked (not ignored) files: what a commit of this tree would hold.
  hits=$(git grep -n -I --untracked -E "$pattern" -- . | grep -Ev "$allowed" || true)
else
  hits=$(grep -rnI -E "$pattern" --exclude-dir=target --exclude-dir=.git . | sed 's|^\./||' |
    grep -Ev "$allowed" || true)
fi
if [ -n "$hits" ]; then
  echo "error: these files refer to a folder outside the repository:" >&2
  echo "$hits" >&2
  exit 1
fi

(cd tests/data/realworld && sha256sum --quiet -c SHA256SUMS) || {
  echo "error: tests/data/realworld differs from tests/data/realworld/SHA256SUMS" >&2
  exit 1
}
echo "self-contained: no reference outside the repository; tests/data/realworld checksums ok"
