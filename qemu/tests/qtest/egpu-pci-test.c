/*
 * QTest for egpu-pci over the simulated GPU function (backend=simgpu), with
 * apple-dma-pci mapping through the function's DART: BAR sizing and
 * placement, config space virtualisation, MSI-X table and PBA, interrupts
 * (MSI-X, MSI, INTx) raised by the engine, direct and trapped BARs, reset
 * and FLR, DART faults, both command-line orders, and bad command lines.
 * Everything is driven through registers and config space.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "hw/misc/apple-dma/adma_core.h"
#include "hw/misc/apple-dma/simgpu_hw.h"
#include "standard-headers/linux/pci_regs.h"

#define ADMA_SLOT   4
#define GPU_SLOT    5
#define SMALL_VRAM  0x400000            /* 4 MiB: tests map it often */

/* guest-physical layout */
#define CMD_GPA     0x100000            /* apple-dma command block */
#define REQ_GPA     0x101000
#define RESP_GPA    0x102000
#define RING_GPA    0x200000            /* 16 KiB: 256 commands */
#define FENCE_GPA   0x204000
#define DATA_GPA    0x208000            /* 16 KiB of DMA data */
#define MSI_GPA     0x300000            /* where MSI writes are aimed */
#define RING_SIZE   256

#define CAP_PCIE    SIMGPU_CAP_PCIE
#define CAP_MSI     SIMGPU_CAP_MSI
#define CAP_MSIX    SIMGPU_CAP_MSIX

typedef struct Gpu {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev, *adma;
    QPCIBar regs, vram, msix, adma_bar;
    uint64_t ring_iova, fence_iova, data_iova;
    uint32_t tail;
} Gpu;

static void gpu_map_bars(Gpu *g)
{
    qpci_device_enable(g->dev);
    g->regs = qpci_iomap(g->dev, SIMGPU_BAR_REGS, NULL);
    g->vram = qpci_iomap(g->dev, SIMGPU_BAR_VRAM, NULL);
    g->msix = qpci_iomap(g->dev, SIMGPU_BAR_MSIX, NULL);
    qpci_device_enable(g->adma);
    g->adma_bar = qpci_iomap(g->adma, 0, NULL);
}

/* apple-dma-pci first (or after, with adma_last), then the GPU. */
static Gpu *gpu_start_order(const char *opts, bool adma_last)
{
    Gpu *g = g_new0(Gpu, 1);
    g_autofree char *adma = g_strdup_printf(
        "-device apple-dma-pci,id=adma0,managed=gpu0,addr=%x.0", ADMA_SLOT);

    g->qts = qtest_initf("-M q35 -nodefaults -m 256M %s "
                         "-device egpu-pci,id=gpu0,backend=simgpu,addr=%x.0%s "
                         "%s", adma_last ? "" : adma, GPU_SLOT, opts,
                         adma_last ? adma : "");
    g->bus = qpci_new_pc(g->qts, NULL);
    g->dev = qpci_device_find(g->bus, QPCI_DEVFN(GPU_SLOT, 0));
    g->adma = qpci_device_find(g->bus, QPCI_DEVFN(ADMA_SLOT, 0));
    g_assert(g->dev && g->adma);
    gpu_map_bars(g);
    return g;
}

static Gpu *gpu_start(const char *opts)
{
    return gpu_start_order(opts, false);
}

static void gpu_stop(Gpu *g)
{
    g_free(g->dev);
    g_free(g->adma);
    qpci_free_pc(g->bus);
    qtest_quit(g->qts);
    g_free(g);
}

static uint32_t reg(Gpu *g, uint32_t off)
{
    return qpci_io_readl(g->dev, g->regs, off);
}

static void reg_write(Gpu *g, uint32_t off, uint32_t val)
{
    qpci_io_writel(g->dev, g->regs, off, val);
}

static int64_t dev_stat(Gpu *g, const char *dev, const char *name)
{
    QDict *rsp = qtest_qmp(g->qts, "{'execute': 'qom-get', 'arguments': {"
                           "'path': %s, 'property': 'stats'}}", dev);
    QDict *st = qdict_get_qdict(rsp, "return");
    int64_t v;

    g_assert(st && qdict_haskey(st, name));
    v = qdict_get_int(st, name);
    qobject_unref(rsp);
    return v;
}

#define GPU_STAT(g, n)  dev_stat(g, "/machine/peripheral/gpu0", n)
#define ADMA_STAT(g, n) dev_stat(g, "/machine/peripheral/adma0", n)

/* Wait (real time: the engine is a thread) until cond(g, arg) holds. */
static bool wait_for(Gpu *g, bool (*cond)(Gpu *, uint64_t), uint64_t arg)
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
    return qtest_readl(g->qts, arg >> 32) == (uint32_t)arg;
}

/* Is the 32-bit word at gpa val within the timeout? */
static bool ram_becomes(Gpu *g, uint64_t gpa, uint32_t val)
{
    return wait_for(g, ram32_is, gpa << 32 | val);
}

