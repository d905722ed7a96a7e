#!/bin/sh
# /bin/benchguest.sh CMD ARGS... - the guest half of the VM benchmarks
# (tests/vm/bench.py), run by /init's "bench:CMD:ARG:..." steps.
#
# The VM has two NVMe disks: serial "adma" behind apple_dma (managed) and
# serial "direct" without it (dma-direct). Every measurement runs the same
# thing on both (interleaved per I/O by blkbench, else direct first), and
# is framed by apple_dma's debugfs stats:
#   @@BSTAT LABEL before k=v...
#   @@RESULT label=LABEL ...        (what the tool printed)
#   @@BSTAT LABEL after rc=N k=v...
# LABEL is KIND-ROLE[-...]; ROLE is managed or direct. blkbench's results
# for both disks come in the frame KIND-managed as KIND-direct and
# KIND-managed (the direct disk changes no apple_dma counter).
#
#   pairs N            dmabench: N map+unmap pairs per shape (4k 64k 1m sg)
#                      and mode (cached miss), on each disk's PCI function
#   lat N RANGE_MIB    blkbench lat: N QD1 4 KiB O_DIRECT random reads
#   seq MIB THREADS    blkbench seq: 1 MiB O_DIRECT writes, then reads
#   wl MIB THREADS     the workload (tests/vm/workload.c), verified, on
#                      each disk in turn
#   wlm MIB THREADS    the same on the managed disk only
#   ftrace N           profiling by hand: the function_graph trace of
#                      apple_dma's functions over N cached 4 KiB pairs on
#                      the managed disk, printed as "@@FTRACE line"
# Exit status: non-zero when a tool failed or a disk is missing.

ST=/sys/kernel/debug/apple_dma/stats
DB=/sys/kernel/debug/dmabench
status=0

stats() {
	if [ -r "$ST" ]; then
		sed -e 's/:[[:space:]]*/=/' "$ST" | tr '\n' ' '
	else
		echo "absent=1"
	fi
}

# disk ROLE: sets dev (block device) and pci (function) of that disk
disk() {
	want=adma
	[ "$1" = direct ] && want=direct
	dev='' pci=''
	i=0
	while [ -z "$dev" ] && [ $i -lt 300 ]; do
		for c in /sys/class/nvme/nvme*; do
			[ -r "$c/serial" ] || continue
			[ "$(tr -d ' ' <"$c/serial")" = "$want" ] || continue
			pci=$(basename "$(readlink -f "$c/device")")
		done
		for b in /sys/block/nvme*n1; do
			[ -r "$b/device/serial" ] || continue
			[ "$(tr -d ' ' <"$b/device/serial")" = "$want" ] &&
				dev=/dev/$(basename "$b")
		done
		[ -n "$dev" ] && [ -n "$pci" ] && [ -b "$dev" ] && return 0
		dev=''
		sleep 0.1
		i=$((i + 1))
	done
	echo "@@FAIL benchguest: no NVMe disk with serial $want"
	status=1
	return 1
}

# measure LABEL CMD...: the command between two stats lines
measure() {
	label=$1
	shift
	echo "@@BSTAT $label before $(stats)"
	"$@" >/tmp/bench.out 2>&1
	rc=$?
	base=${label%-managed}
	sed -e "s/^@@RESULT disk=a /@@RESULT label=$base-direct /;t" \
		-e "s/^@@RESULT disk=b /@@RESULT label=$base-managed /;t" \
		-e "s/^@@RESULT /@@RESULT label=$label /" /tmp/bench.out
	# deferred unmaps go on apple_dma's timer: count them in this item
	case "$label" in *-managed*) sleep 1 ;; esac
	echo "@@BSTAT $label after rc=$rc $(stats)"
	[ $rc = 0 ] || { echo "@@FAIL benchguest: $label rc=$rc"; status=1; }
}

# dmabench, its miss mode's stride apple_dma's cluster (default 1 MiB)
dmabench_load() {
	[ -d "$DB" ] && return 0
	kb=$(($(sed -n 's/^cluster_bytes:[[:space:]]*//p' "$ST" 2>/dev/null || echo 0) / 1024))
	[ "$kb" -ge 4 ] || kb=1024
	# the miss mode's pool: twice apple_dma's idle cache, so none of it
	# is still cached when the mode comes round to it again
	pool=$(($(cat /sys/module/apple_dma/parameters/cache_kb 2>/dev/null || echo 0) * 2 / 1024))
	[ "$pool" -ge 128 ] || pool=128
	insmod /lib/modules/dmabench.ko window_kb=$kb pool_mib=$pool &&
		echo "@@STEP dmabench window_kb=$kb pool_mib=$pool"
}

# shellcheck disable=SC2317 # called through measure
dmabench_one() {	# PCI SHAPE MODE N
	rc=0
	echo "$1 $2 $3 $4" >"$DB/run" || rc=1	# fails when a mapping did
	echo "@@RESULT $(cat "$DB/result")"
	return "$rc"
}

cmd=$1
shift
case "$cmd" in
pairs)
	dmabench_load || { echo "@@FAIL benchguest: insmod dmabench"; exit 1; }
	for role in direct managed; do
		disk "$role" || continue
		eval "pci_$role=$pci"
	done
	for shape in 4k 64k 1m sg; do
		for mode in cached miss; do
			for role in direct managed; do
				eval "pci=\${pci_$role:-}"
				[ -n "$pci" ] || continue
				# cached: the first pair maps, outside the figure
				if [ "$mode" = cached ]; then
					dmabench_one "$pci" "$shape" cached 1 >/dev/null ||
						echo "@@FAIL benchguest: warm $role $shape"
				fi
				measure "pair-$role-$shape-$mode" dmabench_one "$pci" "$shape" "$mode" "$1"
			done
		done
	done
	;;
lat|seq)
	disk direct || exit 1
	ddev=$dev
	disk managed || exit 1
	if [ "$cmd" = lat ]; then
		measure lat-managed /bin/blkbench lat "$1" "$2" 7 "$ddev" "$dev"
	else
		measure "seq$2-managed" /bin/blkbench seq "$1" "$2" "$ddev" "$dev"
	fi
	;;
wl|wlm)
	roles="direct managed"
	[ "$cmd" = wlm ] && roles=managed
	for role in $roles; do
		disk "$role" && measure "wl$2-$role" /bin/workload -d "$dev" -n "wl$2-$role" -m "$1" -t "$2" -s 31
	done
	;;
ftrace)
	dmabench_load || exit 1
	disk managed || exit 1
	tr=/sys/kernel/debug/tracing
	dmabench_one "$pci" 4k cached 1 >/dev/null
	if ! { echo ':mod:apple_dma' >"$tr/set_ftrace_filter" &&
		echo function_graph >"$tr/current_tracer" &&
		echo 1 >"$tr/tracing_on"; }; then
		echo "@@FAIL benchguest: no function_graph tracer"
		exit 1
	fi
	dmabench_one "$pci" 4k cached "$1"
	echo 0 >"$tr/tracing_on"
	sed -e 's/^/@@FTRACE /' "$tr/trace"
	echo nop >"$tr/current_tracer"
	;;
*)
	echo "@@FAIL benchguest: unknown command '$cmd'"
	status=1
	;;
esac
exit $status
