// SPDX-License-Identifier: GPL-2.0
/*
 * buf.c - test buffers in system memory, mapped the ways GPU drivers map
 * them, and their seeded content.
 *
 * A buffer is a list of physically contiguous chunks:
 *   SGT_KIND_PAGES  separately allocated order-0 pages, one sg table
 *                   (scattered, as most GPU driver buffers are)
 *   SGT_KIND_ORDER  64 KiB (order-4) chunks, one sg table
 *   SGT_KIND_PAGE   chunks of up to 2 MiB, each mapped with dma_map_page()
 * Higher orders fall back to smaller ones when memory is fragmented.
 * The content is a pattern of 64-bit words derived from (seed, id, index),
 * so any misplaced, stale or foreign word is caught.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "simgpu_test.h"

#define SGT_ORDER_CHUNK		4	/* SGT_KIND_ORDER: 64 KiB */
#define SGT_PAGE_CHUNK_MAX	9	/* SGT_KIND_PAGE: up to 2 MiB */

const char *sgt_kind_name(enum sgt_kind kind)
{
	switch (kind) {
	case SGT_KIND_PAGES:
		return "pages";
	case SGT_KIND_ORDER:
		return "order";
	case SGT_KIND_PAGE:
		return "page";
	default:
		return "?";
	}
}

/* splitmix64 of the word's coordinates: cheap, and no two words alike */
u64 sgt_pattern(u64 seed, u64 id, u64 word)
{
	u64 x = seed * 0x9e3779b97f4a7c15ull + (id << 36) + word;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static unsigned int sgt_max_order(enum sgt_kind kind, size_t len)
{
	unsigned int want = get_order(len);

	switch (kind) {
	case SGT_KIND_ORDER:
		return min_t(unsigned int, want, SGT_ORDER_CHUNK);
	case SGT_KIND_PAGE:
		return min_t(unsigned int, want, SGT_PAGE_CHUNK_MAX);
	default:
		return 0;
	}
}

void sgt_buf_free(struct sgt_buf *b)
{
	unsigned int i;

	if (b->has_sgt)
		sg_free_table(&b->sgt);
	b->has_sgt = false;
	for (i = 0; i < b->nchunks; i++)
		__free_pages(b->chunk[i].page, b->chunk[i].order);
	kvfree(b->chunk);
	b->chunk = NULL;
	b->nchunks = 0;
}

static int sgt_buf_table(struct sgt_buf *b)
{
	struct scatterlist *sg;
	struct page **pages;
	unsigned int i;
	int ret;

	if (b->kind == SGT_KIND_PAGES) {
		/* separately allocated pages; adjacent ones may merge */
		pages = kvmalloc_array(b->nchunks, sizeof(*pages), GFP_KERNEL);
		if (!pages)
			return -ENOMEM;
		for (i = 0; i < b->nchunks; i++)
			pages[i] = b->chunk[i].page;
		ret = sg_alloc_table_from_pages(&b->sgt, pages, b->nchunks, 0,
						b->len, GFP_KERNEL);
		kvfree(pages);
	} else {
		ret = sg_alloc_table(&b->sgt, b->nchunks, GFP_KERNEL);
		if (!ret)
			for_each_sgtable_sg(&b->sgt, sg, i)
				sg_set_page(sg, b->chunk[i].page,
					    b->chunk[i].len, 0);
	}
	if (!ret)
		b->has_sgt = true;
	return ret;
}

int sgt_buf_alloc(struct sgt_buf *b, size_t len, enum sgt_kind kind)
{
	unsigned int order = sgt_max_order(kind, len), max;
	size_t left = len;
	struct page *p;

	b->len = len;
	b->kind = kind;
	b->nchunks = 0;
	b->mapped = 0;
	b->has_sgt = false;
	/* the most chunks it can take: every one order-0 */
	max = DIV_ROUND_UP(len, PAGE_SIZE);
	b->chunk = kvcalloc(max, sizeof(*b->chunk), GFP_KERNEL);
	if (!b->chunk)
		return -ENOMEM;
	while (left) {
		while (order && (PAGE_SIZE << (order - 1)) >= left)
			order--;	/* no larger chunk than the rest needs */
		p = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
				(order ? __GFP_NORETRY : 0), order);
		if (!p && order) {
			order--;
			continue;
		}
		if (!p) {
			sgt_buf_free(b);
			return -ENOMEM;
		}
		b->chunk[b->nchunks].page = p;
		b->chunk[b->nchunks].order = order;
		b->chunk[b->nchunks].len = min_t(size_t, left,
						 PAGE_SIZE << order);
		left -= b->chunk[b->nchunks].len;
		b->nchunks++;
	}
	if (kind != SGT_KIND_PAGE && sgt_buf_table(b)) {
		sgt_buf_free(b);
		return -ENOMEM;
	}
	return 0;
}

int sgt_buf_map(struct sgt_dev *g, struct sgt_buf *b,
		enum dma_data_direction dir)
{
	struct device *dev = &g->pdev->dev;
	struct sgt_chunk *c;
	unsigned int i;
	int ret;

