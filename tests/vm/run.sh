#!/usr/bin/env bash
# tests/vm/run.sh [SCENARIO...] — `make vmtest`: boot the guest behind
# apple-dma-pci (DART simulator) and run the end-to-end scenarios a..f on
# an amd64 guest and "arm64" on an arm64 one, then the GPU path ("gpu" on
# amd64, "gpu-arm64", and "gpu-dext", "gpu-dext-arm64" over the IOKit test
# double; all by default; see tests/vm/vmtest.py). Scenarios named *-bpo
# boot the -backports kernel (bookworm: 6.12) instead of the release's
# (6.1): every kernel the module is built for is booted. Only the guests
# (architecture x kernel) the scenarios need are prepared.
# Console logs and per-scenario JSON go to build/vm/. Ends with
# "N passed, N failed"; non-zero on failure.
#   EGPU_ACCEL=tcg|kvm  skip the KVM probe (amd64; arm64 is always TCG)
#   EGPU_QEMU=path      use that QEMU (arm64: qemu-system-aarch64 beside it,
#                       or EGPU_QEMU_ARM64=path)
#   VMTEST_VERBOSE=1    echo the guest consoles
#   EGPU_VM_APPEND="..." more guest kernel args; EGPU_VM_ADMA="o=v,..." more
#   apple-dma-pci options (both for debugging)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
declare -A want=()
[ $# -gt 0 ] || want=([amd64-stable]=1 [arm64-stable]=1 [amd64-bpo]=1 [arm64-bpo]=1)
for s in "$@"; do
	series=stable base=$s
	case "$s" in *-bpo) series=bpo base=${s%-bpo} ;; esac
	case "$base" in
	arm64|*-arm64) want[arm64-$series]=1 ;;
	*) want[amd64-$series]=1 ;;   # vmtest.py rejects the names it does not know
	esac
done
args=(--logdir "$repo/build/vm")
for arch in amd64 arm64; do
	for series in stable bpo; do
		[ -n "${want[$arch-$series]:-}" ] || continue
		env=$("$repo/tests/vm/prepare.sh" "$arch" "$series") ||
			{ echo "vmtest: setup failed ($arch, $series kernel)"; echo "0 passed, 1 failed"; exit 1; }
		eval "$env"
		sfx=${arch/amd64/}
		ksfx=${sfx:+-$sfx}
		[ "$series" = stable ] || ksfx=$ksfx-$series
		args+=(--qemu${sfx:+-$sfx} "$QEMU" --kernel$ksfx "$KERNEL" --initrd$ksfx "$INITRD")
	done
done
py=/usr/bin/python3
[ -x "$py" ] || py=python3
[ "${VMTEST_VERBOSE:-0}" = 1 ] && args+=(--verbose)
exec "$py" "$repo/tests/vm/vmtest.py" "${args[@]}" "$@"
