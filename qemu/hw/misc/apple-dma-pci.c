/*
 * apple-dma-pci: the paravirtual DMA-mapping device of egpu-vm.
 *
 * The guest asks the host, in batches, to map guest RAM for one managed PCI
 * device and gets back device addresses (IOVAs) chosen by the host, as a
 * Thunderbolt device behind Apple's DART would. The wire format is
 * apple-dma/apple_dma.h, the work is done by the portable host core
 * (apple-dma/adma_core.c) and a backend: here the simulated DART, which is
 * also installed as the managed device's IOMMU (apple-dma-iommu.c), so its
 * DMA reaches only what is mapped and faults everywhere else.
 *
 * When the managed device is an egpu-pci (a function passed through), the
 * host core maps through that function's own DART instead (hostdev
 * dma_ops: the simulated GPU's dartsim, or the dext's real DART), with
 * that DART's limits and address kind (GPA, or host VA for the dext), and
 * no IOMMU of ours is needed: the function's DMA goes through its DART in
 * the host. Either order on the command line works for an egpu-pci. The
 * choice of DART and the map/unmap calls are in apple-dma-backend.c.
 *
 * Locking: QEMU 10.0 enters every MMIO handler with the BQL (TCG, KVM and
 * HVF alike; there is no lockless MMIO), and the handlers here never drop
 * it: a doorbell may be a DMA issued from inside another device's handler
 * (a SCSI script's memory move), and dropping a BQL that caller holds would
 * let another vCPU re-enter that device mid-run. So a batch runs under the
 * BQL and s->lock, doorbells from several vCPUs are serialised (none is
 * lost: the BQL keeps a second one out until the first is answered), and
 * unrealize, which runs under the BQL, cannot free the core under a
 * doorbell; the handlers still check s->core under s->lock. The IOMMU
 * translate path may run with or without the BQL (a device model's
 * iothread) and takes s->lock only. The order is
 * BQL -> s->lock, and code holding s->lock touches guest RAM only, through
 * adma_ram_rw(), never MMIO. An egpu's DMA backend takes its own lock
 * inside: BQL -> s->lock -> the hostdev's lock; the hostdev never calls
 * back into us.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/system.h"
#include "apple-dma-pci.h"
#include "apple-dma-hostram.h"
#include "egpu-pci.h"
#include "trace.h"

/* ---- guest memory for the host core (called with s->lock held) */

/*
 * The machine's RAM (its memory backend, or the NUMA nodes' memdevs): never
 * a device's memory (VGA vram, ivshmem, nvdimm, pc-dimm), a ROM or MMIO.
 */
bool apple_dma_mr_is_plain_ram(MemoryRegion *mr)
{
    return adma_hostram_owns(mr);
}

/*
 * Copy to or from machine RAM at address gpa of as. Each piece is
 * translated under RCU (so as's bus-master switch and IOMMU count) and
 * must be machine RAM; the copy then goes through the host-RAM address
 * space, which holds nothing else: no MMIO is ever dispatched (it would
 * take the BQL under s->lock) and no region reference is taken or dropped.
 */
int apple_dma_ram_rw(AddressSpace *as, uint64_t gpa, void *buf, size_t len,
                     bool is_write)
{
    uint8_t *p = buf;

    if (gpa + len < gpa) {
        return -1;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, gpa, &xlat, &l,
                                                   is_write,
                                                   MEMTXATTRS_UNSPECIFIED);
        uint64_t hva;

        if (!l || !adma_hostram_owns(mr)) {
            return -1;
        }
        hva = (uint64_t)(uintptr_t)memory_region_get_ram_ptr(mr) + xlat;
        if (adma_hostram_rw(hva, p, l, is_write)) {
            return -1;
        }
        gpa += l;
        p += l;
        len -= l;
    }
    return 0;
}

/*
 * Guest RAM through our bus-master address space: a guest that clears bus
 * mastering on apple-dma-pci stops its reads and writes.
 */
static int adma_ram_rw(AppleDmaState *s, uint64_t gpa, void *buf,
                       size_t len, bool is_write)
{
    return apple_dma_ram_rw(pci_get_address_space(PCI_DEVICE(s)), gpa, buf,
                            len, is_write);
}

static int adma_env_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    return adma_ram_rw(opaque, gpa, buf, len, false);
}

static int adma_env_write(void *opaque, uint64_t gpa, const void *buf,
                          size_t len)
{
    return adma_ram_rw(opaque, gpa, (void *)buf, len, true);
}

