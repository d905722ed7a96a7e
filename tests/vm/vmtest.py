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


def check_quirks(c, res):
    """Every quirk step of the scenario reported a pass (tests/vm/quirks.sh
    and quirkcheck print one result per step), with the counts that prove
    it did something."""
    h, t = common(c, res, "end")
    all_written(c, t, QUIRK_MIB)
    by_name = {}
    for r in res.results:
        if str(r.get("name", "")).startswith("quirk-"):
            by_name.setdefault(r["name"], []).append(r)
    for step in (s for s in res.steps_asked if s.startswith("quirk:")):
        word = step.split(":")[1]
        got = by_name.get("quirk-" + word, [])
        c.expect(got, "%s printed no result" % step)
    for name, rs in sorted(by_name.items()):
        for r in rs:
            c.expect(r.get("status") in ("pass", "skip"), "%s: %s" % (name, r))
    for r in by_name.get("quirk-uvm", []):
        c.expect(r.get("forced") == r.get("want_forced") == 4 and r.get("calls") == 6,
                 "UVM quirk: %s of 6 calls seen, %s forced, want 4"
                 % (r.get("calls"), r.get("forced")))
        c.expect(r.get("kept") == 1, "UVM quirk changed the fields around pageSize")
    tso_on = [r.get("expect") == "on" for r in by_name.get("quirk-tso", [])]
    for r in by_name.get("quirk-tso", []):
        want = 3 if r.get("expect") == "on" else 0
        c.expect(r.get("answers") == want, "TSO shim: %s of 3 calls answered, want %d"
                 % (r.get("answers"), want))
    # apple_dma's own count of its answers (debugfs), per tso step
    for on, r in zip(tso_on, by_name.get("quirk-tso-count", [])):
        c.expect(r.get("answers") == (3 if on else 0), "tso_answers moved by %s, want %d"
                 % (r.get("answers"), 3 if on else 0))
    for r in by_name.get("quirk-dczva", []):
        n = r.get("cpus", 0)
        c.expect(n >= 2, "DC ZVA checked on %s CPUs, want both" % n)
        if r.get("expect") == "on":
            c.expect(r.get("dzp_set") == n and r.get("zva_zeroed") == n,
                     "DC ZVA quirk: DZP set on %s, DC ZVA zeroed (emulated) on %s of %s CPUs"
                     % (r.get("dzp_set"), r.get("zva_zeroed"), n))
        else:
            c.expect(r.get("dzp_set") == 0 and r.get("zva_zeroed") == n,
                     "without the quirk: DZP set on %s, DC ZVA zeroed on %s of %s CPUs"
                     % (r.get("dzp_set"), r.get("zva_zeroed"), n))
    c.note("quirk results: %s" % ", ".join(
        "%s x%d" % (n, len(rs)) for n, rs in sorted(by_name.items())))


QUIRK_MIB = 16


def quirk_scenario(arch, steps, admaargs, title):
    return dict(title=title, arch=arch, admaargs=admaargs,
                wl="-n quirks -m %d -t 1 -s 31" % QUIRK_MIB,
                steps=["wl"] + steps + ["sync:end"], timeout=600, check=check_quirks)


SCENARIOS["quirks"] = quirk_scenario(
    "amd64", ["quirk:uvm", "quirk:tso:on", "quirk:adma-rebind", "quirk:tso:on"],
    "tso=1,uvm_module=uvm_standin",
    "UVM quirk vs a stand-in (armed, forced, counted, disarmed, twice); TSO prctl "
    "shim before and after apple-dma-pci rebind")
# dczva=1 on 6.1 is refused (do_sysinstr cannot be probed, so running
# programs' DC ZVA could not be emulated): nothing may change
SCENARIOS["quirks-arm64"] = quirk_scenario(
    "arm64", ["quirk:uvm", "quirk:tso:on", "quirk:dczva:refused", "quirk:adma-rebind",
              "quirk:tso:on"],
    "tso=1,dczva=1,uvm_module=uvm_standin",
    "arm64 6.1: UVM quirk vs a stand-in, TSO prctl shim before and after apple-dma-pci "
    "rebind, dczva=1 refused with a reason")
# the same on the -backports kernel (bookworm: 6.12), a few only: each boot
# costs ~10-20 s under TCG
for _base in ("a", "gpu", "gpu-arm64"):
    SCENARIOS[_base + "-bpo"] = dict(SCENARIOS[_base], kernel="bpo",
                                     title=SCENARIOS[_base]["title"] + " [backports kernel]")
