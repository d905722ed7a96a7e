#!/usr/bin/env bash
# tests/vm/mkinitramfs.sh [--arch amd64|arm64] [--busybox FILE] [--ko FILE]...
#                          KERNEL_ROOT OUT [APPLE_DMA_KO]
#   — the test initramfs.
#
# KERNEL_ROOT is what tests/vm/kernel.sh prints. The archive holds:
#   /init                  tests/vm/init (busybox sh)
#   /bin/busybox + applets FILE (default /bin/busybox: busybox-static);
#                          the applet links are those /bin/busybox lists (an
#                          arm64 FILE cannot run here to list its own; both
#                          are Debian's busybox-static, one configuration)
#   /bin/workload          tests/vm/workload.c, gcc -static (arm64:
#                          aarch64-linux-gnu-gcc, libc6-dev-arm64-cross)
#   /lib/modules/*.ko      nvme.ko and everything modules.dep says it needs,
#                          /lib/modules/order = load order (dependencies first);
#                          ahci, xhci-pci, usb-storage, sd_mod likewise in
#                          /lib/modules/order.blk (loaded with egpu.blk=1);
#                          compressed modules (6.12: .ko.xz; .ko.zst, .ko.gz)
#                          are stored uncompressed, for busybox insmod
#   /bin/quirkcheck        tests/vm/quirkcheck.c, built like the workload
#   /bin/quirks.sh         tests/vm/quirks.sh (the quirk steps of /init)
#   /bin/blkbench          tests/vm/blkbench.c, built like the workload, and
#   /bin/benchguest.sh     tests/vm/benchguest.sh (make bench's VM steps)
#   /lib/modules/apple_dma.ko  when given
#   /lib/modules/NAME.ko   each --ko FILE (e.g. simgpu_test.ko, the GPU test
#                          driver); /init loads those itself when asked
# Rebuilt only when an input is newer than OUT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage="usage: $0 [--arch amd64|arm64] [--busybox FILE] [--ko FILE]... KERNEL_ROOT OUT [APPLE_DMA_KO]"
arch=amd64 busybox=/bin/busybox
extra_kos=()
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) arch=${2:?$usage}; shift 2 ;;
	--busybox) busybox=${2:?$usage}; shift 2 ;;
	--ko) extra_kos+=("${2:?$usage}"); shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "$usage" >&2; exit 2; }
kroot=$1 out=$2 ko=${3:-}
die() { echo "tests/vm/mkinitramfs.sh: $*" >&2; exit 1; }
case "$arch" in
amd64) cc=gcc wl_name=workload elf=x86-64 ccpkg="gcc, libc6-dev" ;;
arm64) cc=aarch64-linux-gnu-gcc wl_name=workload-arm64 elf=AArch64
	ccpkg="gcc-aarch64-linux-gnu, libc6-dev-arm64-cross" ;;
*) die "unknown architecture '$arch' (amd64 or arm64)" ;;
esac

