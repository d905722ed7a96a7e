/*
 * apple-dma-pci: the DART its host core maps through. Our own simulated
 * DART (apple-dma/dartsim.c), which apple-dma-iommu.c also installs as the
 * managed emulated device's IOMMU; or, when the managed device is an
 * egpu-pci, that passed-through function's DART (hostdev dma_ops: the
 * simulated GPU's dartsim, or the dext's real DART on a Mac). And the gate
 * in front of either (ADMA_REG_CONTROL): the managed device may DMA only
 * once the guest driver says its ops are in place.
 *
 * Both run under s->lock; an egpu's DART takes its own lock inside (lock
 * order BQL -> s->lock -> the hostdev's lock).
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "apple-dma-pci.h"
#include "egpu-pci.h"
#include "trace.h"

/* Largest tables a property may ask for (bytes of host memory, not RAM). */
#define ADMA_MAX_MAPS_LIMIT     (1u << 20)
#define ADMA_MAX_APERTURE       (64ull << 30)

/* ---- map and unmap, with tracing and our IOMMU's unmap notifications */

static int adma_be_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
                       struct adma_seg *seg, unsigned int max_segs,
                       unsigned int *nsegs, uint64_t *cookie)
{
    AppleDmaState *s = be;
    int st;

    *nsegs = 0;
    st = s->hd ? s->hd->dma_ops->map(s->hd->dma_be, addr, len, dir, seg,
                                     max_segs, nsegs, cookie)
               : dartsim_map(s->dart, addr, len, dir, seg, max_segs, nsegs);
    trace_apple_dma_map(addr, len, dir, *nsegs ? seg[0].iova : 0, *nsegs,
                        adma_status_name(st));
    s->last_fault_page = ADMA_NO_PAGE;
    return st;
}

static void adma_be_unmap(void *be, const struct adma_seg *seg,
                          unsigned int nsegs, uint64_t cookie)
{
    AppleDmaState *s = be;
    unsigned int i;

    if (s->hd) {
        s->hd->dma_ops->unmap(s->hd->dma_be, seg, nsegs, cookie);
    } else {
        dartsim_unmap(s->dart, seg, nsegs);
    }
    for (i = 0; i < nsegs; i++) {
        trace_apple_dma_unmap(seg[i].iova, seg[i].len);
        if (s->notify_unmap) {
            g_array_append_val(s->unmapped, seg[i]);
        }
    }
    s->last_fault_page = ADMA_NO_PAGE;
}

/*
 * A whole doorbell in one backend call, for a DART behind a process
 * boundary (the dext): only bound when the egpu's DMA backend has batch().
 */
static void adma_be_batch(void *be, struct adma_be_op *op, unsigned int n)
{
    AppleDmaState *s = be;
    unsigned int i, j;

    s->hd->dma_ops->batch(s->hd->dma_be, op, n);
    for (i = 0; i < n; i++) {
        if (op[i].kind == ADMA_BE_MAP) {
            trace_apple_dma_map(op[i].addr, op[i].len, op[i].dir,
                                op[i].nsegs ? op[i].seg[0].iova : 0,
                                op[i].nsegs, adma_status_name(op[i].status));
            continue;
        }
        for (j = 0; j < op[i].nsegs; j++) {
            trace_apple_dma_unmap(op[i].seg[j].iova, op[i].seg[j].len);
        }
    }
    s->last_fault_page = ADMA_NO_PAGE;
}

static const struct adma_backend_ops adma_be_ops = {
    .map = adma_be_map,
    .unmap = adma_be_unmap,
};

static const struct adma_backend_ops adma_be_batch_ops = {
    .map = adma_be_map,
    .unmap = adma_be_unmap,
    .batch = adma_be_batch,
};

/* ---- the gate: ADMA_F_GATE, ADMA_REG_CONTROL */

void apple_dma_set_gate(AppleDmaState *s, bool on)
{
    bool was;

    assert(bql_locked());
    if (!s->gate) {
        return;                 /* gate=off: protocol 1.0, always open */
    }
    qemu_mutex_lock(&s->lock);
    was = s->dma_on;
    s->dma_on = on;
    if (on) {
        s->gated_logged = false;    /* log the first refusal of a closing */
    }
    qemu_mutex_unlock(&s->lock);
    if (s->egpu) {
        /* the function's own bus mastering: its DMA never reaches us */
        egpu_pci_hold_dma(s->egpu, !on);
    }
    if (was && !on) {
        apple_dma_iommu_notify_closed(s);
    }
}

uint32_t apple_dma_read_control(AppleDmaState *s)
{
    return s->gate && qatomic_read(&s->dma_on) ? ADMA_CTRL_DMA_ON : 0;
}

