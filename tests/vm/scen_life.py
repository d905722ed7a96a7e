"""scen_life.py - vmtest scenarios of apple_dma's lifetime (issue 9:
windows where the managed device could DMA around apple_dma): load order,
rmmod, re-insmod, re-plug and hot-plug, two instances, lost doorbells,
hibernation, shutdown order, a failed takeover. vmtest.py merges SCENARIOS."""
import os
import time

from vmcheck import *  # noqa: F401,F403

SCENARIOS = {}

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
                 adma="drop-ppm=20000,seed=9", admaargs="strict=1",  # a doorbell per unmap
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
