#!/usr/bin/env bash
# tests/launcher/run.sh — `make launcher-test`: every tests/launcher/t-*.sh
# against the built launcher ($EGPU_VM_BIN, default build/launcher/egpu-vm).
# Each test prints "PASS name" / "FAIL name: why" lines; this script counts
# them and ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export EGPU_VM_BIN=${EGPU_VM_BIN:-$repo/build/launcher/egpu-vm}
[ -x "$EGPU_VM_BIN" ] || { echo "launcher-test: no $EGPU_VM_BIN (make launcher)"; echo "0 passed, 1 failed"; exit 1; }
out=$(mktemp)
rc=0
for t in "$here"/t-*.sh; do
	echo "--- $(basename "$t")"
	bash "$t" 2>&1 | tee -a "$out"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
done
p=$(grep -c '^PASS ' "$out")
f=$(grep -c '^FAIL ' "$out")
rm -f "$out"
[ $rc = 0 ] || [ "$f" != 0 ] || f=1	# a test that died without saying FAIL
echo "launcher-test: $p passed, $f failed"
[ $rc = 0 ] && [ "$f" = 0 ]