/*
 * RELEASE_ALL closes the gate and releases every mapping; DMA_ON in the
 * same write opens the gate again afterwards (a driver starting afresh).
 */
void apple_dma_write_control(AppleDmaState *s, uint32_t val)
{
    BQL_LOCK_GUARD();   /* egpu-pci's config space; and before s->lock */

    if (!s->gate || (val & ~ADMA_CTRL_VALID)) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: CONTROL write of 0x%x ignored: "
                      "%s\n", TYPE_APPLE_DMA_PCI, val,
                      s->gate ? "unknown bits" : "gate=off, no CONTROL");
        return;
    }
    if (val & ADMA_CTRL_RELEASE_ALL) {
        apple_dma_release_all(s, false);
    }
    apple_dma_set_gate(s, val & ADMA_CTRL_DMA_ON);
}

/* ---- settings and set-up */

/* The IOVA range of a simulated DART, defaults applied as dartsim does. */
static void adma_dart_aperture(const struct dartsim_config *dc,
                               uint64_t *base, uint64_t *size)
{
    uint64_t bytes = dc->max_bytes ? dc->max_bytes :
                     ADMA_CORE_DEFAULT_MAX_BYTES;

    *size = dc->aperture_size ? dc->aperture_size :
            ROUND_UP(bytes, ADMA_PAGE_SIZE);
    *base = dc->aperture_base ? dc->aperture_base : DARTSIM_DEFAULT_BASE;
}

uint64_t apple_dma_dart_iova_end(const struct dartsim_config *dc)
{
    uint64_t base, size;

    adma_dart_aperture(dc, &base, &size);
    return base + size;
}

bool apple_dma_check_dart_config(const struct dartsim_config *dc,
                                 Error **errp)
{
    uint64_t base, size;

    if (dc->max_bytes && dc->max_bytes < ADMA_PAGE_SIZE) {
        error_setg(errp, "max-bytes must be at least %u", ADMA_PAGE_SIZE);
        return false;
    }
    if (dc->max_maps > ADMA_MAX_MAPS_LIMIT) {
        error_setg(errp, "max-maps must be at most %u", ADMA_MAX_MAPS_LIMIT);
        return false;
    }
    if ((dc->aperture_base | dc->aperture_size) & (ADMA_PAGE_SIZE - 1)) {
        error_setg(errp, "aperture-base and aperture-size must be multiples "
                   "of %u", ADMA_PAGE_SIZE);
        return false;
    }
    /* the simulator's table grows with the aperture (default: max-bytes) */
    adma_dart_aperture(dc, &base, &size);
    if (size > ADMA_MAX_APERTURE || base + size < base) {
        error_setg(errp, "the IOVA aperture (aperture-size, else max-bytes) "
                   "must be at most %llu bytes and must not wrap",
                   ADMA_MAX_APERTURE);
        return false;
    }
    if (dc->fail_ppm > 1000000) {
        error_setg(errp, "fail-ppm must be at most 1000000");
        return false;
    }
    return true;
}

struct dartsim_config apple_dma_sim_config(AppleDmaState *s)
{
    return (struct dartsim_config) {
        .aperture_base = s->aperture_base,
        .aperture_size = s->aperture_size,
        .max_bytes = s->max_bytes,
        .max_maps = s->max_maps,
        .randomize = s->randomize,
        .seed = s->seed,
        .fail_nth = s->fail_nth,
        .fail_ppm = s->fail_ppm,
    };
}

/* ---- a passed-through managed device: its DART instead of ours */

bool apple_dma_is_egpu(PCIDevice *d)
{
    return d && object_dynamic_cast(OBJECT(d), TYPE_EGPU_PCI);
}

/* The first setting that belongs to a DART or IOMMU of our own, or NULL. */
static const char *adma_own_dart_setting(AppleDmaState *s)
{
    const struct {
        const char *name;
        bool set;
    } k[] = {
        { "backend", s->backend }, { "max-bytes", s->max_bytes },
        { "max-maps", s->max_maps }, { "aperture-base", s->aperture_base },
        { "aperture-size", s->aperture_size }, { "randomize", s->randomize },
        { "seed", s->seed }, { "fail-nth", s->fail_nth },
        { "fail-ppm", s->fail_ppm }, { "msi-base", s->msi_base },
        { "msi-size", s->msi_size },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(k); i++) {
        if (k[i].set) {
            return k[i].name;
        }
    }
    return NULL;
}

/*
 * The managed egpu-pci is going (unplugged, or its root port powered off):
 * release every mapping through its DART while the function is still open,
 * then forget it. Doorbells find no core from then on and are refused.
 */
