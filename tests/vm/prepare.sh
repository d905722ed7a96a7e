#!/usr/bin/env bash
# tests/vm/prepare.sh [amd64|arm64] [stable|bpo] — everything the test VM
# needs, built or fetched once, for an amd64 guest (the default) or an arm64
# one, on the release's kernel (stable, the default) or the backports one.
#
#   1. Debian packages of groups "vm" and "module" (scripts/deps.sh)
#   2. QEMU with apple-dma-pci (qemu/build.sh; cached): qemu-system-x86_64,
#      or qemu-system-aarch64 for arm64. $EGPU_QEMU is used as is for amd64;
#      for arm64, $EGPU_QEMU_ARM64, else qemu-system-aarch64 beside $EGPU_QEMU
#   3. the guest kernel (tests/vm/kernel.sh ARCH SERIES; cached)
#   4. apple_dma.ko, simgpu_test.ko (the GPU test driver) and uvm_standin.ko
#      (the UVM quirk's stand-in) for exactly that kernel (guest/build.sh
#      [--module NAME] --print-ko ARCH SERIES: built when missing or older
#      than their sources)
#   5. arm64 only: Debian's busybox-static for arm64, downloaded (not
#      installed) and unpacked under ${EGPU_CACHE:-~/.cache/egpu-vm}/guest-arm64
#   6. the initramfs (tests/vm/mkinitramfs.sh), build/vm/initramfs-<kver>.cpio
# Progress goes to stderr; stdout gets shell assignments for eval:
#   QEMU=... KERNEL=... INITRD=... KVER=... KO=... ARCH=... GPU_KO=...
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/vm
die() { echo "tests/vm/prepare.sh: $*" >&2; exit 1; }
arch=${1:-amd64}
series=${2:-stable}
case "$arch" in
amd64) qemu_name="qemu-system-x86_64" ;;
arm64) qemu_name="qemu-system-aarch64" ;;
*) die "usage: tests/vm/prepare.sh [amd64|arm64] [stable|bpo]" ;;
esac
case "$series" in
stable|bpo) ;;
*) die "usage: tests/vm/prepare.sh [amd64|arm64] [stable|bpo]" ;;
esac

# vm: this directory's tools; module: what guest/build.sh needs
if command -v dpkg-query >/dev/null; then "$repo/scripts/deps.sh" vm module; fi

# --- QEMU ---------------------------------------------------------------------
if [ "$arch" = arm64 ] && [ -n "${EGPU_QEMU_ARM64:-}" ]; then
	qemu=$EGPU_QEMU_ARM64
elif [ -n "${EGPU_QEMU:-}" ]; then
	qemu=$EGPU_QEMU
	[ "$arch" = amd64 ] || qemu=$(dirname "$EGPU_QEMU")/$qemu_name
else
	[ -x "$repo/qemu/build.sh" ] || die "no qemu/build.sh yet"
	bindir=$("$repo/qemu/build.sh") || die "qemu/build.sh failed"
	qemu=$bindir/$qemu_name
fi
[ -x "$qemu" ] || die "no QEMU binary at $qemu"
"$qemu" -device help 2>/dev/null | grep -q '"apple-dma-pci"' ||
	die "$qemu has no apple-dma-pci device"

# --- kernel ---------------------------------------------------------------------
kroot=$("$here/kernel.sh" "$arch" "$series") || die "no guest kernel"
kver=$("$here/kernel.sh" --print-version "$arch" "$series")
kernel=$kroot/boot/vmlinuz-$kver

# --- modules (guest/build.sh resolves the kernel as kernel.sh does) ------------
[ -x "$repo/guest/build.sh" ] || die "no guest/build.sh yet"
ko=$("$repo/guest/build.sh" --print-ko "$arch" "$series") ||
	die "guest/build.sh --print-ko $arch $series failed"
[ -f "$ko" ] || die "guest/build.sh says the module is $ko, which does not exist"
if command -v modinfo >/dev/null; then
	magic=$(modinfo -F vermagic "$ko" | awk '{ print $1 }')
	[ "$magic" = "$kver" ] || die "$ko is built for '$magic', the guest kernel is $kver"
fi

# the GPU test driver, for the gpu scenarios
gpu_ko=$("$repo/guest/build.sh" --module simgpu_test --print-ko "$arch" "$series") ||
	die "guest/build.sh --module simgpu_test --print-ko $arch $series failed"
# the stand-in for NVIDIA's nvUvmInterfaceMemoryAllocSys, for the quirk tests
uvm_ko=$("$repo/guest/build.sh" --module uvm_standin --print-ko "$arch" "$series") ||
	die "guest/build.sh --module uvm_standin --print-ko $arch $series failed"

# --- busybox (the machine's own for amd64) --------------------------------------
bbopt=(--ko "$gpu_ko" --ko "$uvm_ko")
if [ "$arch" != amd64 ]; then
	# shellcheck source-path=SCRIPTDIR source=debarch.sh
	. "$here/debarch.sh"
	bbroot=$(deb_unpacked "$arch" busybox-static) || die "no busybox-static for $arch"
	bbopt+=(--arch "$arch" --busybox "$bbroot/bin/busybox")
fi

# the hostile guest of apple-dma-pci, for the hostile-* scenarios (amd64 only)
if [ "$arch" = amd64 ] && [ "$series" = stable ]; then
	hostile_ko=$("$repo/guest/build.sh" --module adma_hostile --print-ko amd64) ||
		die "guest/build.sh --module adma_hostile --print-ko amd64 failed"
	bbopt+=(--ko "$hostile_ko")
	# dma_map+unmap pair cost, for make bench (tests/vm/bench.py)
	db_ko=$("$repo/guest/build.sh" --module dmabench --print-ko amd64) ||
		die "guest/build.sh --module dmabench --print-ko amd64 failed"
	bbopt+=(--ko "$db_ko")
fi

# the self-test of apple_dma's DMA API promises, for the selftest* scenarios
if [ "$series" = stable ]; then
	st_ko=$("$repo/guest/build.sh" --module adma_selftest --print-ko "$arch") ||
		die "guest/build.sh --module adma_selftest --print-ko $arch failed"
	bbopt+=(--ko "$st_ko")
fi

# --- initramfs ------------------------------------------------------------------
initrd=$repo/build/vm/initramfs-$kver.cpio
"$here/mkinitramfs.sh" "${bbopt[@]}" "$kroot" "$initrd" "$ko"

printf 'QEMU=%q\nKERNEL=%q\nINITRD=%q\nKVER=%q\nKO=%q\nARCH=%q\nGPU_KO=%q\n' \
	"$qemu" "$kernel" "$initrd" "$kver" "$ko" "$arch" "$gpu_ko"
