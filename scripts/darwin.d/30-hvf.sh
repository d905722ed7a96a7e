#!/usr/bin/env bash
# scripts/darwin.d/30-hvf.sh — `make darwin`, HVF part: our QEMU patch
# series applies, and the QEMU files our HVF patches (qemu/patches/002x-hvf-*)
# touch compile for arm64-apple-macos13.
#
# 1. qemu/check-patches.sh applies the whole series to the pristine tree
#    (one "darwin: ok|FAIL qemu patch <name> applies" line each) and exports
#    the patched files we need.
# 2. Every QEMU C file of the HVF series is compiled whole, -fsyntax-only,
#    with QEMU's warning set and -Werror, against
#      - QEMU's own headers from the patched tree, its QAPI headers and the
#        target/arm/hvf trace header generated here by QEMU's generators
#        (qapi-gen.py, tracetool.py with the nop backend);
#      - config-host.h / config-target.h written below for an Apple silicon
#        host (no meson cross build is possible without Apple's SDK);
#      - shim/Hypervisor/ (Hypervisor.framework, QoS, mach_time, ...: our
#        declarations, see shim/README.md) and, for the POSIX part of libc,
#        glibc's aarch64 headers (libc6-dev-arm64-cross): Darwin's libc is
#        not available here. Hence hosted, not -ffreestanding (glibc and
#        clang's freestanding <stdint.h> disagree on int64_t), and -Wno-format
#        (glibc's uint64_t is unsigned long, Darwin's unsigned long long).
#    Syntax-only, not objects: with glibc's structures standing in, an object
#    would not be a Darwin object.
#    HV_SYS_REG_ACTLR_EL1 is declared macOS 15.0+ in the shim, and
#    -Werror=unguarded-availability-new makes any use outside
#    __builtin_available(macOS 15, *) fail. Each file is compiled twice: as
#    built with the macOS 15 SDK, and with a macOS 14 one, whose shim lacks
#    HV_SYS_REG_ACTLR_EL1 (EGPU_SHIM_MACOS_SDK=140000).
# 3. The Objective-C file is compiled -ffreestanding to a Mach-O arm64 object
#    against the Foundation part of the shim (it includes no QEMU or libc
#    header), and the object is checked to be a macOS Mach-O arm64 one.
# Any .c/.m the HVF patches touch that is not in the list below fails.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../darwin-lib.sh
. "$(dirname "$0")/../darwin-lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/qemu
gen=$work/gen

# --- 1. the series applies; the patched files we compile -------------------
qemu/check-patches.sh --export "$tree" VERSION include accel target/arm qapi \
	scripts trace host/include tcg/aarch64 || fails=$((fails + 1))
if [ ! -f "$tree/VERSION" ] || [ ! -f "$tree/accel/hvf/hvf-accel-ops.c" ]; then
	fail hvf "no patched QEMU tree to compile"
	exit 1
fi

# what the compile step covers; a header is checked through the files that
# include it, meson.build through the Linux build's meson (which parses the
# darwin-only branch but cannot run it)
c_files="accel/hvf/hvf-accel-ops.c accel/hvf/hvf-all.c target/arm/hvf/hvf.c"
objc_files="accel/hvf/hvf-activity.m"
hvf_patches=(qemu/patches/00[2-3][0-9]-hvf-*.patch)
[ -f "${hvf_patches[0]}" ] || fail hvf "no qemu/patches/00[23]x-hvf-*.patch"
while read -r f; do
	case "$f" in
	*.c | *.m)
		case " $c_files $objc_files " in
		*" $f "*) ;;
		*) fail "$f" "touched by the HVF patches, not compiled by $0" ;;
		esac ;;
	esac
done < <(sed -n 's|^+++ b/||p' "${hvf_patches[@]}" | sort -u)

