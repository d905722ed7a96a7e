/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The host core under a hostile guest and a misbehaving embedder: page
 * rounding must not reach what was never validated, statuses that are not
 * answers, answers written partway, handles reused until they would repeat,
 * and what a device reset starts again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_rig.h"

#ifndef ADMA_CORE_GEN_MAX
#error "build with a small -DADMA_CORE_GEN_MAX (UNIT_FLAGS_test_core_hostile)"
#endif

/*
 * The DART maps whole 16 KiB pages: the page-rounded range is what must be
 * RAM. RAM that ends (or a hole that starts) inside a 16 KiB page makes
 * that page unmappable, even for bytes that are themselves RAM.
 */
#define ODD	0x10000000ull	/* regions placed off the 16 KiB grid */

static void test_rounded_range_must_be_ram(void **state)
{
	struct rig *r = rig_new(NULL, NULL);
	struct adma_resp a;
	uint64_t addr, avail;

	(void)state;
	/* RAM [ODD, ODD + 2 pages + 4 KiB): its last 16 KiB page is partly not */
	assert_true(fake_guest_add(&r->g, ODD, 2 * PG + 0x1000) >= 0);
	assert_int_equal(exec(r, map_req(ODD + 2 * PG, 0x1000), NULL),
			 ADMA_S_RANGE);
	assert_int_equal(exec(r, map_req(ODD + 2 * PG + 0xfff, 1), NULL),
			 ADMA_S_RANGE);
	/* one page of 4 KiB RAM, an 8 KiB hole, 4 KiB RAM: both refused */
	assert_true(fake_guest_add(&r->g, ODD + 4 * PG, 0x1000) >= 0);
	assert_true(fake_guest_add(&r->g, ODD + 5 * PG - 0x1000, PG + 0x1000)
		    >= 0);
	assert_int_equal(exec(r, map_req(ODD + 4 * PG, 0x1000), NULL),
			 ADMA_S_RANGE);
	assert_int_equal(exec(r, map_req(ODD + 5 * PG - 0x1000, 0x1000), NULL),
			 ADMA_S_RANGE);
	assert_int_equal(dartsim_stats(r->d)->maps, 0);
	/* whole pages of those regions still map, to the right address */
	assert_int_equal(exec(r, map_req(ODD + PG + 5, PG - 5), &a), ADMA_S_OK);
	assert_int_equal(exec(r, map_req(ODD + 5 * PG, PG), NULL), ADMA_S_OK);
	assert_int_equal(dartsim_translate(r->d, a.seg[0].iova, DARTSIM_ACC_READ,
					   &addr, &avail), 0);
	assert_int_equal(addr, ODD + PG + 5);
	assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_RANGE], 4);
	rig_free(r);
}

/*
 * An env whose resolve() answers like an HVA embedding (the address it
 * returns is not the GPA) and, for GPAs in [BAD_GPA, 2 * BAD_GPA), a status
 * that is not an answer (the page's number picks which).
 */
#define HVA_OFF	0x7f0000000000ull
#define BAD_GPA	0x3000000ull

static const int bad_resolve[] = { -5, 77, ADMA_S_PENDING, ADMA_S_NO_SPACE };
static int resolve_calls;

static int odd_resolve(void *opaque, uint64_t gpa, uint64_t len, uint64_t *addr)
{
	struct fake_guest *g = opaque;

	resolve_calls++;
	if (!fake_guest_ptr(g, gpa, len))
		return ADMA_S_RANGE;
	if (gpa >= BAD_GPA && gpa < 2 * BAD_GPA)
		return bad_resolve[((gpa - BAD_GPA) / PG) % 4];
	*addr = gpa + HVA_OFF;
	return ADMA_S_OK;
}

/* A dartsim that answers bad_map_status instead of OK when bad_map is set. */
static int bad_map, bad_map_status;

static int odd_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		   struct adma_seg *seg, unsigned int max_segs,
		   unsigned int *nsegs, uint64_t *cookie)
{
	int st = dartsim_backend_ops.map(be, addr, len, dir, seg, max_segs,
					 nsegs, cookie);

	if (st == ADMA_S_OK && bad_map) {
		dartsim_unmap(be, seg, *nsegs);
		*nsegs = 0;
		return bad_map_status;
	}
	return st;
}

static void odd_batch(void *be, struct adma_be_op *op, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (op[i].kind == ADMA_BE_MAP)
			op[i].status = odd_map(be, op[i].addr, op[i].len,
					       op[i].dir, op[i].seg,
					       op[i].max_segs, &op[i].nsegs,
					       &op[i].cookie);
		else
			dartsim_unmap(be, op[i].seg, op[i].nsegs);
	}
}

static void odd_unmap(void *be, const struct adma_seg *seg,
		      unsigned int nsegs, uint64_t cookie)
{
	(void)cookie;
	dartsim_unmap(be, seg, nsegs);
}

