/*
 * QTest for apple-dma-pci: registers, batches and every refusal, limits of
 * the DART simulator, stats over QMP, the managed device's DMA through the
 * simulated DART (QEMU's edu device plays the managed device) and reset.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "hw/misc/apple-dma/dartsim.h"
#include "apple-dma-qtest.h"

#define EDU_SLOT        ADMA_QT_DEV_SLOT
#define RAM_END         (256 * MiB)         /* -m 256M, all below 4 GiB */
#define CMD_GPA         ADMA_QT_CMD_GPA
#define REQ_GPA         ADMA_QT_REQ_GPA
#define RESP_GPA        ADMA_QT_RESP_GPA
#define DATA_GPA        0x400000            /* clear of the batch's pages */

/* edu's DMA engine below 256 MiB: its default dma_mask has 28 bits */
#define APERTURE_BASE   0x8000000
#define APERTURE_SIZE   0x1000000
#define EDU_BUF         0x40000
#define EDU_DMA_RUN     1
#define EDU_DMA_TO_PCI  2

#define PAGE_MASK       ADMA_QT_PAGE_MASK

/* apple-dma-pci over its DART simulator, managing QEMU's edu device */
static AdmaQTest *adma_start(const char *opts)
{
    AdmaQTest *a = g_new0(AdmaQTest, 1);
    g_autofree char *adma = g_strdup_printf(",managed=edu0,backend=dartsim%s",
                                            opts);
    g_autofree char *edu = g_strdup_printf("-device edu,id=edu0,addr=%x.0",
                                           EDU_SLOT);

    adma_boot(a, adma, edu, false);
    adma_enable(a);
    return a;
}

static void adma_stop(AdmaQTest *a)
{
    adma_quit(a);
    g_free(a);
}

static int64_t adma_stat(AdmaQTest *a, const char *name)
{
    return dev_stat(a->qts, ADMA_QT_PATH, name);
}

/* Every counter of the device against what the test saw it answer. */
static void adma_check_stats(AdmaQTest *a)
{
    static const char *const names[] = ADMA_STATUS_NAMES;
    const struct {
        const char *name;
        uint64_t want;
    } f[] = {
        { "refusals", a->refusals }, { "batches", a->batches },
        { "bad_batches", a->bad_batches },
        { "req_map", a->ops[ADMA_STAT_MAP] },
        { "req_unmap", a->ops[ADMA_STAT_UNMAP] },
        { "req_badop", a->ops[ADMA_STAT_BADOP] },
        { "live_maps", a->live }, { "live_bytes", a->live_bytes },
        { "peak_maps", a->peak }, { "peak_bytes", a->peak_bytes },
        { "dart_live_maps", a->live }, { "dart_live_bytes", a->live_bytes },
    };
    QDict *st = dev_stats(a->qts, ADMA_QT_PATH);
    size_t i;

    for (i = 0; i < ARRAY_SIZE(f); i++) {
        g_test_message("stat %s", f[i].name);
        g_assert_cmpint(qdict_get_int(st, f[i].name), ==, f[i].want);
    }
    for (i = 0; i < ADMA_S__COUNT; i++) {
        g_autofree char *n = g_strdup_printf("status_%s", names[i]);

        g_assert_cmpint(qdict_get_int(st, n), ==, a->tally[i]);
    }
    qobject_unref(st);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, a->live);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_BYTES_LO), ==,
                     (uint32_t)a->live_bytes);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_BAD_BATCHES), ==, a->bad_batches);
}

