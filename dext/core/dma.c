/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * dma.c - the owner's regions, the mapping table and DMA_BATCH.
 *
 * Regions are the owner's RAM blocks, described once (one memory
 * descriptor each); a map names (region, offset, length, direction), so
 * the dext never takes an address from the client that it has not
 * described itself.
 *
 * The mapping table is an array of slots with a free list, as in the host
 * core: a handle is (generation << 32 | slot + 1), looked up in O(1), never
 * 0, and a slot reused gets a new generation so a stale handle is refused
 * instead of releasing somebody else's mapping. The table is also what
 * cleanup walks when the owner goes away: every live slot is one DART
 * mapping to release.
 *
 * Limits count what the DART counts: page-rounded (16 KiB) bytes of the
 * client's address range, and live mappings - however many segments the
 * DART answered with.
 */
#include "core_priv.h"

#define REGION_SLOT(id)		((uint32_t)((id) & 0xff) - 1)
#define REGION_GEN(id)		((uint32_t)((id) >> 8))
#define REGION_GEN_MAX		0xffffffu

void dma_init(struct dext_core *c)
{
	uint32_t i;

	for (i = 0; i < c->cfg.max_maps; i++) {
		c->slot[i].gen = 1;
		c->slot[i].live = 0;
		c->slot[i].next_free = i + 1 < c->cfg.max_maps ? i + 1 : NO_SLOT;
	}
	c->free_head = c->cfg.max_maps ? 0 : NO_SLOT;
	for (i = 0; i < DEXT_MAX_REGIONS; i++)
		c->region[i].gen = 1;
}

/* ---- regions */

/* Slot of a live region id, or NO_SLOT. */
static uint32_t region_lookup(const struct dext_core *c, uint64_t id)
{
	uint32_t slot;

	if (id >> 32 || !(id & 0xff))
		return NO_SLOT;
	slot = REGION_SLOT(id);
	if (slot >= c->cfg.max_regions || !c->region[slot].live ||
	    c->region[slot].gen != REGION_GEN(id))
		return NO_SLOT;
	return slot;
}

int dma_region_add(struct dext_session *s, uint64_t addr, uint64_t size,
		   uint64_t flags, uint64_t *id)
{
	struct dext_core *c = s->core;
	uint32_t i, free_slot = NO_SLOT;
	void *token = 0;
	int st;

	if (flags || !size || (addr | size) & (DEXT_REGION_ALIGN - 1) ||
	    addr + size < addr)
		return DEXT_S_INVALID;
	for (i = 0; i < c->cfg.max_regions; i++) {
		const struct dext_region *r = &c->region[i];

		if (!r->live) {
			if (free_slot == NO_SLOT)
				free_slot = i;
			continue;
		}
		/* overlapping regions would make an address ambiguous */
		if (addr < r->addr + r->size && r->addr < addr + size)
			return DEXT_S_INVALID;
	}
	if (free_slot == NO_SLOT)
		return DEXT_S_NO_SPACE;

	st = c->ops->region_create(c->plat, s->client, addr, size, &token);
	if (st != DEXT_S_OK)
		return st;
	c->region[free_slot].token = token;
	c->region[free_slot].addr = addr;
	c->region[free_slot].size = size;
	c->region[free_slot].live_maps = 0;
	c->region[free_slot].live = true;
	*id = ((uint64_t)c->region[free_slot].gen << 8) | (free_slot + 1);
	return DEXT_S_OK;
}

static void region_free(struct dext_core *c, uint32_t slot)
{
	struct dext_region *r = &c->region[slot];

	c->ops->region_destroy(c->plat, r->token);
	r->token = 0;
	r->live = false;
	r->gen = r->gen < REGION_GEN_MAX ? r->gen + 1 : 1;
}

int dma_region_remove(struct dext_core *c, uint64_t id)
{
	uint32_t slot = region_lookup(c, id);

	if (slot == NO_SLOT)
		return DEXT_S_BAD_REGION;
	if (c->region[slot].live_maps)
		return DEXT_S_IN_USE;
	region_free(c, slot);
	return DEXT_S_OK;
}

