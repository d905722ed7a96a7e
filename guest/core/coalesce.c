// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * coalesce.c - the guest's mapping coalescer (see coalesce.h).
 *
 * Two hash tables with chained buckets, their heads in the caller's memory:
 *   ext_tab: cluster index -> slot of the extent mapping that cluster
 *            (a pair has two slots, one per cluster);
 *   buf_tab: device address -> record of a live buffer.
 * Private extents are in no table: only their buffer's record finds them.
 */
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

/* A cluster index's entry in ext_tab. */
struct coal_slot {
	struct coal_slot *next;
	uint64_t key;
	struct coal_ext *ext;
};

struct coal_ext {
	struct coal_slot slot[2];	/* SINGLE: slot[0]; PAIR: both */
	struct coal_ext *call_next;	/* extents made by this coal_map() */
	uint64_t gpa;
	uint64_t len;
	uint64_t handle;
	uint64_t refs;			/* buffers served */
	unsigned int kind;
	unsigned int state;
	unsigned int dir;
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
	/* scratch for one call, max_batch entries each */
	struct coal_host_req *hreq;
	struct coal_ext **hext;		/* extent of each hreq */
	struct coal_ext **plan;		/* extent serving each buffer */
	struct coal_rec **rec;		/* record prepared for each buffer */
	unsigned char *how;		/* HOW_* of each buffer */
	uint64_t *handle;		/* unmaps queued */
	unsigned int nreq;
	unsigned int nhandle;
	bool nomem;			/* an allocation failed in this call */
	struct coal_ext *call_list;
};

#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

static void coal_zero(void *p, size_t n)
{
	unsigned char *b = p;

	while (n--)
		*b++ = 0;
}

static uint32_t coal_hash(uint64_t key, unsigned int bits)
{
	return (uint32_t)((key * 0x61c8864680b583ebull) >> (64 - bits));
}

static bool coal_fill_config(struct coal_config *out,
			     const struct coal_config *in)
{
	*out = *in;
	if (!out->page_shift)
		out->page_shift = COAL_DEFAULT_PAGE_SHIFT;
	if (!out->max_batch)
		out->max_batch = COAL_DEFAULT_MAX_BATCH;
	if (!out->ext_bits)
		out->ext_bits = COAL_DEFAULT_EXT_BITS;
	if (!out->buf_bits)
		out->buf_bits = COAL_DEFAULT_BUF_BITS;
	if (out->page_shift > 30 || out->max_batch > 65536 ||
	    out->ext_bits > 24 || out->buf_bits > 24)
		return false;
	if (!out->cluster_shift) {
		out->small_max = 0;
		return true;
	}
	if (out->cluster_shift < COAL_MIN_CLUSTER_SHIFT ||
	    out->cluster_shift > COAL_MAX_CLUSTER_SHIFT)
		return false;
	if (!out->small_max)
		out->small_max = (uint64_t)1 << (out->cluster_shift - 1);
	return out->small_max <= (uint64_t)1 << out->cluster_shift;
}

/* Offsets of the parts of the state in the caller's memory. */
struct coal_layout {
	size_t ext_tab, buf_tab, hreq, hext, plan, rec, how, handle, total;
};

static void coal_layout(const struct coal_config *cfg, struct coal_layout *l)
{
	size_t off = ALIGN8(sizeof(struct coal));
	size_t b = cfg->max_batch;

	l->ext_tab = off;
	off += ALIGN8(sizeof(struct coal_slot *) << cfg->ext_bits);
	l->buf_tab = off;
	off += ALIGN8(sizeof(struct coal_rec *) << cfg->buf_bits);
	l->hreq = off;
	off += ALIGN8(sizeof(struct coal_host_req) * b);
	l->hext = off;
	off += ALIGN8(sizeof(struct coal_ext *) * b);
	l->plan = off;
	off += ALIGN8(sizeof(struct coal_ext *) * b);
	l->rec = off;
	off += ALIGN8(sizeof(struct coal_rec *) * b);
	l->how = off;
	off += ALIGN8(b);
	l->handle = off;
	off += ALIGN8(sizeof(uint64_t) * b);
	l->total = off;
}

size_t coal_size(const struct coal_config *cfg)
{
	struct coal_config c;
	struct coal_layout l;

	if (!coal_fill_config(&c, cfg))
		return 0;
	coal_layout(&c, &l);
	return l.total;
}

