#!/usr/bin/env python3
"""demo.py - `egpu-vm demo`: one short run, shown as a table.

    demo.py --qemu Q --kernel K --initrd I [--mib N] [--qmp SOCKET]
            [--no-baseline] [--gpu-mib N | --no-gpu] [--verbose]

Boots the test guest behind apple-dma-pci (DART simulator), runs the
workload (N MiB, 2 threads, written, caches dropped, read back, compared),
then unbinds the disk and unloads apple_dma, and prints what the guest's
apple_dma and the host's device counted. Then (unless --no-baseline) the
same run again with apple_dma's clusters off (cluster_kb=0 strict=1: one host mapping
per buffer), to show what the coalescing saved, measured rather than
estimated. Then (unless --no-gpu) the GPU path: apple-dma-pci manages an
egpu-pci function with the simulated GPU (simgpu, its own DART) standing in
for the Thunderbolt GPU, and the guest's test driver moves --gpu-mib MiB
system -> VRAM -> system with its engine, with an FLR half way. Exit 0 when
the data came back intact, no DART fault happened and nothing stayed
mapped, in every run.
"""
import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vm  # noqa: E402

MiB = 1 << 20


def mib(n):
    return "%.1f MiB" % (n / MiB) if isinstance(n, int) else "?"


def num(n):
    return str(n) if isinstance(n, int) else "?"


def reduction(g, h):
    """What the coalescer saved in this run, from what was counted.

    Without clusters every buffer the driver maps would be one host mapping.
    So: buffers mapped (dma_map calls served) per host MAP request over the
    whole run, and peak live buffers per peak live host mappings.
    """
    rows = []
    served = g.get("buffers_mapped")
    if not isinstance(served, int) and all(isinstance(g.get(k), int) for k in
                                           ("cluster_hits", "cluster_misses")):
        # every small buffer is a hit or a miss; larger ones are private maps
        served = g["cluster_hits"] + g["cluster_misses"] + g.get("private_maps", 0)
    maps = h.get("req_map")
    if isinstance(served, int) and isinstance(maps, int) and maps > 0:
        rows.append("%d buffers mapped with %d host MAP requests (%.2f buffers per mapping)"
                    % (served, maps, served / maps))
    pb, pm = g.get("peak_buffers"), h.get("peak_maps")
    if isinstance(pb, int) and isinstance(pm, int) and pm > 0:
        rows.append("peak %d live buffers held by peak %d live host mappings (%.2fx)"
                    % (pb, pm, pb / pm))
    return rows


def run_problems(res):
    """What fails any boot: the guest's own verdict, kernel trouble, QMP."""
    out = []
    if res.reason != "done" or res.done_status != 0:
        out.append("guest run: %s, %s" % (res.reason, "; ".join(res.fails) or
                                          "status=%s" % res.done_status))
    out += ["kernel: " + e for e in res.console_errors[:3]]
    return out + res.host_errors


def problems_of(res, label):
    """What makes a run fail the demo."""
    h = res.hstats.get("end", {})
    after = res.hstats.get("unloaded", {})
    t = res.total("demo") or {}
    out = run_problems(res)
    if t.get("status") != "pass":
        out.append("data did not verify: %s" % (" | ".join(res.chunks[:3]) or "no result"))
    if h.get("faults") != 0:
        out.append("DART faults: %s" % h.get("faults"))
    if after.get("live_maps") != 0:
        out.append("host mappings left after rmmod: %s" % after.get("live_maps"))
    return ["%s: %s" % (label, p) for p in out]


def gpu_problems(res):
    """What makes the GPU run fail the demo."""
    t = res.total("gpu") or {}
    g = res.gpustats.get("quiet", {})
    out = run_problems(res)
    if t.get("status") != "pass":
        out.append("the test driver's run failed: why=%s (console log)" % t.get("why"))
    for k in ("dart_faults", "errors"):
        if g.get(k) != 0:
            out.append("GPU %s: %s" % (k, g.get(k)))
    g0 = res.gpustats.get("before", {})
    host_irqs = g.get("irqs", 0) - g0.get("irqs", 0)
    if t.get("msix") != t.get("fences") or host_irqs != t.get("fences"):
        out.append("fences %s, MSI-X guest %s, host %s" % (t.get("fences"), t.get("msix"),
                                                           host_irqs))
    if res.hstats.get("unloaded", {}).get("live_maps") != 0:
        out.append("host mappings left after rmmod: %s"
                   % res.hstats.get("unloaded", {}).get("live_maps"))
    return ["GPU run: %s" % p for p in out]


