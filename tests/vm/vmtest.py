#!/usr/bin/env python3
"""vmtest.py - the end-to-end scenarios of `make vmtest`.

    vmtest.py --qemu Q --kernel K --initrd I
              [--qemu-arm64 Q --kernel-arm64 K --initrd-arm64 I] [--logdir D] SCENARIO...

Each scenario boots the guest once (tests/vm/init + workload) behind
apple-dma-pci with the DART simulator and asserts on what the guest prints and
on the host's stats read over QMP:

  a  >= 256 MiB of seeded data through the NVMe disk, read back after the
     caches are dropped, checksums equal; 0 DART faults
  b  the same under tiny host limits (512 mappings, 16 MiB): the host refuses,
     the kernel retries or fails the I/O, everything it said was written reads
     back intact, no oops
  c  4 threads on disjoint regions from 2 vCPUs, both NVMe I/O queues busy
  d  unbind the disk, rmmod apple_dma: no mapping left on the host
  e  guest debugfs stats and host stats agree at one quiescent moment
  f  the host fails 2% of mappings on purpose (fail-ppm): the kernel retries
     or fails the I/O, what it said was written reads back intact
  arm64  an arm64 guest (virt, TCG): 128 MiB written and read back intact,
     0 faults, guest and host stats agree, unbind + rmmod leaves no mapping
  gpu, gpu-arm64  apple-dma-pci manages an egpu-pci function (backend
     simgpu: the simulated GPU behind its own DART) on q35 / virt; the guest's
     test driver (tests/vm/gpu/simgpu_test) moves >= 256 MiB system -> VRAM ->
     system with the engine, every byte verified; MSI-X interrupts = fences on
     both sides; an FLR mid-run recovers (host flrs == 1); 0 DART faults; the
     guest's and the host's counters agree; unbind, then rmmod, leave no
     mapping. The backend is a parameter of the definition (gpu_scenario()).
  gpu-dext, gpu-dext-arm64  the same with backend=dext: the guest's DMA goes
     through QEMU's IOKit backend (host/hostdev_iokit.c), the dext ABI and the
     dext's portable logic (dext/core) behind the IOKit test double.

  quirks, quirks-arm64  apple_dma's quirks proven in the guest (tests/vm/quirks.sh):
     the NVIDIA UVM quirk against a stand-in module (armed on load, page size
     forced and counted, disarmed on unload, twice), the TSO prctl shim (tso=1)
     before and after apple-dma-pci is unbound and bound again; on arm64 6.1
     dczva=1 is refused with a reason (nothing changes)
  quirks-arm64-bpo  the same on 6.12 arm64, where dczva=1 works: DCZID_EL0.DZP
     reads 1 on every CPU and DC ZVA is emulated, also after a CPU hotplug
     cycle and an apple-dma-pci rebind
  late, late-takeover  nvme loaded before apple_dma: probe refused and the
     disk's DMA gated (0 faults); with takeover=1 it works, 0 faults
  rmmod-busy  rmmod under I/O while binds race: the disk ends unbound, 0
     host maps, 0 faults;  reinsmod  rmmod, insmod: rebound, data verified
  replug  the disk's function removed under load and rescanned (a new
     pci_dev): its mappings released, the new one managed, data verified
  hotplug  QMP device_del/device_add of a managed nvme (behind a bridge,
     adma1) under load: released, managed again, verified, 0 maps, 0 faults
  siblings  an unmanaged function in the managed device's slot is warned about
     (rmmod-busy-bpo, hotplug-bpo: the same on the backports kernel)
  shutdown-order  the managed device is a device-link consumer of apple-dma-pci
  takeover-fail  a takeover whose channel never answers: no ops of ours left
  two  two apple-dma-pci each managing an nvme;  drop  lost doorbells
     (drop-ppm): unmaps resent, 0 host maps after rmmod;  hibernate  vetoed
  selftest  tests/vm/selftest (adma_selftest) bound to the NVMe function in
     nvme's place: maps from process, IRQs-off, softirq and hardirq context,
     every answer within the mask that applies, never across the segment
     boundary, coherent memory aligned to its order, dma_pool; masks the
     aperture (IOVA_END) refuses; NO_WARN quiet; resource_lock never taken in
     atomic context; a 2048-entry map_sg in several interrupts-off sections
     (amd64 only: arm64 keeps kprobes out of the lock functions); and the
     same on arm64 (selftest-arm64)
  selftest-bound  an aperture across 4 GiB: a mapping placed against the
     boundary is moved off it
  sg-rollback  multi-chunk map_sg (cluster_kb=0) under fail-ppm: failures
     roll back, nothing left mapped on either side
  ahci, xhci  apple-dma-pci manages an ich9-ahci (SATA disk) / a qemu-xhci
     (usb-storage disk) instead of the NVMe disk: the workload on /dev/sda
     verified, 0 faults, stats agree, rmmod leaves no mapping
  lazy  default apple_dma parameters (lazy unmap, idle cache) against strict=1
     on the same workload (two boots): fewer doorbells per 1000 DMA calls,
     idle hits, verified, rmmod with the cache full leaves no mapping;
     strict  nothing deferred or idle, host live maps = guest in-use maps;
     pressure  tiny host limits with the cache on: idle mappings evicted,
     no refusal, verified;  lazy-nocache  lazy unmap alone vs strict=1;
     drop-lazy  lost doorbells with batched unmaps: resent, none left;
     smp  4 threads, 2 vCPUs: no unmap rung under the coalescer lock vs
     flush_unlocked=0, interrupts-off holds printed (tests/vm/scen_perf.py)
  trace  the DMA API recorder (debugfs apple_dma/<dev>/trace_ctl): a whole
     trace of a workload decoded from the console and well formed; a
     64-record one drops and counts the calls that do not fit
     (tests/vm/scen_trace.py)
  *-bpo  a scenario on the -backports kernel (bookworm: 6.12) instead of the
     release's: a-bpo, gpu-bpo, gpu-arm64-bpo (and quirks-arm64-bpo)

  hostile-db  a hostile guest (tests/vm/hostile, apple_dma not loaded) on 2
     vCPUs: two kthreads ring DOORBELL at once for 3 s, every doorbell is
     answered and the host counts the same batches, no mapping left; an
     lsi53c895a SCRIPTS memory move rings DOORBELL from inside the lsi's
     MMIO handler and CPU 0 never gets into that handler mid-script
  release-at-probe  a kernel that left 32 mappings live (adma_hostile
     "leave", for kexec or a crash): apple_dma's probe releases them
  hostile-drop  the same race with apple-dma-pci drop-ppm=100000: the
     doorbells the host ignores are seen PENDING by the guest, counted as
     "dropped" by the host, UNMAPs resent, no mapping left

a..f boot the amd64 guest (--qemu, --kernel, --initrd), arm64 the arm64 one
(--qemu-arm64, ...), -bpo scenarios the backports kernels (--kernel-bpo,
--initrd-bpo, --kernel-arm64-bpo, --initrd-arm64-bpo); only the paths of the
scenarios asked for are needed.

Prints "PASS|FAIL <scenario> ..." per scenario and "N passed, N failed";
exits 1 if any failed. Python standard library only.
"""
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402
from vmcheck import *  # noqa: E402,F401,F403
import scen_guest  # noqa: E402
import scen_life  # noqa: E402
import scen_perf  # noqa: E402
import scen_trace  # noqa: E402

