#!/usr/bin/env bash
# t-run.sh — `egpu-vm run --dry-run`: golden command lines for a Mac and for
# Linux configurations (golden/*.txt, one argument a line), and how the
# config file and the command line combine. EGPU_GOLDEN_UPDATE=1 rewrites
# the golden files (then review the diff).
. "$(dirname "$0")/lib.sh"
G=$HERE/golden
mkdir -p "$HOME/.config/egpu-vm"

golden() {	# name, args...
	local name=$1 out
	shift
	if ! out=$("$EV" run --dry-run "$@" 2>&1); then
		fail "golden $name" "exit $?: $out"
		return
	fi
	if [ "${EGPU_GOLDEN_UPDATE:-}" = 1 ]; then
		printf '%s\n' "$out" >"$G/$name.txt"
	fi
	if diff -u "$G/$name.txt" - <<<"$out" >/tmp/egpu-golden.diff.$$; then
		pass "golden $name"
	else
		fail "golden $name" "differs: $(head -20 /tmp/egpu-golden.diff.$$ | tr '\n' '|')"
	fi
	rm -f /tmp/egpu-golden.diff.$$
}

golden mac --target mac --no-config --qemu /opt/egpu/bin/qemu-system-aarch64 \
	--memory 16G --cpus 8 --device 0x1000004a2 --disk /Users/me/egpu/debian-arm64.qcow2 \
	-- -d guest_errors
golden mac-defaults --target mac --no-config --qemu qemu-system-aarch64
golden linux-gpu --target linux --no-config --qemu /opt/egpu/bin/qemu-system-x86_64 \
	--accel tcg --data-dir /fw --bios /fw/qboot.rom --kernel /k/vmlinuz --initrd /k/initrd.cpio \
	--append 'console=ttyS0 egpu.gpu=1' --disk /vm/root.img --net none
golden linux-nvme --target linux --no-config --qemu /opt/egpu/bin/qemu-system-x86_64 \
	--accel kvm --managed nvme --data-dir /fw --disk /vm/nvme.img --disk /vm/data.qcow2 \
	--memory 1536M --cpus 1 --name nvme-vm --serial file:/tmp/console.log

# --- config file, then the command line over it
cfg=$HOME/cfg
cat >"$cfg" <<'CFG'
# a comment, then settings with spaces around '='
memory = 4G
cpus=6
qemu = /cfg/qemu
disk = /cfg/a.img
disk = /cfg/b.img
accel = tcg
CFG
out=$("$EV" run --dry-run --target linux --config "$cfg" --data-dir /fw)
grep -qx -- 4G <<<"$out" && grep -qx -- 6 <<<"$out" && head -1 <<<"$out" | grep -qx /cfg/qemu &&
	grep -q 'file=/cfg/b.img' <<<"$out" && pass "config file settings" || fail "config file settings" "$(tr '\n' ' ' <<<"$out")"
out=$("$EV" run --dry-run --target linux --config "$cfg" --data-dir /fw --memory 2G --cpus=3 --disk /cli.img)
if grep -qx -- 2G <<<"$out" && grep -qx -- 3 <<<"$out" && ! grep -q 4G <<<"$out" &&
	grep -q 'file=/cli.img' <<<"$out" && ! grep -q /cfg/a.img <<<"$out" && head -1 <<<"$out" | grep -qx /cfg/qemu; then
	pass "command line overrides the config file (a list replaces it)"
else
	fail "command line overrides the config file (a list replaces it)" "$(tr '\n' ' ' <<<"$out")"
fi
# the default file, and --no-config ignoring it
cp "$cfg" "$HOME/.config/egpu-vm/config"
out=$("$EV" run --dry-run --target linux --data-dir /fw)
grep -qx -- 4G <<<"$out" && pass "default config file ~/.config/egpu-vm/config" || fail "default config file" "$(tr '\n' ' ' <<<"$out")"
out=$("$EV" run --dry-run --target linux --data-dir /fw --no-config --accel tcg)
grep -qx -- 1G <<<"$out" && ! grep -q /cfg/ <<<"$out" && pass "--no-config" || fail "--no-config" "$(tr '\n' ' ' <<<"$out")"
rm "$HOME/.config/egpu-vm/config"
# bad config files: file:line and exit 2
printf 'memory=8G\nfrobs=1\n' >"$cfg"
expect "config unknown key" 2 "cfg:2: frobs '1': unknown setting" -- run --dry-run --config "$cfg"
printf '\n\njust words\n' >"$cfg"
expect "config line without =" 2 "cfg:3: not key=value" -- run --dry-run --config "$cfg"
printf 'cpus=many\n' >"$cfg"
expect "config bad value" 2 "cfg:1: cpus 'many': not a CPU count" -- run --dry-run --config "$cfg"
printf 'target=mac\n' >"$cfg"
expect "config target" 2 "command-line option only" -- run --dry-run --config "$cfg"
finish
