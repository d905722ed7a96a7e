// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * coal_map.c - one coal_map() call (see coalesce.h): plan every buffer (a
 * mapping in use or idle that serves it, or a new one), make the new host
 * mappings in one batch, resolve device addresses, then commit or undo it
 * all. A host refusal for space while mappings are idle or deferred undoes
 * the call, frees that space and tries the call once more.
 */
#include "coal_int.h"

/* Internal: the call was undone, to be tried again once space is freed. */
#define COAL_RETRY	1

/* ---- one call's new extents and host requests */

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

		coal_slot_insert(c->ext_tab, c->cfg.ext_bits, &e->slot[0], k, e);
		if (kind == EXT_PAIR)
			coal_slot_insert(c->ext_tab, c->cfg.ext_bits,
					 &e->slot[1], k + 1, e);
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

/*
 * Make the queued host mappings, after making room under the watermarks;
 * returns 0 or the first error.
 */
static int run_host(struct coal *c)
{
	unsigned int i, n = c->nreq;
	uint64_t bytes = 0;
	int err = 0;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		bytes = coal_add_sat(bytes, coal_ext_bytes(c, c->hext[i]));
	coal_make_room(c, bytes, n);
	c->env.host_map(c->env.ctx, c->hreq, n);
	c->nreq = 0;
	c->st.host_maps += n;
	c->st.host_calls++;
	for (i = 0; i < n; i++) {
		struct coal_host_req *r = &c->hreq[i];
		struct coal_ext *e = c->hext[i];

		if (r->err) {
			c->st.host_map_errors++;
			if (r->err == COAL_ENOMEM)
				c->refused = true;
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
		e->handle = r->handle;
		coal_stats_add_ext(c, e);	/* the host holds it now */
		if (!ext_accept(e, r)) {
			/* mapped, but unusable: undo it */
			c->st.host_map_errors++;
			coal_queue_unmap(c, e);
			e->nruns = 0;
			if (!err)
				err = COAL_EIO;
			continue;
		}
		e->state = EXT_MAPPED;
	}
	coal_note_excess(c);
	return err;
}

/* ---- planning one buffer */

static bool window_ok(struct coal *c, uint64_t gpa, uint64_t len)
{
	return !c->env.window_ok || c->env.window_ok(c->env.ctx, gpa, len);
}

/* An extent mapped already serves b if b fits in one of its runs. */
static bool ext_usable(const struct coal_ext *e, const struct coal_buf *b)
{
	uint64_t dma;

	return e->state == EXT_NEW ||
	       coal_ext_translate(e, b->gpa, b->len, &dma);
}

static struct coal_ext *plan_small(struct coal *c, const struct coal_buf *b,
				   unsigned char *how)
{
	unsigned int shift = c->cfg.cluster_shift;
	uint64_t k0 = b->gpa >> shift;
	uint64_t k1 = (b->gpa + b->len - 1) >> shift;
	uint64_t csize = (uint64_t)1 << shift;
	struct coal_ext *e0 = coal_ext_find(c, k0);
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
	e1 = coal_ext_find(c, k1);
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
	bool own = b->flags & COAL_BUF_PRIVATE;
	struct coal_ext *e = NULL;

	*how = HOW_PRIVATE;
	if (c->cfg.cluster_shift && b->len <= c->cfg.small_max && !own)
		e = plan_small(c, b, how);
	if (e || c->nomem)
		return e;
	if (*how != HOW_STRADDLE)
		*how = HOW_PRIVATE;
	/*
	 * A buffer flagged private wants a mapping of its own, never one used
	 * before: guest/ops.c remaps so to get a different device address.
	 * Its mapping is not kept idle either.
	 */
	if (!own) {
		e = coal_idle_private(c, b);
		if (e)
			return e;
	}
	e = ext_new(c, EXT_PRIVATE, b->gpa, b->len, b->dir);
	if (e)
		e->no_idle = own;
	return e;
}

/* ---- map */

/* Undo everything a failed coal_map() call did. */
static void map_rollback(struct coal *c, unsigned int n)
{
	struct coal_ext *e, *next;
	unsigned int i;

	for (i = 0; i < n; i++) {
		e = c->plan[i];
		/* an extent that was idle before the call goes back idle */
		if (e && !--e->refs && e->state == EXT_LIVE)
			coal_idle_return(c, e);
		if (c->rec[i])
			coal_rec_put(c, c->rec[i]);
	}
	for (e = c->call_list; e; e = next) {
		next = e->call_next;
		if (e->state == EXT_MAPPED)
			coal_queue_unmap(c, e);
		coal_ext_unlink(c, e);
		c->env.free(c->env.ctx, e);
	}
	c->call_list = NULL;
	c->nreq = 0;
	/* a failed call leaves nothing of its own on the host */
	coal_send_unmaps(c);
}

/*
 * Publish the call's buffer records (buffer i served by c->plan[i], as
 * c->how[i] says) and count them: for map_commit() and map_hits().
 */
static void recs_commit(struct coal *c, const struct coal_buf *buf,
			unsigned int n)
{
	unsigned int i;

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
		if (r->ext->revived)
			c->st.idle_hits++;
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
	for (i = 0; i < n; i++)
		c->plan[i]->revived = false;
}

/* Make every extent of this call live; drop those left without buffers. */
static void map_commit(struct coal *c, struct coal_buf *buf, unsigned int n)
{
	struct coal_ext *e, *next;

	for (e = c->call_list; e; e = next) {
		next = e->call_next;
		e->call_next = NULL;
		if (!e->refs) {
			/*
			 * a cluster whose only buffers fell back to private,
			 * or that the host refused (never mapped)
			 */
			if (e->state == EXT_MAPPED)
				coal_queue_unmap(c, e);
			coal_ext_unlink(c, e);
			c->env.free(c->env.ctx, e);
			continue;
		}
		e->state = EXT_LIVE;
	}
	c->call_list = NULL;
	recs_commit(c, buf, n);
}

/*
 * A bounded length, and an end that does not wrap even rounded up to a host
 * page: byte counts (mapped_bytes, the watermark sums) stay exact.
 */
static bool buf_valid(const struct coal *c, const struct coal_buf *b)
{
	uint64_t page = (uint64_t)1 << c->cfg.page_shift;

	return b->len && b->len <= COAL_MAX_LEN &&
	       b->gpa <= ~(uint64_t)0 - (b->len + page - 1) && b->dir &&
	       !(b->dir & ~COAL_DIR_BIDIRECTIONAL) &&
	       !(b->flags & ~COAL_BUF_PRIVATE);
}

/*
 * After a refusal for space: could the call succeed once idle mappings and
 * deferred unmaps are gone? Idle ones this call took count: rollback gives
 * them back.
 */
static bool worth_retry(const struct coal *c, unsigned int ntaken)
{
	return c->refused && (c->st.idle_extents || c->st.deferred || ntaken);
}

/* One try at coal_map(); COAL_RETRY: undone, retry after a trim. */
static int map_try(struct coal *c, struct coal_buf *buf, unsigned int n,
		   bool may_retry)
{
	unsigned int i, ntaken = 0;
	bool again = false;
	int err;

	for (i = 0; i < n; i++) {
		c->plan[i] = NULL;
		c->rec[i] = NULL;
	}
	c->call_list = NULL;
	c->nreq = 0;
	c->nomem = false;
	c->refused = false;

	/* Plan every buffer and take its reference; no host call yet. */
	for (i = 0; i < n; i++) {
		struct coal_ext *e;

		c->rec[i] = coal_rec_get(c);
		e = c->rec[i] ? plan_one(c, &buf[i], &c->how[i]) : NULL;
		if (!e) {
			map_rollback(c, n);
			return COAL_ENOMEM;
		}
		if (!e->refs && e->state == EXT_LIVE) {
			coal_idle_take(c, e);
			e->revived = true;
			ntaken++;
		}
		e->refs++;
		c->plan[i] = e;
	}

	err = run_host(c);
	if (err)
		goto fail;
	/* a window refused: better retried whole than made private */
	if (may_retry && worth_retry(c, ntaken)) {
		err = COAL_RETRY;
		goto fail;
	}

	/*
	 * Resolve addresses. A small buffer that a new cluster's segments
	 * split gets a private mapping in a second round.
	 */
	for (i = 0; i < n; i++) {
		struct coal_ext *e = c->plan[i];

		if (coal_ext_translate(e, buf[i].gpa, buf[i].len, &buf[i].dma))
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
		again = true;
	}
	if (again) {
		err = run_host(c);
		if (err)
			goto fail;
		for (i = 0; i < n; i++) {
			if (!coal_ext_translate(c->plan[i], buf[i].gpa,
						buf[i].len, &buf[i].dma)) {
				err = COAL_EIO;
				goto fail;
			}
		}
	}
	map_commit(c, buf, n);
	return 0;

fail:
	if (err == COAL_ENOMEM && may_retry && worth_retry(c, ntaken))
		err = COAL_RETRY;
	map_rollback(c, n);
	return err;
}

/*
 * A mapping that serves b without a host call, as map_try() would find it:
 * b's cluster or pair (in use or idle) for a small buffer, an idle private
 * mapping at b's start for a larger one. NULL: none, or not so simple.
 */
static struct coal_ext *hit_find(struct coal *c, const struct coal_buf *b,
				 uint64_t *dma)
{
	unsigned int shift = c->cfg.cluster_shift;
	struct coal_ext *e;
	uint64_t k0;

	if (b->flags & COAL_BUF_PRIVATE)
		return NULL;
	if (!shift || b->len > c->cfg.small_max) {
		e = coal_idle_private(c, b);
	} else {
		k0 = b->gpa >> shift;
		e = coal_ext_find(c, k0);
		/* a straddler: both clusters must be e's (a pair) */
		if (e && (b->gpa + b->len - 1) >> shift != k0 &&
		    coal_ext_find(c, k0 + 1) != e)
			e = NULL;
	}
	return e && coal_ext_translate(e, b->gpa, b->len, dma) ? e : NULL;
}

/*
 * The common case: every buffer of the call served by a mapping the host
 * holds already (cluster or pair hits; for a call of one buffer, an idle
 * private mapping too). Done without planning, with the stats map_commit()
 * would count. 0: not that case, nothing done; 1: done; COAL_ENOMEM: no
 * memory for a record, nothing done (as map_try() would fail).
 */
static int map_hits(struct coal *c, struct coal_buf *buf, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct coal_ext *e = hit_find(c, &buf[i], &buf[i].dma);

		/* one private mapping cannot serve two buffers of a call */
		if (!e || (n > 1 && e->kind == EXT_PRIVATE))
			return 0;
		c->plan[i] = e;
	}
	for (i = 0; i < n; i++) {
		c->rec[i] = coal_rec_get(c);
		if (!c->rec[i]) {
			while (i--)
				coal_rec_put(c, c->rec[i]);
			return COAL_ENOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		struct coal_ext *e = c->plan[i];

		if (e->idle) {
			coal_idle_take(c, e);
			e->revived = true;
		}
		e->refs++;
		c->how[i] = e->kind == EXT_PRIVATE ? HOW_PRIVATE : HOW_HIT;
	}
	recs_commit(c, buf, n);
	return 1;
}

int coal_map(struct coal *c, struct coal_buf *buf, unsigned int n)
{
	unsigned int i;
	int err;

	if (n > c->cfg.max_batch) {
		c->st.map_errors++;
		return COAL_E2BIG;
	}
	for (i = 0; i < n; i++) {
		if (!buf_valid(c, &buf[i])) {
			c->st.map_errors++;
			return COAL_EINVAL;
		}
	}
	err = map_hits(c, buf, n);
	if (err) {
		if (err < 0)
			c->st.map_errors++;
		coal_end_call(c);
		return err < 0 ? err : 0;
	}
	err = map_try(c, buf, n, true);
	if (err == COAL_RETRY) {
		/* host pressure: free what is not in use, once */
		coal_evict_all(c, &c->st.evict_pressure);
		coal_send_unmaps(c);
		c->st.pressure_retries++;
		err = map_try(c, buf, n, false);
	}
	if (err)
		c->st.map_errors++;
	coal_end_call(c);
	return err;
}
