/*
 * egpu-pci: a host PCI function (struct hostdev) passed through to the
 * guest. State shared by the device (egpu-pci.c), its backends
 * (egpu-hostdev-simgpu.c, egpu-hostdev-dext.c) and apple-dma-pci, which
 * maps through the function's DART when it manages an egpu-pci.
 *
 * Backend interface (one pair of functions per backend=NAME):
 *
 *   struct hostdev *egpu_NAME_open(EgpuPciState *s, Error **errp);
 *   void egpu_NAME_close(EgpuPciState *s);
 *
 * open() is called once from realize with the BQL held. It reads what it
 * needs from the properties (s->host for dext, the sizes and DART knobs for
 * simgpu), keeps its private state in s->backend_opaque and returns a
 * struct hostdev that stays valid until close(); on failure it returns NULL
 * with errp saying which host device or setting was wrong. egpu-pci then
 * sets hostdev.irq / irq_opaque itself, before its first irq_set(). close()
 * is called from unrealize (or a failed realize) after egpu-pci stopped
 * interrupt delivery; it calls ops->close() and frees everything open()
 * allocated. BAR pointers in info.bar[] must stay mapped until close().
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_EGPU_PCI_H
#define HW_MISC_EGPU_PCI_H

#include "exec/memory.h"
#include "hw/pci/pci_device.h"
#include "qapi/qapi-types-common.h"
#include "qom/object.h"
#include "apple-dma/hostdev.h"
#include "apple-dma/dartsim.h"
#include "apple-dma/simgpu.h"

#define TYPE_EGPU_PCI "egpu-pci"
OBJECT_DECLARE_TYPE(EgpuPciState, EgpuPciClass, EGPU_PCI)

/* One BAR: what the guest maps, and the backend region inside it. */
typedef struct EgpuBar {
    EgpuPciState *s;
    uint8_t nr;
    bool direct;                /* region is a ram_device over info.ptr */
    MemoryRegion container;     /* registered with pci_register_bar() */
    MemoryRegion region;        /* ram_device, or trapped -> bar_read/write */
} EgpuBar;

struct EgpuPciState {
    PCIDevice parent_obj;

    /* properties */
    char *backend;              /* "simgpu" | "dext" */
    char *host;                 /* dext: which host function */
    OnOffAuto map_bars;         /* auto: map what can be; off: trap all */
    uint64_t vram_size;         /* simgpu; 0: its default */
    uint32_t msix_vectors;
    bool intx;
    struct dartsim_config dart; /* simgpu's DART knobs, as apple-dma-pci's */

    /* the backend */
    struct hostdev *hd;
    void *backend_opaque;       /* owned by egpu-hostdev-<backend>.c */
    const struct EgpuBackend *be;

    EgpuBar bars[HOSTDEV_NUM_BARS];

    /*
     * Config space virtualisation, per byte: emu_bits are read from QEMU's
     * copy (pdev->config); the rest come from the backend. fwd says the
     * byte's writes also go to the backend.
     */
    uint8_t emu_bits[HOSTDEV_CFG_SIZE];
    bool fwd[HOSTDEV_CFG_SIZE];
    uint32_t cfg_size;
    uint8_t pcie_cap;           /* 0: hidden or absent */
    bool has_flr;               /* DevCap says FLR: DevCtl bit 15 traps */
    /*
     * apple-dma-pci's gate is closed: bus mastering is withheld from the
     * function whatever the guest writes (pdev->config keeps the guest's
     * value, applied when the gate opens). BQL.
     */
    bool dma_held;
    /*
     * apple-dma-pci's unbind hook, run first thing when the function goes
     * (unplug, a powered-off root port): its mappings are released through
     * the function's DART while it is still open.
     */
    void (*unbind)(void *opaque);
    void *unbind_opaque;

    /* interrupt mode the backend delivers in (BQL) */
    enum hostdev_irq_kind irq_kind;
    uint32_t irq_nvec;

    /*
     * Interrupts raised on a backend thread: recorded here with atomics and
     * delivered by irq_bh under the BQL.
     */
    QEMUBH *irq_bh;
    unsigned long irq_pending[BITS_TO_LONGS(HOSTDEV_MAX_MSIX)];
    int intx_level;
    int intx_dirty;

    /* counters for "stats" (BQL) */
    uint64_t irqs_msix;
    uint64_t irqs_msi;
    uint64_t intx_changes;
    uint64_t irqs_ignored;      /* arrived with no matching mode enabled */
    uint64_t resets;
    uint64_t flrs_requested;
};

struct EgpuPciClass {
    PCIDeviceClass parent_class;
    ResettablePhases parent_phases;
};

typedef struct EgpuBackend {
    const char *name;
    struct hostdev *(*open)(EgpuPciState *s, Error **errp);
    void (*close)(EgpuPciState *s);
} EgpuBackend;

struct hostdev *egpu_simgpu_open(EgpuPciState *s, Error **errp);
void egpu_simgpu_close(EgpuPciState *s);
struct hostdev *egpu_dext_open(EgpuPciState *s, Error **errp);
void egpu_dext_close(EgpuPciState *s);

/*
 * simgpu backend only: consistent copies of its counters and its DART's
 * (either may be NULL). False for any other backend.
 */
bool egpu_simgpu_stats(EgpuPciState *s, struct simgpu_stats *gs,
                       struct dartsim_stats *ds);
/* The same for backend dext over the IOKit test double; false on a Mac. */
bool egpu_dext_sim_stats(EgpuPciState *s, struct simgpu_stats *gs,
                         struct dartsim_stats *ds);

/* ---- inside egpu-pci: egpu-pci-config.c, used by egpu-pci.c */

bool egpu_setup_config(EgpuPciState *s, uint8_t *cfg, Error **errp);
bool egpu_setup_caps(EgpuPciState *s, const uint8_t *cfg, Error **errp);
uint32_t egpu_config_read(PCIDevice *pdev, uint32_t addr, int len);
void egpu_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val, int len);
void egpu_cfg_backend_write(EgpuPciState *s, uint32_t addr, uint32_t val,
                            int len);
/* egpu-pci.c: tell the backend the interrupt mode the guest enabled */
void egpu_update_irq_mode(EgpuPciState *s);

/* ---- for apple-dma-pci */

/* The realized function, or NULL (not realized yet, or realize failed). */
struct hostdev *egpu_pci_hostdev(EgpuPciState *s);
/* The gate of apple-dma-pci: hold the function's DMA off, or let it. BQL. */
void egpu_pci_hold_dma(EgpuPciState *s, bool hold);
/* Call fn(opaque) when the function is about to go (NULL: no more). BQL. */
void egpu_pci_set_unbind(EgpuPciState *s, void (*fn)(void *), void *opaque);

#endif
