// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * coalesce.c - the guest's mapping coalescer (see coalesce.h): its
 * configuration and memory, the tables, unmap and teardown. Mapping is in
 * coal_map.c, idle mappings and deferred unmaps in coal_idle.c; the state
 * they share is described in coal_int.h.
 */
#include "coal_int.h"

#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

void coal_zero(void *p, size_t n)
{
	unsigned char *b = p;

	while (n--)
		*b++ = 0;
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
	    out->ext_bits > 24 || out->buf_bits > 24 ||
	    out->lazy_max > out->max_batch ||
	    out->keep_recs > COAL_MAX_KEEP_RECS)
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

/* Idle private mappings are looked up by start: a table only with a cache. */
static unsigned int coal_idle_bits(const struct coal_config *cfg)
{
	return cfg->cache_bytes ? cfg->ext_bits : 0;
}

/* Offsets of the parts of the state in the caller's memory. */
struct coal_layout {
	size_t ext_tab, buf_tab, idle_tab, hreq, hext, plan, rec, how, handle;
	size_t defer, total;
};

static void coal_layout(const struct coal_config *cfg, struct coal_layout *l)
{
	size_t off = ALIGN8(sizeof(struct coal));
	size_t b = cfg->max_batch;

	l->ext_tab = off;
	off += ALIGN8(sizeof(struct coal_slot *) << cfg->ext_bits);
	l->buf_tab = off;
	off += ALIGN8(sizeof(struct coal_rec *) << cfg->buf_bits);
	l->idle_tab = off;
	off += ALIGN8(sizeof(struct coal_slot *) << coal_idle_bits(cfg));
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
	l->defer = off;
	off += ALIGN8(sizeof(struct coal_defer) * b);
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
	c->idle_tab = (struct coal_slot **)(base + l.idle_tab);
	c->idle_bits = coal_idle_bits(&conf);
	c->hreq = (struct coal_host_req *)(base + l.hreq);
	c->hext = (struct coal_ext **)(base + l.hext);
	c->plan = (struct coal_ext **)(base + l.plan);
	c->rec = (struct coal_rec **)(base + l.rec);
	c->how = base + l.how;
	c->handle = (uint64_t *)(base + l.handle);
	c->defer = (struct coal_defer *)(base + l.defer);
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

/* ---- extent table (and the idle private table, same shape) */

void coal_slot_insert(struct coal_slot **tab, unsigned int bits,
		      struct coal_slot *s, uint64_t key, struct coal_ext *e)
{
	struct coal_slot **head = &tab[coal_hash(key, bits)];

	s->key = key;
	s->ext = e;
	s->next = *head;
	*head = s;
}

void coal_slot_remove(struct coal_slot **tab, unsigned int bits,
		      struct coal_slot *s)
{
	struct coal_slot **pp = &tab[coal_hash(s->key, bits)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

/* Take a cluster or pair extent out of ext_tab; private ones are in none. */
void coal_ext_unlink(struct coal *c, struct coal_ext *e)
{
	if (e->kind == EXT_PRIVATE)
		return;
	coal_slot_remove(c->ext_tab, c->cfg.ext_bits, &e->slot[0]);
	if (e->kind == EXT_PAIR)
		coal_slot_remove(c->ext_tab, c->cfg.ext_bits, &e->slot[1]);
}

/* The host now holds e's mapping: it counts until its unmap is sent. */
void coal_stats_add_ext(struct coal *c, const struct coal_ext *e)
{
	c->st.live_extents++;
	if (e->kind != EXT_PRIVATE)
		c->st.live_clusters++;
	c->st.mapped_bytes += coal_ext_bytes(c, e);
	if (c->st.live_extents > c->st.peak_extents)
		c->st.peak_extents = c->st.live_extents;
	if (c->st.mapped_bytes > c->st.peak_mapped_bytes)
		c->st.peak_mapped_bytes = c->st.mapped_bytes;
}

/* ---- buffer records kept for reuse (coal_rec_get(), coal_int.h) */

void coal_fini(struct coal *c)
{
	struct coal_rec *r;

	while ((r = c->rec_kept)) {
		c->rec_kept = r->next;
		c->env.free(c->env.ctx, r);
	}
	c->st.recs_kept = 0;
}

/* ---- unmap */

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

/* Unmap one buffer if it is live; drop: its mapping is never kept idle. */
static bool unmap_one(struct coal *c, const struct coal_ubuf *u, bool drop)
{
	bool mismatch;
	struct coal_rec *r = rec_take(c, u->dma, u->len, &mismatch);

	if (!r)
		return false;
	if (mismatch)
		c->st.size_mismatches++;
	c->st.live_buffers--;
	if (drop)
		r->ext->no_idle = true;
	coal_ext_put(c, r->ext);
	coal_rec_put(c, r);
	return true;
}

static unsigned int unmap_bufs(struct coal *c, const struct coal_ubuf *buf,
			       unsigned int n, bool drop)
{
	unsigned int i, skipped = 0;

	for (i = 0; i < n; i++) {
		if (unmap_one(c, &buf[i], drop))
			continue;
		c->st.unknown_unmaps++;
		skipped++;
	}
	coal_end_call(c);
	return skipped;
}

bool coal_unmap_known(struct coal *c, const struct coal_ubuf *u)
{
	bool done = unmap_one(c, u, false);

	coal_end_call(c);
	return done;
}

unsigned int coal_unmap(struct coal *c, const struct coal_ubuf *buf,
			unsigned int n)
{
	return unmap_bufs(c, buf, n, false);
}

unsigned int coal_unmap_drop(struct coal *c, const struct coal_ubuf *buf,
			     unsigned int n)
{
	return unmap_bufs(c, buf, n, true);
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
			coal_ext_put(c, r->ext);
			c->env.free(c->env.ctx, r);
			n++;
		}
	}
	coal_trim(c);
	coal_fini(c);
	return n;
}