static const struct adma_backend_ops odd_ops = {
	.map = odd_map, .unmap = odd_unmap, .batch = odd_batch,
};

static struct rig *odd_rig(bool batch)
{
	struct adma_core_config cc = { .batch_backend = batch };
	struct rig *r = rig_new(NULL, NULL);
	struct adma_env env = fake_guest_env(&r->g);

	env.resolve = odd_resolve;
	free(r->cmem);
	r->cmem = aligned_alloc(64, (adma_core_size(&cc) + 63) & ~(size_t)63);
	assert_non_null(r->cmem);
	r->c = adma_core_init(r->cmem, &cc, &env, &odd_ops, r->d);
	assert_non_null(r->c);
	return r;
}

static uint64_t status_sum(const struct adma_core_stats *st)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < ADMA_S__COUNT; i++)
		sum += st->status[i];
	return sum;
}

/* Statuses that are not answers never index the stats or reach the guest. */
static void test_unknown_status_is_io_error(void **state)
{
	const int be_codes[] = { (int)0xE00002C2u, -1, ADMA_S__COUNT, 1000,
				 ADMA_S_PENDING };
	unsigned int batch, i, answers;
	struct adma_req q[8];
	struct adma_resp a;
	uint64_t addr, avail;

	(void)state;
	for (batch = 0; batch < 2; batch++) {
		struct rig *r = odd_rig(batch);

		answers = 0;
		/* resolve() says -5, 77, PENDING, NO_SPACE: refused, IO_ERROR */
		for (i = 0; i < 4; i++)
			q[i] = map_req(BAD_GPA + i * PG + 8, 100);
		put_batch(r, q, 4);
		assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_OK);
		for (i = 0; i < 4; i++)
			assert_int_equal(resp_of(r, i)->status,
					 ADMA_S_IO_ERROR);
		answers += 4;
		assert_int_equal(exec(r, map_req(BAD_GPA + 8, 1), &a),
				 ADMA_S_IO_ERROR);
		answers++;
		/* the backend says something outside the enum */
		bad_map = 1;
		for (i = 0; i < 5; i++) {
			bad_map_status = be_codes[i];
			q[0] = map_req(0x100000, 100);
			put_batch(r, q, 1);
			assert_int_equal(adma_core_doorbell(r->c, CMD),
					 ADMA_S_OK);
			assert_int_equal(resp_of(r, 0)->status,
					 ADMA_S_IO_ERROR);
			assert_int_equal(exec(r, map_req(0x100000, 1), &a),
					 ADMA_S_IO_ERROR);
			answers += 2;
		}
		bad_map = 0;
		assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_IO_ERROR],
				 answers);
		assert_int_equal(status_sum(adma_core_stats(r->c)), answers);
		assert_int_equal(adma_core_stats(r->c)->refusals, answers);
		assert_int_equal(adma_core_stats(r->c)->live_maps, 0);
		assert_int_equal(dartsim_stats(r->d)->live_maps, 0);
		/* and what resolve() maps is its address for the GPA */
		assert_int_equal(exec(r, map_req(0x100000 + 0x1234, 10), &a),
				 ADMA_S_OK);
		assert_int_equal(dartsim_translate(r->d, a.seg[0].iova + 9,
				 DARTSIM_ACC_READ, &addr, &avail), 0);
		assert_int_equal(addr, HVA_OFF + 0x100000 + 0x1234 + 9);
		rig_free(r);
	}
}

/*
 * The answers of a chunk land partway: the maps are undone and no answer
 * left in guest memory reads OK for a mapping that is gone.
 */
static void check_no_stale_ok(struct rig *r, unsigned int n)
{
	unsigned int i, ok = 0;
	uint64_t addr, avail;

	for (i = 0; i < n; i++) {
		const struct adma_resp *a = resp_of(r, i);

		if (a->status != ADMA_S_OK)
			continue;
		ok++;
		assert_int_equal(dartsim_translate(r->d, a->seg[0].iova,
				 DARTSIM_ACC_READ, &addr, &avail), 0);
	}
	assert_int_equal(ok, adma_core_stats(r->c)->live_maps);
	assert_int_equal(ok, dartsim_stats(r->d)->live_maps);
}

