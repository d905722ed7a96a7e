/*
 * apple-dma-iommu: the simulated DART of apple-dma-pci as the IOMMU of its
 * managed device. Every DMA of that device goes through translate(): what
 * the guest mapped through apple-dma-pci is reached, anything else faults
 * (on a Mac that would be a host panic; here the access fails and is
 * counted). Every other device on the bus keeps plain memory.
 *
 * Command-line order: apple-dma-pci first, then the managed device, e.g.
 *   -device apple-dma-pci,id=adma0,managed=nvme0,backend=dartsim
 *   -device nvme,id=nvme0,serial=adma,drive=d0
 * on the same PCI bus. The bus asks for a device's DMA address space when
 * the device is plugged (cold-plugged ones at machine-init-done), so the
 * bus's IOMMU hook must already be ours by then; the managed device is
 * looked up by id at each question. At machine-init-done we check that it
 * exists, sits on our bus and got our address space, and stop QEMU if not.
 * Every other device on our bus gets plain memory from us, so no vIOMMU may
 * sit above that bus: it would be bypassed by them; we refuse that at
 * realize and at machine-init-done (the vIOMMU may be created after us).
 * When the managed device is unplugged, its mappings go with it: a new
 * device with the same id starts with none, behind a closed gate.
 *
 * A passed-through managed device (egpu-pci) needs none of this: its DMA
 * goes through its own DART in the host. If we came first we were
 * installed all the same (its type was unknown then): it is given plain
 * memory (so its MSIs reach the interrupt controller), and at
 * machine-init-done we step aside and bind to its DART instead.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hw/pci/pci_bus.h"
#include "hw/qdev-core.h"
#include "exec/address-spaces.h"
#include "system/dma.h"
#include "system/system.h"
#include "apple-dma-pci.h"
#include "egpu-pci.h"
#include "trace.h"

#define TYPE_APPLE_DMA_IOMMU_MR "apple-dma-iommu-memory-region"
#define ADMA_PAGE_MASK ((uint64_t)ADMA_PAGE_SIZE - 1)

PCIDevice *apple_dma_managed(AppleDmaState *s)
{
    Object *o = object_resolve_path_component(
        machine_get_container("peripheral"), s->managed);

    return o ? (PCIDevice *)object_dynamic_cast(o, TYPE_PCI_DEVICE) : NULL;
}

static IOMMUTLBEntry adma_iommu_translate(IOMMUMemoryRegion *iommu,
                                          hwaddr iova, IOMMUAccessFlags flag,
                                          int iommu_idx)
{
    AppleDmaState *s = container_of(iommu, AppleDmaState, iommu_mr);
    IOMMUTLBEntry e = {
        /* host RAM by host address: what the mapping was validated for */
        .target_as = adma_hostram_as(),
        .iova = iova & ~ADMA_PAGE_MASK,
        .addr_mask = ADMA_PAGE_MASK,
        .perm = IOMMU_NONE,
    };
    unsigned int acc = (flag & IOMMU_RO ? DARTSIM_ACC_READ : 0) |
                       (flag & IOMMU_WO ? DARTSIM_ACC_WRITE : 0);
    uint64_t addr = 0, avail;
    bool hit = false, gated, first = false;

    qemu_mutex_lock(&s->lock);
    gated = !s->dma_on;
    if (gated) {
        /* the guest has not opened the gate (ADMA_REG_CONTROL) */
        s->gated++;
        first = !s->gated_logged;
        s->gated_logged = true;
    } else {
        hit = s->dart && !dartsim_translate(s->dart, iova, acc, &addr,
                                            &avail);
        if (!hit && s->last_fault_page != e.iova) {
            /* one report per page, until the page table changes */
            s->last_fault_page = e.iova;
            first = true;
        }
    }
    qemu_mutex_unlock(&s->lock);

    if (hit) {
        /* whole DART pages of host RAM: the page offset carries over */
        e.translated_addr = addr & ~ADMA_PAGE_MASK;
        e.perm = flag;
        trace_apple_dma_translate(iova, addr, flag);
        return e;
    }
    trace_apple_dma_fault(iova, flag);
    if (first && gated) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA by '%s' to IOVA 0x%"
                      HWADDR_PRIx " refused: the guest has not set DMA_ON "
                      "in CONTROL (counted in stats 'gated')\n",
                      TYPE_APPLE_DMA_PCI, s->managed, iova);
    } else if (first) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: DMA fault: %s of IOVA 0x%"
                      HWADDR_PRIx " by '%s', which is not mapped for it\n",
                      TYPE_APPLE_DMA_PCI,
                      flag == IOMMU_WO ? "write" :
                      flag == IOMMU_RO ? "read" : "access",
                      iova, s->managed);
    }
    return e;
}