/* ---- apple-dma-pci: one MAP per batch */

static uint64_t adma_map(Gpu *g, uint64_t gpa, uint64_t len, uint8_t dir)
{
    struct adma_req req = { .op = ADMA_OP_MAP, .flags = dir,
                            .gpa = cpu_to_le64(gpa), .len = cpu_to_le64(len) };
    struct adma_cmd c = {
        .magic = cpu_to_le32(ADMA_CMD_MAGIC),
        .version = cpu_to_le16(ADMA_VERSION_MAJOR),
        .count = cpu_to_le32(1),
        .req_gpa = cpu_to_le64(REQ_GPA), .resp_gpa = cpu_to_le64(RESP_GPA),
    };
    struct adma_resp r;

    qtest_memwrite(g->qts, REQ_GPA, &req, sizeof(req));
    qtest_memset(g->qts, RESP_GPA, 0, sizeof(r));
    qtest_memwrite(g->qts, CMD_GPA, &c, sizeof(c));
    qpci_io_writeq(g->adma, g->adma_bar, ADMA_REG_DOORBELL, CMD_GPA);
    qtest_memread(g->qts, RESP_GPA, &r, sizeof(r));
    g_assert_cmpuint(le32_to_cpu(r.status), ==, ADMA_S_OK);
    g_assert_cmpuint(le16_to_cpu(r.nsegs), ==, 1);
    return le64_to_cpu(r.seg[0].iova);
}

/* ---- the engine */

/* Map ring, fence and data pages through apple-dma-pci; start the ring. */
static void engine_start(Gpu *g)
{
    g->ring_iova = adma_map(g, RING_GPA, RING_SIZE * 64, ADMA_DIR_TO_DEVICE);
    g->fence_iova = adma_map(g, FENCE_GPA, 0x4000, ADMA_DIR_FROM_DEVICE);
    g->data_iova = adma_map(g, DATA_GPA, 0x4000, ADMA_DIR_BIDIRECTIONAL);
    reg_write(g, SIMGPU_REG_RING_LO, (uint32_t)g->ring_iova);
    reg_write(g, SIMGPU_REG_RING_HI, g->ring_iova >> 32);
    reg_write(g, SIMGPU_REG_RING_SIZE, RING_SIZE);
    reg_write(g, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_ENABLE);
    g->tail = 0;
}

static bool engine_idle(Gpu *g, uint64_t arg)
{
    return reg(g, SIMGPU_REG_RING_HEAD) == g->tail ||
           (reg(g, SIMGPU_REG_STATUS) & SIMGPU_STATUS_ERROR);
}

/* Queue one command and ring; wait for the engine. Returns STATUS. */
static uint32_t engine_run(Gpu *g, uint32_t op, uint32_t flags, uint64_t src,
                           uint64_t dst, uint64_t len, uint64_t value,
                           uint64_t fence_addr, uint32_t vector)
{
    struct simgpu_cmd c = {
        .op = cpu_to_le32(op), .flags = cpu_to_le32(flags),
        .src = cpu_to_le64(src), .dst = cpu_to_le64(dst),
        .len = cpu_to_le64(len), .value = cpu_to_le64(value),
        .fence_addr = cpu_to_le64(fence_addr), .vector = cpu_to_le32(vector),
    };

    qtest_memwrite(g->qts, RING_GPA + g->tail * sizeof(c), &c, sizeof(c));
    g->tail = (g->tail + 1) % RING_SIZE;
    reg_write(g, SIMGPU_REG_RING_TAIL, g->tail);
    g_assert(wait_for(g, engine_idle, 0));
    return reg(g, SIMGPU_REG_STATUS);
}

/* A FENCE writing value, raising vector if irq. Asserts it completed. */
static void fence(Gpu *g, uint64_t value, bool irq, uint32_t vector)
{
    uint32_t st = engine_run(g, SIMGPU_OP_FENCE, irq ? SIMGPU_CMD_IRQ : 0,
                             0, 0, 0, value, g->fence_iova, vector);

    g_assert_cmphex(st & SIMGPU_STATUS_ERROR, ==, 0);
    g_assert_cmphex(qtest_readq(g->qts, FENCE_GPA), ==, value);
}

/* ---- BARs */

static uint32_t bar_size_bits(Gpu *g, int bar)
{
    uint8_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t v;

    qpci_config_writel(g->dev, off, 0xffffffff);
    v = qpci_config_readl(g->dev, off);
    qpci_config_writel(g->dev, off, 0);
    return v;
}

