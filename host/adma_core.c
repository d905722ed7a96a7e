/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * adma_core.c - validation and the mapping table (a doorbell's batch is
 * adma_batch.c).
 *
 * The table is an array of slots with a free list. A handle is
 * (generation << 32 | slot + 1): lookup is O(1), handle 0 is never valid, and
 * a slot reused for a new mapping gets a new generation, so a stale handle
 * (double unmap, a handle from before a reset) is refused rather than
 * unmapping somebody else's mapping - even when both mapped the same GPA.
 * A slot whose generation would wrap is retired instead (never on the free
 * list again), so no handle is ever handed out twice: with a LIFO free list
 * one slot can be reused 2^32 times in minutes.
 */
#include "adma_core_int.h"

/* ---- setup */

static void apply_defaults(struct adma_core_config *c)
{
	if (!c->max_bytes)
		c->max_bytes = ADMA_CORE_DEFAULT_MAX_BYTES;
	if (!c->max_maps)
		c->max_maps = ADMA_CORE_DEFAULT_MAX_MAPS;
	if (!c->max_batch)
		c->max_batch = ADMA_CORE_DEFAULT_MAX_BATCH;
	if (!c->max_segs)
		c->max_segs = ADMA_MAX_SEGS;
}

/* Bytes of batch scratch after the slots (8-byte multiples each). */
static size_t scratch_size(const struct adma_core_config *c)
{
	return !!c->batch_backend * (size_t)c->max_batch *
	       (sizeof(struct adma_req) + sizeof(struct adma_resp) +
		sizeof(struct adma_be_op) + sizeof(uint64_t) + 2 * sizeof(uint32_t));
}

size_t adma_core_size(const struct adma_core_config *cfg)
{
	struct adma_core_config c = *cfg;

	apply_defaults(&c);
	return sizeof(struct adma_core) +
	       (size_t)c.max_maps * sizeof(struct adma_slot) + scratch_size(&c);
}

struct adma_core *adma_core_init(void *mem, const struct adma_core_config *cfg,
				 const struct adma_env *env,
				 const struct adma_backend_ops *ops, void *be)
{
	struct adma_core *c = mem;
	struct adma_core_config conf = *cfg;
	uint32_t i;

	apply_defaults(&conf);
	if (conf.max_batch > ADMA_MAX_BATCH || conf.max_segs > ADMA_MAX_SEGS ||
	    conf.max_maps >= NO_SLOT || !env || !env->read || !env->write ||
	    !env->resolve || !ops || !ops->map || !ops->unmap ||
	    (conf.batch_backend && !ops->batch))
		return 0;

	__builtin_memset(c, 0, sizeof(*c));
	c->cfg = conf;
	c->env = *env;
	c->ops = ops;
	c->be = be;
	for (i = 0; i < conf.max_maps; i++) {
		c->slot[i].gen = 1;
		c->slot[i].live = 0;
		c->slot[i].next_free = i + 1 < conf.max_maps ? i + 1 : NO_SLOT;
	}
	c->free_head = conf.max_maps ? 0 : NO_SLOT;
	c->budget = ~0ull;
	if (conf.batch_backend) {
		c->b_req = (struct adma_req *)&c->slot[conf.max_maps];
		c->b_resp = (struct adma_resp *)&c->b_req[conf.max_batch];
		c->b_op = (struct adma_be_op *)&c->b_resp[conf.max_batch];
		c->b_bytes = (uint64_t *)&c->b_op[conf.max_batch];
		c->b_idx = (uint32_t *)&c->b_bytes[conf.max_batch];
	}
	return c;
}

const struct adma_core_config *adma_core_config(const struct adma_core *c)
{
	return &c->cfg;
}

const struct adma_core_stats *adma_core_stats(const struct adma_core *c)
{
	return &c->st;
}

const char *adma_status_name(int status)
{
	static const char *const names[] = ADMA_STATUS_NAMES;

	if (status < 0 || status >= ADMA_S__COUNT)
		return "unknown";
	return names[status];
}

/* ---- one request */

static uint64_t rounded_bytes(uint64_t gpa, uint64_t len)
{
	return ((gpa + len + PAGE_MASK) & ~PAGE_MASK) - (gpa & ~PAGE_MASK);
}

/* Take slot i out of the table; the backend unmap is the caller's. */
static void release_slot(struct adma_core *c, uint32_t i)
{
	struct adma_slot *s = &c->slot[i];

	c->st.live_maps--;
	c->st.live_bytes -= s->bytes;
	s->live = 0;
	if (s->gen >= ADMA_CORE_GEN_MAX)
		return;		/* retired: its next handle would repeat one */
	s->gen++;
	s->next_free = c->free_head;
	c->free_head = i;
}

