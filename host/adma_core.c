/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * adma_core.c - batch parsing, validation and the mapping table.
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
#include "adma_core.h"

#define PAGE_MASK	((uint64_t)ADMA_PAGE_SIZE - 1)
#define CHUNK		16	/* requests read and answered per step */
#define NO_SLOT		0xffffffffu

/* Last generation a slot is used with (a unit test build sets it small). */
#ifndef ADMA_CORE_GEN_MAX
#define ADMA_CORE_GEN_MAX	0xffffffffu
#endif

struct adma_slot {
	uint32_t gen;		/* bumped on free; part of the handle */
	uint32_t next_free;	/* free-list link, NO_SLOT at the end */
	uint64_t bytes;		/* page-rounded size, for the byte limit */
	uint64_t cookie;	/* the backend's name for it (map()'s) */
	uint16_t live;
	uint16_t nsegs;
	struct adma_seg seg[ADMA_MAX_SEGS];
};

struct adma_core {
	struct adma_core_config cfg;
	struct adma_env env;
	const struct adma_backend_ops *ops;
	void *be;
	struct adma_core_stats st;
	uint32_t free_head;
	/*
	 * Page-rounded bytes the MAPs of this doorbell may still hand to the
	 * backend (~0 outside a doorbell). Limits alone do not bound a
	 * doorbell's work: a guest can predict its next handle and unmap in
	 * the same batch what it maps, max_batch/2 times.
	 */
	uint64_t budget;
	/* cfg.batch_backend: one doorbell's requests, answers, backend ops */
	struct adma_req *b_req;
	struct adma_resp *b_resp;
	struct adma_be_op *b_op;
	uint64_t *b_bytes;		/* op j: UNMAP: the bytes it released */
	uint32_t *b_idx;		/* op j: its request, its slot (MAP) */
	struct adma_slot slot[];	/* cfg.max_maps, then the scratch */
};

/* ---- little-endian wire fields, whatever the host's byte order */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define le16(v)		__builtin_bswap16(v)
#define le32(v)		__builtin_bswap32(v)
#define le64(v)		__builtin_bswap64(v)
#else
#define le16(v)		((uint16_t)(v))
#define le32(v)		((uint32_t)(v))
#define le64(v)		((uint64_t)(v))
#endif

static void req_from_wire(struct adma_req *r)
{
	r->rsvd0 = le16(r->rsvd0);
	r->rsvd1 = le32(r->rsvd1);
	r->gpa = le64(r->gpa);
	r->len = le64(r->len);
	r->handle = le64(r->handle);
}

static void resp_to_wire(struct adma_resp *r)
{
	unsigned int i;

	r->status = le32(r->status);
	r->nsegs = le16(r->nsegs);
	r->handle = le64(r->handle);
	for (i = 0; i < ADMA_MAX_SEGS; i++) {
		r->seg[i].iova = le64(r->seg[i].iova);
		r->seg[i].len = le64(r->seg[i].len);
	}
}

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
static void unmap_op(struct adma_core *c, uint32_t i, struct adma_be_op *o)
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
static void free_slots(struct adma_core *c, uint32_t i, uint32_t *n)
{
	if (i != NO_SLOT && !c->cfg.batch_backend)
		free_slot(c, i);
	else if (i != NO_SLOT)
		unmap_op(c, i, &c->b_op[(*n)++]);
	if (*n && (*n == c->cfg.max_batch || i == NO_SLOT)) {
		c->ops->batch(c->be, c->b_op, *n);
		*n = 0;
	}
}