static uint64_t adma_iommu_min_page_size(IOMMUMemoryRegion *iommu)
{
    return ADMA_PAGE_SIZE;
}

/*
 * Only UNMAP notifiers are served: a MAP notifier (vfio-pci shadowing the
 * table) or a device IOTLB would need events this DART does not send.
 */
static int adma_iommu_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                          IOMMUNotifierFlag old,
                                          IOMMUNotifierFlag new,
                                          Error **errp)
{
    AppleDmaState *s = container_of(iommu, AppleDmaState, iommu_mr);

    if (new & (IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_DEVIOTLB_UNMAP)) {
        error_setg(errp, "%s: only IOMMU unmap notifiers are supported, so "
                   "'%s' cannot be a device that mirrors mappings",
                   TYPE_APPLE_DMA_PCI, s->managed);
        return -EINVAL;
    }
    qemu_mutex_lock(&s->lock);
    s->notify_unmap = new & IOMMU_NOTIFIER_UNMAP;
    if (!s->notify_unmap) {
        g_array_set_size(s->unmapped, 0);
    }
    qemu_mutex_unlock(&s->lock);
    return 0;
}

/* With no MAP notifiers there is never a mapping to announce again. */
static void adma_iommu_replay(IOMMUMemoryRegion *iommu, IOMMUNotifier *n)
{
}

/*
 * Tell the UNMAP notifiers that [start, end] (whole pages) is gone, in the
 * power-of-two sized and aligned pieces their ranges are made of. BQL.
 */
static void adma_notify_unmap(AppleDmaState *s, uint64_t start, uint64_t end)
{
    IOMMUTLBEvent ev = {
        .type = IOMMU_NOTIFIER_UNMAP,
        .entry.target_as = &address_space_memory,
        .entry.perm = IOMMU_NONE,
    };

    for (;;) {
        uint64_t mask = dma_aligned_pow2_mask(start, end, 64);

        ev.entry.iova = start;
        ev.entry.addr_mask = mask;
        trace_apple_dma_notify_unmap(start, mask);
        memory_region_notify_iommu(&s->iommu_mr, 0, ev);
        if (end - start <= mask) {
            break;
        }
        start += mask + 1;
    }
}

void apple_dma_iommu_flush_unmaps(AppleDmaState *s)
{
    BQL_LOCK_GUARD();   /* notifiers run under the BQL; before s->lock */
    GArray *segs;
    guint i;

    qemu_mutex_lock(&s->lock);
    if (!s->unmapped->len) {
        qemu_mutex_unlock(&s->lock);
        return;
    }
    segs = s->unmapped;
    s->unmapped = g_array_new(false, false, sizeof(struct adma_seg));
    qemu_mutex_unlock(&s->lock);

    for (i = 0; i < segs->len; i++) {
        const struct adma_seg *seg = &g_array_index(segs, struct adma_seg, i);

        adma_notify_unmap(s, seg->iova & ~ADMA_PAGE_MASK,
                          ((seg->iova + seg->len + ADMA_PAGE_MASK) &
                           ~ADMA_PAGE_MASK) - 1);
    }
    g_array_free(segs, true);
}

/*
 * The gate closed: nothing the device cached may be used any more. Only
 * the aperture can hold a translation: one event for all of 0..2^64 would
 * not fit inside a notifier's range (QEMU asserts that it does), as the
 * MSI windows split our region into several sections.
 */
void apple_dma_iommu_notify_closed(AppleDmaState *s)
{
    uint64_t base, size;

    /* our IOMMU only: a managed egpu-pci's DMA never came through it */
    if (!s->iommu_installed || s->hd) {
        return;
    }
    qemu_mutex_lock(&s->lock);
    base = s->dart ? dartsim_config(s->dart)->aperture_base : 0;
    size = s->dart ? dartsim_config(s->dart)->aperture_size : 0;
    qemu_mutex_unlock(&s->lock);
    if (size) {
        adma_notify_unmap(s, base, base + size - 1);
    }
}