SCENARIOS["quirks-arm64-bpo"] = dict(quirk_scenario(
    "arm64", ["quirk:uvm", "quirk:tso:on", "quirk:dczva:on", "quirk:cpu-cycle",
              "quirk:dczva:on", "quirk:adma-rebind", "quirk:tso:on", "quirk:dczva:on"],
    "tso=1,dczva=1,uvm_module=uvm_standin",
    "arm64 backports kernel: UVM quirk vs a stand-in, TSO prctl shim, DC ZVA "
    "(DZP=1, emulated) on every CPU, after a CPU hotplug cycle and an apple-dma-pci "
    "rebind"), kernel="bpo")


def check_hostile(c, res, lossy=False):
    """hostile-db / hostile-drop: tests/vm/hostile (adma_hostile) rang
    apple-dma-pci's DOORBELL from two vCPUs at once ("race") and from an
    lsi53c895a script inside the lsi's MMIO handler ("bql", not lossy)."""
    c.expect(res.reason == "done", "guest did not finish (%s after %.0f s)"
             % (res.reason, res.elapsed))
    c.expect(res.done_status == 0, "guest reported failure: %s"
             % ("; ".join(res.fails) or "status=%s" % res.done_status))
    c.expect(not res.console_errors, "kernel trouble on the console: %s"
             % " | ".join(res.console_errors[:3]))
    c.expect(not res.host_errors, "host side: %s" % "; ".join(res.host_errors))
    try:   # QEMU's stderr shares the console log
        with open(res.log, errors="replace") as f:
            blocked = [ln.strip() for ln in f if "Blocked re-entrant IO" in ln]
    except OSError:
        blocked = ["console log unreadable"]
    c.expect(not blocked, "QEMU blocked re-entrant IO: %s" % " | ".join(blocked[:2]))
    race, h = res.total("hostile-race"), res.hstats.get("race")
    if c.expect(race is not None and h is not None, "no race result and host stats"):
        c.expect(race.get("status") == "pass", "race: %s" % race)
        # the host answered exactly the doorbells the guest saw answered,
        # and ignored (drop-ppm) exactly the ones it saw lost
        c.expect(h.get("batches") == race.get("answered"), "race: host batches %s, guest "
                 "answered %s" % (h.get("batches"), race.get("answered")))
        c.expect(h.get("dropped", 0) == race.get("lost"), "race: host dropped %s, guest lost %s"
                 % (h.get("dropped"), race.get("lost")))
        c.expect(h.get("req_map") == race.get("map_ok", 0) + race.get("map_refused", 0),
                 "race: host req_map %s, guest sent %s" % (h.get("req_map"), race.get("map_ok")))
        c.expect(h.get("live_maps") == 0, "race: host live_maps %s" % h.get("live_maps"))
        c.expect(race.get("cpu0_answered", 0) > 0 and race.get("cpu1_answered", 0) > 0,
                 "race: a CPU got no answer")
        if lossy:
            c.expect(race.get("lost", 0) > 0, "race: drop-ppm dropped nothing")
        c.note("race: %s doorbells answered (cpu0 %s, cpu1 %s), %s lost, %s bad reads, "
               "%s maps = %s unmaps, live at the end %s" % (
                   race.get("answered"), race.get("cpu0_answered"), race.get("cpu1_answered"),
                   race.get("lost"), race.get("bad_reads"), race.get("map_ok"),
                   race.get("unmap_ok"), race.get("live_end")))
    if lossy:
        return
    bql, hb = res.total("hostile-bql"), res.hstats.get("bql")
    if c.expect(bql is not None and hb is not None and h is not None,
                "no bql result and host stats"):
        c.expect(bql.get("status") == "pass", "bql: %s" % bql)
        c.expect(bql.get("reentered") == 0, "bql: CPU 0 entered the lsi's handler %s times "
                 "mid-script" % bql.get("reentered"))
        c.expect(bql.get("windows", 0) > 0, "bql: CPU 0 never saw a script running")
        c.expect(hb.get("batches", 0) - h.get("batches", 0) == bql.get("batches"),
                 "bql: host batches +%s, guest answered %s" % (
                     hb.get("batches", 0) - h.get("batches", 0), bql.get("batches")))
        c.expect(hb.get("live_maps") == 0, "bql: host live_maps %s" % hb.get("live_maps"))
        c.note("bql: %s scripts of %s doorbells x %s maps, CPU 0 saw %s running and "
               "entered the lsi mid-script %s times (SRUN read %s)" % (
                   bql.get("rounds"), bql.get("blocks"), bql.get("bigmaps"), bql.get("windows"),
                   bql.get("reentered"), bql.get("srun_seen")))


