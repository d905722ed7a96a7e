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
 */
#include "dartsim.h"

#define PAGE_MASK	(DARTSIM_PAGE_SIZE - 1)

/* Page-table entry: target page address | these bits; 0 is "unmapped". */
#define PTE_VALID	(1ull << 0)
#define PTE_READ	(1ull << 1)	/* == ADMA_DIR_TO_DEVICE << 1 */
#define PTE_WRITE	(1ull << 2)	/* == ADMA_DIR_FROM_DEVICE << 1 */
#define PTE_HEAD	(1ull << 3)	/* first page of a segment */
#define PTE_MAPPING	(1ull << 4)	/* ... and of the mapping's first one */
#define PTE_ADDR(p)	((p) & ~PAGE_MASK)

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
};

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

size_t dartsim_size(const struct dartsim_config *cfg)
{
	struct dartsim_config c = *cfg;
	uint64_t npages;

	apply_defaults(&c);
	npages = c.aperture_size >> DARTSIM_PAGE_SHIFT;
	return sizeof(struct dartsim) +
	       (size_t)(bitmap_words(npages) + npages) * sizeof(uint64_t);
}

struct dartsim *dartsim_init(void *mem, const struct dartsim_config *cfg)
{
	struct dartsim *d = mem;
	struct dartsim_config c = *cfg;

	apply_defaults(&c);
	if ((c.aperture_base | c.aperture_size) & PAGE_MASK)
		return 0;
	if (c.aperture_size < DARTSIM_PAGE_SIZE ||
	    c.aperture_base + c.aperture_size < c.aperture_base)
		return 0;
	if (c.fail_ppm > 1000000)
		return 0;

	__builtin_memset(d, 0, sizeof(*d));
	d->cfg = c;
	d->npages = c.aperture_size >> DARTSIM_PAGE_SHIFT;
	d->used = (uint64_t *)(d + 1);
	d->pte = d->used + bitmap_words(d->npages);
	d->rng_place = seed_state(c.seed, 1);
	d->rng_fail = seed_state(c.seed, 2);
	dartsim_reset(d);
	return d;
}

const struct dartsim_config *dartsim_config(const struct dartsim *d)
{
	return &d->cfg;
}

void dartsim_reset(struct dartsim *d)
{
	__builtin_memset(d->used, 0,
			 bitmap_words(d->npages) * sizeof(uint64_t));
	__builtin_memset(d->pte, 0, d->npages * sizeof(uint64_t));
	d->free_pages = d->npages;
	d->cursor = 0;
	d->st.live_maps = 0;
	d->st.live_bytes = 0;
}

static int page_used(const struct dartsim *d, uint64_t p)
{
	return (d->used[p / 64] >> (p % 64)) & 1;
}

/* First used page in [p, end), or end. */
static uint64_t next_used(const struct dartsim *d, uint64_t p, uint64_t end)
{
	while (p < end) {
		uint64_t w = d->used[p / 64] >> (p % 64);

		if (w) {
			p += (uint64_t)__builtin_ctzll(w);
			return p < end ? p : end;
		}
		p = (p / 64 + 1) * 64;
	}
	return end;
}

/* First free page in [p, end), or end. */
static uint64_t next_free(const struct dartsim *d, uint64_t p, uint64_t end)
{
	while (p < end) {
		uint64_t w = ~d->used[p / 64] >> (p % 64);

		if (w) {
			p += (uint64_t)__builtin_ctzll(w);
			return p < end ? p : end;
		}
		p = (p / 64 + 1) * 64;
	}
	return end;
}

/* First run of n free pages starting in [from, end); end if none. */
static uint64_t find_run(const struct dartsim *d, uint64_t n, uint64_t from,
			 uint64_t end)
{
	uint64_t p = next_free(d, from, end);

	while (p < end && end - p >= n) {
		uint64_t u = next_used(d, p, p + n);

		if (u == p + n)
			return p;
		p = next_free(d, u, end);
	}
	return end;
}

static void set_range(struct dartsim *d, uint64_t p, uint64_t n, int used)
{
	for (; n && (p % 64); p++, n--)
		d->used[p / 64] ^= (uint64_t)(page_used(d, p) != used) << (p % 64);
	for (; n >= 64; p += 64, n -= 64)
		d->used[p / 64] = used ? ~0ull : 0;
	for (; n; p++, n--)
		d->used[p / 64] ^= (uint64_t)(page_used(d, p) != used) << (p % 64);
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
