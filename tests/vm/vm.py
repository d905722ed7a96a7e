#!/usr/bin/env python3
"""vm.py - boot the test VM once and collect what it says.

Environment: EGPU_VM_APPEND adds guest kernel arguments, EGPU_VM_ADMA
apple-dma-pci options, to every run (debugging, workarounds).

The guest (tests/vm/init) prints lines starting with "@@" on the serial
console; this module runs QEMU with the console on a pipe, copies every byte
to a log file, and answers the guest's "@@SYNC TAG" by reading the host-side
apple-dma-pci stats over QMP and then writing a line back to the console,
which the guest waits for. Python standard library only.

Two guests: amd64 (q35, qboot, console ttyS0, KVM when it works) and arm64
(virt, -kernel directly without firmware, console ttyAMA0, always TCG).

The GPU configuration (gpu=dict(backend=..., opts=...)): apple-dma-pci
manages an egpu-pci function (backend simgpu: the simulated GPU behind its
own simulated DART) instead of the NVMe disk, which is dropped; the guest
loads simgpu_test.ko and its "gpu" step runs it. At a sync point the host
then also reads egpu-pci's QOM "stats" (Result.gpustats).

As a command (for trying things by hand):
    vm.py --qemu Q --kernel K --initrd I [--arch amd64|arm64] [--adma OPTS|--no-adma]
          [--steps wl,sync:end] [--wl "-m 64"] [--log FILE] [--timeout S]
          [--gpu simgpu [--gpu-opts vram-size=...] [--gpurun "mib=64 flr_at=32"]]
"""
import argparse
import base64
import gzip
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmp  # noqa: E402

# Console lines that mean the guest kernel is in trouble.
CONSOLE_ERRORS = ("Oops", "BUG:", "kernel BUG at", "Kernel panic",
                  "WARNING: CPU", "Call Trace:", "general protection fault",
                  "blocked for more than", "soft lockup", "hard LOCKUP",
                  "rcu_sched self-detected stall", "rcu: INFO")

FIRMWARE_DIRS = ("/usr/share/seabios", "/usr/share/qemu", "/usr/lib/ipxe/qemu")


def parse_kv(text):
    """'a=1 b=x' -> {'a': 1, 'b': 'x'} (ints where they parse)."""
    out = {}
    for word in text.split():
        if "=" not in word:
            continue
        k, v = word.split("=", 1)
        try:
            out[k] = int(v, 10)
        except ValueError:
            out[k] = v
    return out


class Result:
    """What one boot produced."""

    def __init__(self):
        self.reason = None        # done | timeout | exited | crashed
        self.done_status = None   # N of "@@DONE status=N"
        self.elapsed = 0.0
        self.qemu_rc = None
        self.results = []         # dicts of "@@RESULT" lines
        self.steps = []           # text of "@@STEP" lines
        self.fails = []           # text of "@@FAIL" lines
        self.chunks = []          # text of "@@CHUNK" lines
        self.irqs = []            # text of "@@IRQ" lines
        self.disk = {}            # "@@DISK"
        self.gstats = {}          # tag -> guest stats before the host read
        self.gstats2 = {}         # tag -> guest stats after it
        self.hstats = {}          # tag -> host stats (QMP)
        self.gpustats = {}        # tag -> egpu-pci stats (QMP), GPU runs
        self.gpu = []             # dicts of "@@GPU" lines
        self.host_errors = []     # QMP failures and the like
        self.console_errors = []  # kernel trouble lines
        self.io_errors = 0        # "I/O error" lines from the block layer
        self.other = []           # (word, rest) of every other "@@" line
        self.traces = {}          # dev -> trace file bytes ("@@TRACE", trace-dump)
        self.trace_info = {}      # dev -> its "@@TRACE begin" dict
        self.trace_runs = []      # (begin dict, bytes or None) of every dump, in order
        self._trace_b64 = []
        self.log = None

    def total(self, name=None):
        """The '@@RESULT phase=total' dict (of workload NAME)."""
        for r in self.results:
            if r.get("phase") == "total" and (name is None or r.get("name") == name):
                return r
        return None

    def ok(self):
        return self.reason == "done" and self.done_status == 0


def firmware_args():
    """-L for Debian's firmware packages, and qboot as the BIOS.

    qboot only loads the kernel: SeaBIOS would also drive the NVMe disk
    (it can boot from NVMe) before apple_dma exists, and that DMA faults
    in the DART - on a Mac, a host panic. Without qboot.rom: SeaBIOS.
    """
    args = []
    for d in FIRMWARE_DIRS:
        if os.path.isdir(d):
            args += ["-L", d]
    for d in FIRMWARE_DIRS:
        if os.path.isfile(os.path.join(d, "qboot.rom")):
            args += ["-bios", os.path.join(d, "qboot.rom")]
            break
    return args


