// SPDX-License-Identifier: GPL-2.0
/*
 * ops.c - the dma_map_ops apple_dma installs on its managed device.
 *
 * Every mapping goes through the coalescer (core/coalesce.c), which asks the
 * host for mappings through the channel (chan.c) only on a miss. A whole
 * scatterlist is one coalescer call per device batch, so one doorbell for up
 * to MAX_BATCH entries.
 *
 * Syncs: none. The host maps guest memory itself (there is no bounce
 * buffer), and apple_dma only serves cache-coherent devices: every x86 PCI
 * device, and on arm64 the PCIe of QEMU's virt machine and of Apple's
 * hosts. A device found non-coherent when its driver binds is refused any
 * mapping (see main.c) rather than given stale data.
 *
 * Errors never panic: a map returns DMA_MAPPING_ERROR, NULL or a negative
 * errno, is counted in the stats and logged, rate-limited.
 */
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>

#include "adma_drv.h"

static unsigned int adma_dir(enum dma_data_direction dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return COAL_DIR_TO_DEVICE;
	case DMA_FROM_DEVICE:
		return COAL_DIR_FROM_DEVICE;
	case DMA_BIDIRECTIONAL:
		return COAL_DIR_BIDIRECTIONAL;
	default:
		return 0;
	}
}

/* The instance managing dev; NULL (logged) if ops outlived their install. */
static struct adma_dev *adma_get(struct device *dev)
{
	struct adma_dev *a = adma_from_dev(dev);

	if (unlikely(!a))
		dev_err_ratelimited(dev, "apple_dma: DMA op on a device it does not manage\n");
	return a;
}

static bool adma_usable(struct adma_dev *a)
{
	if (likely(!READ_ONCE(a->noncoherent)))
		return true;
	dev_err_ratelimited(&a->managed->dev,
			    "apple_dma: mapping refused, device is not cache-coherent\n");
	return false;
}

/* Map one physically contiguous range. */
static dma_addr_t adma_map_range(struct device *dev, phys_addr_t phys,
				 size_t size, enum dma_data_direction dir)
{
	struct adma_dev *a = adma_get(dev);
	struct coal_buf b = { .gpa = phys, .len = size, .dir = adma_dir(dir) };
	unsigned long flags;
	int err = -EINVAL;

	if (!a)
		return DMA_MAPPING_ERROR;
	if (adma_usable(a) && b.dir) {
		spin_lock_irqsave(&a->lock, flags);
		err = coal_map(a->coal, &b, 1);
		spin_unlock_irqrestore(&a->lock, flags);
		if (!err)
			return b.dma;
	}
	atomic64_inc(&a->stats.map_errors);
	dev_err_ratelimited(dev, "apple_dma: map of %pa+%#zx failed: %d\n",
			    &phys, size, err);
	return DMA_MAPPING_ERROR;
}

static void adma_unmap_range(struct device *dev, dma_addr_t addr, size_t size)
{
	struct adma_dev *a = adma_get(dev);
	struct coal_ubuf u = { .dma = addr, .len = size };
	unsigned long flags;
	unsigned int skipped;

	if (!a)
		return;
	spin_lock_irqsave(&a->lock, flags);
	skipped = coal_unmap(a->coal, &u, 1);
	spin_unlock_irqrestore(&a->lock, flags);
	if (skipped) {
		atomic64_inc(&a->stats.unmap_errors);
		dev_err_ratelimited(dev,
				    "apple_dma: unmap of %pad+%#zx: not mapped\n",
				    &addr, size);
	}
}

static dma_addr_t adma_refuse_mmio(struct device *dev, phys_addr_t phys,
				   size_t size)
{
	struct adma_dev *a = adma_get(dev);

	if (a)
		atomic64_inc(&a->stats.resource_refusals);
	dev_err_ratelimited(dev,
			    "apple_dma: refusing to map MMIO %pa+%#zx: the host maps guest RAM only\n",
			    &phys, size);
	return DMA_MAPPING_ERROR;
}

