#!/usr/bin/env bash
# 10-host.sh — the macOS side of QEMU's dext backend, checked off a Mac
# (part of `make darwin`).
#
#   object     host/hostdev_iokit*.c (the IOKit backend) compiled with clang
#              for arm64-apple-macos13, -Wall -Wextra -Werror, against
#              shim/IOKit (IOKit/CF/Mach/dispatch declarations and the few
#              libc calls, with Darwin's pthread_mutex_t layout: not Apple's
#              SDK, see shim/IOKit/README.md); and dext/core/*.c, which
#              include no OS header at all, -ffreestanding. Each must be a
#              relocatable Mach-O arm64 object for the macOS platform.
#   symbols    the backend objects call exactly what shim/IOKit declares:
#              each undefined symbol is declared there, and each function
#              declared there is called (so the shim lists the Apple API we
#              depend on, nothing more); the dext core objects need nothing
#              but what the compiler itself emits (memset/memcpy/bzero and
#              the stack protector's two symbols).
#   abi        protocol/apple_dext.h compiles as C11 and as C++17 (the
#              DriverKit side includes it), its static asserts included.
#
# One line per check: "darwin: ok|FAIL <what> (<how>)"; exits 1 if any failed.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../darwin-lib.sh
. "$(dirname "$0")/../darwin-lib.sh"

target=arm64-apple-macos13
out=build/darwin/host
mkdir -p "$out"
need clang clang++ llvm-readobj llvm-nm

warn=(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes)
base=(-target "$target" -std=c11 -ffreestanding -nostdlibinc "${warn[@]}")
backend_inc=(-isystem shim/IOKit/libc -isystem shim/IOKit/darwin -Ishim -Iprotocol -Ihost)
core_inc=(-Iprotocol -Idext/core)

compile() {	# source, include flags...
	compile_object "$out" macos "$1" clang "${base[@]}" "${@:2}"
}

backend_objs=()
for src in host/hostdev_iokit.c host/hostdev_iokit_dma.c; do
	compile "$src" "${backend_inc[@]}" && backend_objs+=("$out/$(basename "$src").o")
done
core_objs=()
for src in dext/core/*.c; do
	compile "$src" "${core_inc[@]}" && core_objs+=("$out/$(basename "$src").o")
done

# --- symbols: the backend's imports == what shim/IOKit declares -----------
if [ ${#backend_objs[@]} = 2 ]; then
	log=$out/symbols.log
	defined=$(llvm-nm --defined-only "${backend_objs[@]}" | awk 'NF == 3 {print $3}' | sed 's/^_//' | sort -u)
	imports=$(llvm-nm -u "${backend_objs[@]}" | awk 'NF == 2 {print $2} NF == 1 && !/:$/ {print $1}' |
		sed 's/^_//' | sort -u | grep -vxE '__stack_chk_(fail|guard)' |
		grep -vxF -f <(echo "$defined") || true)
	# function names declared in the shim: "name(" at a declaration
	declared=$(cat shim/IOKit/*.h shim/IOKit/darwin/*/*.h shim/IOKit/libc/*.h |
		grep -v '^\s*\*\|^#\|typedef' |
		grep -oE '\b[A-Za-z_][A-Za-z0-9_]*\(' | tr -d '(' | sort -u)
	# the variables the shim declares extern
	declared_vars=$(cat shim/IOKit/*.h shim/IOKit/darwin/*/*.h |
		grep -oE '^extern [^;(]*\b([A-Za-z_][A-Za-z0-9_]*);' |
		sed -E 's/.*\b([A-Za-z_][A-Za-z0-9_]*);/\1/' | sort -u)
	missing=$(comm -23 <(echo "$imports") <(printf '%s\n%s\n' "$declared" "$declared_vars" | sort -u))
	# declared functions nobody calls (keywords and macros filtered out)
	unused=$(comm -13 <(echo "$imports") <(echo "$declared") |
		grep -vxE 'if|sizeof|__attribute__|__format__|__printf__|defined|while|for|switch|return' ||
		true)
	{
		echo "imports:"; echo "$imports"
		echo "missing from shim/IOKit:"; echo "$missing"
		echo "declared but not called:"; echo "$unused"
	} >"$log"
	if [ -z "$imports" ]; then
		fail "host/hostdev_iokit*.o" "symbols: no imports found (llvm-nm?)" "$log"
	elif [ -n "$missing" ] || [ -n "$unused" ]; then
		fail "shim/IOKit" "symbols: backend imports != shim declarations" "$log"
	else
		ok "shim/IOKit" "symbols: declares exactly the $(wc -l <<<"$imports") calls the backend makes"
	fi
fi
if [ ${#core_objs[@]} -gt 0 ]; then
	log=$out/core-symbols.log
	defined=$(llvm-nm --defined-only "${core_objs[@]}" | awk 'NF == 3 {print $3}' | sort -u)
	extra=$(llvm-nm -u "${core_objs[@]}" | awk 'NF == 2 {print $2} NF == 1 && !/:$/ {print $1}' |
		sort -u | grep -vxE '_(memset|memcpy|bzero)|___stack_chk_(fail|guard)' |
		grep -vxF -f <(echo "$defined") || true)
	if [ -n "$extra" ]; then
		echo "$extra" >"$log"
		fail "dext/core" "symbols: needs more than the compiler's runtime calls" "$log"
	else
		ok "dext/core" "symbols: nothing from an OS"
	fi
fi

# --- abi: the wire header in both languages ---------------------------------
log=$out/abi.log
if printf '#include "apple_dext.h"\n' |
	clang -target "$target" -std=c11 -ffreestanding "${warn[@]}" -pedantic -Iprotocol \
		-x c -fsyntax-only - >"$log" 2>&1 &&
	printf '#include "apple_dext.h"\n' |
	clang++ -target "$target" -std=c++17 -ffreestanding -nostdinc++ -Wall -Wextra -Werror -Iprotocol \
		-x c++ -fsyntax-only - >>"$log" 2>&1; then
	ok protocol/apple_dext.h "abi: C11 and C++17, static asserts hold"
else
	fail protocol/apple_dext.h abi "$log"
fi

[ "$fails" = 0 ]
