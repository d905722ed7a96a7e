// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_coalesce_cache.c - the guest coalescer's idle-mapping cache, one
 * behaviour per test: idle hits cost no host call, LRU eviction, the
 * cache_bytes bound, watermarks, undoing a call that took idle mappings,
 * teardown. Lazy unmaps and host pressure: test_coalesce_lazy.c. Against
 * the fake host of coal_rig.c, checked by coal_cache_rig.c after each call.
 */
#include "coal_cache_rig.h"

static void test_idle_hit_costs_nothing(void **state)
{
	const struct coal_stats *st;
	uint64_t d, d2, calls, k = BASE + 40 * CS;
	struct coal *c;

	(void)state;
	host_reset(21);
	c = cc_new(0, 4 * CS, 0, 0);
	st = coal_stats(c);
	d = cc_map1(c, BASE + 4 * KiB, 4 * KiB);
	cc_unmap(c, d, 4 * KiB);
	assert_int_equal(H.nmaps, 1);		/* kept: idle */
	assert_int_equal(H.unmaps, 0);
	assert_int_equal(st->idle_extents, 1);
	assert_int_equal(st->idle_bytes, CS);
	calls = st->host_calls;
	d2 = cc_map(c, BASE + 100 * KiB, 8 * KiB, COAL_DIR_FROM_DEVICE, 0);
	assert_int_equal(st->host_calls, calls);	/* no doorbell */
	assert_int_equal(d2 - d, 96 * KiB);
	assert_int_equal(st->idle_hits, 1);
	assert_int_equal(st->cluster_hits, 1);
	assert_int_equal(st->idle_extents, 0);
	cc_unmap(c, d2, 8 * KiB);

	/* a pair goes idle whole and serves either of its clusters */
	d = cc_map1(c, k + CS - 2 * KiB, 8 * KiB);
	assert_int_equal(st->pairs, 1);
	cc_unmap(c, d, 8 * KiB);
	assert_int_equal(st->idle_bytes, 3 * CS);
	calls = st->host_calls;
	d2 = cc_map1(c, k + CS + 64 * KiB, 4 * KiB);
	assert_int_equal(st->host_calls, calls);
	assert_int_equal(d2 - d, 66 * KiB);
	assert_int_equal(st->idle_hits, 2);
	cc_finish(c, 1);
}

static void test_idle_private(void **state)
{
	const struct coal_stats *st;
	uint64_t d, d2, calls, g2 = BASE + 20 * CS;
	struct coal *c;

	(void)state;
	host_reset(22);
	c = cc_new(0, 64 * CS, 0, 0);
	st = coal_stats(c);
	d = cc_map(c, BASE, BIG, COAL_DIR_BIDIRECTIONAL, 0);
	cc_unmap(c, d, BIG);
	assert_int_equal(st->idle_extents, 1);
	/* same start, fewer bytes: served, no host call */
	calls = st->host_calls;
	d2 = cc_map1(c, BASE, 200 * KiB);
	assert_int_equal(d2, d);
	assert_int_equal(st->host_calls, calls);
	assert_int_equal(st->idle_hits, 1);
	assert_int_equal(st->private_maps, 2);
	cc_unmap(c, d2, 200 * KiB);
	/* another start is another mapping */
	d2 = cc_map1(c, BASE + 4 * KiB, BIG - 4 * KiB);
	assert_int_equal(st->host_calls, calls + 1);
	cc_unmap(c, d2, BIG - 4 * KiB);
	/* more bytes than it covers: a new mapping */
	d2 = cc_map1(c, BASE, BIG + 4 * KiB);
	assert_int_equal(st->host_calls, calls + 2);
	cc_unmap(c, d2, BIG + 4 * KiB);

	/* a mapping the device may only read does not serve a write */
	d = cc_map(c, g2, BIG, COAL_DIR_TO_DEVICE, 0);
	cc_unmap(c, d, BIG);
	calls = st->host_calls;
	d2 = cc_map(c, g2, BIG, COAL_DIR_FROM_DEVICE, 0);
	assert_int_equal(st->host_calls, calls + 1);
	cc_unmap(c, d2, BIG);
	d2 = cc_map(c, g2, BIG, COAL_DIR_BIDIRECTIONAL, 0);
	assert_int_equal(st->host_calls, calls + 2);
	cc_unmap(c, d2, BIG);
	d2 = cc_map(c, g2, BIG, COAL_DIR_TO_DEVICE, 0);
	assert_int_equal(st->host_calls, calls + 2);
	cc_unmap(c, d2, BIG);
	cc_finish(c, 0);
}