static void test_registers(void)
{
    AdmaQTest *a = adma_start("");

    g_assert_cmphex(adma_reg(a, ADMA_REG_MAGIC), ==, ADMA_MAGIC_VALUE);
    g_assert_cmphex(adma_reg(a, ADMA_REG_VERSION), ==, ADMA_VERSION);
    g_assert_cmphex(adma_reg(a, ADMA_REG_FEATURES), ==, ADMA_F_BATCH |
                    ADMA_F_MULTISEG | ADMA_F_DIR | ADMA_F_IOMMU_SIM |
                    ADMA_F_GATE);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_MAX_BATCH), ==,
                     ADMA_CORE_DEFAULT_MAX_BATCH);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_MAX_SEGS), ==, ADMA_MAX_SEGS);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_PAGE_SHIFT), ==, ADMA_PAGE_SHIFT);
    g_assert_cmphex(adma_reg(a, ADMA_REG_LIMIT_BYTES_LO) |
                    (uint64_t)adma_reg(a, ADMA_REG_LIMIT_BYTES_HI) << 32, ==,
                    ADMA_CORE_DEFAULT_MAX_BYTES);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIMIT_MAPS), ==,
                     ADMA_CORE_DEFAULT_MAX_MAPS);
    g_assert_cmphex(adma_reg(a, ADMA_REG_MANAGED_ID), ==, ADMA_MANAGED_VALID |
                    0 << 8 | QPCI_DEVFN(EDU_SLOT, 0));
    g_assert_cmpuint(adma_reg(a, ADMA_REG_MANAGED_SEG), ==, 0);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, 0);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_BYTES_HI), ==, 0);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_BAD_BATCHES), ==, 0);
    g_assert_cmpuint(adma_reg(a, 0x3c), ==, 0);
    /* a 32-bit doorbell is refused whole: no batch is run */
    qpci_io_writel(a->adma, a->bar, ADMA_REG_DOORBELL, CMD_GPA);
    adma_check_stats(a);
    adma_stop(a);

    a = adma_start(",max-batch=8,max-maps=2,max-bytes=0x123456789");
    g_assert_cmpuint(adma_reg(a, ADMA_REG_MAX_BATCH), ==, 8);
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIMIT_MAPS), ==, 2);
    g_assert_cmphex(adma_reg(a, ADMA_REG_LIMIT_BYTES_LO), ==, 0x23456789);
    g_assert_cmphex(adma_reg(a, ADMA_REG_LIMIT_BYTES_HI), ==, 0x1);
    adma_stop(a);
}

static void test_map_unmap(void)
{
    AdmaQTest *a = adma_start("");
    struct adma_req req[] = {
        adma_map_req(DATA_GPA + 0x123, 0x1000, ADMA_DIR_TO_DEVICE),
        adma_map_req(DATA_GPA + 0x123, 0x1000, ADMA_DIR_FROM_DEVICE),
        adma_map_req(DATA_GPA + 0x10000, 0x21000, ADMA_DIR_BIDIRECTIONAL),
        adma_map_req(DATA_GPA + 0x3fff, 2, ADMA_DIR_BIDIRECTIONAL),
        adma_map_req(RAM_END - 0x1000, 0x1000, ADMA_DIR_TO_DEVICE),
    };
    const uint32_t n = ARRAY_SIZE(req);
    struct adma_resp resp[ARRAY_SIZE(req)];
    struct adma_req unmap[ARRAY_SIZE(req)];
    uint32_t i, j, k;

    g_assert_cmpuint(adma_batch(a, req, n, resp), ==, ADMA_S_OK);
    for (i = 0; i < n; i++) {
        uint64_t sum = 0;

        g_assert_cmpuint(resp[i].status, ==, ADMA_S_OK);
        g_assert_cmpuint(resp[i].nsegs, >=, 1);
        g_assert_cmpuint(resp[i].nsegs, <=, ADMA_MAX_SEGS);
        g_assert_cmphex(resp[i].seg[0].iova & PAGE_MASK, ==,
                        req[i].gpa & PAGE_MASK);
        for (j = 0; j < resp[i].nsegs; j++) {
            /* the default aperture, clear of every BAR */
            g_assert_cmphex(resp[i].seg[j].iova, >=, DARTSIM_DEFAULT_BASE);
            g_assert_cmphex(resp[i].seg[j].iova + resp[i].seg[j].len, <=,
                            DARTSIM_DEFAULT_BASE + ADMA_CORE_DEFAULT_MAX_BYTES);
            sum += resp[i].seg[j].len;
        }
        g_assert_cmphex(sum, ==, req[i].len);
        g_assert_cmphex(resp[i].handle, !=, 0);
        for (k = 0; k < i; k++) {
            /* unique handles and disjoint IOVA pages, same GPA or not */
            g_assert_cmphex(resp[i].handle, !=, resp[k].handle);
            g_assert(resp[i].seg[0].iova >> ADMA_PAGE_SHIFT !=
                     resp[k].seg[0].iova >> ADMA_PAGE_SHIFT);
        }
        unmap[i] = adma_unmap_req(resp[i].handle);
    }
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, n);
    adma_check_stats(a);

    g_assert_cmpuint(adma_batch(a, unmap, n, resp), ==, ADMA_S_OK);
    for (i = 0; i < n; i++) {
        g_assert_cmpuint(resp[i].status, ==, ADMA_S_OK);
    }
    a->live = a->live_bytes = 0;
    g_assert_cmpuint(adma_reg(a, ADMA_REG_LIVE_MAPS), ==, 0);
    adma_check_stats(a);
    adma_stop(a);
}