static void test_partial_write_leaves_no_ok(void **state)
{
	const size_t rs = sizeof(struct adma_resp);
	/* the second chunk lands 5 answers and the status of a 6th */
	const size_t partial[] = { 5 * rs + 4, 5 * rs + 3, 16 * rs - 1 };
	unsigned int batch, k, i;
	struct adma_req q[40];

	(void)state;
	for (batch = 0; batch < 2; batch++) {
		for (k = 0; k < 3; k++) {
			struct adma_core_config cc = { .batch_backend = batch };
			struct rig *r = batch ? odd_rig(true) : rig_new(&cc, NULL);

			for (i = 0; i < 40; i++)
				q[i] = map_req(0x100000 + (uint64_t)i * PG, PG);
			q[18] = map_req(0x100000, 0);	/* a refusal */
			put_batch(r, q, 40);
			r->g.writes_left = 1;
			r->g.fails_left = 1;	/* then writes work again */
			r->g.partial = partial[k];
			assert_int_equal(adma_core_doorbell(r->c, CMD),
					 ADMA_S_IO_ERROR);
			assert_int_equal(cmd_of(r)->status, ADMA_S_IO_ERROR);
			assert_int_equal(cmd_of(r)->done, 16);
			assert_int_equal(adma_core_stats(r->c)->live_maps, 16);
			assert_int_equal(resp_of(r, 16)->status,
					 ADMA_S_IO_ERROR);
			assert_int_equal(resp_of(r, 18)->status,
					 ADMA_S_INVALID);
			check_no_stale_ok(r, 40);
			/* the stats say what the guest was told */
			assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_OK],
					 16);
			assert_int_equal(status_sum(adma_core_stats(r->c)),
					 batch ? 40 : 32);
			rig_free(r);
		}
	}
}

/*
 * A slot's generation never wraps: a handle is never handed out twice, so
 * a stale one cannot unmap a live mapping (the build sets GEN_MAX small).
 */
static void test_generation_never_wraps(void **state)
{
	struct adma_core_config cc = { .max_maps = 2 };
	struct rig *r = rig_new(&cc, NULL);
	uint64_t seen[4 * ADMA_CORE_GEN_MAX + 8];
	unsigned int n = 0, i, j;
	struct adma_resp a, keep;

	(void)state;
	/* slot 1 stays live; slot 0 is reused until it is retired */
	assert_int_equal(exec(r, map_req(0, PG), &a), ADMA_S_OK);
	assert_int_equal(exec(r, map_req(0, PG), &keep), ADMA_S_OK);
	assert_int_equal(exec(r, unmap_req(a.handle), NULL), ADMA_S_OK);
	seen[n++] = a.handle;
	seen[n++] = keep.handle;
	for (i = 0; i < 2 * ADMA_CORE_GEN_MAX; i++) {
		if (exec(r, map_req(0, PG), &a) != ADMA_S_OK)
			break;
		for (j = 0; j < n; j++)
			assert_true(seen[j] != a.handle);
		seen[n++] = a.handle;
		/* a stale handle of this slot is refused */
		assert_int_equal(exec(r, unmap_req(seen[0]), NULL),
				 ADMA_S_BAD_HANDLE);
		assert_int_equal(exec(r, unmap_req(a.handle), NULL), ADMA_S_OK);
	}
	/* the slot was retired: the table is one smaller, nothing leaked */
	assert_int_equal(exec(r, map_req(0, PG), NULL), ADMA_S_NO_SPACE);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 1);
	assert_int_equal(exec(r, unmap_req(keep.handle), NULL), ADMA_S_OK);
	assert_int_equal(dartsim_stats(r->d)->live_maps, 0);
	rig_free(r);
}

/* A device reset starts BAD_BATCHES and the peaks again. */
static void test_reset_clears_bad_batches_and_peaks(void **state)
{
	struct rig *r = rig_new(NULL, NULL);
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(exec(r, map_req((uint64_t)i * PG, 3 * PG), NULL),
				 ADMA_S_OK);
	assert_int_equal(adma_core_doorbell(r->c, 100 * MiB), ADMA_S_RANGE);
	assert_int_equal(adma_core_stats(r->c)->bad_batches, 1);
	assert_int_equal(adma_core_stats(r->c)->peak_maps, 10);
	adma_core_reset(r->c);
	assert_int_equal(adma_core_stats(r->c)->bad_batches, 0);
	assert_int_equal(adma_core_stats(r->c)->peak_maps, 0);
	assert_int_equal(adma_core_stats(r->c)->peak_bytes, 0);
	/* cumulative counters are kept */
	assert_int_equal(adma_core_stats(r->c)->batches, 1);
	assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_OK], 10);
	assert_int_equal(exec(r, map_req(0, PG), NULL), ADMA_S_OK);
	assert_int_equal(adma_core_stats(r->c)->peak_maps, 1);
	assert_int_equal(adma_core_stats(r->c)->peak_bytes, PG);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rounded_range_must_be_ram),
		cmocka_unit_test(test_unknown_status_is_io_error),
		cmocka_unit_test(test_partial_write_leaves_no_ok),
		cmocka_unit_test(test_generation_never_wraps),
		cmocka_unit_test(test_reset_clears_bad_batches_and_peaks),
	};

	if (getenv("TEST_FILTER"))	/* e.g. TEST_FILTER='*generation*' */
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests_name("host core, hostile", tests, NULL,
					   NULL);
}
