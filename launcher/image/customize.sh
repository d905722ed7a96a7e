#!/usr/bin/env bash
# launcher/image/customize.sh ROOT DKMS_SRC USER CONSOLE RECIPE - mmdebstrap's
# customize hook (build.sh): install apple_dma through DKMS, load it early,
# add the console, the users and the self-check unit.
set -euo pipefail

root=$1 src=$2 user=$3 console=$4 recipe=$5
ch() { chroot "$root" "$@"; }
die() { echo "egpu-vm image: customize: $*" >&2; exit 1; }

kv=$(ls "$root/lib/modules")
[ "$(echo "$kv" | wc -w)" = 1 ] || die "expected one kernel, found '$kv'"

# DKMS: the source tree where dkms wants it, then add + build + install for
# the image's kernel (not the running one). POST_INSTALL puts the softdeps
# into /etc/modprobe.d.
cp -a "$src" "$root/usr/src/apple_dma-1.0"
ch dkms add apple_dma/1.0
ch dkms install apple_dma/1.0 -k "$kv"
ch modinfo -k "$kv" apple_dma >/dev/null || die "dkms install left no apple_dma for $kv"
[ -f "$root/etc/modprobe.d/apple_dma.conf" ] || die "dkms did not install the softdeps"

# Early: modules-load.d for the booted system, and the initramfs, since
# initramfs-tools' MODULES=most puts nvme and the GPU drivers there: listing
# apple_dma in its modules file copies it (and the softdeps from
# /etc/modprobe.d) into the initramfs and loads it there.
echo apple_dma >"$root/etc/modules-load.d/apple_dma.conf"
grep -qx apple_dma "$root/etc/initramfs-tools/modules" ||
	echo apple_dma >>"$root/etc/initramfs-tools/modules"
ch update-initramfs -u -k "$kv"

# Console and users: root logs in on the serial console without a password
# (a test image; set one with passwd), USER likewise, with a home.
echo egpu-guest >"$root/etc/hostname"
echo 'LABEL=egpu-root / ext4 defaults,errors=remount-ro 0 1' >"$root/etc/fstab"
ch passwd -d root >/dev/null
ch useradd -m -s /bin/bash -G video,render "$user" 2>/dev/null ||
	ch useradd -m -s /bin/bash "$user"
ch passwd -d "$user" >/dev/null
ch systemctl enable "serial-getty@$console.service" >/dev/null 2>&1

# The self-check (runs only with egpu.check on the kernel command line).
install -m 755 "$recipe/egpu-image-check" "$root/usr/local/sbin/egpu-image-check"
install -m 644 "$recipe/egpu-image-check.service" \
	"$root/etc/systemd/system/egpu-image-check.service"
ch systemctl enable egpu-image-check.service >/dev/null 2>&1

# No machine-specific state in the image.
rm -f "$root/var/lib/dkms/mok.key" "$root/var/lib/dkms/mok.pub"
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