/* ---- the mapping table */

static uint64_t rounded_bytes(uint64_t addr, uint64_t len)
{
	return ((addr + len + DART_PAGE_MASK) & ~DART_PAGE_MASK) -
	       (addr & ~DART_PAGE_MASK);
}

static void slot_free(struct dext_core *c, uint32_t i)
{
	struct dext_map_slot *m = &c->slot[i];

	c->ops->dma_unmap(c->plat, m->mapping);
	c->region[m->region].live_maps--;
	c->st.live_maps--;
	c->st.live_bytes -= m->bytes;
	c->st.unmaps++;
	m->mapping = 0;
	m->live = 0;
	m->gen = m->gen + 1 ? m->gen + 1 : 1;
	m->next_free = c->free_head;
	c->free_head = i;
}

static uint32_t handle_lookup(const struct dext_core *c, uint64_t handle)
{
	uint64_t idx = (handle & 0xffffffffu) - 1;

	if ((handle & 0xffffffffu) == 0 || idx >= c->cfg.max_maps)
		return NO_SLOT;
	if (!c->slot[idx].live || c->slot[idx].gen != (uint32_t)(handle >> 32))
		return NO_SLOT;
	return (uint32_t)idx;
}

void dma_release_all(struct dext_core *c)
{
	uint32_t i;

	for (i = 0; i < c->cfg.max_maps; i++)
		if (c->slot[i].live)
			slot_free(c, i);
	for (i = 0; i < DEXT_MAX_REGIONS; i++)
		if (c->region[i].live)
			region_free(c, i);
}

/* ---- one batch */

struct batch_out {
	struct dext_result *res;
	struct dext_seg *seg;	/* the segment pool after the results */
	uint64_t seg_room;	/* segments the pool holds */
	uint32_t nsegs;		/* segments written */
};

/*
 * MAP one entry. DEXT_S_NOT_DONE when its segments do not fit in what is
 * left of the output: the mapping is undone and the batch stops there.
 */
static int exec_map(struct dext_core *c, const struct dext_op *op,
		    struct dext_result *res, struct batch_out *bo)
{
	struct dext_seg seg[DEXT_MAX_SEGS];
	struct dext_map_slot *m;
	const struct dext_region *r;
	uint32_t rslot, idx, nsegs = 0, i;
	uint64_t bytes, sum = 0;
	void *mapping = 0;
	int st;

	if (!op->dir || (op->dir & ~DEXT_DIR_VALID) || op->rsvd ||
	    op->handle || !op->len)
		return DEXT_S_INVALID;
	rslot = region_lookup(c, op->region);
	if (rslot == NO_SLOT)
		return DEXT_S_BAD_REGION;
	r = &c->region[rslot];
	if (op->offset > r->size || op->len > r->size - op->offset)
		return DEXT_S_BAD_REGION;

	bytes = rounded_bytes(r->addr + op->offset, op->len);
	if (c->free_head == NO_SLOT ||
	    bytes > c->cfg.max_bytes - c->st.live_bytes)
		return DEXT_S_NO_SPACE;

	st = c->ops->dma_map(c->plat, r->token, op->offset, op->len, op->dir,
			     seg, DEXT_MAX_SEGS, &nsegs, &mapping);
	if (st != DEXT_S_OK)
		return st == DEXT_S_NO_SPACE ? st : DEXT_S_IO_ERROR;
	for (i = 0; i < nsegs && i < DEXT_MAX_SEGS; i++)
		sum += seg[i].len;
	if (!nsegs || nsegs > DEXT_MAX_SEGS || sum != op->len) {
		/* the platform broke its contract: never half-map */
		c->ops->dma_unmap(c->plat, mapping);
		core_log(c, "dma_map answered segments that do not cover the "
			    "request; refused");
		return DEXT_S_IO_ERROR;
	}
	if (nsegs > bo->seg_room - bo->nsegs) {
		c->ops->dma_unmap(c->plat, mapping);
		return DEXT_S_NOT_DONE;
	}