/* ---- the MSI doorbell windows */

typedef struct AdmaRange {
    uint64_t base, size;
} AdmaRange;

static bool adma_overlap(AdmaRange a, uint64_t base, uint64_t size)
{
    return a.base < base + size && base < a.base + a.size;
}

/* flatview_for_each_range(): stop at the first RAM inside r (opaque). */
static bool adma_find_ram(Int128 start, Int128 len, const MemoryRegion *mr,
                          hwaddr offset_in_region, void *opaque)
{
    AdmaRange *r = opaque;

    if (!mr->ram ||             /* RAM, ROM, RAM-backed BARs */
        int128_ge(start, int128_make64(r->base + r->size)) ||
        int128_le(int128_add(start, len), int128_make64(r->base))) {
        return false;
    }
    /* found: where, inside r */
    r->base = MAX(r->base, int128_get64(start));
    r->size = 0;
    return true;
}

/* The first address of RAM the range covers, or false if none. */
static bool adma_covers_ram(AdmaRange r, uint64_t *where)
{
    RCU_READ_LOCK_GUARD();
    flatview_for_each_range(address_space_to_flatview(&address_space_memory),
                            adma_find_ram, &r);
    *where = r.base;
    return r.size == 0;
}

/*
 * MSIs are DMA writes to the interrupt controller's doorbell. On the Mac the
 * dext delivers the device's interrupts and they never need a DART mapping;
 * an IOMMU without interrupt remapping (virtio-iommu's reserved MSI region)
 * passes them through the same way. So the machine's doorbells bypass the
 * simulated DART: x86's 0xfee00000 page range; on arm virt the GICv2m
 * frame and the ITS page holding GITS_TRANSLATER (hw/arm/virt.c's memory
 * map), not the GIC's other frames beside them (GICH, GICV, the ITS
 * control frame). msi-base/msi-size name one window instead. A window must
 * not cover RAM (the device would reach it around the DART) nor the DART's
 * aperture (those IOVAs would go around their mappings).
 */
static int adma_msi_ranges(AppleDmaState *s, AdmaRange *w)
{
    Object *machine = qdev_get_machine();

    /* the properties stay as given: apple_dma_bind_egpu() looks at them */
    if (s->msi_size) {
        w[0] = (AdmaRange) { s->msi_base, s->msi_size };
        return 1;
    }
    if (object_dynamic_cast(machine, "x86-machine")) {
        w[0] = (AdmaRange) { 0xfee00000, 0x100000 };
        return 1;
    }
    if (object_dynamic_cast(machine, "virt-machine")) {
        w[0] = (AdmaRange) { 0x08020000, 0x1000 };  /* GICv2m frame */
        w[1] = (AdmaRange) { 0x08090000, 0x1000 };  /* ITS translation */
        return 2;
    }
    return 0;                   /* no window: say so with msi-size */
}

static bool adma_msi_window(AppleDmaState *s, Error **errp)
{
    const struct dartsim_config *dc = dartsim_config(s->dart);
    AdmaRange w[ADMA_MSI_WINDOWS];
    int i, n = adma_msi_ranges(s, w);
    uint64_t ram;

    for (i = 0; i < n; i++) {
        if (w[i].base + w[i].size < w[i].base) {
            error_setg(errp, "%s: msi-base + msi-size wraps",
                       TYPE_APPLE_DMA_PCI);
            return false;
        }
        if (adma_covers_ram(w[i], &ram)) {
            error_setg(errp, "%s: the MSI window 0x%" PRIx64 "+0x%" PRIx64
                       " (msi-base, msi-size) covers RAM at 0x%" PRIx64
                       ": the managed device would reach it around the DART",
                       TYPE_APPLE_DMA_PCI, w[i].base, w[i].size, ram);
            return false;
        }
        if (adma_overlap(w[i], dc->aperture_base, dc->aperture_size)) {
            error_setg(errp, "%s: the MSI window 0x%" PRIx64 "+0x%" PRIx64
                       " overlaps the IOVA aperture 0x%" PRIx64 "+0x%"
                       PRIx64 " (aperture-base, aperture-size): move one",
                       TYPE_APPLE_DMA_PCI, w[i].base, w[i].size,
                       dc->aperture_base, dc->aperture_size);
            return false;
        }
    }
    for (i = 0; i < n; i++) {
        memory_region_init_alias(&s->msi_window[i], OBJECT(s),
                                 "apple-dma-msi", get_system_memory(),
                                 w[i].base, w[i].size);
        memory_region_add_subregion_overlap(&s->iommu_root, w[i].base,
                                            &s->msi_window[i], 1);
    }
    return true;
}

