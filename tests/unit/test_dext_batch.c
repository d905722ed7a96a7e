/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * apple-dma-pci's host core with a batching backend: one doorbell, one
 * backend call. First against a reference (the same core one request at a
 * time over an identical simulated DART: the answers must be the same,
 * byte for byte), then over the IOKit backend -> test double -> dext core:
 * one DMA_BATCH per doorbell, answers the output could not hold sent
 * again, and a client that dies in the middle of a batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dext_rig.h"

#define PG		DARTSIM_PAGE_SIZE
#define GPA_BASE	0x40000000ull
#define CMD_OFF		(3ull << 20)		/* command block */
#define REQ_OFF		(CMD_OFF + 4096)
#define RESP_OFF	(CMD_OFF + 64 * 1024)
#define MAP_SPACE	(3ull << 20)		/* maps go below CMD_OFF */

/* Guest RAM for the core: [GPA_BASE, + size) is ram. */
struct genv {
	uint8_t *ram;
	uint64_t size;
	bool hva;		/* resolve to host addresses (the dext) */
};

static int g_read(void *o, uint64_t gpa, void *buf, size_t len)
{
	struct genv *g = o;

	if (gpa < GPA_BASE || gpa - GPA_BASE > g->size ||
	    len > g->size - (gpa - GPA_BASE))
		return -1;
	memcpy(buf, g->ram + (gpa - GPA_BASE), len);
	return 0;
}

static int g_write(void *o, uint64_t gpa, const void *buf, size_t len)
{
	struct genv *g = o;

	if (gpa < GPA_BASE || gpa - GPA_BASE > g->size ||
	    len > g->size - (gpa - GPA_BASE))
		return -1;
	memcpy(g->ram + (gpa - GPA_BASE), buf, len);
	return 0;
}

static int g_resolve(void *o, uint64_t gpa, uint64_t len, uint64_t *addr)
{
	struct genv *g = o;

	if (gpa < GPA_BASE || gpa - GPA_BASE > g->size ||
	    len > g->size - (gpa - GPA_BASE))
		return ADMA_S_RANGE;
	*addr = g->hva ? (uint64_t)(uintptr_t)(g->ram + (gpa - GPA_BASE)) : gpa;
	return ADMA_S_OK;
}

static struct adma_core *core_new_cfg(struct genv *g,
				      const struct adma_backend_ops *ops,
				      void *be, struct adma_core_config cc)
{
	struct adma_env env = { g, g_read, g_write, g_resolve };
	void *mem = aligned_alloc(64, (adma_core_size(&cc) + 63) & ~63ul);
	struct adma_core *c = adma_core_init(mem, &cc, &env, ops, be);

	assert_non_null(c);
	return c;
}

static struct adma_core *core_new(struct genv *g,
				  const struct adma_backend_ops *ops,
				  void *be, bool batch, uint32_t max_maps)
{
	return core_new_cfg(g, ops, be, (struct adma_core_config){
		.max_batch = 256, .max_maps = max_maps,
		.batch_backend = batch });
}

/* One doorbell of n requests; the answers are copied to resp. */
static int ring(struct adma_core *c, struct genv *g, const struct adma_req *req,
		uint32_t n, struct adma_resp *resp)
{
	struct adma_cmd cmd = { .magic = ADMA_CMD_MAGIC,
				.version = ADMA_VERSION_MAJOR, .count = n,
				.req_gpa = GPA_BASE + REQ_OFF,
				.resp_gpa = GPA_BASE + RESP_OFF };
	int st;

	memcpy(g->ram + REQ_OFF, req, n * sizeof(*req));
	memset(g->ram + RESP_OFF, 0, n * sizeof(*resp));
	memcpy(g->ram + CMD_OFF, &cmd, sizeof(cmd));
	st = adma_core_doorbell(c, GPA_BASE + CMD_OFF);
	memcpy(resp, g->ram + RESP_OFF, n * sizeof(*resp));
	return st;
}

static struct adma_req map_req(uint64_t off, uint64_t len, uint8_t dir)
{
	return (struct adma_req){ .op = ADMA_OP_MAP, .flags = dir,
				  .gpa = GPA_BASE + off, .len = len };
}

