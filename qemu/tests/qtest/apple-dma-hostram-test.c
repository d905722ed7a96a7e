/*
 * QTest for what an apple-dma-pci mapping may reach (apple-dma-hostram.c):
 * the machine's RAM as it was when mapped, whatever the guest does to its
 * physical map afterwards; never a device's memory, never past the end of
 * RAM in a partly-RAM DART page; the guest's arrays only in machine RAM and
 * only while apple-dma-pci may master the bus. QEMU's edu device plays the
 * managed device, or egpu-pci's simulated GPU (its engine DMA).
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "qobject/qlist.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "egpu-pci-qtest.h"

#define EDU_SLOT        ADMA_QT_DEV_SLOT
#define EDU_GPA         0x400000
/* edu's DMA engine sees 28-bit addresses: keep the IOVAs below 256 MiB */
#define ADMA_OPTS       ",managed=edu0,backend=dartsim," \
                        "aperture-base=0x8000000,aperture-size=0x1000000"
#define EDU_BUF         0x40000
#define EDU_DMA_RUN     1
#define EDU_DMA_TO_PCI  2

/* q35's SMRAM register (host bridge 00:00.0) and its legacy window */
#define Q35_SMRAM       0x9d
#define SMRAM_CLOSED    0x02            /* C_BASE_SEG: window is PCI space */
#define SMRAM_OPEN      0x42            /* D_OPEN: window is RAM */
#define SMRAM_WINDOW    0xa0000

/* q35 with apple-dma-pci managing edu, machine options and extra devices */
static AdmaQTest *hr_start(const char *machine, const char *extra)
{
    AdmaQTest *t = g_new0(AdmaQTest, 1);

    t->qts = qtest_initf("-M q35 -nodefaults %s "
                         "-device apple-dma-pci,id=adma0,addr=%x.0" ADMA_OPTS
                         " -device edu,id=edu0,addr=%x.0 %s", machine,
                         ADMA_QT_SLOT, EDU_SLOT, extra);
    t->bus = qpci_new_pc(t->qts, NULL);
    t->adma = qpci_device_find(t->bus, QPCI_DEVFN(ADMA_QT_SLOT, 0));
    t->dev = qpci_device_find(t->bus, QPCI_DEVFN(EDU_SLOT, 0));
    g_assert(t->adma && t->dev);
    adma_enable(t);
    /* open the gate to the managed device's DMA (protocol 1.1) */
    qpci_io_writel(t->adma, t->bar, ADMA_REG_CONTROL, ADMA_CTRL_DMA_ON);
    return t;
}

static void hr_stop(AdmaQTest *t)
{
    adma_quit(t);
    g_free(t);
}

static uint32_t hr_map_status(AdmaQTest *t, uint64_t gpa, uint64_t len)
{
    return adma_one(t, adma_map_req(gpa, len, ADMA_DIR_BIDIRECTIONAL), NULL);
}

/* edu copies cnt bytes between its buffer and DMA addresses, 100 ms later */
static void edu_dma(AdmaQTest *t, QPCIBar edu, uint64_t src, uint64_t dst,
                    uint32_t cnt, bool to_pci)
{
    qpci_io_writeq(t->dev, edu, 0x80, src);
    qpci_io_writeq(t->dev, edu, 0x88, dst);
    qpci_io_writeq(t->dev, edu, 0x90, cnt);
    qpci_io_writeq(t->dev, edu, 0x98,
                   EDU_DMA_RUN | (to_pci ? EDU_DMA_TO_PCI : 0));
    qtest_clock_step(t->qts, 200 * 1000 * 1000);
    g_assert_cmphex(qpci_io_readq(t->dev, edu, 0x98) & EDU_DMA_RUN, ==, 0);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] = seed + i * 13;
    }
}

/*
 * Item 3: map RAM, then let the guest put something else at that GPA (q35
 * closes SMRAM: the legacy window becomes PCI space, where apple-dma-pci's
 * own registers now sit). The managed device must keep reaching the RAM it
 * was given - reads and writes - not the registers.
 */
