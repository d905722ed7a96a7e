"""scen_guest.py - vmtest scenarios of the guest module's parts and of a
hostile guest: quirks (UVM stand-in, TSO, DC ZVA), adma_hostile (doorbells
from two vCPUs, from an lsi53c895a script, lost on purpose; mappings a
previous kernel left), the self-test module, other managed device types
(ahci, xhci). vmtest.py merges SCENARIOS."""
from vmcheck import *  # noqa: F401,F403

SCENARIOS = {}


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
    no_trouble(c, res)
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
        # idle (cached) mappings stay on the host by design: none in use
        c.expect(h.get("live_maps") == g.get("live_host_maps") and
                 g.get("in_use_host_maps") == 0,
                 "after the self-test: host live_maps %s, guest live %s, in use %s"
                 % (h.get("live_maps"), g.get("live_host_maps"), g.get("in_use_host_maps")))
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
    # 256 KiB clusters: the rounds then place mappings up to and across 4 GiB
    admaargs="cluster_kb=256",
    append="egpu.stargs=tests=bound/align/ctx,rounds=8",
    steps=["selftest", "sync:end"], timeout=300,
    check=lambda c, res: check_selftest(c, res, bound=True))
SCENARIOS["sg-rollback"] = dict(
    title="multi-chunk map_sg under fail-ppm: failures roll back, nothing left mapped",
    adma="fail-ppm=1000,seed=9", admaargs="cluster_kb=0 cache_kb=0", wl="",
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