	idx = c->free_head;
	m = &c->slot[idx];
	c->free_head = m->next_free;
	m->mapping = mapping;
	m->bytes = bytes;
	m->region = (uint16_t)rslot;
	m->live = 1;
	c->region[rslot].live_maps++;
	c->st.maps++;
	c->st.live_maps++;
	c->st.live_bytes += bytes;
	if (nsegs > 1)
		c->st.multiseg++;
	if (c->st.live_maps > c->st.peak_maps)
		c->st.peak_maps = c->st.live_maps;
	if (c->st.live_bytes > c->st.peak_bytes)
		c->st.peak_bytes = c->st.live_bytes;

	res->handle = ((uint64_t)m->gen << 32) | (idx + 1);
	res->nsegs = (uint16_t)nsegs;
	res->first_seg = bo->nsegs;
	for (i = 0; i < nsegs; i++)
		bo->seg[bo->nsegs + i] = seg[i];
	bo->nsegs += nsegs;
	return DEXT_S_OK;
}

static int exec_unmap(struct dext_core *c, const struct dext_op *op)
{
	uint32_t idx;

	if (op->dir || op->rsvd || op->region || op->offset || op->len)
		return DEXT_S_INVALID;
	idx = handle_lookup(c, op->handle);
	if (idx == NO_SLOT)
		return DEXT_S_BAD_HANDLE;
	slot_free(c, idx);
	return DEXT_S_OK;
}

int dma_batch(struct dext_core *c, const void *in, uint64_t in_size,
	      void *out, uint64_t *out_size)
{
	struct dext_batch_hdr hdr, *h = &hdr;
	const unsigned char *op;
	struct dext_batch_out *oh = out;
	struct batch_out bo;
	uint64_t cap = *out_size, fixed;
	uint32_t i, failed = 0, done;
	int st;

	*out_size = 0;
	if (!in || in_size < sizeof(*h) || !out || ((uintptr_t)out & 7))
		return DEXT_S_INVALID;
	/* copies: the client may write its buffer while we read it */
	__builtin_memcpy(&hdr, in, sizeof(hdr));
	if (h->magic != DEXT_BATCH_MAGIC || h->version != DEXT_ABI_MAJOR ||
	    h->rsvd0 || h->rsvd1 || !h->count || h->count > c->cfg.max_batch ||
	    in_size != DEXT_BATCH_IN_SIZE(h->count))
		return DEXT_S_INVALID;
	fixed = sizeof(*oh) + (uint64_t)h->count * sizeof(struct dext_result);
	if (cap < fixed)
		return DEXT_S_INVALID;

	op = (const unsigned char *)in + sizeof(hdr);
	bo.res = (struct dext_result *)(oh + 1);
	bo.seg = (struct dext_seg *)(bo.res + h->count);
	bo.seg_room = (cap - fixed) / sizeof(struct dext_seg);
	bo.nsegs = 0;
	__builtin_memset(bo.res, 0, h->count * sizeof(struct dext_result));

	c->st.batches++;
	for (done = 0; done < h->count; done++) {
		struct dext_result *res = &bo.res[done];
		struct dext_op o;

		__builtin_memcpy(&o, op + (uint64_t)done * sizeof(o), sizeof(o));
		switch (o.op) {
		case DEXT_OP_MAP:
			st = exec_map(c, &o, res, &bo);
			break;
		case DEXT_OP_UNMAP:
			st = exec_unmap(c, &o);
			break;
		default:
			st = DEXT_S_INVALID;
			break;
		}
		if (st == DEXT_S_NOT_DONE)
			break;
		res->status = (uint32_t)st;
		if (st != DEXT_S_OK) {
			failed++;
			c->st.refusals++;
		}
	}
	for (i = done; i < h->count; i++)
		bo.res[i].status = DEXT_S_NOT_DONE;

	oh->magic = DEXT_BATCH_OUT_MAGIC;
	oh->done = done;
	oh->failed = failed;
	oh->nsegs = bo.nsegs;
	*out_size = fixed + (uint64_t)bo.nsegs * sizeof(struct dext_seg);
	return DEXT_S_OK;
}