/*
 * Is [gpa, gpa + len) wholly machine RAM, contiguous in host memory? Then
 * *addr is its host virtual address, for every backend: the dext hands it
 * to the real DART, and our simulated DARTs map it too, their DMA going
 * through the host-RAM address space (apple-dma-hostram.h). So a mapping
 * keeps naming the RAM it was validated against whatever the guest later
 * does to its physical map. The core asks for whole DART pages, so a page
 * that runs past the end of RAM or into a BAR is refused here. The host
 * address keeps the GPA's offset in its DART page (RAM blocks are aligned
 * at least that much), which the guest relies on.
 */
static int adma_env_resolve(void *opaque, uint64_t gpa, uint64_t len,
                            uint64_t *addr)
{
    uint64_t hva;

    if (adma_hostram_translate(&address_space_memory, gpa, len, false, &hva) ||
        (hva & (ADMA_PAGE_SIZE - 1)) != (gpa & (ADMA_PAGE_SIZE - 1))) {
        return ADMA_S_RANGE;
    }
    *addr = hva;
    return ADMA_S_OK;
}

/*
 * Reset, removal, RELEASE_ALL, the managed device unplugged: close the gate
 * (the device must not DMA into what goes next), then release every live
 * mapping at the backend. A reset of ours also starts again the counters
 * that describe the device since its reset (BAD_BATCHES, the peaks).
 * BQL held.
 */
void apple_dma_release_all(AppleDmaState *s, bool reset)
{
    apple_dma_set_gate(s, false);
    qemu_mutex_lock(&s->lock);
    if (s->core) {
        trace_apple_dma_reset(adma_core_stats(s->core)->live_maps);
        if (reset) {
            adma_core_reset(s->core);
        } else {
            adma_core_release_all(s->core);
        }
        if (s->dart) {
            dartsim_reset(s->dart);
        }
    }
    qemu_mutex_unlock(&s->lock);
    apple_dma_iommu_flush_unmaps(s);
}

/* ---- registers */

/*
 * drop-ppm: ignore this doorbell? The block stays as the guest wrote it
 * (PENDING), as when a doorbell is lost; tests the guest's resending.
 * splitmix64 over @drop_rng, seeded from @seed. Called with s->lock held.
 */
