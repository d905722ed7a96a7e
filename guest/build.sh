#!/usr/bin/env bash
# guest/build.sh - build our out-of-tree kernel modules against Debian kernel
# headers, -Werror and free of warnings:
#   apple_dma     guest/ (default), for every TARGET
#   simgpu_test   tests/vm/gpu/, simgpu's guest test driver, for the
#                 kernels the VM tests boot (stable and bpo)
#   uvm_standin   tests/vm/uvm_standin/, a stand-in for NVIDIA's
#                 nvUvmInterfaceMemoryAllocSys (the UVM quirk's VM test), for
#                 the kernels the VM tests boot
#   adma_hostile  tests/vm/hostile/, a hostile guest of apple-dma-pci (the
#                 hostile-* VM scenarios), for the stable amd64 kernel
#   adma_selftest tests/vm/selftest/, the DMA API's promises from every
#                 context (the selftest* VM scenarios), stable kernels
#   dmabench      tests/vm/dmabench/, dma_map+unmap pair cost (make bench),
#                 the stable amd64 kernel
#
#   guest/build.sh [--module NAME] [TARGET...]
#                                     build (default: the module's targets)
#   guest/build.sh [--module NAME] --print-ko ARCH [SERIES]
#                                     print the .ko path for the kernel that
#                                     Debian's linux-image-ARCH resolves to
#                                     (SERIES stable, the default, or bpo),
#                                     building it first if it is missing or
#                                     older than its sources
#   guest/build.sh --list             targets and their kernel versions
#   guest/build.sh --checkpatch       checkpatch.pl --no-tree on guest/,
#                                     tests/vm/gpu/, tests/vm/hostile/ and
#                                     the coalescer test
#   guest/build.sh --dkms-tree DIR    lay out apple_dma's DKMS source tree in DIR
#
# TARGET is SERIES-ARCH: stable-amd64 stable-arm64 bpo-amd64 bpo-arm64
# newest-amd64 newest-arm64 mapphys-amd64.
# "stable" is the release's kernel (the one `apt-get download
# linux-image-ARCH` fetches; bookworm: 6.1), "bpo" the one its -backports
# suite's linux-image-ARCH depends on (the suite named after the codename in
# /etc/os-release; bookworm-backports: 6.12), "newest" the highest-versioned
# linux-headers-<kver>-ARCH any configured suite offers (rt and cloud
# flavours aside; here bookworm-security's 6.12 point releases).
# "mapphys" is a compile check only, labelled as such: the newest headers
# with struct dma_map_ops edited to mainline's >= 6.19 layout (map_phys and
# unmap_phys instead of map_page/unmap_page and map_resource/unmap_resource,
# DMA_ATTR_MMIO defined), so kconf.sh selects our map_phys code and it is
# compiled and modpost-checked; no such kernel exists here to load it into.
# Its .ko goes to build/guest/<kver>-ARCH-mapphys/.
#
# Headers are never installed: the linux-headers, -common and linux-kbuild
# packages are fetched with apt-get download and unpacked with dpkg-deb into
# ${EGPU_CACHE:-$HOME/.cache/egpu-vm}/kernels. The kbuild host tools (fixdep,
# modpost, objtool) are always the amd64 ones: they run here. arm64 package
# lists live in a private apt state under the cache, so the machine's apt
# configuration is not touched.
# Output: build/guest/<kver>-<arch>/NAME.ko and NAME.log (the build's output).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${EGPU_CACHE:-$HOME/.cache/egpu-vm}/kernels
out=$top/build/guest
all_targets=(stable-amd64 stable-arm64 bpo-amd64 bpo-arm64 newest-amd64 newest-arm64
	mapphys-amd64)
host_arch=amd64

log() { echo "guest/build.sh: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(dpkg --print-architecture)" = "$host_arch" ] ||
	die "this script runs on an amd64 Debian host"

# ---- apt access per architecture --------------------------------------

