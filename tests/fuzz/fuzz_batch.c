/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libFuzzer target: random command blocks, request arrays and guest-memory
 * layouts through the doorbell of a host core over the DART simulator.
 * The input is a small program: a config header, then steps that scribble
 * on guest RAM, build (possibly broken) batches, replay handles the device
 * returned, ring the doorbell anywhere, or reset. After every step the core
 * and the simulator must agree on what is mapped and stay within limits,
 * and every request must have been counted under exactly one status.
 *
 * The embedder misbehaves on fuzz-chosen schedules: writes of answers fail,
 * landing partway (after which no answer of that doorbell may read OK for
 * a mapping that is not there); the backend answers codes outside the enum
 * (an IOReturn, negative, PENDING); resolve() answers such codes too. The
 * core runs one request at a time or hands whole doorbells to batch().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_guest.h"

#define CMD_AT	0x800ull

/* ---- a backend and a resolve() that answer what they should not */

static const int odd_codes[] = { (int)0xE00002C2u, -1, ADMA_S_PENDING,
				 ADMA_S__COUNT, 77, INT32_MIN, ADMA_S_NO_SPACE };
#define NODD	(sizeof(odd_codes) / sizeof(odd_codes[0]))

struct odd_be {
	struct dartsim *d;
	uint32_t every;		/* every Nth map answers an odd code; 0 never */
	uint32_t n;
};

static int ob_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		  struct adma_seg *seg, unsigned int max_segs,
		  unsigned int *nsegs, uint64_t *cookie)
{
	struct odd_be *b = be;
	int st = dartsim_map(b->d, addr, len, dir, seg, max_segs, nsegs);

	(void)cookie;
	if (!b->every || ++b->n % b->every)
		return st;
	if (st == ADMA_S_OK)	/* a refusal maps nothing: give it back */
		dartsim_unmap(b->d, seg, *nsegs);
	*nsegs = 0;
	return odd_codes[(b->n / b->every) % NODD];
}

static void ob_unmap(void *be, const struct adma_seg *seg, unsigned int nsegs,
		     uint64_t cookie)
{
	(void)cookie;
	dartsim_unmap(((struct odd_be *)be)->d, seg, nsegs);
}

static void ob_batch(void *be, struct adma_be_op *op, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (op[i].kind == ADMA_BE_MAP)
			op[i].status = ob_map(be, op[i].addr, op[i].len,
					      op[i].dir, op[i].seg,
					      op[i].max_segs, &op[i].nsegs,
					      &op[i].cookie);
		else
			ob_unmap(be, op[i].seg, op[i].nsegs, op[i].cookie);
	}
}

static const struct adma_backend_ops odd_ops = {
	.map = ob_map, .unmap = ob_unmap, .batch = ob_batch,
};

static struct odd_be ob;
static int (*fg_resolve)(void *, uint64_t, uint64_t, uint64_t *);
static uint32_t resolve_every;	/* pages whose number % this == 1: odd */

static int odd_resolve(void *opaque, uint64_t gpa, uint64_t len,
		       uint64_t *addr)
{
	int st = fg_resolve(opaque, gpa, len, addr);

	if (st == ADMA_S_OK && resolve_every &&
	    (gpa / ADMA_PAGE_SIZE) % resolve_every == 1)
		return odd_codes[(gpa / ADMA_PAGE_SIZE) % NODD];
	return st;
}

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--) {
		v = v << 8 | (in->n ? *in->p : 0);
		if (in->n) {
			in->p++;
			in->n--;
		}
	}
	return v;
}

static void check(struct rig *r, const struct dartsim_config *dc)
{
	const struct adma_core_stats *cs = adma_core_stats(r->c);
	const struct dartsim_stats *ds = dartsim_stats(r->d);
	uint64_t answers = 0, asked = 0;
	int i;

	if (cs->live_maps != ds->live_maps || cs->live_bytes != ds->live_bytes ||
	    cs->live_bytes > dc->max_bytes || cs->live_maps > dc->max_maps)
		abort();
	for (i = 0; i < ADMA_S__COUNT; i++)
		answers += cs->status[i];
	for (i = 0; i < ADMA_STAT__OPS; i++)
		asked += cs->requests[i];
	if (answers != asked || cs->status[ADMA_S_PENDING] ||
	    cs->refusals != answers - cs->status[ADMA_S_OK])
		abort();
}

