/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libFuzzer target: random command blocks, request arrays and guest-memory
 * layouts through the doorbell of a host core over the DART simulator.
 * The input is a small program: a config header, then steps that scribble
 * on guest RAM, build (possibly broken) batches, replay handles the device
 * returned, ring the doorbell anywhere, or reset. After every step the core
 * and the simulator must agree on what is mapped and stay within limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_guest.h"

#define CMD_AT	0x800ull

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

	if (cs->live_maps != ds->live_maps || cs->live_bytes != ds->live_bytes ||
	    cs->live_bytes > dc->max_bytes || cs->live_maps > dc->max_maps)
		abort();
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
	env = fake_guest_env(&r->g);
	r->c = r->d ? adma_core_init(cmem, &cc, &env, &dartsim_backend_ops,
				     r->d) : NULL;
	return r->c ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct dartsim_config dc = { 0 };
	uint64_t handles[64];
	unsigned int nh = 0, steps = 0;
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
		case 4:	/* answers cannot be written */
			r.g.writes_left = (long)take(&in, 1) % 4;
			build_batch(&r, &in, handles, nh);
			adma_core_doorbell(r.c, CMD_AT);
			r.g.writes_left = -1;
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
