#!/usr/bin/env bash
# t-doctor.sh — `egpu-vm doctor`: --json parses, its verdict matches the exit
# code (0 all set, 4 something missing) and each missing check has a fix;
# a missing QEMU is reported as missing with its fix.
. "$(dirname "$0")/lib.sh"
export EGPU_REPO=$REPO
check() {	# name, env...
	local name=$1 json rc
	shift
	json=$(env "$@" "$EV" doctor --json)
	rc=$?
	if python3 - "$rc" "$json" <<'PY'
import json, sys
rc, d = int(sys.argv[1]), json.loads(sys.argv[2])
assert d["host"].startswith("Linux"), d["host"]
assert isinstance(d["checks"], list) and len(d["checks"]) >= 5
missing = [c for c in d["checks"] if c["status"] == "missing"]
assert d["ok"] == (not missing) and rc == (0 if d["ok"] else 4), (rc, d["ok"])
for c in d["checks"]:
    assert c["status"] in ("ok", "missing", "note") and c["name"], c
for c in missing:
    assert c["fix"], c
PY
	then pass "doctor --json $name"; else fail "doctor --json $name" "exit $rc: $json"; fi
}
check "(this host)"
check "(no QEMU)" EGPU_QEMU=/nonexistent/qemu
json=$(EGPU_QEMU=/nonexistent/qemu "$EV" doctor --json)
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
q = [c for c in d["checks"] if c["name"].startswith("QEMU")]
assert q and q[0]["status"] == "missing" and "qemu/build.sh" in q[0]["fix"], q
assert not d["ok"]' "$json" && pass "doctor: a missing QEMU says how to build it" || fail "doctor: missing QEMU" "$json"
out=$(EGPU_QEMU=/nonexistent/qemu "$EV" doctor)
[ $? = 4 ] && grep -q 'MISSING  QEMU' <<<"$out" && grep -q 'fix: qemu/build.sh' <<<"$out" &&
	pass "doctor table" || fail "doctor table" "$out"
finish