static void test_bars(void)
{
    Gpu *g = gpu_start("");
    uint32_t hi;

    qpci_config_writew(g->dev, PCI_COMMAND, 0);
    g_assert_cmphex(bar_size_bits(g, 0), ==, (uint32_t)~(SIMGPU_REGS_SIZE - 1));
    g_assert_cmphex(bar_size_bits(g, 1), ==, 0);
    g_assert_cmphex(bar_size_bits(g, 2), ==,
                    (uint32_t)~(SIMGPU_VRAM_DEFAULT - 1) |
                    PCI_BASE_ADDRESS_MEM_TYPE_64 |
                    PCI_BASE_ADDRESS_MEM_PREFETCH);
    hi = bar_size_bits(g, 3);                   /* upper half of BAR2 */
    g_assert_cmphex(hi, ==, 0xffffffff);
    g_assert_cmphex(bar_size_bits(g, 4), ==, ~0xfffu);
    g_assert_cmphex(bar_size_bits(g, 5), ==, 0);
    qpci_config_writel(g->dev, PCI_ROM_ADDRESS, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(g->dev, PCI_ROM_ADDRESS), ==, 0);

    /* placement: the registers answer where the guest put BAR0 */
    qpci_config_writel(g->dev, PCI_BASE_ADDRESS_0, 0xfe000000);
    g_assert_cmphex(qtest_readl(g->qts, 0xfe000000), !=, SIMGPU_ID_VALUE);
    qpci_config_writew(g->dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(qtest_readl(g->qts, 0xfe000000 + SIMGPU_REG_ID), ==,
                    SIMGPU_ID_VALUE);
    g_assert_cmphex(qtest_readl(g->qts, 0xfe000000 + SIMGPU_REG_VRAM_LO), ==,
                    SIMGPU_VRAM_DEFAULT);
    gpu_stop(g);

    g = gpu_start(",vram-size=0x800000,msix-vectors=200");
    qpci_config_writew(g->dev, PCI_COMMAND, 0);
    g_assert_cmphex(bar_size_bits(g, 2) & ~0xfu, ==, ~0x7fffffu);
    /* 200 entries, then the PBA at 0x1000: an 8 KiB BAR */
    g_assert_cmphex(bar_size_bits(g, 4), ==, ~0x1fffu);
    gpu_stop(g);
}

/* ---- config space */

static void test_config(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    uint16_t flags;

    /* IDs and class: the function's, read-only */
    g_assert_cmphex(qpci_config_readl(g->dev, PCI_VENDOR_ID), ==,
                    SIMGPU_PCI_DEVICE_ID << 16 | SIMGPU_PCI_VENDOR_ID);
    qpci_config_writel(g->dev, PCI_VENDOR_ID, 0);
    qpci_config_writel(g->dev, PCI_CLASS_REVISION, 0);
    g_assert_cmphex(qpci_config_readw(g->dev, PCI_VENDOR_ID), ==,
                    SIMGPU_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readl(g->dev, PCI_CLASS_REVISION), ==,
                    SIMGPU_PCI_CLASS << 16 | SIMGPU_PCI_REVISION);
    g_assert_cmphex(qpci_config_readb(g->dev, PCI_INTERRUPT_PIN), ==, 0);

    /* the capability list, rebuilt in the function's order */
    g_assert_cmphex(qpci_config_readb(g->dev, PCI_CAPABILITY_LIST), ==,
                    CAP_PCIE);
    g_assert_cmphex(qpci_config_readw(g->dev, CAP_PCIE), ==,
                    CAP_MSI << 8 | PCI_CAP_ID_EXP);
    g_assert_cmphex(qpci_config_readw(g->dev, CAP_MSI), ==,
                    CAP_MSIX << 8 | PCI_CAP_ID_MSI);
    g_assert_cmphex(qpci_config_readw(g->dev, CAP_MSIX), ==, PCI_CAP_ID_MSIX);

    /* PCIe: an integrated endpoint on q35's root bus, no link */
    flags = qpci_config_readw(g->dev, CAP_PCIE + PCI_EXP_FLAGS);
    g_assert_cmphex(flags & PCI_EXP_FLAGS_TYPE, ==, PCI_EXP_TYPE_RC_END << 4);
    g_assert_cmphex(qpci_config_readl(g->dev, CAP_PCIE + PCI_EXP_LNKCAP), ==,
                    0);
    g_assert(qpci_config_readl(g->dev, CAP_PCIE + PCI_EXP_DEVCAP) &
             PCI_EXP_DEVCAP_FLR);
    /* DevCtl is the function's: its write mask applies, not QEMU's */
    qpci_config_writew(g->dev, CAP_PCIE + PCI_EXP_DEVCTL, 0x7fff);
    g_assert_cmphex(qpci_config_readw(g->dev, CAP_PCIE + PCI_EXP_DEVCTL), ==,
                    0x78ff);
    qpci_config_writew(g->dev, CAP_PCIE + PCI_EXP_DEVCTL, 0);
    g_assert_cmphex(qpci_config_readw(g->dev, CAP_PCIE + PCI_EXP_DEVCTL), ==,
                    0);

    /* MSI and MSI-X: QEMU's emulation at the function's layout */
    flags = qpci_config_readw(g->dev, CAP_MSI + PCI_MSI_FLAGS);
    g_assert_cmphex(flags, ==, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
    flags = qpci_config_readw(g->dev, CAP_MSIX + PCI_MSIX_FLAGS);
    g_assert_cmphex(flags, ==, SIMGPU_MSIX_DEFAULT - 1);
    g_assert_cmphex(qpci_config_readl(g->dev, CAP_MSIX + PCI_MSIX_TABLE), ==,
                    SIMGPU_BAR_MSIX);
    g_assert_cmphex(qpci_config_readl(g->dev, CAP_MSIX + PCI_MSIX_PBA), ==,
                    SIMGPU_MSIX_PBA_OFF(SIMGPU_MSIX_DEFAULT) |
                    SIMGPU_BAR_MSIX);
    qpci_config_writel(g->dev, CAP_MSI + PCI_MSI_ADDRESS_LO, 0x12345678);
    g_assert_cmphex(qpci_config_readl(g->dev, CAP_MSI + PCI_MSI_ADDRESS_LO),
                    ==, 0x12345678 & ~3u);

    /* the command register reaches the function: no BME, no DMA */
    engine_start(g);
    qpci_config_writew(g->dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(qpci_config_readw(g->dev, PCI_COMMAND), ==,
                    PCI_COMMAND_MEMORY);
    g_assert(engine_run(g, SIMGPU_OP_NOP, 0, 0, 0, 0, 0, 0, 0) &
             SIMGPU_STATUS_ERROR);
    g_assert_cmpuint(reg(g, SIMGPU_REG_ERROR), ==, SIMGPU_ERR_NO_BME);
    reg_write(g, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_RESET);
    qpci_config_writew(g->dev, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    engine_start(g);
    fence(g, 0x1122334455667788ull, false, 0);
    g_assert_cmpuint(reg(g, SIMGPU_REG_DONE), ==, 1);
    gpu_stop(g);

    g = gpu_start(",intx=on");
    g_assert_cmphex(qpci_config_readb(g->dev, PCI_INTERRUPT_PIN), ==, 1);
    gpu_stop(g);
}

/* On a conventional bus (pc's) the PCIe capability is hidden. */
static void test_conventional(void)
{
    QTestState *qts = qtest_initf("-M pc -nodefaults -device egpu-pci,"
                                  "id=gpu0,backend=simgpu,addr=%x.0,"
                                  "vram-size=0x400000", GPU_SLOT);
    QPCIBus *bus = qpci_new_pc(qts, NULL);
    QPCIDevice *dev = qpci_device_find(bus, QPCI_DEVFN(GPU_SLOT, 0));

    g_assert(dev);
    g_assert_cmphex(qpci_config_readb(dev, PCI_CAPABILITY_LIST), ==, CAP_MSI);
    g_assert_cmphex(qpci_config_readw(dev, CAP_MSI), ==,
                    CAP_MSIX << 8 | PCI_CAP_ID_MSI);
    qpci_config_writel(dev, CAP_PCIE + PCI_EXP_DEVCTL,
                       PCI_EXP_DEVCTL_BCR_FLR | 0xff);
    g_assert_cmphex(qpci_config_readl(dev, CAP_PCIE), ==, 0);
    g_assert_cmphex(qpci_config_readl(dev, CAP_PCIE + PCI_EXP_DEVCTL), ==, 0);
    /* a dword read at 0xfd is cut to 3 bytes: still the function's bytes */
    g_assert_cmphex(qpci_config_readl(dev, 0xfd), ==,
                    qpci_config_readb(dev, 0xfd) |
                    qpci_config_readb(dev, 0xfe) << 8 |
                    qpci_config_readb(dev, 0xff) << 16);
    g_free(dev);
    qpci_free_pc(bus);
    qtest_quit(qts);
}

/* ---- interrupts */

static void msix_entry(Gpu *g, uint32_t v, uint64_t addr, uint32_t data,
                       bool masked)
{
    uint64_t e = v * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(g->dev, g->msix, e + PCI_MSIX_ENTRY_LOWER_ADDR, addr);
    qpci_io_writel(g->dev, g->msix, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(g->dev, g->msix, e + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(g->dev, g->msix, e + PCI_MSIX_ENTRY_VECTOR_CTRL, masked);
}

static bool pba_bit(Gpu *g, uint64_t v)
{
    uint32_t pba = SIMGPU_MSIX_PBA_OFF(SIMGPU_MSIX_DEFAULT);

    return qpci_io_readl(g->dev, g->msix, pba + v / 32 * 4) >> (v % 32) & 1;
}

static void msix_control(Gpu *g, uint16_t flags)
{
    qpci_config_writew(g->dev, CAP_MSIX + PCI_MSIX_FLAGS, flags);
}

static void test_msix(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    uint32_t v;

    /* the table is QEMU's: written entries read back, vectors masked */
    g_assert_cmpuint(qpci_io_readl(g->dev, g->msix,
                                   PCI_MSIX_ENTRY_VECTOR_CTRL), ==, 1);
    for (v = 0; v < 4; v++) {
        msix_entry(g, v, MSI_GPA + 16 * v, 0xabc0 + v, v == 1);
    }
    g_assert_cmphex(qpci_io_readl(g->dev, g->msix, 2 * PCI_MSIX_ENTRY_SIZE +
                                  PCI_MSIX_ENTRY_DATA), ==, 0xabc2);
    qtest_memset(g->qts, MSI_GPA, 0, 0x100);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 0);
    msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 3);   /* the backend knows */
    engine_start(g);

    /* unmasked: the engine's interrupt lands where the entry points */
    fence(g, 1, true, 2);
    g_assert(ram_becomes(g, MSI_GPA + 32, 0xabc2));
    fence(g, 2, true, 0);
    g_assert(ram_becomes(g, MSI_GPA, 0xabc0));

    /* masked vector: pending in the PBA, delivered on unmask */
    fence(g, 3, true, 1);
    g_assert(wait_for(g, pba_bit, 1));
    g_assert_cmphex(qtest_readl(g->qts, MSI_GPA + 16), ==, 0);
    qpci_io_writel(g->dev, g->msix, PCI_MSIX_ENTRY_SIZE +
                   PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    g_assert_cmphex(qtest_readl(g->qts, MSI_GPA + 16), ==, 0xabc1);
    g_assert(!pba_bit(g, 1));

    /* function mask: the same, for every vector */
    msix_control(g, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    fence(g, 4, true, 3);
    g_assert(wait_for(g, pba_bit, 3));
    g_assert_cmphex(qtest_readl(g->qts, MSI_GPA + 48), ==, 0);
    msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    g_assert_cmphex(qtest_readl(g->qts, MSI_GPA + 48), ==, 0xabc3);
    g_assert_cmpint(GPU_STAT(g, "irqs_msix"), ==, 4);

    msix_control(g, 0);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 0);
    gpu_stop(g);
}

static bool msi_pending(Gpu *g, uint64_t arg)
{
    return qpci_config_readl(g->dev, CAP_MSI + PCI_MSI_PENDING_64) & 1;
}

static void test_msi(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    const uint32_t addr = MSI_GPA + 0x100;

    qpci_config_writel(g->dev, CAP_MSI + PCI_MSI_ADDRESS_LO, addr);
    qpci_config_writel(g->dev, CAP_MSI + PCI_MSI_ADDRESS_HI, 0);
    qpci_config_writew(g->dev, CAP_MSI + PCI_MSI_DATA_64, 0x5a5a);
    qpci_config_writew(g->dev, CAP_MSI + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 2);
    engine_start(g);
    qtest_writel(g->qts, addr, 0);
    fence(g, 1, true, 0);
    g_assert(ram_becomes(g, addr, 0x5a5a));

    /* masked: the pending bit in the capability, then delivery */
    qtest_writel(g->qts, addr, 0);
    qpci_config_writel(g->dev, CAP_MSI + PCI_MSI_MASK_64, 1);
    fence(g, 2, true, 0);
    g_assert(wait_for(g, msi_pending, 0));
    g_assert_cmphex(qtest_readl(g->qts, addr), ==, 0);
    qpci_config_writel(g->dev, CAP_MSI + PCI_MSI_MASK_64, 0);
    g_assert_cmphex(qtest_readl(g->qts, addr), ==, 0x5a5a);
    g_assert(!msi_pending(g, 0));
    g_assert_cmpint(GPU_STAT(g, "irqs_msi"), ==, 2);
    gpu_stop(g);
}

/* The one IOAPIC input (PIRQ pins 16..23) that is high, or -1. */
static int intx_line(Gpu *g)
{
    int n, line = -1;

    for (n = 16; n < 24; n++) {
        if (qtest_get_irq(g->qts, n)) {
            g_assert_cmpint(line, ==, -1);
            line = n;
        }
    }
    return line;
}

static bool intx_high(Gpu *g, uint64_t want)
{
    return (intx_line(g) >= 0) == want;
}

static void test_intx(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000,intx=on");
    const uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

    qtest_irq_intercept_in(g->qts, "ioapic");
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 1);
    engine_start(g);
    g_assert_cmpint(intx_line(g), ==, -1);

    /* a fence asserts the line until IRQ_STATUS is cleared */
    fence(g, 1, false, 0);
    g_assert(wait_for(g, intx_high, 1));
    g_assert(qpci_config_readw(g->dev, PCI_STATUS) & PCI_STATUS_INTERRUPT);
    reg_write(g, SIMGPU_REG_IRQ_STATUS, SIMGPU_IRQ_FENCE);
    g_assert(wait_for(g, intx_high, 0));
    g_assert(!(qpci_config_readw(g->dev, PCI_STATUS) & PCI_STATUS_INTERRUPT));

    /* INTx Disable reaches the function: nothing while set, then the line */
    qpci_config_writew(g->dev, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
    fence(g, 2, false, 0);
    g_usleep(50 * 1000);
    g_assert_cmpint(intx_line(g), ==, -1);
    qpci_config_writew(g->dev, PCI_COMMAND, cmd);
    g_assert(wait_for(g, intx_high, 1));
    reg_write(g, SIMGPU_REG_IRQ_STATUS, SIMGPU_IRQ_FENCE);
    g_assert(wait_for(g, intx_high, 0));
    g_assert_cmpint(GPU_STAT(g, "intx_changes"), ==, 4);

    /* MSI takes over from INTx */
    qpci_config_writel(g->dev, CAP_MSI + PCI_MSI_ADDRESS_LO, MSI_GPA);
    qpci_config_writew(g->dev, CAP_MSI + PCI_MSI_DATA_64, 0x77);
    qpci_config_writew(g->dev, CAP_MSI + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 2);
    qtest_writel(g->qts, MSI_GPA, 0);
    fence(g, 3, true, 0);
    g_assert(ram_becomes(g, MSI_GPA, 0x77));
    g_assert_cmpint(intx_line(g), ==, -1);
    gpu_stop(g);
}

/* ---- VRAM: a ram_device region or trapped, the same data either way */

static void check_vram(const char *map_bars, const char *want, const char *not)
{
    g_autofree char *opts = g_strdup_printf(",vram-size=0x%x,map-bars=%s",
                                            SMALL_VRAM, map_bars);
    Gpu *g = gpu_start(opts);
    g_autofree char *mtree = qtest_hmp(g->qts, "info mtree");
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);
    uint8_t pat[0x1000], buf[0x1000];
    int i, seen = 0;

    for (i = 0; lines[i]; i++) {
        if (strstr(lines[i], ": egpu-bar2-simgpu")) {
            g_test_message("%s", lines[i]);
            g_assert(strstr(lines[i], want) && !strstr(lines[i], not));
            seen++;
        }
        if (strstr(lines[i], ": egpu-bar0-simgpu")) {
            g_assert(strstr(lines[i], "i/o"));  /* no host pointer */
        }
    }
    g_assert_cmpint(seen, >, 0);

    for (i = 0; i < sizeof(pat); i++) {
        pat[i] = i * 13 + 5;
    }
    engine_start(g);
    /* guest -> VRAM through the BAR, the engine copies VRAM -> guest */
    qtest_memwrite(g->qts, g->vram.addr + 0x1000, pat, sizeof(pat));
    qtest_memset(g->qts, DATA_GPA, 0, sizeof(buf));
    g_assert_cmphex(engine_run(g, SIMGPU_OP_COPY, SIMGPU_CMD_SRC_VRAM, 0x1000,
                               g->data_iova, sizeof(pat), 0, 0, 0) &
                    SIMGPU_STATUS_ERROR, ==, 0);
    qtest_memread(g->qts, DATA_GPA, buf, sizeof(buf));
    g_assert(!memcmp(buf, pat, sizeof(pat)));
    /* the engine fills VRAM, the guest reads it through the BAR */
    g_assert_cmphex(engine_run(g, SIMGPU_OP_FILL, SIMGPU_CMD_DST_VRAM, 0,
                               SMALL_VRAM - 0x1000, 0x1000, 0xa5c3f00d, 0, 0) &
                    SIMGPU_STATUS_ERROR, ==, 0);
    g_assert_cmphex(qtest_readl(g->qts, g->vram.addr + SMALL_VRAM - 4), ==,
                    0xa5c3f00d);
    g_assert_cmphex(qtest_readq(g->qts, g->vram.addr + SMALL_VRAM - 0x1000),
                    ==, 0xa5c3f00da5c3f00dull);
    g_assert_cmpint(GPU_STAT(g, "bytes_out"), ==, sizeof(pat));
    gpu_stop(g);
}

static void test_vram(void)
{
    check_vram("auto", "ramd", "i/o");
    check_vram("off", "i/o", "ramd");
}

/* ---- reset: system_reset and FLR reach the function */

static void busy_state(Gpu *g)
{
    reg_write(g, SIMGPU_REG_SCRATCH, 0x5eed);
    msix_entry(g, 0, MSI_GPA, 1, false);
    msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    engine_start(g);
    fence(g, 9, false, 0);
    g_assert_cmpuint(reg(g, SIMGPU_REG_DONE), ==, 1);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 3);
}

/* The function and its emulated state as after power-on. */
static void check_fresh(Gpu *g)
{
    g_assert_cmphex(qpci_config_readw(g->dev, PCI_COMMAND), ==, 0);
    g_assert_cmphex(qpci_config_readw(g->dev, CAP_MSIX + PCI_MSIX_FLAGS), ==,
                    SIMGPU_MSIX_DEFAULT - 1);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 0);
    gpu_map_bars(g);
    g_assert_cmpuint(qpci_io_readl(g->dev, g->msix,
                                   PCI_MSIX_ENTRY_VECTOR_CTRL), ==, 1);
    g_assert_cmphex(reg(g, SIMGPU_REG_SCRATCH), ==, 0);
    g_assert_cmphex(reg(g, SIMGPU_REG_STATUS), ==, 0);
    g_assert_cmphex(reg(g, SIMGPU_REG_RING_SIZE), ==, 0);
    g_assert_cmphex(reg(g, SIMGPU_REG_DONE), ==, 0);
}

static void test_reset(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    int64_t flrs = GPU_STAT(g, "flrs");         /* power-on reset counts */

    busy_state(g);
    qtest_system_reset(g->qts);
    g_assert_cmpint(GPU_STAT(g, "flrs"), ==, flrs + 1);
    check_fresh(g);
    /* apple-dma-pci released its mappings at the function's DART too */
    g_assert_cmpint(GPU_STAT(g, "dart_live_maps"), ==, 0);
    g_assert_cmpint(ADMA_STAT(g, "dart_live_maps"), ==, 0);

    /* a guest FLR: DevCtl "Initiate FLR" */
    busy_state(g);
    qpci_config_writew(g->dev, CAP_PCIE + PCI_EXP_DEVCTL,
                       PCI_EXP_DEVCTL_BCR_FLR);
    g_assert_cmphex(qpci_config_readw(g->dev, CAP_PCIE + PCI_EXP_DEVCTL) &
                    PCI_EXP_DEVCTL_BCR_FLR, ==, 0);
    g_assert_cmpint(GPU_STAT(g, "flrs"), ==, flrs + 2);
    g_assert_cmpint(GPU_STAT(g, "flrs_requested"), ==, 1);
    check_fresh(g);
    /* an FLR leaves the DART alone: the mappings are apple-dma-pci's */
    g_assert_cmpint(GPU_STAT(g, "dart_live_maps"), ==, 3);
    gpu_stop(g);
}

/* ---- a DMA to an IOVA nobody mapped */

static void test_dart_fault(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    uint64_t bad;
    uint32_t st;

    msix_entry(g, 0, MSI_GPA, 0xe0, false);
    msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    qtest_writel(g->qts, MSI_GPA, 0);
    engine_start(g);
    g_assert_cmpint(ADMA_STAT(g, "dart_live_maps"), ==, 3);
    g_assert_cmpint(GPU_STAT(g, "dart_live_maps"), ==, 3);
    fence(g, 1, false, 0);
    g_assert_cmpint(ADMA_STAT(g, "faults"), ==, 0);

    bad = g->data_iova + 0x100000;              /* in the aperture, unmapped */
    st = engine_run(g, SIMGPU_OP_FENCE, 0, 0, 0, 0, 2, bad, 0);
    g_assert(st & SIMGPU_STATUS_ERROR);
    g_assert_cmpuint(reg(g, SIMGPU_REG_ERROR), ==, SIMGPU_ERR_DART_FAULT);
    g_assert_cmphex(reg(g, SIMGPU_REG_FAULT_LO) |
                    (uint64_t)reg(g, SIMGPU_REG_FAULT_HI) << 32, ==, bad);
    g_assert(reg(g, SIMGPU_REG_IRQ_STATUS) & SIMGPU_IRQ_ERROR);
    g_assert_cmpuint(reg(g, SIMGPU_REG_RING_HEAD), ==, 1);  /* stopped */
    /* the error interrupt (vector 0) */
    g_assert(ram_becomes(g, MSI_GPA, 0xe0));
    g_assert_cmpint(GPU_STAT(g, "dart_faults"), ==, 1);
    g_assert_cmpint(GPU_STAT(g, "faults"), ==, 1);
    g_assert_cmpint(GPU_STAT(g, "errors"), ==, 1);
    /* apple-dma-pci shows the egpu's DART */
    g_assert_cmpint(ADMA_STAT(g, "faults"), ==, 1);
    g_assert_cmpint(ADMA_STAT(g, "translations"), ==,
                    GPU_STAT(g, "translations"));
    g_assert_cmphex(qtest_readq(g->qts, FENCE_GPA), ==, 1);
    gpu_stop(g);
}

/* ---- apple-dma-pci after the egpu-pci, and the DART knobs there */

static void test_order(void)
{
    Gpu *g = gpu_start_order(",vram-size=0x400000,aperture-base=0x40000000,"
                             "max-maps=8,seg-pages=1", true);
    uint32_t id = qpci_io_readl(g->adma, g->adma_bar, ADMA_REG_MANAGED_ID);

    g_assert_cmphex(id, ==, ADMA_MANAGED_VALID | QPCI_DEVFN(GPU_SLOT, 0));
    g_assert(qpci_io_readl(g->adma, g->adma_bar, ADMA_REG_FEATURES) &
             ADMA_F_IOMMU_SIM);
    /* the core takes the egpu DART's limits */
    g_assert_cmpuint(qpci_io_readl(g->adma, g->adma_bar,
                                   ADMA_REG_LIMIT_MAPS), ==, 8);
    engine_start(g);
    g_assert_cmphex(g->ring_iova, >=, 0x40000000);
    g_assert_cmphex(g->ring_iova, <, 0x40000000 + (3ull << 29));
    fence(g, 0x42, false, 0);
    g_assert_cmpint(GPU_STAT(g, "dart_maps"), ==, 3);
    g_assert_cmpint(ADMA_STAT(g, "live_maps"), ==, 3);
    gpu_stop(g);
}

/* ---- command lines QEMU must refuse */

static int start_qemu(const char *qmp_in, const char *devices, char **err)
{
    g_autofree char *cmd = g_strdup_printf(
        "%s -M q35 -accel qtest -nodefaults -display none -S "
        "-chardev file,id=qmp,path=/dev/null,input-path=%s "
        "-mon chardev=qmp,mode=control %s",
        getenv("QTEST_QEMU_BINARY"), qmp_in, devices);
    g_autofree char *out = NULL;
    int status;

    g_assert(g_spawn_command_line_sync(cmd, &out, err, &status, NULL));
    g_test_message("%s: %s", devices, *err);
    g_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_bad_config(void)
{
    static const char *const cases[][2] = {
        { "-device egpu-pci", "'backend' is required (available: simgpu, "
          "dext)" },
        { "-device egpu-pci,backend=foo", "unknown backend 'foo' "
          "(available: simgpu, dext)" },
        { "-device egpu-pci,backend=dext,host=nosuch", "dext" },
        { "-device egpu-pci,backend=dext,vram-size=0x100000",
          "only apply to backend simgpu" },
        { "-device egpu-pci,backend=simgpu,host=x", "'host'" },
        { "-device egpu-pci,backend=simgpu,map-bars=on",
          "map-bars=on, but BAR0" },
        { "-device egpu-pci,backend=simgpu,vram-size=0x3000", "vram-size" },
        { "-device egpu-pci,backend=simgpu,vram-size=0x4000000000000",
          "vram-size" },
        { "-device egpu-pci,backend=simgpu,msix-vectors=2049",
          "msix-vectors" },
        { "-device egpu-pci,backend=simgpu,fail-ppm=1000001", "fail-ppm" },
        { "-device egpu-pci,backend=simgpu,aperture-base=0x1001",
          "multiples" },
        { "-device egpu-pci,backend=simgpu,max-maps=0x7fffffff", "max-maps" },
        { "-device apple-dma-pci,managed=gpu0,max-bytes=0x100000 "
          "-device egpu-pci,id=gpu0,backend=simgpu",
          "'max-bytes' is not ours to set when managing egpu-pci 'gpu0'" },
        { "-device egpu-pci,id=gpu0,backend=simgpu "
          "-device apple-dma-pci,managed=gpu0,randomize=on",
          "'randomize' is not ours to set when managing egpu-pci 'gpu0'" },
        { "-device egpu-pci,id=gpu0,backend=simgpu "
          "-device apple-dma-pci,managed=gpu0,backend=dartsim",
          "'backend' is not ours to set" },
    };
    static const char quit[] = "{'execute': 'qmp_capabilities'}\n"
                               "{'execute': 'quit'}\n";
    g_autofree char *qmp_in = NULL;
    int fd = g_file_open_tmp("egpu-pci-test-XXXXXX", &qmp_in, NULL);
    size_t i;

    g_assert(fd >= 0);
    g_assert(write(fd, quit, strlen(quit)) == strlen(quit));
    close(fd);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *err = NULL;

        g_assert_cmpint(start_qemu(qmp_in, cases[i][0], &err), ==, 1);
        g_assert(strstr(err, cases[i][1]));
    }
    /* the controls: good lines start (and quit), in both orders */
    for (i = 0; i < 2; i++) {
        g_autofree char *err = NULL;
        const char *adma = "-device apple-dma-pci,managed=gpu0 ";
        g_autofree char *line = g_strdup_printf(
            "%s-device egpu-pci,id=gpu0,backend=simgpu,map-bars=off %s",
            i ? "" : adma, i ? adma : "");

        g_assert_cmpint(start_qemu(qmp_in, line, &err), ==, 0);
    }
    unlink(qmp_in);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/egpu-pci/bars", test_bars);
    qtest_add_func("/egpu-pci/config", test_config);
    qtest_add_func("/egpu-pci/conventional", test_conventional);
    qtest_add_func("/egpu-pci/msix", test_msix);
    qtest_add_func("/egpu-pci/msi", test_msi);
    qtest_add_func("/egpu-pci/intx", test_intx);
    qtest_add_func("/egpu-pci/vram", test_vram);
    qtest_add_func("/egpu-pci/reset", test_reset);
    qtest_add_func("/egpu-pci/dart-fault", test_dart_fault);
    qtest_add_func("/egpu-pci/order", test_order);
    qtest_add_func("/egpu-pci/bad-config", test_bad_config);
    return g_test_run();
}