#ifdef ADMA_HAVE_MAP_PHYS
static dma_addr_t adma_map_phys(struct device *dev, phys_addr_t phys,
				size_t size, enum dma_data_direction dir,
				unsigned long attrs)
{
#ifdef ADMA_HAVE_ATTR_MMIO
	if (attrs & DMA_ATTR_MMIO)
		return adma_refuse_mmio(dev, phys, size);
#endif
	return adma_map_range(dev, phys, size, dir);
}

static void adma_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	adma_unmap_range(dev, addr, size);
}
#else
static dma_addr_t adma_map_page(struct device *dev, struct page *page,
				unsigned long offset, size_t size,
				enum dma_data_direction dir, unsigned long attrs)
{
	return adma_map_range(dev, page_to_phys(page) + offset, size, dir);
}

static void adma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
			    enum dma_data_direction dir, unsigned long attrs)
{
	adma_unmap_range(dev, addr, size);
}
#endif

#ifdef ADMA_HAVE_MAP_RESOURCE
static dma_addr_t adma_map_resource(struct device *dev, phys_addr_t phys,
				    size_t size, enum dma_data_direction dir,
				    unsigned long attrs)
{
	return adma_refuse_mmio(dev, phys, size);
}
#endif

/* Unmap entries [0, n) of a scatterlist that were mapped by us. */
static void adma_unmap_sg_entries(struct adma_dev *a, struct scatterlist *sgl,
				  int n)
{
	unsigned int chunk = coal_config(a->coal)->max_batch, k = 0, skipped = 0;
	struct scatterlist *sg;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&a->lock, flags);
	for_each_sg(sgl, sg, n, i) {
		a->subuf[k].dma = sg_dma_address(sg);
		a->subuf[k].len = sg_dma_len(sg);
		if (++k == chunk) {
			skipped += coal_unmap(a->coal, a->subuf, k);
			k = 0;
		}
	}
	if (k)
		skipped += coal_unmap(a->coal, a->subuf, k);
	spin_unlock_irqrestore(&a->lock, flags);
	if (skipped) {
		atomic64_add(skipped, &a->stats.unmap_errors);
		dev_err_ratelimited(&a->managed->dev,
				    "apple_dma: unmap_sg: %u entries not mapped\n",
				    skipped);
	}
}

/*
 * Map a scatterlist: MAX_BATCH entries per coalescer call, so one doorbell
 * each (two if a cluster's segments force a private retry). Entries are not
 * merged: each keeps its own device address. On failure every entry mapped
 * so far is unmapped and the error is one dma_map_sgtable() documents.
 */
static int adma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		       enum dma_data_direction dir, unsigned long attrs)
{
	struct adma_dev *a = adma_get(dev);
	unsigned int chunk, cdir = adma_dir(dir);
	struct scatterlist *sg, *first = sgl;
	unsigned long flags;
	int i, j, k = 0, mapped = 0, err = 0;

	if (!a)
		return -EIO;
	chunk = coal_config(a->coal)->max_batch;
	if (!adma_usable(a) || !cdir || nents <= 0) {
		err = -EINVAL;
		goto fail;
	}
	spin_lock_irqsave(&a->lock, flags);
	for_each_sg(sgl, sg, nents, i) {
		a->sbuf[k].gpa = sg_phys(sg);
		a->sbuf[k].len = sg->length;
		a->sbuf[k].dir = cdir;
		if (++k < chunk && i < nents - 1)
			continue;
		err = coal_map(a->coal, a->sbuf, k);
		if (err)
			break;
		/* the k entries from first on get their addresses */
		for (j = 0; j < k; j++, first = sg_next(first)) {
			sg_dma_address(first) = a->sbuf[j].dma;
			sg_dma_len(first) = a->sbuf[j].len;
		}
		mapped += k;
		k = 0;
	}
	spin_unlock_irqrestore(&a->lock, flags);
	if (!err)
		return nents;
	if (mapped)
		adma_unmap_sg_entries(a, sgl, mapped);
fail:
	atomic64_inc(&a->stats.map_errors);
	dev_err_ratelimited(dev, "apple_dma: map_sg of %d entries failed: %d\n",
			    nents, err);
	return err == -ENOMEM || err == -EINVAL ? err : -EIO;
}

static void adma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	struct adma_dev *a = adma_get(dev);

	if (a)
		adma_unmap_sg_entries(a, sgl, nents);
}

