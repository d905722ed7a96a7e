/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Unit tests of the DART simulator on its own. */
#define _POSIX_C_SOURCE 199309L	/* clock_gettime */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dartsim.h"

#define PG DARTSIM_PAGE_SIZE

static struct dartsim *sim_new(const struct dartsim_config *cfg)
{
	void *mem = malloc(dartsim_size(cfg));
	struct dartsim *d;

	assert_non_null(mem);
	d = dartsim_init(mem, cfg);
	assert_non_null(d);
	return d;
}

static int map1(struct dartsim *d, uint64_t addr, uint64_t len,
		unsigned int dir, struct adma_seg *seg)
{
	unsigned int n = 0;
	int st = dartsim_map(d, addr, len, dir, seg, ADMA_MAX_SEGS, &n);

	assert_int_equal(n, st == ADMA_S_OK ? 1 : 0);
	return st;
}

static void test_defaults(void **state)
{
	struct dartsim_config cfg = { 0 };
	struct dartsim *d = sim_new(&cfg);
	const struct dartsim_config *c = dartsim_config(d);

	(void)state;
	assert_int_equal(c->max_bytes, 3ull << 29);
	assert_int_equal(c->max_maps, 65536);
	assert_int_equal(c->aperture_base % PG, 0);
	assert_true(c->aperture_size >= c->max_bytes);
	free(d);
}

static void test_bad_config(void **state)
{
	struct dartsim_config cfg = { .aperture_base = 0x1000 };
	uint64_t mem[4096];

	(void)state;
	assert_null(dartsim_init(mem, &cfg));
	cfg = (struct dartsim_config){ .aperture_size = PG + 1 };
	assert_null(dartsim_init(mem, &cfg));
	cfg = (struct dartsim_config){ .aperture_base = ~0ull & ~(PG - 1),
				       .aperture_size = 4 * PG };
	assert_null(dartsim_init(mem, &cfg));
	cfg = (struct dartsim_config){ .aperture_size = 4 * PG,
				       .fail_ppm = 1000001 };
	assert_null(dartsim_init(mem, &cfg));
}

static void test_rounding_and_translation(void **state)
{
	struct dartsim_config cfg = { .aperture_size = 64 * PG };
	struct dartsim *d = sim_new(&cfg);
	struct adma_seg s1[ADMA_MAX_SEGS], s2[ADMA_MAX_SEGS];
	uint64_t addr, avail;

	(void)state;
	/* one byte at the last offset of a page: one page */
	assert_int_equal(map1(d, 0x10000 + PG - 1, 1, ADMA_DIR_TO_DEVICE, s1),
			 ADMA_S_OK);
	assert_int_equal(dartsim_stats(d)->live_bytes, PG);
	assert_int_equal(s1[0].iova % PG, PG - 1);
	assert_int_equal(s1[0].len, 1);
	/* 2 bytes across a page boundary: two pages */
	assert_int_equal(map1(d, 0x20000 + PG - 1, 2, ADMA_DIR_BIDIRECTIONAL,
			      s2), ADMA_S_OK);
	assert_int_equal(dartsim_stats(d)->live_bytes, 3 * PG);

	assert_int_equal(dartsim_translate(d, s1[0].iova, DARTSIM_ACC_READ,
					   &addr, &avail), 0);
	assert_int_equal(addr, 0x10000 + PG - 1);
	assert_int_equal(avail, 1);
	assert_int_equal(dartsim_translate(d, s2[0].iova + 1, DARTSIM_ACC_WRITE,
					   &addr, &avail), 0);
	assert_int_equal(addr, 0x20000 + PG);
	assert_int_equal(avail, PG);
	/* direction is enforced: a TO_DEVICE mapping cannot be written */
	assert_int_equal(dartsim_translate(d, s1[0].iova, DARTSIM_ACC_WRITE,
					   &addr, &avail), -1);
	/* outside the aperture, and inside it but unmapped */
	assert_int_equal(dartsim_translate(d, 0, DARTSIM_ACC_READ, &addr,
					   &avail), -1);
	assert_int_equal(dartsim_translate(d, cfg.aperture_base + 63 * PG,
					   DARTSIM_ACC_READ, &addr, &avail), -1);
	assert_int_equal(dartsim_stats(d)->faults, 3);
	assert_int_equal(dartsim_stats(d)->translations, 2);

	dartsim_unmap(d, s1, 1);
	assert_int_equal(dartsim_translate(d, s1[0].iova, DARTSIM_ACC_READ,
					   &addr, &avail), -1);
	assert_int_equal(dartsim_stats(d)->live_maps, 1);
	assert_int_equal(dartsim_stats(d)->live_bytes, 2 * PG);
	/* unmapping what is not a mapping's head changes nothing */
	dartsim_unmap(d, s1, 1);
	dartsim_unmap(d, &(struct adma_seg){ s2[0].iova + PG, 1 }, 1);
	assert_int_equal(dartsim_stats(d)->live_maps, 1);
	dartsim_reset(d);
	assert_int_equal(dartsim_stats(d)->live_maps, 0);
	assert_int_equal(dartsim_stats(d)->live_bytes, 0);
	assert_int_equal(dartsim_translate(d, s2[0].iova, DARTSIM_ACC_READ,
					   &addr, &avail), -1);
	free(d);
}

