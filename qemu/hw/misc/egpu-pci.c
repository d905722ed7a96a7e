/*
 * egpu-pci: pass one host PCI function (struct hostdev, apple-dma/hostdev.h)
 * through to the guest - a small cousin of vfio-pci over the host-device
 * interface instead of VFIO ioctls.
 *
 *   -device egpu-pci,id=gpu0,backend=simgpu[,vram-size=N][,msix-vectors=N]
 *       [,intx=on][,map-bars=auto|on|off][,DART knobs as apple-dma-pci's]
 *   -device egpu-pci,id=gpu0,backend=dext,host=...        (macOS)
 *
 * Config space: egpu-pci-config.c. Guest FLR and system_reset both reach
 * hostdev reset() through the reset handler here.
 *
 * BARs: a BAR the backend maps into this process, sized in whole host pages
 * (and 16 KiB, the Mac's), is a ram_device region the accelerator maps
 * straight into the guest; other BARs are trapped and forwarded. The MSI-X
 * table and PBA are QEMU's, laid over whichever BAR holds them.
 *
 * Interrupts arrive on the backend's threads: egpu_irq() records them in an
 * atomic bitmap and a bottom half delivers them under the BQL.
 *
 * Locks, with apple-dma-pci managing us: BQL -> apple-dma-pci's lock -> the
 * backend's own locks (simgpu: its mutex, then its engine's wake lock).
 * egpu_irq() takes none, so a backend may call it holding its lock or not.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/range.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "egpu-pci.h"
#include "apple-dma-pci.h"
#include "trace.h"

static const EgpuBackend egpu_backends[] = {
    { "simgpu", egpu_simgpu_open, egpu_simgpu_close },
    { "dext", egpu_dext_open, egpu_dext_close },
};

static const char *egpu_kind_name(enum hostdev_irq_kind k)
{
    static const char *const names[] = { "none", "intx", "msi", "msix" };

    return k < ARRAY_SIZE(names) ? names[k] : "?";
}

/* ---- interrupt mode: what the guest enabled, told to the backend */

void egpu_update_irq_mode(EgpuPciState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    enum hostdev_irq_kind kind = HOSTDEV_IRQ_NONE;
    uint32_t nvec = 0;
    int err;

    if (msix_enabled(pdev)) {
        kind = HOSTDEV_IRQ_MSIX;
        nvec = pdev->msix_entries_nr;
    } else if (msi_enabled(pdev)) {
        kind = HOSTDEV_IRQ_MSI;
        nvec = msi_nr_vectors_allocated(pdev);
    } else if (pci_get_byte(pdev->config + PCI_INTERRUPT_PIN)) {
        kind = HOSTDEV_IRQ_INTX;
        nvec = 1;
    }
    if (kind == s->irq_kind && nvec == s->irq_nvec) {
        return;
    }
    err = s->hd->ops->irq_set(s->hd->dev, kind, nvec);
    trace_egpu_pci_irq_mode(egpu_kind_name(kind), nvec, err);
    if (err) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: the function refused interrupt "
                      "mode %s with %u vectors: %s\n", TYPE_EGPU_PCI,
                      egpu_kind_name(kind), nvec, hostdev_strerror(err));
    }
    /* remembered either way: one message per change, not per write */
    s->irq_kind = kind;
    s->irq_nvec = nvec;
}

/* ---- BARs the backend does not map: forwarded */

static uint64_t egpu_bar_read(void *opaque, hwaddr addr, unsigned size)
{
    EgpuBar *bar = opaque;
    struct hostdev *hd = bar->s->hd;
    uint64_t val = 0;
    int err = hd->ops->bar_read(hd->dev, bar->nr, addr, size, &val);

    if (err) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: BAR%u read of %u at 0x%"
                      HWADDR_PRIx ": %s\n", TYPE_EGPU_PCI, bar->nr, size,
                      addr, hostdev_strerror(err));
        val = UINT64_MAX;       /* what a master abort reads */
    }
    trace_egpu_pci_bar_read(bar->nr, addr, size, val);
    return val;
}

static void egpu_bar_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    EgpuBar *bar = opaque;
    struct hostdev *hd = bar->s->hd;
    int err = hd->ops->bar_write(hd->dev, bar->nr, addr, size, val);

    trace_egpu_pci_bar_write(bar->nr, addr, size, val);
    if (err) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: BAR%u write of %u at 0x%"
                      HWADDR_PRIx ": %s\n", TYPE_EGPU_PCI, bar->nr, size,
                      addr, hostdev_strerror(err));
    }
}

