#!/usr/bin/env bash
# tests/vm/run.sh [SCENARIO...] — `make vmtest`: boot the guest behind
# apple-dma-pci (DART simulator) and run the end-to-end scenarios a..f
# (all by default; see tests/vm/vmtest.py). Console logs and per-scenario
# JSON go to build/vm/. Ends with "N passed, N failed"; non-zero on failure.
#   EGPU_ACCEL=tcg|kvm  skip the KVM probe      EGPU_QEMU=path  use that QEMU
#   VMTEST_VERBOSE=1    echo the guest consoles
#   EGPU_VM_APPEND="..." more guest kernel args; EGPU_VM_ADMA="o=v,..." more
#   apple-dma-pci options (both for debugging)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
env=$("$repo/tests/vm/prepare.sh") || { echo "vmtest: setup failed"; echo "0 passed, 1 failed"; exit 1; }
eval "$env"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
args=(--qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" --logdir "$repo/build/vm")
[ "${VMTEST_VERBOSE:-0}" = 1 ] && args+=(--verbose)
exec "$py" "$repo/tests/vm/vmtest.py" "${args[@]}" "$@"