static void test_refusals(void)
{
    AdmaQTest *a = adma_start("");
    struct adma_req req[] = {
        adma_map_req(DATA_GPA, 0, ADMA_DIR_TO_DEVICE),
        adma_map_req(0xfffffffffffff000ull, 0x2000, ADMA_DIR_TO_DEVICE),
        adma_map_req(DATA_GPA, 0x1000, 0),
        adma_map_req(DATA_GPA, 0x1000, 4),
        { .op = 7 },
        { .op = ADMA_OP_MAP, .flags = 1, .rsvd1 = 1, .gpa = DATA_GPA,
          .len = 1 },
        { .op = ADMA_OP_UNMAP, .gpa = DATA_GPA, .handle = 1 },
        adma_map_req(RAM_END, 0x1000, ADMA_DIR_TO_DEVICE),     /* above RAM */
        adma_map_req(RAM_END - 0x1000, 0x2000, ADMA_DIR_TO_DEVICE),
        adma_map_req(0xc0000, 0x1000, ADMA_DIR_TO_DEVICE),     /* pc.rom */
        adma_map_req(0xfec00000, 0x1000, ADMA_DIR_TO_DEVICE),  /* IOAPIC */
        adma_map_req(0xfffff000, 0x1000, ADMA_DIR_TO_DEVICE),  /* BIOS ROM */
        adma_map_req(a->bar.addr, 0x1000, ADMA_DIR_TO_DEVICE), /* our BAR */
        adma_unmap_req(0x12345678),
        adma_unmap_req(0),
    };
    static const uint32_t want[] = {
        ADMA_S_INVALID, ADMA_S_INVALID, ADMA_S_INVALID, ADMA_S_INVALID,
        ADMA_S_INVALID, ADMA_S_INVALID, ADMA_S_INVALID, ADMA_S_RANGE,
        ADMA_S_RANGE, ADMA_S_RANGE, ADMA_S_RANGE, ADMA_S_RANGE, ADMA_S_RANGE,
        ADMA_S_BAD_HANDLE, ADMA_S_BAD_HANDLE,
    };
    struct adma_resp resp[ADMA_CORE_DEFAULT_MAX_BATCH + 1];
    struct adma_req many[ADMA_CORE_DEFAULT_MAX_BATCH + 1];
    uint8_t block[sizeof(struct adma_cmd)], after[sizeof(struct adma_cmd)];
    uint64_t h;
    uint32_t i;

    G_STATIC_ASSERT(ARRAY_SIZE(req) == ARRAY_SIZE(want));
    g_assert_cmpuint(adma_batch(a, req, ARRAY_SIZE(req), resp), ==, ADMA_S_OK);
    for (i = 0; i < ARRAY_SIZE(req); i++) {
        g_test_message("request %u", i);
        g_assert_cmpuint(resp[i].status, ==, want[i]);
        g_assert_cmpuint(resp[i].nsegs, ==, 0);
    }

    /* double unmap */
    h = adma_map(a, DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE, NULL);
    adma_unmap(a, h, DATA_GPA, 0x1000);
    g_assert_cmpuint(adma_one(a, adma_unmap_req(h), NULL), ==,
                     ADMA_S_BAD_HANDLE);

    /* a batch above MAX_BATCH is refused whole, in the block */
    for (i = 0; i < ARRAY_SIZE(many); i++) {
        many[i] = adma_map_req(DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE);
    }
    g_assert_cmpuint(adma_batch(a, many, ARRAY_SIZE(many), resp), ==,
                     ADMA_S_TOO_MANY);
    g_assert_cmpuint(adma_read_cmd(a).done, ==, 0);
    qtest_memread(a->qts, RESP_GPA, resp, sizeof(resp[0]));
    g_assert_cmpuint(resp[0].status, ==, ADMA_S_PENDING);

    /* bad magic, bad version, request array outside RAM */
    adma_write_cmd(a, CMD_GPA, ADMA_CMD_MAGIC + 1, ADMA_VERSION_MAJOR, 1,
                   REQ_GPA);
    adma_ring(a, CMD_GPA, true);
    g_assert_cmpuint(adma_read_cmd(a).status, ==, ADMA_S_BAD_BLOCK);
    adma_write_cmd(a, CMD_GPA, ADMA_CMD_MAGIC, ADMA_VERSION_MAJOR + 1, 1,
                   REQ_GPA);
    adma_ring(a, CMD_GPA, true);
    g_assert_cmpuint(adma_read_cmd(a).status, ==, ADMA_S_BAD_BLOCK);
    adma_write_cmd(a, CMD_GPA, ADMA_CMD_MAGIC, ADMA_VERSION_MAJOR, 1, RAM_END);
    adma_ring(a, CMD_GPA, true);
    g_assert_cmpuint(adma_read_cmd(a).status, ==, ADMA_S_RANGE);

    /* unreadable command blocks: outside RAM, in MMIO, misaligned */
    adma_ring(a, RAM_END + 0x1000, true);
    adma_ring(a, 0xfee00000, true);
    adma_write_cmd(a, CMD_GPA + 4, ADMA_CMD_MAGIC, ADMA_VERSION_MAJOR, 1,
                   REQ_GPA);
    qtest_memread(a->qts, CMD_GPA + 4, block, sizeof(block));
    adma_ring(a, CMD_GPA + 4, true);
    qtest_memread(a->qts, CMD_GPA + 4, after, sizeof(after));
    g_assert(!memcmp(block, after, sizeof(block)));

    /* an empty batch is fine */
    g_assert_cmpuint(adma_batch(a, NULL, 0, resp), ==, ADMA_S_OK);
    adma_check_stats(a);
    adma_stop(a);
}

