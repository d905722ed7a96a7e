/*
 * QTest for apple-dma-pci's gate (ADMA_REG_CONTROL, IOVA_END) over an
 * emulated device (edu) and a passed-through one (egpu-pci), and for what
 * its configuration may not do: sit under a vIOMMU, lay its MSI window
 * over RAM or its aperture, let arm virt's GIC frames bypass the DART,
 * keep mappings past the managed device's unplug or counters past reset.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqos/generic-pcihost.h"
#include "libqos/pci-pc.h"
#include "hw/misc/apple-dma/dartsim.h"
#include "standard-headers/linux/pci_regs.h"
#include "egpu-pci-qtest.h"

#define EDU_BUF         0x40000
#define EDU_DMA_RUN     1
#define EDU_DMA_TO_PCI  2
#define APERTURE        ",aperture-base=0x8000000,aperture-size=0x1000000"
#define DATA            0x400000

static int64_t adma_stat(AdmaQTest *a, const char *name)
{
    return dev_stat(a->qts, ADMA_QT_PATH, name);
}

static uint64_t iova_end(AdmaQTest *a)
{
    return adma_reg(a, ADMA_REG_IOVA_END_LO) |
           (uint64_t)adma_reg(a, ADMA_REG_IOVA_END_HI) << 32;
}

/* edu copies cnt bytes between its buffer and DMA addresses */
static void edu_dma(QTestState *qts, QPCIDevice *dev, QPCIBar edu,
                    uint64_t src, uint64_t dst, uint32_t cnt, bool to_pci)
{
    qpci_io_writeq(dev, edu, 0x80, src);
    qpci_io_writeq(dev, edu, 0x88, dst);
    qpci_io_writeq(dev, edu, 0x90, cnt);
    qpci_io_writeq(dev, edu, 0x98, EDU_DMA_RUN | (to_pci ? EDU_DMA_TO_PCI : 0));
    qtest_clock_step(qts, 200 * 1000 * 1000);
    g_assert_cmphex(qpci_io_readq(dev, edu, 0x98) & EDU_DMA_RUN, ==, 0);
}

static AdmaQTest *edu_start(const char *opts, QPCIBar *edu)
{
    AdmaQTest *a = g_new0(AdmaQTest, 1);
    g_autofree char *o = g_strdup_printf(",managed=edu0%s", opts);
    g_autofree char *d = g_strdup_printf("-device edu,id=edu0,addr=%x.0",
                                         ADMA_QT_DEV_SLOT);

    adma_boot(a, o, d, false);
    adma_enable(a);
    qpci_device_enable(a->dev);
    *edu = qpci_iomap(a->dev, 0, NULL);
    return a;
}

static void edu_stop(AdmaQTest *a)
{
    adma_quit(a);
    g_free(a);
}

/* edu reads 0x100 bytes at iova: did the gate refuse it? */
static bool edu_read_gated(AdmaQTest *a, QPCIBar edu, uint64_t iova)
{
    int64_t gated = adma_stat(a, "gated"), faults = adma_stat(a, "faults");

    edu_dma(a->qts, a->dev, edu, iova, EDU_BUF, 0x100, false);
    g_assert_cmpint(adma_stat(a, "faults"), ==, faults);
    return adma_stat(a, "gated") > gated;
}

/* ---- the gate over an emulated managed device */