static void free_slot(struct adma_core *c, uint32_t i)
{
	c->ops->unmap(c->be, c->slot[i].seg, c->slot[i].nsegs,
		      c->slot[i].cookie);
	release_slot(c, i);
}

/* A backend op that unmaps slot i, which then leaves the table. */
void adma_unmap_op(struct adma_core *c, uint32_t i, struct adma_be_op *o)
{
	const struct adma_slot *s = &c->slot[i];

	*o = (struct adma_be_op){ .kind = ADMA_BE_UNMAP, .nsegs = s->nsegs,
				  .cookie = s->cookie };
	__builtin_memcpy(o->seg, s->seg, sizeof(o->seg));
	release_slot(c, i);
}

/*
 * Free slot i as one of many (reset, roll-back); i = NO_SLOT sends what is
 * queued. A batching backend gets the unmaps max_batch per call, queued in
 * b_op (*n of them): behind the dext each call is a round trip into the
 * kernel, and a reset may release a whole table.
 */
void adma_free_slots(struct adma_core *c, uint32_t i, uint32_t *n)
{
	if (i != NO_SLOT && !c->cfg.batch_backend)
		free_slot(c, i);
	else if (i != NO_SLOT)
		adma_unmap_op(c, i, &c->b_op[(*n)++]);
	if (*n && (*n == c->cfg.max_batch || i == NO_SLOT)) {
		c->ops->batch(c->be, c->b_op, *n);
		*n = 0;
	}
}

/* Everything a MAP must pass before the backend sees it. */
int adma_map_check(struct adma_core *c, const struct adma_req *req,
		   uint64_t *addr, uint64_t *bytes)
{
	int st;

	if (!req->len || !(req->flags & ADMA_REQ_FLAGS_VALID) ||
	    (req->flags & ~ADMA_REQ_FLAGS_VALID) || req->rsvd0 || req->rsvd1 ||
	    req->handle)
		return ADMA_S_INVALID;
	/* the page-rounded end must not wrap either */
	if (req->gpa + req->len < req->gpa || req->gpa + req->len > ~PAGE_MASK)
		return ADMA_S_INVALID;
	/*
	 * The DART maps whole pages: the device reaches the page-rounded range,
	 * so that is what must be RAM. resolve() answers OK or RANGE; anything
	 * else is the embedder failing, not a verdict on the range: IO_ERROR.
	 */
	*bytes = rounded_bytes(req->gpa, req->len);
	st = c->env.resolve(c->env.opaque, req->gpa & ~PAGE_MASK, *bytes, addr);
	if (st != ADMA_S_OK)
		return st == ADMA_S_RANGE ? ADMA_S_RANGE : ADMA_S_IO_ERROR;
	*addr += req->gpa & PAGE_MASK;	/* the backend maps from the GPA's */

	if (c->free_head == NO_SLOT ||
	    *bytes > c->cfg.max_bytes - c->st.live_bytes || *bytes > c->budget)
		return ADMA_S_NO_SPACE;
	c->budget -= *bytes;	/* spent even if the backend then refuses */
	return ADMA_S_OK;
}

/*
 * Count one answer; returns the status the guest gets. Anything that is not
 * an answer (a backend's or resolve()'s own code, PENDING) is IO_ERROR:
 * it never indexes the stats and never reaches the guest.
 */
int adma_count_answer(struct adma_core *c, int st)
{
	if (st <= ADMA_S_PENDING || st >= ADMA_S__COUNT)
		st = ADMA_S_IO_ERROR;
	c->st.status[st]++;
	if (st != ADMA_S_OK)
		c->st.refusals++;
	return st;
}

void adma_note_peaks(struct adma_core *c, uint64_t maps, uint64_t bytes)
{
	if (maps > c->st.peak_maps)
		c->st.peak_maps = maps;
	if (bytes > c->st.peak_bytes)
		c->st.peak_bytes = bytes;
}

/*
 * The backend answered st with nsegs segments (and its cookie) in slot idx,
 * which is off the free list and counted in live_maps/live_bytes: make it
 * live, or undo.
 */
int adma_map_finish(struct adma_core *c, const struct adma_req *req,
		    uint32_t idx, int st, unsigned int nsegs,
		    struct adma_resp *resp)
{
	struct adma_slot *s = &c->slot[idx];
	uint64_t sum = 0;
	unsigned int i;