SCENARIOS = {
    "a": dict(title="256 MiB written, caches dropped, read back, 0 faults",
              wl="-n a -m 256 -t 1 -w mixed -s 11", steps=["wl", "sync:end"],
              timeout=600, check=check_a),
    "b": dict(title="tiny host limits: refusals handled, written data intact",
              adma="max-maps=%d,max-bytes=%d" % (TINY_MAPS, TINY_BYTES),
              wl="-n b -m 256 -t 8 -c 4096 -w mixed -k -g 32 -s 12", steps=["wl", "sync:end"],
              timeout=600, check=check_b),
    "c": dict(title="4 threads on 2 vCPUs, disjoint regions, verified",
              wl="-n c -m 128 -t 4 -w mixed -s 13", steps=["wl", "irqs", "sync:end"],
              timeout=600, check=check_c),
    "d": dict(title="unbind + rmmod leaves no host mapping",
              wl="-n d -m 32 -t 2 -s 14", steps=["wl", "sync:loaded", "unload", "sync:unloaded"],
              timeout=300, check=check_d),
    "e": dict(title="guest and host stats agree when quiescent",
              wl="-n e -m 32 -t 2 -s 15", steps=["wl", "sync:quiet"],
              timeout=300, check=check_e),
    "f": dict(title="injected host map failures: retried, written data intact",
              adma="fail-ppm=20000,seed=7",
              wl="-n f -m 128 -t 2 -w mixed -k -s 16", steps=["wl", "sync:end"],
              timeout=600, check=check_f),
    "arm64": dict(title="arm64 guest: 128 MiB intact, 0 faults, stats agree, rmmod leaves none",
                  arch="arm64",
                  wl="-n arm64 -m 128 -t 2 -w mixed -s 17",
                  steps=["wl", "sync:quiet", "unload", "sync:unloaded"],
                  timeout=600, check=check_arm64),
}