static void test_gate(void)
{
    QPCIBar edu;
    AdmaQTest *a = edu_start(APERTURE, &edu);
    uint8_t pat[0x100], buf[0x100];
    uint64_t ia, ib, h;
    size_t i;

    g_assert(adma_reg(a, ADMA_REG_FEATURES) & ADMA_F_GATE);
    g_assert_cmphex(iova_end(a), ==, 0x9000000);
    /* closed from reset: DMA to a mapped IOVA is refused, and counted */
    g_assert_cmphex(adma_reg(a, ADMA_REG_CONTROL), ==, 0);
    h = adma_map(a, DATA, sizeof(pat), ADMA_DIR_TO_DEVICE, &ia);
    adma_map(a, DATA + 0x10000, sizeof(pat), ADMA_DIR_FROM_DEVICE, &ib);
    g_assert(edu_read_gated(a, edu, ia));
    g_assert_cmpint(adma_stat(a, "translations"), ==, 0);

    /* open: the mapped IOVAs work, both ways */
    adma_control(a, ADMA_CTRL_DMA_ON);
    g_assert_cmphex(adma_reg(a, ADMA_REG_CONTROL), ==, ADMA_CTRL_DMA_ON);
    for (i = 0; i < sizeof(pat); i++) {
        pat[i] = i ^ 0x5a;
    }
    qtest_memwrite(a->qts, DATA, pat, sizeof(pat));
    g_assert(!edu_read_gated(a, edu, ia));
    edu_dma(a->qts, a->dev, edu, EDU_BUF, ib, sizeof(pat), true);
    qtest_memread(a->qts, DATA + 0x10000, buf, sizeof(buf));
    g_assert(!memcmp(buf, pat, sizeof(pat)));

    /* closed again mid-run: refused, the mappings stay */
    adma_control(a, 0);
    g_assert(edu_read_gated(a, edu, ia));
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, 2);
    /* unknown bits: the write is ignored whole */
    adma_control(a, ADMA_CTRL_DMA_ON | 0x80);
    g_assert_cmphex(adma_reg(a, ADMA_REG_CONTROL), ==, 0);

    /* RELEASE_ALL closes the gate and releases everything */
    adma_control(a, ADMA_CTRL_DMA_ON);
    adma_control(a, ADMA_CTRL_RELEASE_ALL);
    g_assert_cmphex(adma_reg(a, ADMA_REG_CONTROL), ==, 0);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, 0);
    g_assert_cmpint(adma_stat(a, "dart_live_maps"), ==, 0);
    g_assert_cmpuint(adma_one(a, adma_unmap_req(h), NULL), ==,
                     ADMA_S_BAD_HANDLE);
    /* with DMA_ON: released, then open again */
    adma_map(a, DATA, sizeof(pat), ADMA_DIR_TO_DEVICE, &ia);
    adma_control(a, ADMA_CTRL_RELEASE_ALL | ADMA_CTRL_DMA_ON);
    g_assert_cmphex(adma_reg(a, ADMA_REG_CONTROL), ==, ADMA_CTRL_DMA_ON);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, 0);

    /* a reset closes it */
    qtest_system_reset(a->qts);
    adma_enable(a);
    g_assert_cmphex(adma_reg(a, ADMA_REG_CONTROL), ==, 0);
    edu_stop(a);

    /* gate=off: protocol 1.0, DMA from the start, no CONTROL */
    a = edu_start(APERTURE ",gate=off", &edu);
    g_assert_false(adma_reg(a, ADMA_REG_FEATURES) & ADMA_F_GATE);
    adma_map(a, DATA, sizeof(pat), ADMA_DIR_TO_DEVICE, &ia);
    g_assert(!edu_read_gated(a, edu, ia));
    g_assert_cmpint(adma_stat(a, "translations"), >, 0);
    adma_control(a, ADMA_CTRL_RELEASE_ALL);
    g_assert_cmphex(adma_reg(a, ADMA_REG_CONTROL), ==, 0);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, 1);
    edu_stop(a);

    /* IOVA_END with the simulator's default aperture */
    a = edu_start("", &edu);
    g_assert_cmphex(iova_end(a), ==,
                    DARTSIM_DEFAULT_BASE + ADMA_CORE_DEFAULT_MAX_BYTES);
    edu_stop(a);
}

/* ---- the gate over a passed-through function: its bus mastering */

/* A FENCE through the engine from a fresh ring; returns REG_ERROR. */
static uint32_t gpu_fence_error(Gpu *g, uint64_t value)
{
    gpu_reg_write(g, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_RESET);
    gpu_reg_write(g, SIMGPU_REG_RING_LO, (uint32_t)g->ring_iova);
    gpu_reg_write(g, SIMGPU_REG_RING_HI, g->ring_iova >> 32);
    gpu_reg_write(g, SIMGPU_REG_RING_SIZE, RING_SIZE);
    gpu_reg_write(g, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_ENABLE);
    g->tail = 0;
    gpu_engine_run(g, SIMGPU_OP_FENCE, 0, 0, 0, 0, value, g->fence_iova, 0);
    return gpu_reg(g, SIMGPU_REG_ERROR);
}

