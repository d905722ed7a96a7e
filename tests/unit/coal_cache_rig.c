// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * coal_cache_rig.c - checks shared by the tests of the coalescer's idle
 * cache and lazy unmaps (test_coalesce_cache.c, test_coalesce_lazy.c):
 * after every call the coalescer's stats must say what the fake host of
 * coal_rig.c holds, and host mappings without a live buffer must be exactly
 * the idle and deferred ones.
 */
#include "coal_cache_rig.h"

struct coal *cc_new(unsigned int lazy_max, uint64_t cache_bytes,
		    uint64_t wm_bytes, uint64_t wm_maps)
{
	struct coal_config cfg = {
		.cluster_shift = 18, .max_batch = 8,
		.ext_bits = 6, .buf_bits = 8,
		.lazy_max = lazy_max, .cache_bytes = cache_bytes,
		.watermark_bytes = wm_bytes, .watermark_maps = wm_maps,
	};

	return coal_new_cfg(&cfg);
}

/* The stats agree with the fake host (reset when c was made). */
void cc_check(struct coal *c)
{
	const struct coal_stats *st = coal_stats(c);
	const struct coal_config *cfg = coal_config(c);

	assert_int_equal(st->live_extents, H.nmaps);
	assert_int_equal(st->mapped_bytes, host_bytes());
	assert_true(st->idle_extents + st->deferred <= st->live_extents);
	assert_true(st->idle_bytes + st->deferred_bytes <= st->mapped_bytes);
	assert_true(st->idle_bytes <= cfg->cache_bytes);
	/* nothing idle or deferred ever held above a watermark */
	assert_int_equal(st->wm_excess_bytes, 0);
	assert_int_equal(st->wm_excess_maps, 0);
	if (cfg->lazy_max)
		assert_true(st->deferred < cfg->lazy_max);
	else
		assert_int_equal(st->deferred, 0);
	assert_true(st->peak_extents >= st->live_extents);
	assert_true(st->peak_mapped_bytes >= st->mapped_bytes);
	assert_int_equal(st->host_calls, H.map_calls + H.unmap_calls);
	assert_int_equal(st->host_unmaps, H.unmaps);
	assert_int_equal(st->host_maps, H.map_reqs);
}

uint64_t cc_map(struct coal *c, uint64_t gpa, uint64_t len, unsigned int dir,
		unsigned int flags)
{
	struct coal_buf b = mkbuf(gpa, len, dir);
	struct mbuf m;

	b.flags = flags;
	assert_int_equal(coal_map(c, &b, 1), 0);
	m = (struct mbuf){ gpa, len, b.dma, dir };
	check_buffer(&m, NULL);
	cc_check(c);
	return b.dma;
}

uint64_t cc_map1(struct coal *c, uint64_t gpa, uint64_t len)
{
	return cc_map(c, gpa, len, COAL_DIR_TO_DEVICE, 0);
}

void cc_unmap(struct coal *c, uint64_t dma, uint64_t len)
{
	struct coal_ubuf u = { dma, len };

	assert_int_equal(coal_unmap(c, &u, 1), 0);
	cc_check(c);
}

/* Is there a host mapping of exactly [gpa, gpa + len)? */
bool cc_host_has(uint64_t gpa, uint64_t len)
{
	size_t i;

	for (i = 0; i < H.nmaps; i++)
		if (H.maps[i].gpa == gpa && H.maps[i].len == len)
			return true;
	return false;
}

void cc_finish(struct coal *c, uint64_t live)
{
	assert_int_equal(coal_release_all(c), live);
	cc_check(c);
	assert_int_equal(H.nmaps, 0);
	assert_int_equal(coal_stats(c)->idle_extents, 0);
	assert_int_equal(coal_stats(c)->deferred, 0);
	assert_int_equal(H.allocs_live, 0);
	free(c);
}

/* Host mappings without a live buffer are exactly the idle + deferred. */
void cc_check_live(struct coal *c, const struct live *l)
{
	const struct coal_stats *st = coal_stats(c);
	unsigned char *used = calloc(H.nmaps + 1, 1);
	uint64_t ubytes = 0, umaps = 0;
	unsigned int i;

	assert_non_null(used);
	cc_check(c);
	for (i = 0; i < l->n; i++)
		check_buffer(&l->b[i], used);
	for (i = 0; i < H.nmaps; i++) {
		if (used[i])
			continue;
		umaps++;
		ubytes += round_bytes(H.maps[i].gpa, H.maps[i].len);
	}
	assert_int_equal(umaps, st->idle_extents + st->deferred);
	assert_int_equal(ubytes, st->idle_bytes + st->deferred_bytes);
	free(used);
}

/* A small buffer in one of 64 clusters: single or straddling. */
void cc_small_buf(struct coal_buf *b)
{
	uint64_t k = rnd_below(64);

	b->len = rnd_below(4) ? 4 * KiB : 8 * KiB;
	b->gpa = BASE + k * CS + rnd_below(CS / (4 * KiB)) * 4 * KiB;
	if (rnd_below(6) == 0)
		b->gpa = BASE + (k + 1) * CS - 2 * KiB;	/* straddles */
	b->dir = COAL_DIR_TO_DEVICE;
	b->flags = 0;
}

/*
 * Up to max_live small buffers live, mapped and unmapped at random; each
 * in-use mapping is at most a pair (2 clusters). Calls check().
 */
struct coal_stats cc_churn(struct coal *c, unsigned int rounds,
			   unsigned int max_live,
			   void (*check)(struct coal *c, const struct live *l))
{
	struct live l = { 0 };
	struct coal_stats st;
	unsigned int r;

	for (r = 0; r < rounds; r++) {
		if (l.n < max_live && (l.n == 0 || rnd_below(2))) {
			struct coal_buf b;

			cc_small_buf(&b);
			assert_int_equal(coal_map(c, &b, 1), 0);
			l.b[l.n++] = (struct mbuf){ b.gpa, b.len, b.dma, b.dir };
		} else {
			unsigned int k = (unsigned int)rnd_below(l.n);

			cc_unmap(c, l.b[k].dma, l.b[k].len);
			l.b[k] = l.b[--l.n];
		}
		cc_check_live(c, &l);
		if (check)
			check(c, &l);
	}
	st = *coal_stats(c);
	cc_finish(c, l.n);
	return st;
}
