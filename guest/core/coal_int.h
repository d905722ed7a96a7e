/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * coal_int.h - the coalescer's private state, shared by its files:
 *   coalesce.c  configuration, tables, unmap, teardown;
 *   coal_map.c  planning and making the mappings of one coal_map() call;
 *   coal_idle.c idle mappings (LRU cache) and the queue of deferred unmaps.
 * Not for embedders: they see coalesce.h only.
 *
 * Two hash tables with chained buckets, their heads in the caller's memory:
 *   ext_tab: cluster index -> slot of the extent mapping that cluster
 *            (a pair has two slots, one per cluster), idle or in use;
 *   buf_tab: device address -> record of a live buffer.
 * A private extent is in neither: its buffer's record finds it while in use,
 * and idle_tab (start gpa -> slot[0]) while it is idle.
 */
#ifndef COAL_INT_H
#define COAL_INT_H

#include "coalesce.h"

/* Kinds of extent. */
#define EXT_SINGLE	0	/* one cluster window */
#define EXT_PAIR	1	/* two cluster windows, one host mapping */
#define EXT_PRIVATE	2	/* exactly one buffer's bytes */

/* State of an extent while coal_map() runs; EXT_LIVE otherwise. */
#define EXT_LIVE	0
#define EXT_NEW		1	/* made by this call, not yet mapped */
#define EXT_MAPPED	2	/* made and mapped by this call */

struct coal_ext;

/* A cluster index's entry in ext_tab (or an idle private's in idle_tab). */
struct coal_slot {
	struct coal_slot *next;
	uint64_t key;
	struct coal_ext *ext;
};

struct coal_ext {
	struct coal_slot slot[2];	/* SINGLE: slot[0]; PAIR: both */
	struct coal_ext *call_next;	/* extents made by this coal_map() */
	struct coal_ext *lru_prev;	/* idle list, most recent first */
	struct coal_ext *lru_next;
	uint64_t gpa;
	uint64_t len;
	uint64_t handle;
	uint64_t refs;			/* buffers served; 0: idle */
	unsigned int kind;
	unsigned int state;
	unsigned int dir;
	bool idle;			/* on the idle list */
	bool no_idle;			/* never kept: COAL_BUF_PRIVATE, dropped */
	bool revived;			/* idle when this coal_map() began */
	unsigned int nruns;		/* device-contiguous runs in run[] */
	struct coal_seg run[COAL_MAX_SEGS];
};

/* A live buffer. */
struct coal_rec {
	struct coal_rec *next;
	uint64_t dma;
	uint64_t len;
	struct coal_ext *ext;
};

/* A deferred unmap: what its mapping counts for in the stats. */
struct coal_defer {
	uint64_t bytes;
	bool cluster;
};

/* How one buffer of a coal_map() call is served, for the stats. */
#define HOW_HIT		0
#define HOW_MISS	1
#define HOW_PAIR	2
#define HOW_PRIVATE	3
#define HOW_STRADDLE	4	/* a straddler mapped privately */

struct coal {
	struct coal_config cfg;
	struct coal_env env;
	struct coal_stats st;
	struct coal_slot **ext_tab;
	struct coal_rec **buf_tab;
	struct coal_slot **idle_tab;	/* 1 << idle_bits buckets */
	unsigned int idle_bits;
	struct coal_ext *lru_head;	/* most recently idle */
	struct coal_ext *lru_tail;	/* evicted first */
	/* scratch for one call, max_batch entries each */
	struct coal_host_req *hreq;
	struct coal_ext **hext;		/* extent of each hreq */
	struct coal_ext **plan;		/* extent serving each buffer */
	struct coal_rec **rec;		/* record prepared for each buffer */
	unsigned char *how;		/* HOW_* of each buffer */
	/* unmaps queued (deferred, or batched within a call), max_batch */
	uint64_t *handle;
	struct coal_defer *defer;
	unsigned int nreq;
	unsigned int nhandle;
	unsigned int cache_evicts;	/* for the cache bound, this call */
	bool nomem;			/* an allocation failed in this call */
	bool refused;			/* the host said COAL_ENOMEM this call */
	struct coal_ext *call_list;
	struct coal_rec *rec_kept;	/* records kept for reuse, via next */
};

