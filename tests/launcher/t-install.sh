#!/usr/bin/env bash
# t-install.sh — `make install PREFIX=... DESTDIR=...`: the binary and the
# man page land under DESTDIR/PREFIX, and the installed binary runs.
. "$(dirname "$0")/lib.sh"
dest=$HOME/dest
mkdir -p "$HOME"
if make -C "$REPO" --no-print-directory install PREFIX=/opt/egpu DESTDIR="$dest" >"$HOME/log" 2>&1; then
	pass "make install"
else
	fail "make install" "$(tail -5 "$HOME/log")"
fi
[ -x "$dest/opt/egpu/bin/egpu-vm" ] && "$dest/opt/egpu/bin/egpu-vm" --version | grep -q '^egpu-vm ' &&
	pass "installed binary runs" || fail "installed binary runs" "$(ls -R "$dest" 2>&1 | head)"
[ -f "$dest/opt/egpu/share/man/man1/egpu-vm.1" ] && man -l "$dest/opt/egpu/share/man/man1/egpu-vm.1" 2>/dev/null | grep -q 'EXIT STATUS' &&
	pass "man page installed and renders" || fail "man page installed and renders" "missing or broken"
finish