static void test_private_flag_never_idle(void **state)
{
	const struct coal_stats *st;
	struct coal_ubuf u[3];
	uint64_t b, t, t2, calls;
	struct coal *c;

	(void)state;
	/* the remap path of guest/ops.c, with lazy unmaps and a cache */
	host_reset(23);
	c = cc_new(4, 64 * CS, 0, 0);
	st = coal_stats(c);
	b = cc_map1(c, BASE, BIG);
	t = cc_map(c, BASE, BIG, COAL_DIR_TO_DEVICE, COAL_BUF_PRIVATE);
	t2 = cc_map(c, BASE, BIG, COAL_DIR_TO_DEVICE, COAL_BUF_PRIVATE);
	assert_true(t != b && t2 != b && t2 != t);
	u[0] = (struct coal_ubuf){ b, BIG };
	u[1] = (struct coal_ubuf){ t, BIG };
	u[2] = (struct coal_ubuf){ t2, BIG };
	assert_int_equal(coal_unmap(c, u, 3), 0);
	cc_check(c);
	assert_int_equal(st->idle_extents, 1);	/* b's only */
	assert_int_equal(st->deferred, 2);
	/* a flagged buffer gets a new address, not b's idle mapping */
	calls = st->host_calls;
	t = cc_map(c, BASE, BIG, COAL_DIR_TO_DEVICE, COAL_BUF_PRIVATE);
	assert_int_equal(st->host_calls, calls + 1);
	assert_true(t != b);
	cc_unmap(c, t, BIG);
	assert_int_equal(st->deferred, 3);
	assert_int_equal(H.nmaps, 4);	/* b idle, 3 deferred */
	assert_int_equal(coal_flush(c), 3);
	cc_check(c);
	assert_int_equal(H.nmaps, 1);
	assert_int_equal(cc_map1(c, BASE, BIG), b);	/* unflagged: b's */
	cc_finish(c, 1);
}

static void test_lru_eviction_order(void **state)
{
	const struct coal_stats *st;
	uint64_t d, g[5];
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(24);
	c = cc_new(0, 3 * CS, 0, 0);
	st = coal_stats(c);
	for (i = 0; i < 5; i++)
		g[i] = BASE + 2 * i * CS;
	for (i = 0; i < 4; i++) {
		d = cc_map1(c, g[i] + 4 * KiB, 4 * KiB);
		cc_unmap(c, d, 4 * KiB);
	}
	/* the 4th idle cluster pushed out the 1st */
	assert_int_equal(st->evictions, 1);
	assert_false(cc_host_has(g[0], CS));
	assert_true(cc_host_has(g[1], CS) && cc_host_has(g[2], CS) &&
		    cc_host_has(g[3], CS));
	/* using g[1] again makes it the most recent: g[2] goes next */
	d = cc_map1(c, g[1] + 8 * KiB, 4 * KiB);
	cc_unmap(c, d, 4 * KiB);
	d = cc_map1(c, g[4] + 4 * KiB, 4 * KiB);
	cc_unmap(c, d, 4 * KiB);
	assert_int_equal(st->evictions, 2);
	assert_false(cc_host_has(g[2], CS));
	assert_true(cc_host_has(g[1], CS) && cc_host_has(g[3], CS) &&
		    cc_host_has(g[4], CS));
	cc_finish(c, 0);
}

static void test_cache_bytes_bound(void **state)
{
	struct coal *c;

	(void)state;
	host_reset(25);
	c = cc_new(0, 5 * CS + CS / 2, 0, 0);
	cc_churn(c, 3000, 6, NULL);	/* check_stats: idle <= cache_bytes */
	host_reset(26);
	c = cc_new(3, 5 * CS, 0, 0);
	cc_churn(c, 3000, 6, NULL);
}

