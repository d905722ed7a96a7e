#!/usr/bin/env bash
# launcher/image/build.sh - the recipe behind `egpu-vm image`: a Debian guest
# with apple_dma installed through DKMS, built by mmdebstrap from Debian's
# packages (the mirror is the one this machine's apt sources name).
#
#   build.sh --repo DIR --cache DIR [--arch amd64|arm64] [--suite SUITE]
#            [--kernel stable|bpo] [--size SIZE] [--user NAME] [-o FILE]
#
# Output (raw, no partition table, no bootloader: the VM boots it with
# -kernel/-initrd, which qboot and QEMU's arm64 virt do without firmware):
#   FILE          ext4 root filesystem, label egpu-root
#   FILE.vmlinuz  FILE.initrd  the image's own kernel and initramfs
# Built once per content: the cache key covers this recipe, the DKMS tree,
# the options and the candidate versions of the kernel packages; the result
# lives in CACHE/built-images/KEY/ and FILE is a sparse copy of it.
# Without -o the cached paths are printed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
log() { echo "egpu-vm image: $*" >&2; }
die() { log "$*"; exit 1; }

repo='' cache='' arch=amd64 suite='' kernel=stable size=4G user=egpu out=''
while [ $# -gt 0 ]; do
	case $1 in
	--repo) repo=${2:?}; shift ;;
	--cache) cache=${2:?}; shift ;;
	--arch) arch=${2:?}; shift ;;
	--suite) suite=${2:?}; shift ;;
	--kernel) kernel=${2:?}; shift ;;
	--size) size=${2:?}; shift ;;
	--user) user=${2:?}; shift ;;
	-o) out=${2:?}; shift ;;
	*) die "unknown argument '$1'" ;;
	esac
	shift
done
[ -x "$repo/guest/build.sh" ] || die "--repo: no guest/build.sh in '$repo'"
[ -n "$cache" ] || die "--cache DIR is required"
case $arch in amd64|arm64) ;; *) die "--arch: amd64 or arm64, not '$arch'" ;; esac
case $kernel in stable|bpo) ;; *) die "--kernel: stable or bpo, not '$kernel'" ;; esac
[[ $user =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || die "--user: '$user' is not a valid user name"
[ "$user" != root ] || die "--user: root exists already; name another user"
if [ -z "$suite" ]; then
	# shellcheck disable=SC1091 # the machine's own release file
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$suite" ] || die "no VERSION_CODENAME in /etc/os-release: give --suite"
fi
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (apt-get install mmdebstrap)"
command -v mke2fs >/dev/null || die "mke2fs is missing (apt-get install e2fsprogs)"
[ "$(id -u)" = 0 ] || die "mmdebstrap's root mode needs root"
# A foreign guest runs its maintainer scripts and the DKMS build under
# qemu-user; without binfmt for it mmdebstrap fails late and obscurely.
if [ "$arch" != "$(dpkg --print-architecture)" ] &&
   [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
	die "--arch $arch on $(dpkg --print-architecture) needs qemu-user binfmt (apt-get install qemu-user-static binfmt-support), or build on an $arch host"
fi

# mirror SUITE: the URI of the first deb entry of the machine's apt sources
# (one-line or deb822) that carries SUITE; empty if none does.
mirror() {
	local want=$1 f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$want" '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++
			if ($i ~ /^\[/ || $i ~ /\]$/) i++
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$want" 'function flush() {
				if (deb && uri != "" && (" " suites " ") ~ (" " s " ")) { print uri; exit }
				deb = 0; uri = ""; suites = "" }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { deb = ($0 ~ /[: ]deb( |$)/) }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
			END { flush() }' "$f"
	done
}
main_uri=$(mirror "$suite" | head -1)
[ -n "$main_uri" ] || die "no apt source for suite '$suite' on this machine (/etc/apt/sources.list*)"
sec_uri=$(mirror "$suite-security" | head -1)
bpo_uri=$(mirror "$suite-backports" | head -1)
sources=("deb $main_uri $suite main")
[ -n "$sec_uri" ] && sources+=("deb $sec_uri $suite-security main")
if [ "$kernel" = bpo ]; then
	[ -n "$bpo_uri" ] || die "--kernel bpo: no apt source for $suite-backports on this machine"
	sources+=("deb $bpo_uri $suite-backports main")
fi

case $arch in
amd64) console=ttyS0 ;;
arm64) console=ttyAMA0 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/egpu-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$repo/guest/build.sh" --dkms-tree "$work/apple_dma-1.0" >/dev/null ||
	die "guest/build.sh --dkms-tree failed"

