#!/usr/bin/env bash
# 20-dext.sh — the dext, checked off a Mac (part of `make darwin`).
#
#   object       every dext/*.cpp (clang++-19) and dext/core/*.c (clang-19)
#                compiled for arm64-apple-driverkit21, -Wall -Werror, against
#                shim/DriverKit (not Apple's SDK: see its README) + protocol/
#                + dext/core; the result must be a Mach-O arm64 object built
#                for the DriverKit platform
#   iig          each dext/*.iig has its hand-written iig header in
#                shim/DriverKit/iig/ declaring the same class and methods
#   plist        dext/Info.plist and the entitlements parse (plistlib) and
#                hold the keys and values the dext relies on
#
# One line per file: "darwin: ok|FAIL <file> (<how>)"; exits 1 if any failed.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=../darwin-lib.sh
. "$(dirname "$0")/../darwin-lib.sh"

target=arm64-apple-driverkit21
out=build/darwin/dext
mkdir -p "$out"
need clang++-19 clang-19 llvm-readobj python3

incs=(-Ishim/DriverKit -Ishim/DriverKit/iig -Iprotocol -Idext/core -Idext)

compile() {	# compiler, source, language flags...
	compile_object "$out" driverkit "$2" "$1" -target "$target" -ffreestanding "${@:3}" \
		-Wall -Werror "${incs[@]}"
}

