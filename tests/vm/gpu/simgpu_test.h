/* SPDX-License-Identifier: GPL-2.0 */
/*
 * simgpu_test.h - internals of simgpu_test, the guest test driver of simgpu
 * (the simulated GPU function of host/simgpu_hw.h).
 *
 * The driver plays a GPU driver's part: it binds the function, sets up
 * MSI-X, a command ring and a fence page in coherent memory, and moves
 * buffers between system memory and VRAM with the engine. It uses nothing
 * but the DMA API, so with apple_dma managing the function every address
 * the engine is given is a host (DART) mapping.
 *
 *   pci.c     probe/remove, interrupts, reset (FLR), debugfs
 *   engine.c  the command ring: commands, fences, waiting
 *   buf.c     test buffers: allocation, DMA mapping, seeded pattern
 *   run.c     one test run: parameters, rounds, verification, result
 */
#ifndef SIMGPU_TEST_H
#define SIMGPU_TEST_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>

#include "simgpu_hw.h"

#define SGT_DRV_NAME		"simgpu_test"
#define SGT_MAX_VECS		4	/* vector 0: errors; 1..: fences */
#define SGT_RING_ENTRIES	1024	/* 64 KiB of commands */
#define SGT_RESULT_MAX		1024

struct sgt_dev;

struct sgt_vec {
	struct sgt_dev *g;
	unsigned int idx;
	char name[24];			/* shown in /proc/interrupts */
};

/* What a run counted; reported as key=value by run.c. */
struct sgt_counts {
	u64 rounds;
	u64 buffers;			/* test buffers mapped (src + dst) */
	u64 bytes_to_vram;		/* engine COPY system -> VRAM */
	u64 bytes_from_vram;		/* engine COPY VRAM -> system */
	u64 bytes_verified;		/* read back and compared */
	u64 vram_cpu_bytes;		/* compared through the VRAM BAR */
	u64 cmds;			/* commands written to the ring */
	u64 fences;			/* fences signalled and checked */
	u64 map_sg;			/* dma_map_sgtable() calls */
	u64 map_page;			/* dma_map_page() calls */
	u64 dma_segs;			/* device address ranges used */
	u64 live_buffers;		/* mapped now */
	u64 peak_buffers;		/* most mapped at once */
	u64 peak_bytes;
	u64 live_bytes;
	u64 errors;
	u64 flrs;
	u64 engine_ns;			/* doorbell to fence interrupt */
};

struct sgt_dev {
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0 */
	void __iomem *vram;		/* BAR2, write-combining */
	u64 vram_size;			/* usable: min(register, BAR) */
	u32 version;
	int nvec;
	struct sgt_vec vec[SGT_MAX_VECS];

	/*
	 * The ring and the fence page (coherent). Owned by whoever holds
	 * lock; the engine is idle between fences (every wait drains it).
	 */
	struct simgpu_cmd *ring;
	dma_addr_t ring_dma;
	u64 *fence;
	dma_addr_t fence_dma;
	u32 tail;			/* next entry we write */
	u32 queued;			/* written since the last fence */
	u64 seq;			/* value of the last fence sent */
	unsigned int next_vec;		/* fence vectors rotate */
	unsigned int timeout_ms;

	/* set by the interrupt handlers */
	struct completion done;
	atomic_t engine_error;		/* IRQ_ERROR seen on vector 0 */
	atomic64_t irqs[SGT_MAX_VECS];

	u32 stop_error;			/* REG_ERROR, FAULT of the last stop */
	u64 stop_fault;			/* (kept: a reset clears them) */

	struct mutex lock;		/* one run (or remove) at a time */
	struct sgt_counts cnt;		/* of the current/last run */
	char result[SGT_RESULT_MAX];	/* last run's result line */
	struct dentry *dbg;
};

/* engine.c */
int sgt_engine_start(struct sgt_dev *g);
void sgt_engine_stop(struct sgt_dev *g);
int sgt_push(struct sgt_dev *g, u32 op, u32 flags, u64 src, u64 dst,
	     u64 len, u64 value);
int sgt_fence(struct sgt_dev *g);
int sgt_engine_check(struct sgt_dev *g, const char *when);
u64 sgt_irqs_total(struct sgt_dev *g);

/* pci.c */
int sgt_flr(struct sgt_dev *g);

/* buf.c: a test buffer in system memory, its DMA mapping and content */
enum sgt_kind {
	SGT_KIND_PAGES,		/* order-0 pages, one sg table */
	SGT_KIND_ORDER,		/* high-order chunks, one sg table */
	SGT_KIND_PAGE,		/* larger chunks, dma_map_page each */
	SGT_KIND__COUNT,
};

struct sgt_chunk {
	struct page *page;
	unsigned int order;
	u32 len;
	dma_addr_t dma;			/* SGT_KIND_PAGE only */
};

struct sgt_buf {
	u64 id;				/* pattern stream */
	size_t len;
	enum sgt_kind kind;
	enum dma_data_direction dir;
	unsigned int nchunks;
	struct sgt_chunk *chunk;
	struct sg_table sgt;		/* SGT_KIND_PAGES, SGT_KIND_ORDER */
	bool has_sgt;
	unsigned int mapped;		/* chunks (or 1 for sg) mapped */
};

int sgt_buf_alloc(struct sgt_buf *b, size_t len, enum sgt_kind kind);
void sgt_buf_free(struct sgt_buf *b);
int sgt_buf_map(struct sgt_dev *g, struct sgt_buf *b,
		enum dma_data_direction dir);
void sgt_buf_unmap(struct sgt_dev *g, struct sgt_buf *b);
/* Engine COPY of the whole buffer to (or from) VRAM at voff. */
int sgt_buf_copy(struct sgt_dev *g, struct sgt_buf *b, u64 voff,
		 bool to_vram);
void sgt_buf_fill(struct sgt_buf *b, u64 seed);
void sgt_buf_poison(struct sgt_buf *b);
/* 0 if the buffer holds the pattern, else -EIO and *bad = first offset */
int sgt_buf_verify(struct sgt_buf *b, u64 seed, size_t *bad);
u64 sgt_pattern(u64 seed, u64 id, u64 word);
const char *sgt_kind_name(enum sgt_kind kind);

/* run.c */
int sgt_run(struct sgt_dev *g, char *params);

#endif /* SIMGPU_TEST_H */