static void test_invalid_requests(void **state)
{
	struct dartsim_config cfg = { .aperture_size = 4 * PG };
	struct dartsim *d = sim_new(&cfg);
	struct adma_seg s[ADMA_MAX_SEGS];
	unsigned int n = 7;

	(void)state;
	assert_int_equal(dartsim_map(d, 0, 0, 1, s, 1, &n), ADMA_S_INVALID);
	assert_int_equal(n, 0);
	assert_int_equal(dartsim_map(d, ~0ull - 5, 10, 1, s, 1, &n),
			 ADMA_S_INVALID);
	assert_int_equal(dartsim_map(d, 0, 10, 0, s, 1, &n), ADMA_S_INVALID);
	assert_int_equal(dartsim_map(d, 0, 10, 8, s, 1, &n), ADMA_S_INVALID);
	assert_int_equal(dartsim_map(d, 0, 10, 1, s, 0, &n), ADMA_S_INVALID);
	assert_int_equal(dartsim_stats(d)->live_maps, 0);
	free(d);
}

static void test_limits(void **state)
{
	struct dartsim_config cfg = { .max_maps = 3, .max_bytes = 4 * PG,
				      .aperture_size = 64 * PG };
	struct dartsim *d = sim_new(&cfg);
	struct adma_seg s[4][ADMA_MAX_SEGS];

	(void)state;
	assert_int_equal(map1(d, 0, PG, 1, s[0]), ADMA_S_OK);
	assert_int_equal(map1(d, 0, 2 * PG, 1, s[1]), ADMA_S_OK);
	/* two more pages would pass the byte limit */
	assert_int_equal(map1(d, 0, 2 * PG, 1, s[2]), ADMA_S_NO_SPACE);
	assert_int_equal(map1(d, 0, PG, 1, s[2]), ADMA_S_OK);
	/* count limit */
	assert_int_equal(map1(d, 0, 1, 1, s[3]), ADMA_S_NO_SPACE);
	assert_int_equal(dartsim_stats(d)->no_space, 2);
	assert_int_equal(dartsim_stats(d)->peak_maps, 3);
	assert_int_equal(dartsim_stats(d)->peak_bytes, 4 * PG);
	dartsim_unmap(d, s[1], 1);
	assert_int_equal(map1(d, 0, 2 * PG, 1, s[3]), ADMA_S_OK);
	free(d);
}

static void test_fragmentation(void **state)
{
	struct dartsim_config cfg = { .aperture_size = 64 * PG,
				      .max_bytes = 64 * PG };
	struct dartsim *d = sim_new(&cfg);
	struct adma_seg s[64][ADMA_MAX_SEGS], big[ADMA_MAX_SEGS];
	int i;

	(void)state;
	for (i = 0; i < 64; i++)
		assert_int_equal(map1(d, (uint64_t)i * PG, PG, 1, s[i]),
				 ADMA_S_OK);
	for (i = 0; i < 64; i += 2)
		dartsim_unmap(d, s[i], 1);
	/* 32 pages are free, none adjacent: a 2-page mapping cannot fit */
	assert_int_equal(dartsim_stats(d)->live_bytes, 32 * PG);
	assert_int_equal(map1(d, 0, 2 * PG, 1, big), ADMA_S_FRAGMENTED);
	assert_int_equal(dartsim_stats(d)->fragmented, 1);
	assert_int_equal(dartsim_stats(d)->no_space, 0);
	assert_int_equal(map1(d, 0, PG, 1, big), ADMA_S_OK);
	/* freeing a neighbour joins two holes */
	dartsim_unmap(d, s[3], 1);
	assert_int_equal(map1(d, 0, 2 * PG, 1, big), ADMA_S_OK);
	free(d);
}