def hostile_scenario(title, steps, run, adma="", lossy=False):
    """adma_hostile drives apple-dma-pci itself: apple_dma is not loaded,
    the managed device is a simulated GPU nobody drives (no NVMe whose DMA
    would fault), an lsi53c895a rings the doorbell from its scripts."""
    return dict(title=title, adma=adma, gpu=dict(backend="simgpu", opts=""), wl="",
                append="egpu.adma=0 egpu.gpu=0 egpu.hostilerun=" + run,
                qemu_extra=("-device", "lsi53c895a"), steps=steps, timeout=300,
                check=lambda c, res: check_hostile(c, res, lossy))


SCENARIOS["hostile-db"] = hostile_scenario(
    "hostile guest: doorbells from 2 vCPUs at once all answered; a doorbell "
    "from an lsi53c895a script keeps the lsi's lock",
    ["hostile-race", "sync:race", "hostile-bql", "sync:bql"],
    "ms=3000,maps=32,rounds=8,blocks=32,bigmaps=256,windows=3")
SCENARIOS["hostile-drop"] = hostile_scenario(
    "drop-ppm: doorbells ignored on purpose are seen PENDING, counted, resent",
    ["hostile-race", "sync:race"], "ms=2000,maps=32,lossy=1",
    adma="drop-ppm=100000", lossy=True)


def check_left_behind(c, res):
    """release-at-probe: mappings a kernel left behind (adma_hostile
    "leave", standing for a kernel gone by kexec or a crash) are live on the
    host until apple_dma probes, which releases them (RELEASE_ALL) before it
    opens the gate."""
    c.expect(res.reason == "done" and res.done_status == 0, "guest failed: %s (%s)"
             % ("; ".join(res.fails) or res.reason, res.done_status))
    c.expect(not res.console_errors, "kernel trouble on the console: %s"
             % " | ".join(res.console_errors[:3]))
    left, before, after = res.total("hostile-leave"), res.hstats.get("left"), \
        res.hstats.get("probed")
    g = res.gstats.get("probed", {})
    if not c.expect(left is not None and before is not None and after is not None,
                    "no leave result or host stats"):
        return
    c.expect(left.get("left", 0) > 0 and before.get("live_maps") == left.get("left"),
             "host holds %s mappings, the old kernel left %s"
             % (before.get("live_maps"), left.get("left")))
    c.expect(after.get("live_maps") == 0, "after apple_dma probed the host still holds %s "
             "mappings of the kernel before" % after.get("live_maps"))
    c.expect(g.get("release_all", 0) >= 1, "apple_dma wrote no RELEASE_ALL at probe")


SCENARIOS["release-at-probe"] = dict(hostile_scenario(
    "mappings a previous kernel left (kexec, crash) are released when apple_dma probes",
    ["hostile-leave", "sync:left", "adma-load", "sync:probed"], "maps=32"),
    check=check_left_behind)


def check_selftest(c, res, sgfail=False, bound=False, irqoff=False):
    """tests/vm/selftest (adma_selftest) passed every check it made, and
    nothing it mapped is left on either side."""
    h, _ = common(c, res, "end", workload=False)
    t = res.total("selftest")
    if not c.expect(t is not None, "adma_selftest printed no result"):
        return
    c.expect(t.get("status") == "pass", "adma_selftest: %d of %d checks failed: %s"
             % (t.get("failed", -1), t.get("checks", -1), " | ".join(res.fails[:4])))
    c.expect(t.get("checks", 0) > 0, "adma_selftest checked nothing")
    g = res.gstats.get("end", {})
    if h:
        c.expect(h.get("live_maps") == 0, "host live_maps %s after the self-test"
                 % h.get("live_maps"))
    c.expect(g.get("live_buffers") == 0, "guest live_buffers %s after the self-test"
             % g.get("live_buffers"))
    if irqoff:   # judged where the lock functions can be probed (amd64)
        c.expect(t.get("irqoff_sections", 0) >= 2, "the long map_sg was not judged")
    if bound:
        c.expect(t.get("bound_at", 0) != 0, "no mapping was placed against 4 GiB: "
                 "the boundary went unchecked")
    if sgfail and h:
        c.expect(t.get("sgfail_failures", 0) > 0, "no map_sg failed: nothing rolled back")
        c.expect(h.get("dart_injected", 0) > 0, "the host injected no failure")
    c.note("self-test: %s checks, %s failed; a %s us map_sg of 2048 entries in %s "
           "interrupts-off sections (%s ticks, longest IRQ silence %s us); "
           "%s map_sg rolled back; remaps %s, unfit %s; %s ms" % (
               t.get("checks"), t.get("failed"), t.get("irqoff_total_us"),
               t.get("irqoff_sections"), t.get("irqoff_ticks"), t.get("irqoff_gap_us"),
               t.get("sgfail_failures"), g.get("remaps"),
               g.get("unfit"), t.get("elapsed_ms")))


