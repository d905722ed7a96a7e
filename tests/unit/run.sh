#!/usr/bin/env bash
# run.sh BIN... — run cmocka test binaries, print each one's output and a
# closing "N passed, N failed" over all of them; non-zero if any failed.
set -uo pipefail
passed=0 failed=0
for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' <<<"$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s),.*/\1/p' <<<"$out" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# a crash or sanitizer report after the tests still fails the binary
	if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
		echo "unit: $bin exited $rc"
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" = 0 ]