static void test_remap(void)
{
    AdmaQTest *t = hr_start("-m 256M", "");
    QPCIDevice *mch = qpci_device_find(t->bus, 0);
    QPCIBar edu;
    uint8_t ram[0x1000], other[0x1000], buf[0x1000];
    uint64_t iw, id, ic;

    qpci_device_enable(t->dev);
    edu = qpci_iomap(t->dev, 0, NULL);
    fill(ram, sizeof(ram), 1);
    fill(other, sizeof(other), 0x80);

    qpci_config_writeb(mch, Q35_SMRAM, SMRAM_OPEN);
    qtest_memwrite(t->qts, SMRAM_WINDOW, ram, sizeof(ram));
    adma_map(t, SMRAM_WINDOW, sizeof(ram), ADMA_DIR_BIDIRECTIONAL, &iw);
    adma_map(t, EDU_GPA, sizeof(buf), ADMA_DIR_FROM_DEVICE, &id);
    qtest_memwrite(t->qts, EDU_GPA + 0x10000, other, sizeof(other));
    adma_map(t, EDU_GPA + 0x10000, sizeof(other), ADMA_DIR_TO_DEVICE, &ic);

    /* the window is PCI space now, and our BAR0 sits there */
    qpci_config_writeb(mch, Q35_SMRAM, SMRAM_CLOSED);
    qpci_config_writel(t->adma, PCI_BASE_ADDRESS_0, SMRAM_WINDOW);
    g_assert_cmphex(qtest_readl(t->qts, SMRAM_WINDOW + ADMA_REG_MAGIC), ==,
                    ADMA_MAGIC_VALUE);

    /* read through the mapping: the RAM's bytes, not the registers */
    qtest_memset(t->qts, EDU_GPA, 0, sizeof(buf));
    edu_dma(t, edu, iw, EDU_BUF, sizeof(ram), false);
    edu_dma(t, edu, EDU_BUF, id, sizeof(ram), true);
    qtest_memread(t->qts, EDU_GPA, buf, sizeof(buf));
    g_assert(!memcmp(buf, ram, sizeof(ram)));

    /* write through it: lands in that RAM (seen once SMRAM is open again) */
    edu_dma(t, edu, ic, EDU_BUF, sizeof(other), false);
    edu_dma(t, edu, EDU_BUF, iw, sizeof(other), true);
    g_assert_cmphex(qtest_readl(t->qts, SMRAM_WINDOW + ADMA_REG_MAGIC), ==,
                    ADMA_MAGIC_VALUE);
    qpci_config_writeb(mch, Q35_SMRAM, SMRAM_OPEN);
    qtest_memread(t->qts, SMRAM_WINDOW, buf, sizeof(buf));
    g_assert(!memcmp(buf, other, sizeof(other)));
    g_assert_cmpint(dev_stat(t->qts, ADMA_QT_PATH, "faults"), ==, 0);
    g_free(mch);
    hr_stop(t);
}

/*
 * The same for the simulated GPU's engine, whose DMA goes through its own
 * DART (apple-dma-pci maps into it): it must read and write the RAM it was
 * given after the guest's remap, not fail on the registers there now.
 */
static void test_remap_engine(void)
{
    Gpu *g = gpu_start(",vram-size=0x400000");
    QPCIDevice *mch = qpci_device_find(g->t.bus, 0);
    uint8_t ram[0x1000], buf[0x1000];
    uint64_t iova;

    gpu_map_bars(g);
    gpu_engine_start(g);
    fill(ram, sizeof(ram), 3);
    qpci_config_writeb(mch, Q35_SMRAM, SMRAM_OPEN);
    qtest_memwrite(g->t.qts, SMRAM_WINDOW, ram, sizeof(ram));
    adma_map(&g->t, SMRAM_WINDOW, sizeof(ram), ADMA_DIR_BIDIRECTIONAL, &iova);

    qpci_config_writeb(mch, Q35_SMRAM, SMRAM_CLOSED);
    qpci_config_writel(g->t.adma, PCI_BASE_ADDRESS_0, SMRAM_WINDOW);
    g_assert_cmphex(qtest_readl(g->t.qts, SMRAM_WINDOW + ADMA_REG_MAGIC), ==,
                    ADMA_MAGIC_VALUE);

    g_assert_cmphex(gpu_engine_run(g, SIMGPU_OP_COPY, SIMGPU_CMD_DST_VRAM,
                                   iova, 0, sizeof(ram), 0, 0, 0) &
                    SIMGPU_STATUS_ERROR, ==, 0);
    qtest_memread(g->t.qts, g->vram.addr, buf, sizeof(buf));
    g_assert(!memcmp(buf, ram, sizeof(ram)));
    g_assert_cmphex(gpu_engine_run(g, SIMGPU_OP_FILL, 0, 0, iova,
                                   sizeof(ram), 0x5aa5c33c, 0, 0) &
                    SIMGPU_STATUS_ERROR, ==, 0);
    qpci_config_writeb(mch, Q35_SMRAM, SMRAM_OPEN);
    g_assert_cmphex(qtest_readl(g->t.qts, SMRAM_WINDOW + 0xffc), ==,
                    0x5aa5c33c);
    g_assert_cmpint(ADMA_STAT(g, "faults"), ==, 0);
    g_free(mch);
    gpu_stop(g);
}

