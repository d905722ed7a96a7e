/*
 * QTest helpers for apple-dma-pci, shared by apple-dma-test and the egpu-pci
 * tests: a q35 machine with apple-dma-pci and the device it manages, batches
 * of MAP/UNMAP requests through the doorbell, stats over QMP, and command
 * lines QEMU must refuse.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef APPLE_DMA_QTEST_H
#define APPLE_DMA_QTEST_H

#include "libqtest.h"
#include "qobject/qdict.h"
#include "libqos/pci.h"
#include "hw/misc/apple-dma/adma_core.h"

#define ADMA_QT_SLOT        4           /* apple-dma-pci */
#define ADMA_QT_DEV_SLOT    5           /* the device it manages */
#define ADMA_QT_PATH        "/machine/peripheral/adma0"
#define ADMA_QT_PAGE_MASK   ((uint64_t)ADMA_PAGE_SIZE - 1)

/* guest-physical layout of one batch: the block, requests, responses */
#define ADMA_QT_CMD_GPA     0x100000
#define ADMA_QT_REQ_GPA     0x101000    /* up to 257 requests */
#define ADMA_QT_RESP_GPA    0x110000    /* up to 257 responses */

typedef struct AdmaQTest {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *adma;       /* apple-dma-pci */
    QPCIDevice *dev;        /* the device it manages */
    QPCIBar bar;            /* apple-dma-pci's registers */
    /* what apple-dma-pci should have counted, from what it answered */
    uint64_t tally[ADMA_S__COUNT];
    uint64_t batches, bad_batches, refusals, ops[ADMA_STAT__OPS];
    uint64_t live, live_bytes, peak, peak_bytes;
} AdmaQTest;

/*
 * Start q35 (256 MiB) with apple-dma-pci (id adma0, at ADMA_QT_SLOT, then
 * adma_opts: ",managed=...") and the managed device (dev: its -device
 * option, at ADMA_QT_DEV_SLOT) in that order, or the other way round with
 * adma_last. Maps no BAR: the caller maps its device's BARs and calls
 * adma_enable(), in the order it wants the BARs placed.
 */
void adma_boot(AdmaQTest *t, const char *adma_opts, const char *dev,
                  bool adma_last);
/* Enable apple-dma-pci and map its registers (again after a reset). */
void adma_enable(AdmaQTest *t);
void adma_quit(AdmaQTest *t);

uint32_t adma_reg(AdmaQTest *t, uint64_t off);
/* Write CONTROL: ADMA_CTRL_DMA_ON opens the gate to the managed DMA. */
void adma_control(AdmaQTest *t, uint32_t val);

/* The "stats" property of the device at QOM path, and one member of it. */
QDict *dev_stats(QTestState *qts, const char *path);
int64_t dev_stat(QTestState *qts, const char *path, const char *name);

/* Requests in host byte order, for adma_batch(). */
struct adma_req adma_map_req(uint64_t gpa, uint64_t len, uint8_t dir);
struct adma_req adma_unmap_req(uint64_t handle);

/* Write a command block at gpa; its responses go to ADMA_QT_RESP_GPA. */
void adma_write_cmd(AdmaQTest *t, uint64_t gpa, uint32_t magic,
                       uint16_t version, uint32_t count, uint64_t req_gpa);
/* The block at ADMA_QT_CMD_GPA, the device's fields in host byte order. */
struct adma_cmd adma_read_cmd(AdmaQTest *t);
/* Ring the doorbell with gpa, counting a batch (a bad one with bad). */
void adma_ring(AdmaQTest *t, uint64_t gpa, bool bad);

/*
 * Run one batch of n requests (host byte order); fill resp[] (host byte
 * order) and return the block's status. Book-keeps what the stats must say.
 */
uint32_t adma_batch(AdmaQTest *t, const struct adma_req *req, uint32_t n,
                       struct adma_resp *resp);
/* One request; returns its status and, with resp, the response. */
uint32_t adma_one(AdmaQTest *t, struct adma_req req,
                     struct adma_resp *resp);
/* A MAP that must succeed: returns its handle and, with iova, its IOVA. */
uint64_t adma_map(AdmaQTest *t, uint64_t gpa, uint64_t len, uint8_t dir,
                     uint64_t *iova);
/* An UNMAP that must succeed, of a mapping of gpa..gpa+len. */
void adma_unmap(AdmaQTest *t, uint64_t handle, uint64_t gpa, uint64_t len);

/*
 * Command lines: a file a QEMU monitor reads "quit" from (unlink it when
 * done), QEMU's exit status with these devices (and its stderr in *err),
 * and a refusal that must mention msg.
 */
char *cmdline_quit_file(void);
int cmdline_exit_status(const char *qmp_in, const char *devices, char **err);
void cmdline_expect_refusal(const char *qmp_in, const char *devices,
                            const char *msg);

#endif /* APPLE_DMA_QTEST_H */
