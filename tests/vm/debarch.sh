# shellcheck shell=bash
# tests/vm/debarch.sh — sourced by kernel.sh and prepare.sh: apt for a guest
# architecture, and Debian packages fetched (never installed) into the cache.
#
# The host architecture uses the machine's own apt lists. Any other one
# (arm64) uses the private apt state guest/build.sh keeps for its cross
# builds, ${EGPU_CACHE:-~/.cache/egpu-vm}/kernels/apt-arm64 with the same
# options and the same refresh rule, so both scripts see the same candidates
# and the machine's apt configuration is never touched.
#   deb_apt_cache ARCH ARGS...          apt-cache for ARCH
#   deb_download ARCH DIR PKG...        apt-get download into DIR
#   deb_unpacked ARCH PKG               PKG's files, unpacked once under
#                                       the cache's guest-ARCH/PKG/root;
#                                       prints that directory
#   deb_series_opts SERIES              apt options selecting a kernel
#                                       series, one a line: stable (none),
#                                       bpo (-t CODENAME-backports, the
#                                       codename from /etc/os-release)
# Needs die() from the sourcing script.

deb_cache=${EGPU_CACHE:-$HOME/.cache/egpu-vm}
deb_host_arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)

deb_series_opts() { # SERIES
	local codename=''
	case $1 in
	stable) ;;
	bpo)
		# shellcheck disable=SC1091 # the machine's own release file
		codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
		[ -n "$codename" ] || { echo "no VERSION_CODENAME in /etc/os-release" >&2; return 1; }
		printf '%s\n' -t "$codename-backports"
		;;
	*) echo "unknown kernel series '$1' (stable or bpo)" >&2; return 1 ;;
	esac
}

deb_foreign_opts() { # ARCH: apt options for the private state of ARCH
	local d=$deb_cache/kernels/apt-$1
	printf '%s\n' -o "Dir::State::Lists=$d/lists" -o "Dir::State::status=$d/status" \
		-o "Dir::Cache=$d/cache" -o "APT::Architecture=$1" -o "APT::Architectures=$1" \
		-o APT::Sandbox::User=root -o Acquire::Languages=none
}

deb_foreign_lists() { # ARCH: create or refresh the private lists
	local d=$deb_cache/kernels/apt-$1 opts
	mapfile -t opts < <(deb_foreign_opts "$1")
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	[ -f "$d/status" ] || : >"$d/status"
	if [ ! -f "$d/updated" ] ||
	   [ -n "$(find /var/lib/apt/lists -maxdepth 1 -newer "$d/updated" -name '*Packages*' 2>/dev/null | head -n1)" ]; then
		echo "vm: refreshing the $1 package lists (private, under $d)" >&2
		apt-get -q "${opts[@]}" update >/dev/null || return 1
		touch "$d/updated"
	fi
}

deb_apt_cache() { # ARCH ARGS...
	local arch=$1 opts
	shift
	if [ "$arch" = "$deb_host_arch" ]; then
		apt-cache "$@"
		return
	fi
	deb_foreign_lists "$arch" || return 1
	mapfile -t opts < <(deb_foreign_opts "$arch")
	apt-cache "${opts[@]}" "$@"
}

deb_download() { # ARCH DIR PKG...
	local arch=$1 dir=$2 opts=()
	shift 2
	if [ "$arch" != "$deb_host_arch" ]; then
		deb_foreign_lists "$arch" || return 1
		mapfile -t opts < <(deb_foreign_opts "$arch")
	fi
	mkdir -p "$dir"
	# apt's sandbox user cannot write to a root-owned cache; say so quietly
	(cd "$dir" && apt-get -q "${opts[@]}" download "$@" 2>&1 >/dev/null | grep -v 'unsandboxed' >&2) || true
	[ -n "$(ls "$dir"/*.deb 2>/dev/null)" ]
}

deb_unpacked() { # ARCH PKG
	local arch=$1 pkg=$2 dir deb
	dir=$deb_cache/guest-$arch/$pkg
	if [ -f "$dir/stamp" ] && [ -d "$dir/root" ]; then
		echo "$dir/root"
		return
	fi
	mkdir -p "$dir"
	deb=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		echo "vm: downloading $pkg ($arch)" >&2
		deb_download "$arch" "$dir" "$pkg" || die "apt-get download $pkg ($arch) failed"
		deb=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
		[ -n "$deb" ] || die "apt-get download $pkg ($arch) gave no ${pkg}_*.deb"
	fi
	rm -rf "$dir/root"
	dpkg-deb -x "$deb" "$dir/root"
	basename "$deb" >"$dir/stamp"
	echo "$dir/root"
}