/* The guest-physical address of the pc-dimm with that id. */
static uint64_t dimm_addr(QTestState *qts, const char *id)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-memory-devices'}");
    QList *l = qdict_get_qlist(rsp, "return");
    QDict *d = qobject_to(QDict, qlist_peek(l));
    QDict *data = qdict_get_qdict(d, "data");
    uint64_t addr;

    g_assert_cmpstr(qdict_get_str(data, "id"), ==, id);
    addr = qdict_get_int(data, "addr");
    qobject_unref(rsp);
    return addr;
}

/*
 * Item 5: memory that belongs to a device is not machine RAM, even when
 * RAM backs it: VGA vram, an ivshmem region (a memory backend, but not the
 * machine's), a hot-pluggable pc-dimm (refused too: it may be unplugged).
 * Neither may a mapping name it, nor may a command block live there.
 */
static void test_device_memory(void)
{
    AdmaQTest *t = hr_start(
        "-m 256M,slots=1,maxmem=1G",
        "-device VGA,addr=6.0 "
        "-object memory-backend-ram,id=shm,size=1M "
        "-device ivshmem-plain,memdev=shm,addr=7.0 "
        "-object memory-backend-ram,id=dimm0,size=128M "
        "-device pc-dimm,id=dimm,memdev=dimm0");
    QPCIDevice *vga = qpci_device_find(t->bus, QPCI_DEVFN(6, 0));
    QPCIDevice *ivshmem = qpci_device_find(t->bus, QPCI_DEVFN(7, 0));
    QPCIBar vram, shm;
    uint64_t dimm = dimm_addr(t->qts, "dimm");

    g_assert(vga && ivshmem);
    qpci_device_enable(vga);
    qpci_device_enable(ivshmem);
    vram = qpci_iomap(vga, 0, NULL);
    shm = qpci_iomap(ivshmem, 2, NULL);
    g_test_message("vram 0x%" PRIx64 " ivshmem 0x%" PRIx64 " dimm 0x%"
                   PRIx64, vram.addr, shm.addr, dimm);

    g_assert_cmpuint(hr_map_status(t, EDU_GPA, 0x1000), ==, ADMA_S_OK);
    g_assert_cmpuint(hr_map_status(t, vram.addr, 0x1000), ==, ADMA_S_RANGE);
    g_assert_cmpuint(hr_map_status(t, vram.addr + 0x10000, 0x4000), ==,
                     ADMA_S_RANGE);
    g_assert_cmpuint(hr_map_status(t, shm.addr, 0x1000), ==, ADMA_S_RANGE);
    g_assert_cmpuint(hr_map_status(t, dimm, 0x1000), ==, ADMA_S_RANGE);
    g_assert_cmpuint(hr_map_status(t, dimm + 64 * MiB, 0x4000), ==,
                     ADMA_S_RANGE);
    g_free(vga);
    g_free(ivshmem);
    hr_stop(t);
}

/* Nor may the guest's arrays live there: a command block is not read. */
static void test_device_memory_block(void)
{
    AdmaQTest *t = hr_start("-m 256M",
                            "-object memory-backend-ram,id=shm,size=1M "
                            "-device ivshmem-plain,memdev=shm,addr=7.0");
    QPCIDevice *ivshmem = qpci_device_find(t->bus, QPCI_DEVFN(7, 0));
    struct adma_req req = adma_map_req(EDU_GPA, 0x1000, ADMA_DIR_TO_DEVICE);
    struct adma_cmd c = {
        .magic = cpu_to_le32(ADMA_CMD_MAGIC),
        .version = cpu_to_le16(ADMA_VERSION_MAJOR),
        .count = cpu_to_le32(1),
        .req_gpa = cpu_to_le64(ADMA_QT_REQ_GPA),
        .resp_gpa = cpu_to_le64(ADMA_QT_RESP_GPA),
    }, after;
    QPCIBar shm;

    g_assert(ivshmem);
    qpci_device_enable(ivshmem);
    shm = qpci_iomap(ivshmem, 2, NULL);
    req.gpa = cpu_to_le64(req.gpa);
    req.len = cpu_to_le64(req.len);
    qtest_memwrite(t->qts, ADMA_QT_REQ_GPA, &req, sizeof(req));
    qtest_memwrite(t->qts, shm.addr, &c, sizeof(c));
    adma_ring(t, shm.addr, true);
    qtest_memread(t->qts, shm.addr, &after, sizeof(after));
    g_assert(!memcmp(&c, &after, sizeof(c)));
    g_assert_cmpint(dev_stat(t->qts, ADMA_QT_PATH, "live_maps"), ==, 0);
    /* the control: the same block in machine RAM is run */
    qtest_memwrite(t->qts, ADMA_QT_CMD_GPA, &c, sizeof(c));
    adma_ring(t, ADMA_QT_CMD_GPA, false);
    g_assert_cmpuint(adma_read_cmd(t).status, ==, ADMA_S_OK);
    g_assert_cmpint(dev_stat(t->qts, ADMA_QT_PATH, "live_maps"), ==, 1);
    g_free(ivshmem);
    hr_stop(t);
}

