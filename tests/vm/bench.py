#!/usr/bin/env python3
"""bench.py - the VM benchmarks of `make bench`: every target of issue 11
measured side by side in one run, printed as one table.

    bench.py --qemu Q --kernel K --initrd I [--logdir D] [--core-output F]...
             [--only BOOT,...] [--main-args "k=v ..."] [--verbose]

Boots the amd64 test guest (tests/vm/vm.py) a few times under the DART
simulator; each boot is one configuration, and the baselines come from the
same run:

  main         2 vCPUs, two NVMe disks: "adma" behind apple_dma (module
               defaults: lazy unmap, idle cache; --main-args adds
               parameters) and "direct" without it. Each measurement runs on
               both (tests/vm/benchguest.sh), ROUNDS times, in turn: the
               workload (tests/vm/workload.c, 64 MiB, 2 threads; direct
               disk first), then, interleaved I/O by I/O so a busy host
               slows both alike (tests/vm/blkbench.c, fio's parameters; fio
               itself is not in the initramfs): 1 MiB sequential O_DIRECT
               writes + reads with 1 thread and with 2 (the SMP case), QD1
               4 KiB O_DIRECT random reads; and the dma_map+unmap pair cost
               (tests/vm/dmabench). Block I/O: the round whose ratio is
               the median of the rounds' (a round measures both disks
               together: its ratio is one paired sample), its figures, and
               the rounds' spread; a pair's cost: the least of the rounds.
  percall      apple_dma with cluster_kb=0 strict=1: one host mapping per
               buffer, each unmap sent at once - the baseline of the
               doorbell and mapping counts; the same workload.
  nocache      the defaults with cache_kb=0 (idle cache off); the workload,
               its DMA API calls recorded (guest/trace.c) and replayed by
               build/bench/replay (--replay): per-buffer vs ours on this
               boot's very buffers, and the bound of any scheme of
               contiguous mappings on them (bench/replay_bound.c).
  tiny         the defaults (cache on) under host limits of twice the
               nocache run's peaks (apple-dma-pci max-bytes/max-maps), so
               the watermark (50 %) is the cache-off peak and the idle cache
               (64 MiB) does not fit under it: refusals, evictions, and peak
               bytes <= max(watermark, cache-off peak) - idle mappings never
               push live bytes above the watermark (the issue's wording;
               mappings in use or with their unmap deferred may).
  gpu, gpu-percall  the simulated GPU (scenario gpu's simgpu_test run), with
               the defaults and with cluster_kb=0 strict=1.

Doorbells per 1000 DMA API calls: doorbells / dma_calls from apple_dma's
debugfs stats (a call: one buffer or scatterlist entry mapped or unmapped);
where the module has no dma_calls, 2 * buffers_mapped - live_buffers
(deltas), and the row says so. --core-output F: the output of
build/bench/bench_core (or another tool) whose "target ...: met|NOT met"
lines join the table. Console logs go to LOGDIR (build/bench). Exits 0 when
every boot ran and measured (a target not met is reported, not an error).
"""
import argparse
import os
import re
import subprocess
import sys
import textwrap
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402

MiB = 1 << 20
WL = "64:2"            # the NVMe workload: MiB, threads
PAIRS = 2000           # dmabench pairs per shape and mode
LAT_N, LAT_RANGE = 3000, 64
SEQ_MIB = 128
ROUNDS = 5             # block measurements: median of this many, interleaved
TRACE_CAP = 1000000    # buffers (trace records) the nocache boot may record
GPURUN = "mib=256 seed=21 flr_at=128"   # scenario gpu's run
PERCALL = "cluster_kb=0 strict=1"
DISK2 = ["-drive", "file=@DISK2@,if=none,id=d1,format=raw,cache=unsafe",
         "-device", "nvme,id=nvme1,serial=direct,drive=d1"]
SHAPES = ("4k", "64k", "1m", "sg")
LOCK_KEYS = re.compile(r"irq|lock|contend|spin|wait")


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return None if not n else (xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2)


