#!/usr/bin/env bash
# tests/vm/bench.sh [bench.py options] - the VM half of `make bench`: builds
# or finds what the amd64 guest needs (tests/vm/prepare.sh: QEMU, kernel,
# apple_dma.ko, dmabench.ko, the initramfs with blkbench and benchguest.sh),
# then runs tests/vm/bench.py, which boots it under TCG and prints the table.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
env=$("$repo/tests/vm/prepare.sh" amd64 stable) ||
	{ echo "bench: tests/vm/prepare.sh failed" >&2; exit 1; }
eval "$env"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$repo/tests/vm/bench.py" --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
	--logdir "$repo/build/bench" "$@"
