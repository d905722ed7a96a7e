#!/usr/bin/env bash
# t-stats.sh — `egpu-vm run` starting a real QEMU (build/qemu, our devices:
# apple-dma-pci managing egpu-pci with the simulated GPU; -S, stopped: no
# guest needed), then `egpu-vm stats` reading it over QMP, checked against
# what QMP answers directly (tests/vm/qmp.py). Fails when QEMU is not built.
. "$(dirname "$0")/lib.sh"
qemu=${EGPU_QEMU_TEST:-$REPO/build/qemu/qemu-system-x86_64}
if [ ! -x "$qemu" ]; then
	fail "stats" "no QEMU at $qemu (qemu/build.sh)"
	finish
	exit 1
fi
export EGPU_RUN_DIR=$HOME/run
mkdir -p "$EGPU_RUN_DIR"
sock=$EGPU_RUN_DIR/t1.qmp
"$EV" run --no-config --name t1 --qemu "$qemu" --accel tcg --serial none --net none \
	-- -S >"$HOME/qemu.log" 2>&1 &
qpid=$!
trap 'kill $qpid 2>/dev/null; wait $qpid 2>/dev/null; rm -rf "$HOME"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { fail "stats: QEMU started" "$(cat "$HOME/qemu.log")"; exit 1; }

grep -q "starting t1 (QMP: $sock" "$HOME/qemu.log" && pass "run says where its QMP socket is" ||
	fail "run says where its QMP socket is" "$(cat "$HOME/qemu.log")"
expect "run refuses a second VM of the same name" 1 "a VM named 't1' is running" -- \
	run --no-config --name t1 --qemu "$qemu" --accel tcg --serial none --net none -- -S
out=$("$EV" stats --name t1)
rc=$?
if [ $rc = 0 ] && grep -q '^adma0:' <<<"$out" && grep -q '^gpu0:' <<<"$out" &&
	[ "$(grep -c '^  [a-z_0-9]* ' <<<"$out")" -gt 4 ]; then
	pass "stats table (adma0 and gpu0)"
else
	fail "stats table (adma0 and gpu0)" "exit $rc: $out"
fi
# --json parses, and has the same counters QMP itself answers
json=$("$EV" --json stats --socket "$sock")
if python3 - "$sock" "$json" "$REPO/tests/vm" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[3])
import qmp
ours = json.loads(sys.argv[2])
for dev in ("adma0", "gpu0"):
    direct = qmp.adma_stats(sys.argv[1], dev)
    assert ours[dev] == direct, (dev, ours[dev], direct)
    assert len(direct) > 2, direct
PY
then pass "stats --json == QMP's own answer"; else fail "stats --json == QMP's own answer" "$json"; fi
out=$("$EV" stats --socket "$sock" --id gpu0 --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert list(d) == ["gpu0"], d' "$out" &&
	pass "stats --id gpu0" || fail "stats --id gpu0" "$out"
expect "stats --id of no device" 6 "nosuch: .*" -- stats --socket "$sock" --id nosuch
# a socket nobody answers on
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$HOME/dead.sock"
expect "stats dead socket" 1 "cannot connect to $HOME/dead.sock" -- stats --socket "$HOME/dead.sock"
kill $qpid; wait $qpid 2>/dev/null
expect "stats of a VM that is gone (QEMU removed its socket)" 6 "no VM with a QMP socket at $sock" -- stats --name t1
finish
