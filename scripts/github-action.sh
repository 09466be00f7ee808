#!/usr/bin/env bash
# The scan step of the GitHub Action (action.yml): runs `cargo provenance` in the current
# directory with the action's inputs, appends the markdown summary to $GITHUB_STEP_SUMMARY, and
# writes `exit-code` and `sarif` to $GITHUB_OUTPUT. Exits with cargo provenance's status (0
# passed, 1 a denied verdict, 2 error), after writing the summary and the outputs.
#
# Inputs (environment): INPUT_DENY (comma-separated verdicts; empty = provenance.toml),
# INPUT_ARGS (more arguments, split on whitespace; no quoting), INPUT_SARIF (SARIF path; empty =
# none). Needs `cargo` and `cargo-provenance` on PATH.
set -uo pipefail

: "${GITHUB_STEP_SUMMARY:?not running in GitHub Actions: GITHUB_STEP_SUMMARY is not set}"
: "${GITHUB_OUTPUT:?not running in GitHub Actions: GITHUB_OUTPUT is not set}"

args=(provenance --format markdown)
if [ -n "${INPUT_DENY:-}" ]; then
  args+=(--deny "$INPUT_DENY")
fi
if [ -n "${INPUT_SARIF:-}" ]; then
  args+=(--sarif "$INPUT_SARIF")
fi
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi

summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
echo "::group::cargo ${args[*]}"
cargo "${args[@]}" >"$summary"
status=$?
echo "::endgroup::"

if [ -s "$summary" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
  cat "$summary"
else
  printf '### crate-provenance: the scan failed (exit status %s)\n\nSee the step log.\n' "$status" >>"$GITHUB_STEP_SUMMARY"
fi
echo "exit-code=$status" >>"$GITHUB_OUTPUT"
if [ -n "${INPUT_SARIF:-}" ] && [ -f "$INPUT_SARIF" ]; then
  echo "sarif=$INPUT_SARIF" >>"$GITHUB_OUTPUT"
else
  echo "sarif=" >>"$GITHUB_OUTPUT"
fi
case $status in
  0) ;;
  1) echo "::error title=crate-provenance::a crate version has a denied verdict (see the job summary)" ;;
  *) echo "::error title=crate-provenance::cargo provenance failed with exit status $status" ;;
esac
exit "$status"
