#!/usr/bin/env bash
# tests/vm/kernel.sh [--print-version] [amd64|arm64] [stable|bpo]
#   — the Debian guest kernel, cached.
#
# The kernel is the one Debian's meta-package linux-image-ARCH depends on,
# the same discovery guest/build.sh uses for the headers, so the module is
# built for exactly this kernel:
#   stable (default)  the machine's release (bookworm: linux-image-6.1.0-N-ARCH)
#   bpo               its -backports suite (bookworm-backports: 6.12), the
#                     suite name derived from the release's codename
# amd64 (the default) uses the machine's apt lists, arm64 the private arm64
# lists guest/build.sh keeps for its cross builds (debarch.sh).
# The package is fetched with `apt-get download` (never installed), unpacked
# with dpkg-deb -x, and depmod is run on the unpacked tree:
#   ${EGPU_CACHE:-~/.cache/egpu-vm}/kernels/<kver>/root/
#       boot/vmlinuz-<kver>, lib/modules/<kver>/{kernel/,modules.dep}
# (6.12's modules are .ko.xz: tests/vm/mkinitramfs.sh unpacks them.)
# stdout: that root (or, with --print-version, <kver>, e.g. 6.1.0-56-amd64).
# Without apt (or without a network), a single cached kernel of the series
# is used as is.
set -euo pipefail

arch=amd64
series=stable
print_version=0
for a in "$@"; do
	case "$a" in
	--print-version) print_version=1 ;;
	amd64|arm64) arch=$a ;;
	stable|bpo) series=$a ;;
	*) echo "usage: tests/vm/kernel.sh [--print-version] [amd64|arm64] [stable|bpo]" >&2; exit 2 ;;
	esac
done
cache=${EGPU_CACHE:-$HOME/.cache/egpu-vm}/kernels
die() { echo "tests/vm/kernel.sh: $*" >&2; exit 1; }
# shellcheck source=debarch.sh
. "$(dirname "$0")/debarch.sh"

pkg=''
sopts=()
if command -v apt-cache >/dev/null; then
	so=$(deb_series_opts "$series") || die "no apt suite for the $series series"
	[ -z "$so" ] || mapfile -t sopts <<<"$so"
	pkg=$(deb_apt_cache "$arch" "${sopts[@]}" depends "linux-image-$arch" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
fi
if [ -n "$pkg" ]; then
	kver=${pkg#linux-image-}
else
	# offline: take the one kernel of the series already cached for this
	# arch (Debian's backports and point-release kernels carry "+debN")
	cached=$(cd "$cache" 2>/dev/null && ls -d -- [0-9]*-"$arch" 2>/dev/null || true)
	if [ "$series" = bpo ]; then
		cached=$(echo "$cached" | grep -F '+' || true)
	else
		cached=$(echo "$cached" | grep -vF '+' || true)
	fi
	[ "$(echo "$cached" | grep -c .)" = 1 ] ||
		die "apt knows no linux-image-$arch ($series; run apt-get update) and the cache holds '${cached:-nothing}'"
	kver=$cached
	pkg=linux-image-$kver
fi
if [ "$print_version" = 1 ]; then echo "$kver"; exit 0; fi

dir=$cache/$kver
root=$dir/root
if [ -f "$dir/stamp" ] && [ -f "$root/boot/vmlinuz-$kver" ] &&
	[ -f "$root/lib/modules/$kver/modules.dep" ]; then
	echo "$root"
	exit 0
fi

mkdir -p "$dir"
if command -v flock >/dev/null; then exec 9>"$dir/lock"; flock 9; fi
deb=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	echo "kernel: downloading $pkg" >&2
	deb_download "$arch" "$dir" "${sopts[@]}" "$pkg" || true
	deb=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	[ -n "$deb" ] || die "apt-get download $pkg failed"
fi
echo "kernel: unpacking $(basename "$deb")" >&2
rm -rf "$root" "$dir/stamp"
dpkg-deb -x "$deb" "$root"
[ -f "$root/boot/vmlinuz-$kver" ] || die "$deb holds no boot/vmlinuz-$kver"
command -v depmod >/dev/null || die "no depmod (Debian package kmod: scripts/deps.sh vm)"
depmod -b "$root" "$kver"
basename "$deb" >"$dir/stamp"
echo "$root"