/* Pages for the device, physically contiguous; placement does not matter. */
static gfp_t adma_gfp(gfp_t gfp)
{
	return (gfp & ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM | __GFP_COMP)) |
	       __GFP_ZERO;
}

static void *adma_alloc(struct device *dev, size_t size, dma_addr_t *handle,
			gfp_t gfp, unsigned long attrs)
{
	void *cpu;

	size = PAGE_ALIGN(size);
	cpu = alloc_pages_exact(size, adma_gfp(gfp));
	if (!cpu)
		return NULL;
	*handle = adma_map_range(dev, virt_to_phys(cpu), size,
				 DMA_BIDIRECTIONAL);
	if (*handle == DMA_MAPPING_ERROR) {
		free_pages_exact(cpu, size);
		return NULL;
	}
	return cpu;
}

static void adma_free(struct device *dev, size_t size, void *cpu,
		      dma_addr_t handle, unsigned long attrs)
{
	size = PAGE_ALIGN(size);
	adma_unmap_range(dev, handle, size);
	free_pages_exact(cpu, size);
}

static struct page *adma_alloc_pages(struct device *dev, size_t size,
				     dma_addr_t *handle,
				     enum dma_data_direction dir, gfp_t gfp)
{
	struct page *page;

	page = alloc_pages(adma_gfp(gfp), get_order(size));
	if (!page)
		return NULL;
	*handle = adma_map_range(dev, page_to_phys(page), PAGE_ALIGN(size), dir);
	if (*handle == DMA_MAPPING_ERROR) {
		__free_pages(page, get_order(size));
		return NULL;
	}
	return page;
}

static void adma_free_pages(struct device *dev, size_t size, struct page *page,
			    dma_addr_t handle, enum dma_data_direction dir)
{
	adma_unmap_range(dev, handle, PAGE_ALIGN(size));
	__free_pages(page, get_order(size));
}

/* Coherent memory is ordinary cacheable RAM: map it as it is. */
static int adma_mmap(struct device *dev, struct vm_area_struct *vma,
		     void *cpu, dma_addr_t handle, size_t size,
		     unsigned long attrs)
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

static int adma_get_sgtable(struct device *dev, struct sg_table *sgt,
			    void *cpu, dma_addr_t handle, size_t size,
			    unsigned long attrs)
{
	int ret = sg_alloc_table(sgt, 1, GFP_KERNEL);

	if (!ret)
		sg_set_page(sgt->sgl, virt_to_page(cpu), PAGE_ALIGN(size), 0);
	return ret;
}

/*
 * The host picks device addresses; a mask too narrow for one is caught when
 * the mapping is made (chan.c). Below 32 bits nothing is plausible.
 */
static int adma_dma_supported(struct device *dev, u64 mask)
{
	return mask >= DMA_BIT_MASK(32);
}

static u64 adma_get_required_mask(struct device *dev)
{
	return DMA_BIT_MASK(64);
}

static size_t adma_max_mapping_size(struct device *dev)
{
	struct adma_dev *a = adma_get(dev);

	if (!a || !a->limit_bytes)
		return SIZE_MAX;
	return min_t(u64, a->limit_bytes, SIZE_MAX);
}

const struct dma_map_ops adma_dma_ops = {
	.alloc			= adma_alloc,
	.free			= adma_free,
#ifdef ADMA_HAVE_ALLOC_PAGES_OP
	.alloc_pages_op		= adma_alloc_pages,
#else
	.alloc_pages		= adma_alloc_pages,
#endif
	.free_pages		= adma_free_pages,
	.mmap			= adma_mmap,
	.get_sgtable		= adma_get_sgtable,
#ifdef ADMA_HAVE_MAP_PHYS
	.map_phys		= adma_map_phys,
	.unmap_phys		= adma_unmap_phys,
#else
	.map_page		= adma_map_page,
	.unmap_page		= adma_unmap_page,
#endif
	.map_sg			= adma_map_sg,
	.unmap_sg		= adma_unmap_sg,
#ifdef ADMA_HAVE_MAP_RESOURCE
	.map_resource		= adma_map_resource,
#endif
	.dma_supported		= adma_dma_supported,
	.get_required_mask	= adma_get_required_mask,
	.max_mapping_size	= adma_max_mapping_size,
};
