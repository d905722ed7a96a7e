/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ops.h - what ops.c (streaming mappings), coherent.c (allocations) and
 * ops_table.c (the dma_map_ops) share: the checks every answer goes through
 * before a caller sees it, and the ops.
 */
#ifndef ADMA_OPS_H
#define ADMA_OPS_H

#include <linux/dma-mapping.h>

#include "adma_drv.h"

/* Every answer is checked with coal_pick() (core/coalesce.h). */
struct adma_dev *adma_get(struct device *dev);
unsigned int adma_dir(enum dma_data_direction dir);
int adma_map_one(struct adma_dev *a, struct coal_buf *b, struct coal_want *w);
void adma_map_failed(struct adma_dev *a, struct device *dev,
		     phys_addr_t phys, size_t size, int err, unsigned long attrs);
void adma_unmap_range(struct device *dev, dma_addr_t addr, size_t size);

/* ops.c: the streaming ops (one buffer: they take their own read section) */
#ifdef ADMA_HAVE_MAP_PHYS
dma_addr_t adma_map_phys(struct device *dev, phys_addr_t phys, size_t size,
			 enum dma_data_direction dir, unsigned long attrs);
void adma_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
		     enum dma_data_direction dir, unsigned long attrs);
#else
dma_addr_t adma_map_page(struct device *dev, struct page *page,
			 unsigned long offset, size_t size,
			 enum dma_data_direction dir, unsigned long attrs);
void adma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
		     enum dma_data_direction dir, unsigned long attrs);
#endif
#ifdef ADMA_HAVE_MAP_RESOURCE
dma_addr_t adma_map_resource(struct device *dev, phys_addr_t phys,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs);
#endif
int adma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		enum dma_data_direction dir, unsigned long attrs);
void adma_unmap_sg(struct device *dev, struct scatterlist *sgl, int nents,
		   enum dma_data_direction dir, unsigned long attrs);

/* coherent.c */
void *adma_alloc(struct device *dev, size_t size, dma_addr_t *handle,
		 gfp_t gfp, unsigned long attrs);
void adma_free(struct device *dev, size_t size, void *cpu,
	       dma_addr_t handle, unsigned long attrs);
struct page *adma_alloc_pages(struct device *dev, size_t size,
			      dma_addr_t *handle, enum dma_data_direction dir,
			      gfp_t gfp);
void adma_free_pages(struct device *dev, size_t size, struct page *page,
		     dma_addr_t handle, enum dma_data_direction dir);
int adma_mmap(struct device *dev, struct vm_area_struct *vma, void *cpu,
	      dma_addr_t handle, size_t size, unsigned long attrs);
int adma_get_sgtable(struct device *dev, struct sg_table *sgt, void *cpu,
		     dma_addr_t handle, size_t size, unsigned long attrs);

#endif /* ADMA_OPS_H */