static void wm_check(struct coal *c, const struct live *l)
{
	const struct coal_stats *st = coal_stats(c);

	(void)l;
	/* in use <= 3 pairs, + 1 new pair: always honoured */
	assert_true(st->mapped_bytes <= 8 * CS);
	assert_true(st->peak_mapped_bytes <= 8 * CS);
}

static void wm_maps_check(struct coal *c, const struct live *l)
{
	(void)l;
	assert_true(coal_stats(c)->peak_extents <= 4);
}

static void test_watermark(void **state)
{
	struct coal *c;

	(void)state;
	/* a cache far above the watermark: the watermark binds */
	host_reset(27);
	c = cc_new(4, 64 * CS, 8 * CS, 0);
	assert_true(cc_churn(c, 3000, 3, wm_check).evict_watermark > 0);
	host_reset(28);
	c = cc_new(0, 64 * CS, 8 * CS, 0);
	cc_churn(c, 3000, 3, wm_check);
	host_reset(29);
	c = cc_new(4, 64 * CS, 0, 4);
	cc_churn(c, 3000, 3, wm_maps_check);
}

static void test_watermark_unreachable(void **state)
{
	const struct coal_stats *st;
	uint64_t d[3], i;
	struct coal *c;

	(void)state;
	/* in use alone above it: everything idle or deferred goes first */
	host_reset(30);
	c = cc_new(4, 64 * CS, 2 * CS, 0);
	st = coal_stats(c);
	d[0] = cc_map1(c, BASE, 4 * KiB);
	d[1] = cc_map1(c, BASE + 4 * CS, 4 * KiB);
	cc_unmap(c, d[1], 4 * KiB);
	assert_int_equal(st->idle_extents, 1);
	d[1] = cc_map1(c, BASE + 8 * CS, BIG);	/* needs 4 clusters' bytes */
	assert_true(st->mapped_bytes > 2 * CS);	/* above, by in use alone */
	assert_int_equal(st->wm_excess_bytes, 0);
	assert_int_equal(st->idle_extents, 0);
	assert_int_equal(st->deferred, 0);
	assert_int_equal(H.nmaps, 2);
	for (i = 0; i < 2; i++)
		cc_unmap(c, d[i], i ? BIG : 4 * KiB);
	cc_finish(c, 0);
}

static void test_length_bounded(void **state)
{
	const struct coal_stats *st;
	uint64_t d, calls, errs;
	struct coal_buf b;
	struct coal *c;
	int err;

	(void)state;
	/* a length near 2^64 would wrap the byte sums the watermark uses */
	host_reset(40);
	c = cc_new(4, 4 * CS, 2 * CS, 0);
	st = coal_stats(c);
	d = cc_map1(c, BASE + 4 * KiB, 4 * KiB);
	cc_unmap(c, d, 4 * KiB);
	calls = st->host_calls;
	errs = st->map_errors;
	b = mkbuf(16 * KiB, -(uint64_t)(32 * KiB), COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, &b, 1), COAL_EINVAL);
	b = mkbuf(RAM_BASE, COAL_MAX_LEN + 1, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, &b, 1), COAL_EINVAL);
	/* an end that wraps once rounded up to a host page */
	b = mkbuf(~0ull - 20 * KiB, 8 * KiB, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, &b, 1), COAL_EINVAL);
	assert_int_equal(st->host_calls, calls);	/* refused up front */
	assert_int_equal(st->map_errors, errs + 3);
	assert_int_equal(st->idle_extents, 1);
	cc_check(c);
	/* COAL_MAX_LEN itself is the host's to judge (not RAM here) */
	b = mkbuf(RAM_BASE, COAL_MAX_LEN, COAL_DIR_TO_DEVICE);
	err = coal_map(c, &b, 1);
	assert_true(err && err != COAL_EINVAL);
	cc_check(c);
	cc_finish(c, 0);
}