def show_gpu(res):
    """The GPU run in a few lines."""
    t = res.total("gpu") or {}
    g, g0 = res.gpustats.get("quiet", {}), res.gpustats.get("before", {})
    h = res.hstats.get("quiet", {})

    def run(k):   # counted by the host during the run (the machine's reset is an FLR too)
        return g[k] - g0[k] if isinstance(g.get(k), int) and isinstance(g0.get(k), int) else "?"

    print("  guest GPU driver (simgpu_test): %s buffers mapped through apple_dma (%s dma_map_sg + "
          "%s dma_map_page, %s address ranges), up to %s at once"
          % (num(t.get("buffers")), num(t.get("map_sg")), num(t.get("map_page")),
             num(t.get("dma_segs")), num(t.get("peak_buffers"))))
    print("  host: %s MAP requests in %s doorbells; the GPU's DART held up to %s live mappings "
          "(%s), %s after unbind + rmmod"
          % (num(h.get("req_map")), num(h.get("batches")), num(g.get("dart_peak_maps")),
             mib(g.get("dart_peak_bytes")), num(res.hstats.get("unloaded", {}).get("live_maps"))))
    print("  engine: %s system -> VRAM -> system at %s MiB/s while busy (%s MiB/s for the whole "
          "run under TCG), %s verified byte for byte"
          % (mib(t.get("bytes_to_vram")), t.get("engine_mib_s", "?"), t.get("run_mib_s", "?"),
             mib(t.get("bytes_verified"))))
    print("  fences %s = MSI-X interrupts %s (guest) = %s (host); FLR half way: guest %s, host %s, "
          "engine re-programmed, data intact; DART faults %s"
          % (num(t.get("fences")), num(t.get("msix")), run("irqs"), num(t.get("flrs")),
             run("flrs"), num(g.get("dart_faults"))))


