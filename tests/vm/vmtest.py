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

a..f boot the amd64 guest (--qemu, --kernel, --initrd), arm64 the arm64 one
(--qemu-arm64, ...); only the paths of the scenarios asked for are needed.

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

MiB = 1 << 20
STATUS_NAMES = ("pending", "ok", "invalid", "range", "no_space", "bad_handle",
                "io_error", "fragmented", "too_many", "bad_block")
TINY_MAPS = 512
TINY_BYTES = 16 * MiB

# Guest debugfs name -> host QMP name, for values that count the same thing.
AGREE = [("live_host_maps", "live_maps"), ("mapped_bytes", "live_bytes"),
         ("peak_host_maps", "peak_maps"), ("peak_mapped_bytes", "peak_bytes"),
         ("doorbells", "batches"), ("req_map", "req_map"),
         ("req_unmap", "req_unmap"), ("refusals", "refusals")] + \
        [("refused_" + n, "status_" + n) for n in STATUS_NAMES if n not in ("pending", "ok")]


class Check:
    """Collects failed expectations and notes for one scenario."""

    def __init__(self):
        self.failed = []
        self.notes = []

    def expect(self, cond, what):
        if not cond:
            self.failed.append(what)
        return cond

    def note(self, text):
        self.notes.append(text)


def common(c, res, final_tag, workload=True):
    """What every scenario needs: a clean run, the workload verified, no
    DART fault, nothing malformed on the wire."""
    c.expect(res.reason == "done", "guest did not finish (%s after %.0f s)"
             % (res.reason, res.elapsed))
    c.expect(res.done_status == 0, "guest reported failure: %s"
             % ("; ".join(res.fails) or "status=%s" % res.done_status))
    c.expect(not res.console_errors, "kernel trouble on the console: %s"
             % " | ".join(res.console_errors[:3]))
    c.expect(not res.host_errors, "host side: %s" % "; ".join(res.host_errors))
    h = res.hstats.get(final_tag)
    if not c.expect(h is not None, "no host stats at '%s'" % final_tag):
        last = res.hstats.get("done")
        if last:
            c.note("host at the end: %d maps, %d refusals, %d translations, %d faults" % (
                last.get("req_map", -1), last.get("refusals", -1),
                last.get("translations", -1), last.get("faults", -1)))
        return None, None
    c.expect(h.get("faults") == 0, "DART faults: %s" % h.get("faults"))
    c.expect(h.get("bad_batches") == 0, "bad batches: %s" % h.get("bad_batches"))
    c.expect(h.get("req_badop") == 0, "bad requests: %s" % h.get("req_badop"))
    c.expect(h.get("req_map", 0) > 0, "the host saw no MAP request")
    c.note("host: %d doorbells, %d maps, %d unmaps, peak %d maps / %.1f MiB, "
           "%d translations, %d faults" % (
               h.get("batches", -1), h.get("req_map", -1), h.get("req_unmap", -1),
               h.get("peak_maps", -1), h.get("peak_bytes", 0) / MiB,
               h.get("translations", -1), h.get("faults", -1)))
    t = None
    if workload:
        t = res.total()
        if c.expect(t is not None, "workload printed no total"):
            c.expect(t.get("status") == "pass", "workload verification failed: %s"
                     % " | ".join(res.chunks[:3]))
            c.expect(t.get("write_sum") == t.get("read_sum"), "checksums differ")
            c.expect(t.get("mismatched") == 0 and t.get("read_errors") == 0,
                     "mismatched=%s read_errors=%s" % (t.get("mismatched"), t.get("read_errors")))
            c.expect(t.get("bytes_read") == t.get("bytes_ok"), "read back fewer bytes than written")
            # the disk's DMA really went through the simulated DART
            c.expect(h.get("translations", 0) > 0, "no DMA was translated by the DART")
            c.note("workload: %s MiB written ok, %s chunks failed, write %s s, read %s s" % (
                t.get("bytes_ok", 0) // MiB, t.get("chunks_failed"), t.get("write_s"),
                t.get("read_s")))
    return h, t


