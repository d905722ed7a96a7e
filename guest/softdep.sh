#!/bin/sh
# guest/softdep.sh install|remove - DKMS hook (dkms.conf): put apple_dma.conf
# (modprobe softdeps: apple_dma before the managed device's driver) into
# /etc/modprobe.d, or take it out. Run from the DKMS source tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dst=/etc/modprobe.d/apple_dma.conf
case "${1:-}" in
install)
	install -m 644 "$here/apple_dma.conf" "$dst"
	echo "apple_dma: softdeps in $dst"
	;;
remove)
	rm -f "$dst"
	;;
*)
	echo "usage: $0 install|remove" >&2
	exit 2
	;;
esac
