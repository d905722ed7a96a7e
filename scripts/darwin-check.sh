#!/usr/bin/env bash
# darwin-check.sh — `make darwin`: compile every macOS file of ours for the
# Darwin targets on this Linux machine, against the declaration shims in
# shim/ (not Apple's SDK: see shim/README.md for what that leaves unchecked).
#
# Each scripts/darwin.d/*.sh is one group of checks. It prints one line per
# file, "darwin: ok|FAIL <what> (<how: object|syntax-only>)", and exits
# non-zero if any failed. This script runs them all and closes with
# "N passed, N failed" over those lines.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/deps.sh darwin >/dev/null || { echo "darwin: cannot install the toolchain"; echo "0 passed, 1 failed"; exit 1; }
out=$(mktemp)
rc=0
for s in scripts/darwin.d/*.sh; do
	[ -f "$s" ] || continue
	bash "$s" 2>&1 | tee -a "$out"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
done
p=$(grep -c '^darwin: ok ' "$out")
f=$(grep -c '^darwin: FAIL ' "$out")
rm -f "$out"
[ $rc = 0 ] || [ "$f" != 0 ] || f=1
echo "darwin: $p passed, $f failed"
[ "$rc" = 0 ] && [ "$f" = 0 ]
