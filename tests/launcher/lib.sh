# tests/launcher/lib.sh — sourced by t-*.sh: the binary, PASS/FAIL lines.
# shellcheck shell=bash
EV=${EGPU_VM_BIN:?run me through tests/launcher/run.sh}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# a stable environment: nothing of the caller's leaks into command lines
unset EGPU_QEMU EGPU_ACCEL XDG_CONFIG_HOME
export EGPU_RUN_DIR=/run/egpu-test
export HOME=${TMPDIR:-/tmp}/egpu-launcher-home.$$
FAILS=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
finish() { rm -rf "$HOME"; [ "$FAILS" = 0 ]; }

# expect NAME RC STDERR-PATTERN -- ARGS...: exit code and message
expect() {
	local name=$1 want=$2 pat=$3 err got
	shift 4
	err=$("$EV" "$@" 2>&1 >/dev/null)
	got=$?
	if [ "$got" != "$want" ]; then
		fail "$name" "exit $got, wanted $want (stderr: $err)"
	elif ! grep -qE -- "$pat" <<<"$err"; then
		fail "$name" "stderr '$err' lacks /$pat/"
	else
		pass "$name"
	fi
}