static void adma_egpu_unbind(void *opaque)
{
    AppleDmaState *s = opaque;
    struct adma_core *core;

    apple_dma_release_all(s, false);
    qemu_mutex_lock(&s->lock);
    core = s->core;
    s->core = NULL;
    s->hd = NULL;
    s->egpu = NULL;
    s->iova_end = 0;
    qemu_mutex_unlock(&s->lock);
    g_free(core);
}

bool apple_dma_bind_egpu(AppleDmaState *s, EgpuPciState *e, Error **errp)
{
    struct hostdev *hd = egpu_pci_hostdev(e);
    const char *own = adma_own_dart_setting(s);
    const struct adma_env env = apple_dma_env(s);
    struct adma_core_config cc = { .max_batch = s->max_batch };
    struct adma_core *core, *old_core;
    struct dartsim *old_dart;
    void *mem;

    if (own) {
        error_setg(errp, "%s: '%s' is not ours to set when managing egpu-pci "
                   "'%s': mappings go through that function's DART, so set "
                   "its DART knobs (max-bytes, max-maps, aperture-*, "
                   "randomize, seed, fail-*) on the egpu-pci",
                   TYPE_APPLE_DMA_PCI, own, s->managed);
        return false;
    }
    if (!hd || !hd->dma_ops) {
        error_setg(errp, "%s: egpu-pci '%s' has no host function with a DMA "
                   "backend", TYPE_APPLE_DMA_PCI, s->managed);
        return false;
    }
    /*
     * The function's DART's limits as its backend reports them (simgpu's
     * knobs, or the dext's INFO), so LIMIT_* show what the DART enforces;
     * the table no bigger than our own max-maps may ask for (the core
     * then refuses first).
     */
    cc.max_bytes = hd->info.max_bytes;
    cc.max_maps = MIN(hd->info.max_maps, ADMA_MAX_MAPS_LIMIT);
    cc.batch_backend = hd->dma_ops->batch != NULL;
    mem = g_malloc0(adma_core_size(&cc));
    core = adma_core_init(mem, &cc, &env,
                          cc.batch_backend ? &adma_be_batch_ops : &adma_be_ops,
                          s);
    if (!core) {
        g_free(mem);
        error_setg(errp, "%s: the host core rejected the limits of egpu-pci "
                   "'%s'", TYPE_APPLE_DMA_PCI, s->managed);
        return false;
    }
    qemu_mutex_lock(&s->lock);
    old_core = s->core;
    old_dart = s->dart;
    s->core = core;
    s->dart = NULL;
    s->hd = hd;
    s->egpu = e;
    /* the simulated GPU's DART, or the test double's: told once, here */
    s->dart_sim = egpu_simgpu_stats(e, NULL, NULL) ||
                  egpu_dext_sim_stats(e, NULL, NULL);
    /* simgpu's DART runs on the egpu's DART knobs; a real one: unknown */
    s->iova_end = egpu_simgpu_stats(e, NULL, NULL) ?
                  apple_dma_dart_iova_end(&e->dart) : 0;
    qemu_mutex_unlock(&s->lock);
    g_free(old_core);
    g_free(old_dart);
    /* bus mastering at the function follows our gate from now on */
    egpu_pci_hold_dma(e, !s->dma_on);
    egpu_pci_set_unbind(e, adma_egpu_unbind, s);
    return true;
}

bool apple_dma_init_sim(AppleDmaState *s, Error **errp)
{
    /* one set of limits: the core refuses what the simulator would */
    struct adma_core_config cc = {
        .max_bytes = s->max_bytes,
        .max_maps = s->max_maps,
        .max_batch = s->max_batch,
    };
    struct dartsim_config dc = apple_dma_sim_config(s);
    const struct adma_env env = apple_dma_env(s);

    void *dart_mem = g_malloc0(dartsim_size(&dc));
    void *core_mem = g_malloc0(adma_core_size(&cc));

    s->dart = dartsim_init(dart_mem, &dc);
    s->dart_sim = true;
    s->core = adma_core_init(core_mem, &cc, &env, &adma_be_ops, s);
    if (!s->dart || !s->core) {
        error_setg(errp, "%s: the %s rejected this configuration",
                   TYPE_APPLE_DMA_PCI, s->dart ? "host core" : "simulator");
        g_free(dart_mem);
        g_free(core_mem);
        s->dart = NULL;
        s->core = NULL;
        return false;
    }
    s->iova_end = apple_dma_dart_iova_end(dartsim_config(s->dart));
    return true;
}
