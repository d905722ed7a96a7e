#!/usr/bin/env bash
# t-devices.sh — the IORegistry parser that list-devices and doctor use on a
# Mac, run here over a sample of `ioreg -r -c IOPCIDevice -l -d 2` output
# (ioreg-sample.txt): display-class functions only, properties of the
# function and not of its children, and "dext" where our driver is attached.
. "$(dirname "$0")/lib.sh"
bin=$HOME/ioreg_gpus_test
mkdir -p "$HOME"
if ! cc -std=c11 -Wall -Wextra -Werror -I"$REPO/launcher/src" -I"$REPO/protocol" $(pkg-config --cflags json-c) \
	"$HERE/ioreg_gpus_test.c" "$REPO/launcher/src/devices.c" "$REPO/launcher/src/util.c" \
	$(pkg-config --libs json-c) -o "$bin" 2>"$HOME/cc.log"; then
	fail "ioreg parser builds" "$(cat "$HOME/cc.log")"
	finish
	exit 1
fi
out=$("$bin" "$HERE/ioreg-sample.txt")
want='[{"name":"display@0","registry_id":"0x1000004a2","dext":true,"vendor":"0x10de","device":"0x2284","location":"5:0:0"},{"name":"display@0,1","registry_id":"0x1000004c0","dext":false,"vendor":"0x1002","device":"0x73bf","location":"7:0:1"}]'
[ "$out" = "$want" ] && pass "ioreg: GPUs and the dext's" || fail "ioreg: GPUs and the dext's" "got $out"
out=$("$bin" /dev/null)
[ "$out" = "[]" ] && pass "ioreg: none" || fail "ioreg: none" "got $out"
finish
