// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_coalesce_cases.c - the guest coalescer, one behaviour per test:
 * cluster sharing, straddlers, refusals and failures leaving no trace,
 * segment fallbacks, what an answer must fit, configuration. Against the
 * fake host of coal_rig.c.
 */
#include "coal_rig.h"

static void test_cluster_sharing(void **state)
{
	uint64_t cs = 256 * KiB, base = RAM_BASE + 16 * cs;
	struct coal_buf a = mkbuf(base + 4 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	struct coal_buf b = mkbuf(base + 200 * KiB, 8 * KiB,
				  COAL_DIR_FROM_DEVICE);
	struct coal_ubuf ua, ubb;
	struct coal *c;

	(void)state;
	host_reset(7);
	c = coal_new(18, 0, 8);
	assert_int_equal(coal_map(c, &a, 1), 0);
	assert_int_equal(H.nmaps, 1);
	assert_int_equal(H.maps[0].gpa, base);
	assert_int_equal(H.maps[0].len, cs);
	assert_int_equal(H.maps[0].dir, COAL_DIR_BIDIRECTIONAL);
	assert_int_equal(coal_map(c, &b, 1), 0);
	assert_int_equal(H.nmaps, 1);		/* a hit: no new host mapping */
	assert_int_equal(b.dma - a.dma, 196 * KiB);	/* base + offset */
	assert_int_equal(coal_stats(c)->cluster_hits, 1);
	assert_int_equal(coal_stats(c)->cluster_misses, 1);

	ua.dma = a.dma;
	ua.len = a.len;
	ubb.dma = b.dma;
	ubb.len = b.len;
	assert_int_equal(coal_unmap(c, &ua, 1), 0);
	assert_int_equal(H.nmaps, 1);		/* b still holds the cluster */
	assert_int_equal(coal_unmap(c, &ubb, 1), 0);
	assert_int_equal(H.nmaps, 0);		/* last reference: unmapped */
	assert_int_equal(coal_unmap(c, &ubb, 1), 1);	/* now unknown */
	assert_int_equal(coal_stats(c)->unknown_unmaps, 1);
	assert_int_equal(H.unmaps, 1);
	assert_int_equal(H.allocs_live, 0);
	free(c);
}

static void test_straddlers(void **state)
{
	uint64_t cs = 256 * KiB, k = RAM_BASE + 40 * cs;
	/* straddles clusters 40 and 41, both unmapped: a pair */
	struct coal_buf s = mkbuf(k + cs - 2 * KiB, 8 * KiB,
				  COAL_DIR_BIDIRECTIONAL);
	struct coal_buf in41 = mkbuf(k + cs + 100 * KiB, 4 * KiB,
				     COAL_DIR_TO_DEVICE);
	struct coal_buf in40 = mkbuf(k + 4 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	/* straddles 41 and 42: 41 belongs to the pair, so private */
	struct coal_buf s2 = mkbuf(k + 2 * cs - KiB, 4 * KiB,
				   COAL_DIR_TO_DEVICE);
	struct coal_buf in43 = mkbuf(k + 3 * cs + 8 * KiB, 4 * KiB,
				     COAL_DIR_TO_DEVICE);
	/* straddles 42 and 43, 43 has its own cluster: private */
	struct coal_buf s3 = mkbuf(k + 3 * cs - KiB, 4 * KiB,
				   COAL_DIR_FROM_DEVICE);
	struct coal_ubuf u;
	struct coal *c;
	uint64_t gpa;
	unsigned int dir;
	size_t map;

	(void)state;
	host_reset(8);
	c = coal_new(18, 0, 8);
	assert_int_equal(coal_map(c, &s, 1), 0);
	assert_int_equal(H.nmaps, 1);
	assert_int_equal(H.maps[0].gpa, k);
	assert_int_equal(H.maps[0].len, 2 * cs);
	assert_int_equal(coal_stats(c)->pairs, 1);
	/* contiguous over the boundary: */
	assert_true(host_translate(s.dma + 2 * KiB, &gpa, &dir, &map));
	assert_int_equal(gpa, k + cs);
	assert_true(host_translate(s.dma + 8 * KiB - 1, &gpa, &dir, &map));
	assert_int_equal(gpa, k + cs + 6 * KiB - 1);

	/* both halves of the pair serve later buffers */
	assert_int_equal(coal_map(c, &in41, 1), 0);
	assert_int_equal(coal_map(c, &in40, 1), 0);
	assert_int_equal(H.nmaps, 1);
	assert_int_equal(in41.dma - s.dma, in41.gpa - s.gpa);
	assert_int_equal(in40.dma - s.dma, in40.gpa - s.gpa);
	assert_int_equal(coal_stats(c)->cluster_hits, 2);

	assert_int_equal(coal_map(c, &s2, 1), 0);
	assert_int_equal(H.nmaps, 2);
	assert_int_equal(H.maps[1].gpa, s2.gpa);	/* its own bytes */
	assert_int_equal(H.maps[1].len, s2.len);
	assert_int_equal(H.maps[1].dir, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_stats(c)->straddle_private, 1);

	assert_int_equal(coal_map(c, &in43, 1), 0);
	assert_int_equal(coal_map(c, &s3, 1), 0);
	assert_int_equal(H.nmaps, 4);
	assert_int_equal(coal_stats(c)->straddle_private, 2);
	assert_int_equal(coal_stats(c)->live_clusters, 2);

	/* the pair lives while any of its three buffers does */
	u.dma = s.dma;
	u.len = s.len;
	assert_int_equal(coal_unmap(c, &u, 1), 0);
	u.dma = in40.dma;
	u.len = in40.len;
	assert_int_equal(coal_unmap(c, &u, 1), 0);
	assert_int_equal(H.nmaps, 4);
	u.dma = in41.dma;
	u.len = in41.len;
	assert_int_equal(coal_unmap(c, &u, 1), 0);
	assert_int_equal(H.nmaps, 3);
	assert_int_equal(coal_release_all(c), 3);
	assert_int_equal(H.nmaps, 0);
	assert_int_equal(H.allocs_live, 0);
	free(c);
}

static void test_window_refused(void **state)
{
	/* a small buffer whose cluster window crosses the RAM hole */
	struct coal_buf b = mkbuf(HOLE_START - 8 * KiB, 4 * KiB,
				  COAL_DIR_TO_DEVICE);
	struct coal_buf top = mkbuf(RAM_END - 4 * KiB, 4 * KiB,
				    COAL_DIR_TO_DEVICE);
	struct coal *c;

	(void)state;
	host_reset(9);
	c = coal_new(18, 0, 8);
	assert_int_equal(coal_map(c, &b, 1), 0);
	assert_int_equal(H.nmaps, 1);
	assert_int_equal(H.maps[0].gpa, b.gpa);		/* private */
	assert_int_equal(H.maps[0].len, b.len);
	assert_int_equal(coal_stats(c)->private_maps, 1);
	/* the last cluster of RAM is wholly RAM: clustered */
	assert_int_equal(coal_map(c, &top, 1), 0);
	assert_int_equal(coal_stats(c)->cluster_misses, 1);
	assert_int_equal(coal_release_all(c), 2);
	free(c);
}

static void test_host_failure_leaves_state(void **state)
{
	uint64_t cs = 256 * KiB, base = RAM_BASE + 8 * cs;
	struct coal_buf keep = mkbuf(base + 4 * KiB, 4 * KiB,
				     COAL_DIR_TO_DEVICE);
	struct coal_buf batch[6];
	struct snapshot s;
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(10);
	c = coal_new(18, 0, 8);
	assert_int_equal(coal_map(c, &keep, 1), 0);

	/* one buffer, host refuses: error, nothing changed */
	batch[0] = mkbuf(base + 3 * cs + 4 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	snap(c, &s);
	H.fail_at = H.map_reqs + 1;
	assert_int_equal(coal_map(c, batch, 1), -28);
	assert_unchanged(c, &s);
	assert_int_equal(coal_stats(c)->map_errors, 1);

	/*
	 * A batch: a hit, new clusters, a pair and a large private; the 3rd
	 * host request fails. The two mapped before it are undone.
	 */
	batch[0] = mkbuf(base + 8 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	batch[1] = mkbuf(base + 5 * cs, 4 * KiB, COAL_DIR_TO_DEVICE);
	batch[2] = mkbuf(base + 7 * cs - KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	batch[3] = mkbuf(base + 10 * cs + 1, 3 * cs, COAL_DIR_FROM_DEVICE);
	batch[4] = mkbuf(base + 5 * cs + 64 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	batch[5] = mkbuf(base + 12 * cs, 4 * KiB, COAL_DIR_TO_DEVICE);
	snap(c, &s);
	H.fail_at = H.map_reqs + 3;
	{
		uint64_t unmaps = H.unmaps;

		assert_int_equal(coal_map(c, batch, 6), -28);
		assert_unchanged(c, &s);
		assert_int_equal(H.unmaps - unmaps, 3);	/* 4 asked, 3 made */
	}
	/* the same batch then goes through, in one host call */
	H.fail_at = 0;
	{
		uint64_t calls = H.map_calls;

		assert_int_equal(coal_map(c, batch, 6), 0);
		assert_int_equal(H.map_calls - calls, 1);
	}
	assert_int_equal(H.nmaps, 5);	/* keep's cluster + 4 new */

	/* malformed answer: refused, and the host mapping undone */
	batch[0] = mkbuf(base + 20 * cs, 3 * cs + 5, COAL_DIR_TO_DEVICE);
	snap(c, &s);
	H.malformed_next = true;
	assert_int_equal(coal_map(c, batch, 1), -5);
	assert_unchanged(c, &s);

	/* allocation failure: refused before any host call */
	for (i = 1; i <= 3; i++) {
		uint64_t reqs = H.map_reqs;

		batch[0] = mkbuf(base + 30 * cs, 4 * KiB, COAL_DIR_TO_DEVICE);
		batch[1] = mkbuf(base + 31 * cs, 4 * KiB, COAL_DIR_TO_DEVICE);
		snap(c, &s);
		H.alloc_fail_at = H.alloc_calls + i;
		assert_int_equal(coal_map(c, batch, 2), COAL_ENOMEM);
		assert_unchanged(c, &s);
		assert_int_equal(H.map_reqs, reqs);
	}
	H.alloc_fail_at = 0;

	/* bad buffers and batches too large */
	batch[0] = mkbuf(base, 0, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, batch, 1), COAL_EINVAL);
	batch[0] = mkbuf(~0ull - 10, 100, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, batch, 1), COAL_EINVAL);
	batch[0] = mkbuf(base, 10, 0);
	assert_int_equal(coal_map(c, batch, 1), COAL_EINVAL);
	assert_int_equal(coal_map(c, batch, 9), COAL_E2BIG);
	assert_unchanged(c, &s);

	assert_int_equal(coal_release_all(c), 7);
	assert_int_equal(H.nmaps, 0);
	assert_int_equal(H.allocs_live, 0);
	free(c);
}

static void test_split_fallback(void **state)
{
	/*
	 * Every answer comes in non-contiguous segments: a small buffer that
	 * a new cluster's segments split is mapped privately instead, in the
	 * same coal_map() call, and the unused cluster is given back.
	 */
	uint64_t cs = 256 * KiB, base = RAM_BASE + 64 * cs;
	struct coal_buf b[32];
	unsigned int i, n = 0;
	struct coal *c;

	(void)state;
	host_reset(11);
	H.split_pct = 100;
	H.split_contig_pct = 0;
	c = coal_new(18, 0, 32);
	for (i = 0; i < 32; i++)
		b[n++] = mkbuf(base + i * cs + cs / 2 - 3 * KiB + i * 64,
			       8 * KiB, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, b, n), 0);
	for (i = 0; i < n; i++) {
		struct mbuf m = { b[i].gpa, b[i].len, b[i].dma, b[i].dir };

		check_buffer(&m, NULL);
	}
	assert_true(coal_stats(c)->private_maps > 0);
	assert_int_equal(coal_stats(c)->live_extents, H.nmaps);
	assert_int_equal(coal_release_all(c), n);
	assert_int_equal(H.nmaps, 0);
	assert_int_equal(H.allocs_live, 0);
	free(c);
}

static void test_cluster_refused_private(void **state)
{
	/*
	 * The host has no room for a cluster window (NO_SPACE/FRAGMENTED)
	 * but does for the buffers' own bytes: a single, a hit on the same
	 * refused cluster, a straddler's pair and a flagged buffer all map
	 * privately in the same call. A private buffer refused so still fails.
	 */
	uint64_t cs = 256 * KiB, base = RAM_BASE + 40 * cs;
	struct coal_buf b[5] = {
		mkbuf(base + 4 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE),
		mkbuf(base + 64 * KiB, 8 * KiB, COAL_DIR_FROM_DEVICE),
		mkbuf(base + 3 * cs - 2 * KiB, 8 * KiB, COAL_DIR_TO_DEVICE),
		mkbuf(base + 6 * cs + 4 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE),
		mkbuf(base + 9 * cs, 16 * KiB, COAL_DIR_BIDIRECTIONAL),
	};
	struct coal_buf big = mkbuf(base + 20 * cs, cs, COAL_DIR_TO_DEVICE);
	struct snapshot s;
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(13);
	c = coal_new(18, 0, 8);
	b[4].flags = COAL_BUF_PRIVATE;
	H.nospace_from = cs;
	assert_int_equal(coal_map(c, b, 5), 0);
	for (i = 0; i < 5; i++) {
		struct mbuf m = { b[i].gpa, b[i].len, b[i].dma, b[i].dir };

		check_buffer(&m, NULL);
	}
	assert_int_equal(H.nmaps, 5);
	assert_int_equal(coal_stats(c)->private_maps, 5);
	assert_int_equal(coal_stats(c)->cluster_refused, 3);
	assert_int_equal(coal_stats(c)->live_clusters, 0);
	assert_int_equal(coal_stats(c)->map_errors, 0);

	snap(c, &s);
	assert_int_equal(coal_map(c, &big, 1), COAL_ENOMEM);
	assert_unchanged(c, &s);

	/* with room again, the flag still keeps a small buffer private */
	H.nospace_from = 0;
	b[0] = mkbuf(base + 30 * cs, 4 * KiB, COAL_DIR_TO_DEVICE);
	b[0].flags = COAL_BUF_PRIVATE;
	assert_int_equal(coal_map(c, b, 1), 0);
	assert_int_equal(H.maps[H.nmaps - 1].len, 4 * KiB);
	b[0].flags = 2;
	assert_int_equal(coal_map(c, b, 1), COAL_EINVAL);
	assert_int_equal(coal_release_all(c), 6);
	assert_int_equal(H.nmaps, 0);
	assert_int_equal(H.allocs_live, 0);
	free(c);
}

static void test_pick(void **state)
{
	/* what the guest module may hand a caller from a mapping */
	struct coal_want w = { .mask = ~0ull, .boundary = 0xffffffffull,
			       .align = 1, .size = 4 * KiB };
	uint64_t four = 1ull << 32;

	(void)state;
	assert_int_equal(coal_pick(&w, 0x10000, 4 * KiB), 0x10000);
	/* IOVA 0 is never handed out */
	assert_int_equal(coal_pick(&w, 0, 4 * KiB), 0);
	/* the mask that applies */
	w.mask = four - 1;
	assert_int_equal(coal_pick(&w, four - 4 * KiB, 4 * KiB), four - 4 * KiB);
	assert_int_equal(coal_pick(&w, four - 2 * KiB, 4 * KiB), 0);
	assert_int_equal(coal_pick(&w, 1ull << 40, 4 * KiB), 0);
	w.mask = ~0ull;
	/* the segment boundary, unless the buffer is longer than a segment */
	assert_int_equal(coal_pick(&w, four - 2 * KiB, 4 * KiB), 0);
	w.boundary = 0xffff;
	w.size = 128 * KiB;
	assert_int_equal(coal_pick(&w, four - 2 * KiB, 128 * KiB),
			 four - 2 * KiB);
	w.boundary = 0xffffffffull;
	/* alignment: the aligned part of a mapping with slack */
	w.size = 64 * KiB;
	w.align = 64 * KiB;
	assert_int_equal(coal_pick(&w, 0x4000, 64 * KiB), 0);
	assert_int_equal(coal_pick(&w, 0x4000, 112 * KiB), 0x10000);
	assert_int_equal(coal_pick(&w, 0x10000, 64 * KiB), 0x10000);
	/* no room after aligning, and wrap-around */
	assert_int_equal(coal_pick(&w, 0x14000, 64 * KiB + 0x8000), 0);
	w.align = 1;
	assert_int_equal(coal_pick(&w, ~0ull - 16 * KiB, 64 * KiB), 0);
	w.size = 0;
	assert_int_equal(coal_pick(&w, 0x10000, 4 * KiB), 0);
}

static void test_size_mismatch(void **state)
{
	struct coal_buf a = mkbuf(RAM_BASE + 4 * KiB, 4 * KiB,
				  COAL_DIR_TO_DEVICE);
	struct coal_ubuf u;
	struct coal *c;

	(void)state;
	host_reset(12);
	c = coal_new(18, 0, 8);
	assert_int_equal(coal_map(c, &a, 1), 0);
	u.dma = a.dma;
	u.len = 8 * KiB;			/* wrong length */
	assert_int_equal(coal_unmap(c, &u, 1), 0);
	assert_int_equal(coal_stats(c)->size_mismatches, 1);
	assert_int_equal(H.nmaps, 0);
	free(c);
}

static void test_same_address_twice(void **state)
{
	/* the same page mapped twice: two buffers, one device address */
	struct coal_buf a[2] = {
		mkbuf(RAM_BASE + 12 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE),
		mkbuf(RAM_BASE + 12 * KiB, 4 * KiB, COAL_DIR_FROM_DEVICE),
	};
	struct coal_ubuf u;
	struct coal *c;

	(void)state;
	host_reset(13);
	c = coal_new(18, 0, 8);
	assert_int_equal(coal_map(c, a, 2), 0);
	assert_int_equal(a[0].dma, a[1].dma);
	assert_int_equal(H.nmaps, 1);
	u.dma = a[0].dma;
	u.len = a[0].len;
	assert_int_equal(coal_unmap(c, &u, 1), 0);
	assert_int_equal(H.nmaps, 1);
	assert_int_equal(coal_unmap(c, &u, 1), 0);
	assert_int_equal(H.nmaps, 0);
	assert_int_equal(coal_unmap(c, &u, 1), 1);
	free(c);
}

static void test_config(void **state)
{
	struct coal_config cfg = { 0 };
	struct coal_env env = {
		.ctx = &H, .host_map = fake_host_map,
		.host_unmap = fake_host_unmap, .alloc = fake_alloc,
		.free = fake_free,
	};
	static uint64_t mem[1 << 16];
	struct coal *c;

	(void)state;
	cfg.cluster_shift = 13;			/* below the host page */
	assert_int_equal(coal_size(&cfg), 0);
	assert_null(coal_init(mem, &cfg, &env));
	cfg.cluster_shift = 31;
	assert_int_equal(coal_size(&cfg), 0);
	cfg.cluster_shift = 18;
	cfg.small_max = (256 * KiB) + 1;	/* above one cluster */
	assert_int_equal(coal_size(&cfg), 0);
	cfg.small_max = 0;
	cfg.ext_bits = 8;
	cfg.buf_bits = 8;
	assert_true(coal_size(&cfg) <= sizeof(mem));
	env.alloc = NULL;
	assert_null(coal_init(mem, &cfg, &env));
	env.alloc = fake_alloc;
	c = coal_init(mem, &cfg, &env);
	assert_non_null(c);
	assert_int_equal(coal_config(c)->small_max, 128 * KiB);
	assert_int_equal(coal_config(c)->max_batch, COAL_DEFAULT_MAX_BATCH);
	assert_int_equal(coal_config(c)->page_shift, 14);
}

/*
 * keep_recs: the records of unmapped buffers are reused by later calls, at
 * most keep_recs of them kept; a failed call keeps its own; teardown frees
 * them all.
 */
static void test_kept_records(void **state)
{
	struct coal_config cfg = {
		.cluster_shift = 18, .max_batch = 8, .ext_bits = 6,
		.buf_bits = 8, .keep_recs = 3,
	};
	uint64_t cs = 256 * KiB, base = RAM_BASE + 60 * cs, calls;
	const struct coal_stats *st;
	struct coal_buf b[4];
	struct coal_ubuf u[4];
	struct snapshot s;
	struct coal *c;
	unsigned int i;

	(void)state;
	host_reset(9);
	c = coal_new_cfg(&cfg);
	st = coal_stats(c);
	for (i = 0; i < 4; i++)
		b[i] = mkbuf(base + i * 16 * KiB, 4 * KiB, COAL_DIR_TO_DEVICE);
	assert_int_equal(coal_map(c, b, 4), 0);
	assert_int_equal(H.allocs_live, 5);	/* a cluster + 4 records */
	for (i = 0; i < 4; i++)
		u[i] = (struct coal_ubuf){ .dma = b[i].dma, .len = b[i].len };
	assert_int_equal(coal_unmap(c, u, 4), 0);
	assert_int_equal(st->recs_kept, 3);	/* the bound: one freed */
	assert_int_equal(H.allocs_live, 3);	/* and the cluster */
	assert_int_equal(H.nmaps, 0);

	calls = H.alloc_calls;
	assert_int_equal(coal_map(c, b, 3), 0);
	assert_int_equal(H.alloc_calls - calls, 1);	/* the cluster only */
	assert_int_equal(st->recs_kept, 0);
	for (i = 1; i < 3; i++)
		assert_int_equal(b[i].dma - b[0].dma, i * 16 * KiB);
	for (i = 0; i < 3; i++)
		u[i] = (struct coal_ubuf){ .dma = b[i].dma, .len = b[i].len };

	/* a call that fails keeps the record it took */
	b[3] = mkbuf(base + 4 * cs, 4 * KiB, COAL_DIR_TO_DEVICE);
	snap(c, &s);
	H.alloc_fail_at = H.alloc_calls + 2;	/* the record, then its cluster */
	assert_int_equal(coal_map(c, &b[3], 1), COAL_ENOMEM);
	H.alloc_fail_at = 0;
	assert_unchanged(c, &s);
	assert_int_equal(st->recs_kept, 1);

	assert_int_equal(coal_unmap(c, u, 1), 0);
	assert_int_equal(st->recs_kept, 2);
	assert_int_equal(coal_release_all(c), 2);	/* frees the kept too */
	assert_int_equal(st->recs_kept, 0);
	assert_int_equal(H.allocs_live, 0);

	/* after teardown a failed call may keep one: coal_fini() frees it */
	H.alloc_fail_at = H.alloc_calls + 2;
	assert_int_equal(coal_map(c, &b[3], 1), COAL_ENOMEM);
	H.alloc_fail_at = 0;
	assert_int_equal(H.allocs_live, 1);
	coal_fini(c);
	assert_int_equal(H.allocs_live, 0);
	assert_int_equal(st->recs_kept, 0);

	cfg.keep_recs = COAL_MAX_KEEP_RECS + 1;
	assert_int_equal(coal_size(&cfg), 0);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_cluster_sharing),
		cmocka_unit_test(test_straddlers),
		cmocka_unit_test(test_window_refused),
		cmocka_unit_test(test_host_failure_leaves_state),
		cmocka_unit_test(test_split_fallback),
		cmocka_unit_test(test_cluster_refused_private),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_size_mismatch),
		cmocka_unit_test(test_same_address_twice),
		cmocka_unit_test(test_kept_records),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(H.maps);
	free(H.segs);
	return rc;
}
