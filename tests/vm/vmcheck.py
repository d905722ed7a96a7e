"""vmcheck.py - what the scenarios of vmtest.py assert: the Check
collector and the checks shared by every scenario module (the workload's
results, the host's QMP stats, guest and host counters agreeing).
Python standard library only."""
import vm  # noqa: F401  (scenario modules reach vm.Vm through here too)

MiB = 1 << 20
GPU_MIB = 256      # the GPU scenarios move this much system -> VRAM -> system
GPU_FLR_AT = 128   # and reset the function (FLR) half way
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


def no_trouble(c, res):
    """The guest finished, nothing oopsed, the host saw nothing malformed."""
    c.expect(res.reason == "done", "guest did not finish (%s after %.0f s)"
             % (res.reason, res.elapsed))
    c.expect(res.done_status == 0, "guest reported failure: %s"
             % ("; ".join(res.fails) or "status=%s" % res.done_status))
    c.expect(not res.console_errors, "kernel trouble on the console: %s"
             % " | ".join(res.console_errors[:3]))
    c.expect(not res.host_errors, "host side: %s" % "; ".join(res.host_errors))


def common(c, res, final_tag, workload=True):
    """What every scenario needs: a clean run, the workload verified, no
    DART fault, nothing malformed on the wire."""
    no_trouble(c, res)
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
