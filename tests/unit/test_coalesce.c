// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_coalesce.c - the guest coalescer (guest/core/coalesce.c) in
 * randomized runs against the fake host (coal_rig.c) and a reference model
 * of the live buffers; single behaviours are in test_coalesce_cases.c.
 *
 * The fake host picks IOVAs (16 KiB-aligned, at random gaps, never reused),
 * may split an answer into segments (contiguous or not), refuses mappings
 * outside its "RAM" (which has a hole), and fails on request. Every check
 * goes through the fake host's translation, not through the coalescer's own
 * bookkeeping: a buffer is correct only if each of its bytes reaches the
 * right guest-physical byte through a mapping that is live on the host.
 *
 * Build (from the top of the repository):
 *   gcc -fsanitize=address,undefined -Iguest/core -Iprotocol \
 *       tests/unit/<this file> tests/unit/coal_rig.c guest/core/coalesce.c -lcmocka
 */
#include "coal_rig.h"

/* ---- reference model */

struct model {
	struct mbuf *b;
	size_t n, cap;
};

static void model_add(struct model *m, const struct coal_buf *b)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->b = realloc(m->b, m->cap * sizeof(*m->b));
		assert_non_null(m->b);
	}
	m->b[m->n].gpa = b->gpa;
	m->b[m->n].len = b->len;
	m->b[m->n].dma = b->dma;
	m->b[m->n].dir = b->dir;
	m->n++;
}

static void model_del(struct model *m, size_t i)
{
	m->b[i] = m->b[--m->n];
}

static int cmp_u64pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* The stats say what the host holds: cheap, after every step. */
static void check_host(struct coal *c)
{
	const struct coal_stats *st = coal_stats(c);
	const struct coal_config *cfg = coal_config(c);

	assert_int_equal(st->live_extents, H.nmaps);
	assert_int_equal(st->mapped_bytes, host_bytes());
	assert_true(st->idle_bytes <= cfg->cache_bytes);
	assert_true(cfg->lazy_max ? st->deferred < cfg->lazy_max :
		    !st->deferred);
	assert_int_equal(st->host_calls, H.map_calls + H.unmap_calls);
}

/* Every invariant that links the coalescer, the model and the host. */
static void check_all(struct coal *c, const struct model *m)
{
	const struct coal_stats *st = coal_stats(c);
	const struct coal_config *cfg = coal_config(c);
	unsigned char *used = calloc(H.nmaps + 1, 1);
	uint64_t bytes = 0, ubytes = 0, unused = 0, (*win)[2];
	size_t i, nwin = 0;

	assert_non_null(used);
	assert_int_equal(st->live_buffers, m->n);
	assert_true(st->peak_buffers >= st->live_buffers);
	assert_int_equal(st->live_extents, H.nmaps);
	for (i = 0; i < m->n; i++)
		check_buffer(&m->b[i], used);
	/*
	 * a host mapping without a live buffer in it is idle or has its
	 * unmap deferred: nothing leaked
	 */
	for (i = 0; i < H.nmaps; i++) {
		bytes += round_bytes(H.maps[i].gpa, H.maps[i].len);
		if (used[i])
			continue;
		if (!cfg->cache_bytes && !cfg->lazy_max)
			fail_msg("host mapping gpa %#llx+%#llx has no live buffer",
				 (unsigned long long)H.maps[i].gpa,
				 (unsigned long long)H.maps[i].len);
		unused++;
		ubytes += round_bytes(H.maps[i].gpa, H.maps[i].len);
	}
	assert_int_equal(unused, st->idle_extents + st->deferred);
	assert_int_equal(ubytes, st->idle_bytes + st->deferred_bytes);
	assert_int_equal(st->mapped_bytes, bytes);
	assert_true(st->peak_extents >= st->live_extents);
	assert_true(st->peak_mapped_bytes >= st->mapped_bytes);

	/*
	 * Cluster windows (aligned, one or two clusters, bidirectional) never
	 * overlap: one host mapping per cluster. The test never makes a
	 * private buffer of exactly that shape, so this is exact. A window
	 * whose unmap is deferred may be mapped again meanwhile: with lazy
	 * unmaps, only the windows in use are checked.
	 */
	win = calloc(H.nmaps + 1, sizeof(*win));
	assert_non_null(win);
	if (cfg->cluster_shift) {
		uint64_t cs = 1ull << cfg->cluster_shift;

		for (i = 0; i < H.nmaps; i++) {
			const struct hmap *h = &H.maps[i];

			if (h->gpa % cs || (h->len != cs && h->len != 2 * cs) ||
			    h->dir != COAL_DIR_BIDIRECTIONAL ||
			    (cfg->lazy_max && !used[i]))
				continue;
			win[nwin][0] = h->gpa;
			win[nwin][1] = h->gpa + h->len;
			nwin++;
		}
		qsort(win, nwin, sizeof(*win), cmp_u64pair);
		for (i = 1; i < nwin; i++)
			if (win[i][0] < win[i - 1][1])
				fail_msg("cluster windows overlap at %#llx",
					 (unsigned long long)win[i][0]);
		if (!cfg->lazy_max)
			assert_int_equal(st->live_clusters, nwin);
	}
	free(win);
	free(used);
}