static void test_no_space(void)
{
    AdmaQTest *a = adma_start(",max-maps=2");
    struct adma_req req[] = {
        adma_map_req(DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE),
        adma_map_req(DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE),
        adma_map_req(DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE),
    };
    struct adma_resp resp[3];

    g_assert_cmpuint(adma_batch(a, req, 3, resp), ==, ADMA_S_OK);
    g_assert_cmpuint(resp[0].status, ==, ADMA_S_OK);
    g_assert_cmpuint(resp[1].status, ==, ADMA_S_OK);
    g_assert_cmpuint(resp[2].status, ==, ADMA_S_NO_SPACE);
    adma_unmap(a, resp[0].handle, DATA_GPA, 0x1000);
    adma_map(a, DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE, NULL);
    adma_check_stats(a);
    adma_stop(a);

    a = adma_start(",max-bytes=0x8000");
    adma_map(a, DATA_GPA, 0x4000, ADMA_DIR_TO_DEVICE, NULL);
    g_assert_cmpuint(adma_one(a, adma_map_req(DATA_GPA, 0x4001, 1), NULL), ==,
                     ADMA_S_NO_SPACE);
    adma_map(a, DATA_GPA + 0x100, 0x100, ADMA_DIR_TO_DEVICE, NULL);
    g_assert_cmpuint(adma_one(a, adma_map_req(DATA_GPA, 1, 1), NULL), ==,
                     ADMA_S_NO_SPACE);
    adma_check_stats(a);
    adma_stop(a);
}

static void test_fragmented(void)
{
    /* four pages of IOVA space, bytes plenty: churn leaves holes */
    AdmaQTest *a = adma_start(",aperture-size=0x10000");
    uint64_t h[4];
    int i;

    for (i = 0; i < 4; i++) {
        h[i] = adma_map(a, DATA_GPA + i * 0x4000, 0x4000, 1, NULL);
    }
    g_assert_cmpuint(adma_one(a, adma_map_req(DATA_GPA, 0x4000, 1), NULL), ==,
                     ADMA_S_NO_SPACE);
    adma_unmap(a, h[0], DATA_GPA, 0x4000);
    adma_unmap(a, h[2], DATA_GPA + 0x8000, 0x4000);
    g_assert_cmpuint(adma_one(a, adma_map_req(DATA_GPA, 0x8000, 1), NULL), ==,
                     ADMA_S_FRAGMENTED);
    adma_map(a, DATA_GPA, 0x4000, ADMA_DIR_TO_DEVICE, NULL);
    g_assert_cmpint(adma_stat(a, "dart_no_space"), ==, 1);
    g_assert_cmpint(adma_stat(a, "dart_fragmented"), ==, 1);
    adma_check_stats(a);
    adma_stop(a);
}