static void test_randomized_placement(void **state)
{
	struct dartsim_config cfg = { .randomize = true, .seed = 42,
				      .aperture_size = 4096 * PG };
	struct dartsim *a = sim_new(&cfg), *b = sim_new(&cfg), *c;
	struct adma_seg sa[ADMA_MAX_SEGS], sb[ADMA_MAX_SEGS];
	int i, odd = 0, differ = 0;

	(void)state;
	cfg.seed = 43;
	c = sim_new(&cfg);
	for (i = 0; i < 200; i++) {
		assert_int_equal(map1(a, 0, PG, 1, sa), ADMA_S_OK);
		assert_int_equal(map1(b, 0, PG, 1, sb), ADMA_S_OK);
		assert_int_equal(sa[0].iova, sb[0].iova);	/* seeded */
		assert_int_equal(sa[0].iova % PG, 0);
		odd += (sa[0].iova / PG) % 2;
		assert_int_equal(map1(c, 0, PG, 1, sb), ADMA_S_OK);
		differ += sa[0].iova != sb[0].iova;
	}
	/* nothing beyond 16 KiB alignment may be relied on */
	assert_true(odd > 20 && odd < 180);
	assert_true(differ > 150);
	free(a);
	free(b);
	free(c);
}

static void test_fault_injection(void **state)
{
	struct dartsim_config cfg = { .aperture_size = 1024 * PG,
				      .fail_nth = 3 };
	struct dartsim *d = sim_new(&cfg), *p1, *p2;
	struct adma_seg s[ADMA_MAX_SEGS];
	int i, fails = 0, same = 1, st1, st2;

	(void)state;
	assert_int_equal(map1(d, 0, PG, 1, s), ADMA_S_OK);
	assert_int_equal(map1(d, 0, PG, 1, s), ADMA_S_OK);
	assert_int_equal(map1(d, 0, PG, 1, s), ADMA_S_IO_ERROR);
	assert_int_equal(map1(d, 0, PG, 1, s), ADMA_S_OK);
	assert_int_equal(dartsim_stats(d)->injected, 1);
	assert_int_equal(dartsim_stats(d)->live_maps, 3);
	free(d);

	cfg = (struct dartsim_config){ .aperture_size = 1024 * PG,
				       .fail_ppm = 250000, .seed = 7 };
	p1 = sim_new(&cfg);
	p2 = sim_new(&cfg);
	for (i = 0; i < 400; i++) {
		st1 = map1(p1, 0, 1, 1, s);
		if (st1 == ADMA_S_OK)
			dartsim_unmap(p1, s, 1);
		st2 = map1(p2, 0, 1, 1, s);
		if (st2 == ADMA_S_OK)
			dartsim_unmap(p2, s, 1);
		same &= st1 == st2;
		fails += st1 != ADMA_S_OK;
	}
	assert_true(same);
	assert_true(fails > 60 && fails < 140);	/* ~25% of 400 */
	assert_int_equal(dartsim_stats(p1)->injected, fails);
	free(p1);
	free(p2);
}

