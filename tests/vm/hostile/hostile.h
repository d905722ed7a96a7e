/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hostile.h - adma_hostile: a guest that drives apple-dma-pci's registers
 * directly (apple_dma is not loaded) to test the device's locking:
 *   race  two kthreads on CPU 0 and 1 ring DOORBELL at the same time
 *   bql   an lsi53c895a SCRIPTS memory move rings DOORBELL from inside the
 *         lsi's MMIO handler while CPU 0 tries to enter that handler
 *   leave maps and never unmaps: a kernel that went away (kexec, a crash)
 *         with mappings live, for the next driver's probe to release
 * Tests only: it takes the devices without binding them.
 */
#ifndef ADMA_HOSTILE_H
#define ADMA_HOSTILE_H

#include <linux/pci.h>
#include <linux/types.h>

#include "apple_dma.h"

#define HST_NAME	"adma_hostile"
#define HST_RESULT_MAX	512

/* a test's knobs, "key=value" words written to debugfs adma_hostile/run */
struct hst_params {
	u32 ms;		/* race: how long both threads ring */
	u32 maps;	/* race: MAP requests per batch */
	u32 rounds;	/* bql: scripts run */
	u32 bigmaps;	/* bql: MAP requests in each of the script's batches */
	u32 blocks;	/* bql: doorbells (batches) in one script */
	u32 windows;	/* bql: run until CPU 0 saw this many scripts running */
	u32 lossy;	/* race: lost doorbells expected (drop-ppm), resent */
};

struct hst_ctx {
	struct pci_dev *adma;
	void __iomem *regs;		/* apple-dma-pci BAR0 */
	phys_addr_t doorbell;		/* its DOORBELL, as a bus address */
	struct pci_dev *lsi;		/* NULL if the machine has none */
	void __iomem *lsi_regs;		/* lsi53c895a BAR1 (MMIO registers) */
	struct hst_params p;
	char result[HST_RESULT_MAX];	/* one key=value line */
};

/* One command block with room for @cap requests, in physically contiguous RAM. */
struct hst_block {
	struct adma_cmd *cmd;
	struct adma_req *req;
	struct adma_resp *resp;
	u32 cap;
};

int hst_block_alloc(struct hst_block *b, u32 cap);
void hst_block_free(struct hst_block *b);
/* n MAPs of [gpa, gpa + len), both directions; every status PENDING */
void hst_fill_map(struct hst_block *b, u32 n, u64 gpa, u64 len);
/* UNMAPs of the handles of b's MAP responses that are OK; returns how many */
u32 hst_fill_unmap_from(struct hst_block *b, const struct hst_block *maps);
/* statuses back to PENDING, the requests kept (to ring again) */
void hst_rearm(struct hst_block *b);
void hst_ring(struct hst_ctx *c, struct hst_block *b);
/* the block's status: ADMA_S_PENDING if the doorbell was lost */
u32 hst_status(const struct hst_block *b);
/* responses with status OK */
u32 hst_count_ok(const struct hst_block *b);

int hst_run_race(struct hst_ctx *c);
int hst_run_bql(struct hst_ctx *c);
int hst_run_leave(struct hst_ctx *c);

#endif