static bool adma_drop_doorbell(AppleDmaState *s)
{
    uint64_t z;

    if (!s->drop_ppm) {
        return false;
    }
    z = (s->drop_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z % 1000000 < s->drop_ppm;
}

/* Called with the BQL (never dropped here: see "Locking" above). */
static void adma_doorbell(AppleDmaState *s, uint64_t cmd_gpa)
{
    uint64_t before[ADMA_S__COUNT];
    const struct adma_core_stats *st;
    /* refusals are traced per batch; count them only if someone listens */
    bool trace = trace_event_get_state_backends(TRACE_APPLE_DMA_REFUSAL);
    int status, i;

    qemu_mutex_lock(&s->lock);
    if (!s->core || adma_drop_doorbell(s)) {
        /* unrealized, or injected: the block stays PENDING */
        s->dropped += s->core != NULL;
        qemu_mutex_unlock(&s->lock);
        trace_apple_dma_doorbell(cmd_gpa, "dropped");
        return;
    }
    st = adma_core_stats(s->core);
    if (trace) {
        memcpy(before, st->status, sizeof(before));
    }
    status = adma_core_doorbell(s->core, cmd_gpa);
    for (i = ADMA_S_OK + 1; trace && i < ADMA_S__COUNT; i++) {
        if (st->status[i] != before[i]) {
            trace_apple_dma_refusal(adma_status_name(i),
                                    st->status[i] - before[i]);
        }
    }
    qemu_mutex_unlock(&s->lock);
    trace_apple_dma_doorbell(cmd_gpa, adma_status_name(status));
    apple_dma_iommu_flush_unmaps(s);
}

static uint32_t adma_managed_id(AppleDmaState *s)
{
    PCIDevice *m;

    BQL_LOCK_GUARD();   /* the object tree; a no-op when held, as today */
    m = apple_dma_managed(s);

    /* an egpu needs no IOMMU of ours on its bus: it may sit on any bus */
    if (!m || !DEVICE(m)->realized || (!s->hd && pci_get_bus(m) != s->bus)) {
        return 0;
    }
    /* the bus number as the guest's firmware programmed it */
    return ADMA_MANAGED_VALID | (pci_bus_num(pci_get_bus(m)) & 0xff) << 8 |
           m->devfn;
}

/*
 * A consistent copy of the core's counters and limits; zeros once the
 * core is gone (unrealized).
 */
static struct adma_core_stats adma_core_snapshot(AppleDmaState *s,
                                                 struct adma_core_config *cfg)
{
    struct adma_core_stats st = { 0 };

    qemu_mutex_lock(&s->lock);
    if (s->core) {
        st = *adma_core_stats(s->core);
        *cfg = *adma_core_config(s->core);
    } else {
        memset(cfg, 0, sizeof(*cfg));
    }
    qemu_mutex_unlock(&s->lock);
    return st;
}

static uint64_t adma_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    AppleDmaState *s = opaque;
    struct adma_core_config c;
    const struct adma_core_config *cfg = &c;
    struct adma_core_stats st;

    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: %u-byte read at 0x%" HWADDR_PRIx
                      "\n", TYPE_APPLE_DMA_PCI, size, addr);
        return 0;
    }
    st = adma_core_snapshot(s, &c);
    switch (addr) {
    case ADMA_REG_MAGIC:
        return ADMA_MAGIC_VALUE;
    case ADMA_REG_VERSION:
        return ADMA_VERSION;
    case ADMA_REG_FEATURES:
        return ADMA_F_BATCH | ADMA_F_MULTISEG |
               (s->dart_sim ? ADMA_F_IOMMU_SIM | ADMA_F_DIR : 0) |
               (s->gate ? ADMA_F_GATE : 0);
    case ADMA_REG_MAX_BATCH:
        return cfg->max_batch;
    case ADMA_REG_MAX_SEGS:
        return cfg->max_segs;
    case ADMA_REG_PAGE_SHIFT:
        return ADMA_PAGE_SHIFT;
    case ADMA_REG_MANAGED_ID:
        return adma_managed_id(s);
    case ADMA_REG_MANAGED_SEG:
        /* x86 and arm virt keep every PCI root bus in segment 0 */
        return 0;
    case ADMA_REG_LIMIT_BYTES_LO:
        return (uint32_t)cfg->max_bytes;
    case ADMA_REG_LIMIT_BYTES_HI:
        return cfg->max_bytes >> 32;
    case ADMA_REG_LIMIT_MAPS:
        return cfg->max_maps;
    case ADMA_REG_LIVE_MAPS:
        return st.live_maps;
    case ADMA_REG_LIVE_BYTES_LO:
        return (uint32_t)st.live_bytes;
    case ADMA_REG_LIVE_BYTES_HI:
        return st.live_bytes >> 32;
    case ADMA_REG_BAD_BATCHES:
        return st.bad_batches;
    case ADMA_REG_CONTROL:
        return apple_dma_read_control(s);
    case ADMA_REG_IOVA_END_LO:
        return (uint32_t)s->iova_end;
    case ADMA_REG_IOVA_END_HI:
        return s->iova_end >> 32;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read of unknown register 0x%"
                      HWADDR_PRIx "\n", TYPE_APPLE_DMA_PCI, addr);
        return 0;
    }
}

static void adma_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                            unsigned size)
{
    AppleDmaState *s = opaque;

    if (addr == ADMA_REG_DOORBELL && size == 8) {
        adma_doorbell(s, val);
        return;
    }
    if (addr == ADMA_REG_CONTROL && size == 4) {
        apple_dma_write_control(s, val);
        return;
    }
    /* a torn doorbell would name half an address: refuse it whole */
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %u-byte write of 0x%" PRIx64
                  " at 0x%" HWADDR_PRIx " ignored (only DOORBELL, 64-bit)\n",
                  TYPE_APPLE_DMA_PCI, size, val, addr);
}

