// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * coal_idle.c - what happens to a mapping after its last buffer goes (see
 * coalesce.h): it is kept idle on an LRU list, for the next buffer in its
 * window (cluster, pair) or at its start (private), or it is retired: its
 * unmap is queued, and sent when lazy_max are queued (lazy), at the end of
 * the API call (strict), or when room is needed.
 *
 * Every mapping the host holds counts in live_extents / mapped_bytes from the
 * moment the host answers until its unmap is sent, so the stats always say
 * what the host holds; idle_* and deferred* say how much of it is not in use.
 */
#include "coal_int.h"

/* ---- the queue of unmaps */

/* Send every queued unmap in one host call (n <= max_batch). */
void coal_send_unmaps(struct coal *c)
{
	unsigned int i, n = c->nhandle;

	if (!n)
		return;
	c->env.host_unmap(c->env.ctx, c->handle, n);
	for (i = 0; i < n; i++) {
		c->st.live_extents--;
		if (c->defer[i].cluster)
			c->st.live_clusters--;
		c->st.mapped_bytes -= c->defer[i].bytes;
	}
	c->st.host_unmaps += n;
	c->st.host_calls++;
	if (c->cfg.lazy_max)
		c->st.flushes++;
	c->st.deferred = 0;
	c->st.deferred_bytes = 0;
	c->nhandle = 0;
}

/* Queue the unmap of e, a mapping the host holds; e may be freed next. */
void coal_queue_unmap(struct coal *c, const struct coal_ext *e)
{
	unsigned int limit = c->cfg.lazy_max ? c->cfg.lazy_max :
			     c->cfg.max_batch;
	struct coal_defer *d = &c->defer[c->nhandle];

	c->handle[c->nhandle++] = e->handle;
	d->bytes = coal_ext_bytes(c, e);
	d->cluster = e->kind != EXT_PRIVATE;
	c->st.deferred++;
	c->st.deferred_bytes += d->bytes;
	if (c->nhandle >= limit ||
	    (c->cfg.lazy_bytes && c->st.deferred_bytes >= c->cfg.lazy_bytes))
		coal_send_unmaps(c);
}

unsigned int coal_flush(struct coal *c)
{
	unsigned int n = c->nhandle;

	coal_send_unmaps(c);
	return n;
}

/* ---- idle mappings */

static void lru_unlink(struct coal *c, struct coal_ext *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = NULL;
	e->lru_next = NULL;
}

static void lru_push(struct coal *c, struct coal_ext *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	else
		c->lru_tail = e;
	c->lru_head = e;
}

/* e leaves the idle list (to serve a buffer, or to be evicted). */
void coal_idle_take(struct coal *c, struct coal_ext *e)
{
	lru_unlink(c, e);
	if (e->kind == EXT_PRIVATE)
		coal_slot_remove(c->idle_tab, c->idle_bits, &e->slot[0]);
	e->idle = false;
	c->st.idle_extents--;
	c->st.idle_bytes -= coal_ext_bytes(c, e);
}

/* Unlink e from every table, queue its unmap and free it. */
static void ext_retire(struct coal *c, struct coal_ext *e)
{
	coal_ext_unlink(c, e);
	coal_queue_unmap(c, e);
	c->env.free(c->env.ctx, e);
}

static void evict_tail(struct coal *c)
{
	struct coal_ext *e = c->lru_tail;

	coal_idle_take(c, e);
	c->st.evictions++;
	ext_retire(c, e);
}

/*
 * Keep e (no buffer left) idle if the cache takes it; false if not. A
 * private mapping above cache_bytes / COAL_IDLE_PRIVATE_DIV is not kept: it
 * would push out many small ones for one buffer's reuse. Making room is
 * bounded per API call (lazy_max evictions, max_batch when strict) so that
 * one unmap never sweeps the whole cache; when that is not enough, e is
 * retired instead and the cache stays within cache_bytes.
 */
static bool idle_add(struct coal *c, struct coal_ext *e)
{
	uint64_t bytes = coal_ext_bytes(c, e);
	uint64_t cache = c->cfg.cache_bytes;
	unsigned int cap = c->cfg.lazy_max ? c->cfg.lazy_max :
			   c->cfg.max_batch;

	if (!cache || e->no_idle || bytes > cache ||
	    (e->kind == EXT_PRIVATE && bytes > cache / COAL_IDLE_PRIVATE_DIV))
		return false;
	while (c->lru_tail && c->st.idle_bytes > cache - bytes &&
	       c->cache_evicts < cap) {
		evict_tail(c);
		c->cache_evicts++;
	}
	if (c->st.idle_bytes > cache - bytes)
		return false;
	e->idle = true;
	e->revived = false;
	lru_push(c, e);
	if (e->kind == EXT_PRIVATE)
		coal_slot_insert(c->idle_tab, c->idle_bits, &e->slot[0],
				 e->gpa, e);
	c->st.idle_extents++;
	c->st.idle_bytes += bytes;
	return true;
}