static void gate_egpu(bool adma_last)
{
    Gpu *g = gpu_start_order(",vram-size=0x400000,aperture-base=0x40000000",
                             adma_last);

    g_assert(adma_reg(&g->t, ADMA_REG_FEATURES) & ADMA_F_GATE);
    /* simgpu's DART: its aperture, max-bytes (1.5 GiB) long */
    g_assert_cmphex(iova_end(&g->t), ==, 0x40000000 + (3ull << 29));
    g_assert_cmpint(GPU_STAT(g, "bus_master_held"), ==, 1);
    /* the guest enabled bus mastering (gpu_map_bars): withheld */
    g_assert(qpci_config_readw(g->t.dev, PCI_COMMAND) & PCI_COMMAND_MASTER);
    gpu_engine_start(g);                /* maps, opens the gate */
    adma_control(&g->t, 0);
    qtest_writeq(g->t.qts, FENCE_GPA, 0);
    g_assert_cmpuint(gpu_fence_error(g, 7), ==, SIMGPU_ERR_NO_BME);
    g_assert_cmphex(qtest_readq(g->t.qts, FENCE_GPA), ==, 0);

    /* open: the guest's bus mastering reaches the function */
    adma_control(&g->t, ADMA_CTRL_DMA_ON);
    g_assert_cmpint(GPU_STAT(g, "bus_master_held"), ==, 0);
    g_assert_cmpuint(gpu_fence_error(g, 8), ==, SIMGPU_ERR_NONE);
    g_assert_cmphex(qtest_readq(g->t.qts, FENCE_GPA), ==, 8);

    /* a guest write while closed does not set it at the function */
    adma_control(&g->t, 0);
    qpci_config_writew(g->t.dev, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_cmpuint(gpu_fence_error(g, 9), ==, SIMGPU_ERR_NO_BME);
    g_assert_cmphex(qtest_readq(g->t.qts, FENCE_GPA), ==, 8);
    g_assert_cmpint(GPU_STAT(g, "dart_faults"), ==, 0);

    /* a reset closes it */
    adma_control(&g->t, ADMA_CTRL_DMA_ON);
    qtest_system_reset(g->t.qts);
    gpu_map_bars(g);
    g_assert_cmpint(GPU_STAT(g, "bus_master_held"), ==, 1);
    gpu_stop(g);
}

static void test_gate_egpu(void)
{
    gate_egpu(false);
    gate_egpu(true);
}

/* ---- command lines QEMU must refuse */

static void test_bad_config(void)
{
    static const char *const bridge =
        "-blockdev driver=null-co,node-name=d0 "
        "-device pci-bridge,id=br,chassis_nr=1 "
        "-device apple-dma-pci,bus=br,addr=1.0,managed=nvme0 "
        "-device nvme,bus=br,addr=2.0,id=nvme0,serial=a,drive=d0";
    static const char *const edu = "-device edu,id=edu0";
    const char *const cases[][3] = {
        /* a vIOMMU above apple-dma-pci's bus: its siblings bypass it */
        { "-device intel-iommu", bridge, "has an IOMMU" },
        { bridge, "-device intel-iommu", "has an IOMMU" },
        /* one that took over apple-dma-pci's own bus after it */
        { "-device apple-dma-pci,managed=edu0", "-device intel-iommu",
          "was set up on PCI bus 'pcie.0' after apple-dma-pci" },
        /* (stepping aside for an egpu-pci must not drop that IOMMU) */
        { "-device apple-dma-pci,managed=gpu0 -device egpu-pci,id=gpu0,"
          "backend=simgpu,map-bars=off", "-device intel-iommu",
          "was set up on PCI bus 'pcie.0' after apple-dma-pci" },
        /* MSI window over RAM, aperture over the MSI window */
        { "-device apple-dma-pci,managed=edu0,msi-base=0x100000,"
          "msi-size=0x1000", edu, "covers RAM at 0x100000" },
        { "-device apple-dma-pci,managed=edu0,aperture-base=0xfec00000,"
          "aperture-size=0x400000", edu, "overlaps the IOVA aperture" },
        { "-device apple-dma-pci,managed=edu0,msi-base=0xfffffffffffff000,"
          "msi-size=0x2000", edu, "wraps" },
    };
    g_autofree char *qmp_in = cmdline_quit_file();
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *line = g_strdup_printf("%s %s", cases[i][0],
                                                cases[i][1]);

        cmdline_expect_refusal(qmp_in, line, cases[i][2]);
    }
    /* the controls start (and quit) */
    for (i = 0; i < 4; i++) {
        static const char *const good[] = {
            "-device pci-bridge,id=br,chassis_nr=1 "
            "-blockdev driver=null-co,node-name=d0 "
            "-device apple-dma-pci,bus=br,addr=1.0,managed=nvme0 "
            "-device nvme,bus=br,addr=2.0,id=nvme0,serial=a,drive=d0",
            "-device apple-dma-pci,managed=edu0,msi-base=0xfee00000,"
            "msi-size=0x1000 -device edu,id=edu0",
            "-device apple-dma-pci,managed=gpu0,gate=off "
            "-device egpu-pci,id=gpu0,backend=simgpu,map-bars=off",
            /* an egpu-pci first needs no IOMMU hook: a vIOMMU is fine */
            "-device intel-iommu -device egpu-pci,id=gpu0,backend=simgpu,"
            "map-bars=off -device apple-dma-pci,managed=gpu0",
        };
        g_autofree char *err = NULL;

        g_assert_cmpint(cmdline_exit_status(qmp_in, good[i], &err), ==, 0);
    }
    unlink(qmp_in);
}