class Measured:
    """What the @@BSTAT/@@RESULT lines of one boot said, by label.

    A label measured in several rounds (the same step again) has its
    results' numbers as the median of the rounds (pair costs: the least)
    and its stats deltas summed;
    after[label] is the last round's stats.
    """

    def __init__(self, res):
        self.before, self.after, self.results = {}, {}, {}
        self.rounds = {}   # label -> [(before, after)]
        runs = {}
        for word, rest in res.other:
            if word != "BSTAT":
                continue
            label, _, rest = rest.partition(" ")
            when, _, kv = rest.partition(" ")
            kv = vm.parse_kv(kv)
            if when == "before":
                self.rounds.setdefault(label, []).append((kv, None))
            elif self.rounds.get(label):
                self.rounds[label][-1] = (self.rounds[label][-1][0], kv)
                self.after[label] = kv
        for r in res.results:
            if "label" in r:
                runs.setdefault(r["label"], []).append(r)
        for label, rs in runs.items():
            out = dict(rs[-1])
            for k in out:
                try:
                    vals = [float(r[k]) for r in rs if k in r]
                except (TypeError, ValueError):
                    continue
                # a pair's cost: the least of the rounds (interference
                # from the busy host only ever adds)
                out[k] = min(vals) if k.endswith("ns_per_pair") else median(vals)
            out["rounds"] = len(rs)
            self.results[label] = out
        self.runs = runs

    def paired(self, label, base, key):
        """Label's key over base's, round by round (both sides measured in
        the same round): (ratio, figure, baseline) of the round whose ratio
        is the median (of an even count, the upper middle one), then the
        least and the most ratio; None if no round has both."""
        rs, gs, ds = [], self.runs.get(label, []), self.runs.get(base, [])
        if len(gs) != len(ds):   # a side lost a round: rounds cannot be paired
            return None
        for g, d in zip(gs, ds):
            try:
                fg, fd = float(g[key]), float(d[key])
            except (KeyError, TypeError, ValueError):
                continue
            if fd:
                rs.append((fg / fd, fg, fd))
        if not rs:
            return None
        rs.sort()
        return rs[len(rs) // 2] + (rs[0][0], rs[-1][0])

    def delta(self, label, key):
        total = None
        for b, a in self.rounds.get(label, []):
            a, b = a or {}, b or {}
            if not (isinstance(a.get(key), int) and isinstance(b.get(key), int)):
                return None
            total = (total or 0) + a[key] - b[key]
        return total

    def calls(self, label):
        """DMA API calls in LABEL, and how they were counted."""
        d = self.delta(label, "dma_calls")
        if d is not None:
            return d, "dma_calls"
        m, live = self.delta(label, "buffers_mapped"), self.delta(label, "live_buffers")
        if m is None or live is None:
            return None, "?"
        return 2 * m - live, "2*buffers_mapped-live_buffers"


def paired_ratio(m, label, base, key):
    """(ratio, figure, baseline) of the median round, and the rounds'
    spread as text; Nones and "" when not measured."""
    p = m.paired(label, base, key)
    if p is None:
        return None, None, None, ""
    return p[0], p[1], p[2], "; rounds %.2f-%.2fx" % (p[3], p[4])


def per_1000(doorbells, calls):
    if doorbells is None or not calls:
        return None
    return 1000.0 * doorbells / calls


class Table:
    def __init__(self):
        self.rows = []   # (target, figure, baseline, ratio, verdict)
        self.notes = []

    def add(self, target, figure, baseline="", ratio="", verdict="info"):
        self.rows.append((target, figure, baseline, ratio, verdict))

    def check(self, target, figure_txt, baseline_txt, ratio, ok, absolute=False):
        """A row with a target: ratio is a number or None (not measured).
        absolute: the target is on the figure alone (ok None: no figure)."""
        if absolute:
            self.add(target, figure_txt, baseline_txt, "?" if ratio is None else "%.2fx" % ratio,
                     "NOT MEASURED" if ok is None else ("met" if ok else "NOT met"))
        elif ratio is None:
            self.add(target, figure_txt, baseline_txt, "?", "NOT MEASURED")
        else:
            self.add(target, figure_txt, baseline_txt, "%.2fx" % ratio,
                     "met" if ok else "NOT met")

    def section(self, title):
        self.rows.append(title)

    def print(self, out=sys.stdout):
        """Columns of fixed width; a long cell wraps onto more lines."""
        head = ("target", "figure", "baseline (same run)", "ratio", "met?")
        w = (46, 34, 30, 9, 12)
        line = "  ".join("%-*s" % (w[i], head[i]) for i in range(5)).rstrip()
        print(line, file=out)
        print("=" * len(line), file=out)
        for r in self.rows:
            if isinstance(r, str):
                print("-- %s " % r + "-" * max(0, len(line) - len(r) - 4), file=out)
                continue
            cells = [textwrap.wrap(str(c), w[i]) or [""] for i, c in enumerate(r)]
            for k in range(max(len(c) for c in cells)):
                print("  ".join("%-*s" % (w[i], cells[i][k] if k < len(cells[i]) else "")
                                for i in range(5)).rstrip(), file=out)
        for n in self.notes:
            print(textwrap.fill("note: " + n, len(line), subsequent_indent="      "), file=out)


def fmt(v, unit="", prec=1):
    return "?" if v is None else ("%.*f%s" % (prec, v, unit))


def ratio(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


class Bench:
    def __init__(self, args):
        self.a = args
        # KVM when it boots this guest, else TCG (EGPU_ACCEL=tcg|kvm forces)
        # (the probe's answer is kept beside vmtest's: build/vm)
        probe_dir = os.path.join(os.path.dirname(os.path.abspath(args.logdir)), "vm")
        self.accel, self.accel_why = vm.choose_accel(args.qemu, args.kernel, args.initrd,
                                                     probe_dir)
        self.boots = {}
        self.failures = []
        self.nocache_replay = None

    def boot(self, name, timeout=900, **kw):
        if self.a.only and name not in self.a.only:
            return None
        log = os.path.join(self.a.logdir, name + ".console.log")
        kw.setdefault("adma", "")   # apple-dma-pci manages nvme0 (or the GPU)
        v = vm.Vm(self.a.qemu, self.a.kernel, self.a.initrd, log, echo=self.a.verbose,
                  accel=self.accel, **kw)
        t0 = time.monotonic()
        res = v.run(timeout)
        print("bench: boot %-12s %s in %.0f s (log %s)" % (name, res.reason,
              time.monotonic() - t0, log), flush=True)
        problems = res.fails + res.console_errors + res.host_errors
        if not res.ok() or problems:
            self.failures.append("%s: reason=%s status=%s %s" % (name, res.reason,
                                 res.done_status, "; ".join(problems[:5])))
        m = Measured(res)
        m.res = res
        self.boots[name] = m
        return m

    def run(self):
        a = self.a
        wl_steps = ["bench:wlm:" + WL] * ROUNDS
        self.boot("percall", admaargs=PERCALL, steps=wl_steps)
        nocache = self.boot("nocache", admaargs="cache_kb=0",
                            steps=["trace-start:%d" % TRACE_CAP] + wl_steps + ["trace-dump"])
        self.nocache_replay = self.replay_trace("nocache", nocache)
        # tiny limits: twice the peaks the cache-off run needed
        tiny_bytes, tiny_maps = 32 * MiB, 512
        pb = None
        if nocache is not None:
            after = nocache.after.get("wl%s-managed" % WL.split(":")[1], {})
            pb, pm = after.get("peak_mapped_bytes"), after.get("peak_host_maps")
            if isinstance(pb, int) and isinstance(pm, int) and pb and pm:
                tiny_bytes = -(-2 * pb // (16 << 10)) * (16 << 10)
                tiny_maps = max(64, 2 * pm)
        self.tiny = (tiny_bytes, tiny_maps)
        self.nocache_peak = pb if isinstance(pb, int) else None
        self.boot("tiny", adma="max-bytes=%d,max-maps=%d" % self.tiny, steps=wl_steps)
        rounds = ["bench:wl:" + WL, "bench:seq:%d:1" % SEQ_MIB,
                  "bench:lat:%d:%d" % (LAT_N, LAT_RANGE), "bench:seq:%d:2" % SEQ_MIB,
                  "bench:pairs:%d" % PAIRS]
        # 2 GiB: dmabench's miss pool is twice the idle cache (512 MiB)
        self.boot("main", smp=2, mem="2G", qemu_extra=DISK2, steps=rounds * ROUNDS,
                  admaargs=a.main_args)
        gpu = dict(backend="simgpu", opts="")
        for name, args in (("gpu", ""), ("gpu-percall", PERCALL)):
            self.boot(name, gpu=gpu, gpurun=GPURUN, admaargs=args,
                      steps=["sync:before", "gpu", "sleep:1", "sync:after"])
        return self.table()

    # ---- the table -------------------------------------------------------

    def replay_trace(self, name, m):
        """Replay the trace boot NAME recorded (build/bench/replay); the
        path of the replay's output, or None (then why is in failures)."""
        if m is None:
            return None
        traces = m.res.traces
        if len(traces) != 1:
            self.failures.append("%s: %d DMA API traces dumped, want 1" % (name, len(traces)))
            return None
        trace = os.path.join(self.a.logdir, name + ".trace")
        out = os.path.join(self.a.logdir, name + ".replay.txt")
        with open(trace, "wb") as f:
            f.write(next(iter(traces.values())))
        try:
            with open(trace, "rb") as fin, open(out, "w") as f:
                rc = subprocess.run([self.a.replay, "--label", name + "-boot", "-"], stdin=fin,
                                    stdout=f, stderr=subprocess.STDOUT, timeout=600).returncode
        except (OSError, subprocess.TimeoutExpired) as e:
            self.failures.append("%s: replay %s: %s" % (name, self.a.replay,
                                                      getattr(e, "strerror", None) or e))
            return None
        if rc:
            self.failures.append("%s: replay of its trace failed (exit %d, see %s)" % (name, rc, out))
            return None
        print("bench: %s's trace (%d bytes) replayed: %s" % (name, os.path.getsize(trace), out),
              flush=True)
        return out

    def table(self):
        t = Table()
        b = self.boots
        wl = "wl%s-managed" % WL.split(":")[1]
        t.section("VM: doorbells, host mappings")
        self.doorbell_rows(t, b, wl)
        self.mapping_rows(t, b, wl)
        self.tiny_rows(t, b.get("tiny"), wl)
        main = b.get("main")
        if main is not None:
            t.section("VM: apple_dma vs a disk without it, same VM, interleaved")
            self.latency_rows(t, main)
            self.throughput_rows(t, main)
            t.section("VM: dma_map+unmap pair cost (dmabench), vs dma-direct")
            self.pair_rows(t, main)
        if self.nocache_replay:
            t.section("the nocache boot's DMA API trace, replayed (%s)" %
                      os.path.basename(self.nocache_replay))
            self.tool_rows(t, self.nocache_replay)
        for f in self.a.core_output or ():
            t.section("host tools (%s)" % os.path.basename(f))
            self.tool_rows(t, f)
        t.notes.append("accelerator: %s; the 'direct' disk is a second emulated NVMe in the "
                       "same VM without apple_dma" % self.accel_why)
        t.notes.append("block I/O: blkbench (tests/vm/blkbench.c) with fio's parameters "
                       "(randread bs=4k iodepth=1 direct=1; read/write bs=1m direct=1), "
                       "fio itself is not in the initramfs")
        t.notes.append("pair cost, cached: dmabench's fastest batch of 64 pairs (the least of "
                       "the rounds), each side: a vCPU descheduled by the host stretches a mean, "
                       "not the best batch; miss: the mean (least of the rounds)")
        return t

    def doorbell_rows(self, t, b, wl):
        for what, fig_boot, base_boot, lab in (
                ("NVMe workload", "main", "percall", wl),
                ("simulated GPU (scenario gpu's run)", "gpu", "gpu-percall", None)):
            vals = []
            for name in (fig_boot, base_boot):
                m = b.get(name)
                if m is None:
                    vals.append((None, "?"))
                    continue
                if lab is None:   # the gpu boots: the two sync points
                    g0, g1 = m.res.gstats.get("before", {}), m.res.gstats.get("after", {})
                    m.rounds["gpu"], m.after["gpu"] = [(g0, g1)], g1
                calls, how = m.calls(lab or "gpu")
                vals.append((per_1000(m.delta(lab or "gpu", "doorbells"), calls), how))
            (fig, how), (base, _) = vals
            t.check("<= 20 doorbells / 1000 DMA calls, " + what,
                    fmt(fig, "", 1), fmt(base, " (%s)" % PERCALL, 1),
                    ratio(fig, base), None if fig is None else fig <= 20, absolute=True)
            if how not in ("dma_calls", "?"):
                t.notes.append("%s: calls counted as %s (no dma_calls stat)" % (what, how))

    def mapping_rows(self, t, b, wl):
        def peaks(name, first=False):
            # percall, nocache: the whole boot (every round the same
            # workload); main: after its first round (it goes on with others)
            m = b.get(name)
            r = m.rounds.get(wl) if m else None
            s = (r[0 if first else -1][1] or {}) if r else {}
            return s.get("peak_host_maps"), s.get("peak_mapped_bytes")
        pc_maps, pc_bytes = peaks("percall")
        nc_maps, nc_bytes = peaks("nocache")
        on_maps, on_bytes = peaks("main", first=True)
        r = ratio(pc_maps, nc_maps)
        t.check(">= 25x fewer peak host mappings (cache off)", "%s maps" % fmt(nc_maps, "", 0),
                "%s maps (one per buffer)" % fmt(pc_maps, "", 0), r, r is not None and r >= 25)
        r = ratio(nc_bytes, pc_bytes)
        t.check("peak mapped bytes <= 2x one-per-buffer (cache off)", fmt(nc_bytes and nc_bytes / MiB, " MiB", 2),
                fmt(pc_bytes and pc_bytes / MiB, " MiB", 2), r, r is not None and r <= 2)
        t.add("  the same with the idle cache on (beside; main boot, first round)", "%s maps, %s" % (
              on_maps, fmt(on_bytes and on_bytes / MiB, " MiB", 2)),
              "%s maps, %s" % (pc_maps, fmt(pc_bytes and pc_bytes / MiB, " MiB", 2)),
              fmt(ratio(pc_maps, on_maps), "x", 1))

    def tiny_rows(self, t, m, wl):
        if m is None:
            t.add("tiny host limits, cache on", "?", "", "?", "NOT MEASURED")
            return
        lim_bytes, lim_maps = self.tiny
        s = m.after.get(wl, {})
        refusals = m.delta(wl, "refusals")
        ev = m.delta(wl, "evictions")
        wm = s.get("watermark_bytes")
        wm_how = "watermark_bytes"
        if not isinstance(wm, int):
            pct = 50   # apple_dma's default watermark_pct
            wm, wm_how = lim_bytes * pct // 100, "%d%% of max-bytes" % pct
        peak = s.get("peak_mapped_bytes")
        lim = "max-bytes=%.1f MiB max-maps=%d" % (lim_bytes / MiB, lim_maps)
        # the host's own count, over the whole boot (QMP at the last sync)
        host = m.res.hstats.get("done", {}).get("refusals")
        if refusals is not None and isinstance(host, int):
            refusals = max(refusals, host)
        t.add("tiny limits (%s): 0 refusals" % lim, "%s (host: %s)" % (refusals, host), "0",
              "", "met" if refusals == 0 else ("NOT met" if refusals else "NOT MEASURED"))
        t.add("tiny limits: idle mappings evicted (> 0)", str(ev), "", "",
              "met" if isinstance(ev, int) and ev > 0 else ("NOT MEASURED" if ev is None else "NOT met"))
        # what the coalescer saw after each host map: idle or deferred
        # mappings held above a watermark (in use alone may pass it)
        ex_b, ex_m = s.get("wm_excess_bytes"), s.get("wm_excess_maps")
        known = isinstance(ex_b, int) and isinstance(ex_m, int)
        t.add("tiny limits: idle or deferred held above the watermark after any map (peak)",
              "%s B, %s maps" % (ex_b, ex_m), "0", "",
              "NOT MEASURED" if not known else ("met" if ex_b == 0 and ex_m == 0 else "NOT met"))
        t.add("  peak live bytes (in use alone may pass the watermark; beside)",
              fmt(peak and peak / MiB, " MiB", 2),
              "%s (%s), %s (cache off)" % (fmt(wm / MiB, " MiB", 2), wm_how,
                                           fmt((self.nocache_peak or 0) / MiB, " MiB", 2)),
              fmt(ratio(peak, wm), "x", 2), "info")

    def latency_rows(self, t, m):
        for key, target in (("mean_us", 1.5), ("p50_us", None), ("p99_us", None)):
            r, fg, fd, spread = paired_ratio(m, "lat-managed", "lat-direct", key)
            name = "4 KiB QD1 O_DIRECT read latency, %s" % key.replace("_us", "")
            base = fmt(fd, " us (direct)", 1) + spread
            if target:
                t.check(name + " <= 1.5x", fmt(fg, " us", 1), base,
                        r, r is not None and r <= target)
            else:
                t.add(name, fmt(fg, " us", 1), base, fmt(r, "x", 2))

    def throughput_rows(self, t, m):
        wlt = WL.split(":")[1]
        for lab, keys, what in (
                ("seq1", ("write_mib_s", "read_mib_s"), "1 MiB sequential O_DIRECT"),
                ("wl" + wlt, ("write_mib_s", "read_mib_s"), "workload.c (%s MiB, %s threads)" % tuple(WL.split(":"))),
                ("seq2", ("write_mib_s", "read_mib_s"), "SMP: 2 vCPUs, 2 threads, 1 MiB O_DIRECT")):
            for k in keys:
                r, fg, fd, spread = paired_ratio(m, lab + "-managed", lab + "-direct", k)
                t.check("%s %s >= 0.9x" % (what, k.split("_")[0]), fmt(fg, " MiB/s"),
                        fmt(fd, " MiB/s (direct)") + spread, r, r is not None and r >= 0.9)
        lab = "seq2-managed"
        calls, _ = m.calls(lab)
        t.add("SMP: doorbells / 1000 calls (2 threads)",
              fmt(per_1000(m.delta(lab, "doorbells"), calls)), "", "", "info")
        a = m.after.get(lab, {})
        extra = ["%s=%s" % (k, m.delta(lab, k)) for k in sorted(a)
                 if LOCK_KEYS.search(k) and m.delta(lab, k)]
        if not extra:
            t.add("SMP: IRQ-off / lock stats (deltas)", "(none, or all 0)", "", "", "info")
        for i in range(0, len(extra), 3):
            t.add("SMP: IRQ-off / lock stats (deltas)" if i == 0 else "",
                  " ".join(extra[i:i + 3]), "", "", "info")

    def pair_rows(self, t, m):
        for shape in SHAPES:
            for mode in ("cached", "miss"):
                d = m.results.get("pair-direct-%s-%s" % (shape, mode), {})
                lab = "pair-managed-%s-%s" % (shape, mode)
                g = m.results.get(lab, {})
                # cached: the fastest batch of 64 pairs (dmabench), each
                # side; miss: the mean (a batch may find its windows still
                # cached from the last time round the pool)
                key = "best_ns_per_pair" if mode == "cached" and "best_ns_per_pair" in g \
                    else "ns_per_pair"
                fd, fg = d.get(key), g.get(key)
                n = g.get("pairs")
                db = m.delta(lab, "doorbells")
                dpp = db / n / g["rounds"] if isinstance(db, int) and n else None
                r = ratio(fg, fd)
                name = "pair %s %s" % ("64 x 4 KiB sg" if shape == "sg" else shape, mode)
                fig = "%s, %s doorbells/pair" % (fmt(fg, " ns", 0), fmt(dpp, "", 3))
                if mode == "cached":
                    t.check(name + ": 0 doorbells, <= 4x direct", fig, fmt(fd, " ns (direct)", 0),
                            r, r is not None and r <= 4 and db == 0)
                else:
                    t.add(name, fig, fmt(fd, " ns (direct)", 0), fmt(r, "x", 1))

    def tool_rows(self, t, path):
        """'target ...: [figure:] met|NOT met' lines of other benchmarks'
        output (bench_core, the trace replay), under the replay's label."""
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            t.add(os.path.basename(path), "?", "", "", "NOT MEASURED (%s)" % e.strerror)
            return
        label, common = "bench_core", None
        for ln in lines:
            ml = re.match(r"== replay (\S+?):? ", ln)
            if ml:
                label = "replay " + os.path.basename(ml.group(1)).replace(".trace.xz", "")
                if "tiny host limits" in ln:
                    label += " (tiny limits)"
            mt = re.match(r"\s*target (.*?):\s*(?:(.*):\s*)?(met|not met)\s*$", ln, re.I)
            if mt:
                t.add("%s [%s]" % (mt.group(1), label), mt.group(2) or "(above)", "", "",
                      "met" if mt.group(3).lower() == "met" else "NOT met")
            mb = re.match(r"\s*bound: (?:.*holds >= (\d+) after .*"
                          r"is <= (\d+): (not ruled out|unreachable)|(.*))", ln)
            if mb:
                what = ("  fewest maps any scheme of contiguous mappings holds within 2x "
                        "the bytes [%s]" % label)
                if mb.group(4) is None:
                    t.add(what, ">= %s maps" % mb.group(1),
                          "<= %s maps for 25x fewer" % mb.group(2), "", mb.group(3))
                else:
                    t.add(what, mb.group(4), "", "", "NOT MEASURED")
            mc = re.match(r"\s*common: .*?\s+([0-9.]+) ms", ln)
            mw = re.match(r"\s*worst search.*?\s+([0-9.]+) ms", ln)
            if mc:
                common = float(mc.group(1))
            if mw:
                w = float(mw.group(1))
                t.add("host core worst doorbell (1024 refused, fragmented) [bench_core]",
                      "%.3f ms" % w, fmt(common, " ms (common case)", 3), fmt(ratio(w, common), "x", 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--logdir", default="build/bench")
    ap.add_argument("--core-output", action="append")
    ap.add_argument("--replay", default=os.path.join(os.path.dirname(os.path.dirname(
                    os.path.dirname(os.path.abspath(__file__)))), "build", "bench", "replay"),
                    help="the trace replay tool (make build/bench/replay)")
    ap.add_argument("--only", type=lambda s: set(s.split(",")), default=None,
                    help="boots to run (main, percall, nocache, tiny, gpu, gpu-percall)")
    ap.add_argument("--main-args", default="", help="apple_dma parameters of the main boot")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.logdir, exist_ok=True)
    t0 = time.monotonic()
    b = Bench(a)
    table = b.run()
    print("\nissue 11 targets, measured %s on %s (%d cores), %s; %.0f s of VMs\n" % (
          time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.uname().nodename,
          os.cpu_count(), b.accel_why, time.monotonic() - t0))
    table.print()
    with open(os.path.join(a.logdir, "table.txt"), "w") as f:
        table.print(f)
    for fl in b.failures:
        print("bench: FAILED boot " + fl)
    sys.exit(1 if b.failures else 0)


if __name__ == "__main__":
    main()
