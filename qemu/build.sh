#!/usr/bin/env bash
# qemu/build.sh [--print-bindir|--pristine] — build QEMU 10.0.x with our device, cached.
# (--pristine only imports the upstream tree and prints the bare git dir whose
#  tag "pristine" holds it: qemu/check-patches.sh applies the series there.)
#
# Source: the newest 10.0.x upstream tarball Debian ships (apt-get source
# --tar-only: the "+ds" orig tarball, i.e. upstream minus firmware blobs), or
# the QEMU tree named by QEMU_SRC (e.g. an upstream checkout on a Mac), which
# is copied and never modified. Debian's own patches are not applied, so
# Linux and macOS build the same upstream code and one patch series fits both.
#
# Our files go into the QEMU tree like this:
#   qemu/{hw,include,tests}/**  -> same relative path (qemu/hw/misc/x.c -> hw/misc/x.c)
#   host/**/*.{c,h}, protocol/**/*.h -> hw/misc/apple-dma/ (relative path kept);
#                                  our meson rules compile them from there
#   dext/core/*, tests/iokit-shim/*, shim/IOKit/** -> hw/misc/apple-dma/{dext-core,
#                                  iokit-shim,shim/IOKit}/ (backend=dext; off macOS
#                                  over the IOKit test double)
#   qemu/patches/*.patch        -> applied in name order (git apply, -p1)
#
# Cache, under ${EGPU_CACHE:-~/.cache/egpu-vm}/qemu/<version>[-local]/:
#   git/    bare repo; tag "pristine" is the unpacked upstream tree
#   src/    work tree = pristine + patches + our files. Only files whose
#           content changed are rewritten, so ninja stays incremental.
#   build/  meson build dir; repo's build/qemu links here
#   stamp   key of the last good build: version + sha256 of qemu/ host/ protocol/
# Status goes to stderr; stdout gets the build dir: qemu-system-{x86_64,aarch64}
# and tests/qtest/<name> (run one: cd DIR && QTEST_QEMU_BINARY=./qemu-system-x86_64
# tests/qtest/<name> --tap -k). Firmware comes from Debian's packages through
# --firmwarepath, so -L is not needed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${EGPU_CACHE:-$HOME/.cache/egpu-vm}/qemu
print_only=0
pristine_only=0
case "${1:-}" in
'') ;;
--print-bindir) print_only=1 ;;
--pristine) pristine_only=1 ;;
*) echo "usage: qemu/build.sh [--print-bindir|--pristine]" >&2; exit 2 ;;
esac

say() { echo "qemu: $*" >&2; }
die() { echo "qemu/build.sh: $*" >&2; exit 1; }

# --- which QEMU -------------------------------------------------------------
if [ -n "${QEMU_SRC:-}" ]; then
	QEMU_SRC=$(cd "$QEMU_SRC" 2>/dev/null && pwd) || die "QEMU_SRC: no such directory"
	if [ ! -f "$QEMU_SRC/VERSION" ] || [ ! -x "$QEMU_SRC/configure" ] || [ ! -f "$QEMU_SRC/hw/misc/edu.c" ]; then
		die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree (no VERSION, configure, hw/misc/edu.c)"
	fi
	[ -f "$QEMU_SRC/subprojects/keycodemapdb/README" ] ||   # configure runs offline
		die "QEMU_SRC lacks subprojects: run 'meson subprojects download' there, or use a release tarball"
	version=$(cat "$QEMU_SRC/VERSION")
	case "$version" in 10.0.*) ;; *) die "QEMU_SRC is QEMU $version; this project builds 10.0.x" ;; esac
	root=$cache/$version-local
	# re-imported when that tree moves to another commit (uncommitted edits there are not seen)
	origin="$QEMU_SRC $(git -C "$QEMU_SRC" rev-parse HEAD 2>/dev/null || echo tarball)"
