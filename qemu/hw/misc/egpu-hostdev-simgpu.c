/*
 * egpu-pci backend "simgpu": the simulated GPU function (apple-dma/simgpu.c)
 * in this process, with its VRAM in host memory mapped straight into the
 * guest, and an engine thread that plays the GPU.
 *
 * Threads and locks: simgpu serialises itself with @lock (env.lock). The
 * engine thread ("egpu-engine") sleeps on @wake until kicked, then calls
 * simgpu_run() with a budget until the ring is empty. Its DMA reads and
 * writes machine RAM only, by host address through the host-RAM address
 * space (RCU), never MMIO: an MMIO access would take the BQL while @lock
 * is held, and a vCPU holding the BQL takes @lock for every BAR access
 * (order: BQL -> @lock -> @wake_lock).
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "apple-dma-pci.h"
#include "apple-dma-hostram.h"
#include "egpu-pci.h"
#include "trace.h"

/* Bytes the engine moves per simgpu_run() before looking at @quit. */
#define EGPU_ENGINE_BUDGET  (4 * MiB)
/* Largest VRAM a property may ask for (host memory, reserved lazily). */
#define EGPU_VRAM_MAX       (64 * GiB)

typedef struct EgpuSim {
    EgpuPciState *s;
    struct simgpu *g;
    void *mem;                  /* simgpu_size() bytes */
    void *vram;
    uint64_t vram_size;
    QemuMutex lock;             /* env.lock */
    QemuThread engine;
    QemuMutex wake_lock;        /* guards kicked and quit */
    QemuCond wake;
    bool kicked;
    bool quit;
    bool engine_started;
} EgpuSim;

/*
 * The DART translated an IOVA to the host address of machine RAM that
 * apple-dma-pci validated at map time (apple-dma-hostram.h): copy there,
 * whatever the guest has done to its physical map since. Anything else
 * fails the access (as a master abort would); MMIO is never reached.
 */
static int egpu_sim_dma(uint64_t addr, void *buf, size_t len, bool is_write)
{
    return adma_hostram_rw(addr, buf, len, is_write);
}

static int egpu_sim_dma_read(void *opaque, uint64_t addr, void *buf,
                             size_t len)
{
    return egpu_sim_dma(addr, buf, len, false);
}

static int egpu_sim_dma_write(void *opaque, uint64_t addr, const void *buf,
                              size_t len)
{
    return egpu_sim_dma(addr, (void *)buf, len, true);
}

static void egpu_sim_lock(void *opaque)
{
    EgpuSim *e = opaque;

    qemu_mutex_lock(&e->lock);
}

static void egpu_sim_unlock(void *opaque)
{
    EgpuSim *e = opaque;

    qemu_mutex_unlock(&e->lock);
}

static void egpu_sim_kick(void *opaque)
{
    EgpuSim *e = opaque;

    qemu_mutex_lock(&e->wake_lock);
    e->kicked = true;
    qemu_cond_signal(&e->wake);
    qemu_mutex_unlock(&e->wake_lock);
}

static void egpu_sim_log(void *opaque, const char *msg)
{
    EgpuSim *e = opaque;

    trace_egpu_pci_backend_log(DEVICE(e->s)->id ? DEVICE(e->s)->id : "",
                               msg);
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %s\n", TYPE_EGPU_PCI, msg);
}

static void *egpu_sim_engine(void *opaque)
{
    EgpuSim *e = opaque;
    bool quit = false;

    /*
     * The DMA looks guest RAM up through RCU (the flat view, the RAM
     * block): a thread RCU does not know of is not waited for, so a memory
     * map change could free what it is reading.
     */
    rcu_register_thread();
    while (!quit) {
        qemu_mutex_lock(&e->wake_lock);
        while (!e->kicked && !e->quit) {
            qemu_cond_wait(&e->wake, &e->wake_lock);
        }
        e->kicked = false;
        quit = e->quit;
        qemu_mutex_unlock(&e->wake_lock);

        /* simgpu_run() takes e->lock around its work */
        while (!quit && simgpu_run(e->g, EGPU_ENGINE_BUDGET)) {
            quit = qatomic_read(&e->quit);
        }
    }
    rcu_unregister_thread();
    return NULL;
}

