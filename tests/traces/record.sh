#!/usr/bin/env bash
# tests/traces/record.sh [nvme|simgpu]... — record the shipped DMA API traces
# again (default: both), for bench/replay (`make bench`):
#   nvme.trace.xz    the NVMe workload of `make demo` (64 MiB, 2 threads,
#                    mixed, seed 42) on the disk behind apple_dma
#   simgpu.trace.xz  the simulated-GPU run of `make demo` (128 MiB system ->
#                    VRAM -> system, FLR half way), backend simgpu
# Each boots the amd64 test VM (tests/vm/prepare.sh; TCG) with the steps
# trace-start (debugfs apple_dma/<dev>/trace_ctl, guest/trace.c), the
# workload, trace-dump; vm.py decodes the trace from the console into
# build/traces/NAME/<dev>.trace, which is checked by replaying it and then
# xz-compressed into this directory. Console logs: build/traces/NAME.log.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/build/traces
cap=1000000	# records the guest may hold (40 bytes each)
die() { echo "record.sh: $*" >&2; exit 1; }

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(nvme simgpu)
for n in "${names[@]}"; do
	case "$n" in nvme|simgpu) ;; *) die "unknown trace '$n' (nvme, simgpu)" ;; esac
done

env=$("$repo/tests/vm/prepare.sh" amd64 stable) || die "tests/vm/prepare.sh failed"
eval "$env"
make -C "$repo" --no-print-directory build/bench/replay >&2
py=/usr/bin/python3
[ -x "$py" ] || py=python3

for n in "${names[@]}"; do
	args=(--steps "trace-start:$cap,wl,trace-dump,sync:end"
	      --wl "-n demo -m 64 -t 2 -w mixed -s 42")
	[ "$n" = simgpu ] && args=(--gpu simgpu --gpurun "mib=128 seed=42 flr_at=64"
				  --steps "trace-start:$cap,gpu,trace-dump,sync:end")
	rm -rf "${out:?}/$n"
	mkdir -p "$out/$n"
	echo "record.sh: $n: booting the VM (TCG, a few minutes)" >&2
	"$py" "$repo/tests/vm/vm.py" --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
		--quiet --timeout 1200 --log "$out/$n.log" --trace-dir "$out/$n" "${args[@]}" ||
		die "$n: the VM run failed (see $out/$n.log)"
	shopt -s nullglob
	files=("$out/$n"/*.trace)
	shopt -u nullglob
	[ ${#files[@]} = 1 ] || die "$n: ${#files[@]} traces recorded, want 1"
	"$repo/build/bench/replay" "${files[0]}" >/dev/null ||
		die "$n: the trace does not replay (build/bench/replay ${files[0]})"
	xz -9e -c "${files[0]}" >"$repo/tests/traces/$n.trace.xz"
	echo "record.sh: tests/traces/$n.trace.xz: $(stat -c %s "$repo/tests/traces/$n.trace.xz") bytes ($(stat -c %s "${files[0]}") raw)" >&2
done
