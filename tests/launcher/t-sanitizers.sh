#!/usr/bin/env bash
# t-sanitizers.sh — the launcher built with ASan + UBSan (aborting on the
# first report), and the run/usage/stats/doctor tests run again against that
# build: one PASS per test file, or FAIL with the sanitizer's report. (Leak
# checking is off: a verb's strings live until the process exits.)
. "$(dirname "$0")/lib.sh"
mkdir -p "$HOME"
bin=$HOME/egpu-vm-san
libs="json-c libcurl libcrypto"
# shellcheck disable=SC2046,SC2086
if ! cc -std=c11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=all \
	-I"$REPO/protocol" -I"$REPO/launcher/src" $(pkg-config --cflags $libs) "$REPO"/launcher/src/*.c \
	$(pkg-config --libs $libs) -o "$bin" 2>"$HOME/cc.log"; then
	fail "sanitizer build" "$(head -5 "$HOME/cc.log")"
	finish
	exit 1
fi
for t in t-run.sh t-usage.sh t-stats.sh t-doctor.sh; do
	out=$(EGPU_VM_BIN=$bin ASAN_OPTIONS=detect_leaks=0 bash "$HERE/$t" 2>&1)
	if [ $? = 0 ] && ! grep -qE 'runtime error|AddressSanitizer|^FAIL' <<<"$out"; then
		pass "sanitizers: $t"
	else
		fail "sanitizers: $t" "$(grep -E -m3 'runtime error|AddressSanitizer|^FAIL' <<<"$out" | tr '\n' '|')"
	fi
done
finish
