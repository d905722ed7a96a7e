/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * core_priv.h - the dext core's state, shared by its files only.
 */
#ifndef DEXT_CORE_PRIV_H
#define DEXT_CORE_PRIV_H

#include "dext_core.h"

#define DEXT_MAX_SESSIONS_LIMIT	32
#define NO_SLOT			0xffffffffu
#define DART_PAGE_MASK		((uint64_t)DEXT_PAGE_SIZE - 1)

/* One live DART mapping: the platform's token (an IODMACommand). */
struct dext_map_slot {
	void *mapping;
	uint64_t bytes;		/* page-rounded, for the byte limit */
	uint32_t gen;		/* bumped on free; part of the handle */
	uint32_t next_free;	/* free-list link, NO_SLOT at the end */
	uint16_t region;	/* slot of the region it maps */
	uint16_t live;
};

/* One registered range of the owner's memory (a RAM block). */
struct dext_region {
	void *token;		/* the platform's memory descriptor */
	uint64_t addr;		/* client virtual address */
	uint64_t size;
	uint32_t gen;		/* 1..0xffffff; part of the id */
	uint32_t live_maps;	/* mappings into it */
	bool live;
};

struct dext_session {
	struct dext_core *core;
	void *client;		/* the shell's user client */
	bool open;
};

struct dext_core {
	struct dext_core_config cfg;
	const struct dext_platform_ops *ops;
	void *plat;
	struct dext_irq_page *page;
	struct dext_platform_info pinfo;

	/* from config space at init: what interrupts the function has */
	uint32_t msix_vectors, msi_vectors, intx;
	uint32_t msi_cap, msi_cap_len, msix_cap;	/* offsets, 0: none */

	/* DEXT_LOCK_MAIN */
	struct dext_session *owner;
	struct dext_stats st;
	uint32_t irq_kind;		/* as set by IRQ_SET */
	uint32_t irq_nvec;
	uint32_t free_head;
	struct dext_region region[DEXT_MAX_REGIONS];
	struct dext_session sess[DEXT_MAX_SESSIONS_LIMIT];

	/* DEXT_LOCK_IRQ */
	void *completion;		/* armed OSAction, or NULL */
	void *completion_client;

	struct dext_map_slot slot[];	/* cfg.max_maps */
};

static inline void core_lock(struct dext_core *c, int which)
{
	c->ops->lock(c->plat, which);
}

static inline void core_unlock(struct dext_core *c, int which)
{
	c->ops->unlock(c->plat, which);
}

void core_log(struct dext_core *c, const char *msg);

/* irq.c */
void irq_parse_caps(struct dext_core *c);
int irq_set(struct dext_core *c, uint32_t kind, uint32_t nvec);
int irq_arm(struct dext_session *s, void *completion);
void irq_disarm(struct dext_core *c);
void irq_page_reset(struct dext_core *c);

/* dma.c */
void dma_init(struct dext_core *c);
int dma_region_add(struct dext_session *s, uint64_t addr, uint64_t size,
		   uint64_t flags, uint64_t *id);
int dma_region_remove(struct dext_core *c, uint64_t id);
int dma_batch(struct dext_core *c, const void *in, uint64_t in_size,
	      void *out, uint64_t *out_size);
void dma_release_all(struct dext_core *c);

/* dispatch.c */
void core_stats(struct dext_core *c, struct dext_stats *out);
int dev_reset(struct dext_core *c, uint32_t how, uint32_t *done);

#endif /* DEXT_CORE_PRIV_H */
