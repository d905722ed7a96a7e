/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * dartsim.c - the simulated DART.
 *
 * The IOVA space (the aperture) is a bitmap of 16 KiB pages, allocated
 * next-fit (or from a random page when randomize is set), so churn leaves
 * holes exactly as a real allocator does: a long run can be missing while
 * plenty of pages are free. That case is refused as FRAGMENTED, not NO_SPACE,
 * so it can be told apart. A flat page table gives O(1) translation.
 * With seg_pages set, a mapping is placed as several runs (segments), each
 * searched for after the end of the one before, skipping the page right
 * after it so that no two segments touch.
 *
 * Free runs are found through an index over the bitmap (a segment tree
 * whose leaves are the bitmap's 64-page words; every node keeps its free
 * prefix, free suffix and longest free run), so that a search costs
 * O(log pages) however fragmented the aperture is: a guest may make every
 * map of a doorbell fail FRAGMENTED, and the search runs under the device's
 * lock. A changed word updates its leaf and ancestors, lazily: next-fit
 * finds most runs in the word at its cursor, which needs no index.
 */
#include "dartsim.h"
#include "dartsim_bits.h"

#define PAGE_MASK	(DARTSIM_PAGE_SIZE - 1)

/* Page-table entry: target page address | these bits; 0 is "unmapped". */
#define PTE_VALID	(1ull << 0)
#define PTE_READ	(1ull << 1)	/* == ADMA_DIR_TO_DEVICE << 1 */
#define PTE_WRITE	(1ull << 2)	/* == ADMA_DIR_FROM_DEVICE << 1 */
#define PTE_HEAD	(1ull << 3)	/* first page of a segment */
#define PTE_MAPPING	(1ull << 4)	/* ... and of the mapping's first one */
#define PTE_ADDR(p)	((p) & ~PAGE_MASK)

/* A stretch of pages, as the index sees it; lengths in pages. */
struct run_sum {
	uint32_t pre;	/* free pages at its start */
	uint32_t suf;	/* free pages at its end */
	uint32_t best;	/* longest free run inside */
};

struct dartsim {
	struct dartsim_config cfg;
	struct dartsim_stats st;
	uint64_t npages;	/* pages in the aperture */
	uint64_t free_pages;
	uint64_t cursor;	/* next-fit: where the last run ended */
	uint64_t rng_place;	/* xorshift states, one per purpose */
	uint64_t rng_fail;
	uint64_t map_calls;	/* for fail_nth */
	uint64_t *used;		/* bitmap, 1 = page allocated */
	uint64_t *pte;		/* npages entries */
	uint64_t leaves;	/* index: leaves (a power of two >= words) */
	struct run_sum *tree;	/* index: node 1 is the root, i's are 2i, 2i+1 */
	uint64_t dirty[8];	/* index: words changed since it was updated */
	unsigned int ndirty;
};