/* ---- the bus's IOMMU hook */

static AddressSpace *adma_iommu_get_as(PCIBus *bus, void *opaque, int devfn)
{
    AppleDmaState *s = opaque;
    PCIDevice *m = apple_dma_managed(s);

    /* a hot-plugged device asks before it is entered into bus->devices */
    if (bus == s->bus && m && pci_get_bus(m) == bus && m->devfn == devfn &&
        (!bus->devices[devfn] || bus->devices[devfn] == m) &&
        !apple_dma_is_egpu(m)) {
        return &s->iommu_as;
    }
    return &address_space_memory;
}

static const PCIIOMMUOps adma_iommu_ops = {
    .get_address_space = adma_iommu_get_as,
};

/*
 * Left on the bus when we step aside: no API undoes pci_setup_iommu(), and
 * the bus must not keep a pointer to us. Plain memory, as with no IOMMU.
 */
static AddressSpace *adma_iommu_gone_as(PCIBus *bus, void *opaque, int devfn)
{
    return &address_space_memory;
}

static const PCIIOMMUOps adma_iommu_gone_ops = {
    .get_address_space = adma_iommu_gone_as,
};

static bool adma_bus_iommu_is_ours(PCIBus *bus)
{
    return bus->iommu_ops == &adma_iommu_ops ||
           bus->iommu_ops == &adma_iommu_gone_ops;
}

/*
 * A vIOMMU on a bus above ours would be bypassed by every device on our bus
 * (they get plain memory from us): refuse it.
 */
static bool adma_check_ancestors(AppleDmaState *s, Error **errp)
{
    PCIBus *b = s->bus;

    while (b->parent_dev) {
        b = pci_get_bus(b->parent_dev);
        if (b->iommu_ops && !adma_bus_iommu_is_ours(b)) {
            error_setg(errp, "%s: PCI bus '%s' above apple-dma-pci's bus "
                       "'%s' has an IOMMU (a vIOMMU such as intel-iommu or "
                       "virtio-iommu), which the other devices on '%s' "
                       "would bypass: use no vIOMMU with apple-dma-pci, or "
                       "manage an egpu-pci named before apple-dma-pci",
                       TYPE_APPLE_DMA_PCI, BUS(b)->name, BUS(s->bus)->name,
                       BUS(s->bus)->name);
            return false;
        }
    }
    return true;
}

/*
 * The managed device is unplugged: its mappings must not outlive it (a new
 * device with the same id would inherit them). Runs after its unrealize,
 * when it no longer DMAs; BQL held.
 */
static void adma_managed_unrealized(DeviceListener *l, DeviceState *dev)
{
    AppleDmaState *s = container_of(l, AppleDmaState, unplug);

    if (dev->id && !strcmp(dev->id, s->managed) &&
        object_dynamic_cast(OBJECT(dev), TYPE_PCI_DEVICE)) {
        apple_dma_release_all(s, false);
    }
}