# the default dartsim aperture: 1 TiB + 1.5 GiB
ST_IOVA_END = (1 << 40) + (3 << 29)
SCENARIOS["selftest"] = dict(
    title="self-test: maps from process, IRQs-off, softirq, hardirq; masks, "
          "alignment, dma_pool, IRQs on between map_sg chunks",
    wl="", append="egpu.stargs=tests=ctx/mask/align/irqoff,iova_end=%#x" % ST_IOVA_END,
    steps=["selftest", "sync:end"], timeout=300,
    check=lambda c, res: check_selftest(c, res, irqoff=True))
SCENARIOS["selftest-arm64"] = dict(SCENARIOS["selftest"], arch="arm64", check=check_selftest,
                                   title="arm64: " + SCENARIOS["selftest"]["title"])
SCENARIOS["selftest-bound"] = dict(
    title="self-test: an aperture across 4 GiB, no answer crosses the segment boundary",
    adma="aperture-base=0xff000000,aperture-size=0x10000000", wl="",
    append="egpu.stargs=tests=bound/align/ctx,rounds=8",
    steps=["selftest", "sync:end"], timeout=300,
    check=lambda c, res: check_selftest(c, res, bound=True))
SCENARIOS["sg-rollback"] = dict(
    title="multi-chunk map_sg under fail-ppm: failures roll back, nothing left mapped",
    adma="fail-ppm=1000,seed=9", admaargs="cluster_kb=0", wl="",
    append="egpu.disk=0 egpu.stargs=tests=sgfail,rounds=24",
    steps=["selftest", "sync:end"], timeout=300,
    check=lambda c, res: check_selftest(c, res, sgfail=True))

def check_blk(c, res):
    """Another disk type managed (ahci, xhci): the workload on /dev/sda
    verified, 0 DART faults, stats agree, nothing left after unbind+rmmod."""
    h, t = common(c, res, "unloaded")
    all_written(c, t, BLK_MIB)
    agree(c, res, "quiet")
    nothing_left(c, res, "quiet", h)
    c.note("managed disk: %s" % " ".join(s for s in res.steps if s.startswith("blk")))


BLK_MIB = 48


def blk_scenario(dev, devices, title):
    """apple-dma-pci manages DEV (QOM id) instead of the NVMe disk; the
    workload runs on /dev/sda behind it. The unload step's rmmod of
    apple_dma unbinds the controller's driver itself (main.c)."""
    return dict(title=title, adma="managed=" + dev,
                qemu_extra=("-drive", "file=@DISK2@,if=none,id=d1,format=raw,cache=unsafe")
                + devices,
                append="egpu.blk=1",
                wl="-n %s -d /dev/sda -m %d -t 2 -w mixed -s 41" % (dev, BLK_MIB),
                steps=["wl", "sync:quiet", "unload", "sync:unloaded"],
                timeout=300, check=check_blk)


SCENARIOS["ahci"] = blk_scenario(
    "ahci0", ("-device", "ich9-ahci,id=ahci0", "-device", "ide-hd,bus=ahci0.0,drive=d1"),
    "ich9-ahci managed: %d MiB through a SATA disk verified, 0 faults, stats agree, "
    "unbind + rmmod leave none" % BLK_MIB)
SCENARIOS["xhci"] = blk_scenario(
    "xhci0", ("-device", "qemu-xhci,id=xhci0",
              "-device", "usb-storage,bus=xhci0.0,drive=d1"),
    "qemu-xhci managed, usb-storage disk: %d MiB verified, 0 faults, stats agree, "
    "unbind + rmmod leave none" % BLK_MIB)

# ---- apple_dma's lifetime (issue 9: windows where DMA can bypass us)