/* A buffer of e went: keep e idle or retire it when it was the last. */
void coal_ext_put(struct coal *c, struct coal_ext *e)
{
	if (--e->refs)
		return;
	if (!idle_add(c, e))
		ext_retire(c, e);
}

/* A failed coal_map() gives back an idle mapping it had taken. */
void coal_idle_return(struct coal *c, struct coal_ext *e)
{
	if (!idle_add(c, e))
		ext_retire(c, e);
}

/*
 * An idle private mapping that serves b: same start, covering b's bytes in
 * one run, with the access b needs.
 */
struct coal_ext *coal_idle_private(struct coal *c, const struct coal_buf *b)
{
	struct coal_slot *s = c->idle_tab[coal_hash(b->gpa, c->idle_bits)];
	uint64_t dma;

	if (!c->st.idle_extents)
		return NULL;
	for (; s; s = s->next) {
		struct coal_ext *e = s->ext;

		if (s->key == b->gpa && (e->dir & b->dir) == b->dir &&
		    coal_ext_translate(e, b->gpa, b->len, &dma))
			return e;
	}
	return NULL;
}

/* Evict every idle mapping (their unmaps queued); count them in *reason. */
void coal_evict_all(struct coal *c, uint64_t *reason)
{
	while (c->lru_tail) {
		evict_tail(c);
		if (reason)
			(*reason)++;
	}
}

void coal_trim(struct coal *c)
{
	c->cache_evicts = 0;
	coal_evict_all(c, NULL);
	coal_send_unmaps(c);
}

/* ---- pins (coalesce.h) */

bool coal_pin_idle(struct coal *c, uint64_t gpa, struct coal_pin *p)
{
	struct coal_ext *e;

	if (!c->cfg.cluster_shift || !c->st.idle_extents)
		return false;
	e = coal_ext_find(c, gpa >> c->cfg.cluster_shift);
	if (!e || !e->idle || e->kind != EXT_SINGLE || e->nruns != 1 ||
	    e->run[0].len != e->len)
		return false;
	coal_idle_take(c, e);
	e->refs = 1;
	c->st.pins++;
	p->gpa = e->gpa;
	p->len = e->len;
	p->dma = e->run[0].dma;
	p->ext = e;
	return true;
}

void coal_unpin(struct coal *c, const struct coal_pin *p)
{
	c->st.pins--;
	coal_ext_put(c, p->ext);
	coal_end_call(c);
}

/* ---- watermark */

/* Would bytes / maps more mappings go above a watermark? */
static bool over(const struct coal *c, uint64_t bytes, uint64_t maps,
		 bool with_deferred)
{
	uint64_t b = c->st.mapped_bytes;
	uint64_t m = c->st.live_extents;

	if (!with_deferred) {
		b -= c->st.deferred_bytes;
		m -= c->st.deferred;
	}
	b = coal_add_sat(b, bytes);
	m = coal_add_sat(m, maps);
	return (c->cfg.watermark_bytes && b > c->cfg.watermark_bytes) ||
	       (c->cfg.watermark_maps && m > c->cfg.watermark_maps);
}

/*
 * Before the host makes maps more mappings of bytes: evict the least
 * recently used idle mappings until in use + idle + new fit under the
 * watermarks, then send the deferred unmaps if they still do not. If in use
 * + new alone are above, everything idle or deferred goes and the call
 * proceeds: the watermark is a target below the host's limit, not a limit.
 */
void coal_make_room(struct coal *c, uint64_t bytes, uint64_t maps)
{
	if (!over(c, bytes, maps, true))
		return;
	while (c->lru_tail && over(c, bytes, maps, false)) {
		evict_tail(c);
		c->st.evict_watermark++;
	}
	if (over(c, bytes, maps, true))
		coal_send_unmaps(c);
}

bool coal_over_watermark(const struct coal *c, uint64_t bytes, uint64_t maps)
{
	return over(c, bytes, maps, true);
}

static uint64_t excess(uint64_t live, uint64_t mark, uint64_t spare)
{
	if (!mark || live <= mark)
		return 0;
	return live - mark < spare ? live - mark : spare;
}

/*
 * After the host made mappings: how much of what lies above a watermark is
 * idle or deferred, i.e. could have been given back first. The peaks say
 * whether coal_make_room() ever fell short: 0 unless it has a bug.
 */
void coal_note_excess(struct coal *c)
{
	uint64_t b = excess(c->st.mapped_bytes, c->cfg.watermark_bytes,
			    c->st.idle_bytes + c->st.deferred_bytes);
	uint64_t m = excess(c->st.live_extents, c->cfg.watermark_maps,
			    c->st.idle_extents + c->st.deferred);

	if (b > c->st.wm_excess_bytes)
		c->st.wm_excess_bytes = b;
	if (m > c->st.wm_excess_maps)
		c->st.wm_excess_maps = m;
}