static void adma_machine_done(Notifier *n, void *data)
{
    AppleDmaState *s = container_of(n, AppleDmaState, machine_done);
    PCIDevice *m = apple_dma_managed(s);
    const char *why = NULL;
    Error *err = NULL;

    /*
     * A vIOMMU created after us: QEMU cannot run like this, so stop it, as
     * QEMU's own notifiers do. One that replaced our hook never sees the
     * devices plugged on our bus before it.
     */
    if (s->bus->iommu_ops != &adma_iommu_ops || s->bus->iommu_opaque != s) {
        error_setg(&error_fatal, "%s: an IOMMU was set up on PCI bus '%s' "
                   "after apple-dma-pci: apple-dma-pci must be the only "
                   "IOMMU of its bus", TYPE_APPLE_DMA_PCI, BUS(s->bus)->name);
        return;
    }
    if (!adma_check_ancestors(s, &err)) {
        error_propagate(&error_fatal, err);
        return;
    }
    if (apple_dma_is_egpu(m)) {
        apple_dma_iommu_unrealize(s);
        if (!apple_dma_bind_egpu(s, EGPU_PCI(m), &err)) {
            error_propagate(&error_fatal, err);
            return;
        }
        trace_apple_dma_managed(s->managed, pci_dev_bus_num(m),
                                PCI_SLOT(m->devfn), PCI_FUNC(m->devfn));
        return;
    }
    if (!m) {
        why = "there is no PCI device with that id";
    } else if (pci_get_bus(m) != s->bus) {
        why = "it is not on the PCI bus of apple-dma-pci";
    } else if (pci_device_iommu_address_space(m) != &s->iommu_as) {
        why = "its DMA does not go through apple-dma-pci";
    }
    if (why) {
        error_setg(&error_fatal, "%s: managed device '%s': %s",
                   TYPE_APPLE_DMA_PCI, s->managed, why);
        return;
    }
    trace_apple_dma_managed(s->managed, pci_bus_num(s->bus),
                            PCI_SLOT(m->devfn), PCI_FUNC(m->devfn));
}

bool apple_dma_iommu_realize(AppleDmaState *s, Error **errp)
{
    PCIDevice *m = apple_dma_managed(s);

    s->bus = pci_get_bus(PCI_DEVICE(s));
    if (m == PCI_DEVICE(s)) {
        error_setg(errp, "%s cannot manage itself", TYPE_APPLE_DMA_PCI);
        return false;
    }
    if (m) {
        error_setg(errp, "%s must come before its managed device '%s' on "
                   "the command line", TYPE_APPLE_DMA_PCI, s->managed);
        return false;
    }
    if (s->bus->iommu_ops) {
        error_setg(errp, "%s: PCI bus '%s' already has an IOMMU",
                   TYPE_APPLE_DMA_PCI, BUS(s->bus)->name);
        return false;
    }
    if (!adma_check_ancestors(s, errp)) {
        return false;
    }

    memory_region_init(&s->iommu_root, OBJECT(s), "apple-dma-root",
                       UINT64_MAX);
    memory_region_init_iommu(&s->iommu_mr, sizeof(s->iommu_mr),
                             TYPE_APPLE_DMA_IOMMU_MR, OBJECT(s),
                             "apple-dma-iommu", UINT64_MAX);
    memory_region_add_subregion(&s->iommu_root, 0,
                                MEMORY_REGION(&s->iommu_mr));
    if (!adma_msi_window(s, errp)) {
        return false;
    }
    /* installed once, after the last failure: nothing undoes it */
    pci_setup_iommu(s->bus, &adma_iommu_ops, s);
    address_space_init(&s->iommu_as, &s->iommu_root, "apple-dma-iommu");
    s->iommu_installed = true;
    s->machine_done.notify = adma_machine_done;
    qemu_add_machine_init_done_notifier(&s->machine_done);
    s->unplug.unrealize = adma_managed_unrealized;
    device_listener_register(&s->unplug);
    return true;
}

void apple_dma_iommu_unrealize(AppleDmaState *s)
{
    if (!s->iommu_installed) {
        return;
    }
    qemu_remove_machine_init_done_notifier(&s->machine_done);
    device_listener_unregister(&s->unplug);
    /* leave no pointer to us behind; a hook someone else set stays */
    if (s->bus->iommu_ops == &adma_iommu_ops && s->bus->iommu_opaque == s) {
        pci_setup_iommu(s->bus, &adma_iommu_gone_ops, NULL);
    }
    address_space_destroy(&s->iommu_as);
    s->iommu_installed = false;
}

static void adma_iommu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = adma_iommu_translate;
    imrc->get_min_page_size = adma_iommu_min_page_size;
    imrc->notify_flag_changed = adma_iommu_notify_flag_changed;
    imrc->replay = adma_iommu_replay;
}

static const TypeInfo adma_iommu_mr_info = {
    .name = TYPE_APPLE_DMA_IOMMU_MR,
    .parent = TYPE_IOMMU_MEMORY_REGION,
    .class_init = adma_iommu_mr_class_init,
};

static void adma_iommu_register_types(void)
{
    type_register_static(&adma_iommu_mr_info);
}

type_init(adma_iommu_register_types)
