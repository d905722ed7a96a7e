// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_coalesce.c - the guest coalescer (guest/core/coalesce.c) against a
 * fake host that keeps its own table of live mappings, and a reference model
 * of the live buffers.
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
 *       tests/unit/<this file> guest/core/coalesce.c -lcmocka
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coalesce.h"

#define KiB		1024ull
#define MiB		(1024ull * KiB)
#define HPAGE		(16 * KiB)

/* Guest RAM: [RAM_BASE, RAM_END) with a hole that is not cluster-aligned. */
#define RAM_BASE	(1024 * MiB)
#define RAM_END		(RAM_BASE + 256 * MiB)
#define HOLE_START	(RAM_BASE + 100 * MiB + 48 * KiB)
#define HOLE_END	(RAM_BASE + 100 * MiB + 304 * KiB)

/* ---- fake host */

struct hmap {
	uint64_t handle;
	uint64_t gpa, len;
	unsigned int dir;
	unsigned int nsegs;
	struct coal_seg seg[COAL_MAX_SEGS];
};

/* one live segment, kept sorted by iova for translation */
struct hseg {
	uint64_t iova, len, gpa;
	unsigned int dir;
	size_t map;			/* index in host.maps */
};

struct host {
	struct hmap *maps;
	size_t nmaps, capmaps;
	struct hseg *segs;
	size_t nsegs, capsegs;
	uint64_t next_iova;
	uint64_t next_handle;
	uint64_t rng;
	/* behaviour */
	int split_pct;			/* % of answers split in segments */
	int split_contig_pct;		/* % of split answers kept contiguous */
	uint64_t fail_at;		/* fail the Nth map request (1-based) */
	int fail_ppm;
	bool malformed_next;		/* answer the next map with a bad length */
	uint64_t nospace_from;		/* refuse maps of >= this many bytes */
	/* counters */
	uint64_t map_reqs, map_calls, unmaps, unmap_calls, refused;
	uint64_t max_batch_seen;
	/* allocator */
	uint64_t allocs_live, alloc_calls, alloc_fail_at;
	bool window_cb;
};

static struct host H;

