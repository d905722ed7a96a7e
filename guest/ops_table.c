// SPDX-License-Identifier: GPL-2.0
/*
 * ops_table.c - the dma_map_ops apple_dma installs, and the read section
 * each op runs in (the ops themselves: ops.c, streaming; coherent.c,
 * allocations).
 */
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/rcupdate.h>
#include <linux/srcu.h>

#include "adma_drv.h"
#include "ops.h"

/*
 * The host picks device addresses below IOVA_END (protocol 1.1): a mask
 * that cannot reach the top of that aperture is refused here rather than
 * map by map. Unknown (0): below 32 bits nothing is plausible, and each
 * answer is checked against the mask anyway.
 */
static int adma_dma_supported(struct device *dev, u64 mask)
{
	struct adma_dev *a = adma_get(dev);

	if (a && a->iova_end)
		return mask >= a->iova_end - 1;
	return mask >= DMA_BIT_MASK(32);
}

/*
 * The smallest mask that reaches every IOVA the host may hand out. 64 bits
 * would tell drivers (amdgpu's TTM) to use ZONE_DMA32 pages for everything.
 */
static u64 adma_get_required_mask(struct device *dev)
{
	struct adma_dev *a = adma_get(dev);

	if (!a || a->iova_end < 2)
		return DMA_BIT_MASK(64);
	return DMA_BIT_MASK(fls64(a->iova_end - 1));
}

static size_t adma_max_mapping_size(struct device *dev)
{
	struct adma_dev *a = adma_get(dev);

	if (!a || !a->limit_bytes)
		return SIZE_MAX;
	return min_t(u64, a->limit_bytes, SIZE_MAX);
}

/*
 * Every op runs inside a read section, so remove can wait, after our ops
 * are off the device, for every op that found them there before it frees
 * the channel, and module exit for every one before the text goes
 * (adma_ops_quiesce()). Allocations may sleep: SRCU. Streaming maps and
 * unmaps never sleep (the coalescer runs with interrupts off): one buffer
 * under sched-RCU (taken in ops.c, around the op's body: SRCU's barriers
 * cost a sixth of a cached pair under emulation), a scatterlist under RCU
 * (a long list stays preemptible). synchronize_rcu() waits for both.
 */
DEFINE_SRCU(adma_srcu);

void adma_ops_quiesce(void)
{
	synchronize_srcu(&adma_srcu);
	synchronize_rcu();
}

static void *adma_g_alloc(struct device *dev, size_t size, dma_addr_t *handle,
			  gfp_t gfp, unsigned long attrs)
{
	int i = srcu_read_lock(&adma_srcu);
	void *r = adma_alloc(dev, size, handle, gfp, attrs);

	srcu_read_unlock(&adma_srcu, i);
	return r;
}

static void adma_g_free(struct device *dev, size_t size, void *cpu,
			dma_addr_t handle, unsigned long attrs)
{
	int i = srcu_read_lock(&adma_srcu);

	adma_free(dev, size, cpu, handle, attrs);
	srcu_read_unlock(&adma_srcu, i);
}

static struct page *adma_g_alloc_pages(struct device *dev, size_t size,
				       dma_addr_t *handle,
				       enum dma_data_direction dir, gfp_t gfp)
{
	int i = srcu_read_lock(&adma_srcu);
	struct page *r = adma_alloc_pages(dev, size, handle, dir, gfp);

	srcu_read_unlock(&adma_srcu, i);
	return r;
}

static void adma_g_free_pages(struct device *dev, size_t size,
			      struct page *page, dma_addr_t handle,
			      enum dma_data_direction dir)
{
	int i = srcu_read_lock(&adma_srcu);

	adma_free_pages(dev, size, page, handle, dir);
	srcu_read_unlock(&adma_srcu, i);
}

static int adma_g_map_sg(struct device *dev, struct scatterlist *sgl,
			 int nents, enum dma_data_direction dir,
			 unsigned long attrs)
{
	int r;

	rcu_read_lock();
	r = adma_map_sg(dev, sgl, nents, dir, attrs);
	rcu_read_unlock();
	return r;
}

static void adma_g_unmap_sg(struct device *dev, struct scatterlist *sgl,
			    int nents, enum dma_data_direction dir,
			    unsigned long attrs)
{
	rcu_read_lock();
	adma_unmap_sg(dev, sgl, nents, dir, attrs);
	rcu_read_unlock();
}

const struct dma_map_ops adma_dma_ops = {
	.alloc			= adma_g_alloc,
	.free			= adma_g_free,
#ifdef ADMA_HAVE_ALLOC_PAGES_OP
	.alloc_pages_op		= adma_g_alloc_pages,
#else
	.alloc_pages		= adma_g_alloc_pages,
#endif
	.free_pages		= adma_g_free_pages,
	.mmap			= adma_mmap,
	.get_sgtable		= adma_get_sgtable,
#ifdef ADMA_HAVE_MAP_PHYS
	.map_phys		= adma_map_phys,	/* read section: ops.c */
	.unmap_phys		= adma_unmap_phys,
#else
	.map_page		= adma_map_page,	/* read section: ops.c */
	.unmap_page		= adma_unmap_page,
#endif
	.map_sg			= adma_g_map_sg,
	.unmap_sg		= adma_g_unmap_sg,
#ifdef ADMA_HAVE_MAP_RESOURCE
	.map_resource		= adma_map_resource,
#endif
	.dma_supported		= adma_dma_supported,
	.get_required_mask	= adma_get_required_mask,
	.max_mapping_size	= adma_max_mapping_size,
};
