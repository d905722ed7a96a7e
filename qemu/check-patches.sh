#!/usr/bin/env bash
# qemu/check-patches.sh [--export DIR [PATH...]] — does our QEMU patch series apply?
#
# Applies qemu/patches/*.patch in name order, each on top of the ones before
# it (git apply --check, then --cached), to the pristine QEMU 10.0.x tree that
# qemu/build.sh imports and caches (`qemu/build.sh --pristine`: imported on
# first use, exactly as a build would). Everything happens in a scratch index
# of its own: the build's tree, index and stamp are not touched, so this runs
# fine beside a build holding the cache lock.
#
# Prints one line per patch, "darwin: ok|FAIL qemu patch <name> applies"
# (`make darwin` counts them), and exits non-zero if any patch fails.
# --export DIR writes the patched tree (pristine + every patch that applied)
# into DIR, for the compile checks of scripts/darwin.d/; PATHs (files or
# directories of the QEMU tree) limit it to those (the whole tree is ~400 MB).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

usage() { echo "usage: qemu/check-patches.sh [--export DIR [PATH...]]" >&2; exit 2; }
export_dir=''
case "${1:-}" in
'') [ $# = 0 ] || usage ;;
--export) [ $# -ge 2 ] && [ -n "$2" ] || usage; export_dir=$2; shift 2 ;;
*) usage ;;
esac

if ! gitdir=$("$repo/qemu/build.sh" --pristine); then
	echo "darwin: FAIL qemu pristine tree (qemu/build.sh --pristine failed)"
	exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# the bare cache git, an index of our own, an empty work tree (never written)
export GIT_INDEX_FILE=$scratch/index
G=(git --git-dir="$gitdir" --work-tree="$scratch/empty")
mkdir -p "$scratch/empty"
"${G[@]}" read-tree pristine || { echo "darwin: FAIL qemu pristine tree (no tag pristine in $gitdir)"; exit 1; }

rc=0
n=0
for p in "$repo"/qemu/patches/*.patch; do
	[ -f "$p" ] || continue
	n=$((n + 1))
	name=$(basename "$p")
	if out=$("${G[@]}" apply --cached --check -p1 "$p" 2>&1) &&
		out=$("${G[@]}" apply --cached -p1 "$p" 2>&1); then
		echo "darwin: ok qemu patch $name applies"
	else
		echo "darwin: FAIL qemu patch $name applies"
		printf '%s\n' "$out" | sed 's/^/    /'
		rc=1
	fi
done
[ "$n" -gt 0 ] || { echo "darwin: FAIL qemu patch series (qemu/patches/ has none)"; rc=1; }

if [ -n "$export_dir" ]; then
	mkdir -p "$export_dir" && export_dir=$(cd "$export_dir" && pwd) &&
		"${G[@]}" ls-files -z -- "$@" |
		"${G[@]}" checkout-index -z --stdin -f --prefix="$export_dir/" ||
		{ echo "darwin: FAIL qemu patched tree export to $export_dir"; rc=1; }
fi
exit $rc