/* ---- arm virt: only the MSI doorbells bypass the DART */

typedef struct ArmDst {
    uint64_t addr;
    bool bypass;            /* reaches system memory around the DART */
} ArmDst;

/*
 * edu DMA-writes 4 bytes to each address: a doorbell goes around the DART,
 * anything else is translated (and faults). Only frames that exist count:
 * where system memory has nothing, the window shows the DART through.
 */
static void arm_msi_window(const char *machine, const ArmDst *dst, size_t n)
{
    g_autofree char *dir = g_path_get_dirname(getenv("QTEST_QEMU_BINARY"));
    g_autofree char *arm = g_build_filename(dir, "qemu-system-aarch64", NULL);
    g_autofree char *args = g_strdup_printf(
        "-M %s -cpu max -m 256M -nodefaults -device apple-dma-pci,id=adma0,"
        "addr=4.0,managed=edu0 -device edu,id=edu0,addr=5.0", machine);
    QGenericPCIBus bus;
    QTestState *qts;
    QPCIDevice *adma, *edu;
    QPCIBar regs, bar;
    size_t i;

    g_assert(g_file_test(arm, G_FILE_TEST_IS_EXECUTABLE));
    g_setenv("ADMA_QTEST_AARCH64", arm, true);
    qts = qtest_init_with_env("ADMA_QTEST_AARCH64", args, true);
    qpci_init_generic(&bus, qts, NULL, false);
    adma = qpci_device_find(&bus.bus, QPCI_DEVFN(4, 0));
    edu = qpci_device_find(&bus.bus, QPCI_DEVFN(5, 0));
    g_assert(adma && edu);
    qpci_device_enable(adma);
    qpci_device_enable(edu);
    regs = qpci_iomap(adma, 0, NULL);
    bar = qpci_iomap(edu, 0, NULL);
    qpci_io_writel(adma, regs, ADMA_REG_CONTROL, ADMA_CTRL_DMA_ON);

    for (i = 0; i < n; i++) {
        int64_t faults = dev_stat(qts, ADMA_QT_PATH, "faults");

        g_test_message("%s: DMA write to 0x%" PRIx64, machine, dst[i].addr);
        edu_dma(qts, edu, bar, EDU_BUF, dst[i].addr, 4, true);
        g_assert_cmpint(dev_stat(qts, ADMA_QT_PATH, "faults"), ==,
                        faults + !dst[i].bypass);
    }
    g_free(adma);
    g_free(edu);
    qtest_quit(qts);
}

static void test_arm_msi_window(void)
{
    static const ArmDst v2[] = {
        { 0x08020040, true },           /* GICv2m MSI_SETSPI_NS */
        { 0x08030000, false },          /* GICH */
        { 0x08040000, false },          /* GICV */
        { 0x08010000, false },          /* GICC */
    };
    static const ArmDst v3[] = {
        { 0x08090040, true },           /* GITS_TRANSLATER */
        { 0x08080000, false },          /* ITS control frame */
        { 0x08000000, false },          /* distributor */
    };

    arm_msi_window("virt,gic-version=2,virtualization=on", v2,
                   ARRAY_SIZE(v2));
    arm_msi_window("virt,gic-version=3", v3, ARRAY_SIZE(v3));
}

