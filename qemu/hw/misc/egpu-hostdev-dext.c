/*
 * egpu-pci backend "dext": the host PCI function owned by our PCIDriverKit
 * driver, reached through IOKit (apple-dma/hostdev_iokit.c, the wire is
 * apple-dma/apple_dext.h). apple-dma-pci, managing this egpu-pci, maps
 * through the same connection's DART (hostdev dma_ops), so the function and
 * its DART are one open device as on the Mac.
 *
 * The DART maps host virtual addresses, and only inside memory the dext has
 * described once: every RAM block of this QEMU is registered as it appears
 * (a RAMBlockNotifier also replays the blocks that exist already) and
 * forgotten when it goes. Blocks that are not plain RAM (ROMs, ram_device
 * BARs) are skipped: apple-dma-pci never maps them.
 *
 * Off macOS this file builds against tests/iokit-shim, a test double that
 * hands the IOKit calls to the dext's portable logic over a simulated GPU
 * in this process (EGPU_IOKIT_TEST_DOUBLE, see qemu/patches/0013-*); the
 * simulated function then has simgpu's defaults (egpu-pci refuses the
 * simgpu properties with backend=dext, as it would on a Mac).
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "exec/memory.h"
#include "exec/ramlist.h"
#include "apple-dma-pci.h"
#include "egpu-pci.h"
#include "apple-dma/hostdev_iokit.h"

#ifdef EGPU_IOKIT_TEST_DOUBLE
#include "egpu-dext-double.h"
#endif

typedef struct EgpuDext {
    EgpuPciState *s;
    struct hostdev *hd;
    RAMBlockNotifier rbn;
    bool closing;               /* close(): the dext drops the regions */
} EgpuDext;

static const char *egpu_dext_id(EgpuDext *d)
{
    return DEVICE(d->s)->id ? DEVICE(d->s)->id : "";
}

/*
 * Memory the dext is told about: plain RAM blocks, not a ROM or a device's
 * BAR (of these, apple-dma-pci maps only the machine's RAM).
 */
static bool egpu_dext_plain_ram(void *host)
{
    ram_addr_t offset;
    MemoryRegion *mr = memory_region_from_host(host, &offset);

    return mr && apple_dma_mr_is_plain_ram(mr);
}

static void egpu_dext_ram_added(RAMBlockNotifier *n, void *host, size_t size,
                                size_t max_size)
{
    EgpuDext *d = container_of(n, EgpuDext, rbn);
    int err;

    if (!egpu_dext_plain_ram(host)) {
        return;
    }
    err = hostdev_iokit_add_region(d->hd, host, max_size);
    if (err) {
        warn_report("%s '%s': the dext refused RAM at %p (0x%zx bytes): %s; "
                    "the guest cannot DMA there", TYPE_EGPU_PCI,
                    egpu_dext_id(d), host, max_size, hostdev_strerror(err));
    }
}

static void egpu_dext_ram_removed(RAMBlockNotifier *n, void *host,
                                  size_t size, size_t max_size)
{
    EgpuDext *d = container_of(n, EgpuDext, rbn);
    int err;

    if (d->closing || !egpu_dext_plain_ram(host)) {
        return;
    }
    err = hostdev_iokit_remove_region(d->hd, host, max_size);
    if (err) {
        warn_report("%s '%s': RAM at %p leaves while the device may still "
                    "map it: %s", TYPE_EGPU_PCI, egpu_dext_id(d), host,
                    hostdev_strerror(err));
    }
}

#ifdef EGPU_IOKIT_TEST_DOUBLE
static void egpu_dext_setup_double(void)
{
    const struct simgpu_config gc = { 0 };     /* simgpu's defaults */

    warn_report_once("%s: backend dext: IOKit calls go to the test double "
                     "(tests/iokit-shim: the dext's logic over a simulated "
                     "GPU and DART in this process), not to a Mac",
                     TYPE_EGPU_PCI);
    if (!iokit_shim_setup_gpu(&gc)) {
        warn_report("%s: the test double has one simulated function; it "
                    "keeps the settings it was created with", TYPE_EGPU_PCI);
    }
}
#endif

bool egpu_dext_sim_stats(EgpuPciState *s, struct simgpu_stats *gs,
                         struct dartsim_stats *ds)
{
#ifdef EGPU_IOKIT_TEST_DOUBLE
    struct simgpu *g = iokit_shim_gpu();

    if (!s->backend_opaque || !s->be || strcmp(s->be->name, "dext") || !g) {
        return false;
    }
    iokit_shim_lock_gpu();
    if (gs) {
        *gs = *simgpu_stats(g);
    }
    if (ds) {
        *ds = *dartsim_stats(simgpu_dart(g));
    }
    iokit_shim_unlock_gpu();
    return true;
#else
    return false;
#endif
}

struct hostdev *egpu_dext_open(EgpuPciState *s, Error **errp)
{
    EgpuDext *d = g_new0(EgpuDext, 1);
    char why[256] = "";
    int err;

#ifdef EGPU_IOKIT_TEST_DOUBLE
    egpu_dext_setup_double();
#endif
    err = hostdev_iokit_open(s->host, &d->hd, why, sizeof(why));
    if (err) {
        error_setg(errp, "%s: backend dext, host=%s: %s (%s)", TYPE_EGPU_PCI,
                   s->host ? s->host : "auto", why, hostdev_strerror(err));
        g_free(d);
        return NULL;
    }
    d->s = s;
    d->rbn.ram_block_added = egpu_dext_ram_added;
    d->rbn.ram_block_removed = egpu_dext_ram_removed;
    ram_block_notifier_add(&d->rbn);
    s->backend_opaque = d;
    return d->hd;
}

void egpu_dext_close(EgpuPciState *s)
{
    EgpuDext *d = s->backend_opaque;

    if (!d) {
        return;
    }
    /*
     * closing the connection resets the function, then drops every
     * mapping and region the dext holds for us
     */
    d->closing = true;
    ram_block_notifier_remove(&d->rbn);
    d->hd->ops->close(d->hd->dev);
    s->backend_opaque = NULL;
    g_free(d);
}
