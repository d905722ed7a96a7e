/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The host core's side of its contract with the backend: every unmap hands
 * back the cookie its map() gave (one by one, in a doorbell's batch, on
 * reset), and a batching backend is called once per max_batch unmaps when
 * the core releases many at once (reset, answers that never reached the
 * guest) - behind the dext each call is a kernel round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"

#define PG	((uint64_t)ADMA_PAGE_SIZE)
#define CMD	0x1000ull	/* command block */
#define REQS	0x2000ull	/* request array */
#define RESPS	0x20000ull	/* response array */
#define MAPS	0x100000ull	/* what the maps map */

/*
 * dartsim under a backend that names each mapping by a cookie of its own,
 * as the dext does by handle, and checks that every unmap names the
 * mapping its segments are; it counts calls of each kind.
 */
struct counting_be {
	struct dartsim *d;
	unsigned int maps, unmaps;	/* single-op calls */
	unsigned int batches, batch_maps, batch_unmaps;
	unsigned int bad_cookies;	/* map() not given 0, unmap() not its */
};

#define COOKIE_TAG	0xc00c1e0000000000ull

static int do_map(struct counting_be *b, uint64_t addr, uint64_t len,
		  unsigned int dir, struct adma_seg *seg, unsigned int max_segs,
		  unsigned int *nsegs, uint64_t *cookie)
{
	int st = dartsim_map(b->d, addr, len, dir, seg, max_segs, nsegs);

	if (*cookie)
		b->bad_cookies++;
	if (st == ADMA_S_OK)
		*cookie = seg[0].iova ^ COOKIE_TAG;
	return st;
}

static void do_unmap(struct counting_be *b, const struct adma_seg *seg,
		     unsigned int nsegs, uint64_t cookie)
{
	if (!nsegs || cookie != (seg[0].iova ^ COOKIE_TAG))
		b->bad_cookies++;
	dartsim_unmap(b->d, seg, nsegs);
}

static int cb_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		  struct adma_seg *seg, unsigned int max_segs,
		  unsigned int *nsegs, uint64_t *cookie)
{
	((struct counting_be *)be)->maps++;
	return do_map(be, addr, len, dir, seg, max_segs, nsegs, cookie);
}

static void cb_unmap(void *be, const struct adma_seg *seg, unsigned int nsegs,
		     uint64_t cookie)
{
	((struct counting_be *)be)->unmaps++;
	do_unmap(be, seg, nsegs, cookie);
}

static void cb_batch(void *be, struct adma_be_op *op, unsigned int n)
{
	struct counting_be *b = be;
	unsigned int i;

	b->batches++;
	for (i = 0; i < n; i++) {
		if (op[i].kind == ADMA_BE_MAP) {
			b->batch_maps++;
			op[i].status = do_map(b, op[i].addr, op[i].len,
					      op[i].dir, op[i].seg,
					      op[i].max_segs, &op[i].nsegs,
					      &op[i].cookie);
		} else {
			b->batch_unmaps++;
			do_unmap(b, op[i].seg, op[i].nsegs, op[i].cookie);
		}
	}
}

static const struct adma_backend_ops counting_ops = {
	.map = cb_map, .unmap = cb_unmap, .batch = cb_batch,
};

/* A core over the counting backend over 16 MiB of guest RAM at 0. */
struct trig {
	struct fake_guest g;
	struct counting_be b;
	struct adma_core *c;
};

static struct trig *trig_new_limit(uint32_t max_batch, bool batch,
				   uint64_t max_bytes)
{
	struct trig *t = calloc(1, sizeof(*t));
	const struct dartsim_config dc = { 0 };
	const struct adma_core_config cc = { .max_batch = max_batch,
					     .batch_backend = batch,
					     .max_bytes = max_bytes };
	struct adma_env env;

	assert_non_null(t);
	assert_int_equal(fake_guest_add(&t->g, 0, 16ull << 20), 0);
	env = fake_guest_env(&t->g);
	t->b.d = aligned_alloc(64, (dartsim_size(&dc) + 63) & ~(size_t)63);
	t->c = aligned_alloc(64, (adma_core_size(&cc) + 63) & ~(size_t)63);
	assert_non_null(t->b.d);
	assert_non_null(t->c);
	assert_non_null(dartsim_init(t->b.d, &dc));
	assert_ptr_equal(adma_core_init(t->c, &cc, &env, &counting_ops, &t->b),
			 t->c);
	return t;
}

