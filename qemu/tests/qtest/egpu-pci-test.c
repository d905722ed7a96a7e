/*
 * QTest for egpu-pci over the simulated GPU function (backend=simgpu), with
 * apple-dma-pci mapping through the function's DART: BAR sizing and
 * placement, config space virtualisation, MSI-X table and PBA, interrupts
 * (MSI-X, MSI, INTx) raised by the engine, direct and trapped BARs, reset
 * and FLR, DART faults. Everything is driven through registers and config
 * space. The command lines are egpu-pci-cmdline-test's.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqos/pci-pc.h"
#include "egpu-pci-qtest.h"
#include "standard-headers/linux/pci_regs.h"

/* ---- BARs */

static uint32_t bar_size_bits(Gpu *g, int bar)
{
    uint8_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t v;

    qpci_config_writel(g->t.dev, off, 0xffffffff);
    v = qpci_config_readl(g->t.dev, off);
    qpci_config_writel(g->t.dev, off, 0);
    return v;
}

static void test_bars(void)
{
    Gpu *g = gpu_start("");
    uint32_t hi;

    qpci_config_writew(g->t.dev, PCI_COMMAND, 0);
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
    qpci_config_writel(g->t.dev, PCI_ROM_ADDRESS, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(g->t.dev, PCI_ROM_ADDRESS), ==, 0);

    /* placement: the registers answer where the guest put BAR0 */
    qpci_config_writel(g->t.dev, PCI_BASE_ADDRESS_0, 0xfe000000);
    g_assert_cmphex(qtest_readl(g->t.qts, 0xfe000000), !=, SIMGPU_ID_VALUE);
    qpci_config_writew(g->t.dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(qtest_readl(g->t.qts, 0xfe000000 + SIMGPU_REG_ID), ==,
                    SIMGPU_ID_VALUE);
    g_assert_cmphex(qtest_readl(g->t.qts, 0xfe000000 + SIMGPU_REG_VRAM_LO), ==,
                    SIMGPU_VRAM_DEFAULT);
    gpu_stop(g);

    g = gpu_start(",vram-size=0x800000,msix-vectors=200");
    qpci_config_writew(g->t.dev, PCI_COMMAND, 0);
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
    g_assert_cmphex(qpci_config_readl(g->t.dev, PCI_VENDOR_ID), ==,
                    SIMGPU_PCI_DEVICE_ID << 16 | SIMGPU_PCI_VENDOR_ID);
    qpci_config_writel(g->t.dev, PCI_VENDOR_ID, 0);
    qpci_config_writel(g->t.dev, PCI_CLASS_REVISION, 0);
    g_assert_cmphex(qpci_config_readw(g->t.dev, PCI_VENDOR_ID), ==,
                    SIMGPU_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readl(g->t.dev, PCI_CLASS_REVISION), ==,
                    SIMGPU_PCI_CLASS << 16 | SIMGPU_PCI_REVISION);
    g_assert_cmphex(qpci_config_readb(g->t.dev, PCI_INTERRUPT_PIN), ==, 0);

    /* the capability list, rebuilt in the function's order */
    g_assert_cmphex(qpci_config_readb(g->t.dev, PCI_CAPABILITY_LIST), ==,
                    CAP_PCIE);
    g_assert_cmphex(qpci_config_readw(g->t.dev, CAP_PCIE), ==,
                    CAP_MSI << 8 | PCI_CAP_ID_EXP);
    g_assert_cmphex(qpci_config_readw(g->t.dev, CAP_MSI), ==,
                    CAP_MSIX << 8 | PCI_CAP_ID_MSI);
    g_assert_cmphex(qpci_config_readw(g->t.dev, CAP_MSIX), ==, PCI_CAP_ID_MSIX);

    /* PCIe: an integrated endpoint on q35's root bus, no link */
    flags = qpci_config_readw(g->t.dev, CAP_PCIE + PCI_EXP_FLAGS);
    g_assert_cmphex(flags & PCI_EXP_FLAGS_TYPE, ==, PCI_EXP_TYPE_RC_END << 4);
    g_assert_cmphex(qpci_config_readl(g->t.dev, CAP_PCIE + PCI_EXP_LNKCAP), ==,
                    0);
    g_assert(qpci_config_readl(g->t.dev, CAP_PCIE + PCI_EXP_DEVCAP) &
             PCI_EXP_DEVCAP_FLR);
    /* DevCtl is the function's: its write mask applies, not QEMU's */
    qpci_config_writew(g->t.dev, CAP_PCIE + PCI_EXP_DEVCTL, 0x7fff);
    g_assert_cmphex(qpci_config_readw(g->t.dev, CAP_PCIE + PCI_EXP_DEVCTL), ==,
                    0x78ff);
    qpci_config_writew(g->t.dev, CAP_PCIE + PCI_EXP_DEVCTL, 0);
    g_assert_cmphex(qpci_config_readw(g->t.dev, CAP_PCIE + PCI_EXP_DEVCTL), ==,
                    0);

    /* MSI and MSI-X: QEMU's emulation at the function's layout */
    flags = qpci_config_readw(g->t.dev, CAP_MSI + PCI_MSI_FLAGS);
    g_assert_cmphex(flags, ==, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
    flags = qpci_config_readw(g->t.dev, CAP_MSIX + PCI_MSIX_FLAGS);
    g_assert_cmphex(flags, ==, SIMGPU_MSIX_DEFAULT - 1);
    g_assert_cmphex(qpci_config_readl(g->t.dev, CAP_MSIX + PCI_MSIX_TABLE), ==,
                    SIMGPU_BAR_MSIX);
    g_assert_cmphex(qpci_config_readl(g->t.dev, CAP_MSIX + PCI_MSIX_PBA), ==,
                    SIMGPU_MSIX_PBA_OFF(SIMGPU_MSIX_DEFAULT) |
                    SIMGPU_BAR_MSIX);
    qpci_config_writel(g->t.dev, CAP_MSI + PCI_MSI_ADDRESS_LO, 0x12345678);
    g_assert_cmphex(qpci_config_readl(g->t.dev, CAP_MSI + PCI_MSI_ADDRESS_LO),
                    ==, 0x12345678 & ~3u);

    /* the command register reaches the function: no BME, no DMA */
    gpu_engine_start(g);
    qpci_config_writew(g->t.dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmphex(qpci_config_readw(g->t.dev, PCI_COMMAND), ==,
                    PCI_COMMAND_MEMORY);
    g_assert(gpu_engine_run(g, SIMGPU_OP_NOP, 0, 0, 0, 0, 0, 0, 0) &
             SIMGPU_STATUS_ERROR);
    g_assert_cmpuint(gpu_reg(g, SIMGPU_REG_ERROR), ==, SIMGPU_ERR_NO_BME);
    gpu_reg_write(g, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_RESET);
    qpci_config_writew(g->t.dev, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    gpu_engine_start(g);
    gpu_fence(g, 0x1122334455667788ull, false, 0);
    g_assert_cmpuint(gpu_reg(g, SIMGPU_REG_DONE), ==, 1);
    gpu_stop(g);

    g = gpu_start(",intx=on");
    g_assert_cmphex(qpci_config_readb(g->t.dev, PCI_INTERRUPT_PIN), ==, 1);
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

static bool pba_bit(Gpu *g, uint64_t v)
{
    uint32_t pba = SIMGPU_MSIX_PBA_OFF(SIMGPU_MSIX_DEFAULT);

    return qpci_io_readl(g->t.dev, g->msix, pba + v / 32 * 4) >> (v % 32) & 1;
}

static void test_msix(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    uint32_t v;

    /* the table is QEMU's: written entries read back, vectors masked */
    g_assert_cmpuint(qpci_io_readl(g->t.dev, g->msix,
                                   PCI_MSIX_ENTRY_VECTOR_CTRL), ==, 1);
    for (v = 0; v < 4; v++) {
        gpu_msix_entry(g, v, MSI_GPA + 16 * v, 0xabc0 + v, v == 1);
    }
    g_assert_cmphex(qpci_io_readl(g->t.dev, g->msix, 2 * PCI_MSIX_ENTRY_SIZE +
                                  PCI_MSIX_ENTRY_DATA), ==, 0xabc2);
    qtest_memset(g->t.qts, MSI_GPA, 0, 0x100);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 0);
    gpu_msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 3);   /* the backend knows */
    gpu_engine_start(g);

    /* unmasked: the engine's interrupt lands where the entry points */
    gpu_fence(g, 1, true, 2);
    g_assert(gpu_ram_becomes(g, MSI_GPA + 32, 0xabc2));
    gpu_fence(g, 2, true, 0);
    g_assert(gpu_ram_becomes(g, MSI_GPA, 0xabc0));

    /* masked vector: pending in the PBA, delivered on unmask */
    gpu_fence(g, 3, true, 1);
    g_assert(gpu_wait_for(g, pba_bit, 1));
    g_assert_cmphex(qtest_readl(g->t.qts, MSI_GPA + 16), ==, 0);
    qpci_io_writel(g->t.dev, g->msix, PCI_MSIX_ENTRY_SIZE +
                   PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    g_assert_cmphex(qtest_readl(g->t.qts, MSI_GPA + 16), ==, 0xabc1);
    g_assert(!pba_bit(g, 1));

    /* function mask: the same, for every vector */
    gpu_msix_control(g, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    gpu_fence(g, 4, true, 3);
    g_assert(gpu_wait_for(g, pba_bit, 3));
    g_assert_cmphex(qtest_readl(g->t.qts, MSI_GPA + 48), ==, 0);
    gpu_msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    g_assert_cmphex(qtest_readl(g->t.qts, MSI_GPA + 48), ==, 0xabc3);
    g_assert_cmpint(GPU_STAT(g, "irqs_msix"), ==, 4);

    gpu_msix_control(g, 0);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 0);
    gpu_stop(g);
}

static bool msi_pending(Gpu *g, uint64_t arg)
{
    return qpci_config_readl(g->t.dev, CAP_MSI + PCI_MSI_PENDING_64) & 1;
}

static void test_msi(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    const uint32_t addr = MSI_GPA + 0x100;

    qpci_config_writel(g->t.dev, CAP_MSI + PCI_MSI_ADDRESS_LO, addr);
    qpci_config_writel(g->t.dev, CAP_MSI + PCI_MSI_ADDRESS_HI, 0);
    qpci_config_writew(g->t.dev, CAP_MSI + PCI_MSI_DATA_64, 0x5a5a);
    qpci_config_writew(g->t.dev, CAP_MSI + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 2);
    gpu_engine_start(g);
    qtest_writel(g->t.qts, addr, 0);
    gpu_fence(g, 1, true, 0);
    g_assert(gpu_ram_becomes(g, addr, 0x5a5a));

    /* masked: the pending bit in the capability, then delivery */
    qtest_writel(g->t.qts, addr, 0);
    qpci_config_writel(g->t.dev, CAP_MSI + PCI_MSI_MASK_64, 1);
    gpu_fence(g, 2, true, 0);
    g_assert(gpu_wait_for(g, msi_pending, 0));
    g_assert_cmphex(qtest_readl(g->t.qts, addr), ==, 0);
    qpci_config_writel(g->t.dev, CAP_MSI + PCI_MSI_MASK_64, 0);
    g_assert_cmphex(qtest_readl(g->t.qts, addr), ==, 0x5a5a);
    g_assert(!msi_pending(g, 0));
    g_assert_cmpint(GPU_STAT(g, "irqs_msi"), ==, 2);
    gpu_stop(g);
}

/* The one IOAPIC input (PIRQ pins 16..23) that is high, or -1. */
static int intx_line(Gpu *g)
{
    int n, line = -1;

    for (n = 16; n < 24; n++) {
        if (qtest_get_irq(g->t.qts, n)) {
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

    qtest_irq_intercept_in(g->t.qts, "ioapic");
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 1);
    gpu_engine_start(g);
    g_assert_cmpint(intx_line(g), ==, -1);

    /* a fence asserts the line until IRQ_STATUS is cleared */
    gpu_fence(g, 1, false, 0);
    g_assert(gpu_wait_for(g, intx_high, 1));
    g_assert(qpci_config_readw(g->t.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT);
    gpu_reg_write(g, SIMGPU_REG_IRQ_STATUS, SIMGPU_IRQ_FENCE);
    g_assert(gpu_wait_for(g, intx_high, 0));
    g_assert(!(qpci_config_readw(g->t.dev, PCI_STATUS) & PCI_STATUS_INTERRUPT));

    /* INTx Disable reaches the function: nothing while set, then the line */
    qpci_config_writew(g->t.dev, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
    gpu_fence(g, 2, false, 0);
    g_usleep(50 * 1000);
    g_assert_cmpint(intx_line(g), ==, -1);
    qpci_config_writew(g->t.dev, PCI_COMMAND, cmd);
    g_assert(gpu_wait_for(g, intx_high, 1));
    gpu_reg_write(g, SIMGPU_REG_IRQ_STATUS, SIMGPU_IRQ_FENCE);
    g_assert(gpu_wait_for(g, intx_high, 0));
    g_assert_cmpint(GPU_STAT(g, "intx_changes"), ==, 4);

    /* MSI takes over from INTx */
    qpci_config_writel(g->t.dev, CAP_MSI + PCI_MSI_ADDRESS_LO, MSI_GPA);
    qpci_config_writew(g->t.dev, CAP_MSI + PCI_MSI_DATA_64, 0x77);
    qpci_config_writew(g->t.dev, CAP_MSI + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 2);
    qtest_writel(g->t.qts, MSI_GPA, 0);
    gpu_fence(g, 3, true, 0);
    g_assert(gpu_ram_becomes(g, MSI_GPA, 0x77));
    g_assert_cmpint(intx_line(g), ==, -1);
    gpu_stop(g);
}

/* ---- VRAM: a ram_device region or trapped, the same data either way */

static void check_vram(const char *map_bars, const char *want, const char *not)
{
    g_autofree char *opts = g_strdup_printf(",vram-size=0x%x,map-bars=%s",
                                            SMALL_VRAM, map_bars);
    Gpu *g = gpu_start(opts);
    g_autofree char *mtree = qtest_hmp(g->t.qts, "info mtree");
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
    gpu_engine_start(g);
    /* guest -> VRAM through the BAR, the engine copies VRAM -> guest */
    qtest_memwrite(g->t.qts, g->vram.addr + 0x1000, pat, sizeof(pat));
    qtest_memset(g->t.qts, DATA_GPA, 0, sizeof(buf));
    g_assert_cmphex(gpu_engine_run(g, SIMGPU_OP_COPY, SIMGPU_CMD_SRC_VRAM,
                                   0x1000, g->data_iova, sizeof(pat), 0, 0,
                                   0) & SIMGPU_STATUS_ERROR, ==, 0);
    qtest_memread(g->t.qts, DATA_GPA, buf, sizeof(buf));
    g_assert(!memcmp(buf, pat, sizeof(pat)));
    /* the engine fills VRAM, the guest reads it through the BAR */
    g_assert_cmphex(gpu_engine_run(g, SIMGPU_OP_FILL, SIMGPU_CMD_DST_VRAM, 0,
                               SMALL_VRAM - 0x1000, 0x1000, 0xa5c3f00d, 0, 0) &
                    SIMGPU_STATUS_ERROR, ==, 0);
    g_assert_cmphex(qtest_readl(g->t.qts, g->vram.addr + SMALL_VRAM - 4), ==,
                    0xa5c3f00d);
    g_assert_cmphex(qtest_readq(g->t.qts, g->vram.addr + SMALL_VRAM - 0x1000),
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
    gpu_reg_write(g, SIMGPU_REG_SCRATCH, 0x5eed);
    gpu_msix_entry(g, 0, MSI_GPA, 1, false);
    gpu_msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    gpu_engine_start(g);
    gpu_fence(g, 9, false, 0);
    g_assert_cmpuint(gpu_reg(g, SIMGPU_REG_DONE), ==, 1);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 3);
}

/* The function and its emulated state as after power-on. */
static void check_fresh(Gpu *g)
{
    g_assert_cmphex(qpci_config_readw(g->t.dev, PCI_COMMAND), ==, 0);
    g_assert_cmphex(qpci_config_readw(g->t.dev, CAP_MSIX + PCI_MSIX_FLAGS), ==,
                    SIMGPU_MSIX_DEFAULT - 1);
    g_assert_cmpint(GPU_STAT(g, "irq_mode"), ==, 0);
    gpu_map_bars(g);
    g_assert_cmpuint(qpci_io_readl(g->t.dev, g->msix,
                                   PCI_MSIX_ENTRY_VECTOR_CTRL), ==, 1);
    g_assert_cmphex(gpu_reg(g, SIMGPU_REG_SCRATCH), ==, 0);
    g_assert_cmphex(gpu_reg(g, SIMGPU_REG_STATUS), ==, 0);
    g_assert_cmphex(gpu_reg(g, SIMGPU_REG_RING_SIZE), ==, 0);
    g_assert_cmphex(gpu_reg(g, SIMGPU_REG_DONE), ==, 0);
}

static void test_reset(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    int64_t flrs = GPU_STAT(g, "flrs");         /* power-on reset counts */

    busy_state(g);
    qtest_system_reset(g->t.qts);
    g_assert_cmpint(GPU_STAT(g, "flrs"), ==, flrs + 1);
    check_fresh(g);
    /* apple-dma-pci released its mappings at the function's DART too */
    g_assert_cmpint(GPU_STAT(g, "dart_live_maps"), ==, 0);
    g_assert_cmpint(ADMA_STAT(g, "dart_live_maps"), ==, 0);

    /* a guest FLR: DevCtl "Initiate FLR" */
    busy_state(g);
    qpci_config_writew(g->t.dev, CAP_PCIE + PCI_EXP_DEVCTL,
                       PCI_EXP_DEVCTL_BCR_FLR);
    g_assert_cmphex(qpci_config_readw(g->t.dev, CAP_PCIE + PCI_EXP_DEVCTL) &
                    PCI_EXP_DEVCTL_BCR_FLR, ==, 0);
    g_assert_cmpint(GPU_STAT(g, "flrs"), ==, flrs + 2);
    g_assert_cmpint(GPU_STAT(g, "flrs_requested"), ==, 1);
    check_fresh(g);
    /* an FLR leaves the DART alone: the mappings are apple-dma-pci's */
    g_assert_cmpint(GPU_STAT(g, "dart_live_maps"), ==, 3);
    gpu_stop(g);
}

/*
 * A system_reset while the engine is busy: the function must be stopped
 * before apple-dma-pci releases the mappings at its DART, whatever order
 * the devices were created in (a bus resets its children newest first).
 * Otherwise the engine's next command fetch meets an unmapped IOVA: on a
 * Mac, a host panic.
 */
static void reset_busy(bool adma_last)
{
    Gpu *g = gpu_start_order(",vram-size=0x1000000", adma_last);
    struct simgpu_cmd c = {
        .op = cpu_to_le32(SIMGPU_OP_COPY),
        .flags = cpu_to_le32(SIMGPU_CMD_SRC_VRAM | SIMGPU_CMD_DST_VRAM),
        .src = 0, .dst = cpu_to_le64(0x800000),
        .len = cpu_to_le64(0x400000),
    };
    uint32_t i;

    gpu_engine_start(g);
    for (i = 0; i < RING_SIZE - 1; i++) {
        qtest_memwrite(g->t.qts, RING_GPA + i * sizeof(c), &c, sizeof(c));
    }
    gpu_reg_write(g, SIMGPU_REG_RING_TAIL, RING_SIZE - 1);  /* ~1 GiB */
    qtest_system_reset(g->t.qts);
    g_assert_cmpint(GPU_STAT(g, "dart_faults"), ==, 0);
    g_assert_cmpint(GPU_STAT(g, "errors"), ==, 0);
    g_assert_cmpint(GPU_STAT(g, "dart_live_maps"), ==, 0);
    g_assert_cmpint(ADMA_STAT(g, "faults"), ==, 0);
    gpu_stop(g);
}

static void test_reset_busy(void)
{
    int i;

    reset_busy(false);
    for (i = 0; i < 3; i++) {  /* a race without the fix: give it chances */
        reset_busy(true);
    }
}

/* ---- a DMA to an IOVA nobody mapped */

static void test_dart_fault(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    uint64_t bad;
    uint32_t st;

    gpu_msix_entry(g, 0, MSI_GPA, 0xe0, false);
    gpu_msix_control(g, PCI_MSIX_FLAGS_ENABLE);
    qtest_writel(g->t.qts, MSI_GPA, 0);
    gpu_engine_start(g);
    g_assert_cmpint(ADMA_STAT(g, "dart_live_maps"), ==, 3);
    g_assert_cmpint(GPU_STAT(g, "dart_live_maps"), ==, 3);
    gpu_fence(g, 1, false, 0);
    g_assert_cmpint(ADMA_STAT(g, "faults"), ==, 0);

    bad = g->data_iova + 0x100000;              /* in the aperture, unmapped */
    st = gpu_engine_run(g, SIMGPU_OP_FENCE, 0, 0, 0, 0, 2, bad, 0);
    g_assert(st & SIMGPU_STATUS_ERROR);
    g_assert_cmpuint(gpu_reg(g, SIMGPU_REG_ERROR), ==, SIMGPU_ERR_DART_FAULT);
    g_assert_cmphex(gpu_reg(g, SIMGPU_REG_FAULT_LO) |
                    (uint64_t)gpu_reg(g, SIMGPU_REG_FAULT_HI) << 32, ==, bad);
    g_assert(gpu_reg(g, SIMGPU_REG_IRQ_STATUS) & SIMGPU_IRQ_ERROR);
    g_assert_cmpuint(gpu_reg(g, SIMGPU_REG_RING_HEAD), ==, 1);  /* stopped */
    /* the error interrupt (vector 0) */
    g_assert(gpu_ram_becomes(g, MSI_GPA, 0xe0));
    g_assert_cmpint(GPU_STAT(g, "dart_faults"), ==, 1);
    g_assert_cmpint(GPU_STAT(g, "faults"), ==, 1);
    g_assert_cmpint(GPU_STAT(g, "errors"), ==, 1);
    /* apple-dma-pci shows the egpu's DART */
    g_assert_cmpint(ADMA_STAT(g, "faults"), ==, 1);
    g_assert_cmpint(ADMA_STAT(g, "translations"), ==,
                    GPU_STAT(g, "translations"));
    g_assert_cmphex(qtest_readq(g->t.qts, FENCE_GPA), ==, 1);
    gpu_stop(g);
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
    qtest_add_func("/egpu-pci/reset-busy", test_reset_busy);
    qtest_add_func("/egpu-pci/dart-fault", test_dart_fault);
    return g_test_run();
}
