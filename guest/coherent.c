// SPDX-License-Identifier: GPL-2.0
/*
 * coherent.c - dma_alloc_coherent() and dma_alloc_pages() for the managed
 * device, and the mmap/sgtable of what they return.
 */
#include <linux/dma-map-ops.h>
#include <linux/gfp.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "ops.h"

/* Pages for the device, physically contiguous; placement does not matter. */
static gfp_t adma_gfp(gfp_t gfp)
{
	return (gfp & ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM | __GFP_COMP)) |
	       __GFP_ZERO;
}

/*
 * Coherent allocations keep the DMA API's promises: the device address is
 * aligned to the allocation's order (dma_pool and many drivers rely on it),
 * fits coherent_dma_mask, is never 0, and has a host mapping of its own (no
 * cluster: nothing else of the guest's is exposed with it, and a cluster's
 * IOVA was chosen for another mask). The host only promises its own page
 * alignment, so an allocation aligned beyond a host page is mapped with
 * align - host page bytes of slack, and the aligned part of that mapping is
 * handed out; the slack pages stay allocated (never reused while the
 * device can reach them). Those carry a record, to be found again on free.
 */
struct adma_coh {
	struct hlist_node node;
	struct device *dev;
	dma_addr_t dma;		/* handed out */
	dma_addr_t map_dma;	/* the mapping's start */
	void *base;		/* the allocation's start */
	size_t span;		/* bytes allocated and mapped */
};

static DEFINE_HASHTABLE(adma_coh_tab, 6);
static DEFINE_SPINLOCK(adma_coh_lock);

static struct adma_coh *adma_coh_take(struct device *dev, dma_addr_t dma)
{
	struct adma_coh *r;
	unsigned long flags;

	spin_lock_irqsave(&adma_coh_lock, flags);
	hash_for_each_possible(adma_coh_tab, r, node, dma) {
		if (r->dev == dev && r->dma == dma) {
			hash_del(&r->node);
			spin_unlock_irqrestore(&adma_coh_lock, flags);
			return r;
		}
	}
	spin_unlock_irqrestore(&adma_coh_lock, flags);
	return NULL;
}

void *adma_alloc(struct device *dev, size_t size, dma_addr_t *handle,
		 gfp_t gfp, unsigned long attrs)
{
	struct adma_dev *a = adma_get(dev);
	struct coal_want w = {
		.mask = dev->coherent_dma_mask,
		.boundary = U64_MAX,	/* aligned to its size: never crosses */
	};
	struct adma_coh *r = NULL;
	struct coal_buf b = { .dir = COAL_DIR_BIDIRECTIONAL,
			      .flags = COAL_BUF_PRIVATE };
	size_t span, hpage;
	unsigned long flags;
	void *cpu;
	u64 use;
	int err;

	if (!a)
		return NULL;
	size = PAGE_ALIGN(size);
	w.align = PAGE_SIZE << get_order(size);
	w.size = size;
	hpage = (size_t)1 << a->page_shift;
	span = w.align > hpage ? size + w.align - hpage : size;
	if (span != size) {
		r = kzalloc(sizeof(*r), gfp & ~(__GFP_DMA | __GFP_DMA32 |
						__GFP_HIGHMEM | __GFP_COMP));
		if (!r)
			return NULL;
	}
	cpu = alloc_pages_exact(span, adma_gfp(gfp));
	if (!cpu)
		goto nomem;
	b.gpa = virt_to_phys(cpu);
	b.len = span;
	err = adma_map_one(a, &b, &w);
	if (err) {
		adma_map_failed(a, dev, b.gpa, span, err, attrs);
		free_pages_exact(cpu, span);
		goto nomem;
	}
	adma_trace_map(a, &b, COAL_TRACE_F_COHERENT);
	use = coal_pick(&w, b.dma, b.len);
	*handle = use;
	if (!r)
		return cpu;
	r->dev = dev;
	r->dma = use;
	r->map_dma = b.dma;
	r->base = cpu;
	r->span = span;
	spin_lock_irqsave(&adma_coh_lock, flags);
	hash_add(adma_coh_tab, &r->node, use);
	spin_unlock_irqrestore(&adma_coh_lock, flags);
	return cpu + (use - b.dma);
nomem:
	kfree(r);
	return NULL;
}

void adma_free(struct device *dev, size_t size, void *cpu,
	       dma_addr_t handle, unsigned long attrs)
{
	struct adma_coh *r = adma_coh_take(dev, handle);

	size = PAGE_ALIGN(size);
	if (!r) {
		/* mapped as it is (no slack); after remove nothing is mapped */
		adma_unmap_range(dev, handle, size);
		free_pages_exact(cpu, size);
		return;
	}
	if (cpu != r->base + (r->dma - r->map_dma)) {
		/* not ours to free: leaking beats freeing what the device sees */
		dev_err_ratelimited(dev, "apple_dma: free_coherent of unknown %pad (cpu %p)\n",
				    &handle, cpu);
		kfree(r);
		return;
	}
	adma_unmap_range(dev, r->map_dma, r->span);
	free_pages_exact(r->base, r->span);
	kfree(r);
}

/* As dma-direct: placed for the coherent mask, a host mapping of its own. */
struct page *adma_alloc_pages(struct device *dev, size_t size,
			      dma_addr_t *handle, enum dma_data_direction dir,
			      gfp_t gfp)
{
	struct adma_dev *a = adma_get(dev);
	struct coal_want w = {
		.mask = dev->coherent_dma_mask,
		.boundary = dma_get_seg_boundary(dev),
		.align = 1,
		.size = PAGE_ALIGN(size),
	};
	struct coal_buf b = { .len = PAGE_ALIGN(size), .dir = adma_dir(dir),
			      .flags = COAL_BUF_PRIVATE };
	struct page *page;
	int err;

	if (!a)
		return NULL;
	page = alloc_pages(adma_gfp(gfp), get_order(size));
	if (!page)
		return NULL;
	b.gpa = page_to_phys(page);
	err = adma_map_one(a, &b, &w);
	if (err) {
		adma_map_failed(a, dev, b.gpa, b.len, err, 0);
		__free_pages(page, get_order(size));
		return NULL;
	}
	adma_trace_map(a, &b, COAL_TRACE_F_COHERENT);
	*handle = b.dma;
	return page;
}

void adma_free_pages(struct device *dev, size_t size, struct page *page,
		     dma_addr_t handle, enum dma_data_direction dir)
{
	adma_unmap_range(dev, handle, PAGE_ALIGN(size));
	__free_pages(page, get_order(size));
}

/* Coherent memory is ordinary cacheable RAM: map it as it is. */
int adma_mmap(struct device *dev, struct vm_area_struct *vma, void *cpu,
	      dma_addr_t handle, size_t size, unsigned long attrs)
{
	unsigned long count = PAGE_ALIGN(size) >> PAGE_SHIFT;
	unsigned long user = vma_pages(vma);
	unsigned long off = vma->vm_pgoff;

	if (off >= count || user > count - off)
		return -ENXIO;
	return remap_pfn_range(vma, vma->vm_start,
			       page_to_pfn(virt_to_page(cpu)) + off,
			       user << PAGE_SHIFT, vma->vm_page_prot);
}

int adma_get_sgtable(struct device *dev, struct sg_table *sgt, void *cpu,
		     dma_addr_t handle, size_t size, unsigned long attrs)
{
	int ret = sg_alloc_table(sgt, 1, GFP_KERNEL);

	if (!ret)
		sg_set_page(sgt->sgl, virt_to_page(cpu), PAGE_ALIGN(size), 0);
	return ret;
}
