/*
 * QTest helpers for egpu-pci over the simulated GPU function
 * (backend=simgpu), managed by apple-dma-pci: the machine, the function's
 * registers and BARs, its command engine fed through IOVAs that
 * apple-dma-pci maps, and its MSI-X table. Shared by egpu-pci-test and
 * egpu-pci-cmdline-test.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef EGPU_PCI_QTEST_H
#define EGPU_PCI_QTEST_H

#include "apple-dma-qtest.h"
#include "hw/misc/apple-dma/simgpu_hw.h"

#define GPU_SLOT    ADMA_QT_DEV_SLOT
#define SMALL_VRAM  0x400000            /* 4 MiB: tests map it often */

/* guest-physical layout, above apple-dma-pci's batch pages */
#define RING_GPA    0x200000            /* 16 KiB: 256 commands */
#define FENCE_GPA   0x204000
#define DATA_GPA    0x208000            /* 16 KiB of DMA data */
#define MSI_GPA     0x300000            /* where MSI writes are aimed */
#define RING_SIZE   256

#define CAP_PCIE    SIMGPU_CAP_PCIE
#define CAP_MSI     SIMGPU_CAP_MSI
#define CAP_MSIX    SIMGPU_CAP_MSIX

typedef struct Gpu {
    AdmaQTest t;            /* apple-dma-pci; t.dev is the egpu-pci */
    QPCIBar regs, vram, msix;
    uint64_t ring_iova, fence_iova, data_iova;
    uint32_t tail;
} Gpu;

#define GPU_STAT(g, n)  dev_stat((g)->t.qts, "/machine/peripheral/gpu0", n)
#define ADMA_STAT(g, n) dev_stat((g)->t.qts, ADMA_QT_PATH, n)

/*
 * q35 with egpu-pci (id gpu0, backend=simgpu, then opts: ",prop=value...")
 * managed by apple-dma-pci, which comes first (or last, with adma_last).
 */
Gpu *gpu_start_order(const char *opts, bool adma_last);
Gpu *gpu_start(const char *opts);
void gpu_stop(Gpu *g);
/* Enable both functions and map their BARs (again after a reset). */
void gpu_map_bars(Gpu *g);

uint32_t gpu_reg(Gpu *g, uint32_t off);
void gpu_reg_write(Gpu *g, uint32_t off, uint32_t val);

/* Wait (real time: the engine is a thread) until cond(g, arg) holds. */
bool gpu_wait_for(Gpu *g, bool (*cond)(Gpu *, uint64_t), uint64_t arg);
/* Is the 32-bit word at gpa val within the timeout? */
bool gpu_ram_becomes(Gpu *g, uint64_t gpa, uint32_t val);

/*
 * Open apple-dma-pci's gate, map ring, fence and data pages through it;
 * start the ring.
 */
void gpu_engine_start(Gpu *g);
/* Queue one command and ring; wait for the engine. Returns STATUS. */
uint32_t gpu_engine_run(Gpu *g, uint32_t op, uint32_t flags, uint64_t src,
                        uint64_t dst, uint64_t len, uint64_t value,
                        uint64_t fence_addr, uint32_t vector);
/* A FENCE writing value, raising vector if irq. Asserts it completed. */
void gpu_fence(Gpu *g, uint64_t value, bool irq, uint32_t vector);

/* MSI-X table entry v, and the MSI-X Message Control word. */
void gpu_msix_entry(Gpu *g, uint32_t v, uint64_t addr, uint32_t data,
                    bool masked);
void gpu_msix_control(Gpu *g, uint16_t flags);

#endif /* EGPU_PCI_QTEST_H */
