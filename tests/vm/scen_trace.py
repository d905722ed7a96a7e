"""scen_trace.py - the vmtest scenario of the DMA API recorder (guest/trace.c,
debugfs apple_dma/<dev>/trace_ctl and trace): a whole trace of a workload
decoded from the console and checked record by record against the format
(guest/core/coal_trace.h), then a trace too small for the next workload,
whose calls that did not fit are dropped whole and counted. vmtest.py
merges SCENARIOS."""
import struct

from vmcheck import *  # noqa: F401,F403

SCENARIOS = {}

MAGIC = b"ADMATRCE"
HDR, REC = 64, 40
MAP, UNMAP = 1, 2
SMALL_CAP = 64


def parse_trace(data):
    """(header dict, records) of a trace file; ValueError if malformed."""
    if len(data) < HDR or data[:8] != MAGIC:
        raise ValueError("bad magic or no header (%d bytes)" % len(data))
    (ver, hsz, rsz, pshift, cshift, batch, small, nrec, dropped,
     _) = struct.unpack_from("<IIIIIIQQQQ", data, 8)
    if (ver, hsz, rsz) != (1, HDR, REC):
        raise ValueError("version %d, sizes %d/%d" % (ver, hsz, rsz))
    if len(data) != HDR + nrec * REC:
        raise ValueError("%d bytes for %d records" % (len(data), nrec))
    hdr = dict(page_shift=pshift, cluster_shift=cshift, max_batch=batch,
               small_max=small, nrec=nrec, dropped=dropped)
    recs = [struct.unpack_from("<BBBBIQQQQ", data, HDR + REC * i) for i in range(nrec)]
    left = 0
    for i, (op, d, _, _, nbuf, gpa, ln, dma, _) in enumerate(recs):
        if op not in (MAP, UNMAP) or not ln or (op == MAP and d not in (1, 2, 3)):
            raise ValueError("record %d: op %d dir %d len %d" % (i, op, d, ln))
        if left:
            if nbuf or op != recs[i - 1][0]:
                raise ValueError("record %d: breaks the call before it" % i)
            left -= 1
        elif not nbuf:
            raise ValueError("record %d: continues no call" % i)
        else:
            left = nbuf - 1
    if left:
        raise ValueError("the last call lacks %d records" % left)
    return hdr, recs


def check_trace(c, res):
    """Two dumps: the first whole (nothing dropped, every unmap of an
    address the trace mapped, maps and unmaps balanced), the second capped
    at SMALL_CAP records with the rest counted as dropped."""
    common(c, res, "end")
    runs = res.trace_runs
    if not c.expect(len(runs) == 2, "%d traces dumped, want 2" % len(runs)):
        return
    for n, (info, data) in enumerate(runs):
        if not c.expect(data is not None, "trace %d not decoded" % n):
            return
        try:
            hdr, recs = parse_trace(data)
        except ValueError as e:
            c.expect(False, "trace %d malformed: %s" % (n, e))
            return
        c.expect(hdr["nrec"] == info.get("records") and hdr["dropped"] == info.get("dropped"),
                 "trace %d: header %s vs trace_ctl %s" % (n, hdr, info))
        # the module's defaults: 16 KiB host pages, 1 MiB clusters
        c.expect(hdr["page_shift"] == 14 and hdr["cluster_shift"] == 20,
                 "trace %d: config %s" % (n, hdr))
        maps = [r for r in recs if r[0] == MAP]
        if n == 0:
            c.expect(hdr["dropped"] == 0 and len(maps) >= 100,
                     "whole trace: %d maps, %d dropped" % (len(maps), hdr["dropped"]))
            live = {}
            stray = 0
            for r in recs:
                if r[0] == MAP:
                    live[r[7]] = live.get(r[7], 0) + 1
                elif live.get(r[7]):
                    live[r[7]] -= 1
                else:
                    stray += 1
            c.expect(stray <= len(maps) // 100,
                     "%d of %d unmaps name addresses the trace never mapped" % (stray, len(recs) - len(maps)))
            c.expect(abs(2 * len(maps) - len(recs)) <= len(maps) // 10,
                     "maps %d vs unmaps %d" % (len(maps), len(recs) - len(maps)))
            c.note("whole trace: %d records (%d maps), %d unmaps unmatched" % (len(recs), len(maps), stray))
        else:
            c.expect(hdr["nrec"] <= SMALL_CAP and hdr["dropped"] > 0,
                     "small trace: %d records, %d dropped" % (hdr["nrec"], hdr["dropped"]))
            c.note("small trace: %d records, %d dropped" % (hdr["nrec"], hdr["dropped"]))


SCENARIOS["trace"] = dict(
    title="DMA API recorder: a whole trace decodes and is well formed; a full one drops and counts",
    wl="-n trace -m 16 -t 2 -w mixed -s 31", wl2="-n trace2 -m 8 -t 2 -s 32",
    steps=["trace-start:500000", "wl", "trace-dump", "trace-start:%d" % SMALL_CAP, "wl2",
           "trace-dump", "sync:end"],
    timeout=600, check=check_trace)