/* seg_pages: long mappings come back in several non-touching segments. */
static void test_segments(void **state)
{
	struct dartsim_config cfg = { .aperture_size = 64 * PG, .seg_pages = 2 };
	struct dartsim *d = sim_new(&cfg);
	struct adma_seg s[ADMA_MAX_SEGS], one[ADMA_MAX_SEGS];
	struct adma_seg pg[8][ADMA_MAX_SEGS];
	uint64_t addr, avail, base = 0x100000;
	unsigned int n = 9, i;

	(void)state;
	/* 4 pages at offset 0x100 span 5: 2 + 2 + 1 pages */
	assert_int_equal(dartsim_map(d, base + 0x100, 4 * PG, 1, s,
				     ADMA_MAX_SEGS, &n), ADMA_S_OK);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].iova % PG, 0x100);
	assert_int_equal(s[0].len, 2 * PG - 0x100);
	assert_int_equal(s[1].len, 2 * PG);
	assert_int_equal(s[2].len, 0x100);
	for (i = 0; i < 2; i++)
		assert_true(s[i + 1].iova != s[i].iova + s[i].len);
	assert_int_equal(dartsim_stats(d)->live_maps, 1);
	assert_int_equal(dartsim_stats(d)->live_bytes, 5 * PG);
	/* each segment translates to its part of the range, in order */
	assert_int_equal(dartsim_translate(d, s[1].iova + 5, DARTSIM_ACC_READ,
					   &addr, &avail), 0);
	assert_int_equal(addr, base + 2 * PG + 5);
	assert_int_equal(dartsim_translate(d, s[2].iova + 0xff,
					   DARTSIM_ACC_READ, &addr, &avail), 0);
	assert_int_equal(addr, base + 4 * PG + 0xff);
	/* more segments than the caller can take: refused, nothing kept */
	assert_int_equal(dartsim_map(d, 0, 5 * PG, 1, one, 2, &n),
			 ADMA_S_FRAGMENTED);
	assert_int_equal(n, 0);
	assert_int_equal(dartsim_stats(d)->fragmented, 1);
	assert_int_equal(dartsim_stats(d)->live_bytes, 5 * PG);
	dartsim_unmap(d, s, 3);
	assert_int_equal(dartsim_stats(d)->live_maps, 0);
	assert_int_equal(dartsim_stats(d)->live_bytes, 0);
	assert_int_equal(dartsim_stats(d)->unmaps, 1);
	assert_int_equal(dartsim_translate(d, s[2].iova, DARTSIM_ACC_READ,
					   &addr, &avail), -1);
	free(d);

	/* a second segment with no room: the first is given back */
	cfg = (struct dartsim_config){ .aperture_size = 8 * PG, .seg_pages = 2 };
	d = sim_new(&cfg);
	for (i = 0; i < 8; i++)
		assert_int_equal(map1(d, 0, PG, 1, pg[i]), ADMA_S_OK);
	for (i = 0; i < 3; i++)
		dartsim_unmap(d, pg[i], 1);
	/* pages 0-2 free: segments may not touch, so 2 + 1 cannot fit */
	assert_int_equal(dartsim_map(d, 0, 3 * PG, 1, s, ADMA_MAX_SEGS, &n),
			 ADMA_S_FRAGMENTED);
	assert_int_equal(dartsim_stats(d)->live_bytes, 5 * PG);
	assert_int_equal(map1(d, 0, 2 * PG, 1, one), ADMA_S_OK);
	assert_int_equal(map1(d, 0, PG, 1, s), ADMA_S_OK);
	free(d);

	/* randomized placement keeps the rule */
	cfg = (struct dartsim_config){ .aperture_size = 1024 * PG,
				       .seg_pages = 1, .randomize = true,
				       .seed = 5 };
	d = sim_new(&cfg);
	for (i = 0; i < 100; i++) {
		unsigned int k;

		assert_int_equal(dartsim_map(d, 0x4000000 + i * PG, 4 * PG, 3,
					     s, ADMA_MAX_SEGS, &n), ADMA_S_OK);
		assert_int_equal(n, 4);
		for (k = 0; k < 4; k++) {
			assert_int_equal(dartsim_translate(d, s[k].iova,
							   DARTSIM_ACC_WRITE,
							   &addr, &avail), 0);
			assert_int_equal(addr, 0x4000000 + (i + k) * PG);
			if (k)
				assert_true(s[k].iova != s[k - 1].iova + PG);
		}
		if (i % 2)
			dartsim_unmap(d, s, n);
	}
	assert_int_equal(dartsim_stats(d)->live_maps, 50);
	assert_int_equal(dartsim_stats(d)->live_bytes, 200 * PG);
	free(d);
}

/* ---- the free-run index against a brute-force scan */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : rng;
}

/* used[p]: is aperture page p mapped (any access kind hits)? */
static void snapshot(struct dartsim *d, uint64_t npages, char *used)
{
	const uint64_t base = dartsim_config(d)->aperture_base;
	uint64_t p, addr, avail;

	for (p = 0; p < npages; p++)
		used[p] = !dartsim_translate(d, base + p * PG, 0, &addr, &avail);
}

static uint64_t brute_find(const char *used, uint64_t npages, uint64_t n,
			   uint64_t from, uint64_t end)
{
	uint64_t p, k;

	end = end < npages ? end : npages;
	for (p = from; n && p < end && end - p >= n; p++) {
		for (k = 0; k < n && !used[p + k]; k++)
			;
		if (k == n)
			return p;
	}
	return end;
}