	if (st == ADMA_S_OK) {
		for (i = 0; i < nsegs && i < c->cfg.max_segs; i++)
			sum += s->seg[i].len;
		if (!nsegs || nsegs > c->cfg.max_segs || sum != req->len) {
			/* a backend that broke its contract: undo, never half-map */
			c->ops->unmap(c->be, s->seg, nsegs < c->cfg.max_segs ?
						      nsegs : c->cfg.max_segs,
				      s->cookie);
			st = ADMA_S_IO_ERROR;
		}
	} else if (st <= ADMA_S_PENDING || st >= ADMA_S__COUNT) {
		st = ADMA_S_IO_ERROR;	/* not an answer */
	}
	if (st != ADMA_S_OK) {
		c->st.live_maps--;
		c->st.live_bytes -= s->bytes;
		s->next_free = c->free_head;
		c->free_head = idx;
		return st;
	}

	s->live = 1;
	s->nsegs = (uint16_t)nsegs;
	resp->handle = ((uint64_t)s->gen << 32) | (idx + 1);
	resp->nsegs = (uint16_t)nsegs;
	for (i = 0; i < nsegs; i++)
		resp->seg[i] = s->seg[i];
	return ADMA_S_OK;
}

/* Take the first free slot for a map of bytes; counted until map_finish. */
uint32_t adma_map_reserve(struct adma_core *c, uint64_t bytes)
{
	uint32_t idx = c->free_head;

	c->free_head = c->slot[idx].next_free;
	c->slot[idx].bytes = bytes;
	c->st.live_maps++;
	c->st.live_bytes += bytes;
	return idx;
}

static int exec_map(struct adma_core *c, const struct adma_req *req,
		    struct adma_resp *resp)
{
	uint64_t addr, bytes;
	unsigned int nsegs = 0;
	uint32_t idx;
	int st;

	st = adma_map_check(c, req, &addr, &bytes);
	if (st != ADMA_S_OK)
		return st;
	idx = adma_map_reserve(c, bytes);
	c->slot[idx].cookie = 0;
	st = c->ops->map(c->be, addr, req->len, req->flags, c->slot[idx].seg,
			 c->cfg.max_segs, &nsegs, &c->slot[idx].cookie);
	st = adma_map_finish(c, req, idx, st, nsegs, resp);
	if (st == ADMA_S_OK)
		adma_note_peaks(c, c->st.live_maps, c->st.live_bytes);
	return st;
}

/* Slot index of a live handle, or NO_SLOT. */
uint32_t adma_lookup(const struct adma_core *c, uint64_t handle)
{
	uint64_t idx = (handle & 0xffffffffu) - 1;

	if ((handle & 0xffffffffu) == 0 || idx >= c->cfg.max_maps)
		return NO_SLOT;
	if (!c->slot[idx].live || c->slot[idx].gen != (uint32_t)(handle >> 32))
		return NO_SLOT;
	return (uint32_t)idx;
}

int adma_unmap_check(struct adma_core *c, const struct adma_req *req,
		     uint32_t *idx)
{
	if (req->flags || req->rsvd0 || req->rsvd1 || req->gpa || req->len)
		return ADMA_S_INVALID;
	*idx = adma_lookup(c, req->handle);
	return *idx == NO_SLOT ? ADMA_S_BAD_HANDLE : ADMA_S_OK;
}

static int exec_unmap(struct adma_core *c, const struct adma_req *req)
{
	uint32_t idx;
	int st = adma_unmap_check(c, req, &idx);

	if (st == ADMA_S_OK)
		free_slot(c, idx);
	return st;
}

int adma_core_exec(struct adma_core *c, const struct adma_req *req,
		   struct adma_resp *resp)
{
	int st;

	__builtin_memset(resp, 0, sizeof(*resp));
	switch (req->op) {
	case ADMA_OP_MAP:
		c->st.requests[ADMA_STAT_MAP]++;
		st = exec_map(c, req, resp);
		break;
	case ADMA_OP_UNMAP:
		c->st.requests[ADMA_STAT_UNMAP]++;
		st = exec_unmap(c, req);
		break;
	default:
		c->st.requests[ADMA_STAT_BADOP]++;
		st = ADMA_S_INVALID;
		break;
	}
	st = adma_count_answer(c, st);
	resp->status = (uint32_t)st;
	return st;
}

void adma_core_release_all(struct adma_core *c)
{
	uint32_t i, n = 0;

	for (i = 0; i < c->cfg.max_maps; i++)
		if (c->slot[i].live)
			adma_free_slots(c, i, &n);
	adma_free_slots(c, NO_SLOT, &n);
}

void adma_core_reset(struct adma_core *c)
{
	adma_core_release_all(c);
	/* what describes this device's life since reset starts again */
	c->st.bad_batches = 0;
	c->st.peak_maps = c->st.live_maps;
	c->st.peak_bytes = c->st.live_bytes;
}
