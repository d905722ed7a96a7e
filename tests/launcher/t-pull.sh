#!/usr/bin/env bash
# tests/launcher/t-pull.sh - `egpu-vm pull`, `images` and `prune` against a
# real HTTP server: Debian's lighttpd, started here on 127.0.0.1 only (a free
# port, a temporary docroot and config; no system-wide configuration), with
# an access log that records each request's status, bytes and Range header.
#   - bad arguments: exit 2 and "egpu-vm VERB: ..." on stderr;
#   - a complete download, verified (--sha256, URL.sha256, catalog NAME),
#     stored as <cache>/images/sha256/<hex>, byte-identical to the source;
#   - an interrupted download resumed with a Range request (stopped by the
#     test hook EGPU_PULL_TEST_STOP_AFTER, and killed mid-transfer from a
#     throttled server), a server ignoring Range restarting cleanly;
#   - a wrong checksum: exit 5, expected and got named, the download
#     removed and the cache (an earlier good image) unharmed;
#   - images (text, --json) and prune (--dry-run, default, --keep, --all).
# Environment: EGPU_VM_BIN or EGPU_VM (the launcher; default
# build/launcher/egpu-vm), as tests/launcher/run.sh sets it.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
vm=${EGPU_VM_BIN:-${EGPU_VM:-$top/build/launcher/egpu-vm}}
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
check() { # NAME WHY-IF-FAILED COMMAND...
	local name=$1 why=$2; shift 2
	if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t-pull.XXXXXX")
httpd_pid=
cleanup() {
	[ -z "$httpd_pid" ] || kill "$httpd_pid" 2>/dev/null || true
	[ -z "$httpd_pid" ] || wait "$httpd_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$vm" ]; then
	fail pull-launcher "$vm is not built (make launcher)"
	exit 1
fi
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
if [ ! -x "$lighttpd" ]; then
	fail pull-lighttpd "lighttpd is not installed (scripts/deps.sh launcher)"
	exit 1
fi

# ---- the server ----------------------------------------------------------
doc=$tmp/doc
mkdir -p "$doc/slow" "$doc/norange"
head -c 3000000 /dev/urandom >"$doc/a.img"
head -c 2500000 /dev/urandom >"$doc/b.img"
head -c 2000000 /dev/urandom >"$doc/c.img"
cp "$doc/c.img" "$doc/slow/c.img"
cp "$doc/c.img" "$doc/norange/c.img"
cp "$doc/b.img" "$doc/b2.img"
cp "$doc/b.img" "$doc/bad.img"
sha() { sha256sum "$1" | cut -d' ' -f1; }
A=$(sha "$doc/a.img") B=$(sha "$doc/b.img") C=$(sha "$doc/c.img")
(cd "$doc" && sha256sum b.img >b.img.sha256)
E=$(printf 'e%.0s' $(seq 64))	# a hash no file here has
echo "$E  bad.img" >"$doc/bad.img.sha256"	# a sidecar that is wrong

log=$tmp/access.log
start_httpd() {
	local _
	for _ in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		cat >"$tmp/lighttpd.conf" <<-EOF
		server.document-root = "$doc"
		server.bind = "127.0.0.1"
		server.port = $port
		server.errorlog = "$tmp/error.log"
		server.modules = ( "mod_accesslog" )
		accesslog.filename = "$log"
		accesslog.format = "%r %>s %b range=%{Range}i"
		\$HTTP["url"] =~ "^/slow/" { connection.kbytes-per-second = 200 }
		\$HTTP["url"] =~ "^/norange/" { server.range-requests = "disable" }
		EOF
		"$lighttpd" -D -f "$tmp/lighttpd.conf" >"$tmp/lighttpd.out" 2>&1 &
		httpd_pid=$!
		for _ in $(seq 50); do
			if (: <>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				return 0
			fi
			kill -0 "$httpd_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$httpd_pid" 2>/dev/null || true
		wait "$httpd_pid" 2>/dev/null || true
		httpd_pid=
	done
	return 1
}
if ! start_httpd; then
	fail pull-httpd "lighttpd did not start: $(cat "$tmp/lighttpd.out" "$tmp/error.log" 2>/dev/null | head -c 300)"
	exit 1
fi
url=http://127.0.0.1:$port
# lighttpd writes its access log in batches: wait for a line to appear
logged() { # EXTENDED-REGEX
	local _
	for _ in $(seq 50); do
		grep -Eq "$1" "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

export EGPU_CACHE=$tmp/cache
unset EGPU_CATALOG EGPU_PULL_TEST_STOP_AFTER
img=$EGPU_CACHE/images
run() { # VERB ARGS... : exit status in $rc, output in $tmp/out, $tmp/err
	rc=0
	"$vm" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}
expect_rc() { # NAME WANT
	if [ "$rc" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "exit $rc, want $2; stderr: $(head -c 300 "$tmp/err")"
	fi
}
partials() { find "$img/partial" -name '*.part' 2>/dev/null | wc -l; }

# ---- bad arguments --------------------------------------------------------
bad() { # NAME VERB ARGS...
	local name=$1 verb=$2
	shift 2
	run "$verb" "$@"
	if [ "$rc" = 2 ] && grep -q "^egpu-vm $verb: " "$tmp/err"; then
		pass "usage-$name"
	else
		fail "usage-$name" "exit $rc, stderr: $(head -c 200 "$tmp/err")"
	fi
}
bad pull-nothing pull
bad pull-two pull "$url/a.img" "$url/b.img"
bad pull-short-sha pull "$url/a.img" --sha256 abc
bad pull-nonhex-sha pull "$url/a.img" --sha256 "${A:0:63}g"
bad pull-sha-no-value pull "$url/a.img" --sha256
bad pull-option pull "$url/a.img" --frobnicate
bad pull-bad-name pull "$url/a.img" --sha256 "$A" --name ../evil
bad pull-scheme pull "ftp://127.0.0.1/a.img" --sha256 "$A"
bad pull-url-space pull "$url/a b.img" --sha256 "$E" --name spaced
bad pull-no-sidecar pull "$url/a.img"	# no a.img.sha256 and no --sha256
bad images-arg images --frobnicate
bad prune-all-keep prune --all --keep x
bad prune-keep-empty prune --keep
bad prune-arg prune --frobnicate
run pull --help
check pull-help "pull --help: exit $rc or no usage" \
	bash -c "[ $rc = 0 ] && grep -q '^usage: egpu-vm pull' '$tmp/out'"

# ---- a complete download, verified and cached -----------------------------
run pull "$url/a.img" --sha256 "$A" --name alpha
expect_rc pull-complete 0
check pull-complete-cached "the cached image differs from the source" \
	cmp -s "$doc/a.img" "$img/sha256/$A"
check pull-complete-indexed "no 'alpha $A' in the index" \
	grep -q "^alpha $A " "$img/index"
check pull-complete-no-partial "a partial download was left" \
	test "$(partials)" = 0
cp "$img/sha256/$A" "$tmp/alpha.before" 2>/dev/null || : >"$tmp/alpha.before"

run pull "$url/a.img" --sha256 "${A^^}" --name alpha	# cached, any case
expect_rc pull-again-cached 0

run pull "$url/b.img"	# the hash from b.img.sha256, the name from the URL
expect_rc pull-sidecar 0
check pull-sidecar-cached "b.img is not cached under its hash" \
	bash -c "cmp -s '$doc/b.img' '$img/sha256/$B' && grep -q '^b.img $B ' '$img/index'"

run --json pull "$url/b2.img" --insecure-no-verify --name b-unchecked
expect_rc pull-insecure 0
check pull-insecure-json "--json result lacks the hash" \
	python3 -c "import json,sys; d = json.load(open('$tmp/out')); sys.exit(d['sha256'] != '$B' or d['name'] != 'b-unchecked')"

# ---- a catalog NAME -------------------------------------------------------
export EGPU_CATALOG=$tmp/catalog
printf '# test catalog\ncharlie %s %s\n' "$url/c.img" "$C" >"$EGPU_CATALOG"
run pull nosuch
expect_rc pull-catalog-unknown 6
run pull charlie
expect_rc pull-catalog 0
check pull-catalog-cached "charlie is not cached" \
	bash -c "cmp -s '$doc/c.img' '$img/sha256/$C' && grep -q '^charlie $C ' '$img/index'"
run pull charlie --sha256 "$A"
expect_rc pull-catalog-disagrees 2
printf 'broken line\n' >"$EGPU_CATALOG"
run pull charlie
expect_rc pull-catalog-malformed 1
unset EGPU_CATALOG
run pull "$url/missing.img" --sha256 "$E" --name gone
expect_rc pull-404 6
check pull-404-no-partial "a failed download left a partial file" \
	test "$(partials)" = 0

# ---- resume: stopped after 1 MB, then a Range request ---------------------
rm -f "$img/sha256/$C"	# make charlie's image missing: it is fetched again
EGPU_PULL_TEST_STOP_AFTER=1000000 run pull "$url/c.img" --sha256 "$C" --name c1
expect_rc resume-interrupted 1
part=$img/partial/$C.part
check resume-partial-kept "no 1000000-byte $part" \
	bash -c "[ -f '$part' ] && [ \$(stat -c %s '$part') = 1000000 ]"
run pull "$url/c.img" --sha256 "$C" --name c1
expect_rc resume-complete 0
check resume-range-sent "no 206 answer to 'Range: bytes=1000000-' in the log" \
	logged '^GET /c.img HTTP/1.1 206 1000000 range=bytes=1000000-$'
check resume-verified "the resumed image differs from the source" \
	cmp -s "$doc/c.img" "$img/sha256/$C"
check resume-said-so "pull did not say it resumed" grep -q 'resumed at byte 1000000' "$tmp/out"

# ---- resume: a pull killed mid-transfer from a throttled server ----------
rm -f "$img/sha256/$C"
"$vm" pull "$url/slow/c.img" --sha256 "$C" --name c2 >"$tmp/out" 2>&1 &
pull_pid=$!
for _ in $(seq 100); do
	sz=$(stat -c %s "$part" 2>/dev/null || echo 0)
	[ "$sz" -gt 300000 ] && break
	sleep 0.1
done
kill -KILL "$pull_pid" 2>/dev/null || true
wait "$pull_pid" 2>/dev/null || true
killed_at=$(stat -c %s "$part" 2>/dev/null || echo 0)
check resume-killed-partial "the killed pull left $killed_at bytes" \
	bash -c "[ $killed_at -gt 0 ] && [ $killed_at -lt 2000000 ]"
run pull "$url/slow/c.img" --sha256 "$C" --name c2
expect_rc resume-after-kill 0
check resume-after-kill-range "no Range request from byte $killed_at" \
	logged "^GET /slow/c.img HTTP/1.1 206 $((2000000 - killed_at)) range=bytes=$killed_at-\$"
check resume-after-kill-verified "the image differs from the source" \
	cmp -s "$doc/c.img" "$img/sha256/$C"

# ---- a server that ignores Range: the download starts over ---------------
rm -f "$img/sha256/$C"
EGPU_PULL_TEST_STOP_AFTER=500000 run pull "$url/norange/c.img" --sha256 "$C" --name c3
expect_rc norange-interrupted 1
run pull "$url/norange/c.img" --sha256 "$C" --name c3
expect_rc norange-complete 0
check norange-whole-file "no 200 answer to the Range request" \
	logged '^GET /norange/c.img HTTP/1.1 200 2000000 range=bytes=500000-$'
check norange-verified "the image differs from the source" \
	cmp -s "$doc/c.img" "$img/sha256/$C"
check norange-said-so "pull did not say the server ignored Range" \
	grep -q 'ignored the Range' "$tmp/out"

# ---- partial files that are already whole, or wrong -----------------------
rm -f "$img/sha256/$C"
cp "$doc/c.img" "$part"	# a pull that ended before it could store the file
run pull "$url/c.img" --sha256 "$C" --name c4
expect_rc partial-whole 0
check partial-whole-416 "no 416 answer to 'Range: bytes=2000000-'" \
	logged '^GET /c.img HTTP/1.1 416 .* range=bytes=2000000-$'
check partial-whole-verified "the image differs from the source" \
	cmp -s "$doc/c.img" "$img/sha256/$C"
rm -f "$img/sha256/$C"
head -c 2000000 /dev/zero >"$part"	# as long as the image, but wrong
run pull "$url/c.img" --sha256 "$C" --name c4
expect_rc partial-whole-wrong 0
check partial-whole-wrong-verified "the image differs from the source" \
	cmp -s "$doc/c.img" "$img/sha256/$C"
rm -f "$img/sha256/$C"
head -c 700000 /dev/zero >"$part"	# a wrong prefix: found out at the end
run pull "$url/c.img" --sha256 "$C" --name c4
expect_rc partial-bad-prefix-refused 5
check partial-bad-prefix-removed "the bad partial file was kept" test ! -e "$part"
run pull "$url/c.img" --sha256 "$C" --name c4	# so the next pull starts clean
expect_rc partial-bad-prefix-retry 0
check partial-bad-prefix-verified "the image differs from the source" \
	cmp -s "$doc/c.img" "$img/sha256/$C"

# ---- a wrong checksum: refused, nothing good touched ----------------------
cp "$img/index" "$tmp/index.before" 2>/dev/null || true
blobs_before=$(find "$img/sha256" -type f 2>/dev/null | sort || true)
# (a hash already cached is not fetched at all: E is one nothing has)
run pull "$url/b.img" --sha256 "$E" --name alpha	# to replace alpha: refused
expect_rc verify-refused 5
check verify-message "stderr does not name expected and got" \
	bash -c "grep -q 'expected sha256 $E' '$tmp/err' && grep -q 'got $B' '$tmp/err'"
check verify-cache-unharmed "alpha's image changed" \
	bash -c "cmp -s '$tmp/alpha.before' '$img/sha256/$A' && [ \$(sha256sum < '$img/sha256/$A' | cut -d' ' -f1) = $A ]"
check verify-index-unharmed "the index changed" cmp -s "$tmp/index.before" "$img/index"
check verify-no-new-blob "the cache's images changed" \
	test "$(find "$img/sha256" -type f 2>/dev/null | sort)" = "$blobs_before"
check verify-download-removed "the bad download was kept" test "$(partials)" = 0
run pull "$url/bad.img" --name bad	# a wrong URL.sha256 is refused too
expect_rc verify-sidecar-refused 5
check verify-sidecar-unharmed "alpha's image changed" \
	cmp -s "$tmp/alpha.before" "$img/sha256/$A"

# the log is in order: once the last request is in, so are all before it
logged '^GET /bad.img ' || true
check pull-fetches-once "a.img was fetched $(grep -c '^GET /a.img ' "$log") times, not once: by a refused or an already cached pull" \
	test "$(grep -c '^GET /a.img ' "$log")" = 1

# ---- images ----------------------------------------------------------------
run images
expect_rc images 0
check images-lists "images does not list alpha with its hash" \
	grep -Eq "^alpha +2\.9 MiB +[0-9T:Z-]+ +$A\$" "$tmp/out"
run images --json
check images-json "images --json is not the cache" \
	python3 -c "
import json, sys
d = json.load(open('$tmp/out'))
names = {i['name']: i for i in d['images']}
sys.exit(not (names['alpha']['sha256'] == '$A' and names['alpha']['size'] == 3000000
	      and set(names) == {'alpha', 'b.img', 'b-unchecked', 'charlie', 'c1', 'c2', 'c3', 'c4'}))"

# ---- prune -------------------------------------------------------------------
EGPU_PULL_TEST_STOP_AFTER=100000 run pull "$url/a.img" --sha256 "$E" --name junk
run pull "$url/c.img" --sha256 "$C" --name b.img	# b's image loses its name
run pull "$url/c.img" --sha256 "$C" --name b-unchecked
check prune-setup "setup: no partial or no unnamed image" \
	bash -c "[ $(partials) = 1 ] && [ -f '$img/sha256/$B' ]"
find "$img" -type f 2>/dev/null | sort >"$tmp/files.before" || true
run prune --dry-run
expect_rc prune-dry-run 0
check prune-dry-run-lists "--dry-run does not list the unnamed image and the partial" \
	bash -c "grep -q 'would remove image $B' '$tmp/out' && grep -q 'would remove partial download $E.part' '$tmp/out'"
check prune-dry-run-nothing "--dry-run removed files" \
	bash -c "find '$img' -type f | sort | cmp -s - '$tmp/files.before'"
run prune
expect_rc prune-default 0
check prune-default-removed "unnamed image or partial still there" \
	bash -c "[ ! -e '$img/sha256/$B' ] && [ $(partials) = 0 ] && grep -q 'removed image $B' '$tmp/out'"
check prune-default-kept "a named image was removed" \
	bash -c "cmp -s '$doc/a.img' '$img/sha256/$A' && cmp -s '$doc/c.img' '$img/sha256/$C'"
run prune --keep alpha nosuch
expect_rc prune-keep-unknown 6
check prune-keep-unknown-nothing "a refused prune removed something" \
	test -f "$img/sha256/$C"
run prune --keep alpha
expect_rc prune-keep 0
check prune-keep-result "not exactly alpha left" \
	bash -c "[ ! -e '$img/sha256/$C' ] && cmp -s '$doc/a.img' '$img/sha256/$A' && [ \$(grep -vc '^#' '$img/index') = 1 ]"
run prune --all
expect_rc prune-all 0
check prune-all-empty "images remain after --all" \
	bash -c "[ -z \"\$(ls '$img/sha256')\" ] && [ \$(grep -vc '^#' '$img/index') = 0 ]"
run images
check images-empty "images of an empty cache says nothing useful" \
	grep -q '^no images in' "$tmp/out"

# a partial file a running pull is writing is not pruned from under it
"$vm" pull "$url/slow/c.img" --sha256 "$C" --name c5 >/dev/null 2>&1 &
pull_pid=$!
for _ in $(seq 100); do
	[ "$(stat -c %s "$part" 2>/dev/null || echo 0)" -gt 0 ] && break
	sleep 0.1
done
run prune
check prune-spares-running-pull "prune removed a running pull's file (exit $rc)" \
	bash -c "[ $rc = 0 ] && [ -s '$part' ] && grep -q '^kept $C.part: a pull is downloading it' '$tmp/out'"
kill -KILL "$pull_pid" 2>/dev/null || true
wait "$pull_pid" 2>/dev/null || true
run prune
check prune-after-pull-died "the dead pull's partial file was not pruned" \
	bash -c "[ $rc = 0 ] && [ ! -e '$part' ]"

[ "$fails" = 0 ]