	b->dir = dir;
	if (b->has_sgt) {
		g->cnt.map_sg++;
		ret = dma_map_sgtable(dev, &b->sgt, dir, 0);
		if (ret) {
			dev_err(dev, "dma_map_sgtable of %u entries (%zu bytes): %d\n",
				b->sgt.orig_nents, b->len, ret);
			return ret;
		}
		b->mapped = 1;
	} else {
		for (i = 0; i < b->nchunks; i++) {
			c = &b->chunk[i];
			g->cnt.map_page++;
			c->dma = dma_map_page(dev, c->page, 0, c->len, dir);
			if (dma_mapping_error(dev, c->dma)) {
				dev_err(dev, "dma_map_page of %u bytes failed\n",
					c->len);
				sgt_buf_unmap(g, b);
				return -ENOMEM;
			}
			b->mapped = i + 1;
		}
	}
	g->cnt.buffers++;
	g->cnt.live_buffers++;
	g->cnt.live_bytes += b->len;
	g->cnt.peak_buffers = max(g->cnt.peak_buffers, g->cnt.live_buffers);
	g->cnt.peak_bytes = max(g->cnt.peak_bytes, g->cnt.live_bytes);
	return 0;
}

void sgt_buf_unmap(struct sgt_dev *g, struct sgt_buf *b)
{
	struct device *dev = &g->pdev->dev;
	bool whole = b->has_sgt ? b->mapped : b->mapped == b->nchunks;
	unsigned int i;

	if (!b->mapped)
		return;
	if (b->has_sgt) {
		dma_unmap_sgtable(dev, &b->sgt, b->dir, 0);
	} else {
		for (i = 0; i < b->mapped; i++)
			dma_unmap_page(dev, b->chunk[i].dma, b->chunk[i].len,
				       b->dir);
	}
	b->mapped = 0;
	if (whole) {
		g->cnt.live_buffers--;
		g->cnt.live_bytes -= b->len;
	}
}

/* One COPY per device address range (split at the engine's maximum). */
static int sgt_copy_range(struct sgt_dev *g, dma_addr_t addr, u64 len,
			  u64 voff, bool to_vram)
{
	u32 n;
	int ret;

	g->cnt.dma_segs++;
	while (len) {
		n = min_t(u64, len, SIMGPU_MAX_XFER);
		if (to_vram)
			ret = sgt_push(g, SIMGPU_OP_COPY, SIMGPU_CMD_DST_VRAM,
				       addr, voff, n, 0);
		else
			ret = sgt_push(g, SIMGPU_OP_COPY, SIMGPU_CMD_SRC_VRAM,
				       voff, addr, n, 0);
		if (ret)
			return ret;
		addr += n;
		voff += n;
		len -= n;
	}
	return 0;
}

int sgt_buf_copy(struct sgt_dev *g, struct sgt_buf *b, u64 voff,
		 bool to_vram)
{
	struct scatterlist *sg;
	u64 off = 0;
	unsigned int i;
	int ret = 0;

	if (b->has_sgt) {
		for_each_sgtable_dma_sg(&b->sgt, sg, i) {
			ret = sgt_copy_range(g, sg_dma_address(sg),
					     sg_dma_len(sg), voff + off,
					     to_vram);
			if (ret)
				return ret;
			off += sg_dma_len(sg);
		}
	} else {
		for (i = 0; i < b->nchunks; i++) {
			ret = sgt_copy_range(g, b->chunk[i].dma,
					     b->chunk[i].len, voff + off,
					     to_vram);
			if (ret)
				return ret;
			off += b->chunk[i].len;
		}
	}
	if (off != b->len) {
		dev_err(&g->pdev->dev, "mapped ranges cover %llu of %zu bytes\n",
			off, b->len);
		return -EIO;
	}
	if (to_vram)
		g->cnt.bytes_to_vram += b->len;
	else
		g->cnt.bytes_from_vram += b->len;
	return 0;
}

void sgt_buf_fill(struct sgt_buf *b, u64 seed)
{
	u64 w = 0, *p;
	unsigned int i;
	size_t k;

	for (i = 0; i < b->nchunks; i++) {
		p = page_address(b->chunk[i].page);
		for (k = 0; k < b->chunk[i].len / 8; k++)
			p[k] = sgt_pattern(seed, b->id, w++);
	}
}

void sgt_buf_poison(struct sgt_buf *b)
{
	unsigned int i;

	for (i = 0; i < b->nchunks; i++)
		memset(page_address(b->chunk[i].page), 0x5a, b->chunk[i].len);
}

int sgt_buf_verify(struct sgt_buf *b, u64 seed, size_t *bad)
{
	u64 w = 0, *p;
	size_t off = 0, k;
	unsigned int i;

	for (i = 0; i < b->nchunks; i++) {
		p = page_address(b->chunk[i].page);
		for (k = 0; k < b->chunk[i].len / 8; k++, w++) {
			if (p[k] != sgt_pattern(seed, b->id, w)) {
				*bad = off + k * 8;
				return -EIO;
			}
		}
		off += b->chunk[i].len;
	}
	return 0;
}