static const MemoryRegionOps egpu_bar_ops = {
    .read = egpu_bar_read,
    .write = egpu_bar_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

/* NULL if the BAR can be a ram_device region, else why not. */
static const char *egpu_bar_unmappable(const struct hostdev_bar *b)
{
    uint64_t page = qemu_real_host_page_size();

    if (b->flags & HOSTDEV_BAR_IO) {
        return "it is an I/O BAR";
    }
    if (!b->ptr) {
        return "the backend gives no host mapping for it (it traps it)";
    }
    if (b->size % MAX(page, 16 * KiB)) {
        return "its size is not a multiple of the host page and of 16 KiB";
    }
    if ((uintptr_t)b->ptr % page) {
        return "its host mapping is not page-aligned";
    }
    return NULL;
}

static bool egpu_setup_bars(EgpuPciState *s, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    const struct hostdev_info *info = &s->hd->info;
    int i;

    for (i = 0; i < HOSTDEV_NUM_BARS; i++) {
        const struct hostdev_bar *b = &info->bar[i];
        EgpuBar *bar = &s->bars[i];
        g_autofree char *name = g_strdup_printf("egpu-bar%d", i);
        g_autofree char *rname = g_strdup_printf("egpu-bar%d-%s", i,
                                                 info->name);
        const char *why = egpu_bar_unmappable(b);
        bool io = b->flags & HOSTDEV_BAR_IO, is64 = b->flags & HOSTDEV_BAR_64;
        uint8_t type;

        if (!b->size) {
            continue;
        }
        if (!is_power_of_2(b->size) || (io && is64) ||
            (is64 && (i == HOSTDEV_NUM_BARS - 1 || info->bar[i + 1].size))) {
            error_setg(errp, "%s: %s reports an impossible BAR%d (size 0x%"
                       PRIx64 ", flags 0x%x)", TYPE_EGPU_PCI, info->name, i,
                       b->size, b->flags);
            return false;
        }
        if (s->map_bars == ON_OFF_AUTO_ON && why && !io) {
            error_setg(errp, "%s: map-bars=on, but BAR%d (%s, 0x%" PRIx64
                       " bytes) cannot be mapped into the guest: %s",
                       TYPE_EGPU_PCI, i, info->name, b->size, why);
            return false;
        }
        bar->s = s;
        bar->nr = i;
        bar->direct = !why && s->map_bars != ON_OFF_AUTO_OFF;
        memory_region_init(&bar->container, OBJECT(s), name, b->size);
        if (bar->direct) {
            memory_region_init_ram_device_ptr(&bar->region, OBJECT(s), rname,
                                              b->size, b->ptr);
        } else {
            memory_region_init_io(&bar->region, OBJECT(s), &egpu_bar_ops,
                                  bar, rname, b->size);
        }
        /* below the MSI-X table and PBA, which msix_init() lays over it */
        memory_region_add_subregion_overlap(&bar->container, 0, &bar->region,
                                            -1);
        type = io ? PCI_BASE_ADDRESS_SPACE_IO :
               PCI_BASE_ADDRESS_SPACE_MEMORY |
               (is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
               (b->flags & HOSTDEV_BAR_PREFETCH ? PCI_BASE_ADDRESS_MEM_PREFETCH
                                                : 0);
        pci_register_bar(pdev, i, type, &bar->container);
        trace_egpu_pci_bar(i, b->size, bar->direct ? "direct" : "trapped");
        if (is64) {
            i++;
        }
    }
    return true;
}

static void egpu_teardown_bars(EgpuPciState *s)
{
    int i;

    for (i = 0; i < HOSTDEV_NUM_BARS; i++) {
        if (s->bars[i].s) {
            memory_region_del_subregion(&s->bars[i].container,
                                        &s->bars[i].region);
        }
    }
}

/* ---- interrupts */

/* Any thread, any lock held: record, and let the bottom half deliver. */
static void egpu_irq(void *opaque, enum hostdev_irq_kind kind,
                     uint32_t vector, int level)
{
    EgpuPciState *s = opaque;

    if (kind == HOSTDEV_IRQ_INTX) {
        qatomic_set(&s->intx_level, !!level);
        smp_wmb();      /* the level before the flag: egpu_irq_bh() */
        qatomic_set(&s->intx_dirty, 1);
    } else if (vector < HOSTDEV_MAX_MSIX) {
        set_bit_atomic(vector, s->irq_pending);
    } else {
        return;
    }
    qemu_bh_schedule(s->irq_bh);
}

static void egpu_deliver(EgpuPciState *s, uint32_t vector)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (msix_enabled(pdev) && vector < pdev->msix_entries_nr) {
        /* masked: msix.c sets the PBA bit and sends on unmask */
        msix_notify(pdev, vector);
        s->irqs_msix++;
        trace_egpu_pci_irq("msix", vector);
    } else if (msi_enabled(pdev) && vector < msi_nr_vectors_allocated(pdev)) {
        msi_notify(pdev, vector);
        s->irqs_msi++;
        trace_egpu_pci_irq("msi", vector);
    } else {
        s->irqs_ignored++;
        trace_egpu_pci_irq("ignored", vector);
    }
}

static void egpu_irq_bh(void *opaque)
{
    EgpuPciState *s = opaque;
    PCIDevice *pdev = PCI_DEVICE(s);
    size_t w;

    for (w = 0; w < ARRAY_SIZE(s->irq_pending); w++) {
        unsigned long bits = qatomic_xchg(&s->irq_pending[w], 0);

        while (bits) {
            egpu_deliver(s, w * BITS_PER_LONG + ctzl(bits));
            bits &= bits - 1;
        }
    }
    /* the exchange is a full barrier: the level read is at least as new */
    if (qatomic_xchg(&s->intx_dirty, 0)) {
        int level = qatomic_read(&s->intx_level);

        if (pci_get_byte(pdev->config + PCI_INTERRUPT_PIN)) {
            pci_set_irq(pdev, level);
            s->intx_changes++;
            trace_egpu_pci_intx(level);
        }
    }
}

static void egpu_irq_quiesce(EgpuPciState *s)
{
    size_t w;

    if (s->irq_kind != HOSTDEV_IRQ_NONE) {
        s->hd->ops->irq_set(s->hd->dev, HOSTDEV_IRQ_NONE, 0);
        s->irq_kind = HOSTDEV_IRQ_NONE;
        s->irq_nvec = 0;
    }
    for (w = 0; w < ARRAY_SIZE(s->irq_pending); w++) {
        qatomic_set(&s->irq_pending[w], 0);
    }
    qatomic_set(&s->intx_dirty, 0);
    qatomic_set(&s->intx_level, 0);
}

/* ---- reset: system_reset and FLR (through pci_device_reset()) */

static void egpu_reset_hold(Object *obj, ResetType type)
{
    EgpuPciState *s = EGPU_PCI(obj);
    EgpuPciClass *c = EGPU_PCI_GET_CLASS(obj);
    PCIDevice *pdev = PCI_DEVICE(obj);
    uint32_t how, done = 0;
    int err = HOSTDEV_E_NOTSUP;

    if (c->parent_phases.hold) {
        c->parent_phases.hold(obj, type);
    }
    if (!s->hd) {
        return;
    }
    egpu_irq_quiesce(s);
    how = s->hd->info.resets & (HOSTDEV_RESET_FLR | HOSTDEV_RESET_BUS);
    if (how) {
        err = s->hd->ops->reset(s->hd->dev, how, &done);
    }
    trace_egpu_pci_reset(how, done, err);
    if (err) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %s could not be reset: %s\n",
                      TYPE_EGPU_PCI, s->hd->info.name, hostdev_strerror(err));
    }
    /* whatever ran, decoding and bus mastering are off, as QEMU's copy says */
    egpu_cfg_backend_write(s, PCI_COMMAND, 0, 2);
    s->resets++;
    msi_reset(pdev);
    msix_reset(pdev);
    egpu_update_irq_mode(s);
}