def gpu_scenario(arch, backend, seed, gpu_opts=""):
    """The GPU path on ARCH with egpu-pci's BACKEND (simgpu, dext)."""
    machine = "q35" if arch == "amd64" else "virt"
    return dict(title="%s %s, egpu-pci backend=%s: %d MiB system->VRAM->system verified, "
                      "MSI-X = fences, FLR mid-run, 0 faults, unbind leaves none"
                      % (arch, machine, backend, GPU_MIB),
                arch=arch, gpu=dict(backend=backend, opts=gpu_opts),
                gpurun="mib=%d seed=%d flr_at=%d" % (GPU_MIB, seed, GPU_FLR_AT), wl="",
                steps=["sync:before", "gpu", "sync:quiet", "gpu-unbind", "sync:unbound",
                       "unload", "sync:unloaded"],
                timeout=600, check=check_gpu)


SCENARIOS["gpu"] = gpu_scenario("amd64", "simgpu", 21)
SCENARIOS["gpu-arm64"] = gpu_scenario("arm64", "simgpu", 22)
# the same over backend=dext: QEMU's IOKit backend, the dext's portable logic
# behind the IOKit test double (tests/iokit-shim), the same simulated function
SCENARIOS["gpu-dext"] = gpu_scenario("amd64", "dext", 23)
SCENARIOS["gpu-dext-arm64"] = gpu_scenario("arm64", "dext", 24)

# the same on the -backports kernel (bookworm: 6.12), a few only: each boot
# costs ~10-20 s under TCG
for _base in ("a", "gpu", "gpu-arm64"):
    SCENARIOS[_base + "-bpo"] = dict(SCENARIOS[_base], kernel="bpo",
                                     title=SCENARIOS[_base]["title"] + " [backports kernel]")
SCENARIOS.update(scen_guest.SCENARIOS)
SCENARIOS.update(scen_life.SCENARIOS)
SCENARIOS.update(scen_perf.SCENARIOS)
SCENARIOS.update(scen_trace.SCENARIOS)


def guest(args, arch, series="stable"):
    """(qemu, kernel, initrd) given for ARCH and kernel SERIES (stable, bpo);
    amd64 and stable have no suffix."""
    sfx = "" if arch == "amd64" else "_" + arch
    ksfx = sfx + ("" if series == "stable" else "_" + series)
    return (args.__dict__["qemu" + sfx], args.__dict__["kernel" + ksfx],
            args.__dict__["initrd" + ksfx])


