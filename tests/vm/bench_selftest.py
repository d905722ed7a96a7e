#!/usr/bin/env python3
"""bench_selftest.py - checks tests/vm/bench.py's arithmetic and verdicts on
made-up guest output, no VM: deltas summed over rounds, medians (least for a
pair's cost), block ratios paired round by round, the dma_calls fallback,
met / not met at the targets' edges, and the lines of bench_core and the
replay (its targets and its bound) joining the table.
Prints "N passed, N failed"; exits 1 if any failed. Python standard library.
"""
import os
import sys
import types

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import vm  # noqa: E402

passed = failed = 0


def expect(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def fake(lines):
    """A vm.Result from '@@WORD rest' lines, as vm.py would have parsed them."""
    res = vm.Result()
    for ln in lines:
        word, _, rest = ln[2:].partition(" ")
        if word == "RESULT":
            res.results.append(vm.parse_kv(rest))
        else:
            res.other.append((word, rest))
    return res


def rows(t):
    return {r[0]: r for r in t.rows if not isinstance(r, str)}


def main():
    # two rounds of one label: deltas add up, numbers take the median,
    # ns_per_pair the least
    m = bench.Measured(fake([
        "@@BSTAT x-managed before doorbells=10 dma_calls=100",
        "@@RESULT label=x-managed ns_per_pair=500 mean_us=10",
        "@@BSTAT x-managed after rc=0 doorbells=12 dma_calls=300",
        "@@BSTAT x-managed before doorbells=12 dma_calls=300",
        "@@RESULT label=x-managed ns_per_pair=300 mean_us=20",
        "@@BSTAT x-managed after rc=0 doorbells=15 dma_calls=500",
    ]))
    expect(m.delta("x-managed", "doorbells") == 5, "doorbells summed over rounds")
    expect(m.calls("x-managed") == (400, "dma_calls"), "dma_calls summed")
    expect(m.results["x-managed"]["ns_per_pair"] == 300, "least pair cost")
    expect(m.results["x-managed"]["mean_us"] == 15, "median of two rounds")
    expect(m.results["x-managed"]["rounds"] == 2, "rounds counted")
    # no dma_calls stat: 2 * buffers_mapped - live_buffers
    m = bench.Measured(fake([
        "@@BSTAT y-managed before buffers_mapped=10 live_buffers=2",
        "@@BSTAT y-managed after rc=0 buffers_mapped=60 live_buffers=4",
    ]))
    expect(m.calls("y-managed") == (98, "2*buffers_mapped-live_buffers"), "calls fallback")
    expect(m.delta("y-managed", "doorbells") is None, "a missing stat is no figure")

    # verdicts at the targets' edges
    t = bench.Table()
    t.check("le", "", "", 1.5, 1.5 <= 1.5)
    t.check("gt", "", "", 1.51, 1.51 <= 1.5)
    t.check("none", "", "", None, False)
    t.check("abs", "20.0", "?", None, 20.0 <= 20, absolute=True)
    r = rows(t)
    expect(r["le"][4] == "met", "1.5x meets <= 1.5x")
    expect(r["gt"][4] == "NOT met", "1.51x misses <= 1.5x")
    expect(r["none"][4] == "NOT MEASURED", "no ratio: not measured")
    expect(r["abs"][4] == "met", "absolute target judged without a baseline")

    # a cached pair with a doorbell misses its target even when cheap
    b = bench.Bench.__new__(bench.Bench)
    m = bench.Measured(fake([
        "@@RESULT label=pair-direct-4k-cached ns_per_pair=100 pairs=10",
        "@@BSTAT pair-managed-4k-cached before doorbells=0",
        "@@RESULT label=pair-managed-4k-cached ns_per_pair=200 pairs=10",
        "@@BSTAT pair-managed-4k-cached after rc=0 doorbells=1",
    ]))
    t = bench.Table()
    b.pair_rows(t, m)
    r = [x for x in t.rows if x[0].startswith("pair 4k cached")][0]
    expect(r[4] == "NOT met" and r[3] == "2.00x", "a doorbell fails the cached pair")

    # the fastest batch is compared when dmabench gives it, least of rounds
    m = bench.Measured(fake([
        "@@RESULT label=pair-direct-4k-cached ns_per_pair=900 best_ns_per_pair=100 pairs=10",
        "@@BSTAT pair-managed-4k-cached before doorbells=0",
        "@@RESULT label=pair-managed-4k-cached ns_per_pair=2000 best_ns_per_pair=500 pairs=10",
        "@@BSTAT pair-managed-4k-cached after rc=0 doorbells=0",
        "@@BSTAT pair-managed-4k-cached before doorbells=0",
        "@@RESULT label=pair-managed-4k-cached ns_per_pair=1000 best_ns_per_pair=350 pairs=10",
        "@@BSTAT pair-managed-4k-cached after rc=0 doorbells=0",
    ]))
    t = bench.Table()
    b.pair_rows(t, m)
    r = [x for x in t.rows if x[0].startswith("pair 4k cached")][0]
    expect(r[4] == "met" and r[3] == "3.50x", "best batches compared: %s %s" % (r[3], r[4]))

    # block ratios: the round with the median ratio (paired samples), not
    # the ratio of each side's median (these are a real run's SMP reads)
    lines = []
    for d, g in ((862, 941), (1753, 1788), (2232, 2007), (2332, 2167), (2508, 2226)):
        lines += ["@@RESULT label=seq2-direct read_mib_s=%d" % d,
                  "@@RESULT label=seq2-managed read_mib_s=%d" % g]
    m = bench.Measured(fake(lines))
    t = bench.Table()
    b.throughput_rows(t, m)
    r = [x for x in t.rows if x[0].startswith("SMP") and x[0].endswith("read >= 0.9x")][0]
    expect(r[3] == "0.93x" and r[4] == "met" and r[1] == "2167.0 MiB/s" and
           r[2] == "2332.0 MiB/s (direct); rounds 0.89-1.09x",
           "paired block ratio, the median round's figures: %s %s %s %s" % r[1:])
    expect(m.paired("seq2-managed", "seq2-direct", "write_mib_s") is None,
           "no paired ratio without the figure")
    m = bench.Measured(fake(lines[:-1]))   # the last round's managed line lost
    expect(m.paired("seq2-managed", "seq2-direct", "read_mib_s") is None,
           "rounds missing on one side are not paired by position")

    # other tools' lines
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench_selftest.%d" % os.getpid())
    with open(path, "w") as f:
        f.write("  target >= 5 M req/s: met\n"
                "  common: 4 KiB maps (or their unmaps)    0.020 ms\n"
                "  worst search: all FRAGMENTED    0.600 ms\n"
                "== replay tests/traces/nvme.trace.xz: 10 DMA API calls\n"
                "   target peak maps >= 25x fewer (cache off): 28 vs 518 = 18.5x: NOT MET\n"
                "   bound: any scheme whose mappings are each one contiguous guest-physical range, "
                "within 16224 KiB (2x per-buffer's peak) at every moment, holds >= 16 after driver "
                "call 3910 (123 buffers live); 25x fewer than per-buffer is <= 5: unreachable on "
                "this trace\n"
                "== replay tests/traces/simgpu.trace.xz: 10 DMA API calls\n"
                "   bound: not computed: 3 buffers were not recorded\n")
    t = bench.Table()
    b.a = types.SimpleNamespace()
    b.tool_rows(t, path)
    os.unlink(path)
    r = rows(t)
    expect(r.get(">= 5 M req/s [bench_core]", ("",) * 5)[4] == "met", "bench_core target")
    k = "peak maps >= 25x fewer (cache off) [replay nvme]"
    expect(k in r and r[k][4] == "NOT met" and r[k][1] == "28 vs 518 = 18.5x",
           "replay target, figure and label")
    bd = [x for x in t.rows if "fewest maps any scheme" in x[0]]
    expect(bd and bd[0][1] == ">= 16 maps" and bd[0][2] == "<= 5 maps for 25x fewer" and
           bd[0][4] == "unreachable" and bd[0][0].endswith("[replay nvme]"), "the replay's bound")
    expect(len(bd) == 2 and bd[1][1] == "not computed: 3 buffers were not recorded" and
           bd[1][4] == "NOT MEASURED" and bd[1][0].endswith("[replay simgpu]"),
           "a bound not computed is a row that says why")
    w = [x for x in t.rows if x[0].startswith("host core worst")]
    expect(w and w[0][3] == "30.0x", "worst doorbell against the common case")

    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