/* A random buffer inside RAM (outside the hole), mostly small. */
static void random_buf(struct coal_buf *b, uint64_t cs, uint64_t small_max)
{
	uint64_t kind = rnd_below(100);

	do {
		if (kind < 70)		/* 4 KiB pages, the GPU's usual */
			b->len = 4 * KiB;
		else if (kind < 85)	/* small, any size */
			b->len = 1 + rnd_below(small_max ? small_max : 64 * KiB);
		else			/* large */
			b->len = small_max + 1 +
				 rnd_below(cs ? 4 * cs : 1 * MiB);
		if (cs && b->len % cs == 0)
			b->len++;	/* never shaped like a cluster window */
		if (kind < 70)
			b->gpa = RAM_BASE + rnd_below((RAM_END - RAM_BASE) /
						      (4 * KiB)) * 4 * KiB;
		else
			b->gpa = RAM_BASE + rnd_below(RAM_END - RAM_BASE);
		/* keep the working set dense enough for hits */
		b->gpa = RAM_BASE + (b->gpa - RAM_BASE) % (32 * MiB);
		if (rnd_below(8) == 0)	/* sometimes near the hole */
			b->gpa = HOLE_START - 64 * KiB + rnd_below(512 * KiB);
	} while (!in_ram(b->gpa, b->len));
	b->dir = 1 + (unsigned int)rnd_below(3);
	/*
	 * now and then a buffer that must not share (coherent memory);
	 * chosen without drawing from rnd(), so the seeds keep their runs
	 */
	b->flags = ((b->gpa ^ b->len) & 0xf000) == 0x3000 ?
		   COAL_BUF_PRIVATE : 0;
	b->dma = 0;
}

/*
 * The randomized run: mixed batches of maps and unmaps against the model,
 * with all invariants checked as it goes and everything released at the end.
 */
