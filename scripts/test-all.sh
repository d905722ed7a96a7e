#!/usr/bin/env bash
# test-all.sh [STAGE...] — what `make test` (and so CI) runs: each stage is a
# make target whose runner ends with "N passed, N failed". Every stage runs
# even after a failure, so one report shows everything; the closing line
# adds them up, and the exit status is non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit bench-selftest fuzz-smoke darwin qemu qtest module vmtest launcher-test)

passed=0 failed=0 report=()
for stage in "${stages[@]}"; do
	echo "=== make $stage"
	start=$SECONDS
	log=$(mktemp)
	make --no-print-directory "$stage" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	rm -f "$log"
	p=$(sed -nE 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\2/p' <<<"$line")
	f=$(sed -nE 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\3/p' <<<"$line")
	if [ -z "$line" ]; then
		# a build-only stage: it passed or failed as a whole
		if [ $rc -eq 0 ]; then p=1 f=0; else p=0 f=1; fi
	elif [ $rc -ne 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	report+=("$(printf '%-12s %4d passed %4d failed  %5ds' "$stage" "$p" "$f" $((SECONDS - start)))")
done
echo "=== summary"
printf '%s\n' "${report[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