/*
 * Item 4: RAM ends inside a DART page (-m is rounded to 8 KiB, so 129 MiB
 * + 8 KiB ends half-way through a 16 KiB page). A map of its last 4 KiB is
 * RAM, but the DART would map the whole page, half of it past RAM: refused.
 */
static void test_ram_end(void)
{
    const uint64_t end = 129 * MiB + 8 * KiB;
    AdmaQTest *t = hr_start("-m 132104K", "");

    g_assert_cmpuint(hr_map_status(t, end - 0x8000, 0x4000), ==, ADMA_S_OK);
    g_assert_cmpuint(hr_map_status(t, end - 0x1000, 0x1000), ==,
                     ADMA_S_RANGE);
    g_assert_cmpuint(hr_map_status(t, end - 0x2000, 0x2000), ==,
                     ADMA_S_RANGE);
    g_assert_cmpuint(hr_map_status(t, end, 0x1000), ==, ADMA_S_RANGE);
    hr_stop(t);
}

/* Machine RAM made of NUMA nodes' memdevs is machine RAM, in every node. */
static void test_numa(void)
{
    AdmaQTest *t = hr_start(
        "-m 256M -object memory-backend-ram,id=r0,size=128M "
        "-object memory-backend-ram,id=r1,size=128M "
        "-numa node,memdev=r0 -numa node,memdev=r1", "");
    const uint64_t ga = 200 * MiB, gb = EDU_GPA;
    uint8_t pat[0x1000], buf[0x1000];
    uint64_t ia, ib;
    QPCIBar edu;

    qpci_device_enable(t->dev);
    edu = qpci_iomap(t->dev, 0, NULL);
    fill(pat, sizeof(pat), 7);
    qtest_memwrite(t->qts, ga, pat, sizeof(pat));
    qtest_memset(t->qts, gb, 0, sizeof(buf));
    adma_map(t, ga, sizeof(pat), ADMA_DIR_TO_DEVICE, &ia);
    adma_map(t, gb, sizeof(pat), ADMA_DIR_FROM_DEVICE, &ib);
    edu_dma(t, edu, ia, EDU_BUF, sizeof(pat), false);
    edu_dma(t, edu, EDU_BUF, ib, sizeof(pat), true);
    qtest_memread(t->qts, gb, buf, sizeof(buf));
    g_assert(!memcmp(buf, pat, sizeof(pat)));
    g_assert_cmpint(dev_stat(t->qts, ADMA_QT_PATH, "faults"), ==, 0);
    hr_stop(t);
}

/* Legacy virtio-pci registers (I/O BAR0) and the balloon's inflate queue */
#define VIRTIO_QUEUE_PFN    8
#define VIRTIO_QUEUE_NUM    12
#define VIRTIO_QUEUE_SEL    14
#define VIRTIO_QUEUE_NOTIFY 16
#define VIRTIO_STATUS       18
#define BALLOON_RING        0x600000        /* the vring, 4 KiB aligned */
#define BALLOON_PFNS        0x610000

/* A guest's balloon driver gives back the 4 KiB page at gpa. */
static void balloon_inflate(AdmaQTest *t, QPCIDevice *b, uint64_t gpa)
{
    QPCIBar io = qpci_iomap(b, 0, NULL);
    uint64_t avail, used;
    uint16_t num;

    qpci_io_writeb(b, io, VIRTIO_STATUS, 0x3);     /* ACKNOWLEDGE, DRIVER */
    qpci_io_writew(b, io, VIRTIO_QUEUE_SEL, 0);
    num = qpci_io_readw(b, io, VIRTIO_QUEUE_NUM);
    g_assert_cmpuint(num, >, 0);
    avail = BALLOON_RING + 16 * num;
    used = ROUND_UP(avail + 4 + 2 * num, 4096);
    qtest_memset(t->qts, BALLOON_RING, 0, used + 4096 - BALLOON_RING);
    qpci_io_writel(b, io, VIRTIO_QUEUE_PFN, BALLOON_RING >> 12);
    qtest_writel(t->qts, BALLOON_PFNS, gpa >> 12);
    qtest_writeq(t->qts, BALLOON_RING, BALLOON_PFNS);  /* desc 0 */
    qtest_writel(t->qts, BALLOON_RING + 8, 4);
    qtest_writew(t->qts, avail + 2, 1);                 /* ring[0] = 0 */
    qpci_io_writeb(b, io, VIRTIO_STATUS, 0x7);     /* DRIVER_OK */
    qpci_io_writew(b, io, VIRTIO_QUEUE_NOTIFY, 0);
    g_assert_cmpuint(qtest_readw(t->qts, used + 2), ==, 1);   /* taken */
}

