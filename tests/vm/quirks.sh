#!/bin/sh
# /bin/quirks.sh of the VM test initramfs (busybox sh): the steps that prove
# apple_dma's quirks (guest/quirks/). /init runs "quirks.sh A B" for a step
# "quirk:A:B". Results are "@@RESULT name=quirk-... phase=total status=..."
# lines (tests/vm/vmtest.py checks them); exit status 0 when every
# expectation held.
#
#   tso on|off     /bin/quirkcheck tso: the prctl answered (or not), and
#                  apple_dma's tso_answers counter moved by what it answered
#   dczva on|off|refused  /bin/quirkcheck dczva on every online CPU: on: DZP
#                  reads 1 and DC ZVA is emulated (apple_dma's dczva_emulated
#                  moves); off: DC ZVA is the CPU's; refused: dczva=1 was
#                  asked but the kernel cannot be probed (6.1), so nothing
#                  changed and apple_dma said why
#   cpu-cycle      every CPU but cpu0 taken offline and back online (the
#                  kernel re-initialises its system registers)
#   adma-rebind    every apple-dma-pci unbound from apple_dma and bound again
#                  (the quirks are taken down with the last one, set up again)
#   uvm            the NVIDIA UVM quirk against /lib/modules/uvm_standin.ko
#                  (apple_dma loaded with uvm_module=uvm_standin): absent
#                  symbol reported, armed on load, page size forced and
#                  counted, disarmed on unload, armed again on a second load

PATH=/bin
failed=0
fail() {
	echo "@@FAIL quirks.sh: $*"
	failed=1
}

stat_of() {	# stat_of NAME: apple_dma's debugfs counter NAME
	sed -n "s/^$1:[[:space:]]*//p" /sys/kernel/debug/apple_dma/stats 2>/dev/null
}

probes_on() {	# how many kprobes sit on SYMBOL
	grep -c "$1" /sys/kernel/debug/kprobes/list 2>/dev/null
}

case "$1" in
tso)
	before=$(stat_of tso_answers)
	/bin/quirkcheck tso "$2" || failed=1
	after=$(stat_of tso_answers)
	want=0
	[ "$2" = on ] && want=3
	[ $((after - before)) = $want ] ||
		fail "tso_answers moved by $((after - before)), want $want"
	echo "@@RESULT name=quirk-tso-count phase=total status=$([ $failed = 0 ] && echo pass || echo fail) answers=$((after - before))"
	;;
dczva)
	before=$(stat_of dczva_emulated)
	mode=$2
	[ "$mode" = refused ] && mode=off
	/bin/quirkcheck dczva "$mode" || failed=1
	after=$(stat_of dczva_emulated)
	n=$((${after:-0} - ${before:-0}))
	if [ "$2" = on ]; then
		# one DC ZVA per CPU by quirkcheck, more by programs started earlier
		[ $n -ge 2 ] || fail "dczva_emulated moved by $n, want >= 2"
	else
		[ $n = 0 ] || fail "dczva_emulated moved by $n, want 0"
	fi
	if [ "$2" = refused ]; then
		dmesg | grep -q "DC ZVA quirk off: cannot probe" ||
			fail "dczva=1 refused without saying why"
	fi
	echo "@@RESULT name=quirk-dczva-count phase=total status=$([ $failed = 0 ] && echo pass || echo fail) mode=$2 emulated=$n"
	;;
cpu-cycle)
	n=0
	for c in /sys/devices/system/cpu/cpu[1-9]*; do
		[ -w "$c/online" ] || continue
		echo 0 >"$c/online" || fail "offline $(basename "$c")"
		[ "$(cat "$c/online")" = 0 ] || fail "$(basename "$c") still online"
		echo 1 >"$c/online" || fail "online $(basename "$c")"
		[ "$(cat "$c/online")" = 1 ] || fail "$(basename "$c") did not come back"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || fail "no CPU could be taken offline"
	echo "@@RESULT name=quirk-cpu-cycle phase=total status=$([ $failed = 0 ] && echo pass || echo fail) cpus=$n"
	;;
adma-rebind)
	d=/sys/bus/pci/drivers/apple_dma
	devs=$(cd "$d" && ls -d -- ????:??:??.? 2>/dev/null)
	[ -n "$devs" ] || fail "no apple-dma-pci bound to apple_dma"
	for p in $devs; do
		echo "$p" >"$d/unbind" || fail "unbind $p"
	done
	for p in $devs; do
		[ -e "$d/$p" ] && fail "$p still bound"
		echo "$p" >"$d/bind" || fail "bind $p"
		[ -e "$d/$p" ] || fail "$p not bound again"
	done
	echo "@@RESULT name=quirk-adma-rebind phase=total status=$([ $failed = 0 ] && echo pass || echo fail) devices=$(echo "$devs" | wc -w)"
	;;
uvm)
	sym=nvUvmInterfaceMemoryAllocSys
	call=/sys/kernel/debug/uvm_standin/call
	dmesg | grep -q "$sym not present; the UVM quirk waits for module uvm_standin" ||
		fail "no 'not present' message before the stand-in was loaded"
	[ "$(probes_on $sym)" = 0 ] || fail "a probe on $sym before the stand-in exists"
	f0=$(stat_of uvm_forced)
	forced=0 calls=0 refused=0 kept=1
	for round in 1 2; do
		insmod /lib/modules/uvm_standin.ko || { fail "insmod uvm_standin (round $round)"; break; }
		[ "$(probes_on $sym)" = 1 ] || fail "round $round: no probe on $sym after the stand-in loaded"
		# as nvidia-uvm asks: 2 MiB pages for >= 2 MiB, 64 KiB for >= 64 KiB,
		# the default below; the stand-in refuses anything above 16 KiB
		for req in "16777216 2097152" "131072 65536" "4096 0"; do
			echo "$req" >"$call" || fail "call $req"
			r=$(cat "$call")
			echo "@@UVM round=$round req=$(echo "$req" | tr ' ' /) $r"
			calls=$((calls + 1))
			case "$r" in *" seen=0 "*) ;; *) fail "round $round, $req: page size not forced: $r" ;; esac
			case "$r" in *"status=0 "*) ;; *) refused=$((refused + 1)) ;; esac
			case "$r" in *"kept=1"*) ;; *) kept=0; fail "round $round, $req: neighbouring fields changed: $r" ;; esac
			[ "${req#* }" = 0 ] || forced=$((forced + 1))
		done
		rmmod uvm_standin || fail "rmmod uvm_standin (round $round)"
		[ "$(probes_on $sym)" = 0 ] || fail "round $round: probe on $sym left after rmmod"
	done
	dmesg | grep -q "UVM quirk disarmed (module going" || fail "no 'disarmed' message"
	f1=$(stat_of uvm_forced)
	[ $((f1 - f0)) = $forced ] || fail "uvm_forced moved by $((f1 - f0)), want $forced"
	echo "@@RESULT name=quirk-uvm phase=total status=$([ $failed = 0 ] && echo pass || echo fail) calls=$calls forced=$((f1 - f0)) want_forced=$forced refused=$refused kept=$kept"
	;;
*)
	fail "unknown quirk step '$*'"
	;;
esac
exit $failed