static inline uint32_t coal_hash(uint64_t key, unsigned int bits)
{
	if (!bits)
		return 0;
	return (uint32_t)((key * 0x61c8864680b583ebull) >> (64 - bits));
}

/* The extent of cluster number key (gpa >> cluster_shift), or NULL. */
static inline struct coal_ext *coal_ext_find(const struct coal *c,
					     uint64_t key)
{
	const struct coal_slot *s = c->ext_tab[coal_hash(key, c->cfg.ext_bits)];

	for (; s; s = s->next)
		if (s->key == key)
			return s->ext;
	return NULL;
}

/* A private mapping above cache_bytes / this is never kept idle. */
#define COAL_IDLE_PRIVATE_DIV	8

/* a + b, held at the top: byte sums never wrap below a watermark. */
static inline uint64_t coal_add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? ~(uint64_t)0 : a + b;
}

static inline uint64_t coal_ext_bytes(const struct coal *c,
				      const struct coal_ext *e)
{
	uint64_t mask = ((uint64_t)1 << c->cfg.page_shift) - 1;
	uint64_t start = e->gpa & ~mask;
	uint64_t end = (e->gpa + e->len + mask) & ~mask;

	return end - start;
}

/* coalesce.c */
void coal_zero(void *p, size_t n);
void coal_slot_insert(struct coal_slot **tab, unsigned int bits,
		      struct coal_slot *s, uint64_t key, struct coal_ext *e);
void coal_slot_remove(struct coal_slot **tab, unsigned int bits,
		      struct coal_slot *s);
void coal_ext_unlink(struct coal *c, struct coal_ext *e);
void coal_stats_add_ext(struct coal *c, const struct coal_ext *e);

/* coal_idle.c */
void coal_queue_unmap(struct coal *c, const struct coal_ext *e);
void coal_send_unmaps(struct coal *c);
void coal_ext_put(struct coal *c, struct coal_ext *e);
void coal_idle_take(struct coal *c, struct coal_ext *e);
void coal_idle_return(struct coal *c, struct coal_ext *e);
struct coal_ext *coal_idle_private(struct coal *c, const struct coal_buf *b);
void coal_make_room(struct coal *c, uint64_t bytes, uint64_t maps);
void coal_note_excess(struct coal *c);
void coal_evict_all(struct coal *c, uint64_t *reason);

/*
 * The hot path's helpers, inline: one call and return less each (under
 * emulation, calls and returns are much of a cache hit's cost).
 */

/*
 * Device address of [gpa, gpa + len) in e, if it lies in one device-
 * contiguous run of e's mapping.
 */
static inline bool coal_ext_translate(const struct coal_ext *e,
				      uint64_t gpa, uint64_t len,
				      uint64_t *dma)
{
	uint64_t off, start = 0;
	unsigned int i;

	if (gpa < e->gpa || gpa - e->gpa > e->len || len > e->len ||
	    gpa - e->gpa > e->len - len)
		return false;
	off = gpa - e->gpa;
	for (i = 0; i < e->nruns; i++) {
		const struct coal_seg *r = &e->run[i];

		if (off < start + r->len) {
			if (off + len > start + r->len)
				return false;
			*dma = r->dma + (off - start);
			return true;
		}
		start += r->len;
	}
	return false;
}

/* Buffer records: kept for reuse up to keep_recs. */
static inline struct coal_rec *coal_rec_get(struct coal *c)
{
	struct coal_rec *r = c->rec_kept;

	if (!r)
		return c->env.alloc(c->env.ctx, sizeof(*r));
	c->rec_kept = r->next;
	c->st.recs_kept--;
	return r;
}

static inline void coal_rec_put(struct coal *c, struct coal_rec *r)
{
	if (c->st.recs_kept >= c->cfg.keep_recs) {
		c->env.free(c->env.ctx, r);
		return;
	}
	r->next = c->rec_kept;
	c->rec_kept = r;
	c->st.recs_kept++;
}

/* Every API call ends here: strict sends what the call queued. */
static inline void coal_end_call(struct coal *c)
{
	c->cache_evicts = 0;
	if (!c->cfg.lazy_max && c->nhandle)
		coal_send_unmaps(c);
}

#endif /* COAL_INT_H */