struct coal *coal_init(void *mem, const struct coal_config *cfg,
		       const struct coal_env *env)
{
	struct coal_config conf;
	struct coal_layout l;
	unsigned char *base = mem;
	struct coal *c = mem;

	if (!mem || !env || !env->host_map || !env->host_unmap ||
	    !env->alloc || !env->free || !coal_fill_config(&conf, cfg))
		return NULL;
	coal_layout(&conf, &l);
	coal_zero(mem, l.total);
	c->cfg = conf;
	c->env = *env;
	c->ext_tab = (struct coal_slot **)(base + l.ext_tab);
	c->buf_tab = (struct coal_rec **)(base + l.buf_tab);
	c->hreq = (struct coal_host_req *)(base + l.hreq);
	c->hext = (struct coal_ext **)(base + l.hext);
	c->plan = (struct coal_ext **)(base + l.plan);
	c->rec = (struct coal_rec **)(base + l.rec);
	c->how = base + l.how;
	c->handle = (uint64_t *)(base + l.handle);
	return c;
}

const struct coal_config *coal_config(const struct coal *c)
{
	return &c->cfg;
}

const struct coal_stats *coal_stats(const struct coal *c)
{
	return &c->st;
}

/* ---- extent table */

static struct coal_ext *ext_find(struct coal *c, uint64_t key)
{
	struct coal_slot *s = c->ext_tab[coal_hash(key, c->cfg.ext_bits)];

	for (; s; s = s->next)
		if (s->key == key)
			return s->ext;
	return NULL;
}

static void slot_insert(struct coal *c, struct coal_slot *s, uint64_t key,
			struct coal_ext *e)
{
	struct coal_slot **head = &c->ext_tab[coal_hash(key, c->cfg.ext_bits)];

	s->key = key;
	s->ext = e;
	s->next = *head;
	*head = s;
}