def all_written(c, t, mib):
    """The workload wrote and read back at least mib MiB, no chunk failed."""
    if t:
        c.expect(t.get("bytes_ok", 0) >= mib * MiB and t.get("chunks_failed") == 0,
                 "not all of %d MiB written (bytes_ok=%s)" % (mib, t.get("bytes_ok")))
        c.expect(t.get("bytes_read", 0) >= mib * MiB, "fewer than %d MiB read back" % mib)


def check_a(c, res):
    h, t = common(c, res, "end")
    all_written(c, t, 256)


def check_b(c, res):
    h, t = common(c, res, "end")
    if not h:
        return
    refused = h.get("refusals", 0)
    dart = h.get("dart_no_space", 0) + h.get("dart_fragmented", 0)
    c.expect(refused > 0, "the host never refused (refusals=0): the limits were not reached")
    c.expect(h.get("status_no_space", 0) + h.get("status_fragmented", 0) > 0,
             "no NO_SPACE/FRAGMENTED refusal")
    c.expect(h.get("peak_maps", 0) <= TINY_MAPS, "peak_maps %s above max-maps %d"
             % (h.get("peak_maps"), TINY_MAPS))
    c.expect(h.get("peak_bytes", 0) <= TINY_BYTES, "peak_bytes %s above max-bytes %d"
             % (h.get("peak_bytes"), TINY_BYTES))
    c.note("refusals: %d (no_space %d, fragmented %d; dart no_space+fragmented %d); "
           "guest-visible I/O errors: %d console lines" % (
               refused, h.get("status_no_space", 0), h.get("status_fragmented", 0), dart,
               res.io_errors))
    if t:
        c.expect(t.get("chunks_ok", 0) > 0, "no chunk was written at all")


def check_c(c, res):
    h, t = common(c, res, "end")
    threads = [r for r in res.results if r.get("phase") == "thread"]
    c.expect(len(threads) == 4, "expected 4 workload threads, got %d" % len(threads))
    for r in threads:
        c.expect(r.get("verified") == r.get("chunks") and r.get("write_failed") == 0,
                 "thread %s: %s of %s chunks verified" % (r.get("thread"), r.get("verified"),
                                                         r.get("chunks")))
    if t:
        c.expect(t.get("cpus", 0) >= 2, "writes were issued from %s vCPU(s), expected >= 2"
                 % t.get("cpus"))
    # With MSI-X the disk has an I/O queue per CPU, used by the submitting
    # CPU: then every I/O queue must have completed something.
    busy = {}
    for line in res.irqs:
        parts = line.split()
        if parts and parts[0] != "nvme0q0":
            busy[parts[0]] = sum(int(x) for x in parts[1:] if x.isdigit())
    if len(busy) >= 2:
        idle = [q for q, n in busy.items() if n == 0]
        c.expect(not idle, "NVMe I/O queue(s) %s saw no completion" % idle)
    c.note("writes from %s vCPUs; NVMe I/O queue interrupts: %s" % (
        t.get("cpus") if t else "?",
        ", ".join("%s=%d" % kv for kv in sorted(busy.items())) or "none"))


def nothing_left(c, res, before_tag, h):
    """After the "unload" step: no mapping left on the host (stats H)."""
    before = res.hstats.get(before_tag)
    c.expect(any(s.startswith("unload rc=0") for s in res.steps), "unload step did not succeed")
    if before:
        c.expect(before.get("live_maps", 0) > 0,
                 "no live host mapping while the disk was bound (nothing to undo)")
    if h:
        for k in ("live_maps", "live_bytes", "dart_live_maps", "dart_live_bytes"):
            c.expect(h.get(k) == 0, "after rmmod: host %s = %s" % (k, h.get(k)))
        c.note("live host maps: %s while loaded -> %s after unbind + rmmod" % (
            before.get("live_maps") if before else "?", h.get("live_maps")))


def check_d(c, res):
    h, t = common(c, res, "unloaded")
    nothing_left(c, res, "loaded", h)