/* Everything a MAP must pass before the backend sees it. */
static int map_check(struct adma_core *c, const struct adma_req *req,
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
static int count_answer(struct adma_core *c, int st)
{
	if (st <= ADMA_S_PENDING || st >= ADMA_S__COUNT)
		st = ADMA_S_IO_ERROR;
	c->st.status[st]++;
	if (st != ADMA_S_OK)
		c->st.refusals++;
	return st;
}

static void note_peaks(struct adma_core *c, uint64_t maps, uint64_t bytes)
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
static int map_finish(struct adma_core *c, const struct adma_req *req,
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
static uint32_t map_reserve(struct adma_core *c, uint64_t bytes)
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

	st = map_check(c, req, &addr, &bytes);
	if (st != ADMA_S_OK)
		return st;
	idx = map_reserve(c, bytes);
	c->slot[idx].cookie = 0;
	st = c->ops->map(c->be, addr, req->len, req->flags, c->slot[idx].seg,
			 c->cfg.max_segs, &nsegs, &c->slot[idx].cookie);
	st = map_finish(c, req, idx, st, nsegs, resp);
	if (st == ADMA_S_OK)
		note_peaks(c, c->st.live_maps, c->st.live_bytes);
	return st;
}

/* Slot index of a live handle, or NO_SLOT. */
static uint32_t lookup(const struct adma_core *c, uint64_t handle)
{
	uint64_t idx = (handle & 0xffffffffu) - 1;

	if ((handle & 0xffffffffu) == 0 || idx >= c->cfg.max_maps)
		return NO_SLOT;
	if (!c->slot[idx].live || c->slot[idx].gen != (uint32_t)(handle >> 32))
		return NO_SLOT;
	return (uint32_t)idx;
}

static int unmap_check(struct adma_core *c, const struct adma_req *req,
		       uint32_t *idx)
{
	if (req->flags || req->rsvd0 || req->rsvd1 || req->gpa || req->len)
		return ADMA_S_INVALID;
	*idx = lookup(c, req->handle);
	return *idx == NO_SLOT ? ADMA_S_BAD_HANDLE : ADMA_S_OK;
}

static int exec_unmap(struct adma_core *c, const struct adma_req *req)
{
	uint32_t idx;
	int st = unmap_check(c, req, &idx);

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
	st = count_answer(c, st);
	resp->status = (uint32_t)st;
	return st;
}

void adma_core_release_all(struct adma_core *c)
{
	uint32_t i, n = 0;

	for (i = 0; i < c->cfg.max_maps; i++)
		if (c->slot[i].live)
			free_slots(c, i, &n);
	free_slots(c, NO_SLOT, &n);
}

void adma_core_reset(struct adma_core *c)
{
	adma_core_release_all(c);
	/* what describes this device's life since reset starts again */
	c->st.bad_batches = 0;
	c->st.peak_maps = c->st.live_maps;
	c->st.peak_bytes = c->st.live_bytes;
}

/* ---- a batch */

static int write_u32(struct adma_core *c, uint64_t gpa, uint32_t v)
{
	v = le32(v);
	return c->env.write(c->env.opaque, gpa, &v, sizeof(v));
}

/* Is [gpa, gpa + len) guest RAM? (the arrays the device reads and writes) */
static int is_ram(struct adma_core *c, uint64_t gpa, uint64_t len)
{
	uint64_t addr;

	return gpa + len >= gpa &&
	       c->env.resolve(c->env.opaque, gpa, len, &addr) == ADMA_S_OK;
}

/*
 * The n answers resp[] (the batch's from number first on) could not all be
 * written: undo their successful MAPs. The failed write may have landed partway, leaving
 * OKs in guest memory, so each undone answer's status is then overwritten
 * with IO_ERROR on its own (best effort: the guest may have made that
 * memory unwritable too). An undone answer is the only IO_ERROR that
 * carries a handle. The stats and *failed count what the guest is told.
 */
static void roll_back(struct adma_core *c, uint64_t resp_gpa, uint32_t first,
		      struct adma_resp *resp, const struct adma_req *req,
		      unsigned int n, uint32_t *failed)
{
	uint32_t i, idx, queued = 0;

	for (i = 0; i < n; i++) {
		if (req[i].op != ADMA_OP_MAP || le32(resp[i].status) != ADMA_S_OK)
			continue;
		idx = lookup(c, le64(resp[i].handle));
		if (idx != NO_SLOT)
			free_slots(c, idx, &queued);
		resp[i].status = le32(ADMA_S_IO_ERROR);
		c->st.status[ADMA_S_OK]--;
		c->st.status[ADMA_S_IO_ERROR]++;
		c->st.refusals++;
		(*failed)++;
	}
	free_slots(c, NO_SLOT, &queued);	/* (b_op is free: the batch ran) */
	for (i = 0; i < n; i++)
		if (le32(resp[i].status) == ADMA_S_IO_ERROR && resp[i].handle)
			write_u32(c, resp_gpa + (uint64_t)(first + i) *
				  sizeof(*resp) +
				  __builtin_offsetof(struct adma_resp, status),
				  ADMA_S_IO_ERROR);
}

/*
 * Check one request of a deferred batch in order: a MAP that passes gets a
 * reserved slot and a backend op; an UNMAP that passes leaves the table at
 * once (its slot and bytes serve the MAPs after it, as one by one) and
 * hands its segments to the backend op. Returns the request's status, or
 * ADMA_S_PENDING when the backend decides it.
 */
static int defer_one(struct adma_core *c, const struct adma_req *req,
		     struct adma_be_op *o, uint32_t *slot, uint64_t *freed)
{
	uint64_t addr, bytes;
	uint32_t idx;
	int st;

	__builtin_memset(o, 0, sizeof(*o));
	switch (req->op) {
	case ADMA_OP_MAP:
		c->st.requests[ADMA_STAT_MAP]++;
		st = map_check(c, req, &addr, &bytes);
		if (st != ADMA_S_OK)
			return st;
		*o = (struct adma_be_op){ .kind = ADMA_BE_MAP, .dir = req->flags,
					  .addr = addr, .len = req->len,
					  .max_segs = c->cfg.max_segs };
		*slot = map_reserve(c, bytes);
		return ADMA_S_PENDING;
	case ADMA_OP_UNMAP:
		c->st.requests[ADMA_STAT_UNMAP]++;
		st = unmap_check(c, req, &idx);
		if (st != ADMA_S_OK)
			return st;
		*freed = c->slot[idx].bytes;
		unmap_op(c, idx, o);
		*slot = NO_SLOT;
		return ADMA_S_OK;
	default:
		c->st.requests[ADMA_STAT_BADOP]++;
		return ADMA_S_INVALID;
	}
}

/* cfg.batch_backend: a whole doorbell's maps and unmaps in one backend call. */
static int run_deferred(struct adma_core *c, const struct adma_cmd *cmd,
			uint32_t *done, uint32_t *failed)
{
	struct adma_req *req = c->b_req;
	struct adma_resp *resp = c->b_resp;
	struct adma_be_op *op = c->b_op;
	uint32_t *ridx = c->b_idx, *sidx = c->b_idx + c->cfg.max_batch;
	uint32_t n = cmd->count, nops = 0, i, j, k;
	uint64_t maps = c->st.live_maps, bytes = c->st.live_bytes;
	int st;

	if (c->env.read(c->env.opaque, cmd->req_gpa, req,
			(size_t)n * sizeof(*req)))
		return ADMA_S_IO_ERROR;
	for (i = 0; i < n; i++) {
		req_from_wire(&req[i]);
		__builtin_memset(&resp[i], 0, sizeof(resp[i]));
		st = defer_one(c, &req[i], &op[nops], &sidx[nops],
			       &c->b_bytes[nops]);
		if (op[nops].kind)
			ridx[nops++] = i;
		resp[i].status = (uint32_t)st;
	}
	if (nops)
		c->ops->batch(c->be, op, nops);
	/* in order, counting the peaks as one by one would have seen them */
	for (j = 0; j < nops; j++) {
		if (op[j].kind == ADMA_BE_UNMAP) {
			maps--;
			bytes -= c->b_bytes[j];
			continue;
		}
		i = ridx[j];
		k = op[j].nsegs < ADMA_MAX_SEGS ? op[j].nsegs : ADMA_MAX_SEGS;
		__builtin_memcpy(c->slot[sidx[j]].seg, op[j].seg,
				 k * sizeof(op[j].seg[0]));
		c->slot[sidx[j]].cookie = op[j].cookie;
		st = map_finish(c, &req[i], sidx[j], op[j].status, op[j].nsegs,
				&resp[i]);
		resp[i].status = (uint32_t)st;
		if (st == ADMA_S_OK) {
			maps++;
			bytes += c->slot[sidx[j]].bytes;
			note_peaks(c, maps, bytes);
		}
	}
	for (i = 0; i < n; i++) {
		st = count_answer(c, (int)resp[i].status);
		resp[i].status = (uint32_t)st;
		if (st != ADMA_S_OK)
			(*failed)++;
		resp_to_wire(&resp[i]);
	}
	for (i = 0; i < n; i += k) {
		k = n - i < CHUNK ? n - i : CHUNK;
		if (c->env.write(c->env.opaque,
				 cmd->resp_gpa + (uint64_t)i * sizeof(*resp),
				 &resp[i], k * sizeof(*resp))) {
			/* these answers never reach the guest: undo their maps */
			roll_back(c, cmd->resp_gpa, i, &resp[i], &req[i],
				  n - i, failed);
			return ADMA_S_IO_ERROR;
		}
		*done = i + k;
	}
	return ADMA_S_OK;
}

static int run_batch(struct adma_core *c, const struct adma_cmd *cmd,
		     uint32_t *done, uint32_t *failed)
{
	struct adma_req req[CHUNK];
	struct adma_resp resp[CHUNK];
	uint32_t pos = 0, i, n;

	if (cmd->count > c->cfg.max_batch)
		return ADMA_S_TOO_MANY;
	if (!cmd->count)
		return ADMA_S_OK;
	if ((cmd->req_gpa | cmd->resp_gpa) & 7 ||
	    !is_ram(c, cmd->req_gpa, (uint64_t)cmd->count * sizeof(req[0])) ||
	    !is_ram(c, cmd->resp_gpa, (uint64_t)cmd->count * sizeof(resp[0])))
		return ADMA_S_RANGE;
	if (c->cfg.batch_backend)
		return run_deferred(c, cmd, done, failed);

	while (pos < cmd->count) {
		n = cmd->count - pos < CHUNK ? cmd->count - pos : CHUNK;
		if (c->env.read(c->env.opaque,
				cmd->req_gpa + (uint64_t)pos * sizeof(req[0]),
				req, n * sizeof(req[0])))
			return ADMA_S_IO_ERROR;
		for (i = 0; i < n; i++) {
			req_from_wire(&req[i]);
			if (adma_core_exec(c, &req[i], &resp[i]) != ADMA_S_OK)
				(*failed)++;
			resp_to_wire(&resp[i]);
		}
		if (c->env.write(c->env.opaque,
				 cmd->resp_gpa + (uint64_t)pos * sizeof(resp[0]),
				 resp, n * sizeof(resp[0]))) {
			roll_back(c, cmd->resp_gpa, pos, resp, req, n, failed);
			return ADMA_S_IO_ERROR;
		}
		pos += n;
		*done = pos;
	}
	return ADMA_S_OK;
}

int adma_core_doorbell(struct adma_core *c, uint64_t cmd_gpa)
{
	struct adma_cmd cmd;
	uint32_t done = 0, failed = 0;
	int st;

	c->st.batches++;
	/* A block we cannot read stays as the guest left it: PENDING. */
	if ((cmd_gpa & 7) || !is_ram(c, cmd_gpa, sizeof(cmd)) ||
	    c->env.read(c->env.opaque, cmd_gpa, &cmd, sizeof(cmd))) {
		c->st.bad_batches++;
		return ADMA_S_RANGE;
	}
	cmd.magic = le32(cmd.magic);
	cmd.version = le16(cmd.version);
	cmd.count = le32(cmd.count);
	cmd.req_gpa = le64(cmd.req_gpa);
	cmd.resp_gpa = le64(cmd.resp_gpa);

	if (cmd.magic != ADMA_CMD_MAGIC || cmd.version != ADMA_VERSION_MAJOR) {
		st = ADMA_S_BAD_BLOCK;
	} else {
		c->budget = c->cfg.max_bytes;
		st = run_batch(c, &cmd, &done, &failed);
		c->budget = ~0ull;
	}
	if (st != ADMA_S_OK)
		c->st.bad_batches++;

	write_u32(c, cmd_gpa + __builtin_offsetof(struct adma_cmd, done), done);
	write_u32(c, cmd_gpa + __builtin_offsetof(struct adma_cmd, failed),
		  failed);
	/* status last: a guest that sees it set sees done/failed too */
	write_u32(c, cmd_gpa + __builtin_offsetof(struct adma_cmd, status), st);
	return st;
}
