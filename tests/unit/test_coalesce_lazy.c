// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_coalesce_lazy.c - the guest coalescer's deferred (lazy, batched)
 * unmaps and host pressure, one behaviour per test: batches of lazy_max,
 * coal_flush(), a tiny host whose space idle and deferred mappings fill.
 * Against the fake host of coal_rig.c, checked by coal_cache_rig.c.
 */
#include "coal_cache_rig.h"

static void test_lazy_batches(void **state)
{
	const struct coal_stats *st;
	struct coal_ubuf u[10];
	uint64_t d[10];
	struct coal *c;
	unsigned int i, lazy;

	(void)state;
	for (lazy = 0; lazy <= 4; lazy += 4) {
		host_reset(31);
		c = cc_new(lazy, 0, 0, 0);
		st = coal_stats(c);
		for (i = 0; i < 10; i++)
			d[i] = cc_map1(c, BASE + 4 * i * CS, BIG);
		for (i = 0; i < 10; i++)
			cc_unmap(c, d[i], BIG);
		/* 10 unmaps: strict 10 host calls, lazy 4 per call */
		assert_int_equal(H.unmap_calls, lazy ? 10 / lazy : 10);
		assert_int_equal(st->deferred, lazy ? 10 % lazy : 0);
		assert_int_equal(H.nmaps, st->deferred);
		assert_int_equal(coal_flush(c), lazy ? 10 % lazy : 0);
		cc_check(c);
		assert_int_equal(H.unmap_calls, lazy ? (10 + lazy - 1) / lazy
					      : 10);
		assert_int_equal(st->flushes, lazy ? H.unmap_calls : 0);
		assert_int_equal(coal_flush(c), 0);
		assert_int_equal(H.unmap_calls, st->host_calls - H.map_calls);

		/* one coal_unmap() of 10: sent 4 + 4, 2 left deferred */
		for (i = 0; i < 10; i++) {
			d[i] = cc_map1(c, BASE + 4 * i * CS, BIG);
			u[i] = (struct coal_ubuf){ d[i], BIG };
		}
		i = (unsigned int)H.unmap_calls;
		assert_int_equal(coal_unmap(c, u, 10), 0);
		cc_check(c);
		assert_int_equal(H.unmap_calls - i, 2);
		assert_int_equal(H.nmaps, lazy ? 2 : 0);
		cc_finish(c, 0);
	}
}

/* lazy_bytes: the queue also goes once its mappings hold that many bytes */
static void test_lazy_bytes(void **state)
{
	struct coal_config cfg = {
		.cluster_shift = 18, .max_batch = 8, .ext_bits = 6,
		.buf_bits = 8, .lazy_max = 8, .lazy_bytes = 2 * CS,
	};
	const struct coal_stats *st;
	uint64_t d[4];
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(35);
	c = coal_new_cfg(&cfg);
	st = coal_stats(c);
	for (i = 0; i < 4; i++)	/* one cluster each */
		d[i] = cc_map1(c, BASE + 2 * i * CS, 4 * KiB);
	cc_unmap(c, d[0], 4 * KiB);
	assert_int_equal(st->deferred, 1);
	assert_int_equal(H.unmap_calls, 0);
	cc_unmap(c, d[1], 4 * KiB);	/* 2 clusters' bytes: sent */
	assert_int_equal(H.unmap_calls, 1);
	assert_int_equal(st->deferred, 0);
	assert_true(st->deferred_bytes == 0);
	cc_check(c);
	cc_unmap(c, d[2], 4 * KiB);
	cc_unmap(c, d[3], 4 * KiB);
	assert_int_equal(H.unmap_calls, 2);
	cc_finish(c, 0);
}

/* ---- host pressure: a tiny host */

