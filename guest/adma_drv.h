/* SPDX-License-Identifier: GPL-2.0 */
/*
 * adma_drv.h - internals of the apple_dma guest module.
 *
 * One struct adma_dev per apple-dma-pci device. Its managed device gets the
 * one const adma_dma_ops; an op finds its instance by the device it is called
 * for (adma_from_dev(), a short table: a machine has few of these devices).
 */
#ifndef ADMA_DRV_H
#define ADMA_DRV_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/spinlock.h>

#include "adma_kconf.h"
#include "apple_dma.h"
#include "coalesce.h"

#if !defined(CONFIG_DMA_OPS) && !defined(CONFIG_ARCH_HAS_DMA_OPS)
#error "apple_dma needs per-device DMA ops (CONFIG_DMA_OPS / ARCH_HAS_DMA_OPS)"
#endif
#ifdef __BIG_ENDIAN
#error "apple_dma writes the little-endian wire format natively"
#endif

#define ADMA_DRV_NAME	"apple_dma"

/* Counters; all atomic64_t so they are read without the channel lock. */
struct adma_stats {
	atomic64_t doorbells;
	atomic64_t req_map;
	atomic64_t req_unmap;
	atomic64_t refusals;		/* answers other than OK */
	atomic64_t refused[ADMA_S__COUNT];	/* by the status answered */
	atomic64_t unanswered;		/* still PENDING after the doorbell */
	atomic64_t bad_blocks;		/* batches whose block was not OK */
	atomic64_t map_errors;		/* map ops that failed */
	atomic64_t unmap_errors;	/* unmaps of unknown addresses */
	atomic64_t mask_refusals;	/* IOVAs beyond the device's mask */
	atomic64_t resource_refusals;	/* map_resource/MMIO asked */
};

/* The doorbell channel: command block + arrays in guest RAM. */
struct adma_chan {
	struct adma_cmd *cmd;
	struct adma_req *req;
	struct adma_resp *resp;
	phys_addr_t cmd_pa, req_pa, resp_pa;
	size_t req_bytes, resp_bytes;
	u32 max_batch;
};

struct adma_dev {
	struct pci_dev *pdev;		/* the apple-dma-pci function */
	struct pci_dev *managed;	/* referenced until remove */
	const struct dma_map_ops *old_ops;
	void __iomem *regs;

	/* read from the device at probe */
	u32 version, features, max_batch, max_segs, page_shift;
	u64 limit_bytes;
	u32 limit_maps;

	/*
	 * lock protects coal, chan and the scratch arrays: every map and
	 * unmap, including its doorbell, runs under it with interrupts off.
	 * Nothing under it sleeps; allocations under it are GFP_ATOMIC.
	 */
	spinlock_t lock;
	struct coal *coal;
	struct adma_chan chan;
	struct coal_buf *sbuf;		/* coal max_batch entries */
	struct coal_ubuf *subuf;
	u64 *spending;			/* handles to unmap after a map */
	unsigned int npending;

	struct adma_stats stats;
	struct dentry *dbg;
	struct notifier_block bus_nb;
	bool managed_gone;		/* removed from the bus under us */
	bool noncoherent;		/* found so at bind: maps refused */
	bool bus_nb_registered;
	bool installed;			/* our ops are (meant to be) on */
};

/*
 * Devices with our ops installed. A slot is filled before the ops go on and
 * emptied after they are off and the managed device's driver is unbound:
 * ops run only while that driver is bound, so they always find their slot.
 */
#define ADMA_MAX_DEVS	8
extern struct adma_dev *adma_devs[ADMA_MAX_DEVS];

static inline struct adma_dev *adma_from_dev(struct device *dev)
{
	unsigned int i;

	for (i = 0; i < ADMA_MAX_DEVS; i++) {
		struct adma_dev *a = READ_ONCE(adma_devs[i]);

		if (a && &a->managed->dev == dev)
			return a;
	}
	return NULL;
}

/* chan.c */
int adma_chan_init(struct adma_dev *a);
void adma_chan_fini(struct adma_dev *a);
void adma_host_map(void *ctx, struct coal_host_req *req, unsigned int n);
void adma_host_unmap(void *ctx, const u64 *handle, unsigned int n);
int adma_status_errno(u32 status);
const char *adma_status_str(u32 status);

/* ops.c */
extern const struct dma_map_ops adma_dma_ops;

/* stats.c */
void adma_debugfs_init(struct adma_dev *a);
void adma_debugfs_fini(struct adma_dev *a);

/*
 * quirks/: module-wide probes, set up by the first device and taken down
 * with the last (main.c counts).
 */
void adma_uvm_init(void);
void adma_uvm_fini(void);
u64 adma_uvm_forced(void);
void adma_tso_init(struct adma_dev *a);
void adma_tso_fini(void);
u64 adma_tso_answers(void);

#endif /* ADMA_DRV_H */