static void test_injected(void)
{
    AdmaQTest *a = adma_start(",fail-nth=2");

    adma_map(a, DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE, NULL);
    g_assert_cmpuint(adma_one(a, adma_map_req(DATA_GPA, 0x1000, 1), NULL), ==,
                     ADMA_S_IO_ERROR);
    adma_map(a, DATA_GPA, 0x1000, ADMA_DIR_TO_DEVICE, NULL);
    g_assert_cmpint(adma_stat(a, "dart_injected"), ==, 1);
    adma_check_stats(a);
    adma_stop(a);
}

/* Enable edu (the managed device), open the gate, map its registers. */
static QPCIBar edu_enable(AdmaQTest *a)
{
    adma_control(a, ADMA_CTRL_DMA_ON);
    qpci_device_enable(a->dev);
    return qpci_iomap(a->dev, 0, NULL);
}

/* edu copies cnt bytes between its buffer and DMA addresses, 100 ms later */
static void edu_dma(AdmaQTest *a, QPCIBar edu, uint64_t src, uint64_t dst,
                    uint32_t cnt, bool to_pci)
{
    qpci_io_writeq(a->dev, edu, 0x80, src);
    qpci_io_writeq(a->dev, edu, 0x88, dst);
    qpci_io_writeq(a->dev, edu, 0x90, cnt);
    qpci_io_writeq(a->dev, edu, 0x98,
                   EDU_DMA_RUN | (to_pci ? EDU_DMA_TO_PCI : 0));
    qtest_clock_step(a->qts, 200 * 1000 * 1000);
    g_assert_cmphex(qpci_io_readq(a->dev, edu, 0x98) & EDU_DMA_RUN, ==, 0);
}

static void expect_faults(AdmaQTest *a, int64_t *faults, bool more)
{
    int64_t now = adma_stat(a, "faults");

    if (more) {
        g_assert_cmpint(now, >, *faults);
    } else {
        g_assert_cmpint(now, ==, *faults);
    }
    *faults = now;
}

static void test_managed_dma(void)
{
    AdmaQTest *a = adma_start(",aperture-base=0x8000000,"
                              "aperture-size=0x1000000");
    QPCIBar edu = edu_enable(a);
    const uint64_t ga = DATA_GPA, gb = DATA_GPA + 0x10000;
    uint8_t pat[0x1000], other[0x1000], buf[0x1000];
    uint64_t ia, ib, hb;
    int64_t faults = 0;
    size_t i;

    for (i = 0; i < sizeof(pat); i++) {
        pat[i] = i * 7 + 1;
        other[i] = ~pat[i];
    }
    adma_map(a, ga, sizeof(pat), ADMA_DIR_TO_DEVICE, &ia);
    hb = adma_map(a, gb, sizeof(pat), ADMA_DIR_FROM_DEVICE, &ib);
    g_assert_cmphex(ia, >=, APERTURE_BASE);
    g_assert_cmphex(ib + sizeof(pat), <=, APERTURE_BASE + APERTURE_SIZE);
    qtest_memwrite(a->qts, ga, pat, sizeof(pat));
    qtest_memset(a->qts, gb, 0, sizeof(pat));

    /* through mapped IOVAs: guest A -> edu -> guest B */
    edu_dma(a, edu, ia, EDU_BUF, sizeof(pat), false);
    edu_dma(a, edu, EDU_BUF, ib, sizeof(pat), true);
    qtest_memread(a->qts, gb, buf, sizeof(buf));
    g_assert(!memcmp(buf, pat, sizeof(pat)));
    expect_faults(a, &faults, false);
    g_assert_cmpint(adma_stat(a, "translations"), >, 0);

    /* the direction is enforced: A is device-read-only */
    qtest_memwrite(a->qts, ga, other, sizeof(other));
    edu_dma(a, edu, EDU_BUF, ia, sizeof(pat), true);
    expect_faults(a, &faults, true);
    qtest_memread(a->qts, ga, buf, sizeof(buf));
    g_assert(!memcmp(buf, other, sizeof(other)));

    /* an IOVA never mapped, and the bare GPA: both fault */
    edu_dma(a, edu, EDU_BUF, APERTURE_BASE + 0x800000, sizeof(pat), true);
    expect_faults(a, &faults, true);
    edu_dma(a, edu, EDU_BUF, ga, sizeof(pat), true);
    expect_faults(a, &faults, true);
    qtest_memread(a->qts, ga, buf, sizeof(buf));
    g_assert(!memcmp(buf, other, sizeof(other)));

    /* an IOVA no longer mapped */
    adma_unmap(a, hb, gb, sizeof(pat));
    qtest_memset(a->qts, gb, 0, sizeof(pat));
    edu_dma(a, edu, EDU_BUF, ib, sizeof(pat), true);
    expect_faults(a, &faults, true);
    qtest_memread(a->qts, gb, buf, sizeof(buf));
    g_assert(buf[0] == 0 && !memcmp(buf, buf + 1, sizeof(buf) - 1));
    adma_check_stats(a);
    adma_stop(a);
}