kver=$(ls "$kroot/lib/modules")
[ "$(echo "$kver" | wc -l)" = 1 ] || die "$kroot/lib/modules holds more than one kernel"
mods=$kroot/lib/modules/$kver
# the applet list comes from the machine's own busybox
[ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter' ||
	die "no static /bin/busybox (Debian package busybox-static: scripts/deps.sh vm)"
[ -x "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter' ||
	die "no static $busybox"
readelf -h "$busybox" | grep -qi "Machine:.*$elf" || die "$busybox is not an $arch program"
[ -z "$ko" ] || [ -f "$ko" ] || die "no $ko"
for k in "${extra_kos[@]}"; do [ -f "$k" ] || die "no $k"; done

outdir=$(dirname "$out")
mkdir -p "$outdir"
wl=$outdir/$wl_name
if [ ! -x "$wl" ] || [ "$here/workload.c" -nt "$wl" ]; then
	"$cc" -static -O2 -Wall -Wextra -pthread -o "$wl" "$here/workload.c" ||
		die "cannot build the workload ($ccpkg: scripts/deps.sh vm)"
fi
qc=$outdir/quirkcheck-$arch
if [ ! -x "$qc" ] || [ "$here/quirkcheck.c" -nt "$qc" ]; then
	"$cc" -static -O2 -Wall -Wextra -Werror -o "$qc" "$here/quirkcheck.c" ||
		die "cannot build quirkcheck ($ccpkg: scripts/deps.sh vm)"
fi

bb=$outdir/blkbench-$arch
if [ ! -x "$bb" ] || [ "$here/blkbench.c" -nt "$bb" ]; then
	"$cc" -static -O2 -Wall -Wextra -Werror -pthread -o "$bb" "$here/blkbench.c" ||
		die "cannot build blkbench ($ccpkg: scripts/deps.sh vm)"
fi

inputs=("$here/init" "$bb" "$here/benchguest.sh" "$here/mkinitramfs.sh" "$here/mkcpio.py" "$busybox" "$wl" "$qc" "$here/quirks.sh" "$mods/modules.dep" ${ko:+"$ko"} "${extra_kos[@]}")
fresh=1
[ -f "$out" ] || fresh=0
for f in "${inputs[@]}"; do [ "$f" -nt "$out" ] && fresh=0; done
# the same archive for another .ko (or none) is not fresh either
[ "$(cat "$out.ko" 2>/dev/null)" = "${ko:-none} $busybox${extra_kos[*]:+ ${extra_kos[*]}}" ] || fresh=0
[ "$fresh" = 1 ] && exit 0

# modules.dep: "kernel/a.ko: kernel/b.ko kernel/c.ko" - load deps first;
# names carry the compression suffix (6.12: kernel/a.ko.xz)
declare -A seen=()
order=()
add_module() {
	local m=$1 deps d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	deps=$(awk -v m="$m:" '$1 == m { $1 = ""; print; exit }' "$mods/modules.dep")
	grep -q "^$m:" "$mods/modules.dep" || die "$m is not in $mods/modules.dep"
	for d in $deps; do add_module "$d"; done
	order+=("$m")
}
nvme=$(awk -F: '$1 ~ /^kernel\/drivers\/nvme\/host\/nvme\.ko(\.(xz|zst|gz))?$/ { print $1; exit }' "$mods/modules.dep")
[ -n "$nvme" ] || die "no kernel/drivers/nvme/host/nvme.ko[.xz|.zst|.gz] in $mods/modules.dep"
add_module "$nvme"

# the other disk types apple-dma-pci may manage (scenarios ahci, xhci):
# /lib/modules/order.blk, loaded by /init only with egpu.blk=1
nbase=${#order[@]}
for want in ata/ahci usb/host/xhci-pci usb/storage/usb-storage scsi/sd_mod; do
	m=$(awk -F: -v w="kernel/drivers/$want.ko" 'index($1, w) == 1 { print $1; exit }' "$mods/modules.dep")
	[ -n "$m" ] || die "no kernel/drivers/$want.ko in $mods/modules.dep"
	add_module "$m"
done

# install_ko SRC DIR: SRC into DIR as NAME.ko, uncompressed; prints NAME.ko
install_ko() {
	local src=$1 name
	name=$(basename "$src")
	case $name in
	*.ko) cp "$src" "$2/$name" ;;
	*.ko.xz) name=${name%.xz}; xz -dc "$src" >"$2/$name" || die "xz -d $src failed (Debian package xz-utils)" ;;
	*.ko.zst) name=${name%.zst}; zstd -qdc "$src" >"$2/$name" || die "zstd -d $src failed (Debian package zstd)" ;;
	*.ko.gz) name=${name%.gz}; gzip -dc "$src" >"$2/$name" || die "gzip -d $src failed" ;;
	*) die "$src: not a kernel module name" ;;
	esac
	echo "$name"
}

stage=$(mktemp -d "$outdir/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules,tmp}
cp "$busybox" "$stage/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
cp "$wl" "$stage/bin/workload"
cp "$qc" "$stage/bin/quirkcheck"
cp "$here/quirks.sh" "$stage/bin/quirks.sh"
chmod 755 "$stage/bin/quirks.sh"
cp "$bb" "$stage/bin/blkbench"
cp "$here/benchguest.sh" "$stage/bin/benchguest.sh"
chmod 755 "$stage/bin/benchguest.sh"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
for m in "${order[@]:0:$nbase}"; do
	install_ko "$mods/$m" "$stage/lib/modules" >>"$stage/lib/modules/order"
done
for m in "${order[@]:$nbase}"; do
	install_ko "$mods/$m" "$stage/lib/modules" >>"$stage/lib/modules/order.blk"
done
[ -z "$ko" ] || cp "$ko" "$stage/lib/modules/apple_dma.ko"
for k in "${extra_kos[@]}"; do cp "$k" "$stage/lib/modules/"; done

py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$here/mkcpio.py" "$out" "$stage" dev/console:c:5:1:600 dev/null:c:1:3:666
echo "${ko:-none} $busybox${extra_kos[*]:+ ${extra_kos[*]}}" >"$out.ko"
echo "vm: initramfs $out ($kver, modules: $(tr '\n' ' ' <"$stage/lib/modules/order")${ko:+apple_dma.ko}${extra_kos[*]:+ $(for k in "${extra_kos[@]}"; do basename "$k"; done | tr '\n' ' ')})" >&2