static void random_run_cfg(uint64_t seed, unsigned int cluster_shift,
			   int split_pct, int fail_ppm, unsigned int rounds,
			   const struct coal_config *extra)
{
	struct coal_config cfg = {
		.cluster_shift = cluster_shift, .max_batch = 16,
		.ext_bits = 6, .buf_bits = 8,
	};
	struct model m = { 0 };
	struct coal_buf bufs[16];
	struct coal_ubuf ub[16];
	uint64_t cs, small_max, failures = 0, mapped = 0;
	unsigned int r, i, n;
	struct coal *c;

	host_reset(seed);
	H.split_pct = split_pct;
	H.split_contig_pct = 50;
	if (extra) {
		cfg.lazy_max = extra->lazy_max;
		cfg.cache_bytes = extra->cache_bytes;
		cfg.watermark_bytes = extra->watermark_bytes;
		cfg.watermark_maps = extra->watermark_maps;
	}
	c = coal_new_cfg(&cfg);
	cs = cluster_shift ? 1ull << cluster_shift : 0;
	small_max = coal_config(c)->small_max;

	for (r = 0; r < rounds; r++) {
		bool do_map = m.n < 64 || (m.n < 3000 && rnd_below(100) < 55);

		if (do_map) {
			struct snapshot s;
			int err;

			n = 1 + (unsigned int)rnd_below(rnd_below(4) ? 1 : 16);
			for (i = 0; i < n; i++)
				random_buf(&bufs[i], cs, small_max);
			H.fail_ppm = fail_ppm;
			snap(c, &s);
			err = coal_map(c, bufs, n);
			H.fail_ppm = 0;
			if (err) {
				assert_true(fail_ppm || split_pct);
				assert_true(err < 0);
				if (extra)	/* idle ones may be evicted */
					assert_int_equal(coal_stats(c)->live_buffers,
							 s.st.live_buffers);
				else
					assert_unchanged(c, &s);
				failures++;
			} else {
				for (i = 0; i < n; i++) {
					model_add(&m, &bufs[i]);
					check_buffer(&m.b[m.n - 1], NULL);
				}
				mapped += n;
			}
		} else {
			n = 1 + (unsigned int)rnd_below(rnd_below(4) ? 1 : 16);
			if (n > m.n)
				n = (unsigned int)m.n;
			for (i = 0; i < n; i++) {
				size_t k = rnd_below(m.n);

				ub[i].dma = m.b[k].dma;
				ub[i].len = m.b[k].len;
				model_del(&m, k);
			}
			assert_int_equal(coal_unmap(c, ub, n), 0);
		}
		check_host(c);
		if (r % 97 == 0)
			check_all(c, &m);
	}
	check_all(c, &m);
	{
		const struct coal_stats *st = coal_stats(c);

		assert_int_equal(st->cluster_hits + st->cluster_misses +
				 st->private_maps, mapped);
		assert_int_equal(st->buffers_mapped, mapped);
		assert_true(st->peak_buffers >= 64);
		if (fail_ppm)
			assert_true(failures > 0);
		print_message("seed %llu shift %u: %llu maps, hits %llu",
			      (unsigned long long)seed, cluster_shift,
			      (unsigned long long)mapped,
			      (unsigned long long)st->cluster_hits);
		print_message(" misses %llu (pairs %llu) private %llu",
			      (unsigned long long)st->cluster_misses,
			      (unsigned long long)st->pairs,
			      (unsigned long long)st->private_maps);
		print_message(" (straddlers %llu), peak host maps %llu",
			      (unsigned long long)st->straddle_private,
			      (unsigned long long)st->peak_extents);
		print_message(" for peak buffers %llu, failed calls %llu\n",
			      (unsigned long long)st->peak_buffers,
			      (unsigned long long)failures);
		if (extra && extra->cache_bytes)
			assert_true(st->idle_hits > 0 && st->evictions > 0);
		if (extra && extra->lazy_max)
			assert_true(st->flushes > 0);
		if (cluster_shift >= 18 && !split_pct) {
			/* small, dense buffers must mostly share */
			assert_true(st->cluster_hits > 4 * st->cluster_misses);
			assert_true(st->pairs > 0);
		} else if (cluster_shift) {
			assert_true(st->cluster_hits > 0);
		} else {
			assert_int_equal(st->cluster_hits, 0);
		}
	}
	assert_int_equal(coal_release_all(c), m.n);
	assert_int_equal(coal_stats(c)->live_buffers, 0);
	assert_int_equal(coal_stats(c)->live_extents, 0);
	assert_int_equal(coal_stats(c)->mapped_bytes, 0);
	assert_int_equal(H.nmaps, 0);
	assert_int_equal(H.nsegs, 0);
	assert_int_equal(H.allocs_live, 0);
	assert_true(H.max_batch_seen <= 16);
	free(m.b);
	free(c);
}

static void random_run(uint64_t seed, unsigned int cluster_shift,
		       int split_pct, int fail_ppm, unsigned int rounds)
{
	random_run_cfg(seed, cluster_shift, split_pct, fail_ppm, rounds, NULL);
}

/* ---- the tests */

static void test_random_clusters(void **state)
{
	(void)state;
	random_run(1, 18, 0, 0, 20000);
	random_run(2, 14, 0, 0, 10000);
	random_run(3, 20, 0, 0, 10000);
}

static void test_random_no_clusters(void **state)
{
	(void)state;
	random_run(4, 0, 0, 0, 5000);
}

static void test_random_segments(void **state)
{
	(void)state;
	/* split answers: buffers must land in one device-contiguous run */
	random_run(5, 18, 60, 0, 15000);
}

static void test_random_failures(void **state)
{
	(void)state;
	/* 2% of host maps fail: every failed call leaves the state as it was */
	random_run(6, 18, 20, 20000, 15000);
}

static void test_random_lazy_cache(void **state)
{
	struct coal_config lazy = { .lazy_max = 7 };
	struct coal_config cache = { .cache_bytes = 8 * MiB };
	struct coal_config both = { .lazy_max = 16, .cache_bytes = 4 * MiB,
				    .watermark_bytes = 64 * MiB,
				    .watermark_maps = 300 };

	(void)state;
	/* the same runs with unmaps deferred, mappings kept idle, or both */
	random_run_cfg(1, 18, 0, 0, 20000, &lazy);
	random_run_cfg(2, 14, 0, 0, 10000, &cache);
	random_run_cfg(4, 0, 0, 0, 5000, &both);
	random_run_cfg(5, 18, 60, 0, 15000, &both);
	random_run_cfg(6, 18, 20, 20000, 15000, &both);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_clusters),
		cmocka_unit_test(test_random_no_clusters),
		cmocka_unit_test(test_random_segments),
		cmocka_unit_test(test_random_failures),
		cmocka_unit_test(test_random_lazy_cache),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(H.maps);
	free(H.segs);
	return rc;
}
