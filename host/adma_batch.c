/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * adma_batch.c - one doorbell: read the command block and its requests from
 * guest memory, run them against the table (adma_core.c), write the answers
 * back, and take back what could not be answered.
 */
#include "adma_core_int.h"

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
		idx = adma_lookup(c, le64(resp[i].handle));
		if (idx != NO_SLOT)
			adma_free_slots(c, idx, &queued);
		resp[i].status = le32(ADMA_S_IO_ERROR);
		c->st.status[ADMA_S_OK]--;
		c->st.status[ADMA_S_IO_ERROR]++;
		c->st.refusals++;
		(*failed)++;
	}
	adma_free_slots(c, NO_SLOT, &queued);	/* (b_op is free: the batch ran) */
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
		st = adma_map_check(c, req, &addr, &bytes);
		if (st != ADMA_S_OK)
			return st;
		*o = (struct adma_be_op){ .kind = ADMA_BE_MAP, .dir = req->flags,
					  .addr = addr, .len = req->len,
					  .max_segs = c->cfg.max_segs };
		*slot = adma_map_reserve(c, bytes);
		return ADMA_S_PENDING;
	case ADMA_OP_UNMAP:
		c->st.requests[ADMA_STAT_UNMAP]++;
		st = adma_unmap_check(c, req, &idx);
		if (st != ADMA_S_OK)
			return st;
		*freed = c->slot[idx].bytes;
		adma_unmap_op(c, idx, o);
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
		st = adma_map_finish(c, &req[i], sidx[j], op[j].status, op[j].nsegs,
				&resp[i]);
		resp[i].status = (uint32_t)st;
		if (st == ADMA_S_OK) {
			maps++;
			bytes += c->slot[sidx[j]].bytes;
			adma_note_peaks(c, maps, bytes);
		}
	}
	for (i = 0; i < n; i++) {
		st = adma_count_answer(c, (int)resp[i].status);
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