static void test_pressure_evicts_idle(void **state)
{
	const struct coal_stats *st;
	struct coal_buf b[2];
	uint64_t d;
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(32);
	c = cc_new(4, 64 * CS, 0, 0);
	st = coal_stats(c);
	H.limit_maps = 4;
	for (i = 0; i < 4; i++) {
		d = cc_map1(c, BASE + 2 * i * CS + 4 * KiB, 4 * KiB);
		cc_unmap(c, d, 4 * KiB);
	}
	assert_int_equal(H.nmaps, 4);		/* the host is full of idle */
	d = cc_map1(c, BASE + 20 * CS, 4 * KiB);
	assert_int_equal(st->pressure_retries, 1);
	assert_int_equal(st->evict_pressure, 4);
	assert_int_equal(st->cluster_refused, 1);
	assert_int_equal(st->map_errors, 0);
	assert_int_equal(H.nmaps, 1);
	assert_true(cc_host_has(BASE + 20 * CS, CS));	/* a cluster still */
	cc_unmap(c, d, 4 * KiB);

	/* refused while it holds an idle hit: the hit goes back, then all */
	for (i = 1; i < 4; i++) {
		d = cc_map1(c, BASE + 2 * i * CS + 4 * KiB, 4 * KiB);
		cc_unmap(c, d, 4 * KiB);
	}
	assert_int_equal(st->idle_extents, 4);
	b[0] = mkbuf(BASE + 2 * CS + 8 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	b[1] = mkbuf(BASE + 30 * CS, 4 * KiB, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, b, 2), 0);
	cc_check(c);
	assert_int_equal(st->pressure_retries, 2);
	assert_int_equal(st->idle_extents, 0);
	assert_int_equal(H.nmaps, 2);
	assert_int_equal(st->idle_hits, 0);	/* the retry made it anew */
	cc_finish(c, 2);
}

static void test_pressure_sends_deferred(void **state)
{
	const struct coal_stats *st;
	struct coal_buf b[2];
	uint64_t d[4];
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(33);
	c = cc_new(4, 0, 0, 0);
	st = coal_stats(c);
	H.limit_maps = 4;
	for (i = 0; i < 4; i++)
		d[i] = cc_map1(c, BASE + 4 * i * CS, BIG);
	for (i = 0; i < 3; i++)
		cc_unmap(c, d[i], BIG);
	assert_int_equal(st->deferred, 3);
	b[0] = mkbuf(BASE + 20 * CS, BIG, COAL_DIR_TO_DEVICE);
	b[1] = mkbuf(BASE + 24 * CS, BIG, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, b, 2), 0);
	cc_check(c);
	assert_int_equal(st->pressure_retries, 1);
	assert_int_equal(st->evict_pressure, 0);
	assert_int_equal(st->deferred, 0);
	assert_int_equal(H.nmaps, 3);
	cc_finish(c, 3);
}

static void test_pressure_nothing_to_free(void **state)
{
	const struct coal_stats *st;
	struct coal_buf b;
	struct snapshot s;
	struct coal *c;

	(void)state;
	host_reset(34);
	c = cc_new(4, 64 * CS, 0, 0);
	st = coal_stats(c);
	H.limit_maps = 2;
	cc_map1(c, BASE, BIG);
	cc_map1(c, BASE + 8 * CS, 4 * KiB);
	snap(c, &s);
	b = mkbuf(BASE + 16 * CS, BIG, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, &b, 1), COAL_ENOMEM);
	b = mkbuf(BASE + 20 * CS, 4 * KiB, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, &b, 1), COAL_ENOMEM);
	assert_unchanged(c, &s);
	cc_check(c);
	assert_int_equal(st->pressure_retries, 0);
	assert_int_equal(st->map_errors, 2);
	cc_finish(c, 2);
}

static void test_tiny_host_never_refuses(void **state)
{
	struct coal_stats st;
	struct coal *c;

	(void)state;
	/*
	 * In use <= 3 mappings (a pair at most each) + 1 new fit the host:
	 * no map may fail while idle or deferred mappings fill it.
	 */
	host_reset(36);
	H.limit_maps = 4;
	H.limit_bytes = 8 * CS;
	c = cc_new(4, 64 * CS, 0, 0);
	st = cc_churn(c, 3000, 3, NULL);
	assert_true(st.pressure_retries > 0 && st.evict_pressure > 0);
	host_reset(37);
	H.limit_maps = 4;
	H.limit_bytes = 8 * CS;
	c = cc_new(0, 64 * CS, 0, 0);
	assert_true(cc_churn(c, 3000, 3, NULL).pressure_retries > 0);
	host_reset(38);
	H.limit_maps = 4;
	H.limit_bytes = 8 * CS;
	c = cc_new(4, 0, 0, 0);
	assert_true(cc_churn(c, 3000, 3, NULL).pressure_retries > 0);
}

