#!/usr/bin/env bash
# qemu/run-qtest.sh — run the apple-dma-pci qtest (tests/qtest/apple-dma-test.c)
# against the QEMU that qemu/build.sh builds (a cache hit when nothing changed).
#
# Prints the test's TAP output and a closing "N passed, N failed" counted from
# its "ok"/"not ok" lines; exits non-zero if anything failed, if the test
# crashed or aborted, or if it ran nothing.
#   QTEST_NO_BUILD=1   use build/qemu as it is, do not call qemu/build.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ "${QTEST_NO_BUILD:-0}" = 1 ]; then
	bld=$(readlink -f "$repo/build/qemu" 2>/dev/null || true)
else
	bld=$("$repo/qemu/build.sh" | tail -n1) || bld=''
fi
qemu=${bld:+$bld/qemu-system-x86_64}
test=${bld:+$bld/tests/qtest/apple-dma-test}
if [ -z "$bld" ] || [ ! -x "$qemu" ] || [ ! -x "$test" ]; then
	echo "run-qtest.sh: no QEMU build with apple-dma-test (run qemu/build.sh)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# one QEMU per test case; a hang must not outlive CI
(cd "$bld" && QTEST_QEMU_BINARY=$qemu timeout 900 "$test" --tap -k) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

passed=$(grep -cE '^ok [0-9]+' "$log")
failed=$(grep -cE '^not ok [0-9]+' "$log")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "run-qtest.sh: apple-dma-test exited with status $rc" >&2
	failed=1
fi
if [ $((passed + failed)) -eq 0 ]; then
	echo "run-qtest.sh: apple-dma-test ran no test" >&2
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
