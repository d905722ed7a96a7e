// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_coalesce_pin.c - pins (coal_pin_idle(), coal_unpin()): a reference
 * on an idle cluster's mapping without a buffer record, which apple_dma's
 * lock-free hits (guest/fast.c) serve buffers from. Against the fake host
 * of coal_rig.c, checked by coal_cache_rig.c after each call.
 */
#include "coal_cache_rig.h"

/* An idle cluster at gpa's window, its device address in *dma. */
static void make_idle(struct coal *c, uint64_t gpa, uint64_t *dma)
{
	uint64_t d = cc_map1(c, gpa, 4 * KiB);

	cc_unmap(c, d, 4 * KiB);
	*dma = d - (gpa & (CS - 1));
}

static void test_pin_idle_cluster(void **state)
{
	const struct coal_stats *st;
	struct coal_pin p, q;
	uint64_t win, d, calls, w = BASE + 3 * CS;
	struct coal *c;

	(void)state;
	host_reset(51);
	c = cc_new(0, 16 * CS, 0, 0);
	st = coal_stats(c);
	make_idle(c, w + 8 * KiB, &win);
	calls = st->host_calls;
	assert_true(coal_pin_idle(c, w + 100 * KiB, &p));
	assert_int_equal(p.gpa, w);
	assert_int_equal(p.len, CS);
	assert_int_equal(p.dma, win);
	assert_int_equal(st->pins, 1);
	assert_int_equal(st->idle_extents, 0);	/* in use now */
	assert_int_equal(st->idle_bytes, 0);
	assert_int_equal(st->host_calls, calls);	/* no host call */
	cc_check(c);
	/* pinned is not idle: no second pin, no eviction by trim */
	assert_false(coal_pin_idle(c, w, &q));
	coal_trim(c);
	assert_int_equal(H.nmaps, 1);
	/* buffers are still served from it, with records */
	d = cc_map1(c, w + 64 * KiB, 4 * KiB);
	assert_int_equal(d, p.dma + 64 * KiB);
	assert_int_equal(st->host_calls, calls);
	cc_unmap(c, d, 4 * KiB);
	assert_int_equal(st->idle_extents, 0);	/* the pin holds it */
	coal_unpin(c, &p);
	assert_int_equal(st->pins, 0);
	assert_int_equal(st->idle_extents, 1);	/* idle again, still mapped */
	assert_int_equal(H.nmaps, 1);
	cc_check(c);
	cc_finish(c, 0);
}

static void test_pin_refused(void **state)
{
	const struct coal_stats *st;
	struct coal_pin p;
	uint64_t d, win;
	struct coal *c;

	(void)state;
	host_reset(52);
	c = cc_new(0, 64 * CS, 0, 0);
	st = coal_stats(c);
	/* nothing mapped there */
	assert_false(coal_pin_idle(c, BASE, &p));
	/* a cluster in use */
	d = cc_map1(c, BASE + 4 * KiB, 4 * KiB);
	assert_false(coal_pin_idle(c, BASE, &p));
	cc_unmap(c, d, 4 * KiB);
	/* an idle private mapping */
	d = cc_map(c, BASE + 8 * CS, BIG, COAL_DIR_BIDIRECTIONAL, 0);
	cc_unmap(c, d, BIG);
	assert_false(coal_pin_idle(c, BASE + 8 * CS, &p));
	/* an idle pair */
	d = cc_map1(c, BASE + 20 * CS - 4 * KiB, 8 * KiB);
	assert_int_equal(st->pairs, 1);
	cc_unmap(c, d, 8 * KiB);
	assert_false(coal_pin_idle(c, BASE + 20 * CS, &p));
	assert_false(coal_pin_idle(c, BASE + 19 * CS, &p));
	/* a window the hole cuts: its mapping is not one run over it */
	make_idle(c, HOLE_END + 4 * KiB, &win);
	assert_false(coal_pin_idle(c, HOLE_END, &p));
	/* a cluster the host mapped in scattered pieces: not one run */
	H.split_pct = 100;
	make_idle(c, BASE + 30 * CS + 20 * KiB, &win);
	H.split_pct = 0;
	assert_int_equal(st->idle_extents, 5);
	assert_false(coal_pin_idle(c, BASE + 30 * CS, &p));
	assert_int_equal(st->pins, 0);
	cc_finish(c, 0);

	/* no cache: nothing idle to pin */
	host_reset(53);
	c = cc_new(0, 0, 0, 0);
	d = cc_map1(c, BASE + 4 * KiB, 4 * KiB);
	cc_unmap(c, d, 4 * KiB);
	assert_false(coal_pin_idle(c, BASE, &p));
	cc_finish(c, 0);
}

