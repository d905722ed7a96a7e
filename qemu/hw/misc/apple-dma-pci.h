/*
 * apple-dma-pci: state shared by the device (apple-dma-pci.c) and the
 * managed device's IOMMU (apple-dma-iommu.c).
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_APPLE_DMA_PCI_H
#define HW_MISC_APPLE_DMA_PCI_H

#include "exec/memory.h"
#include "hw/pci/pci_device.h"
#include "qemu/notify.h"
#include "qemu/thread.h"
#include "qom/object.h"
#include "apple-dma/adma_core.h"
#include "apple-dma/dartsim.h"
#include "apple-dma/hostdev.h"

#define TYPE_APPLE_DMA_PCI "apple-dma-pci"
OBJECT_DECLARE_SIMPLE_TYPE(AppleDmaState, APPLE_DMA_PCI)

#define ADMA_NO_PAGE UINT64_MAX

typedef struct EgpuPciState EgpuPciState;   /* egpu-pci.h */

struct AppleDmaState {
    PCIDevice parent_obj;
    MemoryRegion mmio;          /* BAR0: the registers of apple_dma.h */
    PCIBus *bus;                /* ours, and the managed device's */

    /* properties */
    char *managed;              /* id of the managed PCI device */
    char *backend;              /* "dartsim"; "dext" on macOS */
    uint64_t max_bytes;         /* 0: take the core's defaults */
    uint32_t max_maps;
    uint32_t max_batch;
    uint64_t aperture_base;     /* simulator knobs; 0: its defaults */
    uint64_t aperture_size;
    bool randomize;
    uint64_t seed;
    uint64_t fail_nth;
    uint32_t fail_ppm;
    uint64_t msi_base;          /* MSI doorbell window; size 0: by machine */
    uint64_t msi_size;

    /*
     * @lock guards everything from here to the IOMMU fields. Taken after
     * the BQL, never before it; while it is held only guest RAM is touched.
     * With a passed-through managed device the core maps through its DART,
     * which locks itself: BQL -> @lock -> the hostdev's lock, never back.
     */
    QemuMutex lock;
    struct adma_core *core;
    struct dartsim *dart;       /* ours; NULL when the egpu's DART is used */
    struct hostdev *hd;         /* managed egpu-pci's function, or NULL */
    EgpuPciState *egpu;
    uint64_t last_fault_page;   /* fault already logged; ADMA_NO_PAGE: none */
    bool notify_unmap;          /* someone listens for IOMMU unmaps */
    bool dart_sim;              /* the DART is simulated: it enforces
                                 * directions (the dext maps read-write) */
    GArray *unmapped;           /* struct adma_seg not yet notified */

    /* the managed device's DMA address space (apple-dma-iommu.c) */
    MemoryRegion iommu_root;
    IOMMUMemoryRegion iommu_mr;
    MemoryRegion msi_window;    /* alias of system memory over iommu_mr */
    AddressSpace iommu_as;
    bool iommu_installed;
    Notifier machine_done;
};

/* Plain guest RAM: not a ROM, not a RAM-backed device BAR, not MMIO. */
bool apple_dma_mr_is_plain_ram(MemoryRegion *mr);

/* Copy to/from plain guest RAM only (never MMIO): 0, or -1. */
int apple_dma_ram_rw(AddressSpace *as, uint64_t gpa, void *buf, size_t len,
                     bool is_write);

/* The managed device if it exists now (it may not be realized yet). */
PCIDevice *apple_dma_managed(AppleDmaState *s);

/*
 * The managed device is an egpu-pci (passed through): map through its
 * function's DART from now on, with that DART's limits. False, with errp
 * set, if apple-dma-pci has settings only its own DART could take.
 */
bool apple_dma_bind_egpu(AppleDmaState *s, EgpuPciState *e, Error **errp);
bool apple_dma_is_egpu(PCIDevice *d);

/* Check DART knobs (shared with egpu-pci's simgpu backend). */
bool apple_dma_check_dart_config(const struct dartsim_config *dc,
                                 Error **errp);

/* apple-dma-backend.c: our DART knobs; set up our simulated DART and core. */
struct dartsim_config apple_dma_sim_config(AppleDmaState *s);
bool apple_dma_init_sim(AppleDmaState *s, Error **errp);
/* apple-dma-pci.c: guest memory and resolve() for the host core */
struct adma_env apple_dma_env(AppleDmaState *s);

/* Become the IOMMU of the bus for the managed device; undo it. */
bool apple_dma_iommu_realize(AppleDmaState *s, Error **errp);
void apple_dma_iommu_unrealize(AppleDmaState *s);

/* Tell IOMMU notifiers about the unmaps since the last call; BQL held. */
void apple_dma_iommu_flush_unmaps(AppleDmaState *s);

#endif
