/*
 * QTest helpers for apple-dma-pci: see apple-dma-qtest.h.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqos/pci-pc.h"
#include "apple-dma-qtest.h"

void adma_boot(AdmaQTest *t, const char *adma_opts, const char *dev,
                  bool adma_last)
{
    g_autofree char *adma = g_strdup_printf(
        "-device apple-dma-pci,id=adma0,addr=%x.0%s", ADMA_QT_SLOT, adma_opts);

    memset(t, 0, sizeof(*t));
    t->qts = qtest_initf("-M q35 -nodefaults -m 256M %s %s",
                         adma_last ? dev : adma, adma_last ? adma : dev);
    t->bus = qpci_new_pc(t->qts, NULL);
    t->adma = qpci_device_find(t->bus, QPCI_DEVFN(ADMA_QT_SLOT, 0));
    t->dev = qpci_device_find(t->bus, QPCI_DEVFN(ADMA_QT_DEV_SLOT, 0));
    g_assert(t->adma && t->dev);
}

void adma_enable(AdmaQTest *t)
{
    qpci_device_enable(t->adma);
    t->bar = qpci_iomap(t->adma, 0, NULL);
}

void adma_quit(AdmaQTest *t)
{
    g_free(t->adma);
    g_free(t->dev);
    qpci_free_pc(t->bus);
    qtest_quit(t->qts);
}

uint32_t adma_reg(AdmaQTest *t, uint64_t off)
{
    return qpci_io_readl(t->adma, t->bar, off);
}

void adma_control(AdmaQTest *t, uint32_t val)
{
    qpci_io_writel(t->adma, t->bar, ADMA_REG_CONTROL, val);
}

QDict *dev_stats(QTestState *qts, const char *path)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {"
                           "'path': %s, 'property': 'stats'}}", path);
    QDict *st = qdict_get_qdict(rsp, "return");

    g_assert(st);
    qobject_ref(st);
    qobject_unref(rsp);
    return st;
}

int64_t dev_stat(QTestState *qts, const char *path, const char *name)
{
    QDict *st = dev_stats(qts, path);
    int64_t v;

    g_assert(qdict_haskey(st, name));
    v = qdict_get_int(st, name);
    qobject_unref(st);
    return v;
}

struct adma_req adma_map_req(uint64_t gpa, uint64_t len, uint8_t dir)
{
    return (struct adma_req) { .op = ADMA_OP_MAP, .flags = dir,
                               .gpa = gpa, .len = len };
}

struct adma_req adma_unmap_req(uint64_t handle)
{
    return (struct adma_req) { .op = ADMA_OP_UNMAP, .handle = handle };
}

void adma_write_cmd(AdmaQTest *t, uint64_t gpa, uint32_t magic,
                       uint16_t version, uint32_t count, uint64_t req_gpa)
{
    struct adma_cmd c = {
        .magic = cpu_to_le32(magic),
        .version = cpu_to_le16(version),
        .count = cpu_to_le32(count),
        .req_gpa = cpu_to_le64(req_gpa),
        .resp_gpa = cpu_to_le64(ADMA_QT_RESP_GPA),
    };

    qtest_memwrite(t->qts, gpa, &c, sizeof(c));
}

struct adma_cmd adma_read_cmd(AdmaQTest *t)
{
    struct adma_cmd c;

    qtest_memread(t->qts, ADMA_QT_CMD_GPA, &c, sizeof(c));
    c.status = le32_to_cpu(c.status);
    c.done = le32_to_cpu(c.done);
    c.failed = le32_to_cpu(c.failed);
    return c;
}

void adma_ring(AdmaQTest *t, uint64_t gpa, bool bad)
{
    qpci_io_writeq(t->adma, t->bar, ADMA_REG_DOORBELL, gpa);
    t->batches++;
    t->bad_batches += bad;
}

/* Bytes of IOVA space a mapping of gpa..gpa+len takes: whole pages. */
static uint64_t rounded(uint64_t gpa, uint64_t len)
{
    return ((gpa + len + ADMA_QT_PAGE_MASK) & ~ADMA_QT_PAGE_MASK) -
           (gpa & ~ADMA_QT_PAGE_MASK);
}

/* What one answered request adds to the counters the device keeps. */
static void tally(AdmaQTest *t, const struct adma_req *req,
                  const struct adma_resp *r)
{
    g_assert_cmpuint(r->status, >, ADMA_S_PENDING);
    g_assert_cmpuint(r->status, <, ADMA_S__COUNT);
    t->tally[r->status]++;
    t->refusals += r->status != ADMA_S_OK;
    t->ops[req->op == ADMA_OP_MAP ? ADMA_STAT_MAP :
           req->op == ADMA_OP_UNMAP ? ADMA_STAT_UNMAP : ADMA_STAT_BADOP]++;
    if (r->status == ADMA_S_OK && req->op == ADMA_OP_MAP) {
        t->live++;
        t->live_bytes += rounded(req->gpa, req->len);
        t->peak = MAX(t->peak, t->live);
        t->peak_bytes = MAX(t->peak_bytes, t->live_bytes);
    }
}