static void test_unpin_full_cache_retires(void **state)
{
	const struct coal_stats *st;
	struct coal_pin p;
	uint64_t win, i;
	struct coal *c;

	(void)state;
	/* lazy unmap, a cache of 2 clusters */
	host_reset(54);
	c = cc_new(4, 2 * CS, 0, 0);
	st = coal_stats(c);
	make_idle(c, BASE, &win);
	assert_true(coal_pin_idle(c, BASE, &p));
	for (i = 1; i <= 2; i++)
		make_idle(c, BASE + i * 4 * CS, &win);
	assert_int_equal(st->idle_extents, 2);
	/* the unpinned one goes idle, the oldest idle one is evicted */
	coal_unpin(c, &p);
	assert_int_equal(st->idle_extents, 2);
	assert_int_equal(st->evictions, 1);
	assert_true(st->idle_bytes <= 2 * CS);
	cc_check(c);
	cc_finish(c, 0);

	/* strict: the unmap of a retired pin goes before coal_unpin returns */
	host_reset(55);
	c = cc_new(0, CS, 0, 0);
	st = coal_stats(c);
	make_idle(c, BASE, &win);
	assert_true(coal_pin_idle(c, BASE, &p));
	make_idle(c, BASE + 4 * CS, &win);
	coal_unpin(c, &p);
	assert_int_equal(st->deferred, 0);
	assert_int_equal(H.nmaps, 1);
	cc_finish(c, 0);
}

static void test_unmap_known(void **state)
{
	const struct coal_stats *st;
	struct coal_ubuf u;
	struct coal_pin p;
	uint64_t d, win;
	struct coal *c;

	(void)state;
	host_reset(56);
	c = cc_new(4, 16 * CS, 0, 0);
	st = coal_stats(c);
	make_idle(c, BASE, &win);
	assert_true(coal_pin_idle(c, BASE, &p));
	d = cc_map1(c, BASE + 8 * KiB, 4 * KiB);
	/* an address in the pin's range with no record: not counted */
	u = (struct coal_ubuf){ .dma = p.dma + 64 * KiB, .len = 4 * KiB };
	assert_false(coal_unmap_known(c, &u));
	assert_int_equal(st->unknown_unmaps, 0);
	/* the record: unmapped, the pin keeps the cluster */
	u = (struct coal_ubuf){ .dma = d, .len = 4 * KiB };
	assert_true(coal_unmap_known(c, &u));
	assert_int_equal(st->live_buffers, 0);
	assert_false(coal_unmap_known(c, &u));
	assert_int_equal(st->unknown_unmaps, 0);
	assert_int_equal(st->idle_extents, 0);
	cc_check(c);
	coal_unpin(c, &p);
	cc_finish(c, 0);
}

static void test_over_watermark(void **state)
{
	struct coal *c;
	uint64_t d;

	(void)state;
	/* what guest/fast.c asks before publishing: the coalescer's own sum */
	host_reset(57);
	c = cc_new(4, 16 * CS, 2 * CS, 0);
	assert_false(coal_over_watermark(c, 2 * CS, 1));
	assert_true(coal_over_watermark(c, 2 * CS + 1, 1));
	d = cc_map1(c, BASE, 4 * KiB);
	assert_false(coal_over_watermark(c, CS, 1));
	assert_true(coal_over_watermark(c, CS + 1, 1));
	cc_unmap(c, d, 4 * KiB);	/* idle counts too */
	assert_true(coal_over_watermark(c, CS + 1, 1));
	cc_finish(c, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_idle_cluster),
		cmocka_unit_test(test_pin_refused),
		cmocka_unit_test(test_unpin_full_cache_retires),
		cmocka_unit_test(test_unmap_known),
		cmocka_unit_test(test_over_watermark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