#define NO_RUN	(~0ull)

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint64_t seed_state(uint64_t seed, uint64_t salt)
{
	/* splitmix64 step: any seed, including 0, gives a non-zero state */
	uint64_t z = seed + salt * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

static void apply_defaults(struct dartsim_config *c)
{
	if (!c->max_bytes)
		c->max_bytes = ADMA_CORE_DEFAULT_MAX_BYTES;
	if (!c->max_maps)
		c->max_maps = ADMA_CORE_DEFAULT_MAX_MAPS;
	if (!c->aperture_base)
		c->aperture_base = DARTSIM_DEFAULT_BASE;
	if (!c->aperture_size)
		c->aperture_size = (c->max_bytes + PAGE_MASK) & ~PAGE_MASK;
}

static uint64_t bitmap_words(uint64_t npages)
{
	return (npages + 63) / 64;
}

static uint64_t index_leaves(uint64_t npages)
{
	uint64_t n = 1;

	while (n < bitmap_words(npages))
		n <<= 1;
	return n;
}

size_t dartsim_size(const struct dartsim_config *cfg)
{
	struct dartsim_config c = *cfg;
	uint64_t npages;

	apply_defaults(&c);
	npages = c.aperture_size >> DARTSIM_PAGE_SHIFT;
	return sizeof(struct dartsim) +
	       (size_t)(bitmap_words(npages) + npages) * sizeof(uint64_t) +
	       (size_t)(2 * index_leaves(npages)) * sizeof(struct run_sum);
}

struct dartsim *dartsim_init(void *mem, const struct dartsim_config *cfg)
{
	struct dartsim *d = mem;
	struct dartsim_config c = *cfg;

	apply_defaults(&c);
	if ((c.aperture_base | c.aperture_size) & PAGE_MASK)
		return 0;
	if (c.aperture_size < DARTSIM_PAGE_SIZE ||
	    c.aperture_base + c.aperture_size < c.aperture_base ||
	    (c.aperture_size >> DARTSIM_PAGE_SHIFT) > 0x7fffffffu)
		return 0;	/* (the index counts pages in 32 bits) */
	if (c.fail_ppm > 1000000)
		return 0;

	__builtin_memset(d, 0, sizeof(*d));
	d->cfg = c;
	d->npages = c.aperture_size >> DARTSIM_PAGE_SHIFT;
	d->used = (uint64_t *)(d + 1);
	d->pte = d->used + bitmap_words(d->npages);
	d->leaves = index_leaves(d->npages);
	d->tree = (struct run_sum *)(d->pte + d->npages);
	d->rng_place = seed_state(c.seed, 1);
	d->rng_fail = seed_state(c.seed, 2);
	dartsim_reset(d);
	return d;
}

const struct dartsim_config *dartsim_config(const struct dartsim *d)
{
	return &d->cfg;
}

/* ---- the free-run index */

/* Free pages of bitmap word w; pages past the aperture count as used. */
static uint64_t word_free(const struct dartsim *d, uint64_t w)
{
	uint64_t f = ~d->used[w];

	if (d->npages % 64 && w == d->npages / 64)
		f &= bit_range(0, d->npages % 64);
	return f;
}

/* Summary of free, the free pages among bits lo..hi-1 of a word. */
static struct run_sum bits_sum(uint64_t free, unsigned int lo, unsigned int hi)
{
	uint64_t x = ~(free >> lo), y = ~(free << (64 - hi));
	uint32_t len = hi - lo, pre, suf;

	pre = x ? (uint32_t)__builtin_ctzll(x) : 64;
	suf = y ? (uint32_t)__builtin_clzll(y) : 64;
	return (struct run_sum){ .pre = pre < len ? pre : len,
				 .suf = suf < len ? suf : len,
				 .best = longest_ones(free) };
}

static inline bool set_sum(struct run_sum *s, struct run_sum v)
{
	bool changed = s->pre != v.pre || s->suf != v.suf || s->best != v.best;

	*s = v;
	return changed;
}

/* Node i from its children, each of which spans len pages; changed? */
static inline bool pull(struct dartsim *d, uint64_t i, uint32_t len)
{
	const struct run_sum *l = &d->tree[2 * i], *r = &d->tree[2 * i + 1];
	uint32_t mid = l->suf + r->pre, best;

	best = l->best > r->best ? l->best : r->best;
	return set_sum(&d->tree[i], (struct run_sum){
		.pre = l->pre == len ? len + r->pre : l->pre,
		.suf = r->suf == len ? len + l->suf : r->suf,
		.best = mid > best ? mid : best });
}

/*
 * Words w0..w1 changed: their leaves, then their ancestors level by level,
 * up to the first level where no node changed.
 */
static void index_update(struct dartsim *d, uint64_t w0, uint64_t w1)
{
	uint64_t lo = d->leaves + w0, hi = d->leaves + w1, i;
	uint32_t len = 64;
	bool changed = false;

	for (i = w0; i <= w1; i++)
		changed |= set_sum(&d->tree[d->leaves + i],
				   bits_sum(word_free(d, i), 0, 64));
	while (changed && lo > 1) {
		lo /= 2;
		hi /= 2;
		changed = false;
		for (i = lo; i <= hi; i++)
			changed |= pull(d, i, len);
		len *= 2;
	}
}

/* Leftmost run of n free pages inside node i (best >= n), at start. */
static uint64_t descend(const struct dartsim *d, uint64_t i, uint64_t start,
			uint64_t len, uint64_t n)
{
	while (i < d->leaves) {
		const struct run_sum *l = &d->tree[2 * i];
		const struct run_sum *r = &d->tree[2 * i + 1];

		len /= 2;
		if (l->best >= n) {
			i = 2 * i;
		} else if ((uint64_t)l->suf + r->pre >= n) {
			return start + len - l->suf;
		} else {
			i = 2 * i + 1;
			start += len;
		}
	}
	return start + first_ones(word_free(d, i - d->leaves), n);
}

/*
 * Searches walk the range left to right, *cur the free run (in the range)
 * ending where the walk is. A stretch completes a run begun before it,
 * holds one, or moves *cur on. Returns the run's first page or NO_RUN.
 */
static uint64_t visit_word(const struct dartsim *d, uint64_t w,
			   unsigned int lo, unsigned int hi, uint64_t n,
			   uint64_t *cur)
{
	uint64_t free = word_free(d, w) & bit_range(lo, hi);
	struct run_sum s = bits_sum(free, lo, hi);

	if (*cur + s.pre >= n)
		return w * 64 + lo - *cur;
	if (s.best >= n)
		return w * 64 + first_ones(free, n);
	*cur = s.pre == hi - lo ? *cur + s.pre : s.suf;
	return NO_RUN;
}

/* Leaves a..b under node i, which covers leaves lo..hi. */
static uint64_t search(const struct dartsim *d, uint64_t i, uint64_t lo,
		       uint64_t hi, uint64_t a, uint64_t b, uint64_t n,
		       uint64_t *cur)
{
	const struct run_sum *s = &d->tree[i];
	uint64_t mid, len, r;

	if (b < lo || hi < a)
		return NO_RUN;
	if (a <= lo && hi <= b) {
		len = (hi - lo + 1) * 64;
		if (*cur + s->pre >= n)
			return lo * 64 - *cur;
		if (s->best >= n)
			return descend(d, i, lo * 64, len, n);
		*cur = s->pre == len ? *cur + len : s->suf;
		return NO_RUN;
	}
	mid = lo + (hi - lo) / 2;
	r = search(d, 2 * i, lo, mid, a, b, n, cur);
	return r != NO_RUN ? r : search(d, 2 * i + 1, mid + 1, hi, a, b, n, cur);
}

/* Bring the index up to date with the words changed since it last was. */
static void index_flush(struct dartsim *d)
{
	for (; d->ndirty; d->ndirty--)
		index_update(d, d->dirty[d->ndirty - 1], d->dirty[d->ndirty - 1]);
}

/* Words w0..w1 changed: several now, one when a search needs the index. */
static void index_dirty(struct dartsim *d, uint64_t w0, uint64_t w1)
{
	if (w0 != w1)
		index_update(d, w0, w1);
	else if (!d->ndirty || d->dirty[d->ndirty - 1] != w0) {
		if (d->ndirty == 8)
			index_flush(d);
		d->dirty[d->ndirty++] = w0;
	}
}

/*
 * First run of n free pages starting in [from, end); end if none. The
 * partial words at either end are looked at bit by bit, the whole words
 * between through O(log) nodes of the index.
 */
static uint64_t find_run(struct dartsim *d, uint64_t n, uint64_t from,
			 uint64_t end)
{
	uint64_t w0 = from / 64, w1, cur = 0, r;
	unsigned int last;

	if (from >= end || end - from < n || !n)
		return end;
	w1 = (end - 1) / 64;
	last = (unsigned int)((end - 1) % 64) + 1;
	r = visit_word(d, w0, from % 64, w0 == w1 ? last : 64, n, &cur);
	if (w0 == w1)
		return r == NO_RUN ? end : r;
	if (r == NO_RUN && w0 + 1 < w1) {
		index_flush(d);
		r = search(d, 1, 0, d->leaves - 1, w0 + 1, w1 - 1, n, &cur);
	}
	if (r == NO_RUN)
		r = visit_word(d, w1, 0, last, n, &cur);
	return r == NO_RUN ? end : r;
}

uint64_t dartsim_find_run(struct dartsim *d, uint64_t pages,
			  uint64_t from, uint64_t end)
{
	end = end < d->npages ? end : d->npages;
	return find_run(d, pages, from, end);
}

/* Mark pages [p, p + n) used or free, bitmap and index. */
static void set_range(struct dartsim *d, uint64_t p, uint64_t n, int used)
{
	uint64_t w0 = p / 64, w1 = (p + n - 1) / 64, w, m;

	if (!n)
		return;
	for (w = w0; w <= w1; w++) {
		m = bit_range(w == w0 ? p % 64 : 0,
			 w == w1 ? (unsigned int)((p + n - 1) % 64) + 1 : 64);
		d->used[w] = used ? d->used[w] | m : d->used[w] & ~m;
	}
	index_dirty(d, w0, w1);
}

void dartsim_reset(struct dartsim *d)
{
	__builtin_memset(d->used, 0,
			 bitmap_words(d->npages) * sizeof(uint64_t));
	__builtin_memset(d->pte, 0, d->npages * sizeof(uint64_t));
	/* leaves past the last word stay zero: no free page in them */
	__builtin_memset(d->tree, 0, 2 * d->leaves * sizeof(*d->tree));
	index_update(d, 0, bitmap_words(d->npages) - 1);	/* all change */
	d->ndirty = 0;
	d->free_pages = d->npages;
	d->cursor = 0;
	d->st.live_maps = 0;
	d->st.live_bytes = 0;
}

static int inject_failure(struct dartsim *d)
{
	d->map_calls++;
	if (d->cfg.fail_nth && d->map_calls == d->cfg.fail_nth)
		return 1;
	if (d->cfg.fail_ppm &&
	    xorshift64(&d->rng_fail) % 1000000 < d->cfg.fail_ppm)
		return 1;
	return 0;
}

/*
 * Find a free run of n pages for one segment, not starting at avoid (the
 * page right after the previous segment, so segments are never contiguous;
 * ~0 for none). npages if there is none.
 */
static uint64_t place_run(struct dartsim *d, uint64_t n, uint64_t from,
			  uint64_t avoid)
{
	uint64_t i;

	if (avoid < d->npages) {
		i = find_run(d, n, avoid + 1, d->npages);
		if (i == d->npages) {
			i = find_run(d, n, 0, avoid);
			if (i == avoid)		/* not found below either */
				i = d->npages;
		}
		return i;
	}
	i = find_run(d, n, from, d->npages);
	if (i == d->npages)
		i = find_run(d, n, 0, d->npages);
	return i;
}

static void fill_run(struct dartsim *d, uint64_t i, uint64_t n,
		     uint64_t target, uint64_t perm)
{
	uint64_t p;

	set_range(d, i, n, 1);
	d->free_pages -= n;
	for (p = 0; p < n; p++)
		d->pte[i + p] = (target + (p << DARTSIM_PAGE_SHIFT)) | perm;
	d->pte[i] |= PTE_HEAD;
}

static void clear_run(struct dartsim *d, uint64_t i, uint64_t n)
{
	uint64_t p;

	for (p = 0; p < n; p++)
		d->pte[i + p] = 0;
	set_range(d, i, n, 0);
	d->free_pages += n;
}

/* First page of a segment map() returned. */
static uint64_t seg_page(const struct dartsim *d, const struct adma_seg *seg)
{
	return (seg->iova - d->cfg.aperture_base) >> DARTSIM_PAGE_SHIFT;
}

int dartsim_map(struct dartsim *d, uint64_t addr, uint64_t len,
		unsigned int dir, struct adma_seg *seg, unsigned int max_segs,
		unsigned int *nsegs)
{
	uint64_t first = addr & ~PAGE_MASK, n, done, perm, chunk, from;
	uint64_t want, avoid = ~0ull, left = len;
	unsigned int s;

	*nsegs = 0;
	if (!len || addr + len < addr || addr + len > ~PAGE_MASK ||
	    !max_segs || !(dir & ADMA_DIR_BIDIRECTIONAL) ||
	    (dir & ~(unsigned int)ADMA_DIR_BIDIRECTIONAL))
		return ADMA_S_INVALID;
	if (inject_failure(d)) {
		d->st.injected++;
		return ADMA_S_IO_ERROR;
	}
	n = (((addr + len + PAGE_MASK) & ~PAGE_MASK) - first) >>
	    DARTSIM_PAGE_SHIFT;
	if (d->st.live_maps >= d->cfg.max_maps ||
	    n > (d->cfg.max_bytes - d->st.live_bytes) >> DARTSIM_PAGE_SHIFT ||
	    n > d->free_pages) {
		d->st.no_space++;
		return ADMA_S_NO_SPACE;
	}
	chunk = d->cfg.seg_pages ? d->cfg.seg_pages : n;
	want = (n + chunk - 1) / chunk;
	if (want > max_segs) {
		d->st.fragmented++;
		return ADMA_S_FRAGMENTED;
	}

	from = d->cfg.randomize ? xorshift64(&d->rng_place) % d->npages
				: d->cursor;
	perm = PTE_VALID | ((uint64_t)dir << 1);
	/* segment s covers pages [s * chunk, s * chunk + k) of the mapping */
	for (s = 0, done = 0; done < n; s++, done += chunk) {
		uint64_t k = n - done < chunk ? n - done : chunk;
		uint64_t off = s ? 0 : addr & PAGE_MASK;
		uint64_t cap = (k << DARTSIM_PAGE_SHIFT) - off;
		uint64_t i = place_run(d, k, from, avoid);

		if (i == d->npages) {
			/* give back the segments already placed */
			while (s--)
				clear_run(d, seg_page(d, &seg[s]), chunk);
			d->st.fragmented++;
			return ADMA_S_FRAGMENTED;
		}
		fill_run(d, i, k, first + (done << DARTSIM_PAGE_SHIFT), perm);
		seg[s].iova = d->cfg.aperture_base + (i << DARTSIM_PAGE_SHIFT) +
			      off;
		seg[s].len = left < cap ? left : cap;
		left -= seg[s].len;
		avoid = i + k;
		d->cursor = i + k < d->npages ? i + k : 0;
	}
	d->pte[seg_page(d, &seg[0])] |= PTE_MAPPING;
	*nsegs = s;

	d->st.maps++;
	d->st.live_maps++;
	d->st.live_bytes += n << DARTSIM_PAGE_SHIFT;
	if (d->st.live_maps > d->st.peak_maps)
		d->st.peak_maps = d->st.live_maps;
	if (d->st.live_bytes > d->st.peak_bytes)
		d->st.peak_bytes = d->st.live_bytes;
	return ADMA_S_OK;
}

void dartsim_unmap(struct dartsim *d, const struct adma_seg *seg,
		   unsigned int nsegs)
{
	unsigned int s;

	for (s = 0; s < nsegs; s++) {
		uint64_t off = seg[s].iova - d->cfg.aperture_base;
		uint64_t i = off >> DARTSIM_PAGE_SHIFT;
		uint64_t n = (((off + seg[s].len + PAGE_MASK) & ~PAGE_MASK) >>
			      DARTSIM_PAGE_SHIFT) - i;
		bool mapping;

		/* Only exactly what map() returned; anything else is ignored. */
		if (seg[s].iova < d->cfg.aperture_base || i >= d->npages ||
		    n > d->npages - i || !(d->pte[i] & PTE_HEAD))
			continue;
		mapping = d->pte[i] & PTE_MAPPING;
		clear_run(d, i, n);
		d->st.live_bytes -= n << DARTSIM_PAGE_SHIFT;
		if (mapping) {
			d->st.unmaps++;
			d->st.live_maps--;
		}
	}
}

int dartsim_translate(struct dartsim *d, uint64_t iova, unsigned int acc,
		      uint64_t *addr, uint64_t *avail)
{
	uint64_t off = iova - d->cfg.aperture_base, pte;

	if (iova < d->cfg.aperture_base || off >= d->cfg.aperture_size)
		goto fault;
	pte = d->pte[off >> DARTSIM_PAGE_SHIFT];
	if (!(pte & PTE_VALID) || (((uint64_t)acc << 1) & ~pte))
		goto fault;
	*addr = PTE_ADDR(pte) + (iova & PAGE_MASK);
	*avail = DARTSIM_PAGE_SIZE - (iova & PAGE_MASK);
	d->st.translations++;
	return 0;
fault:
	d->st.faults++;
	return -1;
}

const struct dartsim_stats *dartsim_stats(const struct dartsim *d)
{
	return &d->st;
}

/* the DART unmaps by segments: no cookie */
static int be_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		  struct adma_seg *seg, unsigned int max_segs,
		  unsigned int *nsegs, uint64_t *cookie)
{
	(void)cookie;
	return dartsim_map(be, addr, len, dir, seg, max_segs, nsegs);
}

static void be_unmap(void *be, const struct adma_seg *seg, unsigned int nsegs,
		     uint64_t cookie)
{
	(void)cookie;
	dartsim_unmap(be, seg, nsegs);
}

const struct adma_backend_ops dartsim_backend_ops = {
	.map = be_map,
	.unmap = be_unmap,
};