# The content key. Kernel versions: the host's lists when they are the
# guest's architecture and suite, else the key has the suite name only.
kvers=''
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
	kvers=$(apt-cache policy "linux-image-$arch" "linux-headers-$arch" 2>/dev/null |
		awk '/Candidate:/ { print $2 }' | tr '\n' ' ')
fi
key=$( {
	echo "recipe 1 arch=$arch suite=$suite kernel=$kernel size=$size user=$user"
	echo "sources ${sources[*]} kernels $kvers"
	(cd "$here" && find . -type f ! -name '*~' ! -name '*.md' ! -name '*.lock' -print0 | sort -z | xargs -0 sha256sum)
	(cd "$work" && find apple_dma-1.0 -type f -print0 | sort -z | xargs -0 sha256sum)
} | sha256sum | cut -c1-32)
dst=$cache/built-images/$key
mkdir -p "$cache/built-images"
# one build per key at a time; a second caller waits, then finds it cached
exec 9>"$dst.lock"
flock 9

if [ ! -f "$dst/.complete" ]; then
	log "building $arch $suite ($kernel kernel) into $dst"
	root=$work/root
	pins=$work/pins
	# bpo: the kernel, its headers and their build tools from -backports
	: >"$pins"
	if [ "$kernel" = bpo ]; then
		printf 'Package: linux-* firmware-*\nPin: release n=%s-backports\nPin-Priority: 990\n' \
			"$suite" >"$pins"
	fi
	pkgs=systemd-sysv,udev,kmod,initramfs-tools,linux-image-$arch,linux-headers-$arch
	pkgs+=,dkms,make,gcc,libc6-dev,login,passwd,util-linux,e2fsprogs,procps
	export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
	mmdebstrap --mode=root --variant=minbase --format=directory \
		--architectures="$arch" --include="$pkgs" \
		--aptopt='Acquire::Languages "none"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--setup-hook="mkdir -p \"\$1/etc/apt/preferences.d\" && cp $pins \"\$1/etc/apt/preferences.d/egpu-kernel\"" \
		--customize-hook="$here/customize.sh \"\$1\" $work/apple_dma-1.0 $user $console $here" \
		"$suite" "$root" "${sources[@]}" >&2 ||
		die "mmdebstrap failed"
	kv=$(ls "$root/lib/modules")
	[ "$(echo "$kv" | wc -l)" = 1 ] || die "expected one kernel in the image, found: $kv"
	rm -rf "$dst.tmp"
	mkdir -p "$dst.tmp"
	cp "$root/boot/vmlinuz-$kv" "$dst.tmp/vmlinuz"
	cp "$root/boot/initrd.img-$kv" "$dst.tmp/initrd.img"
	echo "$kv" >"$dst.tmp/kernel-version"
	# the filesystem UUID from the key: the same inputs, the same UUID
	uuid=$(echo "$key" | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
	mke2fs -q -t ext4 -L egpu-root -U "$uuid" -E "hash_seed=$uuid" \
		-d "$root" "$dst.tmp/rootfs.img" "$size" >&2 || die "mke2fs failed (--size $size too small?)"
	touch "$dst.tmp/.complete"
	rm -rf "$dst"
	mv "$dst.tmp" "$dst"
	# ~1 GiB each: keep this one and the newest other finished build
	# shellcheck disable=SC2012 # names are hex keys
	ls -1dt "$cache"/built-images/*/.complete 2>/dev/null | tail -n +3 |
	while read -r old; do
		old=${old%/.complete}
		log "removing the older build ${old##*/}"
		rm -rf "$old" "$old.lock"
	done
else
	log "cached: $dst"
fi

if [ -n "$out" ]; then
	cp --sparse=always "$dst/rootfs.img" "$out"
	cp "$dst/vmlinuz" "$out.vmlinuz"
	cp "$dst/initrd.img" "$out.initrd"
	echo "$out"
	echo "$out.vmlinuz"
	echo "$out.initrd"
else
	echo "$dst/rootfs.img"
	echo "$dst/vmlinuz"
	echo "$dst/initrd.img"
fi
log "boot: -kernel KERNEL -initrd INITRD -append 'root=LABEL=egpu-root rw console=$console'"