else
	command -v apt-cache >/dev/null || die "no apt here: set QEMU_SRC to a QEMU 10.0.x source tree"
	debver=''
	for v in $(apt-cache showsrc qemu 2>/dev/null | awk '/^Version:/ { print $2 }'); do
		case "${v#*:}" in 10.0.*) ;; *) continue ;; esac
		if [ -z "$debver" ] || dpkg --compare-versions "$v" gt "$debver"; then debver=$v; fi
	done
	[ -n "$debver" ] || die "apt offers no qemu 10.0.x source; run scripts/deps.sh qemu (adds deb-src), or set QEMU_SRC"
	upver=${debver#*:}; upver=${upver%-*}   # 1:10.0.2+ds-2+deb13u1~bpo12+1 -> 10.0.2+ds
	version=${upver%%[+~]*}
	root=$cache/$version
	origin="debian $upver"
fi
src=$root/src
bld=$root/build
if [ "$print_only" = 1 ]; then echo "$bld"; exit 0; fi
# already imported: readers need no lock (builds only add objects to that git)
if [ "$pristine_only" = 1 ] && [ "$(cat "$root/origin" 2>/dev/null)" = "$origin" ] &&
	git --git-dir="$root/git" rev-parse -q --verify pristine >/dev/null 2>&1; then
	echo "$root/git"; exit 0
fi

# --- cache key and fast path ------------------------------------------------
# sorted names + contents of everything under our three dirs
if command -v sha256sum >/dev/null; then shatool=(sha256sum); else shatool=(shasum -a 256); fi
dirs=()
for d in qemu host protocol dext/core tests/iokit-shim shim/IOKit; do [ -d "$repo/$d" ] && dirs+=("$d"); done
ours_hash=$(cd "$repo" && find "${dirs[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 "${shatool[@]}" |
	"${shatool[@]}" | cut -c1-16)
key=$version-$ours_hash

link_build() { mkdir -p "$repo/build" && ln -sfn "$bld" "$repo/build/qemu"; }
if [ "$(cat "$root/stamp" 2>/dev/null)" = "$key" ] &&
	[ -x "$bld/qemu-system-x86_64" ] && [ -x "$bld/qemu-system-aarch64" ]; then
	link_build
	say "cache hit ($key)"
	echo "$bld"
	exit 0
fi

# --- dependencies (Debian only; on macOS bring meson/ninja/glib/pixman/dtc yourself)
if command -v dpkg-query >/dev/null; then "$repo/scripts/deps.sh" qemu; fi
mkdir -p "$root"
# one builder per tree: make -j may start us twice
if command -v flock >/dev/null; then exec 9>"$root/lock"; flock 9; fi
[ "$pristine_only" = 1 ] ||
	rm -f "$root/stamp"   # the tree is about to change: no hit until the build succeeds

G=(git -c core.autocrlf=false -c user.name=egpu-vm -c user.email=egpu-vm@localhost
	-C "$src" --git-dir="$root/git" --work-tree="$src")

# --- pristine tree (once per version / upstream commit) --------------------
if [ "$(cat "$root/origin" 2>/dev/null)" != "$origin" ] || ! "${G[@]}" rev-parse -q --verify pristine >/dev/null 2>&1; then
	say "importing QEMU $version ($origin)"
	rm -rf "$src" "$root/git" "$root/origin" "$root/stamp"
	mkdir -p "$src"
	if [ -n "${QEMU_SRC:-}" ]; then
		# no .git: configure would then try to manage submodules
		(cd "$QEMU_SRC" && tar -cf - --exclude=.git --exclude=./build .) | tar -xf - -C "$src"
	else
		mkdir -p "$cache/dl"
		tarball() { for t in "$cache/dl/qemu_$upver".orig.tar.*; do [ -f "$t" ] && echo "$t" && return; done; true; }
		if [ -z "$(tarball)" ]; then
			(cd "$cache/dl" && apt-get source -q --download-only --tar-only "qemu=$debver" >&2) ||
				die "apt-get source qemu=$debver failed"
		fi
		tarball=$(tarball)
		tar -xf "$tarball" -C "$src" --strip-components=1
	fi
	[ "$(cat "$src/VERSION")" = "$version" ] || die "unpacked tree says QEMU $(cat "$src/VERSION"), expected $version"
	git init -q --bare "$root/git"
	"${G[@]}" add -Af .
	"${G[@]}" commit -q -m "QEMU $version pristine ($origin)"
	"${G[@]}" tag -f pristine >/dev/null
	echo "$origin" >"$root/origin"
fi
if [ "$pristine_only" = 1 ]; then echo "$root/git"; exit 0; fi

# --- pristine + patches + our files, built in a scratch index --------------
export GIT_INDEX_FILE=$root/apply.index
"${G[@]}" read-tree pristine
for p in "$repo"/qemu/patches/*.patch; do
	[ -f "$p" ] || continue
	"${G[@]}" apply --cached -p1 "$p" || die "patch ${p#"$repo"/} does not apply to QEMU $version"
done
ours() {   # prints "<file in repo>\t<path in QEMU tree>"
	cd "$repo"
	for d in qemu/hw qemu/include qemu/tests; do
		[ -d "$d" ] && find "$d" -type f | sed 's|^qemu/\(.*\)$|&	\1|'
	done
	[ -d host ] && find host -type f \( -name '*.c' -o -name '*.h' \) | sed 's|^host/\(.*\)$|&	hw/misc/apple-dma/\1|'
	[ -d protocol ] && find protocol -type f -name '*.h' | sed 's|^protocol/\(.*\)$|&	hw/misc/apple-dma/\1|'
	# backend=dext: the dext's logic, the IOKit test double, IOKit declarations
	[ -d dext/core ] && find dext/core -type f \( -name '*.c' -o -name '*.h' \) | sed 's|^dext/core/\(.*\)$|&	hw/misc/apple-dma/dext-core/\1|'
	[ -d tests/iokit-shim ] && find tests/iokit-shim -type f \( -name '*.c' -o -name '*.h' \) | sed 's|^tests/\(.*\)$|&	hw/misc/apple-dma/\1|'
	[ -d shim/IOKit ] && find shim/IOKit -type f -name '*.h' | sed 's|^shim/\(.*\)$|&	hw/misc/apple-dma/shim/\1|'
	true
}
ours | while IFS=$'\t' read -r from to; do
	mode=100644; [ -x "$repo/$from" ] && mode=100755
	printf '%s %s\t%s\n' "$mode" "$("${G[@]}" hash-object -w "$repo/$from")" "$to"
done | "${G[@]}" update-index --add --index-info
tree=$("${G[@]}" write-tree)
unset GIT_INDEX_FILE
commit=$("${G[@]}" commit-tree "$tree" -p pristine -m "egpu-vm $key")
"${G[@]}" reset -q --hard "$commit"   # rewrites only files that differ

# --- configure (only when the options change) -------------------------------
py=/usr/bin/python3   # not a pyenv shim earlier on PATH
[ -x "$py" ] || py=$(command -v python3) || die "no python3"
case "$(uname -s)" in
Linux) accel=--enable-kvm ;;
Darwin) accel=--enable-hvf ;;
*) die "unsupported host $(uname -s)" ;;
esac
# the Debian tarball has no firmware: use Debian's packages (see deps.d/qemu.list)
fw=''
for d in /usr/share/seabios /usr/lib/ipxe/qemu /usr/share/qemu; do [ -d "$d" ] && fw=$fw${fw:+:}$d; done
blobs=--disable-install-blobs
[ -f "$src/pc-bios/bios-256k.bin" ] && blobs=--enable-install-blobs && fw=''
# --disable-download: offline; configure's venv then takes meson >= 1.5 and
# pycotap from the system (Debian: backports) or from python/wheels (upstream)
# shellcheck disable=SC2054 # the commas are meant
cfg=(--python="$py" --target-list=x86_64-softmmu,aarch64-softmmu --disable-docs --disable-werror
	--without-default-features "$accel" --enable-tcg --enable-slirp --enable-fdt=system --enable-pixman
	"$blobs" --disable-download)
[ -n "$fw" ] && cfg+=(--firmwarepath="$fw")
mkdir -p "$bld"
if [ ! -f "$bld/build.ninja" ] || [ "$(cat "$bld/egpu-configure" 2>/dev/null)" != "${cfg[*]}" ]; then
	say "configuring in $bld"
	rm -f "$bld/egpu-configure"
	(cd "$bld" && "$src/configure" "${cfg[@]}" >&2) || die "configure failed (see $bld/meson-logs/meson-log.txt)"
	echo "${cfg[*]}" >"$bld/egpu-configure"
fi
# A binary run from the build dir resolves data paths under qemu-bundle/;
# point the firmware path there at the real directories.
if [ -n "$fw" ]; then
	IFS=: read -r -a fwdirs <<<"$fw"
	for d in "${fwdirs[@]}"; do mkdir -p "$bld/qemu-bundle$(dirname "$d")"; ln -sfn "$d" "$bld/qemu-bundle$d"; done
fi

# --- build: the two emulators and our qtests (QTESTS= adds QEMU's own) -------
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
say "building ($key) with $jobs jobs"
ninja -C "$bld" build.ninja >&2 || die "meson regeneration failed"   # so new qtests are listed
qtests="tests/qtest/apple-dma-test tests/qtest/apple-dma-hostram-test tests/qtest/egpu-pci-test tests/qtest/egpu-pci-cmdline-test tests/qtest/apple-dma-config-test ${QTESTS:-}"
# shellcheck disable=SC2086 # one target per word
ninja -C "$bld" -j"$jobs" qemu-system-x86_64 qemu-system-aarch64 $qtests >&2 || die "build failed"
echo "$key" >"$root/stamp"
link_build
echo "$bld"