def boot_gpu(a, accel, log, qmp_path):
    v = vm.Vm(a.qemu, a.kernel, a.initrd, log, adma="", qmp_path=qmp_path, accel=accel,
              gpu=dict(backend="simgpu"),
              gpurun="mib=%d seed=42 flr_at=%d" % (a.gpu_mib, a.gpu_mib // 2),
              steps=["sync:before", "gpu", "sync:quiet", "unload", "sync:unloaded"],
              echo=a.verbose)
    return v.run(600)


def has_device(qemu, name):
    try:
        out = subprocess.run([qemu, "-device", "help"], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return '"%s"' % name in out


def boot(a, accel, log, admaargs, qmp_path):
    v = vm.Vm(a.qemu, a.kernel, a.initrd, log, adma="", qmp_path=qmp_path, accel=accel,
              steps=["wl", "sync:end", "unload", "sync:unloaded"], admaargs=admaargs,
              wl="-n demo -m %d -t 2 -w mixed -s 42" % a.mib, echo=a.verbose)
    return v.run(600)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--qmp", default=None, help="QMP socket path (for egpu-vm stats)")
    ap.add_argument("--logdir", default="build/vm")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the second run without clusters")
    ap.add_argument("--gpu-mib", type=int, default=128,
                    help="MiB the GPU run moves (system -> VRAM -> system)")
    ap.add_argument("--no-gpu", action="store_true", help="skip the GPU run")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    if a.mib < 2 or a.mib % 2:
        ap.error("--mib must be even and >= 2")
    if a.gpu_mib < 2:
        ap.error("--gpu-mib must be >= 2")

    accel, why = vm.choose_accel(a.qemu, a.kernel, a.initrd, a.logdir)
    log = os.path.join(a.logdir, "demo.console.log")
    print("egpu-vm demo: %d MiB through an emulated NVMe disk behind apple-dma-pci "
          "(DART simulator), %s" % (a.mib, why))
    print("  run 1: apple_dma with its defaults (1 MiB clusters, lazy unmap, idle cache) (console: %s)%s" % (
        log, "\n         host counters live meanwhile: egpu-vm stats --socket " + a.qmp
        if a.qmp else ""), flush=True)
    res = boot(a, accel, log, "", a.qmp)
    problems = problems_of(res, "run 1")
    base = None
    if not a.no_baseline:
        blog = os.path.join(a.logdir, "demo-baseline.console.log")
        print("  run 2: the same, one host mapping per buffer (cluster_kb=0 strict=1: no clusters, no idle cache, synchronous unmaps)"
              " (console: %s)" % blog, flush=True)
        base = boot(a, accel, blog, "cluster_kb=0 strict=1", a.qmp)
        problems += problems_of(base, "run 2 (no clusters)")

    g = res.gstats.get("end", {})
    h = res.hstats.get("end", {})
    after = res.hstats.get("unloaded", {})
    bh = base.hstats.get("end", {}) if base else {}
    t = res.total("demo") or {}
    cols = ["guest apple_dma", "host device"] + (["host, no clusters"] if base else [])

    def row(label, gv, hv, bv=""):
        return [label, gv, hv] + ([bv] if base else [])

    rows = [
        row("", *cols),
        row("map requests", num(g.get("req_map")), num(h.get("req_map")), num(bh.get("req_map"))),
        row("unmap requests", num(g.get("req_unmap")), num(h.get("req_unmap")),
            num(bh.get("req_unmap"))),
        row("doorbells (batches)", num(g.get("doorbells")), num(h.get("batches")),
            num(bh.get("batches"))),
        row("live host mappings", num(g.get("live_host_maps")), num(h.get("live_maps")),
            num(bh.get("live_maps"))),
        row("peak host mappings", num(g.get("peak_host_maps")), num(h.get("peak_maps")),
            num(bh.get("peak_maps"))),
        row("live mapped bytes", mib(g.get("mapped_bytes")), mib(h.get("live_bytes")),
            mib(bh.get("live_bytes"))),
        row("peak mapped bytes", mib(g.get("peak_mapped_bytes")), mib(h.get("peak_bytes")),
            mib(bh.get("peak_bytes"))),
        row("refusals", num(g.get("refusals")), num(h.get("refusals")), num(bh.get("refusals"))),
        row("live buffers", num(g.get("live_buffers")), ""),
        row("cluster hits / misses", "%s / %s" % (num(g.get("cluster_hits")),
                                                  num(g.get("cluster_misses"))), ""),
        row("DART translations", "", num(h.get("translations")), num(bh.get("translations"))),
        row("DART faults", "", num(h.get("faults")), num(bh.get("faults"))),
        row("live maps after unbind + rmmod", "", num(after.get("live_maps")),
            num(base.hstats.get("unloaded", {}).get("live_maps")) if base else ""),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for r in rows:
        print("  " + "  ".join(r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i])
                               for i in range(len(r))))
    print()
    if h.get("batches"):
        print("  requests per doorbell: %.2f" % ((h.get("req_map", 0) + h.get("req_unmap", 0))
                                                 / h["batches"]))
    for text in reduction(g, h):
        print("  coalescing, this run: " + text)
    if base and h.get("req_map") and h.get("peak_maps"):
        print("  one mapping per buffer (run 2, same workload, clusters off): %s host MAP requests,"
              " peak %s live;\n    so clusters made %.2fx fewer host mappings and %.2fx fewer"
              " peak live ones (buffer counts vary from run to run with page-cache timing)" % (
                  bh.get("req_map"), bh.get("peak_maps"), bh.get("req_map", 0) / h["req_map"],
                  bh.get("peak_maps", 0) / h["peak_maps"]))
    if t:
        print("  workload: %s written (O_DIRECT and page cache, 2 threads), caches dropped, read "
              "back %s (checksum %s); write %s s, read %s s" % (
                  mib(t.get("bytes_ok")), "intact" if t.get("status") == "pass" else "CORRUPT",
                  t.get("read_sum"), t.get("write_s"), t.get("read_s")))
    print("  VM time: %.1f s%s" % (res.elapsed, " + %.1f s" % base.elapsed if base else ""))
    print()
    if not a.no_gpu:
        glog = os.path.join(a.logdir, "demo-gpu.console.log")
        if not has_device(a.qemu, "egpu-pci"):
            problems.append("GPU run: %s has no egpu-pci device (rebuild QEMU: qemu/build.sh)"
                            % a.qemu)
        else:
            print("  the GPU path: apple-dma-pci manages egpu-pci (backend simgpu, the "
                  "stand-in for a Thunderbolt GPU, behind its own DART); %d MiB, FLR half way "
                  "(console: %s)" % (a.gpu_mib, glog), flush=True)
            gres = boot_gpu(a, accel, glog, a.qmp)
            problems += gpu_problems(gres)
            show_gpu(gres)
            print("  VM time: %.1f s" % gres.elapsed)
            print()
    if problems:
        for p in problems:
            print("demo FAILED: " + p)
        print("  (console logs in %s)" % a.logdir)
        sys.exit(1)
    print("demo OK")


if __name__ == "__main__":
    main()