/* guest/ops.c adma_remap(): an unfit answer is remapped, then dropped */
static int map_fit(struct coal *c, struct coal_buf *b, uint64_t unfit)
{
	struct coal_ubuf held;
	struct coal_buf t;
	int err = coal_map(c, b, 1);

	if (err || b->dma != unfit)
		return err;
	held = (struct coal_ubuf){ b->dma, b->len };
	t = *b;
	t.flags |= COAL_BUF_PRIVATE;
	err = coal_map(c, &t, 1);
	assert_int_equal(coal_unmap_drop(c, &held, 1), 0);
	if (!err)
		*b = t;
	return err;
}

static void test_unmap_drop_not_reused(void **state)
{
	const struct coal_stats *st;
	uint64_t unfit, m0, d, d2, idle, k = BASE + 40 * CS;
	struct coal_ubuf u;
	struct coal_buf b;
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(41);
	c = cc_new(8, 64 * CS, 0, 0);
	st = coal_stats(c);
	unfit = cc_map1(c, BASE, BIG);	/* say the device cannot use it */
	cc_unmap(c, unfit, BIG);
	m0 = st->host_maps;
	for (i = 0; i < 10; i++) {
		b = mkbuf(BASE, BIG, COAL_DIR_TO_DEVICE);
		assert_int_equal(map_fit(c, &b, unfit), 0);
		cc_check(c);
		assert_true(b.dma != unfit);
		cc_unmap(c, b.dma, BIG);
	}
	/*
	 * The unfit mapping is hit once and dropped; the remap's own is not
	 * kept (COAL_BUF_PRIVATE); the next map makes one that then serves
	 * the other 8 from idle.
	 */
	assert_int_equal(st->host_maps - m0, 2);
	assert_int_equal(st->idle_hits, 9);

	/* a cluster other buffers use: not kept when its last one goes */
	d = cc_map1(c, k + 4 * KiB, 4 * KiB);
	d2 = cc_map1(c, k + 8 * KiB, 4 * KiB);
	u = (struct coal_ubuf){ d, 4 * KiB };
	assert_int_equal(coal_unmap_drop(c, &u, 1), 0);
	cc_check(c);
	idle = st->idle_extents;
	cc_unmap(c, d2, 4 * KiB);
	assert_int_equal(st->idle_extents, idle);
	m0 = st->host_maps;
	d = cc_map1(c, k + 12 * KiB, 4 * KiB);	/* so not an idle hit */
	assert_int_equal(st->host_maps, m0 + 1);
	cc_unmap(c, d, 4 * KiB);
	cc_finish(c, 0);
}

/* ---- undo and teardown */