/* Random churn (maps of 1..150 pages, unmaps); after each step, queries. */
static void churn(uint64_t npages, uint32_t seg_pages, bool randomize)
{
	struct dartsim_config cfg = { .aperture_size = npages * PG,
				      .max_bytes = npages * PG,
				      .seg_pages = seg_pages,
				      .randomize = randomize, .seed = npages };
	struct dartsim *d = sim_new(&cfg);
	static struct adma_seg live[400][ADMA_MAX_SEGS];
	static unsigned int nseg[400];
	unsigned int nlive = 0, step, q, i, n;
	char *used = malloc(npages);
	uint64_t from, end, want, frag = 0;

	assert_non_null(used);
	for (step = 0; step < 3000; step++) {
		if (nlive && (nlive == 400 || rnd(100) < 45)) {
			i = (unsigned int)rnd(nlive);
			dartsim_unmap(d, live[i], nseg[i]);
			memcpy(live[i], live[nlive - 1], sizeof(live[i]));
			nseg[i] = nseg[--nlive];
		} else {
			uint64_t len = rnd(4) ? 1 + rnd(3 * PG) : 1 + rnd(150 * PG);
			int st = dartsim_map(d, rnd(1 << 20), len, 3, live[nlive],
					     ADMA_MAX_SEGS, &n);

			frag += st == ADMA_S_FRAGMENTED;
			if (st == ADMA_S_OK)
				nseg[nlive++] = n;
		}
		/* several changes between searches: the index catches up */
		if (rnd(4))
			continue;
		snapshot(d, npages, used);
		for (q = 0; q < 20; q++) {
			want = rnd(5) ? 1 + rnd(8) : 1 + rnd(200);
			from = rnd(npages + 2);
			end = q % 4 ? from + rnd(npages + 10) : npages;
			assert_int_equal(dartsim_find_run(d, want, from, end),
					 brute_find(used, npages, want, from,
						    end));
		}
	}
	/* the churn must have fragmented the aperture */
	assert_true(frag > 0);
	print_message("index: %llu pages, %llu refused FRAGMENTED\n",
		      (unsigned long long)npages, (unsigned long long)frag);
	free(used);
	free(d);
}

static void test_free_run_index(void **state)
{
	(void)state;
	churn(1000, 0, false);		/* not a whole number of words */
	churn(64, 0, true);		/* one word */
	churn(4097, 3, true);		/* segments; a last word of 1 page */
	churn(2048, 0, false);
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Every other page of a 1.5 GiB aperture used: 1024 two-page maps all fail
 * FRAGMENTED. A linear scan of the bitmap costs seconds here (ASan); the
 * index, well under the bound (CPU time, so a busy machine does not count).
 */
static void test_fragmented_search_is_bounded(void **state)
{
	const uint64_t npages = (3ull << 29) / PG;
	struct dartsim_config cfg = { .max_maps = (uint32_t)npages };
	struct dartsim *d = sim_new(&cfg);
	struct adma_seg *s = malloc(npages * sizeof(*s));
	struct adma_seg big[ADMA_MAX_SEGS];
	unsigned int n, i;
	double t;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < npages; i++)
		assert_int_equal(dartsim_map(d, 0, PG, 1, &s[i], 1, &n),
				 ADMA_S_OK);
	for (i = 0; i < npages; i += 2)
		dartsim_unmap(d, &s[i], 1);
	t = cpu_seconds();
	for (i = 0; i < 1024; i++)
		assert_int_equal(dartsim_map(d, 0, 2 * PG, 1, big,
					     ADMA_MAX_SEGS, &n),
				 ADMA_S_FRAGMENTED);
	t = cpu_seconds() - t;
	print_message("1024 FRAGMENTED maps, every other page used: %.3f ms\n",
		      t * 1e3);
	assert_true(t < 0.05);
	free(s);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_rounding_and_translation),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fragmentation),
		cmocka_unit_test(test_randomized_placement),
		cmocka_unit_test(test_fault_injection),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_free_run_index),
		cmocka_unit_test(test_fragmented_search_is_bounded),
	};

	if (getenv("TEST_FILTER"))	/* e.g. TEST_FILTER='*index*' */
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests_name("dartsim", tests, NULL, NULL);
}