apt_opts_arm64=(
	-o "Dir::State::Lists=$cache/apt-arm64/lists"
	-o "Dir::State::status=$cache/apt-arm64/status"
	-o "Dir::Cache=$cache/apt-arm64/cache"
	-o APT::Architecture=arm64
	-o APT::Architectures=arm64
	-o APT::Sandbox::User=root
	-o Acquire::Languages=none
)

# Private arm64 lists, refreshed when the system's lists are newer.
arm64_lists() {
	local d=$cache/apt-arm64 stamp=$cache/apt-arm64/updated
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	[ -f "$d/status" ] || : >"$d/status"
	if [ ! -f "$stamp" ] ||
	   [ -n "$(find /var/lib/apt/lists -maxdepth 1 -newer "$stamp" -name '*Packages*' 2>/dev/null | head -1)" ]; then
		log "refreshing arm64 package lists (private, under $d)"
		apt-get -q "${apt_opts_arm64[@]}" update >/dev/null ||
			die "apt-get update for arm64 lists failed"
		touch "$stamp"
	fi
}

apt_cache() { # ARCH args...
	local arch=$1; shift
	if [ "$arch" = arm64 ]; then
		apt-cache "${apt_opts_arm64[@]}" "$@"
	else
		apt-cache "$@"
	fi
}

apt_download() { # ARCH DIR pkg...
	local arch=$1 dir=$2; shift 2
	mkdir -p "$dir"
	if [ "$arch" = arm64 ]; then
		(cd "$dir" && apt-get -q "${apt_opts_arm64[@]}" download "$@") >/dev/null
	else
		(cd "$dir" && apt-get -q -o APT::Sandbox::User=root download "$@") >/dev/null
	fi
}

# ---- kernel resolution ---------------------------------------------------

series_opts() { # SERIES
	local codename
	case $1 in
	stable|newest|mapphys) ;;
	bpo)
		# shellcheck disable=SC1091 # the machine's own release file
		codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
		[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
		echo "-t $codename-backports"
		;;
	*) die "unknown series '$1' (stable, bpo, newest or mapphys)" ;;
	esac
}