# --- 2. generated headers -------------------------------------------------
mkdir -p "$gen/qapi" "$gen/trace"
# A host as QEMU's meson would describe an Apple silicon Mac, reduced to what
# these files test. Anything not defined is a feature off.
cat >"$gen/config-host.h" <<'EOF'
#pragma once
#define CONFIG_DARWIN 1
#define CONFIG_BSD 1
#define CONFIG_POSIX 1
#define HOST_AARCH64 1
#define CONFIG_ATOMIC64 1
#define CONFIG_INT128 1
#define CONFIG_INT128_TYPE 1
#define CONFIG_IOVEC 1
#define QEMU_VERSION_MAJOR 10
#define QEMU_VERSION_MINOR 0
EOF
echo "#define QEMU_VERSION \"$(cat "$tree/VERSION")\"" >>"$gen/config-host.h"
cat >"$gen/aarch64-softmmu-config-target.h" <<'EOF'
#pragma once
#define CONFIG_HVF 1
#define CONFIG_TCG 1
#define CONFIG_SOFTMMU 1
#define CONFIG_SYSTEM_ONLY 1
#define QEMU_ARCH QEMU_ARCH_ARM
#define TARGET_AARCH64 1
#define TARGET_ARM 1
#define TARGET_BIG_ENDIAN 0
#define TARGET_LONG_BITS 64
#define TARGET_NAME "aarch64"
#define TARGET_NEED_FDT 1
#define TARGET_SUPPORTS_MTTCG 1
EOF
# no device CONFIG_ is tested by these files
: >"$gen/aarch64-softmmu-config-devices.h"
if ! python3 "$tree/scripts/qapi-gen.py" -o "$gen/qapi" -b "$tree/qapi/qapi-schema.json" >"$gen/qapi.log" 2>&1 ||
	! python3 "$tree/scripts/tracetool.py" --backends=nop --group=target_arm_hvf --format=h \
		"$tree/target/arm/hvf/trace-events" "$gen/trace/trace-target_arm_hvf.h" >"$gen/trace.log" 2>&1; then
	cat "$gen/qapi.log" "$gen/trace.log" 2>/dev/null
	fail hvf "QAPI/trace headers: QEMU's generators failed"
	exit 1
fi

# --- 3. compile -----------------------------------------------------------
target=(-target arm64-apple-macos13)
shim=$repo/shim
glibc=/usr/aarch64-linux-gnu/include
glib=(-isystem /usr/include/glib-2.0 -isystem "$(pkg-config --variable=libdir glib-2.0 2>/dev/null ||
	echo /usr/lib/x86_64-linux-gnu)/glib-2.0/include")
[ -f "$glibc/stdio.h" ] || fail hvf "no glibc aarch64 headers in $glibc: libc6-dev-arm64-cross"
# QEMU's clang warning set (meson.build), as errors
qemu_warn=(-Wall -Werror -Wempty-body -Wendif-labels -Wexpansion-to-defined -Wformat-security
	-Wignored-qualifiers -Wimplicit-fallthrough -Winit-self -Wmissing-format-attribute
	-Wmissing-prototypes -Wnested-externs -Wold-style-definition -Wredundant-decls
	-Wstrict-prototypes -Wtype-limits -Wundef -Wvla -Wwrite-strings -Wno-missing-include-dirs
	-Wno-psabi -Wno-shift-negative-value -Wno-string-plus-int -Wno-typedef-redefinition
	-Wno-tautological-type-limit-compare -Wno-initializer-overrides
	-Wno-gnu-variable-sized-type-not-at-end -Wno-format
	-Werror=unguarded-availability-new)
# Darwin's clang predefines __nonnull & co. as nullability keywords; glibc
# defines them as attribute macros
qemu_c=("${target[@]}" -std=gnu11 -fsyntax-only -nostdlibinc
	-U__nonnull -U__nullable -U__null_unspecified
	-I"$gen" -I"$gen/qapi" -I"$gen/trace" -I"$tree" -I"$tree/target/arm" -I"$tree/include"
	-iquote "$tree/host/include/aarch64" -iquote "$tree/host/include/generic"
	-iquote "$tree/tcg/aarch64"
	-I"$shim" -isystem "$shim/Hypervisor/darwin" -isystem "$glibc" "${glib[@]}"
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -DCOMPILING_PER_TARGET
	'-DCONFIG_TARGET="aarch64-softmmu-config-target.h"'
	'-DCONFIG_DEVICES="aarch64-softmmu-config-devices.h"'
	"${qemu_warn[@]}")
compile_c() {   # FILE LABEL [CFLAGS...]
	local f=$1 label=$2
	shift 2
	if clang "${qemu_c[@]}" "$@" "$tree/$f" 2>"$work/err"; then
		ok "$f$label" syntax-only
	else
		sed "s|$tree/||g" "$work/err" | head -40
		fail "$f$label" syntax-only
	fi
}
# each once as built with the macOS 15 SDK and once with a macOS 14 SDK
# (the shim then lacks HV_SYS_REG_ACTLR_EL1: checks the SDK guards)
for f in $c_files; do
	compile_c "$f" ""
	compile_c "$f" " with a macOS 14 SDK" -DEGPU_SHIM_MACOS_SDK=140000
done

for f in $objc_files; do
	obj=$work/$(basename "$f").o
	if clang "${target[@]}" -x objective-c -ffreestanding -nostdlibinc -c -o "$obj" \
		-isystem "$shim/Hypervisor/darwin" -Wall -Wmissing-prototypes -Werror \
		"$tree/$f" 2>"$work/err" && macho_object "$obj" macos; then
		ok "$f" object
	else
		sed "s|$tree/||g" "$work/err" | head -40
		fail "$f" object
	fi
done
[ "$fails" = 0 ]
