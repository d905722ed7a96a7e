#!/usr/bin/env bash
# t-usage.sh — --help of every verb, --version, and bad arguments to every
# verb: a clear "egpu-vm VERB: ..." error and exit 2 (EGPU_EXIT_USAGE).
. "$(dirname "$0")/lib.sh"
verbs=(doctor list-devices run stats demo pull images prune image)

out=$("$EV" --help) && grep -q '^usage: egpu-vm' <<<"$out" && pass "egpu-vm --help" || fail "egpu-vm --help" "$out"
out=$("$EV" --version) && grep -qE '^egpu-vm [0-9]+\.[0-9]+' <<<"$out" && pass "--version" || fail "--version" "$out"
for v in "${verbs[@]}"; do
	out=$("$EV" "$v" --help 2>&1)
	rc=$?
	if [ $rc = 0 ] && grep -q "usage: egpu-vm $v" <<<"$out"; then pass "$v --help"
	else fail "$v --help" "exit $rc: $(head -2 <<<"$out")"; fi
	expect "$v --no-such-option" 2 "^egpu-vm $v: " -- "$v" --no-such-option
done
expect "no verb" 2 "no verb" --
expect "unknown verb" 2 "unknown verb 'frobnicate'" -- frobnicate
expect "unknown global option" 2 "unknown option '--bogus'" -- --bogus doctor
expect "doctor extra argument" 2 "doctor: unknown argument 'x'" -- doctor x
expect "list-devices extra argument" 2 "list-devices: unknown argument" -- list-devices --all
expect "run --memory bad" 2 "run: --memory '12Q'" -- run --dry-run --memory 12Q
expect "run --memory too small" 2 "at least 64M" -- run --dry-run --memory 1M
expect "run --cpus 0" 2 "run: --cpus '0'" -- run --dry-run --cpus 0
expect "run --target bad" 2 "not mac or linux" -- run --dry-run --target windows
expect "run --accel bad" 2 "not one of hvf, kvm, tcg" -- run --dry-run --accel xen
expect "run hvf on linux" 2 "hvf is macOS only" -- run --dry-run --target linux --accel hvf
expect "run kvm on mac" 2 "a Mac has hvf or tcg" -- run --dry-run --target mac --accel kvm
expect "run --device on linux" 2 "--device is for --target mac" -- run --dry-run --target linux --device 05:00.0
expect "run --managed on mac" 2 "--managed is for --target linux" -- run --dry-run --target mac --managed nvme
expect "run --managed nvme without disk" 2 "needs a --disk" -- run --dry-run --target linux --managed nvme --no-config
expect "run missing value" 2 "--disk needs a value" -- run --dry-run --disk
expect "run stray argument" 2 "unexpected argument 'foo'" -- run --dry-run foo
expect "run --initrd alone" 2 "--initrd needs --kernel" -- run --dry-run --initrd /x
expect "run bad name" 2 "a name is letters" -- run --dry-run --name 'a/b'
expect "run missing config" 6 "cannot read config file /nonexistent" -- run --dry-run --config /nonexistent
expect "run --config + --no-config" 2 "contradict" -- run --dry-run --config /x --no-config
expect "run mac for real on linux" 3 "cannot run here" -- run --target mac --no-config
expect "stats --socket without value" 2 "--socket needs a value" -- stats --socket
expect "stats --socket and --name" 2 "give one" -- stats --socket /x --name y
expect "stats no VM" 6 "no VM with a QMP socket at /nonexistent.qmp" -- stats --socket /nonexistent.qmp
expect "demo --mib bad" 2 "--mib 'lots'" -- demo --mib lots
expect "demo --gpu-mib 0" 2 "--gpu-mib '0'" -- demo --gpu-mib 0
expect "list-devices on Linux" 3 "macOS only" -- list-devices
finish