class Vm:
    """One QEMU run of the test guest."""

    def __init__(self, qemu, kernel, initrd, log, adma=None, steps=(),
                 qmp_path=None,
                 wl="", wl2="", admaargs="", accel=None,
                 smp=2, mem="1G", disk_mib=1024, extra_append="", echo=False,
                 loglevel=5, arch="amd64", gpu=None, gpurun="", qemu_extra=()):
        if arch not in MACHINES:
            raise ValueError("unknown guest architecture %r" % arch)
        self.arch = arch
        self.qemu, self.kernel, self.initrd, self.log = qemu, kernel, initrd, log
        self.adma = adma          # None: no apple-dma-pci; else its options
        # None: the NVMe disk is the managed device; else a dict with
        # "backend" and "opts" of the egpu-pci function apple-dma-pci manages
        self.gpu, self.gpurun = gpu, gpurun
        self.qemu_extra = tuple(qemu_extra)   # more QEMU arguments, at the end
        self.steps, self.wl, self.wl2, self.admaargs = steps, wl, wl2, admaargs
        self.accel = accel or tcg(arch)
        self.smp, self.mem, self.disk_mib = smp, mem, disk_mib
        self.extra_append, self.echo, self.loglevel = extra_append, echo, loglevel
        self.tmp = None
        self.fixed_qmp = qmp_path   # None: a socket in the temporary dir
        self.qmp_path = None

    def command(self):
        machine, console = MACHINES[self.arch]
        append = ["console=" + console, "panic=-1", "oops=panic", "loglevel=%d" % self.loglevel,
                  "mitigations=off", "egpu.adma=%d" % (self.adma is not None)]
        if self.steps:
            append.append("egpu.steps=" + ",".join(self.steps))
        if self.gpu is not None:
            append += ["egpu.gpu=1", "egpu.disk=0"]
            if self.gpurun:
                append.append("egpu.gpurun=" + ",".join(self.gpurun.replace(",", "/").split()))
        for key, val in (("wl", self.wl), ("wl2", self.wl2), ("admaargs", self.admaargs)):
            if val:
                append.append("egpu.%s=%s" % (key, ",".join(val.split())))
        for extra in (self.extra_append, os.environ.get("EGPU_VM_APPEND", "")):
            if extra:
                append.append(extra)
        disk = os.path.join(self.tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(self.disk_mib << 20)   # sparse
        cmd = [self.qemu, "-nodefaults", "-M", machine, "-m", self.mem,
               "-smp", str(self.smp), *self.accel, "-display", "none",
               "-serial", "stdio", "-no-reboot",
               *(firmware_args() if self.arch == "amd64" else []),
               "-kernel", self.kernel, "-initrd", self.initrd,
               "-append", " ".join(append),
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if self.adma is not None:
            if self.gpu is None:
                dev = "apple-dma-pci,id=adma0,managed=nvme0,backend=dartsim"
            else:   # the DART is the GPU function's own
                dev = "apple-dma-pci,id=adma0,managed=%s" % GPU_ID
            for opts in (self.adma, os.environ.get("EGPU_VM_ADMA", "")):
                if opts:
                    dev += "," + opts
            cmd += ["-device", dev]
        if self.gpu is not None:
            dev = "egpu-pci,id=%s,backend=%s" % (GPU_ID, self.gpu.get("backend", "simgpu"))
            if self.gpu.get("opts"):
                dev += "," + self.gpu["opts"]
            cmd += ["-device", dev]
        else:
            cmd += ["-drive", "file=%s,if=none,id=d0,format=raw,cache=unsafe" % disk,
                    "-device", "nvme,id=nvme0,serial=adma,drive=d0"]
        extra = list(self.qemu_extra)
        if any("@DISK2@" in a for a in extra):   # a second disk (ahci, xhci scenarios)
            disk2 = os.path.join(self.tmp, "disk2.img")
            with open(disk2, "wb") as f:
                f.truncate(self.disk_mib << 20)   # sparse
            extra = [a.replace("@DISK2@", disk2) for a in extra]
        return cmd + extra

    def _host_stats(self, res, tag):
        if self.gpu is not None:
            try:
                res.gpustats[tag] = qmp.adma_stats(self.qmp_path, GPU_ID)
            except (qmp.QmpError, OSError, ValueError) as e:
                res.host_errors.append("QMP egpu-pci stats at %s: %s" % (tag, e))
        if self.adma is None:
            return
        try:
            res.hstats[tag] = qmp.adma_stats(self.qmp_path)
        except (qmp.QmpError, OSError, ValueError) as e:
            res.host_errors.append("QMP stats at %s: %s" % (tag, e))

    def run(self, timeout):
        res = Result()
        res.log = self.log
        self.tmp = tempfile.mkdtemp(prefix="egpu-vm.")
        self.qmp_path = self.fixed_qmp or os.path.join(self.tmp, "qmp.sock")
        if self.fixed_qmp:
            os.makedirs(os.path.dirname(self.fixed_qmp), exist_ok=True)
            if os.path.exists(self.fixed_qmp):
                os.unlink(self.fixed_qmp)
        try:
            return self._run(res, timeout)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if self.fixed_qmp and os.path.exists(self.fixed_qmp):
                os.unlink(self.fixed_qmp)   # no VM answers there any more

    def _run(self, res, timeout):
        cmd = self.command()
        os.makedirs(os.path.dirname(os.path.abspath(self.log)), exist_ok=True)
        logf = open(self.log, "wb")
        logf.write(("# " + " ".join(cmd) + "\n").encode())
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        lines = queue.Queue()

        def reader():
            buf = b""
            while True:
                data = os.read(proc.stdout.fileno(), 65536)
                if not data:
                    break
                logf.write(data)
                logf.flush()
                if self.echo:
                    sys.stdout.buffer.write(data)
                    sys.stdout.flush()
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    lines.put(line.decode("utf-8", "replace").rstrip("\r"))
            if buf:
                lines.put(buf.decode("utf-8", "replace"))
            lines.put(None)

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        deadline = t0 + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                res.reason = "timeout"
                break
            if line is None:
                break
            self._line(res, proc, line)
            if res.reason == "done":
                break
        # After @@DONE the guest powers off by itself; give it a moment.
        try:
            proc.wait(timeout=30 if res.reason == "done" else 1)
        except subprocess.TimeoutExpired:
            try:
                with qmp.Qmp(self.qmp_path, timeout=2) as q:
                    q.cmd("quit")
                proc.wait(timeout=10)
            except (qmp.QmpError, OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        th.join(timeout=5)
        while True:   # lines that arrived after the last one handled
            try:
                line = lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self._line(res, proc, line)
        res.qemu_rc = proc.returncode
        res.elapsed = time.monotonic() - t0
        if res.reason is None:
            res.reason = "crashed" if res.console_errors else "exited"
        logf.write(("\n# vm.py: reason=%s done_status=%s qemu_rc=%s elapsed=%.1fs\n"
                    % (res.reason, res.done_status, res.qemu_rc, res.elapsed)).encode())
        logf.close()
        return res

    def _line(self, res, proc, line):
        for pat in CONSOLE_ERRORS:
            if pat in line:
                res.console_errors.append(line.strip())
                break
        if "I/O error" in line:
            res.io_errors += 1
        at = line.find("@@")
        if at < 0:
            return
        word, _, rest = line[at + 2:].partition(" ")
        if word == "RESULT":
            res.results.append(parse_kv(rest))
        elif word == "STEP":
            res.steps.append(rest)
        elif word == "FAIL":
            res.fails.append(rest)
        elif word == "CHUNK":
            res.chunks.append(rest)
        elif word == "IRQ":
            res.irqs.append(rest)
        elif word == "GPU":
            res.gpu.append(parse_kv(rest))
        elif word == "DISK":
            res.disk = parse_kv(rest)
        elif word in ("GSTAT", "GSTAT2"):
            tag, _, kv = rest.partition(" ")
            (res.gstats if word == "GSTAT" else res.gstats2)[tag] = parse_kv(kv)
        elif word == "SYNC":
            tag = rest.strip()
            self._host_stats(res, tag)
            try:
                proc.stdin.write(b"go\n")
                proc.stdin.flush()
            except OSError as e:
                res.host_errors.append("console write at %s: %s" % (tag, e))
        elif word == "DONE":
            res.done_status = parse_kv(rest).get("status")
            res.reason = "done"
        elif word in ("TRACE", "TRACE64"):
            self._trace_line(res, word, rest)
        else:
            res.other.append((word, rest))

    @staticmethod
    def _trace_line(res, word, rest):
        """A DMA API trace (tests/vm/init trace-dump): gzip + base64 on
        "@@TRACE64" lines between "@@TRACE begin dev=D ..." and "@@TRACE end"."""
        if word == "TRACE64":
            res._trace_b64.append(rest.strip())
            return
        what, _, kv = rest.partition(" ")
        info = parse_kv(kv)
        dev = str(info.get("dev", "?"))
        if what == "begin":
            res._trace_b64 = []
            res.trace_info[dev] = info
        elif what == "end":
            data = None
            try:
                data = res.traces[dev] = gzip.decompress(base64.b64decode("".join(res._trace_b64)))
            except (ValueError, OSError, EOFError) as e:
                res.host_errors.append("trace of %s: %s" % (dev, e))
            res.trace_runs.append((res.trace_info.get(dev, {}), data))
            res._trace_b64 = []


TCG = ("-accel", "tcg,thread=multi", "-cpu", "max")
KVM = ("-accel", "kvm", "-cpu", "host")
# arm64: emulated on this x86 host, never KVM. QEMU's own pointer
# authentication algorithm: the architected one (QARMA) is slow under TCG.
TCG_ARM64 = ("-accel", "tcg,thread=multi", "-cpu", "max,pauth-impdef=on")

# QOM id of the egpu-pci function in the GPU configuration
GPU_ID = "gpu0"

# arch -> (machine, serial console)
MACHINES = {"amd64": ("q35", "ttyS0"), "arm64": ("virt", "ttyAMA0")}


def tcg(arch):
    return TCG_ARM64 if arch == "arm64" else TCG
KVM_PROBE_TIMEOUT = 60


def choose_accel(qemu, kernel, initrd, logdir):
    """KVM if it really boots this guest, else TCG; returns (args, why).

    /dev/kvm may exist and still be unusable (a paravirtual flavour that
    needs a special guest kernel: stock kernels stall), so the only test is
    a boot. The answer is cached in LOGDIR for this host boot, QEMU and kernel.
    EGPU_ACCEL=tcg|kvm overrides.
    """
    forced = os.environ.get("EGPU_ACCEL", "")
    if forced in ("tcg", "kvm"):
        return (TCG if forced == "tcg" else KVM), "EGPU_ACCEL=" + forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return TCG, "TCG (no usable /dev/kvm)"
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot_id = f.read().strip()
    except OSError:
        boot_id = "?"
    key = "%s %s %d %s %d" % (boot_id, qemu, os.stat(qemu).st_mtime_ns, kernel,
                             os.stat(kernel).st_mtime_ns)
    cache = os.path.join(logdir, "kvm-probe")
    try:
        with open(cache) as f:
            k, _, verdict = f.read().rpartition(" ")
        if k == key:
            return (KVM if verdict == "kvm" else TCG), "%s (cached probe)" % verdict.upper()
    except OSError:
        pass
    probe = Vm(qemu, kernel, initrd, os.path.join(logdir, "kvm-probe.console.log"),
               adma=None, steps=(), accel=KVM, smp=1, disk_mib=16)
    res = probe.run(KVM_PROBE_TIMEOUT)
    verdict = "kvm" if res.reason == "done" and not res.console_errors else "tcg"
    os.makedirs(logdir, exist_ok=True)
    with open(cache, "w") as f:
        f.write("%s %s" % (key, verdict))
    if verdict == "kvm":
        return KVM, "KVM (probe booted in %.0f s)" % res.elapsed
    return TCG, "TCG (/dev/kvm present but a KVM boot %s after %.0f s)" % (res.reason, res.elapsed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--arch", default="amd64", choices=sorted(MACHINES))
    ap.add_argument("--adma", default="", help="extra apple-dma-pci options")
    ap.add_argument("--no-adma", action="store_true")
    ap.add_argument("--steps", default="wl")
    ap.add_argument("--wl", default="-m 64")
    ap.add_argument("--admaargs", default="")
    ap.add_argument("--log", default="build/vm/manual.log")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--gpu", default=None, help="egpu-pci backend (simgpu, dext): the GPU setup")
    ap.add_argument("--gpu-opts", default="", help="more egpu-pci options")
    ap.add_argument("--gpurun", default="mib=64 flr_at=32", help="what the gpu step runs")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--trace-dir", default=None,
                    help="write each DMA API trace (step trace-dump) to DIR/DEV.trace")
    a = ap.parse_args()
    vm = Vm(a.qemu, a.kernel, a.initrd, a.log, adma=None if a.no_adma else a.adma,
            steps=[s for s in a.steps.split(",") if s], wl=a.wl, admaargs=a.admaargs,
            echo=not a.quiet, arch=a.arch,
            gpu=dict(backend=a.gpu, opts=a.gpu_opts) if a.gpu else None, gpurun=a.gpurun)
    res = vm.run(a.timeout)
    print("\nvm.py: reason=%s done_status=%s elapsed=%.1fs" % (res.reason, res.done_status, res.elapsed))
    for tag in res.hstats:
        print("host stats at %s: %s" % (tag, res.hstats[tag]))
    for tag in res.gpustats:
        print("egpu-pci stats at %s: %s" % (tag, res.gpustats[tag]))
    for dev, data in res.traces.items():
        if a.trace_dir:
            os.makedirs(a.trace_dir, exist_ok=True)
            with open(os.path.join(a.trace_dir, dev + ".trace"), "wb") as f:
                f.write(data)
        print("trace of %s: %d bytes %s" % (dev, len(data), res.trace_info.get(dev)))
    for e in res.console_errors + res.host_errors + res.fails:
        print("problem: " + e)
    sys.exit(0 if res.ok() else 1)


if __name__ == "__main__":
    main()