/* ---- bounded work per call */

static void test_one_unmap_bounded(void **state)
{
	struct coal_config cfg = { .cluster_shift = 18, .max_batch = 64,
				   .lazy_max = 64, .cache_bytes = 64 * MiB };
	const struct coal_stats *st;
	uint64_t d[512], big, calls, ev;
	struct coal *c;
	unsigned int i;

	(void)state;
	/* a 64 MiB private does not go idle: no sweep of 455 idle ones */
	host_reset(42);
	c = coal_new_cfg(&cfg);
	st = coal_stats(c);
	for (i = 0; i < 455; i++)
		d[i] = cc_map1(c, RAM_BASE + i * 144 * KiB, 144 * KiB);
	for (i = 0; i < 455; i++)
		cc_unmap(c, d[i], 144 * KiB);
	big = cc_map1(c, RAM_BASE + 128 * MiB, 64 * MiB);
	calls = H.unmap_calls;
	ev = st->evictions;
	cc_unmap(c, big, 64 * MiB);
	assert_true(H.unmap_calls - calls <= 1);
	assert_int_equal(st->evictions, ev);
	assert_int_equal(st->idle_extents, 455);
	assert_int_equal(st->deferred, 1);
	cc_finish(c, 0);

	/*
	 * 512 idle 16 KiB privates fill the cache; a 1 MiB one (cache / 8)
	 * needs 64 evicted, lazy_max 16 allows 16 per call: it is retired.
	 */
	cfg = (struct coal_config){ .max_batch = 16, .lazy_max = 16,
				    .cache_bytes = 8 * MiB };
	host_reset(43);
	c = coal_new_cfg(&cfg);
	st = coal_stats(c);
	for (i = 0; i < 512; i++) {
		d[0] = cc_map1(c, RAM_BASE + i * 16 * KiB, 16 * KiB);
		cc_unmap(c, d[0], 16 * KiB);
	}
	assert_int_equal(st->idle_bytes, 8 * MiB);
	big = cc_map1(c, RAM_BASE + 128 * MiB, MiB);
	calls = H.unmap_calls;
	cc_unmap(c, big, MiB);
	assert_int_equal(st->evictions, 16);
	assert_int_equal(H.unmap_calls - calls, 1);
	assert_int_equal(st->idle_extents, 512 - 16);
	assert_int_equal(st->deferred, 1);	/* big's */
	/* with room, a later call keeps one idle */
	big = cc_map1(c, RAM_BASE + 130 * MiB, 128 * KiB);
	cc_unmap(c, big, 128 * KiB);
	assert_int_equal(st->evictions, 16);
	assert_int_equal(st->idle_extents, 512 - 16 + 1);
	cc_finish(c, 0);
}

static void test_lazy_config(void **state)
{
	struct coal_config cfg = { .cluster_shift = 18, .max_batch = 8 };

	(void)state;
	cfg.lazy_max = 9;		/* more than one host call can take */
	assert_int_equal(coal_size(&cfg), 0);
	cfg.lazy_max = 8;
	assert_true(coal_size(&cfg) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_batches),
		cmocka_unit_test(test_lazy_bytes),
		cmocka_unit_test(test_pressure_evicts_idle),
		cmocka_unit_test(test_pressure_sends_deferred),
		cmocka_unit_test(test_pressure_nothing_to_free),
		cmocka_unit_test(test_tiny_host_never_refuses),
		cmocka_unit_test(test_one_unmap_bounded),
		cmocka_unit_test(test_lazy_config),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(H.maps);
	free(H.segs);
	return rc;
}
