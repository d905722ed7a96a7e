#!/usr/bin/env bash
# build-mac.sh — build EgpuDext.dext with Apple's DriverKit SDK and sign it.
# Runs only on macOS with Xcode (xcrun, iig, codesign); elsewhere it says so
# and exits 2 (the compile check off a Mac is `make darwin`).
#
#   dext/build-mac.sh [--identity ID] [--profile FILE] [--bundle-id ID]
#                     [--out DIR] [--sign-qemu PATH]
#
#   --identity ID    codesign identity; default "-" (ad-hoc: loads only with
#                    SIP off and `systemextensionsctl developer on`)
#   --profile FILE   provisioning profile to embed (development- or
#                    distribution-signed dexts need one)
#   --bundle-id ID   bundle identifier instead of org.egpuvm.EgpuDext
#   --out DIR        where the bundle goes; default build/dext
#   --sign-qemu PATH also sign that QEMU binary with egpu-vm-client.entitlements
#
# Steps: iig turns each dext/*.iig into a header and an .iig.cpp (the RPC
# plumbing); clang++ compiles those, dext/*.cpp and dext/core/*.c for
# arm64-apple-driverkit; the link takes DriverKit and PCIDriverKit; the
# bundle is Info.plist + executable (+ embedded.provisionprofile), signed
# with EgpuDext.entitlements. See dext/README.md for installing it.
set -euo pipefail

if [ "$(uname -s)" != Darwin ]; then
	echo "build-mac.sh: builds the dext with Apple's DriverKit SDK, so it runs only on macOS (this is $(uname -s)); use 'make darwin' for the compile check here" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
identity=-
profile=
bundle_id=org.egpuvm.EgpuDext
out=$repo/build/dext
qemu=
while [ $# -gt 0 ]; do
	case "$1" in
	--identity) identity=$2; shift 2 ;;
	--profile) profile=$2; shift 2 ;;
	--bundle-id) bundle_id=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--sign-qemu) qemu=$2; shift 2 ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	*) echo "build-mac.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -z "$profile" ] || [ -f "$profile" ] || { echo "build-mac.sh: no profile at $profile" >&2; exit 1; }
[ -z "$qemu" ] || [ -x "$qemu" ] || { echo "build-mac.sh: no executable at $qemu" >&2; exit 1; }
case "$bundle_id" in
*[!A-Za-z0-9.-]*|'') echo "build-mac.sh: bad bundle id '$bundle_id'" >&2; exit 1 ;;
esac

sdk=$(xcrun --sdk driverkit --show-sdk-path)
iig=$(xcrun --sdk driverkit --find iig)
cxx=$(xcrun --sdk driverkit --find clang++)
cc=$(xcrun --sdk driverkit --find clang)
dk=$sdk/System/DriverKit
target=arm64-apple-driverkit${DRIVERKIT_MIN:-21.0}
frameworks=$dk/System/Library/Frameworks

gen=$out/gen
obj=$out/obj
bundle=$out/$bundle_id.dext
rm -rf "$gen" "$obj" "$bundle"
mkdir -p "$gen" "$obj" "$bundle"

sysflags=(-target "$target" -isysroot "$sdk" -iframework "$frameworks"
	-isystem "$dk/usr/include")
incs=(-I"$gen" -I"$here" -I"$here/core" -I"$repo/protocol")
cxxflags=(-std=gnu++17 -fno-exceptions -fno-rtti -O2 -g -Wall -Werror)
cflags=(-std=c11 -O2 -g -Wall -Werror)

# 1. iig: the generated header and dispatch code of each .iig class
for def in "$here"/*.iig; do
	name=$(basename "$def" .iig)
	echo "iig    $name.iig"
	"$iig" --def "$def" --header "$gen/$name.h" --impl "$gen/$name.iig.cpp" -- \
		"${sysflags[@]}" -x c++ -std=gnu++17 -fno-exceptions -fno-rtti \
		-D__IIG=1 -DPLATFORM_DriverKit=1
done

# 2. compile: the shell, its generated code, the portable core
objs=()
for src in "$here"/*.cpp "$gen"/*.iig.cpp; do
	o=$obj/$(basename "$src").o
	echo "c++    $(basename "$src")"
	"$cxx" "${sysflags[@]}" "${incs[@]}" "${cxxflags[@]}" -c "$src" -o "$o"
	objs+=("$o")
done
for src in "$here"/core/*.c; do
	o=$obj/$(basename "$src").o
	echo "cc     core/$(basename "$src")"
	"$cc" "${sysflags[@]}" "${incs[@]}" "${cflags[@]}" -c "$src" -o "$o"
	objs+=("$o")
done

# 3. link and bundle
echo "link   EgpuDext"
"$cxx" -target "$target" -isysroot "$sdk" -F"$frameworks" \
	-framework DriverKit -framework PCIDriverKit \
	"${objs[@]}" -o "$bundle/EgpuDext"
sed "s/org\.egpuvm\.EgpuDext/$bundle_id/g" "$here/Info.plist" >"$bundle/Info.plist"
plutil -lint "$bundle/Info.plist" >/dev/null
[ -z "$profile" ] || cp "$profile" "$bundle/embedded.provisionprofile"

# 4. sign (hardened runtime when not ad-hoc: notarisation requires it)
ents=$out/EgpuDext.entitlements
cp "$here/EgpuDext.entitlements" "$ents"
sign_opts=(--force --sign "$identity" --entitlements "$ents")
[ "$identity" = - ] || sign_opts+=(--options runtime --timestamp)
echo "sign   $bundle ($identity)"
codesign "${sign_opts[@]}" "$bundle"
codesign --verify --verbose "$bundle"

if [ -n "$qemu" ]; then
	echo "sign   $qemu (egpu-vm-client.entitlements)"
	codesign --force --sign "$identity" \
		--entitlements "$here/egpu-vm-client.entitlements" "$qemu"
fi

cat <<EOF
built $bundle
next: put it in a host app's Contents/Library/SystemExtensions/ and let the
app activate it (OSSystemExtensionRequest); see dext/README.md.
EOF