def agree(c, res, tag):
    """Guest debugfs stats == host stats at the quiescent sync TAG."""
    h = res.hstats.get(tag)
    g, g2 = res.gstats.get(tag), res.gstats2.get(tag)
    if not c.expect(g and "absent" not in g, "no guest debugfs stats"):
        return
    if not c.expect(h is not None and g2 is not None, "no stats from both sides at '%s'" % tag):
        return
    names = [gk for gk, _ in AGREE]
    c.expect(all(g.get(k) == g2.get(k) for k in names),
             "guest stats moved while the host read its own: not quiescent")
    agreed = 0
    for gk, hk in AGREE:
        if not c.expect(gk in g, "guest stats lack %s" % gk):
            continue
        if gk.startswith("peak_") and h.get("refusals"):
            # a batch rolled back after a refusal was live on the host for a
            # moment, never committed in the guest: host peak >= guest peak
            ok = isinstance(h.get(hk), int) and h[hk] >= g[gk]
        else:
            ok = g[gk] == h.get(hk)
        if c.expect(ok, "guest %s=%s but host %s=%s" % (gk, g[gk], hk, h.get(hk))):
            agreed += 1
    c.note("%d of %d counters agree (live maps %s, req_map %s, doorbells %s)" % (
        agreed, len(AGREE), h.get("live_maps"), h.get("req_map"), h.get("batches")))


def check_e(c, res):
    common(c, res, "quiet")
    agree(c, res, "quiet")


def check_arm64(c, res):
    h, t = common(c, res, "unloaded")
    all_written(c, t, 128)
    agree(c, res, "quiet")
    nothing_left(c, res, "quiet", h)


def check_gpu(c, res):
    h, _ = common(c, res, "unloaded", workload=False)
    t = res.total("gpu")
    g, g0 = res.gpustats.get("quiet"), res.gpustats.get("before")
    if not c.expect(t is not None, "simgpu_test printed no result"):
        return
    c.expect(t.get("status") == "pass", "simgpu_test failed: why=%s err=%s buffer %s byte %s, "
             "engine error %s at %s" % (t.get("why"), t.get("err"), t.get("bad_buf"),
                                        t.get("bad_off"), t.get("engine_error"),
                                        t.get("engine_fault")))
    c.expect(t.get("bytes_verified", 0) >= GPU_MIB * MiB, "verified %s bytes, want >= %d MiB"
             % (t.get("bytes_verified"), GPU_MIB))
    c.expect(t.get("bytes_to_vram") == t.get("bytes_from_vram"),
             "to VRAM %s bytes, back %s" % (t.get("bytes_to_vram"), t.get("bytes_from_vram")))
    c.expect(t.get("errors") == 0, "simgpu_test counted %s errors" % t.get("errors"))
    fences = t.get("fences", 0)
    c.expect(fences > 0 and t.get("msix") == fences,
             "guest: %s MSI-X interrupts for %s fences" % (t.get("msix"), fences))
    procirq = sum(x.get("count", 0) for x in res.gpu if x.get("kind") == "irq")
    c.expect(procirq == t.get("msix"), "/proc/interrupts counts %d, the driver %s"
             % (procirq, t.get("msix")))
    c.expect(t.get("flrs") == 1, "guest did %s FLRs, want 1" % t.get("flrs"))
    if not c.expect(g is not None and g0 is not None, "no egpu-pci stats at 'before' and 'quiet'"):
        return

    def run(k):   # what the host counted during the run (the machine's reset counts too)
        return g[k] - g0[k] if isinstance(g.get(k), int) and isinstance(g0.get(k), int) else None

    # every counter the function keeps must match what the driver did
    for hk, gk in (("fences", "fences"), ("irqs", "msix"), ("irqs_msix", "msix"),
                   ("bytes_in", "bytes_to_vram"), ("bytes_out", "bytes_from_vram"),
                   ("flrs", "flrs"), ("flrs_requested", "flrs")):
        c.expect(run(hk) == t.get(gk), "host %s=%s during the run but guest %s=%s"
                 % (hk, run(hk), gk, t.get(gk)))
    for hk in ("dart_faults", "faults", "errors", "irqs_dropped"):
        c.expect(g.get(hk) == 0, "host %s=%s" % (hk, g.get(hk)))
    c.expect(g.get("translations", 0) > 0, "the GPU's DART translated nothing")
    agree(c, res, "quiet")
    # unbinding the test driver alone gives every mapping back
    gu, hu = res.gstats2.get("unbound", {}), res.hstats.get("unbound", {})
    c.expect(gu.get("live_host_maps") == 0 and hu.get("live_maps") == 0,
             "after unbind: guest live_host_maps=%s, host live_maps=%s"
             % (gu.get("live_host_maps"), hu.get("live_maps")))
    nothing_left(c, res, "quiet", h)
    ge = res.gpustats.get("unloaded", {})
    c.expect(ge.get("dart_live_maps") == 0, "after rmmod: GPU DART live maps %s"
             % ge.get("dart_live_maps"))
    moved = t.get("bytes_to_vram", 0) + t.get("bytes_from_vram", 0)
    c.note("engine: %.0f MiB moved (%s MiB/s while busy, %s MiB/s over the run of %.1f s), "
           "%d fences = %s MSI-X (host %s), %s FLR, %s DART faults"
           % (moved / MiB, t.get("engine_mib_s"), t.get("run_mib_s"),
              t.get("elapsed_ms", 0) / 1000, fences, t.get("msix"), run("irqs"),
              run("flrs"), g.get("dart_faults")))
    c.note("driver: %s buffers mapped (%s map_sg, %s map_page, %s ranges), peak %s at once; "
           "host: peak %s live maps, %s translations" % (
               t.get("buffers"), t.get("map_sg"), t.get("map_page"), t.get("dma_segs"),
               t.get("peak_buffers"), (h or {}).get("peak_maps"), g.get("translations")))