/* ---- QOM: stats */

static void egpu_get_stats(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    EgpuPciState *s = EGPU_PCI(obj);
    struct simgpu_stats gs = { 0 };
    struct dartsim_stats ds = { 0 };
    uint64_t kind = s->irq_kind, held = s->dma_held;
    const struct {
        const char *name;
        uint64_t *val;
        bool sim;
    } f[] = {
        { "irq_mode", &kind }, { "irqs_msix", &s->irqs_msix },
        { "irqs_msi", &s->irqs_msi }, { "intx_changes", &s->intx_changes },
        { "irqs_ignored", &s->irqs_ignored }, { "resets", &s->resets },
        { "flrs_requested", &s->flrs_requested },
        { "bus_master_held", &held },   /* apple-dma-pci's gate closed */
        { "doorbells", &gs.doorbells, 1 }, { "cmds", &gs.cmds, 1 },
        { "fences", &gs.fences, 1 }, { "irqs", &gs.irqs, 1 },
        { "irqs_dropped", &gs.irqs_dropped, 1 },
        { "bytes_in", &gs.bytes_in, 1 }, { "bytes_out", &gs.bytes_out, 1 },
        { "dart_faults", &gs.dart_faults, 1 }, { "errors", &gs.errors, 1 },
        { "flrs", &gs.flrs, 1 }, { "bus_resets", &gs.bus_resets, 1 },
        { "dart_live_maps", &ds.live_maps, 1 },
        { "dart_live_bytes", &ds.live_bytes, 1 },
        { "dart_peak_maps", &ds.peak_maps, 1 },
        { "dart_peak_bytes", &ds.peak_bytes, 1 },
        { "dart_maps", &ds.maps, 1 }, { "dart_unmaps", &ds.unmaps, 1 },
        { "dart_no_space", &ds.no_space, 1 },
        { "dart_fragmented", &ds.fragmented, 1 },
        { "dart_injected", &ds.injected, 1 },
        { "translations", &ds.translations, 1 }, { "faults", &ds.faults, 1 },
    };
    bool sim = s->hd && (egpu_simgpu_stats(s, &gs, &ds) ||
                         egpu_dext_sim_stats(s, &gs, &ds)), ok;
    size_t i;

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ok = true;
    for (i = 0; ok && i < ARRAY_SIZE(f); i++) {
        if (!f[i].sim || sim) {
            ok = visit_type_uint64(v, f[i].name, f[i].val, errp);
        }
    }
    if (ok) {
        visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
}

/* ---- life cycle */

static const EgpuBackend *egpu_find_backend(EgpuPciState *s, Error **errp)
{
    g_autofree char *names = NULL;
    size_t i;

    for (i = 0; s->backend && i < ARRAY_SIZE(egpu_backends); i++) {
        if (!strcmp(s->backend, egpu_backends[i].name)) {
            return &egpu_backends[i];
        }
    }
    for (i = 0; i < ARRAY_SIZE(egpu_backends); i++) {
        char *n = g_strconcat(names ? names : "", names ? ", " : "",
                              egpu_backends[i].name, NULL);

        g_free(names);
        names = n;
    }
    if (s->backend) {
        error_setg(errp, "%s: unknown backend '%s' (available: %s)",
                   TYPE_EGPU_PCI, s->backend, names);
    } else {
        error_setg(errp, "%s: property 'backend' is required (available: "
                   "%s)", TYPE_EGPU_PCI, names);
    }
    return NULL;
}

/* simgpu's knobs mean nothing to a real function: say so. */
static bool egpu_check_sim_only(EgpuPciState *s, Error **errp)
{
    const struct dartsim_config *d = &s->dart;

    if (!strcmp(s->be->name, "simgpu")) {
        return true;
    }
    if (s->vram_size || s->msix_vectors || s->intx || d->max_bytes ||
        d->max_maps || d->aperture_base || d->aperture_size || d->randomize ||
        d->seed || d->fail_nth || d->fail_ppm || d->seg_pages) {
        error_setg(errp, "%s: vram-size, msix-vectors, intx and the DART "
                   "knobs only apply to backend simgpu; backend %s takes "
                   "them from the host function", TYPE_EGPU_PCI, s->be->name);
        return false;
    }
    return true;
}

static void egpu_unrealize_all(EgpuPciState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    void (*unbind)(void *) = s->unbind;
    int i;

    s->unbind = NULL;
    if (unbind) {
        unbind(s->unbind_opaque);
    }
    if (s->hd) {
        egpu_irq_quiesce(s);
    }
    if (msix_present(pdev)) {
        uint32_t t = pci_get_long(pdev->config + pdev->msix_cap +
                                  PCI_MSIX_TABLE) & PCI_MSIX_FLAGS_BIRMASK;
        uint32_t p = pci_get_long(pdev->config + pdev->msix_cap +
                                  PCI_MSIX_PBA) & PCI_MSIX_FLAGS_BIRMASK;

        msix_unuse_all_vectors(pdev);
        msix_uninit(pdev, &s->bars[t].container, &s->bars[p].container);
    }
    msi_uninit(pdev);
    egpu_teardown_bars(s);
    /* after close() no backend thread can call egpu_irq(): then the BH */
    if (s->hd) {
        s->be->close(s);
        s->hd = NULL;
    }
    if (s->irq_bh) {
        qemu_bh_delete(s->irq_bh);
        s->irq_bh = NULL;
    }
    for (i = 0; i < HOSTDEV_NUM_BARS; i++) {
        s->bars[i].s = NULL;
    }
}

static void egpu_realize(PCIDevice *pdev, Error **errp)
{
    EgpuPciState *s = EGPU_PCI(pdev);
    g_autofree uint8_t *cfg = g_malloc0(HOSTDEV_CFG_SIZE);

    s->be = egpu_find_backend(s, errp);
    if (!s->be || !egpu_check_sim_only(s, errp)) {
        return;
    }
    s->hd = s->be->open(s, errp);
    if (!s->hd) {
        return;
    }
    trace_egpu_pci_open(s->hd->info.name, s->hd->info.cfg_size);
    s->irq_bh = qemu_bh_new_guarded(egpu_irq_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);
    s->hd->irq = egpu_irq;
    s->hd->irq_opaque = s;
    s->irq_kind = HOSTDEV_IRQ_NONE;
    if (!egpu_setup_config(s, cfg, errp) || !egpu_setup_bars(s, errp) ||
        !egpu_setup_caps(s, cfg, errp)) {
        egpu_unrealize_all(s);
        return;
    }
    egpu_update_irq_mode(s);
}

static void egpu_exit(PCIDevice *pdev)
{
    egpu_unrealize_all(EGPU_PCI(pdev));
}

static void egpu_instance_init(Object *obj)
{
    PCIDevice *pdev = PCI_DEVICE(obj);

    /*
     * A hybrid like vfio-pci: 4 KiB of config space from the start (it is
     * allocated before realize); dropped if the function has 256 bytes.
     */
    pdev->cap_present |= QEMU_PCI_CAP_EXPRESS;
    object_property_add(obj, "stats", "EgpuPciStats", egpu_get_stats,
                        NULL, NULL, NULL);
}

struct hostdev *egpu_pci_hostdev(EgpuPciState *s)
{
    return DEVICE(s)->realized ? s->hd : NULL;
}

void egpu_pci_set_unbind(EgpuPciState *s, void (*fn)(void *), void *opaque)
{
    s->unbind = fn;
    s->unbind_opaque = opaque;
}

/* The function's state lives in the host: nothing here can move. */
static const VMStateDescription egpu_vmstate = {
    .name = TYPE_EGPU_PCI,
    .unmigratable = 1,
};

static const Property egpu_properties[] = {
    DEFINE_PROP_STRING("backend", EgpuPciState, backend),
    DEFINE_PROP_STRING("host", EgpuPciState, host),
    DEFINE_PROP_ON_OFF_AUTO("map-bars", EgpuPciState, map_bars,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_UINT64("vram-size", EgpuPciState, vram_size, 0),
    DEFINE_PROP_UINT32("msix-vectors", EgpuPciState, msix_vectors, 0),
    DEFINE_PROP_BOOL("intx", EgpuPciState, intx, false),
    DEFINE_PROP_UINT64("max-bytes", EgpuPciState, dart.max_bytes, 0),
    DEFINE_PROP_UINT32("max-maps", EgpuPciState, dart.max_maps, 0),
    DEFINE_PROP_UINT64("aperture-base", EgpuPciState, dart.aperture_base, 0),
    DEFINE_PROP_UINT64("aperture-size", EgpuPciState, dart.aperture_size, 0),
    DEFINE_PROP_BOOL("randomize", EgpuPciState, dart.randomize, false),
    DEFINE_PROP_UINT64("seed", EgpuPciState, dart.seed, 0),
    DEFINE_PROP_UINT64("fail-nth", EgpuPciState, dart.fail_nth, 0),
    DEFINE_PROP_UINT32("fail-ppm", EgpuPciState, dart.fail_ppm, 0),
    DEFINE_PROP_UINT32("seg-pages", EgpuPciState, dart.seg_pages, 0),
};

static void egpu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    EgpuPciClass *ec = EGPU_PCI_CLASS(klass);

    k->realize = egpu_realize;
    k->exit = egpu_exit;
    k->config_read = egpu_config_read;
    k->config_write = egpu_config_write;
    resettable_class_set_parent_phases(rc, NULL, egpu_reset_hold, NULL,
                                       &ec->parent_phases);
    dc->vmsd = &egpu_vmstate;
    dc->desc = "Host PCI function passed through (egpu-vm host-device "
               "interface)";
    /* apple-dma-pci keeps pointers into the function's DART */
    dc->hotpluggable = false;
    device_class_set_props(dc, egpu_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo egpu_info = {
    .name = TYPE_EGPU_PCI,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(EgpuPciState),
    .class_size = sizeof(EgpuPciClass),
    .instance_init = egpu_instance_init,
    .class_init = egpu_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void egpu_register_types(void)
{
    type_register_static(&egpu_info);
}

type_init(egpu_register_types)
