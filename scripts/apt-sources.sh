#!/usr/bin/env bash
# apt-sources.sh — add bookworm-backports (deb + deb-src) and bookworm deb-src,
# taking the archive address and keyring from the machine's existing Debian
# entry (deb822 or one-line format). Prints nothing when already present.
set -euo pipefail
out=/etc/apt/sources.list.d/egpu-vm.sources
[ -f "$out" ] && exit 0

uri='' keyring=''
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	# first stanza whose Suites names plain "bookworm"
	read -r uri keyring < <(awk '
		/^[[:space:]]*$/ { if (ok && u != "") { print u, k; exit } u=""; k=""; ok=0; next }
		/^URIs:/      { u=$2 }
		/^Signed-By:/ { k=$2 }
		/^Suites:/    { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok=1 }
		END { if (ok && u != "") print u, k }' "$f") || true
	[ -n "$uri" ] && break
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
	uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
if [ -z "$uri" ]; then
	echo "apt-sources.sh: no Debian bookworm entry found in /etc/apt to derive backports from" >&2
	exit 1
fi
[ -n "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ "$(id -u)" != 0 ]; then
	echo "apt-sources.sh: need root to add $out" >&2
	exit 1
fi
cat >"$out" <<SRC
# written by egpu-vm scripts/apt-sources.sh from this machine's Debian entry
Types: deb deb-src
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $keyring

Types: deb-src
URIs: $uri
Suites: bookworm
Components: main
Signed-By: $keyring
SRC
