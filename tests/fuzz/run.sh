#!/usr/bin/env bash
# run.sh FUZZER SECONDS — bounded libFuzzer run from the kept seed corpus;
# any crash, leak or sanitizer report fails it (libFuzzer exits non-zero).
set -euo pipefail
fuzzer=$1 secs=$2
corpus=build/fuzz/corpus
mkdir -p "$corpus" build/fuzz/artifacts
if "$fuzzer" -max_total_time="$secs" -print_final_stats=1 \
	-artifact_prefix=build/fuzz/artifacts/ "$corpus" >build/fuzz/log 2>&1; then
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' build/fuzz/log || true
	echo "fuzz-smoke: 1 passed, 0 failed"
else
	tail -40 build/fuzz/log
	echo "fuzz-smoke: crash input kept in build/fuzz/artifacts/"
	echo "fuzz-smoke: 0 passed, 1 failed"
	exit 1
fi
