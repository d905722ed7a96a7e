// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * coal_rig.c - a fake host for the guest coalescer (guest/core/coalesce.c):
 * it keeps its own table of live mappings, picks IOVAs (16 KiB-aligned, at
 * random gaps, never reused), may split an answer into segments (contiguous
 * or not), refuses mappings outside its "RAM" (which has a hole), and fails
 * on request. Tests check buffers through its translation, never through
 * the coalescer's own bookkeeping.
 */
#include "coal_rig.h"

/* ---- fake host */

struct host H;

uint64_t rnd(void)
{
	/* xorshift64* */
	H.rng ^= H.rng >> 12;
	H.rng ^= H.rng << 25;
	H.rng ^= H.rng >> 27;
	return H.rng * 0x2545f4914f6cdd1dull;
}

uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

bool in_ram(uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (gpa < RAM_BASE || end > RAM_END || end < gpa)
		return false;
	return end <= HOLE_START || gpa >= HOLE_END;
}

void host_reset(uint64_t seed)
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
bool host_translate(uint64_t iova, uint64_t *gpa, unsigned int *dir,
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
	if ((H.limit_maps && H.nmaps + 1 > H.limit_maps) ||
	    (H.limit_bytes &&
	     host_bytes() + round_bytes(r->gpa, r->len) > H.limit_bytes))
		return COAL_ENOMEM;	/* a tiny host is full */
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

void fake_host_map(void *ctx, struct coal_host_req *req, unsigned int n)
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

void fake_host_unmap(void *ctx, const uint64_t *handle, unsigned int n)
{
	unsigned int i;

	assert_ptr_equal(ctx, &H);
	assert_true(n >= 1);
	H.unmap_calls++;
	for (i = 0; i < n; i++)
		host_unmap_one(handle[i]);
}

bool fake_window_ok(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	return in_ram(gpa, len);
}

void *fake_alloc(void *ctx, size_t size)
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

void fake_free(void *ctx, void *p)
{
	(void)ctx;
	if (p) {
		assert_true(H.allocs_live > 0);
		H.allocs_live--;
	}
	free(p);
}

/* ---- coalescer under test */

struct coal *coal_new(unsigned int cluster_shift, uint64_t small_max,
		      unsigned int max_batch)
{
	struct coal_config cfg = {
		.cluster_shift = cluster_shift,
		.small_max = small_max,
		.max_batch = max_batch,
		.ext_bits = 6,		/* small tables: long chains get used */
		.buf_bits = 8,
	};

	return coal_new_cfg(&cfg);
}

/* A coalescer with any configuration, against the fake host. */
struct coal *coal_new_cfg(const struct coal_config *cfg)
{
	struct coal_env env = {
		.ctx = &H,
		.host_map = fake_host_map,
		.host_unmap = fake_host_unmap,
		.window_ok = H.window_cb ? fake_window_ok : NULL,
		.alloc = fake_alloc,
		.free = fake_free,
	};
	size_t size = coal_size(cfg);
	void *mem;
	struct coal *c;

	assert_true(size > 0);
	mem = malloc(size);
	assert_non_null(mem);
	c = coal_init(mem, cfg, &env);
	assert_ptr_equal(c, mem);
	return c;
}

uint64_t round_bytes(uint64_t gpa, uint64_t len)
{
	uint64_t s = gpa & ~(HPAGE - 1);
	uint64_t e = (gpa + len + HPAGE - 1) & ~(HPAGE - 1);

	return e - s;
}

/* Host-page-rounded bytes of every live host mapping. */
uint64_t host_bytes(void)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < H.nmaps; i++)
		sum += round_bytes(H.maps[i].gpa, H.maps[i].len);
	return sum;
}

/* Check one live buffer byte by byte (every 1 KiB and the last byte). */
size_t check_buffer(const struct mbuf *b, unsigned char *used)
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

void snap(struct coal *c, struct snapshot *s)
{
	s->st = *coal_stats(c);
	s->host_maps = H.nmaps;
	/* records kept for reuse (keep_recs) are not in use */
	s->allocs = H.allocs_live - s->st.recs_kept;
}

void assert_unchanged(struct coal *c, const struct snapshot *s)
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
	assert_int_equal(H.allocs_live - st->recs_kept, s->allocs);
}

struct coal_buf mkbuf(uint64_t gpa, uint64_t len, unsigned int dir)
{
	struct coal_buf b = { .gpa = gpa, .len = len, .dir = dir };

	return b;
}