static uint64_t rnd(void)
{
	/* xorshift64* */
	H.rng ^= H.rng >> 12;
	H.rng ^= H.rng << 25;
	H.rng ^= H.rng >> 27;
	return H.rng * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool in_ram(uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (gpa < RAM_BASE || end > RAM_END || end < gpa)
		return false;
	return end <= HOLE_START || gpa >= HOLE_END;
}

static void host_reset(uint64_t seed)
{
	free(H.maps);
	free(H.segs);
	memset(&H, 0, sizeof(H));
	H.rng = seed ? seed : 1;
	H.next_iova = 1ull << 32;
	H.next_handle = 0x1000;
	H.window_cb = true;
}

static void seg_insert(const struct hseg *s)
{
	size_t lo = 0, hi = H.nsegs;

	if (H.nsegs == H.capsegs) {
		H.capsegs = H.capsegs ? 2 * H.capsegs : 256;
		H.segs = realloc(H.segs, H.capsegs * sizeof(*H.segs));
		assert_non_null(H.segs);
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (H.segs[mid].iova < s->iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&H.segs[lo + 1], &H.segs[lo], (H.nsegs - lo) * sizeof(*s));
	H.segs[lo] = *s;
	H.nsegs++;
}

static void seg_remove_iova(uint64_t iova)
{
	size_t i;

	for (i = 0; i < H.nsegs; i++) {
		if (H.segs[i].iova == iova) {
			memmove(&H.segs[i], &H.segs[i + 1],
				(H.nsegs - i - 1) * sizeof(H.segs[0]));
			H.nsegs--;
			return;
		}
	}
	fail_msg("segment at iova %#llx not live", (unsigned long long)iova);
}

/* The host's translation: device address -> guest-physical, or false. */
static bool host_translate(uint64_t iova, uint64_t *gpa, unsigned int *dir,
			   size_t *map)
{
	size_t lo = 0, hi = H.nsegs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (H.segs[mid].iova <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	lo--;
	if (iova >= H.segs[lo].iova + H.segs[lo].len)
		return false;
	*gpa = H.segs[lo].gpa + (iova - H.segs[lo].iova);
	*dir = H.segs[lo].dir;
	*map = H.segs[lo].map;
	return true;
}

/* IOVA of the first byte of [gpa, gpa + len) in one fresh, aligned run. */
static uint64_t iova_alloc(uint64_t gpa, uint64_t len)
{
	uint64_t start = gpa & ~(HPAGE - 1);
	uint64_t pages = (gpa + len - start + HPAGE - 1) / HPAGE;
	uint64_t base = H.next_iova + rnd_below(4) * HPAGE;

	H.next_iova = base + (pages + 1) * HPAGE;
	return base + (gpa - start);
}

static int host_map_one(struct coal_host_req *r)
{
	struct hmap m;
	unsigned int i;
	uint64_t done = 0;

	H.map_reqs++;
	if (H.fail_at && H.map_reqs == H.fail_at)
		return -28;	/* ENOSPC: a refusal */
	if (H.nospace_from && r->len >= H.nospace_from)
		return COAL_ENOMEM;	/* NO_SPACE / FRAGMENTED */
	if (H.fail_ppm && rnd_below(1000000) < (uint64_t)H.fail_ppm)
		return -5;
	if (!in_ram(r->gpa, r->len))
		return -34;	/* ERANGE: as the host core would */
	assert_true(r->dir >= 1 && r->dir <= 3);

	memset(&m, 0, sizeof(m));
	m.handle = H.next_handle++;
	m.gpa = r->gpa;
	m.len = r->len;
	m.dir = r->dir;
	m.nsegs = 1;
	if (r->len > 2 * HPAGE && (int)rnd_below(100) < H.split_pct)
		m.nsegs = 2 + (unsigned int)rnd_below(COAL_MAX_SEGS - 1);
	if (m.nsegs == 1) {
		m.seg[0].dma = iova_alloc(r->gpa, r->len);
		m.seg[0].len = r->len;
	} else {
		bool contig = (int)rnd_below(100) < H.split_contig_pct;
		uint64_t pos = r->gpa;
		uint64_t iova = contig ? iova_alloc(r->gpa, r->len) : 0;

		for (i = 0; i < m.nsegs; i++) {
			uint64_t left = r->gpa + r->len - pos;
			/* cut at a host page boundary while bytes remain */
			uint64_t next = ((pos / HPAGE) + 1 +
					 rnd_below(4)) * HPAGE;
			uint64_t len = next - pos;

			if (i == m.nsegs - 1 || len >= left)
				len = left;
			if (!contig)
				iova = iova_alloc(pos, len);
			m.seg[i].dma = iova;
			m.seg[i].len = len;
			iova += len;
			pos += len;
			if (pos == r->gpa + r->len) {
				m.nsegs = i + 1;
				break;
			}
		}
	}
	for (i = 0; i < m.nsegs; i++) {
		struct hseg s = {
			.iova = m.seg[i].dma, .len = m.seg[i].len,
			.gpa = r->gpa + done, .dir = m.dir, .map = H.nmaps,
		};

		seg_insert(&s);
		done += m.seg[i].len;
	}
	if (H.nmaps == H.capmaps) {
		H.capmaps = H.capmaps ? 2 * H.capmaps : 256;
		H.maps = realloc(H.maps, H.capmaps * sizeof(*H.maps));
		assert_non_null(H.maps);
	}
	H.maps[H.nmaps++] = m;

	r->handle = m.handle;
	r->nsegs = m.nsegs;
	memcpy(r->seg, m.seg, sizeof(m.seg));
	if (H.malformed_next) {
		H.malformed_next = false;
		r->seg[r->nsegs - 1].len += 1;	/* does not add up */
	}
	return 0;
}

static void fake_host_map(void *ctx, struct coal_host_req *req, unsigned int n)
{
	unsigned int i;

	assert_ptr_equal(ctx, &H);
	assert_true(n >= 1);
	H.map_calls++;
	if (n > H.max_batch_seen)
		H.max_batch_seen = n;
	for (i = 0; i < n; i++) {
		req[i].err = host_map_one(&req[i]);
		if (req[i].err)
			H.refused++;
	}
}

static void host_unmap_one(uint64_t handle)
{
	size_t i, j;

	for (i = 0; i < H.nmaps; i++) {
		if (H.maps[i].handle != handle)
			continue;
		for (j = 0; j < H.maps[i].nsegs; j++)
			seg_remove_iova(H.maps[i].seg[j].dma);
		/* move the last map into slot i; renumber its segments */
		if (i != H.nmaps - 1) {
			H.maps[i] = H.maps[H.nmaps - 1];
			for (j = 0; j < H.nsegs; j++)
				if (H.segs[j].map == H.nmaps - 1)
					H.segs[j].map = i;
		}
		H.nmaps--;
		H.unmaps++;
		return;
	}
	fail_msg("unmap of handle %#llx that is not live (double unmap?)",
		 (unsigned long long)handle);
}

static void fake_host_unmap(void *ctx, const uint64_t *handle, unsigned int n)
{
	unsigned int i;

	assert_ptr_equal(ctx, &H);
	assert_true(n >= 1);
	H.unmap_calls++;
	for (i = 0; i < n; i++)
		host_unmap_one(handle[i]);
}

static bool fake_window_ok(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	return in_ram(gpa, len);
}

static void *fake_alloc(void *ctx, size_t size)
{
	void *p;

	(void)ctx;
	H.alloc_calls++;
	if (H.alloc_fail_at && H.alloc_calls == H.alloc_fail_at)
		return NULL;
	p = malloc(size);
	if (p)
		H.allocs_live++;
	return p;
}

static void fake_free(void *ctx, void *p)
{
	(void)ctx;
	if (p) {
		assert_true(H.allocs_live > 0);
		H.allocs_live--;
	}
	free(p);
}

/* ---- coalescer under test */

static struct coal *coal_new(unsigned int cluster_shift, uint64_t small_max,
			     unsigned int max_batch)
{
	struct coal_config cfg = {
		.cluster_shift = cluster_shift,
		.small_max = small_max,
		.max_batch = max_batch,
		.ext_bits = 6,		/* small tables: long chains get used */
		.buf_bits = 8,
	};
	struct coal_env env = {
		.ctx = &H,
		.host_map = fake_host_map,
		.host_unmap = fake_host_unmap,
		.window_ok = H.window_cb ? fake_window_ok : NULL,
		.alloc = fake_alloc,
		.free = fake_free,
	};
	size_t size = coal_size(&cfg);
	void *mem;
	struct coal *c;

	assert_true(size > 0);
	mem = malloc(size);
	assert_non_null(mem);
	c = coal_init(mem, &cfg, &env);
	assert_ptr_equal(c, mem);
	return c;
}

/* ---- reference model */

struct mbuf {
	uint64_t gpa, len, dma;
	unsigned int dir;
};

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

static uint64_t round_bytes(uint64_t gpa, uint64_t len)
{
	uint64_t s = gpa & ~(HPAGE - 1);
	uint64_t e = (gpa + len + HPAGE - 1) & ~(HPAGE - 1);

	return e - s;
}

/* Check one live buffer byte by byte (every 1 KiB and the last byte). */
static size_t check_buffer(const struct mbuf *b, unsigned char *used)
{
	uint64_t off, gpa;
	unsigned int dir;
	size_t map, first = (size_t)-1;

	for (off = 0;; off += (off + KiB < b->len) ? KiB : b->len - 1 - off) {
		if (!host_translate(b->dma + off, &gpa, &dir, &map))
			fail_msg("buffer gpa %#llx+%#llx: dma %#llx+%#llx unmapped",
				 (unsigned long long)b->gpa,
				 (unsigned long long)b->len,
				 (unsigned long long)b->dma,
				 (unsigned long long)off);
		assert_int_equal(gpa, b->gpa + off);
		assert_int_equal(dir & b->dir, b->dir);
		if (first == (size_t)-1)
			first = map;
		if (used)
			used[map] = 1;
		if (off == b->len - 1)
			break;
	}
	return first;
}

static int cmp_u64pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Every invariant that links the coalescer, the model and the host. */
static void check_all(struct coal *c, const struct model *m)
{
	const struct coal_stats *st = coal_stats(c);
	const struct coal_config *cfg = coal_config(c);
	unsigned char *used = calloc(H.nmaps + 1, 1);
	uint64_t bytes = 0, (*win)[2];
	size_t i, nwin = 0;

	assert_non_null(used);
	assert_int_equal(st->live_buffers, m->n);
	assert_true(st->peak_buffers >= st->live_buffers);
	assert_int_equal(st->live_extents, H.nmaps);
	for (i = 0; i < m->n; i++)
		check_buffer(&m->b[i], used);
	/* no host mapping without a live buffer in it: nothing leaked */
	for (i = 0; i < H.nmaps; i++) {
		if (!used[i])
			fail_msg("host mapping gpa %#llx+%#llx has no live buffer",
				 (unsigned long long)H.maps[i].gpa,
				 (unsigned long long)H.maps[i].len);
		bytes += round_bytes(H.maps[i].gpa, H.maps[i].len);
	}
	assert_int_equal(st->mapped_bytes, bytes);
	assert_true(st->peak_extents >= st->live_extents);
	assert_true(st->peak_mapped_bytes >= st->mapped_bytes);

	/*
	 * Cluster windows (aligned, one or two clusters, bidirectional) never
	 * overlap: one host mapping per cluster. The test never makes a
	 * private buffer of exactly that shape, so this is exact.
	 */
	win = calloc(H.nmaps + 1, sizeof(*win));
	assert_non_null(win);
	if (cfg->cluster_shift) {
		uint64_t cs = 1ull << cfg->cluster_shift;

		for (i = 0; i < H.nmaps; i++) {
			const struct hmap *h = &H.maps[i];

			if (h->gpa % cs || (h->len != cs && h->len != 2 * cs) ||
			    h->dir != COAL_DIR_BIDIRECTIONAL)
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

struct snapshot {
	struct coal_stats st;
	size_t host_maps;
	uint64_t allocs;
};

static void snap(struct coal *c, struct snapshot *s)
{
	s->st = *coal_stats(c);
	s->host_maps = H.nmaps;
	s->allocs = H.allocs_live;
}

static void assert_unchanged(struct coal *c, const struct snapshot *s)
{
	const struct coal_stats *st = coal_stats(c);

	assert_int_equal(st->live_buffers, s->st.live_buffers);
	assert_int_equal(st->live_extents, s->st.live_extents);
	assert_int_equal(st->live_clusters, s->st.live_clusters);
	assert_int_equal(st->mapped_bytes, s->st.mapped_bytes);
	assert_int_equal(st->cluster_hits, s->st.cluster_hits);
	assert_int_equal(st->cluster_misses, s->st.cluster_misses);
	assert_int_equal(st->private_maps, s->st.private_maps);
	assert_int_equal(H.nmaps, s->host_maps);
	assert_int_equal(H.allocs_live, s->allocs);
}

/*
 * The randomized run: mixed batches of maps and unmaps against the model,
 * with all invariants checked as it goes and everything released at the end.
 */
static void random_run(uint64_t seed, unsigned int cluster_shift,
		       int split_pct, int fail_ppm, unsigned int rounds)
{
	struct model m = { 0 };
	struct coal_buf bufs[16];
	struct coal_ubuf ub[16];
	uint64_t cs, small_max, failures = 0, mapped = 0;
	unsigned int r, i, n;
	struct coal *c;

	host_reset(seed);
	H.split_pct = split_pct;
	H.split_contig_pct = 50;
	c = coal_new(cluster_shift, 0, 16);
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

static struct coal_buf mkbuf(uint64_t gpa, uint64_t len, unsigned int dir)
{
	struct coal_buf b = { .gpa = gpa, .len = len, .dir = dir };

	return b;
}

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
		cmocka_unit_test(test_random_clusters),
		cmocka_unit_test(test_random_no_clusters),
		cmocka_unit_test(test_random_segments),
		cmocka_unit_test(test_random_failures),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(H.maps);
	free(H.segs);
	return rc;
}
