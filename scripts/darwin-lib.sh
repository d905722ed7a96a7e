# shellcheck shell=bash
# darwin-lib.sh — what the checks in scripts/darwin.d/ share; each sources it.
# Not itself a check (darwin-check.sh runs scripts/darwin.d/*.sh only).
#
# Sourcing it sets $repo, changes to it and starts $fails at 0.
#   ok WHAT HOW          prints "darwin: ok WHAT (HOW)"
#   fail WHAT HOW [LOG]  prints "darwin: FAIL WHAT (HOW)" and the start of
#                        LOG, and counts the failure in $fails
#   need TOOL...         a FAIL line and exit 1 if a tool is missing
#   macho_object FILE PLATFORM
#                        FILE is a relocatable Mach-O arm64 object whose
#                        build version names PLATFORM (macos, driverkit)
#   compile_object DIR PLATFORM SRC COMPILER [FLAGS...]
#                        COMPILER FLAGS -c SRC -o DIR/<name of SRC>.o, log
#                        beside it; one ok/FAIL line; fails unless the object
#                        is a macho_object for PLATFORM
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1
fails=0

ok() { echo "darwin: ok $1 ($2)"; }

fail() {
	echo "darwin: FAIL $1 ($2)"
	[ -z "${3:-}" ] || sed 's/^/    /' "$3" | head -40
	fails=$((fails + 1))
}

need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { fail "$tool" "toolchain missing: scripts/deps.sh darwin"; exit 1; }
	done
}

macho_object() {
	local hdr
	hdr=$(llvm-readobj --file-headers --macho-version-min "$1" 2>&1) || return 1
	grep -q 'Format: Mach-O arm64' <<<"$hdr" &&
		grep -q 'FileType: Relocatable' <<<"$hdr" &&
		grep -q "Platform: $2\$" <<<"$hdr"
}

compile_object() {
	local dir=$1 platform=$2 src=$3 o log
	shift 3
	o=$dir/$(basename "$src").o
	log=$dir/$(basename "$src").log
	rm -f "$o"
	if ! "$@" -c "$src" -o "$o" >"$log" 2>&1; then
		fail "$src" object "$log"
		return 1
	fi
	if ! macho_object "$o" "$platform"; then
		llvm-readobj --file-headers --macho-version-min "$o" >"$log" 2>&1
		fail "$src" "object: not a $platform Mach-O arm64 object" "$log"
		return 1
	fi
	ok "$src" "object, Mach-O arm64 $platform"
}