uint32_t adma_batch(AdmaQTest *t, const struct adma_req *req, uint32_t n,
                       struct adma_resp *resp)
{
    g_autofree struct adma_req *wire = g_new0(struct adma_req, n + 1);
    struct adma_cmd c;
    uint32_t i, j, failed = 0;

    for (i = 0; i < n; i++) {
        wire[i] = req[i];
        wire[i].rsvd0 = cpu_to_le16(req[i].rsvd0);
        wire[i].rsvd1 = cpu_to_le32(req[i].rsvd1);
        wire[i].gpa = cpu_to_le64(req[i].gpa);
        wire[i].len = cpu_to_le64(req[i].len);
        wire[i].handle = cpu_to_le64(req[i].handle);
    }
    if (n) {
        qtest_memwrite(t->qts, ADMA_QT_REQ_GPA, wire, n * sizeof(*wire));
    }
    qtest_memset(t->qts, ADMA_QT_RESP_GPA, 0, (n + 1) * sizeof(*resp));
    adma_write_cmd(t, ADMA_QT_CMD_GPA, ADMA_CMD_MAGIC, ADMA_VERSION_MAJOR,
                      n, ADMA_QT_REQ_GPA);
    adma_ring(t, ADMA_QT_CMD_GPA, false);

    c = adma_read_cmd(t);
    if (c.status != ADMA_S_OK) {
        t->bad_batches++;
        return c.status;
    }
    g_assert_cmpuint(c.done, ==, n);
    qtest_memread(t->qts, ADMA_QT_RESP_GPA, resp, n * sizeof(*resp));
    for (i = 0; i < n; i++) {
        struct adma_resp *r = &resp[i];

        r->status = le32_to_cpu(r->status);
        r->nsegs = le16_to_cpu(r->nsegs);
        r->handle = le64_to_cpu(r->handle);
        for (j = 0; j < ADMA_MAX_SEGS; j++) {
            r->seg[j].iova = le64_to_cpu(r->seg[j].iova);
            r->seg[j].len = le64_to_cpu(r->seg[j].len);
        }
        tally(t, &req[i], r);
        failed += r->status != ADMA_S_OK;
    }
    g_assert_cmpuint(c.failed, ==, failed);
    return ADMA_S_OK;
}

uint32_t adma_one(AdmaQTest *t, struct adma_req req,
                     struct adma_resp *resp)
{
    struct adma_resp r;

    g_assert_cmpuint(adma_batch(t, &req, 1, &r), ==, ADMA_S_OK);
    if (resp) {
        *resp = r;
    }
    return r.status;
}

uint64_t adma_map(AdmaQTest *t, uint64_t gpa, uint64_t len, uint8_t dir,
                     uint64_t *iova)
{
    struct adma_resp r;

    g_assert_cmpuint(adma_one(t, adma_map_req(gpa, len, dir), &r), ==,
                     ADMA_S_OK);
    if (iova) {
        *iova = r.seg[0].iova;
    }
    return r.handle;
}

void adma_unmap(AdmaQTest *t, uint64_t handle, uint64_t gpa, uint64_t len)
{
    g_assert_cmpuint(adma_one(t, adma_unmap_req(handle), NULL), ==,
                     ADMA_S_OK);
    t->live--;
    t->live_bytes -= rounded(gpa, len);
}

char *cmdline_quit_file(void)
{
    static const char quit[] = "{'execute': 'qmp_capabilities'}\n"
                               "{'execute': 'quit'}\n";
    char *path = NULL;
    int fd = g_file_open_tmp("adma-qtest-quit-XXXXXX", &path, NULL);

    g_assert(fd >= 0);
    g_assert(write(fd, quit, strlen(quit)) == strlen(quit));
    close(fd);
    return path;
}

/*
 * The monitor reads "quit" from qmp_in, so a QEMU that does start exits 0
 * at once.
 */
int cmdline_exit_status(const char *qmp_in, const char *devices, char **err)
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

void cmdline_expect_refusal(const char *qmp_in, const char *devices,
                            const char *msg)
{
    g_autofree char *err = NULL;

    g_assert_cmpint(cmdline_exit_status(qmp_in, devices, &err), ==, 1);
    g_assert(strstr(err, msg));
}