static struct trig *trig_new(uint32_t max_batch, bool batch)
{
	return trig_new_limit(max_batch, batch, 0);
}

static void trig_free(struct trig *t)
{
	fake_guest_free(&t->g);
	free(t->b.d);
	free(t->c);
	free(t);
}

static struct adma_req map_req(unsigned int page)
{
	return (struct adma_req){ .op = ADMA_OP_MAP, .len = PG,
				  .gpa = MAPS + page * PG,
				  .flags = ADMA_DIR_BIDIRECTIONAL };
}

static struct adma_req unmap_req(uint64_t handle)
{
	return (struct adma_req){ .op = ADMA_OP_UNMAP, .handle = handle };
}

/* One doorbell of n requests (little-endian host: the wire layout). */
static int ring(struct trig *t, const struct adma_req *q, uint32_t n)
{
	struct adma_cmd cmd = { .magic = ADMA_CMD_MAGIC,
				.version = ADMA_VERSION_MAJOR, .count = n,
				.req_gpa = REQS, .resp_gpa = RESPS };

	memcpy(fake_guest_ptr(&t->g, CMD, sizeof(cmd)), &cmd, sizeof(cmd));
	memcpy(fake_guest_ptr(&t->g, REQS, n * sizeof(*q)), q, n * sizeof(*q));
	return adma_core_doorbell(t->c, CMD);
}

static const struct adma_resp *resp_of(struct trig *t, unsigned int i)
{
	return fake_guest_ptr(&t->g, RESPS + i * sizeof(struct adma_resp),
			      sizeof(struct adma_resp));
}

/* Pages [first, first + n) mapped, per per doorbell; handles into h. */
static void map_pages(struct trig *t, unsigned int first, unsigned int n,
		      unsigned int per, uint64_t *h)
{
	struct adma_req q[ADMA_MAX_BATCH];
	unsigned int i, j, k;

	for (i = 0; i < n; i += k) {
		k = n - i < per ? n - i : per;
		for (j = 0; j < k; j++)
			q[j] = map_req(first + i + j);
		assert_int_equal(ring(t, q, k), ADMA_S_OK);
		for (j = 0; j < k; j++) {
			assert_int_equal(resp_of(t, j)->status, ADMA_S_OK);
			if (h)
				h[i + j] = resp_of(t, j)->handle;
		}
	}
}

static void test_cookie_round_trip(void **state)
{
	struct adma_req q[6];
	struct adma_resp a;
	uint64_t h[12];
	unsigned int batch, i;

	(void)state;
	for (batch = 0; batch < 2; batch++) {
		struct trig *t = trig_new(16, batch);

		map_pages(t, 0, 12, 16, h);
		for (i = 0; i < 6; i++)
			q[i] = unmap_req(h[2 * i]);
		assert_int_equal(ring(t, q, 6), ADMA_S_OK);
		for (i = 0; i < 6; i++)
			assert_int_equal(resp_of(t, i)->status, ADMA_S_OK);
		assert_int_equal(dartsim_stats(t->b.d)->live_maps, 6);
		/* one request, outside a doorbell */
		q[0] = unmap_req(h[1]);
		assert_int_equal(adma_core_exec(t->c, &q[0], &a), ADMA_S_OK);
		adma_core_reset(t->c);
		assert_int_equal(dartsim_stats(t->b.d)->live_maps, 0);
		assert_int_equal(t->b.maps + t->b.batch_maps, 12);
		assert_int_equal(t->b.unmaps + t->b.batch_unmaps, 12);
		assert_int_equal(t->b.batch_maps, batch ? 12 : 0);
		assert_int_equal(t->b.bad_cookies, 0);
		trig_free(t);
	}
}

/* A reset of n mappings: ceil(n / max_batch) backend calls, not n. */
static void test_reset_batches_unmaps(void **state)
{
	struct trig *t = trig_new(16, true);
	const unsigned int n[] = { 40, 32, 1 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		map_pages(t, 0, n[i], 16, NULL);
		assert_int_equal(dartsim_stats(t->b.d)->live_maps, n[i]);
		t->b.batches = t->b.batch_unmaps = 0;
		adma_core_reset(t->c);
		assert_int_equal(t->b.batches, (n[i] + 15) / 16);
		assert_int_equal(t->b.batch_unmaps, n[i]);
		assert_int_equal(t->b.unmaps, 0);
		assert_int_equal(dartsim_stats(t->b.d)->live_maps, 0);
		assert_int_equal(adma_core_stats(t->c)->live_maps, 0);
	}
	t->b.batches = 0;
	adma_core_reset(t->c);			/* nothing live: no call */
	assert_int_equal(t->b.batches, 0);
	assert_int_equal(t->b.bad_cookies, 0);
	trig_free(t);

	/* without batch_backend: one unmap() each, as before */
	t = trig_new(16, false);
	map_pages(t, 0, 20, 16, NULL);
	adma_core_reset(t->c);
	assert_int_equal(t->b.unmaps, 20);
	assert_int_equal(t->b.batches, 0);
	trig_free(t);
}