static void slot_remove(struct coal *c, struct coal_slot *s)
{
	struct coal_slot **pp = &c->ext_tab[coal_hash(s->key, c->cfg.ext_bits)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

static void ext_unlink(struct coal *c, struct coal_ext *e)
{
	if (e->kind == EXT_PRIVATE)
		return;
	slot_remove(c, &e->slot[0]);
	if (e->kind == EXT_PAIR)
		slot_remove(c, &e->slot[1]);
}

static uint64_t ext_bytes(const struct coal *c, const struct coal_ext *e)
{
	uint64_t mask = ((uint64_t)1 << c->cfg.page_shift) - 1;
	uint64_t start = e->gpa & ~mask;
	uint64_t end = (e->gpa + e->len + mask) & ~mask;

	return end - start;
}

/*
 * Device address of [gpa, gpa + len) in e, if it lies in one device-
 * contiguous run of e's mapping.
 */
static bool ext_translate(const struct coal_ext *e, uint64_t gpa,
			  uint64_t len, uint64_t *dma)
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

/* ---- one call's new extents and host requests */

static void queue_unmap(struct coal *c, uint64_t handle)
{
	c->handle[c->nhandle++] = handle;
	if (c->nhandle == c->cfg.max_batch) {
		c->env.host_unmap(c->env.ctx, c->handle, c->nhandle);
		c->nhandle = 0;
	}
}

static void flush_unmaps(struct coal *c)
{
	if (c->nhandle)
		c->env.host_unmap(c->env.ctx, c->handle, c->nhandle);
	c->nhandle = 0;
}

static struct coal_ext *ext_new(struct coal *c, unsigned int kind,
				uint64_t gpa, uint64_t len, unsigned int dir)
{
	struct coal_ext *e;
	struct coal_host_req *r;

	if (c->nreq >= c->cfg.max_batch)
		return NULL;	/* cannot happen: one new extent per buffer */
	e = c->env.alloc(c->env.ctx, sizeof(*e));
	if (!e) {
		c->nomem = true;
		return NULL;
	}
	coal_zero(e, sizeof(*e));
	e->kind = kind;
	e->state = EXT_NEW;
	e->gpa = gpa;
	e->len = len;
	e->dir = dir;
	e->call_next = c->call_list;
	c->call_list = e;
	if (kind != EXT_PRIVATE) {
		uint64_t k = gpa >> c->cfg.cluster_shift;

		slot_insert(c, &e->slot[0], k, e);
		if (kind == EXT_PAIR)
			slot_insert(c, &e->slot[1], k + 1, e);
	}
	r = &c->hreq[c->nreq];
	coal_zero(r, sizeof(*r));
	r->gpa = gpa;
	r->len = len;
	r->dir = dir;
	c->hext[c->nreq++] = e;
	return e;
}

/* Check the host's answer and merge its segments into device runs. */
static bool ext_accept(struct coal_ext *e, const struct coal_host_req *r)
{
	uint64_t sum = 0;
	unsigned int i;

	if (r->nsegs < 1 || r->nsegs > COAL_MAX_SEGS)
		return false;
	e->nruns = 0;
	for (i = 0; i < r->nsegs; i++) {
		const struct coal_seg *s = &r->seg[i];
		struct coal_seg *last = e->nruns ? &e->run[e->nruns - 1] : NULL;

		if (!s->len || s->len > r->len - sum || s->dma + s->len < s->dma)
			return false;
		sum += s->len;
		if (last && last->dma + last->len == s->dma)
			last->len += s->len;
		else
			e->run[e->nruns++] = *s;
	}
	return sum == r->len;
}

/* Make the queued host mappings; returns 0 or the first error. */
static int run_host(struct coal *c)
{
	unsigned int i, n = c->nreq;
	int err = 0;

	if (!n)
		return 0;
	c->env.host_map(c->env.ctx, c->hreq, n);
	c->nreq = 0;
	c->st.host_maps += n;
	for (i = 0; i < n; i++) {
		struct coal_host_req *r = &c->hreq[i];
		struct coal_ext *e = c->hext[i];

		if (r->err) {
			c->st.host_map_errors++;
			/*
			 * A window refused for space: its buffers are
			 * retried privately (e stays unmapped, nruns 0).
			 */
			if (r->err == COAL_ENOMEM && e->kind != EXT_PRIVATE) {
				c->st.cluster_refused++;
				continue;
			}
			if (!err)
				err = r->err < 0 ? r->err : COAL_EIO;
			continue;
		}
		if (!ext_accept(e, r)) {
			/* mapped, but unusable: undo it now */
			c->st.host_map_errors++;
			queue_unmap(c, r->handle);
			if (!err)
				err = COAL_EIO;
			continue;
		}
		e->handle = r->handle;
		e->state = EXT_MAPPED;
	}
	return err;
}

/* ---- planning one buffer */

static bool window_ok(struct coal *c, uint64_t gpa, uint64_t len)
{
	return !c->env.window_ok || c->env.window_ok(c->env.ctx, gpa, len);
}

/* A live extent serves b if b fits in one of its runs; a new one may. */
static bool ext_usable(const struct coal_ext *e, const struct coal_buf *b)
{
	uint64_t dma;

	return e->state == EXT_NEW || ext_translate(e, b->gpa, b->len, &dma);
}

static struct coal_ext *plan_small(struct coal *c, const struct coal_buf *b,
				   unsigned char *how)
{
	unsigned int shift = c->cfg.cluster_shift;
	uint64_t k0 = b->gpa >> shift;
	uint64_t k1 = (b->gpa + b->len - 1) >> shift;
	uint64_t csize = (uint64_t)1 << shift;
	struct coal_ext *e0 = ext_find(c, k0);
	struct coal_ext *e1;

	if (k0 == k1) {
		if (e0) {
			if (!ext_usable(e0, b))
				return NULL;
			*how = HOW_HIT;
			return e0;
		}
		if (k0 + 1 > ~(uint64_t)0 >> shift ||
		    !window_ok(c, k0 << shift, csize))
			return NULL;
		*how = HOW_MISS;
		return ext_new(c, EXT_SINGLE, k0 << shift, csize,
			       COAL_DIR_BIDIRECTIONAL);
	}
	/* straddles k0 and k1 = k0 + 1 (small_max <= one cluster) */
	*how = HOW_STRADDLE;
	e1 = ext_find(c, k1);
	if (e0 && e0 == e1) {
		if (!ext_usable(e0, b))
			return NULL;
		*how = HOW_HIT;
		return e0;
	}
	if (e0 || e1 || k1 + 1 > ~(uint64_t)0 >> shift ||
	    !window_ok(c, k0 << shift, 2 * csize))
		return NULL;
	*how = HOW_PAIR;
	return ext_new(c, EXT_PAIR, k0 << shift, 2 * csize,
		       COAL_DIR_BIDIRECTIONAL);
}

static struct coal_ext *plan_one(struct coal *c, const struct coal_buf *b,
				 unsigned char *how)
{
	struct coal_ext *e = NULL;

	*how = HOW_PRIVATE;
	if (c->cfg.cluster_shift && b->len <= c->cfg.small_max &&
	    !(b->flags & COAL_BUF_PRIVATE))
		e = plan_small(c, b, how);
	if (e || c->nomem)
		return e;
	if (*how != HOW_STRADDLE)
		*how = HOW_PRIVATE;
	return ext_new(c, EXT_PRIVATE, b->gpa, b->len, b->dir);
}

/* ---- map */

static void stats_add_ext(struct coal *c, const struct coal_ext *e)
{
	c->st.live_extents++;
	if (e->kind != EXT_PRIVATE)
		c->st.live_clusters++;
	c->st.mapped_bytes += ext_bytes(c, e);
	if (c->st.live_extents > c->st.peak_extents)
		c->st.peak_extents = c->st.live_extents;
	if (c->st.mapped_bytes > c->st.peak_mapped_bytes)
		c->st.peak_mapped_bytes = c->st.mapped_bytes;
}

static void stats_del_ext(struct coal *c, const struct coal_ext *e)
{
	c->st.live_extents--;
	if (e->kind != EXT_PRIVATE)
		c->st.live_clusters--;
	c->st.mapped_bytes -= ext_bytes(c, e);
}

/* Undo everything a failed coal_map() call did. */
static void map_rollback(struct coal *c, unsigned int n)
{
	struct coal_ext *e, *next;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (c->plan[i])
			c->plan[i]->refs--;
		if (c->rec[i])
			c->env.free(c->env.ctx, c->rec[i]);
	}
	for (e = c->call_list; e; e = next) {
		next = e->call_next;
		if (e->state == EXT_MAPPED)
			queue_unmap(c, e->handle);
		ext_unlink(c, e);
		c->env.free(c->env.ctx, e);
	}
	c->call_list = NULL;
	c->nreq = 0;
	flush_unmaps(c);
	c->st.map_errors++;
}

/* Make every extent of this call live; drop those left without buffers. */
static void map_commit(struct coal *c, struct coal_buf *buf, unsigned int n)
{
	struct coal_ext *e, *next;
	unsigned int i;

	for (e = c->call_list; e; e = next) {
		next = e->call_next;
		e->call_next = NULL;
		if (!e->refs) {
			/*
			 * a cluster whose only buffers fell back to private,
			 * or that the host refused (never mapped)
			 */
			if (e->state == EXT_MAPPED)
				queue_unmap(c, e->handle);
			ext_unlink(c, e);
			c->env.free(c->env.ctx, e);
			continue;
		}
		e->state = EXT_LIVE;
		stats_add_ext(c, e);
	}
	c->call_list = NULL;
	flush_unmaps(c);

	for (i = 0; i < n; i++) {
		struct coal_rec *r = c->rec[i];
		struct coal_rec **head;

		r->dma = buf[i].dma;
		r->len = buf[i].len;
		r->ext = c->plan[i];
		head = &c->buf_tab[coal_hash(r->dma, c->cfg.buf_bits)];
		r->next = *head;
		*head = r;
		c->st.live_buffers++;
		c->st.buffers_mapped++;
		if (c->st.live_buffers > c->st.peak_buffers)
			c->st.peak_buffers = c->st.live_buffers;
		switch (c->how[i]) {
		case HOW_HIT:
			c->st.cluster_hits++;
			break;
		case HOW_PAIR:
			c->st.pairs++;
			c->st.cluster_misses++;
			break;
		case HOW_MISS:
			c->st.cluster_misses++;
			break;
		case HOW_STRADDLE:
			c->st.straddle_private++;
			c->st.private_maps++;
			break;
		default:
			c->st.private_maps++;
			break;
		}
	}
}

static bool buf_valid(const struct coal_buf *b)
{
	return b->len && b->gpa + b->len > b->gpa && b->dir &&
	       !(b->dir & ~COAL_DIR_BIDIRECTIONAL) &&
	       !(b->flags & ~COAL_BUF_PRIVATE);
}

int coal_map(struct coal *c, struct coal_buf *buf, unsigned int n)
{
	bool retry = false;
	unsigned int i;
	int err;

	if (n > c->cfg.max_batch) {
		c->st.map_errors++;
		return COAL_E2BIG;
	}
	for (i = 0; i < n; i++) {
		if (!buf_valid(&buf[i])) {
			c->st.map_errors++;
			return COAL_EINVAL;
		}
		c->plan[i] = NULL;
		c->rec[i] = NULL;
	}
	c->call_list = NULL;
	c->nreq = 0;
	c->nomem = false;

	/* Plan every buffer and take its reference; no host call yet. */
	for (i = 0; i < n; i++) {
		c->rec[i] = c->env.alloc(c->env.ctx, sizeof(struct coal_rec));
		c->plan[i] = c->rec[i] ? plan_one(c, &buf[i], &c->how[i]) : NULL;
		if (!c->plan[i]) {
			map_rollback(c, n);
			return COAL_ENOMEM;
		}
		c->plan[i]->refs++;
	}

	err = run_host(c);
	if (err)
		goto fail;

	/*
	 * Resolve addresses. A small buffer that a new cluster's segments
	 * split gets a private mapping in a second round.
	 */
	for (i = 0; i < n; i++) {
		struct coal_ext *e = c->plan[i];

		if (ext_translate(e, buf[i].gpa, buf[i].len, &buf[i].dma))
			continue;
		if (e->kind == EXT_PRIVATE) {
			err = COAL_EIO;		/* not device-contiguous */
			goto fail;
		}
		e->refs--;
		c->plan[i] = NULL;
		e = ext_new(c, EXT_PRIVATE, buf[i].gpa, buf[i].len,
			    buf[i].dir);
		if (!e) {
			err = COAL_ENOMEM;
			goto fail;
		}
		e->refs++;
		c->plan[i] = e;
		c->how[i] = HOW_PRIVATE;
		retry = true;
	}
	if (retry) {
		err = run_host(c);
		if (err)
			goto fail;
		for (i = 0; i < n; i++) {
			if (!ext_translate(c->plan[i], buf[i].gpa, buf[i].len,
					   &buf[i].dma)) {
				err = COAL_EIO;
				goto fail;
			}
		}
	}
	map_commit(c, buf, n);
	return 0;

fail:
	map_rollback(c, n);
	return err;
}

/* ---- unmap */

static void ext_put(struct coal *c, struct coal_ext *e)
{
	if (--e->refs)
		return;
	ext_unlink(c, e);
	stats_del_ext(c, e);
	queue_unmap(c, e->handle);
	c->env.free(c->env.ctx, e);
}

static struct coal_rec *rec_take(struct coal *c, uint64_t dma, uint64_t len,
				 bool *mismatch)
{
	struct coal_rec **head = &c->buf_tab[coal_hash(dma, c->cfg.buf_bits)];
	struct coal_rec **pp, **any = NULL;
	struct coal_rec *r;

	for (pp = head; *pp; pp = &(*pp)->next) {
		if ((*pp)->dma != dma)
			continue;
		if ((*pp)->len == len)
			break;
		if (!any)
			any = pp;
	}
	*mismatch = false;
	if (!*pp) {
		if (!any)
			return NULL;
		pp = any;
		*mismatch = true;
	}
	r = *pp;
	*pp = r->next;
	return r;
}

unsigned int coal_unmap(struct coal *c, const struct coal_ubuf *buf,
			unsigned int n)
{
	unsigned int i, skipped = 0;

	for (i = 0; i < n; i++) {
		bool mismatch;
		struct coal_rec *r = rec_take(c, buf[i].dma, buf[i].len,
					      &mismatch);

		if (!r) {
			c->st.unknown_unmaps++;
			skipped++;
			continue;
		}
		if (mismatch)
			c->st.size_mismatches++;
		c->st.live_buffers--;
		ext_put(c, r->ext);
		c->env.free(c->env.ctx, r);
	}
	flush_unmaps(c);
	return skipped;
}

uint64_t coal_release_all(struct coal *c)
{
	uint64_t n = 0;
	size_t b, nb = (size_t)1 << c->cfg.buf_bits;

	for (b = 0; b < nb; b++) {
		struct coal_rec *r;

		while ((r = c->buf_tab[b])) {
			c->buf_tab[b] = r->next;
			c->st.live_buffers--;
			ext_put(c, r->ext);
			c->env.free(c->env.ctx, r);
			n++;
		}
	}
	flush_unmaps(c);
	return n;
}

uint64_t coal_pick(const struct coal_want *w, uint64_t dma, uint64_t len)
{
	uint64_t a = w->align ? w->align : 1;
	uint64_t off = (a - (dma & (a - 1))) & (a - 1);
	uint64_t use = dma + off, last = use + w->size - 1;

	if (!dma || !w->size || off > len || w->size > len - off ||
	    use < dma || last < use || last > w->mask)
		return 0;
	/* a buffer longer than a segment cannot keep to one */
	if (w->size - 1 <= w->boundary && ((use ^ last) & ~w->boundary))
		return 0;
	return use;
}