# kver SERIES ARCH: the kernel linux-image-ARCH depends on in SERIES.
kver() {
	local series=$1 arch=$2 img
	[ "$arch" = arm64 ] && arm64_lists
	if [ "$series" = newest ] || [ "$series" = mapphys ]; then
		img=$(apt_cache "$arch" search --names-only "^linux-headers-[0-9][^ ]*-$arch\$" 2>/dev/null |
			awk '{ print $1 }' | grep -Ev -- '-(rt|cloud)-' |
			sed 's/^linux-headers-//' | sort -V | tail -n1)
		[ -n "$img" ] || die "no linux-headers-*-$arch package known to apt"
		echo "$img"
		return
	fi
	# shellcheck disable=SC2046
	img=$(apt_cache "$arch" $(series_opts "$series") depends "linux-image-$arch" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	[ -n "$img" ] || die "cannot resolve linux-image-$arch ($series); run scripts/apt-sources.sh and apt-get update?"
	echo "${img#linux-image-}"
}

# Depends of the candidate of PKG, one name a line.
pkg_depends() { # ARCH SERIES PKG
	# shellcheck disable=SC2046
	apt_cache "$1" $(series_opts "$2") show --no-all-versions "$3" 2>/dev/null |
		awk -F': ' '$1 == "Depends" { print $2; exit }' |
		tr ',' '\n' | sed 's/^ *//; s/[ (:].*//' | grep -v '^$' || true
}

# fetch SERIES ARCH KVER: unpack headers + common + kbuild; prints the tree.
fetch() {
	local series=$1 arch=$2 kv=$3
	local tree=$cache/tree/$kv-$arch debs=$cache/debs/$kv-$arch
	local hdr=linux-headers-$kv common kbuild deb
	if [ -f "$tree/.complete" ]; then
		echo "$tree"
		return
	fi
	log "fetching headers for $kv ($arch)"
	common=$(pkg_depends "$arch" "$series" "$hdr" | grep -- '-common' | head -1)
	kbuild=$(pkg_depends "$arch" "$series" "$hdr" | grep '^linux-kbuild-' | head -1)
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		die "cannot find the -common/linux-kbuild dependencies of $hdr ($arch)"
	fi
	rm -rf "$debs" "$tree"
	apt_download "$arch" "$debs" "$hdr" || die "apt-get download $hdr ($arch) failed"
	apt_download "$arch" "$debs" "$common" || die "apt-get download $common failed"
	# the host tools: amd64, from the machine's own lists
	apt_download "$host_arch" "$debs" "$kbuild:$host_arch" ||
		die "apt-get download $kbuild:$host_arch failed"
	mkdir -p "$tree"
	for deb in "$debs"/*.deb; do
		dpkg-deb -x "$deb" "$tree"
	done
	# The flavour Makefile includes the -common one by absolute path.
	sed -i "s|^include /usr/src/|include $tree/usr/src/|" "$tree/usr/src/$hdr/Makefile"
	[ -x "$tree/usr/src/$hdr/scripts/basic/fixdep" ] ||
		die "$hdr: scripts/ does not resolve to linux-kbuild's tools"
	touch "$tree/.complete"
	echo "$tree"
}

# ---- building ------------------------------------------------------------

# module NAME: the module's source directory, the repository files outside
# it that its Kbuild reaches by relative path, and its default targets.
module() {
	name=$1
	case $name in
	apple_dma)
		mod_dir=guest
		mod_extra=(protocol/apple_dma.h)
		mod_targets=("${all_targets[@]}")
		;;
	simgpu_test)
		mod_dir=tests/vm/gpu
		mod_extra=(host/simgpu_hw.h)
		mod_targets=(stable-amd64 stable-arm64 bpo-amd64 bpo-arm64)
		;;
	uvm_standin)
		mod_dir=tests/vm/uvm_standin
		mod_extra=()
		mod_targets=(stable-amd64 stable-arm64 bpo-amd64 bpo-arm64)
		;;
	adma_hostile)
		mod_dir=tests/vm/hostile
		mod_extra=(protocol/apple_dma.h)
		mod_targets=(stable-amd64)
		;;
	adma_selftest)
		mod_dir=tests/vm/selftest
		mod_extra=()
		mod_targets=(stable-amd64 stable-arm64)
		;;
	dmabench)
		mod_dir=tests/vm/dmabench
		mod_extra=()
		mod_targets=(stable-amd64)
		;;
	*) die "unknown module '$name' (apple_dma, simgpu_test, uvm_standin, adma_hostile, adma_selftest or dmabench)" ;;
	esac
}

# The module's sources, relative to the top of the repository.
sources() {
	(cd "$top" && find "$mod_dir" -name '*.[ch]' -o -name Kbuild -o -name Makefile -o -name '*.sh')
	[ ${#mod_extra[@]} -eq 0 ] || printf '%s\n' "${mod_extra[@]}"
}

# stage OBJ: the sources laid out as in the repository (M= builds in place).
stage() {
	local obj=$1
	rm -rf "$obj"
	mkdir -p "$obj"
	sources | (cd "$top" && cpio -pdm --quiet "$obj")
}

# stale KO: missing, or older than one of its sources.
stale() {
	local ko=$1 f
	[ -f "$ko" ] || return 0
	while read -r f; do
		[ "$top/$f" -nt "$ko" ] && return 0
	done < <(sources)
	return 1
}

ko_path() { # KVER ARCH
	echo "$out/$1-$2/$name.ko"
}

build_one() { # TARGET -> prints "TARGET KVER KO"
	local target=$1 series arch kv tree kdir obj ko logf
	series=${target%-*}
	arch=${target##*-}
	case $arch in amd64|arm64) ;; *) die "unknown target '$target'" ;; esac
	kv=$(kver "$series" "$arch") || return 1
	tree=$(fetch "$series" "$arch" "$kv") || return 1
	local label=$arch
	if [ "$series" = mapphys ]; then
		tree=$(mapphys_tree "$tree" "$kv") || return 1
		label=$arch-mapphys
	fi
	kdir=$tree/usr/src/linux-headers-$kv
	obj=$out/obj/$kv-$label/$name
	ko=$(ko_path "$kv" "$label")
	logf=${ko%.ko}.log
	stage "$obj"
	mkdir -p "$(dirname "$ko")"
	local mk=(make -C "$kdir" M="$obj/$mod_dir" KCFLAGS=-Werror modules)
	if [ "$arch" = arm64 ]; then
		mk+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	fi
	log "building $name for $target: $kv"
	if ! "${mk[@]}" -j"$(nproc)" >"$logf" 2>&1; then
		cat "$logf" >&2
		log "FAILED: $name $target ($kv), log in $logf"
		return 1
	fi
	if grep -qi 'warning' "$logf"; then
		grep -i -B2 -A4 'warning' "$logf" >&2
		log "FAILED: $name $target ($kv) has warnings, log in $logf"
		return 1
	fi
	cp "$obj/$mod_dir/$name.ko" "$ko"
	local vm
	vm=$(modinfo -F vermagic "$ko")
	[ "${vm%% *}" = "$kv" ] || { log "FAILED: $ko has vermagic '$vm'"; return 1; }
	grep '^#define ADMA_HAVE' "$obj/$mod_dir/adma_kconf.h" 2>/dev/null | sed "s/^/  $kv-$arch: /" >&2 || true
	echo "$target $kv $ko"
}

# mapphys_tree TREE KVER: a copy of TREE (hard links) whose dma_map_ops has
# mainline's >= 6.19 shape; prints it. Edited files are written anew (sed -i
# and perl -i replace the file), so TREE itself is never changed.
mapphys_tree() {
	local tree=$1 kv=$2 copy=$1-mapphys ops api
	if [ -f "$copy/.complete" ]; then
		echo "$copy"
		return
	fi
	log "making the map_phys overlay of $kv (a compile check, not a real >= 6.19 tree)"
	rm -rf "$copy"
	cp -al "$tree" "$copy"
	rm -f "$copy/.complete"
	sed -i "s|include $tree/usr/src/|include $copy/usr/src/|" "$copy/usr/src/linux-headers-$kv/Makefile"
	ops=$(find "$copy/usr/src" -path '*/include/linux/dma-map-ops.h' | head -n1)
	api=$(find "$copy/usr/src" -path '*/include/linux/dma-mapping.h' | head -n1)
	[ -n "$ops" ] && [ -n "$api" ] || die "no dma-map-ops.h/dma-mapping.h under $copy"
	perl -0pi -e '
		s/dma_addr_t \(\*map_page\)\([^;]*;/dma_addr_t (*map_phys)(struct device *dev, phys_addr_t phys,\n\t\t\tsize_t size, enum dma_data_direction dir,\n\t\t\tunsigned long attrs);/s or die "no map_page\n";
		s/void \(\*unmap_page\)\(/void (*unmap_phys)(/ or die "no unmap_page\n";
		s/\tdma_addr_t \(\*map_resource\)\([^;]*;\n//s or die "no map_resource\n";
		s/\tvoid \(\*unmap_resource\)\([^;]*;\n//s or die "no unmap_resource\n";
	' "$ops" || die "cannot edit $ops into the map_phys layout"
	grep -q 'define DMA_ATTR_MMIO' "$api" ||
		perl -0pi -e 's/(#define DMA_ATTR_PRIVILEGED[^\n]*\n)/$1\n\/* mainline >= 6.19 (overlay for a compile check) *\/\n#define DMA_ATTR_MMIO\t\t(1UL << 10)\n/ or die "no DMA_ATTR_PRIVILEGED\n"' "$api" ||
		die "cannot add DMA_ATTR_MMIO to $api"
	touch "$copy/.complete"
	echo "$copy"
}

# ---- checkpatch ----------------------------------------------------------

checkpatch_path() {
	local dir=$cache/checkpatch src pkg
	if [ -x "$dir/scripts/checkpatch.pl" ]; then
		echo "$dir/scripts/checkpatch.pl"
		return
	fi
	# linux-source-X carries the kernel tree as a tarball: take three files
	pkg=$(apt-cache search --names-only '^linux-source-[0-9.]+$' | awk '{print $1}' | sort -V | tail -1)
	[ -n "$pkg" ] || die "no linux-source package found for checkpatch.pl"
	log "fetching checkpatch.pl from $pkg (large download, cached)"
	rm -rf "$dir" && mkdir -p "$dir/deb"
	apt_download "$host_arch" "$dir/deb" "$pkg" || die "apt-get download $pkg failed"
	src=${pkg#linux-source-}
	dpkg-deb --fsys-tarfile "$dir"/deb/*.deb |
		tar -xO "./usr/src/linux-source-$src.tar.xz" |
		tar -xJ -C "$dir" --strip-components=1 \
			"linux-source-$src/scripts/checkpatch.pl" \
			"linux-source-$src/scripts/spelling.txt" \
			"linux-source-$src/scripts/const_structs.checkpatch"
	rm -rf "$dir/deb"
	[ -x "$dir/scripts/checkpatch.pl" ] || die "checkpatch.pl not found in $pkg"
	echo "$dir/scripts/checkpatch.pl"
}

run_checkpatch() {
	local cp files rc=0
	cp=$(checkpatch_path)
	mapfile -t files < <(cd "$top" && find guest tests/vm/gpu tests/vm/hostile tests/vm/selftest tests/vm/dmabench -name '*.[ch]' | sort)
	cd "$top"
	# the kernel's types are not ours to use in code shared with userspace
	perl "$cp" --no-tree --terse --show-types --strict \
		--ignore PREFER_KERNEL_TYPES,SPDX_LICENSE_TAG \
		-f "${files[@]}" || rc=1
	# cmocka's API is CamelCase
	perl "$cp" --no-tree --terse --show-types --strict \
		--ignore PREFER_KERNEL_TYPES,SPDX_LICENSE_TAG,CAMELCASE \
		-f tests/unit/test_coalesce.c || rc=1
	# the UVM stand-in exports NVIDIA's CamelCase symbol, under its name
	perl "$cp" --no-tree --terse --show-types --strict \
		--ignore SPDX_LICENSE_TAG,CAMELCASE \
		-f tests/vm/uvm_standin/*.[ch] || rc=1
	return $rc
}

# ---- main ----------------------------------------------------------------

if [ "${1:-}" = --module ]; then
	module "${2:?--module NAME}"
	shift 2
else
	module apple_dma
fi

case ${1:-} in
--print-ko)
	arch=${2:?--print-ko ARCH [SERIES]}
	series=${3:-stable}
	kv=$(kver "$series" "$arch") || exit 1
	ko=$(ko_path "$kv" "$arch")
	if stale "$ko"; then
		build_one "$series-$arch" >/dev/null || exit 1
	fi
	echo "$ko"
	exit 0
	;;
--list)
	for t in "${all_targets[@]}"; do
		k=$(kver "${t%-*}" "${t##*-}") || exit 1
		echo "$t $k"
	done
	exit 0
	;;
--checkpatch)
	run_checkpatch
	exit $?
	;;
--dkms-tree)
	dst=${2:?--dkms-tree DIR}
	[ "$name" = apple_dma ] || die "--dkms-tree lays out apple_dma only"
	stage "$dst.tmp"
	rm -rf "$dst"
	mkdir -p "$dst"
	cp -a "$dst.tmp/guest/." "$dst/"
	cp -a "$dst.tmp/protocol" "$dst/protocol"
	cp "$here/dkms.conf" "$dst/"
	cp "$here/apple_dma.conf" "$dst/"	# softdep.sh installs it
	rm -rf "$dst.tmp"
	echo "$dst"
	exit 0
	;;
-h|--help)
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
esac

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${mod_targets[@]}")
built=() failed=()
for t in "${targets[@]}"; do
	if line=$(build_one "$t"); then
		built+=("$line")
	else
		failed+=("$t")
	fi
done
echo "built:"
for b in "${built[@]}"; do echo "  $b"; done
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: $name ${failed[*]}"
	exit 1
fi