def console_kv(res, word):
    """Dicts of the "@@WORD k=v ..." console lines vm.py does not parse."""
    out = []
    with open(res.log, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            at = line.find("@@" + word + " ")
            if at >= 0:
                out.append(vm.parse_kv(line[at + len(word) + 3:]))
    return out


def console_has(res, text):
    with open(res.log, "rb") as f:
        return text.encode() in f.read()


def no_trouble(c, res):
    """The guest finished, nothing oopsed, the host saw nothing malformed."""
    c.expect(res.reason == "done", "guest did not finish (%s after %.0f s)"
             % (res.reason, res.elapsed))
    c.expect(res.done_status == 0, "guest reported failure: %s"
             % ("; ".join(res.fails) or "status=%s" % res.done_status))
    c.expect(not res.console_errors, "kernel trouble on the console: %s"
             % " | ".join(res.console_errors[:3]))
    c.expect(not res.host_errors, "host side: %s" % "; ".join(res.host_errors))


def no_dma_around(c, res, tag, dev="adma0"):
    """At TAG: no DART fault, nothing left mapped on the host."""
    h = res.hstats.get(tag if dev == "adma0" else tag + "@" + dev)
    if not c.expect(h is not None, "no host stats of %s at '%s'" % (dev, tag)):
        return None
    for k in ("faults", "live_maps", "live_bytes", "dart_live_maps", "bad_batches"):
        c.expect(h.get(k) == 0, "%s at %s: host %s = %s" % (dev, tag, k, h.get(k)))
    return h


def verified(c, res, name):
    """Workload NAME wrote and read back intact."""
    t = res.total(name)
    if c.expect(t is not None, "workload %s printed no total" % name):
        c.expect(t.get("status") == "pass" and t.get("chunks_failed") == 0 and
                 t.get("bytes_ok", 0) > 0, "workload %s: status=%s chunks_failed=%s"
                 % (name, t.get("status"), t.get("chunks_failed")))


def check_late(c, res):
    """nvme bound before apple_dma, no takeover: probe refused, DMA gated."""
    no_trouble(c, res)
    st = console_kv(res, "ADMA")
    c.expect(st and st[-1].get("bound") == 0, "apple_dma bound although nvme was first: %s" % st)
    c.expect(console_has(res, "load with takeover=1"), "no refusal message")
    h = res.hstats.get("end")
    if c.expect(h is not None, "no host stats"):
        c.expect(h.get("faults") == 0, "the disk's DMA reached the DART unmapped: %s faults "
                 "(on a Mac, a host panic)" % h.get("faults"))
        c.expect(h.get("req_map") == 0 and h.get("live_maps") == 0,
                 "maps with apple_dma refused: req_map %s live %s"
                 % (h.get("req_map"), h.get("live_maps")))
        c.note("host: gated %s, faults %s, translations %s" % (
            h.get("gated"), h.get("faults"), h.get("translations")))


def check_late_takeover(c, res):
    """nvme bound before apple_dma, takeover=1: works, its first DMA gated."""
    no_trouble(c, res)
    verified(c, res, "late")
    h = no_dma_around(c, res, "unloaded")
    e = res.hstats.get("end", {})
    c.note("host: gated %s, faults %s, maps %s" % (e.get("gated"), e.get("faults"),
                                                    e.get("req_map")))
    if h:
        c.expect(e.get("req_map", 0) > 0, "no map after the takeover")


def check_rmmod_busy(c, res):
    """rmmod under I/O with binds racing: the disk ends unbound, nothing mapped."""
    no_trouble(c, res)
    c.expect(any(s.startswith("rmmod rc=0") for s in res.steps), "rmmod failed")
    st = console_kv(res, "ADMA")
    c.expect(st and st[-1].get("nvme") == "none",
             "nvme bound after rmmod (a bind got dma-direct): %s" % st)
    h = no_dma_around(c, res, "unloaded")
    if h:
        c.note("host after rmmod: %s faults, %s live maps, %s maps in all"
               % (h.get("faults"), h.get("live_maps"), h.get("req_map")))


def check_reinsmod(c, res):
    """rmmod, insmod again: the disk is bound again and works."""
    no_trouble(c, res)
    verified(c, res, "ri1")
    verified(c, res, "ri2")
    no_dma_around(c, res, "gone")
    no_dma_around(c, res, "unloaded")
    st = console_kv(res, "ADMA")
    c.expect(len(st) >= 2 and st[0].get("nvme") == "none" and st[1].get("nvme") == "nvme",
             "states %s: want unbound after rmmod, nvme after insmod" % st)


def check_replug(c, res):
    """The disk removed and re-added under load: the new pci_dev is ours."""
    no_trouble(c, res)
    verified(c, res, "rp")
    no_dma_around(c, res, "unplugged")   # the removed device's mappings: released
    no_dma_around(c, res, "unloaded")
    g = res.gstats.get("end", {})
    c.expect(g.get("live_host_maps") is not None, "no guest stats")
    c.note("guest: late_ops %s, release of leftovers on remove; host faults %s" % (
        g.get("late_ops"), res.hstats.get("end", {}).get("faults")))


def check_hotplug(c, res):
    """nvme1 unplugged under load and plugged again through QMP."""
    no_trouble(c, res)
    verified(c, res, "hp")
    no_dma_around(c, res, "unplugged", "adma1")   # its mappings: released
    e = res.hstats.get("end@adma1", {})
    c.expect(e.get("faults") == 0 and e.get("req_map", 0) > 0,
             "adma1 after re-plug: faults %s req_map %s" % (e.get("faults"), e.get("req_map")))
    no_dma_around(c, res, "unloaded", "adma1")
    c.note("adma1: %s maps, %s faults at the end" % (e.get("req_map"), e.get("faults")))


def check_two(c, res):
    """Two apple-dma-pci, each managing an nvme."""
    no_trouble(c, res)
    verified(c, res, "two0")
    verified(c, res, "two1")
    for dev in ("adma0", "adma1"):
        q = res.hstats.get("quiet" if dev == "adma0" else "quiet@" + dev, {})
        c.expect(q.get("req_map", 0) > 0 and q.get("faults") == 0,
                 "%s: req_map %s faults %s" % (dev, q.get("req_map"), q.get("faults")))
        no_dma_around(c, res, "unloaded", dev)


def check_drop(c, res):
    """Lost doorbells (drop-ppm): unmaps resent, rmmod leaves no mapping."""
    no_trouble(c, res)
    e = res.hstats.get("end", {})
    g = res.gstats.get("end", {})
    c.expect(e.get("dropped", 0) > 0, "no doorbell was dropped: %s" % e.get("dropped"))
    c.expect(g.get("unmaps_kept", 0) > 0, "no unmap was kept for a resend (guest %s)"
             % g.get("unmaps_kept"))
    h = res.hstats.get("unloaded")
    if c.expect(h is not None, "no host stats after rmmod"):
        c.expect(h.get("live_maps") == 0 and h.get("dart_live_maps") == 0,
                 "after rmmod: host live_maps %s dart_live_maps %s (leaked)"
                 % (h.get("live_maps"), h.get("dart_live_maps")))
        c.expect(h.get("faults") == 0, "DART faults: %s" % h.get("faults"))
    c.note("dropped %s doorbells; guest kept %s unmaps, resent %s, lost %s, undone maps %s" % (
        e.get("dropped"), g.get("unmaps_kept"), g.get("unmaps_resent"),
        g.get("unmaps_lost"), g.get("maps_undone")))


def check_hibernate(c, res):
    """Hibernation is vetoed while apple_dma manages a device."""
    no_trouble(c, res)
    c.expect(any(s.startswith("hibernate rc=1") for s in res.steps), "hibernation was not refused")
    c.expect(console_has(res, "hibernation refused"), "apple_dma did not veto hibernation")
    c.expect(not console_has(res, "Creating image") and not console_has(res, "Freezing user"),
             "the kernel went on to hibernate")
    verified(c, res, "hib")


class TwoAdmaVm(vm.Vm):
    """A second apple-dma-pci (adma1) managing a second nvme (nvme1), behind
    a PCIe-to-PCI bridge: one IOMMU hook per bus. Host stats of adma1 are
    kept as "TAG@adma1"."""

    def command(self):
        cmd = super().command()
        disk = os.path.join(self.tmp, "disk1.img")
        with open(disk, "wb") as f:
            f.truncate(256 << 20)
        # a -blockdev node outlives the nvme's unplug (a -drive would not)
        return cmd + ["-device", "pcie-pci-bridge,id=br1,bus=pcie.0",
                      "-device", "apple-dma-pci,id=adma1,bus=br1,addr=1,managed=nvme1,"
                                 "backend=dartsim" + "".join(
                                     "," + o for o in (self.adma, os.environ.get(
                                         "EGPU_VM_ADMA", "")) if o),
                      "-blockdev", "driver=raw,node-name=d1,file.driver=file,"
                                   "file.filename=%s" % disk,
                      "-device", "nvme,id=nvme1,bus=br1,addr=2,serial=adma1,drive=d1"]

    def _host_stats(self, res, tag):
        super()._host_stats(res, tag)
        try:
            res.hstats[tag + "@adma1"] = vm.qmp.adma_stats(self.qmp_path, "adma1")
        except (vm.qmp.QmpError, OSError, ValueError) as e:
            res.host_errors.append("QMP adma1 stats at %s: %s" % (tag, e))


class SiblingVm(vm.Vm):
    """The managed nvme is function 0 of a multifunction slot whose function
    1 (pci-testdev) nothing manages."""

    def command(self):
        cmd = super().command()
        i = cmd.index("nvme,id=nvme0,serial=adma,drive=d0")
        cmd[i] += ",addr=4.0,multifunction=on"
        return cmd + ["-device", "pci-testdev,addr=4.1"]


def check_siblings(c, res):
    """The unmanaged sibling function is named in a warning."""
    no_trouble(c, res)
    verified(c, res, "sib")
    c.expect(console_has(res, "0000:00:04.1 (class") and
             console_has(res, "nothing manages its DMA"),
             "no warning about the managed device's sibling 0000:00:04.1")


def check_shutdown_order(c, res):
    """The managed device consumes apple-dma-pci (a device link): its driver
    is shut down (and suspended) before apple_dma closes the gate."""
    no_trouble(c, res)
    verified(c, res, "so")
    nvme = res.disk.get("pci")
    links = [d.get("devlink") for d in console_kv(res, "ADMA") if "devlink" in d]
    c.expect(any(isinstance(x, str) and x.endswith("--" + str(nvme)) for x in links),
             "no device link from apple-dma-pci to the managed %s: %s" % (nvme, links))


def check_takeover_fail(c, res):
    """A takeover whose channel never answers: probe fails, the disk is left
    fenced with its old ops (bound again after rmmod: no oops, 0 faults)."""
    no_trouble(c, res)
    st = console_kv(res, "ADMA")
    c.expect(st and st[0].get("bound") == 0, "apple_dma bound with a dead channel: %s" % st)
    c.expect(console_has(res, "the channel does not answer"), "no channel failure reported")
    h = res.hstats.get("end")
    if c.expect(h is not None, "no host stats"):
        c.expect(h.get("faults") == 0 and h.get("live_maps") == 0,
                 "faults %s live_maps %s" % (h.get("faults"), h.get("live_maps")))


class HotplugVm(TwoAdmaVm):
    """TwoAdmaVm whose nvme1 is unplugged and plugged again through QMP at
    the sync points "unplug" and "plug" (device_del / device_add in an SHPC
    slot of the bridge: the guest's shpchp sees the attention button)."""

    NVME1 = dict(driver="nvme", id="nvme1", bus="br1", addr="2", serial="adma1", drive="d1")

    def _host_stats(self, res, tag):
        if tag in ("unplug", "plug"):
            try:
                self._hotplug(res, tag)
            except (vm.qmp.QmpError, OSError, KeyError, TypeError) as e:
                res.host_errors.append("QMP %s: %s" % (tag, e))
        super()._host_stats(res, tag)

    def _hotplug(self, res, tag):
        with vm.qmp.Qmp(self.qmp_path, timeout=30) as q:
            if tag == "plug":
                q.cmd("device_add", **self.NVME1)
                return
            q.cmd("device_del", id="nvme1")
            deadline = time.monotonic() + 40   # shpchp waits 5 s on the button
            while time.monotonic() < deadline:
                kids = q.cmd("qom-list", path="/machine/peripheral")
                if "nvme1" not in [k["name"] for k in kids]:
                    return
                time.sleep(0.5)
            res.host_errors.append("nvme1 still there 40 s after device_del")


# the disk's first probe must fail fast while its DMA is held off
LATE_APPEND = "egpu.adma=late egpu.disk=0 egpu.mod-nvme-core=admin_timeout=2"
SCENARIOS.update({
    "late": dict(title="nvme loaded before apple_dma: probe refused, its DMA gated (0 faults)",
                 append=LATE_APPEND, wl="", steps=["sleep:3", "state", "sync:end"],
                 timeout=120, check=check_late),
    "late-takeover": dict(title="nvme loaded before apple_dma, takeover=1: works, 0 faults",
                          append=LATE_APPEND, admaargs="takeover=1",
                          wl="-n late -m 16 -t 2 -s 41",
                          steps=["wait:/dev/nvme0n1", "state", "wl", "sync:end", "unload",
                                 "sync:unloaded"],
                          timeout=120, check=check_late_takeover),
    "rmmod-busy": dict(title="rmmod while the disk is busy and binds race: unbound, 0 maps, 0 faults",
                       wl="", wl2="-n busy -m 256 -t 2 -k -s 42",
                       steps=["bg-wl", "sleep:3", "bind-race", "rmmod", "sync:unloaded",
                              "stop-wl"],
                       timeout=120, check=check_rmmod_busy),
    "reinsmod": dict(title="rmmod, insmod again: rebound, data verified, 0 maps",
                     wl="-n ri1 -m 16 -t 2 -s 43", wl2="-n ri2 -m 16 -t 2 -s 44",
                     steps=["wl", "rmmod", "sync:gone", "insmod", "wl2", "unload",
                            "sync:unloaded"],
                     timeout=120, check=check_reinsmod),
    "replug": dict(title="disk removed and re-added under load: managed again, verified, 0 maps",
                   wl="-n rp -m 16 -t 2 -s 45", wl2="-n rpbg -m 256 -t 2 -k -s 46",
                   steps=["bg-wl", "sleep:3", "unplug", "stop-wl", "sync:unplugged", "plug", "wl", "sync:end",
                          "unload", "sync:unloaded"],
                   timeout=120, check=check_replug),
    "two": dict(title="two apple-dma-pci, each managing an nvme: both verified, 0 maps after",
                vm_class=TwoAdmaVm,
                wl="-n two0 -m 32 -t 2 -s 47", wl2="-n two1 -d /dev/nvme1n1 -m 32 -t 2 -s 48",
                steps=["wait:/dev/nvme1n1", "bg-wl", "wl", "wait-wl", "sync:quiet", "unload",
                       "sync:unloaded"],
                timeout=120, check=check_two),
    "hotplug": dict(title="QMP device_del/device_add of a managed nvme under load: managed "
                          "again, verified, 0 maps, 0 faults",
                    vm_class=HotplugVm,
                    wl="-n hp -d /dev/nvme1n1 -m 16 -t 2 -s 51",
                    wl2="-n hpbg -d /dev/nvme1n1 -m 256 -t 2 -k -s 52",
                    steps=["wait:/dev/nvme1n1", "bg-wl", "sleep:3", "sync:unplug", "stop-wl",
                           "sync:unplugged", "sync:plug", "wait:/dev/nvme1n1", "wl", "sync:end",
                           "unload", "sync:unloaded"],
                    timeout=120, check=check_hotplug),
    "siblings": dict(title="an unmanaged sibling function of the managed device is warned about",
                     vm_class=SiblingVm, wl="-n sib -m 8 -t 1 -s 53", steps=["wl", "sync:end"],
                     timeout=120, check=check_siblings),
    "shutdown-order": dict(title="the managed device is a consumer of apple-dma-pci "
                                 "(shut down first)",
                           wl="-n so -m 8 -t 1 -s 54", steps=["wl", "devlink", "sync:end"],
                           timeout=120, check=check_shutdown_order),
    "takeover-fail": dict(title="a takeover that fails leaves no ops of ours on the device",
                          adma="drop-ppm=1000000", append=LATE_APPEND, admaargs="takeover=1",
                          wl="", steps=["sleep:3", "state", "rmmod", "rebind", "sleep:4",
                                        "sync:end"],
                          timeout=120, check=check_takeover_fail),
    "drop": dict(title="lost doorbells (drop-ppm): unmaps resent, rmmod leaves 0 host maps",
                 adma="drop-ppm=20000,seed=9",
                 wl="-n drop -m 64 -t 2 -w mixed -k -s 49",
                 steps=["wl", "sync:end", "unload", "sync:unloaded"],
                 timeout=120, check=check_drop),
    "hibernate": dict(title="hibernation vetoed while a device is managed",
                      wl="-n hib -m 8 -t 1 -s 50", steps=["hibernate", "wl", "sync:end"],
                      timeout=120, check=check_hibernate),
})

# 6.12 (backports): driver_override lives in struct device there
for _base in ("rmmod-busy", "hotplug"):
    SCENARIOS[_base + "-bpo"] = dict(SCENARIOS[_base], kernel="bpo",
                                     title=SCENARIOS[_base]["title"] + " [backports kernel]")

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
