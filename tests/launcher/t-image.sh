#!/usr/bin/env bash
# tests/launcher/t-image.sh - `egpu-vm image` and apple_dma's DKMS package:
#   - bad arguments are refused with exit code 2 before anything is built;
#   - dkms add + build of the DKMS tree (guest/build.sh --dkms-tree) against
#     Debian's headers (the stable amd64 kernel's, extracted by guest/build.sh);
#   - the image `egpu-vm image` builds (cached by content) boots in the test
#     VM (our QEMU, TCG, q35, qboot, apple-dma-pci managing an NVMe disk,
#     the DMA gate on) with systemd; the image's self-check unit reports
#     that apple_dma was loaded by itself before the NVMe driver bound and
#     that data written to the managed NVMe disk reads back the same; the
#     host's apple-dma-pci counters (QMP) say no DMA met the closed gate and
#     nothing faulted in the DART.
# Needs root, mmdebstrap and dkms (scripts/deps.d/launcher.list). About 5 min
# with an empty image cache on 2 busy cores, 1 min once the image is cached.
# Environment: EGPU_VM_BIN (the launcher; default build/launcher/egpu-vm),
# EGPU_QEMU (default build/qemu/qemu-system-x86_64), EGPU_IMAGE_TIMEOUT
# (seconds for the boot, default 900), EGPU_REPO (default: this tree).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
vm=${EGPU_VM_BIN:-$top/build/launcher/egpu-vm}
qemu=${EGPU_QEMU:-$top/build/qemu/qemu-system-x86_64}
tmo=${EGPU_IMAGE_TIMEOUT:-900}
export EGPU_REPO=${EGPU_REPO:-$top}	# the tree the DKMS package comes from
# the image and the kernel headers are cached there between runs
export EGPU_CACHE=${EGPU_CACHE:-$HOME/.cache/egpu-vm}
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$vm" ]; then
	fail image-launcher "$vm is not built (make launcher)"
	exit 1
fi

# ---- bad arguments: exit 2 and a message naming the verb -----------------
bad() { # NAME ARGS...
	local name=$1 rc=0; shift
	"$vm" image "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" = 2 ] && grep -q '^egpu-vm image: ' "$tmp/err"; then
		pass "image-usage-$name"
	else
		fail "image-usage-$name" "rc $rc, stderr: $(head -c 200 "$tmp/err")"
	fi
}
bad arch --arch sparc
bad kernel --kernel newest
bad size --size 12Q
bad small --size 100M
bad user --user 'Bad User'
bad root --user root
bad suite --suite 'bookworm;rm'
bad unknown --frobnicate
bad missing-value --arch
rc=0
"$vm" image --help >"$tmp/out" 2>&1 || rc=$?
if [ "$rc" = 0 ] && grep -q '^usage: egpu-vm image' "$tmp/out"; then
	pass image-help
else
	fail image-help "rc $rc"
fi

# ---- dkms build against Debian's headers ----------------------------------
dkms_check() {
	local kv ksrc d=$tmp/dkms
	command -v dkms >/dev/null || { echo "dkms is not installed"; return 1; }
	"$top/guest/build.sh" stable-amd64 >"$d.log" 2>&1 || { echo "guest/build.sh stable-amd64 failed"; return 1; }
	kv=$("$top/guest/build.sh" --list | awk '$1 == "stable-amd64" { print $2 }')
	ksrc=$EGPU_CACHE/kernels/tree/$kv-amd64/usr/src/linux-headers-$kv
	[ -d "$ksrc" ] || { echo "no headers at $ksrc"; return 1; }
	mkdir -p "$d/src" "$d/tree" "$d/inst"
	"$top/guest/build.sh" --dkms-tree "$d/src/apple_dma-1.0" >/dev/null
	# private trees: the machine's /var/lib/dkms and /usr/src stay as they are
	local D=(dkms --dkmstree "$d/tree" --sourcetree "$d/src" --installtree "$d/inst")
	"${D[@]}" add apple_dma/1.0 >>"$d.log" 2>&1 || { echo "dkms add failed"; return 1; }
	"${D[@]}" build apple_dma/1.0 -k "$kv" --kernelsourcedir "$ksrc" >>"$d.log" 2>&1 || {
		tail -20 "$d/tree/apple_dma/1.0/build/make.log" 2>/dev/null
		echo "dkms build failed"; return 1; }
	local ko=$d/tree/apple_dma/1.0/$kv/x86_64/module/apple_dma.ko
	[ -f "$ko" ] || { echo "no $ko"; return 1; }
	local vmagic
	vmagic=$(modinfo -F vermagic "$ko")
	[ "${vmagic%% *}" = "$kv" ] || { echo "vermagic '$vmagic' is not $kv"; return 1; }
	echo "built $ko for $kv"
}
if msg=$(dkms_check 2>&1); then
	pass "dkms-build ($(echo "$msg" | tail -1))"
