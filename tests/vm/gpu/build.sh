#!/usr/bin/env bash
# tests/vm/gpu/build.sh - build simgpu_test.ko, the guest test driver of
# simgpu, for Debian's kernels, against the headers guest/build.sh fetches
# (guest/build.sh --print-kdir), -Werror and warning-free like apple_dma.
#
#   tests/vm/gpu/build.sh [TARGET...]   default: stable-amd64 stable-arm64
#                                       (TARGET as in guest/build.sh)
#   tests/vm/gpu/build.sh --print-ko ARCH [SERIES]
#                                       the .ko for SERIES-ARCH (default
#                                       stable), built when missing or older
#                                       than its sources
#   tests/vm/gpu/build.sh --checkpatch  checkpatch.pl on these sources (the
#                                       way guest/build.sh --checkpatch runs it)
#
# Output: build/gpu/<kver>-<arch>/simgpu_test.ko (objects in build/gpu/obj/).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=$top/build/gpu
log() { echo "tests/vm/gpu/build.sh: $*" >&2; }
die() { log "$*"; exit 1; }

sources() {
	echo "$here"/*.[ch] "$here/Kbuild" "$top/host/simgpu_hw.h"
}

# stage OBJ: our sources and simgpu_hw.h in one directory (M= builds there)
stage() {
	rm -rf "$1"
	mkdir -p "$1"
	cp "$here"/*.[ch] "$here/Kbuild" "$top/host/simgpu_hw.h" "$1/"
}

build_one() { # TARGET -> prints "TARGET KVER KO"
	local target=$1 arch kv kdir obj ko logf line
	arch=${target##*-}
	line=$("$top/guest/build.sh" --print-kdir "$target") || return 1
	kv=${line%% *}
	kdir=${line#* }
	obj=$out/obj/$kv-$arch
	ko=$out/$kv-$arch/simgpu_test.ko
	logf=$out/$kv-$arch/build.log
	stage "$obj"
	mkdir -p "$(dirname "$ko")"
	local mk=(make -C "$kdir" M="$obj" KCFLAGS=-Werror modules)
	[ "$arch" = arm64 ] && mk+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	log "building $target: $kv"
	if ! "${mk[@]}" -j"$(nproc)" >"$logf" 2>&1; then
		cat "$logf" >&2
		log "FAILED: $target ($kv), log in $logf"
		return 1
	fi
	if grep -qi 'warning' "$logf"; then
		grep -i -B2 -A4 'warning' "$logf" >&2
		log "FAILED: $target ($kv) has warnings, log in $logf"
		return 1
	fi
	cp "$obj/simgpu_test.ko" "$ko"
	local vm
	vm=$(modinfo -F vermagic "$ko")
	[ "${vm%% *}" = "$kv" ] || { log "FAILED: $ko has vermagic '$vm'"; return 1; }
	echo "$target $kv $ko"
}

case ${1:-} in
--print-ko)
	arch=${2:?--print-ko ARCH [SERIES]}
	series=${3:-stable}
	line=$("$top/guest/build.sh" --print-kdir "$series-$arch") || exit 1
	ko=$out/${line%% *}-$arch/simgpu_test.ko
	# shellcheck disable=SC2046 # the list of source files
	if [ ! -f "$ko" ] || [ -n "$(find $(sources) -newer "$ko" 2>/dev/null | head -n1)" ]; then
		build_one "$series-$arch" >/dev/null || exit 1
	fi
	echo "$ko"
	exit 0
	;;
--checkpatch)
	cd "$top"
	exec "$top/guest/build.sh" --checkpatch
	;;
-h|--help)
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
esac

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(stable-amd64 stable-arm64)
failed=()
for t in "${targets[@]}"; do
	build_one "$t" || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
