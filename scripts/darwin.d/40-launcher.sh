#!/usr/bin/env bash
# scripts/darwin.d/40-launcher.sh — `make darwin`, launcher part: the egpu-vm
# files with macOS paths (#ifdef __APPLE__: doctor's Mac checks, list-devices,
# run's default target) compiled for arm64-apple-macos13 with clang,
# -fsyntax-only, C11, -Wall -Wextra -Werror. Darwin's libc is not here, so
# glibc's aarch64 headers (libc6-dev-arm64-cross) stand in for the POSIX
# part, and json-c's headers are the host's: syntax-only, not objects. The
# Mac-only functions (doctor_mac.c, devices.c) are also built and tested on
# Linux (tests/launcher/t-devices.sh); this checks the __APPLE__ branches.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../darwin-lib.sh
. "$(dirname "$0")/../darwin-lib.sh"
need clang
glibc=/usr/aarch64-linux-gnu/include
[ -f "$glibc/stdio.h" ] || { fail launcher "no glibc aarch64 headers in $glibc: libc6-dev-arm64-cross"; exit 1; }
[ -f /usr/include/json-c/json.h ] || { fail launcher "no json-c headers: scripts/deps.sh launcher"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# json-c is included as <json-c/json.h>: only that directory, not all of /usr/include
mkdir -p "$work/inc" && ln -s /usr/include/json-c "$work/inc/json-c"
flags=(-target arm64-apple-macos13 -std=c11 -fsyntax-only -nostdlibinc
	-U__nonnull -U__nullable -U__null_unspecified
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-isystem "$glibc" -isystem "$work/inc" -Iprotocol -Ilauncher/src)
for f in main.c run.c doctor.c doctor_mac.c devices.c demo.c; do
	src=launcher/src/$f
	[ -f "$src" ] || { fail "launcher $src" "missing"; continue; }
	if clang "${flags[@]}" "$src" 2>"$work/err"; then
		ok "launcher $src" "syntax-only, __APPLE__"
	else
		fail "launcher $src" "syntax-only, __APPLE__" "$work/err"
	fi
done
# pull's SHA-256 through CommonCrypto: its declarations from shim/CommonCrypto
src=launcher/src/sha256.c
if clang "${flags[@]}" -Ishim "$src" 2>"$work/err"; then
	ok "launcher $src" "syntax-only, __APPLE__ (CommonCrypto)"
else
	fail "launcher $src" "syntax-only, __APPLE__ (CommonCrypto)" "$work/err"
fi
[ "$fails" = 0 ]