else
	fail dkms-build "$(echo "$msg" | tail -3 | tr '\n' ' ')"
fi

# ---- the image boots and checks itself ----------------------------------
t0=$(date +%s)
rc=0
"$vm" image -o "$tmp/img" >"$tmp/image.out" 2>"$tmp/image.err" || rc=$?
t1=$(date +%s)
if [ "$rc" != 0 ] || [ ! -s "$tmp/img" ] || [ ! -s "$tmp/img.vmlinuz" ] || [ ! -s "$tmp/img.initrd" ]; then
	tail -30 "$tmp/image.err" >&2
	fail image-build "egpu-vm image exited $rc"
	exit 1
fi
pass "image-build ($((t1 - t0)) s)"

[ -x "$qemu" ] || { fail image-boot "$qemu is missing (qemu/build.sh)"; exit 1; }
truncate -s 1G "$tmp/nvme.img"
fw=()
for d in /usr/share/seabios /usr/share/qemu /usr/lib/ipxe/qemu; do
	[ -d "$d" ] && fw+=(-L "$d")
done
# qboot loads the kernel only: SeaBIOS would drive the NVMe disk before
# apple_dma exists (tests/vm/vm.py says why)
[ -f /usr/share/qemu/qboot.rom ] && fw+=(-bios /usr/share/qemu/qboot.rom)
log=$tmp/console.log
rc=0
# The self-check runs (egpu.check), then image-login.py logs in as root on
# the serial console and powers the guest off from that shell;
# -action shutdown=pause keeps QEMU up so the host side's counters can be
# read over QMP, then it is told to quit.
sock=$tmp/qmp.sock
"$qemu" -nodefaults -M q35 -m 1G -smp 2 -accel tcg -display none \
	-action shutdown=pause "${fw[@]}" \
	-chardev "socket,id=con,path=$tmp/console.sock,server=on,wait=off,logfile=$log" \
	-serial chardev:con -qmp "unix:$sock,server=on,wait=off" \
	-kernel "$tmp/img.vmlinuz" -initrd "$tmp/img.initrd" \
	-append "root=LABEL=egpu-root rw console=ttyS0 panic=-1 egpu.check" \
	-drive "file=$tmp/img,if=none,id=root,format=raw,snapshot=on" \
	-device virtio-blk-pci,drive=root \
	-device apple-dma-pci,id=adma0,managed=nvme0,backend=dartsim \
	-drive "file=$tmp/nvme.img,if=none,id=d0,format=raw,cache=unsafe" \
	-device nvme,id=nvme0,serial=adma,drive=d0 >"$tmp/qemu.out" 2>&1 &
qpid=$!
lrc=0
login=$(python3 "$top/tests/launcher/image-login.py" "$tmp/console.sock" "$tmo" 2>&1) || lrc=$?
# after the login (or its failure) the power-off gets a minute
t_login=$(date +%s)
while kill -0 "$qpid" 2>/dev/null && ! grep -aq 'reboot: Power down' "$log" 2>/dev/null; do
	if [ $(($(date +%s) - t_login)) -ge 60 ]; then
		rc=124
		break
	fi
	sleep 2