static struct adma_req unmap_req(uint64_t handle)
{
	return (struct adma_req){ .op = ADMA_OP_UNMAP, .handle = handle };
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- the core's batch path against its one-by-one path */

static unsigned int wrapper_calls;

/* A batching backend made of dartsim's map/unmap, in order. */
static void dart_batch(void *be, struct adma_be_op *op, unsigned int n)
{
	unsigned int i;

	wrapper_calls++;
	for (i = 0; i < n; i++) {
		if (op[i].kind == ADMA_BE_MAP)
			op[i].status = dartsim_map(be, op[i].addr, op[i].len,
						   op[i].dir, op[i].seg,
						   op[i].max_segs, &op[i].nsegs);
		else
			dartsim_unmap(be, op[i].seg, op[i].nsegs);
	}
}

static const struct adma_backend_ops batching_dart_ops = {
	.map = NULL, .unmap = NULL, .batch = dart_batch,
};

static struct dartsim *dart_new(void)
{
	struct dartsim_config dc = { .max_bytes = 96 * PG, .max_maps = 40,
				     .aperture_size = 4096 * PG };
	void *mem = aligned_alloc(64, (dartsim_size(&dc) + 63) & ~63ul);
	struct dartsim *d = dartsim_init(mem, &dc);

	assert_non_null(d);
	return d;
}

/*
 * The answers must match except for the handles' values: a map the backend
 * refuses holds its slot until the batch returns, so later maps of that
 * batch take other slots. Handles are paired up as they are handed out.
 */
static void test_batch_path_matches(void **state)
{
	static struct adma_req qa[256], qb[256];
	static struct adma_resp ra[256], rb[256];
	struct adma_backend_ops ops = batching_dart_ops;
	struct genv g = { aligned_alloc(PG, 4ull << 20), 4ull << 20, false };
	struct dartsim *da = dart_new(), *db = dart_new();
	struct adma_core *a, *b;
	uint64_t la[512], lb[512], s = 0x9e3779b97f4a7c15ull;
	unsigned int nlive = 0, round, i, n;

	(void)state;
	ops.map = dartsim_backend_ops.map;
	ops.unmap = dartsim_backend_ops.unmap;
	/*
	 * The DART's limits bite first: the core's own (room for the DART's
	 * 40 plus a whole batch) never sees the slots a refused map held.
	 */
	a = core_new(&g, &ops, da, true, 128);
	b = core_new(&g, &dartsim_backend_ops, db, false, 128);
	wrapper_calls = 0;
	for (round = 0; round < 300; round++) {
		n = 1 + rnd(&s) % 64;
		for (i = 0; i < n; i++) {
			uint64_t r = rnd(&s);

			if (r % 3 == 0 && nlive) {
				unsigned int k = (r >> 8) % nlive;

				qa[i] = unmap_req(la[k]);
				qb[i] = unmap_req(lb[k]);
				if (r & (1u << 20)) {	/* else: unmapped twice */
					la[k] = la[--nlive];
					lb[k] = lb[nlive];
				}
				continue;
			}
			if (r % 17 == 1) {
				qa[i] = qb[i] = unmap_req(r);	/* bogus */
				continue;
			}
			qa[i] = map_req((r >> 8) % MAP_SPACE,
					1 + (r >> 30) % (3 * PG),
					(uint8_t)(1 + (r >> 50) % 3));
			if (r % 23 == 2)
				qa[i].len = 0;			/* invalid */
			qb[i] = qa[i];
		}
		assert_int_equal(ring(a, &g, qa, n, ra),
				 ring(b, &g, qb, n, rb));
		for (i = 0; i < n; i++) {
			assert_int_equal(ra[i].status, rb[i].status);
			assert_int_equal(ra[i].nsegs, rb[i].nsegs);
			assert_memory_equal(ra[i].seg, rb[i].seg,
					    sizeof(ra[i].seg));
			if (qa[i].op == ADMA_OP_MAP &&
			    ra[i].status == ADMA_S_OK && nlive < 512) {
				la[nlive] = ra[i].handle;
				lb[nlive++] = rb[i].handle;
			}
		}
	}
	/* one call per doorbell (none when every request was refused first) */
	assert_in_range(wrapper_calls, 250, 300);
	assert_memory_equal(adma_core_stats(a), adma_core_stats(b),
			    sizeof(struct adma_core_stats));
	assert_true(adma_core_stats(a)->status[ADMA_S_NO_SPACE] > 0);
	assert_true(adma_core_stats(a)->status[ADMA_S_BAD_HANDLE] > 0);
	assert_true(adma_core_stats(a)->peak_maps > 20);
	adma_core_reset(a);
	adma_core_reset(b);
	assert_int_equal(dartsim_stats(da)->live_maps, 0);
	free(a);
	free(b);
	free(da);
	free(db);
	free(g.ram);
}

/* ---- over the IOKit backend and the dext */

static struct iokit_shim_counts counts(void)
{
	struct iokit_shim_counts c;

