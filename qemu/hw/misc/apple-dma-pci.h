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
#include "apple-dma-hostram.h"

#define TYPE_APPLE_DMA_PCI "apple-dma-pci"
OBJECT_DECLARE_TYPE(AppleDmaState, AppleDmaClass, APPLE_DMA_PCI)

/* MSI doorbell windows that bypass the simulated DART (apple-dma-iommu.c) */
#define ADMA_MSI_WINDOWS 2

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
    bool gate;                  /* ADMA_F_GATE: DMA held off until DMA_ON */
    uint32_t drop_ppm;          /* fault injection: doorbells ignored, ppm */

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
    /* the DART is simulated: it enforces directions (the dext maps RW) */
    bool dart_sim;
    GArray *unmapped;           /* struct adma_seg not yet notified */
    /*
     * The gate (ADMA_REG_CONTROL): while !dma_on the managed device's DMA
     * faults in translate() (counted in @gated, logged once per closing),
     * or a managed egpu-pci's function has no bus mastering. Always on
     * with gate=off. Changed under the BQL and @lock; read under either.
     */
    bool dma_on;
    bool gated_logged;
    uint64_t gated;
    /* ADMA_REG_IOVA_END; set before the guest runs; 0: unknown */
    uint64_t iova_end;
    uint64_t drop_rng;          /* drop-ppm's generator, from @seed */
    uint64_t dropped;           /* doorbells ignored by drop-ppm */

    /* the managed device's DMA address space (apple-dma-iommu.c) */
    MemoryRegion iommu_root;
    IOMMUMemoryRegion iommu_mr;
    /* system memory over iommu_mr: the MSI doorbells */
    MemoryRegion msi_window[ADMA_MSI_WINDOWS];
    AddressSpace iommu_as;
    bool iommu_installed;
    Notifier machine_done;
    DeviceListener unplug;      /* the managed device going away */
};

struct AppleDmaClass {
    PCIDeviceClass parent_class;
    ResettablePhases parent_phases;
};

/* The machine's RAM: never a device's memory (a BAR), a ROM or MMIO. */
bool apple_dma_mr_is_plain_ram(MemoryRegion *mr);

/*
 * Copy to/from machine RAM at gpa of as only (never MMIO, no region
 * references taken): 0, or -1. Any thread.
 */
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

/*
 * The gate, BQL held (not @lock): open or close the managed device's DMA.
 * Closing clears bus mastering at a managed egpu-pci's function and tells
 * IOMMU notifiers that nothing is reachable any more.
 */
void apple_dma_set_gate(AppleDmaState *s, bool on);
/* The guest's CONTROL register: read, and a 32-bit write (any thread). */
uint32_t apple_dma_read_control(AppleDmaState *s);
void apple_dma_write_control(AppleDmaState *s, uint32_t val);
/*
 * Close the gate, then release every live mapping (BQL held); with reset,
 * also start again the counters kept since reset (BAD_BATCHES, peaks).
 */
void apple_dma_release_all(AppleDmaState *s, bool reset);

/* One past the last IOVA of a simulated DART with these knobs. */
uint64_t apple_dma_dart_iova_end(const struct dartsim_config *dc);

/* Become the IOMMU of the bus for the managed device; undo it. */
bool apple_dma_iommu_realize(AppleDmaState *s, Error **errp);
void apple_dma_iommu_unrealize(AppleDmaState *s);

/* Tell IOMMU notifiers about the unmaps since the last call; BQL held. */
void apple_dma_iommu_flush_unmaps(AppleDmaState *s);
/* The gate closed: tell IOMMU notifiers nothing is mapped; BQL held. */
void apple_dma_iommu_notify_closed(AppleDmaState *s);

#endif