/* ---- the managed device unplugged: its mappings go with it */

static void test_unplug(void)
{
    AdmaQTest a = { 0 };
    g_autofree char *addr = g_strdup_printf("%x.0", ADMA_QT_DEV_SLOT);
    uint64_t h;

    a.qts = qtest_initf("-M pc -nodefaults -m 256M "
                        "-blockdev driver=null-co,node-name=d0 "
                        "-device apple-dma-pci,id=adma0,addr=%x.0,"
                        "managed=nvme0 -device nvme,id=nvme0,addr=%x.0,"
                        "serial=a,drive=d0", ADMA_QT_SLOT, ADMA_QT_DEV_SLOT);
    a.bus = qpci_new_pc(a.qts, NULL);
    a.adma = qpci_device_find(a.bus, QPCI_DEVFN(ADMA_QT_SLOT, 0));
    g_assert(a.adma);
    adma_enable(&a);
    adma_control(&a, ADMA_CTRL_DMA_ON);
    h = adma_map(&a, DATA, 0x1000, ADMA_DIR_BIDIRECTIONAL, NULL);
    adma_map(&a, DATA + 0x4000, 0x1000, ADMA_DIR_TO_DEVICE, NULL);
    g_assert_cmpuint(adma_reg(&a, ADMA_REG_LIVE_MAPS), ==, 2);

    qpci_unplug_acpi_device_test(a.qts, "nvme0", ADMA_QT_DEV_SLOT);
    g_assert_cmpuint(adma_reg(&a, ADMA_REG_LIVE_MAPS), ==, 0);
    g_assert_cmpint(dev_stat(a.qts, ADMA_QT_PATH, "dart_live_maps"), ==, 0);
    g_assert_cmphex(adma_reg(&a, ADMA_REG_CONTROL), ==, 0);
    g_assert_cmpuint(adma_one(&a, adma_unmap_req(h), NULL), ==,
                     ADMA_S_BAD_HANDLE);

    /* a new device with the same id starts with nothing mapped */
    qtest_qmp_device_add(a.qts, "nvme", "nvme0", "{'addr': %s, "
                         "'serial': 'b', 'drive': 'd0'}", addr);
    g_assert_cmpuint(adma_reg(&a, ADMA_REG_LIVE_MAPS), ==, 0);
    g_assert_cmphex(adma_reg(&a, ADMA_REG_MANAGED_ID), ==,
                    ADMA_MANAGED_VALID | QPCI_DEVFN(ADMA_QT_DEV_SLOT, 0));
    adma_map(&a, DATA, 0x1000, ADMA_DIR_BIDIRECTIONAL, NULL);
    g_assert_cmpuint(adma_reg(&a, ADMA_REG_LIVE_MAPS), ==, 1);
    g_free(a.adma);
    qpci_free_pc(a.bus);
    qtest_quit(a.qts);
}

/*
 * A managed egpu-pci behind a PCIe root port the guest powers off: QEMU
 * unrealizes it although it is not hot-pluggable. Its mappings go first,
 * through its DART, and apple-dma-pci keeps no pointer to it.
 */