/* Does an UNMAP of the batch name handle h (a guest may guess handles)? */
static int unmapped_in_batch(struct rig *r, const struct adma_cmd *cmd,
			     uint64_t h)
{
	const struct adma_req *q;
	uint32_t i;

	for (i = 0; i < cmd->count && i < 40; i++) {
		q = fake_guest_ptr(&r->g, cmd->req_gpa + i * sizeof(*q),
				   sizeof(*q));
		if (q && q->op == ADMA_OP_UNMAP && q->handle == h)
			return 1;
	}
	return 0;
}

/*
 * After a doorbell whose failed write was the only one: an answer that
 * reads OK with segments names a mapping that translates, unless the
 * batch itself unmapped it.
 */
static void check_no_stale_ok(struct rig *r)
{
	const struct adma_cmd *cmd = fake_guest_ptr(&r->g, CMD_AT, sizeof(*cmd));
	const struct adma_resp *a;
	uint64_t addr, avail;
	uint32_t i;

	for (i = 0; i < cmd->count && i < 40; i++) {
		a = fake_guest_ptr(&r->g, cmd->resp_gpa + i * sizeof(*a),
				   sizeof(*a));
		if (a && a->status == ADMA_S_OK && a->nsegs &&
		    dartsim_translate(r->d, a->seg[0].iova, 0, &addr, &avail) &&
		    !unmapped_in_batch(r, cmd, a->handle))
			abort();
	}
}

/* A batch at a fuzz-chosen place; handles may come from earlier answers. */
static void build_batch(struct rig *r, struct input *in, uint64_t *handles,
			unsigned int nh)
{
	struct adma_cmd cmd = { .magic = ADMA_CMD_MAGIC,
				.version = ADMA_VERSION_MAJOR };
	struct adma_req q;
	uint64_t i;
	void *p;

	cmd.count = (uint32_t)take(in, 1) % 40;
	cmd.req_gpa = 0x1000 + (take(in, 2) & ~7ull);
	cmd.resp_gpa = take(in, 1) & 1 ? (1ull << 32) + (take(in, 2) & ~7ull)
				       : 0x40000 + (take(in, 2) & ~7ull);
	if (take(in, 1) == 0xff)
		cmd.magic = (uint32_t)take(in, 4);
	for (i = 0; i < cmd.count; i++) {
		memset(&q, 0, sizeof(q));
		q.op = (uint8_t)take(in, 1) % 4;
		q.flags = (uint8_t)take(in, 1) & 7;
		if (q.op == ADMA_OP_UNMAP) {
			q.handle = nh && take(in, 1) & 1 ?
				   handles[take(in, 1) % nh] : take(in, 8);
		} else {
			q.gpa = take(in, 1) & 1 ? (1ull << 32) + take(in, 3)
						: take(in, 3);
			q.len = take(in, 1) & 0x80 ? take(in, 8) : take(in, 3);
		}
		p = fake_guest_ptr(&r->g, cmd.req_gpa + i * sizeof(q),
				   sizeof(q));
		if (p)
			memcpy(p, &q, sizeof(q));
		/* answers start PENDING, as a guest leaves them */
		p = fake_guest_ptr(&r->g, cmd.resp_gpa +
				   i * sizeof(struct adma_resp),
				   sizeof(struct adma_resp));
		if (p)
			memset(p, 0, sizeof(struct adma_resp));
	}
	p = fake_guest_ptr(&r->g, CMD_AT, sizeof(cmd));
	memcpy(p, &cmd, sizeof(cmd));
}

/* Remember handles the device answered with, for later UNMAPs. */
static unsigned int harvest(struct rig *r, uint64_t *handles, unsigned int nh)
{
	const struct adma_cmd *cmd = fake_guest_ptr(&r->g, CMD_AT, sizeof(*cmd));
	const struct adma_resp *a;
	uint32_t i;

	for (i = 0; i < cmd->done && i < 40; i++) {
		a = fake_guest_ptr(&r->g, cmd->resp_gpa + i * sizeof(*a),
				   sizeof(*a));
		if (a && a->status == ADMA_S_OK && a->handle)
			handles[nh++ % 64] = a->handle;
	}
	return nh < 64 ? nh : 64;
}

/*
 * Guest RAM and state are static and reinitialised per input: mapping and
 * unmapping a fresh megabyte per run would cost more than the run itself.
 */