/* Answers that never reach the guest: their maps undone in one call. */
static void test_roll_back_batches_unmaps(void **state)
{
	struct trig *t = trig_new(32, true);
	struct adma_req q[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < 32; i++)
		q[i] = map_req(i);
	q[20].len = 0;				/* refused: nothing to undo */
	t->g.writes_left = 1;	/* the first 16 answers land, the rest not */
	assert_int_equal(ring(t, q, 32), ADMA_S_IO_ERROR);
	assert_int_equal(t->b.batches, 2);	/* the doorbell, the undo */
	assert_int_equal(t->b.batch_maps, 31);
	assert_int_equal(t->b.batch_unmaps, 15);
	assert_int_equal(t->b.unmaps, 0);
	assert_int_equal(t->b.bad_cookies, 0);
	assert_int_equal(dartsim_stats(t->b.d)->live_maps, 16);
	assert_int_equal(adma_core_stats(t->c)->live_maps, 16);
	trig_free(t);
}

/*
 * Handles are predictable, so a guest can unmap in a doorbell what the same
 * doorbell maps: max_batch / 2 maps of the whole byte limit, each writing
 * and clearing a page-table entry per page. A doorbell's maps may hand the
 * backend max_bytes in all; past that, NO_SPACE.
 */
static void test_doorbell_map_budget(void **state)
{
	const uint64_t lim = 64 * PG;
	struct trig *t = trig_new_limit(16, false, lim);
	struct adma_req q[16];
	uint64_t h;
	unsigned int i;

	(void)state;
	q[0] = (struct adma_req){ .op = ADMA_OP_MAP, .gpa = MAPS, .len = lim,
				  .flags = ADMA_DIR_BIDIRECTIONAL };
	assert_int_equal(ring(t, q, 1), ADMA_S_OK);
	assert_int_equal(resp_of(t, 0)->status, ADMA_S_OK);
	h = resp_of(t, 0)->handle;
	q[1] = unmap_req(h);
	assert_int_equal(ring(t, &q[1], 1), ADMA_S_OK);
	/* the freed slot is taken next, one generation on */
	for (i = 0; i < 16; i += 2) {
		q[i] = q[0];
		q[i + 1] = unmap_req(h += 1ull << 32);
	}
	t->b.maps = 0;
	assert_int_equal(ring(t, q, 16), ADMA_S_OK);
	assert_int_equal(resp_of(t, 0)->status, ADMA_S_OK);
	assert_int_equal(resp_of(t, 1)->status, ADMA_S_OK);
	for (i = 2; i < 16; i += 2) {
		assert_int_equal(resp_of(t, i)->status, ADMA_S_NO_SPACE);
		assert_int_equal(resp_of(t, i + 1)->status, ADMA_S_BAD_HANDLE);
	}
	assert_int_equal(t->b.maps, 1);
	/* the next doorbell has its own budget; exec outside one has none */
	assert_int_equal(ring(t, q, 1), ADMA_S_OK);
	assert_int_equal(resp_of(t, 0)->status, ADMA_S_OK);
	q[1] = unmap_req(resp_of(t, 0)->handle);
	assert_int_equal(adma_core_exec(t->c, &q[1],
		&(struct adma_resp){ 0 }), ADMA_S_OK);
	assert_int_equal(adma_core_exec(t->c, &q[0],
		&(struct adma_resp){ 0 }), ADMA_S_OK);
	assert_int_equal(dartsim_stats(t->b.d)->live_maps, 1);
	trig_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_round_trip),
		cmocka_unit_test(test_reset_batches_unmaps),
		cmocka_unit_test(test_roll_back_batches_unmaps),
		cmocka_unit_test(test_doorbell_map_budget),
	};

	if (getenv("TEST_FILTER"))	/* e.g. TEST_FILTER='*budget*' */
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