def run_scenario(name, args, accel):
    sc = SCENARIOS[name]
    arch = sc.get("arch", "amd64")
    log = os.path.join(args.logdir, "%s.console.log" % name)
    adma = ",".join(o for o in (sc.get("adma", ""), args.adma) if o)
    admaargs = ",".join(o for o in (sc.get("admaargs", ""), args.admaargs) if o)
    v = sc.get("vm_class", vm.Vm)(*guest(args, arch, sc.get("kernel", "stable")), log, adma=adma,
              steps=sc["steps"], wl=sc["wl"], wl2=sc.get("wl2", ""), admaargs=admaargs,
              accel=accel[arch],
              extra_append=" ".join(a for a in (sc.get("append", ""), args.append) if a),
              echo=args.verbose, arch=arch, qemu_extra=sc.get("qemu_extra", ()),
              gpu=sc.get("gpu"), gpurun=sc.get("gpurun", ""))
    res = v.run(sc["timeout"])
    res.steps_asked = sc["steps"]
    c = Check()
    sc["check"](c, res)
    with open(os.path.join(args.logdir, "%s.json" % name), "w") as f:
        json.dump({"scenario": name, "title": sc["title"], "reason": res.reason,
                   "elapsed_s": round(res.elapsed, 1), "failed": c.failed, "notes": c.notes,
                   "results": res.results, "host_stats": res.hstats,
                   "guest_stats": res.gstats, "guest_stats_after": res.gstats2,
                   "gpu_stats": res.gpustats, "gpu": res.gpu,
                   "steps": res.steps, "irqs": res.irqs, "chunks": res.chunks,
                   "console_errors": res.console_errors}, f, indent=1)
    return c, res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for sfx in ("", "-arm64"):
        ap.add_argument("--qemu" + sfx)
        for ksfx in (sfx, sfx + "-bpo"):
            ap.add_argument("--kernel" + ksfx)
            ap.add_argument("--initrd" + ksfx)
    ap.add_argument("--logdir", default="build/vm")
    ap.add_argument("--accel", default="auto", help="auto (probe), tcg or kvm (amd64; arm64: tcg)")
    ap.add_argument("--admaargs", default="", help="apple_dma module parameters")
    ap.add_argument("--adma", default="", help="extra apple-dma-pci options")
    ap.add_argument("--append", default="", help="extra guest kernel arguments")
    ap.add_argument("--verbose", action="store_true", help="echo the consoles")
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = ap.parse_args()
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        ap.error("unknown scenario(s) %s; known: %s" % (" ".join(unknown), " ".join(sorted(SCENARIOS))))
    kernels = sorted({(SCENARIOS[s].get("arch", "amd64"), SCENARIOS[s].get("kernel", "stable"))
                      for s in args.scenarios})
    arches = sorted({arch for arch, _ in kernels})
    for arch, series in kernels:
        if None in guest(args, arch, series):
            sfx = "" if arch == "amd64" else "-" + arch
            ksfx = sfx + ("" if series == "stable" else "-" + series)
            ap.error("%s %s scenarios need --qemu%s, --kernel%s and --initrd%s"
                     % (arch, series, sfx, ksfx, ksfx))
    os.makedirs(args.logdir, exist_ok=True)
    accel, whys = {"arm64": vm.TCG_ARM64}, []
    if "amd64" in arches:
        if args.accel == "auto":
            accel["amd64"], why = vm.choose_accel(*guest(args, "amd64"), args.logdir)
        else:
            accel["amd64"], why = (vm.KVM if args.accel == "kvm" else vm.TCG), "--accel " + args.accel
        whys.append(why)
    if "arm64" in arches:
        whys.append("arm64: TCG")
    print("vmtest: accelerator %s; logs in %s" % ("; ".join(whys), args.logdir), flush=True)
    passed = failed = 0
    t0 = time.monotonic()
    for name in args.scenarios:
        print("---- %s: %s" % (name, SCENARIOS[name]["title"]), flush=True)
        c, res = run_scenario(name, args, accel)
        for n in c.notes:
            print("     %s" % n)
        for f in c.failed:
            print("     ! %s" % f)
        verdict = "PASS" if not c.failed else "FAIL"
        print("%s %s (%.1f s)%s" % (verdict, name, res.elapsed,
                                    "" if not c.failed else "  log: %s" % res.log), flush=True)
        if c.failed:
            failed += 1
        else:
            passed += 1
    print("vmtest: %.0f s in all" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