static void test_rollback_after_idle_hit(void **state)
{
	const struct coal_stats *st;
	uint64_t d, calls, k = BASE + 40 * CS, p = BASE + 8 * CS;
	struct coal_ubuf u[4];
	struct coal_buf b[6];
	struct snapshot s;
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(35);
	c = cc_new(0, 64 * CS, 0, 0);
	st = coal_stats(c);
	d = cc_map1(c, BASE + 4 * KiB, 4 * KiB);		/* a cluster */
	cc_unmap(c, d, 4 * KiB);
	d = cc_map1(c, k + CS - 2 * KiB, 8 * KiB);		/* a pair */
	cc_unmap(c, d, 8 * KiB);
	d = cc_map1(c, p, BIG);				/* a private */
	cc_unmap(c, d, BIG);
	assert_int_equal(st->idle_extents, 3);

	b[0] = mkbuf(BASE + 64 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	b[1] = mkbuf(k + 4 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	b[2] = mkbuf(k + CS + 4 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	b[3] = mkbuf(p, 200 * KiB, COAL_DIR_TO_DEVICE);
	b[4] = mkbuf(BASE + 20 * CS, 4 * KiB, COAL_DIR_TO_DEVICE);
	b[5] = mkbuf(BASE + 24 * CS, 4 * KiB, COAL_DIR_TO_DEVICE);
	snap(c, &s);
	H.fail_at = H.map_reqs + 2;		/* b[5]'s cluster */
	assert_int_equal(coal_map(c, b, 6), -28);
	H.fail_at = 0;
	assert_unchanged(c, &s);
	cc_check(c);
	assert_int_equal(st->idle_extents, 3);	/* all three back, once */
	assert_int_equal(st->idle_bytes, s.st.idle_bytes);
	assert_int_equal(st->idle_hits, 0);

	calls = st->host_calls;
	assert_int_equal(coal_map(c, b, 4), 0);
	cc_check(c);
	assert_int_equal(st->host_calls, calls);
	assert_int_equal(st->idle_hits, 4);	/* the pair serves two */
	assert_int_equal(st->idle_extents, 0);
	for (i = 0; i < 4; i++) {
		struct mbuf m = { b[i].gpa, b[i].len, b[i].dma, b[i].dir };

		check_buffer(&m, NULL);
		u[i] = (struct coal_ubuf){ b[i].dma, b[i].len };
	}
	assert_int_equal(coal_unmap(c, u, 4), 0);
	cc_check(c);
	assert_int_equal(st->idle_extents, 3);
	cc_finish(c, 0);
}

static void test_release_all_trims(void **state)
{
	uint64_t d[5];
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(39);
	c = cc_new(4, 64 * CS, 0, 0);
	for (i = 0; i < 3; i++)
		d[i] = cc_map1(c, BASE + 2 * i * CS, 4 * KiB);
	for (i = 3; i < 5; i++)
		d[i] = cc_map(c, BASE + 8 * i * CS, BIG, COAL_DIR_TO_DEVICE,
			      COAL_BUF_PRIVATE);
	cc_unmap(c, d[0], 4 * KiB);
	cc_unmap(c, d[3], BIG);
	cc_unmap(c, d[4], BIG);
	assert_int_equal(coal_stats(c)->idle_extents, 1);
	assert_int_equal(coal_stats(c)->deferred, 2);
	cc_finish(c, 2);		/* the host is left with nothing */
}

/*
 * One small buffer whose cluster or pair is mapped (in use or idle) takes
 * coal_map()'s short path: the same answer and stats as a hit in a batch,
 * no host call. What is not such a hit (flagged private, too large, a
 * straddler of two clusters not one pair) still goes the full way.
 */
static void test_single_hits(void **state)
{
	const struct coal_stats *st;
	uint64_t d, d2, d3, p, calls, k = BASE + 40 * CS;
	struct coal_buf two[2];
	struct coal *c;

	(void)state;
	host_reset(22);
	c = cc_new(0, 4 * CS, 0, 0);
	st = coal_stats(c);
	d = cc_map1(c, BASE + 4 * KiB, 4 * KiB);	/* a miss */
	calls = st->host_calls;
	d2 = cc_map(c, BASE + 100 * KiB, 8 * KiB, COAL_DIR_FROM_DEVICE, 0);
	assert_int_equal(d2 - d, 96 * KiB);		/* a hit in use */
	assert_int_equal(st->cluster_hits, 1);
	assert_int_equal(st->live_buffers, 2);
	assert_int_equal(st->peak_buffers, 2);
	assert_int_equal(st->buffers_mapped, 2);
	cc_unmap(c, d, 4 * KiB);
	cc_unmap(c, d2, 8 * KiB);
	assert_int_equal(st->idle_extents, 1);
	d3 = cc_map1(c, BASE + 8 * KiB, 4 * KiB);	/* an idle hit */
	assert_int_equal(d3 - d, 4 * KiB);
	assert_int_equal(st->idle_hits, 1);
	assert_int_equal(st->cluster_hits, 2);
	assert_int_equal(st->idle_extents, 0);
	assert_int_equal(st->idle_bytes, 0);
	assert_int_equal(st->host_calls, calls);
	/* the same hit in a batch of two: the same address */
	two[0] = mkbuf(BASE + 100 * KiB, 8 * KiB, COAL_DIR_FROM_DEVICE);
	two[1] = mkbuf(BASE + 200 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, two, 2), 0);
	assert_int_equal(two[0].dma, d2);
	assert_int_equal(st->cluster_hits, 4);
	assert_int_equal(st->host_calls, calls);
	cc_check(c);

	/* a pair: hit by a straddler and by a buffer in its second cluster */
	p = cc_map1(c, k + CS - 2 * KiB, 8 * KiB);
	assert_int_equal(st->pairs, 1);
	calls = st->host_calls;
	assert_int_equal(cc_map1(c, k + CS - KiB, 2 * KiB), p + KiB);
	assert_int_equal(cc_map1(c, k + CS + 100 * KiB, 4 * KiB),
			 p + 102 * KiB);
	assert_int_equal(st->cluster_hits, 6);
	assert_int_equal(st->host_calls, calls);
	/* not hits: a buffer flagged private, and one above small_max */
	cc_map(c, BASE + 12 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE,
	       COAL_BUF_PRIVATE);
	cc_map1(c, BASE + 64 * KiB, CS / 2 + 4 * KiB);
	assert_int_equal(st->private_maps, 2);
	assert_int_equal(st->cluster_hits, 6);
	assert_int_equal(st->host_calls, calls + 2);
	cc_finish(c, 8);
}

/*
 * A batch of hits takes the short path too: buffers sharing a cluster that
 * was idle each count as an idle hit (as in a planned call); an idle
 * private mapping serves one buffer of a call only, so a batch with one
 * goes the full way; no memory for a record fails the call, unchanged.
 */
static void test_batch_hits(void **state)
{
	const struct coal_stats *st;
	uint64_t d, big, calls;
	struct coal_buf b[3];
	struct snapshot s;
	struct coal *c;

	(void)state;
	host_reset(23);
	c = cc_new(0, 64 * CS, 0, 0);
	st = coal_stats(c);
	d = cc_map1(c, BASE + 4 * KiB, 4 * KiB);
	cc_unmap(c, d, 4 * KiB);
	big = cc_map(c, BASE + 8 * CS, BIG, COAL_DIR_BIDIRECTIONAL, 0);
	cc_unmap(c, big, BIG);
	assert_int_equal(st->idle_extents, 2);
	calls = st->host_calls;
	b[0] = mkbuf(BASE + 16 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	b[1] = mkbuf(BASE + 32 * KiB, 4 * KiB, COAL_DIR_FROM_DEVICE);
	assert_int_equal(coal_map(c, b, 2), 0);
	assert_int_equal(b[0].dma, d + 12 * KiB);
	assert_int_equal(b[1].dma, d + 28 * KiB);
	assert_int_equal(st->idle_hits, 2);
	assert_int_equal(st->cluster_hits, 2);
	assert_int_equal(st->idle_extents, 1);
	assert_int_equal(st->host_calls, calls);
	cc_check(c);

	/* no record: refused, nothing changed */
	b[2] = mkbuf(BASE + 64 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	snap(c, &s);
	H.alloc_fail_at = H.alloc_calls + 1;
	assert_int_equal(coal_map(c, &b[2], 1), COAL_ENOMEM);
	H.alloc_fail_at = 0;
	assert_unchanged(c, &s);
	assert_int_equal(st->map_errors, 1);
	assert_int_equal(st->idle_hits, 2);

	/* the idle private one with a cluster hit: planned, still served */
	b[2] = mkbuf(BASE + 8 * CS, BIG, COAL_DIR_BIDIRECTIONAL);
	assert_int_equal(coal_map(c, &b[1], 2), 0);
	assert_int_equal(b[2].dma, big);
	assert_int_equal(st->idle_hits, 3);
	assert_int_equal(st->private_maps, 2);
	assert_int_equal(st->host_calls, calls);
	/* two buffers at an idle private one's start: one takes it */
	cc_unmap(c, big, BIG);
	b[0] = b[2];
	b[1] = b[2];
	assert_int_equal(coal_map(c, b, 2), 0);
	assert_true((b[0].dma == big) != (b[1].dma == big));
	assert_int_equal(st->host_calls, calls + 1);
	cc_finish(c, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_hit_costs_nothing),
		cmocka_unit_test(test_idle_private),
		cmocka_unit_test(test_private_flag_never_idle),
		cmocka_unit_test(test_lru_eviction_order),
		cmocka_unit_test(test_cache_bytes_bound),
		cmocka_unit_test(test_watermark),
		cmocka_unit_test(test_watermark_unreachable),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_unmap_drop_not_reused),
		cmocka_unit_test(test_rollback_after_idle_hit),
		cmocka_unit_test(test_release_all_trims),
		cmocka_unit_test(test_single_hits),
		cmocka_unit_test(test_batch_hits),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(H.maps);
	free(H.segs);
	return rc;
}