	iokit_shim_counts(&c);
	return c;
}

static void test_one_call_per_doorbell(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	struct genv g = { r->ram, RIG_RAM_SIZE, true };
	static struct adma_req req[256];
	static struct adma_resp resp[256];
	struct adma_core *c = core_new(&g, r->h->dma_ops, r->h->dma_be, true, 0);
	struct adma_core *one = core_new(&g, r->h->dma_ops, r->h->dma_be, false,
					 0);
	uint64_t calls, addr;
	unsigned int i;

	(void)state;
	for (i = 0; i < 64; i++)
		req[i] = map_req(i * PG + i, PG, ADMA_DIR_TO_DEVICE);
	req[10].len = 0;			/* refused by the core itself */
	req[20].gpa = GPA_BASE + RIG_RAM_SIZE;	/* not RAM */
	calls = counts().calls;
	assert_int_equal(ring(c, &g, req, 64, resp), ADMA_S_OK);
	assert_int_equal(counts().calls - calls, 1);
	for (i = 0; i < 64; i++) {
		if (i == 10 || i == 20) {
			assert_int_equal(resp[i].status, i == 10 ?
					 ADMA_S_INVALID : ADMA_S_RANGE);
			continue;
		}
		assert_int_equal(resp[i].status, ADMA_S_OK);
		assert_int_equal(resp[i].nsegs, 1);
		assert_true(rig_dart_hit(resp[i].seg[0].iova, &addr));
		assert_ptr_equal((void *)(uintptr_t)addr, r->ram + i * PG + i);
	}
	assert_int_equal(rig_dart_live(), 62);
	for (i = 0; i < 64; i++)
		req[i] = unmap_req(resp[i].handle);
	calls = counts().calls;
	assert_int_equal(ring(c, &g, req, 64, resp), ADMA_S_OK);
	assert_int_equal(counts().calls - calls, 1);
	assert_int_equal(rig_dart_live(), 0);

	/* the same doorbell one request at a time: a call per request */
	for (i = 0; i < 16; i++)
		req[i] = map_req(i * PG, PG, ADMA_DIR_TO_DEVICE);
	calls = counts().calls;
	assert_int_equal(ring(one, &g, req, 16, resp), ADMA_S_OK);
	assert_int_equal(counts().calls - calls, 16);
	adma_core_reset(one);
	assert_int_equal(rig_dart_live(), 0);
	free(c);
	free(one);
	rig_close(r);
}

/* A reset behind the dext: a DMA_BATCH per max_batch mappings, not each. */
static void test_reset_over_dext(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	struct genv g = { r->ram, RIG_RAM_SIZE, true };
	const struct adma_core_config cc = { .max_batch = 16,
					     .batch_backend = 1 };
	struct adma_core *c = core_new_cfg(&g, r->h->dma_ops, r->h->dma_be, cc);
	static struct adma_req req[16];
	static struct adma_resp resp[16];
	struct dext_stats ds;
	unsigned int i, k;
	uint64_t calls;

	(void)state;
	for (k = 0; k < 40; k += 16) {
		for (i = 0; i < 16; i++)
			req[i] = map_req((k + i) * PG, PG, 1);
		assert_int_equal(ring(c, &g, req, k < 32 ? 16 : 8, resp),
				 ADMA_S_OK);
	}
	assert_int_equal(rig_dart_live(), 40);
	calls = counts().calls;
	adma_core_reset(c);
	assert_int_equal(counts().calls - calls, 3);	/* 16 + 16 + 8 */
	assert_int_equal(rig_dart_live(), 0);
	assert_int_equal(hostdev_iokit_stats(r->h, &ds), HOSTDEV_OK);
	assert_int_equal(ds.unmaps, 40);
	assert_int_equal(ds.refusals, 0);
	free(c);
	rig_close(r);
}

static void test_resubmit_when_output_full(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r;
	struct genv g;
	static struct adma_req req[32];
	static struct adma_resp resp[32];
	struct adma_core *c;
	struct dext_stats ds;
	uint64_t calls, off;
	unsigned int i;

	(void)state;
	cfg.gpu.dart.seg_pages = 1;
	r = rig_open(&cfg);
	g = (struct genv){ r->ram, RIG_RAM_SIZE, true };
	c = core_new(&g, r->h->dma_ops, r->h->dma_be, true, 0);
	/* 20-page maps answer 20 segments each: more than the output holds */
	for (i = 0, off = 0; i < 16; i++) {
		req[i] = map_req(off, (i & 1 ? 2 : 20) * PG, 1);
		off += (i & 1 ? 2 : 20) * PG;
	}
	assert_true(off <= MAP_SPACE);
	calls = counts().calls;
	assert_int_equal(ring(c, &g, req, 16, resp), ADMA_S_OK);
	assert_true(counts().calls - calls >= 2);
	for (i = 0; i < 16; i++) {
		if (i & 1) {
			assert_int_equal(resp[i].status, ADMA_S_OK);
			assert_int_equal(resp[i].nsegs, 2);
		} else {
			assert_int_equal(resp[i].status, ADMA_S_FRAGMENTED);
		}
	}
	assert_int_equal(rig_dart_live(), 8);	/* the 20-page ones undone */
	assert_int_equal(hostdev_iokit_stats(r->h, &ds), HOSTDEV_OK);
	assert_int_equal(ds.live_maps, 8);
	assert_int_equal(ds.maps, 16);		/* each executed once */
	adma_core_reset(c);
	assert_int_equal(rig_dart_live(), 0);
	free(c);
	rig_close(r);
}

static void test_crash_mid_batch(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	struct genv g = { r->ram, RIG_RAM_SIZE, true };
	static struct adma_req req[64];
	static struct adma_resp resp[64];
	struct adma_core *c = core_new(&g, r->h->dma_ops, r->h->dma_be, true, 0);
	struct iokit_shim_counts n;
	unsigned int i;

	(void)state;
	assert_int_equal(r->h->ops->config_write(r->h->dev, 4, 2, 6),
			 HOSTDEV_OK);	/* bus mastering on */
	for (i = 0; i < 10; i++)
		req[i] = map_req(i * PG, PG, 1);
	assert_int_equal(ring(c, &g, req, 10, resp), ADMA_S_OK);
	assert_int_equal(rig_dart_live(), 10);

	/* the dext maps all 40, then the client is gone before the reply */
	iokit_shim_crash_in_next_batch(hostdev_iokit_connection(r->h));
	for (i = 0; i < 40; i++)
		req[i] = map_req((16 + i) * PG, PG, 1);
	assert_int_equal(ring(c, &g, req, 40, resp), ADMA_S_OK);
	for (i = 0; i < 40; i++)
		assert_int_equal(resp[i].status, ADMA_S_IO_ERROR);
	/* every mapping of that client, old and new, is released */
	n = counts();
	assert_int_equal(rig_dart_live(), 0);
	assert_int_equal(n.mappings, 0);
	assert_int_equal(n.regions, 0);
	assert_int_equal(n.resets_flr, 1);
	assert_int_equal(simgpu_stats(iokit_shim_gpu())->flrs, 1);
	/* what the host core still holds goes nowhere, and hurts nothing */
	adma_core_reset(c);
	assert_int_equal(adma_core_stats(c)->live_maps, 0);
	free(c);
	rig_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_path_matches),
		cmocka_unit_test(test_one_call_per_doorbell),
		cmocka_unit_test(test_reset_over_dext),
		cmocka_unit_test(test_resubmit_when_output_full),
		cmocka_unit_test(test_crash_mid_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