static void test_reset(void)
{
    AdmaQTest *a = adma_start(",aperture-base=0x8000000,"
                              "aperture-size=0x1000000");
    QPCIBar edu = edu_enable(a);
    uint64_t h, iova;
    int64_t faults;

    h = adma_map(a, DATA_GPA, 0x1000, ADMA_DIR_BIDIRECTIONAL, &iova);
    adma_map(a, DATA_GPA, 0x9000, ADMA_DIR_TO_DEVICE, NULL);
    adma_map(a, DATA_GPA + 0x20000, 0x1000, ADMA_DIR_FROM_DEVICE, NULL);
    adma_check_stats(a);

    qtest_system_reset(a->qts);
    /* a reset starts the peaks and BAD_BATCHES again */
    a->live = a->live_bytes = a->peak = a->peak_bytes = a->bad_batches = 0;
    adma_enable(a);
    edu = edu_enable(a);
    adma_check_stats(a);
    /* nothing from before the reset is reachable or can be unmapped */
    g_assert_cmpuint(adma_one(a, adma_unmap_req(h), NULL), ==,
                     ADMA_S_BAD_HANDLE);
    faults = adma_stat(a, "faults");
    edu_dma(a, edu, EDU_BUF, iova, 0x100, true);
    expect_faults(a, &faults, true);
    adma_check_stats(a);
    adma_stop(a);
}

static void test_bad_config(void)
{
    static const char *const cases[][2] = {
        { "managed=edu0,backend=dext",
          "backend dext is only available on macOS" },
        { "managed=edu0,backend=foo", "unknown backend" },
        { "backend=dartsim", "'managed'" },
        { "managed=edu0,max-batch=1025", "max-batch" },
        { "managed=edu0,max-maps=0x7fffffff", "max-maps" },
        { "managed=edu0,max-bytes=1", "max-bytes" },
        { "managed=edu0,aperture-base=0x1001", "multiples" },
        { "managed=edu0,aperture-base=0xffffffffffffc000,aperture-size=0x8000",
          "wrap" },
        { "managed=edu0,max-bytes=0x2000000000", "IOVA aperture" },
        { "managed=edu0,fail-ppm=1000001", "fail-ppm" },
        { "id=adma0,managed=adma0", "cannot manage itself" },
        { "managed=nosuch", "no PCI device with that id" },
        { "managed=edu0 -device pcie-root-port,id=rp0,chassis=1 "
          "-device edu,id=edu0,bus=rp0", "not on the PCI bus" },
    };
    g_autofree char *qmp_in = cmdline_quit_file(), *err = NULL;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *dev = g_strdup_printf("-device apple-dma-pci,%s",
                                               cases[i][0]);

        cmdline_expect_refusal(qmp_in, dev, cases[i][1]);
    }
    cmdline_expect_refusal(qmp_in, "-device edu,id=edu0 "
                           "-device apple-dma-pci,managed=edu0",
                           "must come before");
    /* the control: a good command line starts (and quits) */
    g_assert_cmpint(cmdline_exit_status(qmp_in, "-device apple-dma-pci,"
                                        "managed=edu0 -device edu,id=edu0",
                                        &err), ==, 0);
    unlink(qmp_in);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/apple-dma/registers", test_registers);
    qtest_add_func("/apple-dma/map-unmap", test_map_unmap);
    qtest_add_func("/apple-dma/refusals", test_refusals);
    qtest_add_func("/apple-dma/no-space", test_no_space);
    qtest_add_func("/apple-dma/fragmented", test_fragmented);
    qtest_add_func("/apple-dma/injected", test_injected);
    qtest_add_func("/apple-dma/managed-dma", test_managed_dma);
    qtest_add_func("/apple-dma/reset", test_reset);
    qtest_add_func("/apple-dma/bad-config", test_bad_config);
    return g_test_run();
}