done
hstats=$(python3 "$top/tests/vm/qmp.py" "$sock" stats adma0 2>&1) || hstats="QMP: $hstats"
python3 "$top/tests/vm/qmp.py" "$sock" quit >/dev/null 2>&1 || kill "$qpid" 2>/dev/null || true
wait "$qpid" 2>/dev/null || { [ "$rc" = 124 ] || rc=$?; }
t2=$(date +%s)
tr -d '\r' <"$log" >"$tmp/console.txt"
keep=$top/build/launcher/t-image.console.log
mkdir -p "$(dirname "$keep")" && cp "$tmp/console.txt" "$keep"
echo "t-image: image $((t1 - t0)) s, boot $((t2 - t1)) s, qemu rc $rc; console in $keep" >&2
img_line() { grep -a '^@@IMG ' "$tmp/console.txt" | grep -- "$1" | head -1; }
if [ "$rc" = 124 ]; then
	tail -40 "$tmp/console.txt" >&2
	fail image-boot "no power-off (login: $login)"
elif grep -aq '^@@IMG pid1=systemd' "$tmp/console.txt"; then
	pass "image-boot-systemd ($((t2 - t1)) s, $(img_line pid1= | sed 's/^@@IMG //'))"
else
	tail -40 "$tmp/console.txt" >&2
	fail image-boot-systemd "no '@@IMG pid1=systemd' on the console (qemu rc $rc)"
fi
order=$(img_line dmesg_line_apple_dma= || true)
if [ -n "$order" ] && ! grep -aq 'result=fail.*\(apple_dma\|nvme0 appeared\)' "$tmp/console.txt" &&
   grep -aq '^@@IMG apple_dma=.*/updates/dkms/' "$tmp/console.txt"; then
	a=$(echo "$order" | sed -E 's/.*apple_dma=([0-9]+).*/\1/')
	n=$(echo "$order" | sed -E 's/.*nvme=([0-9]+).*/\1/')
	if [ "$a" -lt "$n" ] 2>/dev/null; then
		pass "image-apple_dma-first (DKMS module, kernel log line $a before nvme0's $n)"
	else
		fail image-apple_dma-first "$order"
	fi
else
	fail image-apple_dma-first "${order:-no order line}; $(img_line 'result=' || true) $(img_line 'apple_dma=' || true)"
fi
if grep -aq '^@@IMG nvme_data=ok' "$tmp/console.txt" && grep -aq '^@@IMG result=ok' "$tmp/console.txt"; then
	pass image-nvme-data
else
	fail image-nvme-data "$(img_line 'result=' || echo 'no result line')"
fi
if [ "$lrc" = 0 ]; then
	pass "image-console-login ($login)"
else
	fail image-console-login "$login"
fi
# Host side: apple_dma opened the gate before nvme's first DMA (nothing
# refused by the closed gate) and nothing faulted in the DART.
hval() { echo "$hstats" | awk -v k="$1" '$1 == k { print $2 }'; }
if [ "$(hval gated)" = 0 ] && [ "$(hval faults)" = 0 ] && [ "$(hval translations)" -gt 0 ] 2>/dev/null; then
	pass "image-host-stats (gated 0, faults 0, translations $(hval translations))"
else
	fail image-host-stats "gated '$(hval gated)' faults '$(hval faults)' translations '$(hval translations)' ($(echo "$hstats" | head -2 | tr '\n' ' '))"
fi
if grep -aE 'Kernel panic|Oops|BUG:|Call Trace:' "$tmp/console.txt" >/dev/null; then
	fail image-console "kernel trouble on the console"
	grep -aE -m5 'Kernel panic|Oops|BUG:|Call Trace:' "$tmp/console.txt" >&2
else
	pass image-console
fi
[ "$fails" = 0 ]