shopt -s nullglob
srcs=(dext/*.cpp)
[ ${#srcs[@]} -gt 0 ] || fail dext/ "object: no dext/*.cpp"
for src in "${srcs[@]}"; do
	compile clang++-19 "$src" -std=c++17 -fno-exceptions -fno-rtti
done
for src in dext/core/*.c; do
	compile clang-19 "$src" -std=c11
done

# The .iig files are not compiled here (no iig); their stand-ins are.
for def in dext/*.iig; do
	hdr=shim/DriverKit/iig/$(basename "$def" .iig).h
	log=$out/$(basename "$def").log
	if python3 - "$def" "$hdr" >"$log" 2>&1 <<'EOF'
import re, sys
def_path, hdr_path = sys.argv[1], sys.argv[2]
try:
    hdr = open(hdr_path).read()
except OSError:
    sys.exit(f"no hand-written iig header {hdr_path}")
src = re.sub(r"/\*.*?\*/|//[^\n]*", "", open(def_path).read(), flags=re.S)
classes = re.findall(r"class\s+(\w+)\s*:\s*public\s+(\w+)", src)
if not classes:
    sys.exit(f"{def_path}: no class")
bad = []
for name, base in classes:
    if not re.search(rf"class\s+{name}\s*:\s*public\s+{base}\b", hdr):
        bad.append(f"class {name} : public {base} not declared in {hdr_path}")
# every method the .iig declares must be declared (or _Impl'd) in the header
for m in re.findall(r"virtual\s+[\w\s\*]+?\b(\w+)\s*\(", src):
    if not re.search(rf"\b{m}(_Impl)?\s*\(", hdr):
        bad.append(f"method {m} of {def_path} missing from {hdr_path}")
    if re.search(rf"\b{m}\s*\([^;]*\)\s*TYPE\(", src, re.S) and \
       not re.search(rf"CreateAction{m}\s*\(", hdr):
        bad.append(f"typed method {m}: CreateAction{m} missing from {hdr_path}")
if bad:
    sys.exit("\n".join(bad))
EOF
	then
		ok "$def" "iig: $hdr in step"
	else
		fail "$def" "iig: $hdr out of step" "$log"
	fi
done

# Info.plist and entitlements: well-formed, with what the dext relies on.
log=$out/plist.log
python3 - >"$log" 2>&1 <<'EOF'
import plistlib, re, sys

def load(path):
    try:
        with open(path, "rb") as f:
            return plistlib.load(f), None
    except Exception as e:  # any parse error is the finding
        return None, f"{path}: not a well-formed plist: {e}"

abi = open("protocol/apple_dext.h").read()
def abi_str(name):
    m = re.search(rf'#define\s+{name}\s+"([^"]+)"', abi)
    return m.group(1) if m else None
service, uclient = abi_str("DEXT_SERVICE_CLASS"), abi_str("DEXT_USER_CLIENT_CLASS")
iig = ""
import glob
for p in glob.glob("dext/*.iig"):
    iig += open(p).read()
iig_classes = set(re.findall(r"class\s+(\w+)\s*:\s*public", iig))
QUIET = "EgpuQuietFunction"
WANT_CLASSES = {  # class match -> the class that must take it
    "0x03000000&0xffff0000": service,   # VGA-compatible display
    "0x03020000&0xffff0000": service,   # 3D controller
    "0x04030000&0xffff0000": QUIET,     # HD audio sibling
}

def vendors(match):
    """Vendor ids named by an IOPCIPrimaryMatch string: '0x0000VVVV&0x0000ffff ...'."""
    out = set()
    for term in match.split():
        m = re.fullmatch(r"0x([0-9a-fA-F]{8})&0x0000ffff", term)
        if not m:
            return None
        out.add(int(m.group(1), 16) & 0xffff)
    return out

results = []
def check(path, problems):
    results.append((path, problems))

# --- Info.plist
info, err = load("dext/Info.plist")
p = [err] if err else []
dext_vendors = set()
if info is not None:
    bid = info.get("CFBundleIdentifier")
    if not bid:
        p.append("CFBundleIdentifier missing")
    if info.get("CFBundlePackageType") != "DEXT":
        p.append("CFBundlePackageType is not DEXT")
    if info.get("CFBundleExecutable") != "EgpuDext":
        p.append("CFBundleExecutable is not EgpuDext (build-mac.sh links that name)")
    pers = info.get("IOKitPersonalities") or {}
    if not pers:
        p.append("no IOKitPersonalities")
    seen = {}
    for name, d in pers.items():
        where = f"personality {name}"
        for key, want in (("IOProviderClass", "IOPCIDevice"), ("IOClass", "IOUserService"),
                          ("CFBundleIdentifier", bid), ("IOUserServerName", bid),
                          ("CFBundleIdentifierKernel", "com.apple.kpi.iokit")):
            if d.get(key) != want:
                p.append(f"{where}: {key} is {d.get(key)!r}, want {want!r}")
        if d.get("IOPCITunnelCompatible") is not True:
            p.append(f"{where}: IOPCITunnelCompatible must be true (Thunderbolt)")
        if (d.get("IOPropertyMatch") or {}).get("IOPCITunnelled") is not True:
            p.append(f"{where}: must match tunnelled functions only (IOPropertyMatch IOPCITunnelled)")
        cls = d.get("IOUserClass")
        if cls not in iig_classes:
            p.append(f"{where}: IOUserClass {cls!r} is no class of dext/*.iig")
        v = vendors(d.get("IOPCIPrimaryMatch", ""))
        if not v:
            p.append(f"{where}: IOPCIPrimaryMatch must list vendors as 0x0000VVVV&0x0000ffff")
        else:
            dext_vendors |= v
        cm = d.get("IOPCIClassMatch")
        if cm not in WANT_CLASSES:
            p.append(f"{where}: IOPCIClassMatch {cm!r} is none of {sorted(WANT_CLASSES)}")
        else:
            seen[cm] = cls
        uc = d.get("UserClientProperties")
        if cls == service:
            if not uc or uc.get("IOClass") != "IOUserUserClient" or uc.get("IOUserClass") != uclient:
                p.append(f"{where}: UserClientProperties must create IOUserUserClient/{uclient}")
        elif uc is not None:
            p.append(f"{where}: {cls} must offer no user client")
    for cm, cls in WANT_CLASSES.items():
        if seen.get(cm) != cls:
            p.append(f"class {cm} must be matched by {cls}, is {seen.get(cm)!r}")
    if uclient not in iig_classes:
        p.append(f"user client class {uclient!r} (apple_dext.h) is no class of dext/*.iig")
check("dext/Info.plist", p)

# --- the dext's entitlements
ent, err = load("dext/EgpuDext.entitlements")
p = [err] if err else []
if ent is not None:
    for key in ("com.apple.developer.driverkit", "com.apple.security.app-sandbox",
                "com.apple.developer.driverkit.allow-any-userclient-access"):
        if ent.get(key) is not True:
            p.append(f"{key} must be true")
    pci = ent.get("com.apple.developer.driverkit.transport.pci")
    granted = set()
    if not isinstance(pci, list) or not pci:
        p.append("com.apple.developer.driverkit.transport.pci must be a non-empty array")
    else:
        for e in pci:
            v = vendors(e.get("IOPCIPrimaryMatch", "")) if isinstance(e, dict) else None
            if not v:
                p.append(f"transport.pci entry {e!r}: want {{IOPCIPrimaryMatch: 0x0000VVVV&0x0000ffff}}")
            else:
                granted |= v
    missing = dext_vendors - granted
    if missing:
        p.append("personalities match vendors the entitlement does not grant: " +
                 ", ".join(f"{v:04x}" for v in sorted(missing)))
check("dext/EgpuDext.entitlements", p)

# --- QEMU's
cl, err = load("dext/egpu-vm-client.entitlements")
p = [err] if err else []
if cl is not None:
    if cl.get("com.apple.security.hypervisor") is not True:
        p.append("com.apple.security.hypervisor must be true (HVF)")
    restricted = [k for k in cl if k.startswith("com.apple.developer.")]
    if restricted:
        p.append(f"restricted entitlements on a command-line binary: {restricted}")
check("dext/egpu-vm-client.entitlements", p)

for path, problems in results:
    print(f"{'FAIL' if problems else 'ok'} {path}")
    for x in problems:
        print(f"    {x}")
sys.exit(1 if any(pr for _, pr in results) else 0)
EOF
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok "${line#ok }" plist ;;
	"FAIL "*) fail "${line#FAIL }" plist ;;
	"    "*) echo "$line" ;;
	esac
done <"$log"
grep -qE '^(ok|FAIL) ' "$log" || fail plists "plist: checker did not run" "$log"

[ "$fails" = 0 ]