#define RAM_LO	(512u << 10)
#define RAM_HI	(256u << 10)
static uint8_t ram_lo[RAM_LO], ram_hi[RAM_HI];
static uint64_t dmem[(1 << 16) / 8], cmem[(1 << 16) / 8];

static int rig_setup(struct rig *r, struct input *in, struct dartsim_config *dc)
{
	struct adma_core_config cc = { 0 };
	struct adma_env env;

	dc->max_maps = 1 + (uint32_t)take(in, 1) % 64;
	dc->max_bytes = (1 + take(in, 1) % 64) * ADMA_PAGE_SIZE;
	dc->aperture_size = (1 + take(in, 1) % 96) * ADMA_PAGE_SIZE;
	dc->randomize = take(in, 1) & 1;
	dc->seed = take(in, 2);
	dc->fail_ppm = (uint32_t)(take(in, 1) % 4) * 100000;
	cc.max_batch = 1 + (uint32_t)take(in, 1) % 48;
	cc.max_bytes = dc->max_bytes;
	cc.max_maps = dc->max_maps;
	cc.batch_backend = take(in, 1) & 1;
	ob.every = (uint32_t)take(in, 1) % 8;
	ob.n = 0;
	resolve_every = (uint32_t)take(in, 1) % 8;

	memset(r, 0, sizeof(*r));
	memset(ram_lo, 0, sizeof(ram_lo));
	memset(ram_hi, 0, sizeof(ram_hi));
	r->g.nregions = 2;
	r->g.region[0].mem = ram_lo;
	r->g.region[0].size = RAM_LO;
	r->g.region[1].mem = ram_hi;
	r->g.region[1].base = 1ull << 32;
	r->g.region[1].size = (1 + take(in, 1) % 4) << 16;
	r->g.writes_left = -1;
	if (dartsim_size(dc) > sizeof(dmem) || adma_core_size(&cc) > sizeof(cmem))
		abort();
	r->d = dartsim_init(dmem, dc);
	ob.d = r->d;
	env = fake_guest_env(&r->g);
	fg_resolve = env.resolve;
	env.resolve = odd_resolve;
	r->c = r->d ? adma_core_init(cmem, &cc, &env, &odd_ops, &ob) : NULL;
	return r->c ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct dartsim_config dc = { 0 };
	uint64_t handles[64];
	unsigned int nh = 0, steps = 0;
	uint64_t fails;
	struct rig r;
	void *p;

	if (rig_setup(&r, &in, &dc))
		abort();	/* every config above is valid */

	while (in.n && steps++ < 64) {
		switch (take(&in, 1) % 6) {
		case 0:	/* scribble on guest RAM */
			p = fake_guest_ptr(&r.g, take(&in, 3) & 0x7ffff, 8);
			if (p) {
				uint64_t v = take(&in, 8);

				memcpy(p, &v, 8);
			}
			break;
		case 1:
		case 2:
			build_batch(&r, &in, handles, nh);
			adma_core_doorbell(r.c, CMD_AT);
			nh = harvest(&r, handles, nh);
			break;
		case 3:	/* a doorbell anywhere */
			adma_core_doorbell(r.c, take(&in, 1) & 1 ?
					   take(&in, 8) : take(&in, 3));
			break;
		case 4:	/* answers cannot be written, or only partway */
			r.g.writes_left = (long)take(&in, 1) % 4;
			r.g.fails_left = (long)take(&in, 1) % 3; /* 0: all */
			r.g.partial = (size_t)take(&in, 2) % 3300;
			build_batch(&r, &in, handles, nh);
			fails = r.g.failed_writes;
			adma_core_doorbell(r.c, CMD_AT);
			/* one failed write: every later one (the fixes) landed */
			if (r.g.failed_writes - fails <= 1)
				check_no_stale_ok(&r);
			r.g.writes_left = -1;
			r.g.fails_left = 0;
			r.g.partial = 0;
			break;
		default:
			adma_core_reset(r.c);
			nh = 0;
			break;
		}
		check(&r, &dc);
	}
	adma_core_reset(r.c);
	if (adma_core_stats(r.c)->live_maps || dartsim_stats(r.d)->live_maps ||
	    dartsim_stats(r.d)->live_bytes)
		abort();
	return 0;
}