/*
 * Item 3: a balloon may not free mapped RAM under the device (the page
 * would come back as zeros, or as someone else's). apple-dma-pci keeps
 * RAM discards off while it exists; the page keeps its bytes.
 */
static void test_balloon(void)
{
    AdmaQTest *t = hr_start("-m 256M", "-device virtio-balloon-pci,addr=8.0,"
                            "disable-legacy=off,disable-modern=on");
    QPCIDevice *b = qpci_device_find(t->bus, QPCI_DEVFN(8, 0));
    const uint64_t page = 0x620000;
    uint8_t pat[0x1000], buf[0x1000];
    uint64_t ia, ib;
    QPCIBar edu;

    g_assert(b);
    qpci_device_enable(b);
    qpci_device_enable(t->dev);
    edu = qpci_iomap(t->dev, 0, NULL);
    fill(pat, sizeof(pat), 0x31);
    qtest_memwrite(t->qts, page, pat, sizeof(pat));
    adma_map(t, page, sizeof(pat), ADMA_DIR_TO_DEVICE, &ia);
    adma_map(t, EDU_GPA, sizeof(buf), ADMA_DIR_FROM_DEVICE, &ib);

    balloon_inflate(t, b, page);
    qtest_memset(t->qts, EDU_GPA, 0, sizeof(buf));
    edu_dma(t, edu, ia, EDU_BUF, sizeof(pat), false);
    edu_dma(t, edu, EDU_BUF, ib, sizeof(pat), true);
    qtest_memread(t->qts, EDU_GPA, buf, sizeof(buf));
    g_assert(!memcmp(buf, pat, sizeof(pat)));
    g_free(b);
    hr_stop(t);
}

/* With bus mastering off, apple-dma-pci reads and writes no guest memory. */
static void test_bus_master(void)
{
    AdmaQTest *t = hr_start("-m 256M", "");
    uint16_t cmd = qpci_config_readw(t->adma, PCI_COMMAND);
    struct adma_req req = adma_map_req(EDU_GPA, 0x1000, ADMA_DIR_TO_DEVICE);

    req.gpa = cpu_to_le64(req.gpa);
    req.len = cpu_to_le64(req.len);
    qtest_memwrite(t->qts, ADMA_QT_REQ_GPA, &req, sizeof(req));
    qtest_memset(t->qts, ADMA_QT_RESP_GPA, 0, sizeof(struct adma_resp));
    adma_write_cmd(t, ADMA_QT_CMD_GPA, ADMA_CMD_MAGIC, ADMA_VERSION_MAJOR, 1,
                   ADMA_QT_REQ_GPA);
    qpci_config_writew(t->adma, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
    adma_ring(t, ADMA_QT_CMD_GPA, true);
    g_assert_cmpuint(adma_read_cmd(t).status, ==, ADMA_S_PENDING);
    g_assert_cmpint(dev_stat(t->qts, ADMA_QT_PATH, "live_maps"), ==, 0);

    qpci_config_writew(t->adma, PCI_COMMAND, cmd);
    adma_ring(t, ADMA_QT_CMD_GPA, false);
    g_assert_cmpuint(adma_read_cmd(t).status, ==, ADMA_S_OK);
    g_assert_cmpint(dev_stat(t->qts, ADMA_QT_PATH, "live_maps"), ==, 1);
    hr_stop(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/apple-dma/hostram/remap", test_remap);
    qtest_add_func("/apple-dma/hostram/remap-engine", test_remap_engine);
    qtest_add_func("/apple-dma/hostram/device-memory", test_device_memory);
    qtest_add_func("/apple-dma/hostram/device-memory-block",
                   test_device_memory_block);
    qtest_add_func("/apple-dma/hostram/ram-end", test_ram_end);
    qtest_add_func("/apple-dma/hostram/numa", test_numa);
    qtest_add_func("/apple-dma/hostram/balloon", test_balloon);
    qtest_add_func("/apple-dma/hostram/bus-master", test_bus_master);
    return g_test_run();
}
