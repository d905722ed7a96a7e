/*
 * QTest helpers for egpu-pci over the simulated GPU: see egpu-pci-qtest.h.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "egpu-pci-qtest.h"
#include "standard-headers/linux/pci_regs.h"

void gpu_map_bars(Gpu *g)
{
    qpci_device_enable(g->t.dev);
    g->regs = qpci_iomap(g->t.dev, SIMGPU_BAR_REGS, NULL);
    g->vram = qpci_iomap(g->t.dev, SIMGPU_BAR_VRAM, NULL);
    g->msix = qpci_iomap(g->t.dev, SIMGPU_BAR_MSIX, NULL);
    adma_enable(&g->t);
}

Gpu *gpu_start_order(const char *opts, bool adma_last)
{
    Gpu *g = g_new0(Gpu, 1);
    g_autofree char *gpu = g_strdup_printf(
        "-device egpu-pci,id=gpu0,backend=simgpu,addr=%x.0%s", GPU_SLOT, opts);

    adma_boot(&g->t, ",managed=gpu0", gpu, adma_last);
    gpu_map_bars(g);
    return g;
}

Gpu *gpu_start(const char *opts)
{
    return gpu_start_order(opts, false);
}

void gpu_stop(Gpu *g)
{
    adma_quit(&g->t);
    g_free(g);
}

uint32_t gpu_reg(Gpu *g, uint32_t off)
{
    return qpci_io_readl(g->t.dev, g->regs, off);
}

void gpu_reg_write(Gpu *g, uint32_t off, uint32_t val)
{
    qpci_io_writel(g->t.dev, g->regs, off, val);
}

bool gpu_wait_for(Gpu *g, bool (*cond)(Gpu *, uint64_t), uint64_t arg)
{
    int i;

    for (i = 0; i < 5000; i++) {
        if (cond(g, arg)) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

static bool ram32_is(Gpu *g, uint64_t arg)
{
    return qtest_readl(g->t.qts, arg >> 32) == (uint32_t)arg;
}

bool gpu_ram_becomes(Gpu *g, uint64_t gpa, uint32_t val)
{
    return gpu_wait_for(g, ram32_is, gpa << 32 | val);
}

/* One MAP through apple-dma-pci, in one segment: its IOVA. */
static uint64_t dma_map(Gpu *g, uint64_t gpa, uint64_t len, uint8_t dir)
{
    struct adma_resp r;

    g_assert_cmpuint(adma_one(&g->t, adma_map_req(gpa, len, dir), &r), ==,
                     ADMA_S_OK);
    g_assert_cmpuint(r.nsegs, ==, 1);
    return r.seg[0].iova;
}

void gpu_engine_start(Gpu *g)
{
    adma_control(&g->t, ADMA_CTRL_DMA_ON);      /* the gate: DMA from now */
    g->ring_iova = dma_map(g, RING_GPA, RING_SIZE * 64, ADMA_DIR_TO_DEVICE);
    g->fence_iova = dma_map(g, FENCE_GPA, 0x4000, ADMA_DIR_FROM_DEVICE);
    g->data_iova = dma_map(g, DATA_GPA, 0x4000, ADMA_DIR_BIDIRECTIONAL);
    gpu_reg_write(g, SIMGPU_REG_RING_LO, (uint32_t)g->ring_iova);
    gpu_reg_write(g, SIMGPU_REG_RING_HI, g->ring_iova >> 32);
    gpu_reg_write(g, SIMGPU_REG_RING_SIZE, RING_SIZE);
    gpu_reg_write(g, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_ENABLE);
    g->tail = 0;
}

static bool engine_idle(Gpu *g, uint64_t arg)
{
    return gpu_reg(g, SIMGPU_REG_RING_HEAD) == g->tail ||
           (gpu_reg(g, SIMGPU_REG_STATUS) & SIMGPU_STATUS_ERROR);
}

uint32_t gpu_engine_run(Gpu *g, uint32_t op, uint32_t flags, uint64_t src,
                        uint64_t dst, uint64_t len, uint64_t value,
                        uint64_t fence_addr, uint32_t vector)
{
    struct simgpu_cmd c = {
        .op = cpu_to_le32(op), .flags = cpu_to_le32(flags),
        .src = cpu_to_le64(src), .dst = cpu_to_le64(dst),
        .len = cpu_to_le64(len), .value = cpu_to_le64(value),
        .fence_addr = cpu_to_le64(fence_addr), .vector = cpu_to_le32(vector),
    };

    qtest_memwrite(g->t.qts, RING_GPA + g->tail * sizeof(c), &c, sizeof(c));
    g->tail = (g->tail + 1) % RING_SIZE;
    gpu_reg_write(g, SIMGPU_REG_RING_TAIL, g->tail);
    g_assert(gpu_wait_for(g, engine_idle, 0));
    return gpu_reg(g, SIMGPU_REG_STATUS);
}

void gpu_fence(Gpu *g, uint64_t value, bool irq, uint32_t vector)
{
    uint32_t st = gpu_engine_run(g, SIMGPU_OP_FENCE,
                                 irq ? SIMGPU_CMD_IRQ : 0, 0, 0, 0, value,
                                 g->fence_iova, vector);

    g_assert_cmphex(st & SIMGPU_STATUS_ERROR, ==, 0);
    g_assert_cmphex(qtest_readq(g->t.qts, FENCE_GPA), ==, value);
}

void gpu_msix_entry(Gpu *g, uint32_t v, uint64_t addr, uint32_t data,
                    bool masked)
{
    uint64_t e = v * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(g->t.dev, g->msix, e + PCI_MSIX_ENTRY_LOWER_ADDR, addr);
    qpci_io_writel(g->t.dev, g->msix, e + PCI_MSIX_ENTRY_UPPER_ADDR,
                   addr >> 32);
    qpci_io_writel(g->t.dev, g->msix, e + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(g->t.dev, g->msix, e + PCI_MSIX_ENTRY_VECTOR_CTRL, masked);
}

void gpu_msix_control(Gpu *g, uint16_t flags)
{
    qpci_config_writew(g->t.dev, CAP_MSIX + PCI_MSIX_FLAGS, flags);
}
