#!/usr/bin/env bash
# qemu/run-qtest.sh [TEST...] — run our qtests (default: apple-dma-test,
# apple-dma-hostram-test, egpu-pci-test, egpu-pci-cmdline-test and
# apple-dma-config-test, from qemu/tests/qtest/) against
# the QEMU that qemu/build.sh builds (a cache hit when nothing changed).
#
# Prints each test's TAP output and a closing "N passed, N failed" counted
# from the "ok"/"not ok" lines of all of them; exits non-zero if anything
# failed, if a test crashed or aborted, or if one ran nothing.
#   QTEST_NO_BUILD=1   use build/qemu as it is, do not call qemu/build.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(apple-dma-test apple-dma-hostram-test egpu-pci-test egpu-pci-cmdline-test apple-dma-config-test)

if [ "${QTEST_NO_BUILD:-0}" = 1 ]; then
	bld=$(readlink -f "$repo/build/qemu" 2>/dev/null || true)
else
	bld=$("$repo/qemu/build.sh" | tail -n1) || bld=''
fi
qemu=${bld:+$bld/qemu-system-x86_64}
if [ -z "$bld" ] || [ ! -x "$qemu" ]; then
	echo "run-qtest.sh: no QEMU build (run qemu/build.sh)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0
for t in "${tests[@]}"; do
	bin=$bld/tests/qtest/$t
	if [ ! -x "$bin" ]; then
		echo "run-qtest.sh: $t is not built (qemu/build.sh builds it)" >&2
		failed=$((failed + 1))
		continue
	fi
	# one QEMU per test case; a hang must not outlive CI
	(cd "$bld" && QTEST_QEMU_BINARY=$qemu timeout 900 "$bin" --tap -k) 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "run-qtest.sh: $t exited with status $rc" >&2
		f=1
	fi
	if [ $((p + f)) -eq 0 ]; then
		echo "run-qtest.sh: $t ran no test" >&2
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