static const MemoryRegionOps adma_mmio_ops = {
    .read = adma_mmio_read,
    .write = adma_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- QOM: stats */

static void adma_get_stats(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    static const char *const status_names[] = ADMA_STATUS_NAMES;
    AppleDmaState *s = APPLE_DMA_PCI(obj);
    struct adma_core_stats cs = { 0 };
    struct dartsim_stats ds = { 0 };
    uint64_t dropped, gated;
    const struct {
        const char *name;
        uint64_t *val;
    } f[] = {
        { "live_maps", &cs.live_maps },
        { "live_bytes", &cs.live_bytes },
        { "peak_maps", &cs.peak_maps },
        { "peak_bytes", &cs.peak_bytes },
        { "batches", &cs.batches },
        { "bad_batches", &cs.bad_batches },
        { "req_map", &cs.requests[ADMA_STAT_MAP] },
        { "req_unmap", &cs.requests[ADMA_STAT_UNMAP] },
        { "req_badop", &cs.requests[ADMA_STAT_BADOP] },
        { "refusals", &cs.refusals },
        { "dropped", &dropped },
        { "dart_live_maps", &ds.live_maps },
        { "dart_live_bytes", &ds.live_bytes },
        { "dart_no_space", &ds.no_space },
        { "dart_fragmented", &ds.fragmented },
        { "dart_injected", &ds.injected },
        { "translations", &ds.translations },
        { "faults", &ds.faults },
        { "gated", &gated },    /* DMA refused by the closed gate */
    };
    bool ok;
    size_t i;

    qemu_mutex_lock(&s->lock);
    dropped = s->dropped;
    gated = s->gated;
    if (s->core) {
        cs = *adma_core_stats(s->core);
    }
    if (s->dart) {
        ds = *dartsim_stats(s->dart);
    } else if (s->egpu) {
        /* the egpu's DART: what its engine's DMA met */
        if (!egpu_simgpu_stats(s->egpu, NULL, &ds)) {
            egpu_dext_sim_stats(s->egpu, NULL, &ds);
        }
    }
    qemu_mutex_unlock(&s->lock);

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ok = true;
    for (i = 0; ok && i < ARRAY_SIZE(f); i++) {
        ok = visit_type_uint64(v, f[i].name, f[i].val, errp);
    }
    for (i = 0; ok && i < ADMA_S__COUNT; i++) {
        g_autofree char *n = g_strdup_printf("status_%s", status_names[i]);

        ok = visit_type_uint64(v, n, &cs.status[i], errp);
    }
    if (ok) {
        visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
}

/* ---- life cycle */

static bool adma_check_config(AppleDmaState *s, Error **errp)
{
    struct dartsim_config dc = apple_dma_sim_config(s);

    if (!s->managed || !*s->managed) {
        error_setg(errp, "%s: property 'managed' (id of the managed PCI "
                   "device) is required", TYPE_APPLE_DMA_PCI);
        return false;
    }
    if (s->backend && !strcmp(s->backend, "dext")) {
#ifdef CONFIG_DARWIN
        error_setg(errp, "backend dext is not built into this QEMU");
#else
        error_setg(errp, "backend dext is only available on macOS");
#endif
        return false;
    }
    if (s->backend && strcmp(s->backend, "dartsim")) {
        error_setg(errp, "unknown backend '%s' (expected dartsim or dext)",
                   s->backend);
        return false;
    }
    if (s->max_batch > ADMA_MAX_BATCH) {
        error_setg(errp, "max-batch must be at most %u", ADMA_MAX_BATCH);
        return false;
    }
    if (s->drop_ppm > 1000000) {
        error_setg(errp, "drop-ppm must be at most 1000000 (parts per "
                   "million of doorbells to ignore)");
        return false;
    }
    return apple_dma_check_dart_config(&dc, errp);
}

struct adma_env apple_dma_env(AppleDmaState *s)
{
    return (struct adma_env) {
        .opaque = s,
        .read = adma_env_read,
        .write = adma_env_write,
        .resolve = adma_env_resolve,
    };
}

static void adma_realize(PCIDevice *pdev, Error **errp)
{
    AppleDmaState *s = APPLE_DMA_PCI(pdev);
    PCIDevice *m;

    if (!adma_check_config(s, errp)) {
        return;
    }
    s->dma_on = !s->gate;       /* held off from the start: ADMA_F_GATE */
    /* mappings name machine RAM by host address; no discards under them */
    if (!adma_hostram_pin(OBJECT(s), errp)) {
        return;
    }
    s->bus = pci_get_bus(pdev);
    m = apple_dma_managed(s);
    if (apple_dma_is_egpu(m)) {
        /* an egpu-pci before us: already realized, bind now */
        if (!apple_dma_bind_egpu(s, EGPU_PCI(m), errp)) {
            return;
        }
    } else if (!apple_dma_init_sim(s, errp)) {
        return;
    } else if (!apple_dma_iommu_realize(s, errp)) {
        g_free(s->core);
        g_free(s->dart);
        s->core = NULL;
        s->dart = NULL;
        return;
    }
    s->last_fault_page = ADMA_NO_PAGE;
    s->drop_rng = s->seed;
    memory_region_init_io(&s->mmio, OBJECT(s), &adma_mmio_ops, s,
                          "apple-dma-mmio", ADMA_BAR0_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}

static void adma_exit(PCIDevice *pdev)
{
    AppleDmaState *s = APPLE_DMA_PCI(pdev);

    apple_dma_iommu_unrealize(s);
    apple_dma_release_all(s, true);
    if (s->egpu) {
        egpu_pci_set_unbind(s->egpu, NULL, NULL);
    }
    adma_hostram_unpin(OBJECT(s));
    qemu_mutex_lock(&s->lock);
    g_free(s->core);
    g_free(s->dart);
    s->core = NULL;
    s->dart = NULL;
    s->hd = NULL;
    s->egpu = NULL;
    qemu_mutex_unlock(&s->lock);
}

/*
 * Mappings go in the exit phase: every device's hold phase, where the
 * managed device stops its DMA (egpu-pci resets the function and clears
 * bus mastering), has run by then, whatever order the devices were
 * created in. Releasing earlier would leave the device DMAing into
 * unmapped IOVAs - on a Mac, a host panic. The gate closes with them.
 */
static void adma_reset_exit(Object *obj, ResetType type)
{
    AppleDmaClass *c = APPLE_DMA_PCI_GET_CLASS(obj);

    if (c->parent_phases.exit) {
        c->parent_phases.exit(obj, type);
    }
    apple_dma_release_all(APPLE_DMA_PCI(obj), true);
}

static void adma_instance_init(Object *obj)
{
    AppleDmaState *s = APPLE_DMA_PCI(obj);

    qemu_mutex_init(&s->lock);
    s->unmapped = g_array_new(false, false, sizeof(struct adma_seg));
    object_property_add(obj, "stats", "AppleDmaStats", adma_get_stats,
                        NULL, NULL, NULL);
}

static void adma_instance_finalize(Object *obj)
{
    AppleDmaState *s = APPLE_DMA_PCI(obj);

    adma_hostram_unpin(obj);    /* a realize that failed late */
    g_array_free(s->unmapped, true);
    qemu_mutex_destroy(&s->lock);
}

/* Mappings live in the host's IOMMU: nothing here could be migrated. */
static const VMStateDescription adma_vmstate = {
    .name = TYPE_APPLE_DMA_PCI,
    .unmigratable = 1,
};

static const Property adma_properties[] = {
    DEFINE_PROP_STRING("managed", AppleDmaState, managed),
    DEFINE_PROP_STRING("backend", AppleDmaState, backend),
    DEFINE_PROP_UINT64("max-bytes", AppleDmaState, max_bytes, 0),
    DEFINE_PROP_UINT32("max-maps", AppleDmaState, max_maps, 0),
    DEFINE_PROP_UINT32("max-batch", AppleDmaState, max_batch, 0),
    DEFINE_PROP_UINT64("aperture-base", AppleDmaState, aperture_base, 0),
    DEFINE_PROP_UINT64("aperture-size", AppleDmaState, aperture_size, 0),
    DEFINE_PROP_BOOL("randomize", AppleDmaState, randomize, false),
    DEFINE_PROP_UINT64("seed", AppleDmaState, seed, 0),
    DEFINE_PROP_UINT64("fail-nth", AppleDmaState, fail_nth, 0),
    DEFINE_PROP_UINT32("fail-ppm", AppleDmaState, fail_ppm, 0),
    DEFINE_PROP_UINT64("msi-base", AppleDmaState, msi_base, 0),
    DEFINE_PROP_UINT64("msi-size", AppleDmaState, msi_size, 0),
    /* off: protocol 1.0's device, DMA allowed from reset (no CONTROL) */
    DEFINE_PROP_BOOL("gate", AppleDmaState, gate, true),
    DEFINE_PROP_UINT32("drop-ppm", AppleDmaState, drop_ppm, 0),
};

static void adma_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    AppleDmaClass *ac = APPLE_DMA_PCI_CLASS(klass);

    k->realize = adma_realize;
    k->exit = adma_exit;
    k->vendor_id = ADMA_PCI_VENDOR_ID;
    k->device_id = ADMA_PCI_DEVICE_ID;
    k->revision = ADMA_PCI_REVISION;
    k->class_id = ADMA_PCI_CLASS;
    resettable_class_set_parent_phases(rc, NULL, NULL, adma_reset_exit,
                                       &ac->parent_phases);
    dc->vmsd = &adma_vmstate;
    dc->desc = "Apple DART DMA-mapping paravirtual device";
    /* the managed device's DMA address space is chosen when it is plugged */
    dc->hotpluggable = false;
    device_class_set_props(dc, adma_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo adma_info = {
    .name = TYPE_APPLE_DMA_PCI,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AppleDmaState),
    .class_size = sizeof(AppleDmaClass),
    .instance_init = adma_instance_init,
    .instance_finalize = adma_instance_finalize,
    .class_init = adma_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void adma_register_types(void)
{
    type_register_static(&adma_info);
}

type_init(adma_register_types)
