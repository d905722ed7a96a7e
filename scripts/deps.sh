#!/usr/bin/env bash
# deps.sh GROUP... — install the Debian packages a make target needs.
#
# Each group lists its packages in scripts/deps.d/GROUP.list, one per line;
# a "@backports" suffix takes the package from bookworm-backports. The
# backports (and deb-src) entries are derived from this machine's own apt
# source for Debian, so no archive address is written down here.
# Idempotent and silent when everything is present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=900 -o APT::Install-Recommends=false)
export DEBIAN_FRONTEND=noninteractive

want_plain=()
want_bpo=()
need_bpo=0
for group in "$@"; do
	list="$here/deps.d/$group.list"
	[ -f "$list" ] || { echo "deps.sh: unknown group '$group' (no $list)" >&2; exit 2; }
	while read -r line; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -n "$line" ] || continue
		case "$line" in
		*@backports) pkg=${line%@backports}; need_bpo=1
			dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || want_bpo+=("$pkg") ;;
		*@source) need_bpo=1 ;;   # only needs the deb-src entries
		*) dpkg-query -W -f='${Status}' "$line" 2>/dev/null | grep -q 'ok installed' || want_plain+=("$line") ;;
		esac
	done <"$list"
done

[ "$need_bpo" = 1 ] && "$here/apt-sources.sh"
[ ${#want_plain[@]} -eq 0 ] && [ ${#want_bpo[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: ${want_plain[*]} ${want_bpo[*]}; run as root or install them" >&2
	exit 1
fi
echo "deps.sh: installing ${want_plain[*]} ${want_bpo[*]}" >&2
stamp=/var/lib/apt/periodic/egpu-vm-update-stamp
update() {
	apt-get -q -o DPkg::Lock::Timeout=900 update >/dev/null
	mkdir -p "$(dirname "$stamp")" && touch "$stamp"
}
# lists older than a day, or older than our source entries, are refreshed
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ] ||
	[ -n "$(find /etc/apt/sources.list.d -newer "$stamp" 2>/dev/null)" ]; then
	update
fi
install() {   # a stale list shows as a failed download: refresh once, retry
	apt-get "${APT_OPTS[@]}" "$@" >/dev/null || { update && apt-get "${APT_OPTS[@]}" "$@" >/dev/null; }
}
[ ${#want_plain[@]} -eq 0 ] || install install "${want_plain[@]}"
[ ${#want_bpo[@]} -eq 0 ] || install -t bookworm-backports install "${want_bpo[@]}"