def check_f(c, res):
    h, t = common(c, res, "end")
    if not h:
        return
    inj = h.get("dart_injected", 0)
    c.expect(inj > 0, "no map failed: the injection did not fire")
    c.expect(h.get("status_io_error", 0) == inj, "host answered io_error %s times for %s "
             "injected failures" % (h.get("status_io_error"), inj))
    c.note("injected map failures: %d; chunks the kernel failed: %s" % (
        inj, t.get("chunks_failed") if t else "?"))


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


GPU_MIB = 256
GPU_FLR_AT = 128
SCENARIOS["gpu"] = gpu_scenario("amd64", "simgpu", 21)
SCENARIOS["gpu-arm64"] = gpu_scenario("arm64", "simgpu", 22)
# the same over backend=dext: QEMU's IOKit backend, the dext's portable logic
# behind the IOKit test double (tests/iokit-shim), the same simulated function
SCENARIOS["gpu-dext"] = gpu_scenario("amd64", "dext", 23)
SCENARIOS["gpu-dext-arm64"] = gpu_scenario("arm64", "dext", 24)


def guest(args, arch):
    """(qemu, kernel, initrd) given for ARCH; amd64 has no suffix."""
    sfx = "" if arch == "amd64" else "_" + arch
    return tuple(getattr(args, k + sfx) for k in ("qemu", "kernel", "initrd"))


def run_scenario(name, args, accel):
    sc = SCENARIOS[name]
    arch = sc.get("arch", "amd64")
    log = os.path.join(args.logdir, "%s.console.log" % name)
    adma = ",".join(o for o in (sc.get("adma", ""), args.adma) if o)
    v = vm.Vm(*guest(args, arch), log, adma=adma,
              steps=sc["steps"], wl=sc["wl"], admaargs=args.admaargs, accel=accel[arch],
              extra_append=args.append, echo=args.verbose, arch=arch,
              gpu=sc.get("gpu"), gpurun=sc.get("gpurun", ""))
    res = v.run(sc["timeout"])
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
        ap.add_argument("--kernel" + sfx)
        ap.add_argument("--initrd" + sfx)
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
    arches = sorted({SCENARIOS[s].get("arch", "amd64") for s in args.scenarios})
    for arch in arches:
        if None in guest(args, arch):
            sfx = "" if arch == "amd64" else "-" + arch
            ap.error("%s scenarios need --qemu%s, --kernel%s and --initrd%s"
                     % (arch, sfx, sfx, sfx))
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