static bool egpu_sim_check(EgpuPciState *s, Error **errp)
{
    if (s->host) {
        error_setg(errp, "%s: 'host' names a host function for backend "
                   "dext; backend simgpu has none", TYPE_EGPU_PCI);
        return false;
    }
    if (s->vram_size && (s->vram_size < DARTSIM_PAGE_SIZE ||
                         !is_power_of_2(s->vram_size) ||
                         s->vram_size > EGPU_VRAM_MAX)) {
        error_setg(errp, "%s: vram-size must be a power of two from %llu "
                   "to %llu bytes", TYPE_EGPU_PCI,
                   (unsigned long long)DARTSIM_PAGE_SIZE,
                   (unsigned long long)EGPU_VRAM_MAX);
        return false;
    }
    if (s->msix_vectors > HOSTDEV_MAX_MSIX) {
        error_setg(errp, "%s: msix-vectors must be 1 to %u", TYPE_EGPU_PCI,
                   HOSTDEV_MAX_MSIX);
        return false;
    }
    if (!apple_dma_check_dart_config(&s->dart, errp)) {
        error_prepend(errp, "%s: ", TYPE_EGPU_PCI);
        return false;
    }
    return true;
}

struct hostdev *egpu_simgpu_open(EgpuPciState *s, Error **errp)
{
    struct simgpu_config cfg = {
        .vram_size = s->vram_size,
        .msix_vectors = s->msix_vectors,
        .intx = s->intx,
        .dma_addr = HOSTDEV_DMA_HVA,    /* as the dext: host memory */
        .dart = s->dart,
    };
    EgpuSim *e;
    struct simgpu_env env;
    size_t size;

    if (!egpu_sim_check(s, errp) || !adma_hostram_init(errp)) {
        return NULL;
    }
    size = simgpu_size(&cfg);
    if (!size) {
        error_setg(errp, "%s: simgpu rejected this configuration",
                   TYPE_EGPU_PCI);
        return NULL;
    }
    e = g_new0(EgpuSim, 1);
    e->s = s;
    e->vram_size = s->vram_size ? s->vram_size : SIMGPU_VRAM_DEFAULT;
    /* anonymous memory: zeroed, page-aligned, committed only when touched */
    e->vram = mmap(NULL, e->vram_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (e->vram == MAP_FAILED) {
        error_setg_errno(errp, errno, "%s: cannot reserve %" PRIu64
                         " bytes of VRAM", TYPE_EGPU_PCI, e->vram_size);
        g_free(e);
        return NULL;
    }
    qemu_mutex_init(&e->lock);
    qemu_mutex_init(&e->wake_lock);
    qemu_cond_init(&e->wake);
    env = (struct simgpu_env) {
        .opaque = e,
        .dma_read = egpu_sim_dma_read,
        .dma_write = egpu_sim_dma_write,
        .kick = egpu_sim_kick,
        .lock = egpu_sim_lock,
        .unlock = egpu_sim_unlock,
        .log = egpu_sim_log,
    };
    e->mem = g_malloc0(size);
    e->g = simgpu_init(e->mem, &cfg, &env, e->vram);
    s->backend_opaque = e;
    if (!e->g) {
        error_setg(errp, "%s: simgpu rejected this configuration",
                   TYPE_EGPU_PCI);
        egpu_simgpu_close(s);
        return NULL;
    }
    qemu_thread_create(&e->engine, "egpu-engine", egpu_sim_engine, e,
                       QEMU_THREAD_JOINABLE);
    e->engine_started = true;
    return simgpu_hostdev(e->g);
}

void egpu_simgpu_close(EgpuPciState *s)
{
    EgpuSim *e = s->backend_opaque;

    if (!e) {
        return;
    }
    if (e->engine_started) {
        qemu_mutex_lock(&e->wake_lock);
        qatomic_set(&e->quit, true);
        qemu_cond_signal(&e->wake);
        qemu_mutex_unlock(&e->wake_lock);
        qemu_thread_join(&e->engine);
    }
    if (e->g) {
        struct hostdev *hd = simgpu_hostdev(e->g);

        hd->ops->close(hd->dev);
    }
    g_free(e->mem);
    munmap(e->vram, e->vram_size);
    qemu_cond_destroy(&e->wake);
    qemu_mutex_destroy(&e->wake_lock);
    qemu_mutex_destroy(&e->lock);
    g_free(e);
    s->backend_opaque = NULL;
}

bool egpu_simgpu_stats(EgpuPciState *s, struct simgpu_stats *gs,
                       struct dartsim_stats *ds)
{
    EgpuSim *e = s->backend_opaque;

    if (!e || s->be == NULL || strcmp(s->be->name, "simgpu") || !e->g) {
        return false;
    }
    qemu_mutex_lock(&e->lock);
    if (gs) {
        *gs = *simgpu_stats(e->g);
    }
    if (ds) {
        *ds = *dartsim_stats(simgpu_dart(e->g));
    }
    qemu_mutex_unlock(&e->lock);
    return true;
}
