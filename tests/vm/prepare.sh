#!/usr/bin/env bash
# tests/vm/prepare.sh — everything the test VM needs, built or fetched once.
#
#   1. Debian packages of groups "vm" and "module" (scripts/deps.sh)
#   2. QEMU with apple-dma-pci (qemu/build.sh; cached), or $EGPU_QEMU as is
#   3. the guest kernel (tests/vm/kernel.sh; cached)
#   4. apple_dma.ko for exactly that kernel (guest/build.sh stable-amd64, when
#      missing or older than guest/ or protocol/)
#   5. the initramfs (tests/vm/mkinitramfs.sh), build/vm/initramfs-<kver>.cpio
# Progress goes to stderr; stdout gets shell assignments for eval:
#   QEMU=... KERNEL=... INITRD=... KVER=... KO=...
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/tests/vm
die() { echo "tests/vm/prepare.sh: $*" >&2; exit 1; }

# vm: this directory's tools; module: what guest/build.sh needs
if command -v dpkg-query >/dev/null; then "$repo/scripts/deps.sh" vm module; fi

# --- QEMU ---------------------------------------------------------------------
if [ -n "${EGPU_QEMU:-}" ]; then
	qemu=$EGPU_QEMU
else
	[ -x "$repo/qemu/build.sh" ] || die "no qemu/build.sh yet"
	bindir=$("$repo/qemu/build.sh") || die "qemu/build.sh failed"
	qemu=$bindir/qemu-system-x86_64
fi
[ -x "$qemu" ] || die "no QEMU binary at $qemu"
"$qemu" -device help 2>/dev/null | grep -q '"apple-dma-pci"' ||
	die "$qemu has no apple-dma-pci device"

# --- kernel ---------------------------------------------------------------------
kroot=$("$here/kernel.sh" amd64) || die "no guest kernel"
kver=$("$here/kernel.sh" --print-version amd64)
kernel=$kroot/boot/vmlinuz-$kver

# --- module (guest/build.sh resolves the kernel as kernel.sh does) -------------
[ -x "$repo/guest/build.sh" ] || die "no guest/build.sh yet"
ko=$repo/build/guest/$kver-amd64/apple_dma.ko
if [ ! -f "$ko" ] || [ -n "$(find "$repo/guest" "$repo/protocol" -newer "$ko" -type f 2>/dev/null | head -n1)" ]; then
	"$repo/guest/build.sh" stable-amd64 >&2 || die "guest/build.sh stable-amd64 failed"
fi
ko=$("$repo/guest/build.sh" --print-ko amd64) || die "guest/build.sh --print-ko amd64 failed"
[ -f "$ko" ] || die "guest/build.sh says the module is $ko, which does not exist"
if command -v modinfo >/dev/null; then
	magic=$(modinfo -F vermagic "$ko" | awk '{ print $1 }')
	[ "$magic" = "$kver" ] || die "$ko is built for '$magic', the guest kernel is $kver"
fi

# --- initramfs ------------------------------------------------------------------
initrd=$repo/build/vm/initramfs-$kver.cpio
"$here/mkinitramfs.sh" "$kroot" "$initrd" "$ko"

printf 'QEMU=%q\nKERNEL=%q\nINITRD=%q\nKVER=%q\nKO=%q\n' "$qemu" "$kernel" "$initrd" "$kver" "$ko"