static void test_egpu_gone(void)
{
    AdmaQTest a = { 0 };
    QPCIDevice *rp;
    QDict *r;
    uint8_t exp;
    uint16_t ctl;

    /* native PCIe hot-plug: the slot's own power control, not ACPI's */
    a.qts = qtest_initf("-M q35 -nodefaults -m 256M -global "
                        "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off "
                        "-device pcie-root-port,id=rp0,addr=6.0,chassis=1 "
                        "-device egpu-pci,id=gpu0,bus=rp0,backend=simgpu,"
                        "vram-size=4194304 "
                        "-device apple-dma-pci,id=adma0,addr=%x.0,"
                        "managed=gpu0", ADMA_QT_SLOT);
    a.bus = qpci_new_pc(a.qts, NULL);
    a.adma = qpci_device_find(a.bus, QPCI_DEVFN(ADMA_QT_SLOT, 0));
    rp = qpci_device_find(a.bus, QPCI_DEVFN(6, 0));
    g_assert(a.adma && rp);
    adma_enable(&a);
    adma_control(&a, ADMA_CTRL_DMA_ON);
    adma_map(&a, DATA, 0x1000, ADMA_DIR_BIDIRECTIONAL, NULL);
    adma_map(&a, DATA + 0x4000, 0x8000, ADMA_DIR_TO_DEVICE, NULL);
    g_assert_cmpuint(adma_reg(&a, ADMA_REG_LIVE_MAPS), ==, 2);
    g_assert_cmpint(dev_stat(a.qts, ADMA_QT_PATH, "dart_live_maps"), ==, 2);

    /* power controller off, power indicator off: the slot is emptied */
    exp = qpci_find_capability(rp, PCI_CAP_ID_EXP, 0);
    g_assert(exp);
    ctl = qpci_config_readw(rp, exp + PCI_EXP_SLTCTL);
    ctl &= ~(PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC);
    qpci_config_writew(rp, exp + PCI_EXP_SLTCTL,
                       ctl | PCI_EXP_SLTCTL_PWR_OFF |
                       PCI_EXP_SLTCTL_PWR_IND_OFF);
    r = qtest_qmp(a.qts, "{'execute': 'qom-get', 'arguments': {"
                  "'path': '/machine/peripheral/gpu0', 'property': 'type'}}");
    g_assert(qdict_haskey(r, "error"));         /* gone */
    qobject_unref(r);

    g_assert_cmpuint(adma_reg(&a, ADMA_REG_LIVE_MAPS), ==, 0);
    g_assert_cmphex(adma_reg(&a, ADMA_REG_CONTROL), ==, 0);
    /* no DART to map through any more: the block is left unanswered */
    {
        struct adma_req req = adma_map_req(DATA, 0x1000,
                                           ADMA_DIR_TO_DEVICE);
        struct adma_resp resp;

        qtest_memwrite(a.qts, ADMA_QT_REQ_GPA, &req, sizeof(req));
        qtest_memset(a.qts, ADMA_QT_RESP_GPA, 0, sizeof(resp));
        adma_write_cmd(&a, ADMA_QT_CMD_GPA, ADMA_CMD_MAGIC,
                       ADMA_VERSION_MAJOR, 1, ADMA_QT_REQ_GPA);
        adma_ring(&a, ADMA_QT_CMD_GPA, false);
        g_assert_cmpuint(adma_read_cmd(&a).status, ==, ADMA_S_PENDING);
    }
    /* stats must not reach into the function that went */
    g_assert_cmpint(dev_stat(a.qts, ADMA_QT_PATH, "live_maps"), ==, 0);
    g_free(rp);
    g_free(a.adma);
    qpci_free_pc(a.bus);
    qtest_quit(a.qts);
}

/* ---- counters a reset must clear */

static void test_reset_counters(void)
{
    QPCIBar edu;
    AdmaQTest *a = edu_start("", &edu);
    uint64_t h;

    adma_ring(a, 256 * 1024 * 1024 + 0x1000, true);     /* above RAM */
    h = adma_map(a, DATA, 0x1000, ADMA_DIR_TO_DEVICE, NULL);
    adma_unmap(a, h, DATA, 0x1000);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_BAD_BATCHES), ==, 1);
    g_assert_cmpint(adma_stat(a, "peak_maps"), ==, 1);
    /* RELEASE_ALL is not a reset: the counters stay */
    adma_control(a, ADMA_CTRL_RELEASE_ALL);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_BAD_BATCHES), ==, 1);
    g_assert_cmpint(adma_stat(a, "peak_maps"), ==, 1);

    qtest_system_reset(a->qts);
    adma_enable(a);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_BAD_BATCHES), ==, 0);
    g_assert_cmpint(adma_stat(a, "peak_maps"), ==, 0);
    g_assert_cmpint(adma_stat(a, "peak_bytes"), ==, 0);
    edu_stop(a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/apple-dma/config/gate", test_gate);
    qtest_add_func("/apple-dma/config/gate-egpu", test_gate_egpu);
    qtest_add_func("/apple-dma/config/bad-config", test_bad_config);
    qtest_add_func("/apple-dma/config/arm-msi-window", test_arm_msi_window);
    qtest_add_func("/apple-dma/config/unplug", test_unplug);
    qtest_add_func("/apple-dma/config/egpu-gone", test_egpu_gone);
    qtest_add_func("/apple-dma/config/reset-counters", test_reset_counters);
    return g_test_run();
}
