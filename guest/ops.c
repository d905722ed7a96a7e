// SPDX-License-Identifier: GPL-2.0
/*
 * ops.c - the streaming DMA ops apple_dma installs on its managed device
 * (the table: ops_table.c; one-buffer ops take their read section here,
 * scatterlists in ops_table.c).
 *
 * A buffer in a fast window (fast.c) is mapped and unmapped without the
 * coalescer's lock. Every other mapping goes through the coalescer
 * (core/coalesce.c), which asks the host for mappings through the channel
 * (chan.c) only on a miss. A
 * scatterlist is one coalescer call per device batch, so one doorbell for up
 * to MAX_BATCH entries, with the lock (and interrupts) dropped in between.
 * Every answer, hit or miss, is checked against what the caller may be
 * handed (mask, segment boundary, never IOVA 0) and remapped privately if
 * it does not fit. Coherent allocations are in coherent.c.
 *
 * Nothing is logged under the lock: errors are counted there and logged
 * after it is dropped, and not at all with DMA_ATTR_NO_WARN.
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
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>

#include "adma_drv.h"
#include "ops.h"

unsigned int adma_dir(enum dma_data_direction dir)
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

/*
 * The instance managing dev, found under RCU (the caller's; never freed
 * before module exit: see adma_devs). NULL for a device that left the bus
 * or an instance being removed (counted in late_ops: maps fail, unmaps are
 * ignored), and for a device never managed (logged).
 */
static struct adma_dev *adma_get_rcu(struct device *dev)
{
	struct adma_dev *a = adma_from_dev(dev);
	bool alive = a && adma_alive(a, dev);

	if (a && !alive)
		atomic64_inc(&a->stats.late_ops);
	if (unlikely(!a))
		dev_err_ratelimited(dev, "apple_dma: DMA op on a device it does not manage\n");
	return alive ? a : NULL;
}

struct adma_dev *adma_get(struct device *dev)
{
	struct adma_dev *a;

	rcu_read_lock();
	a = adma_get_rcu(dev);
	rcu_read_unlock();
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

static void adma_want_streaming(struct device *dev, struct coal_want *w,
				u64 size)
{
	w->mask = dma_get_mask(dev);
	w->boundary = dma_get_seg_boundary(dev);
	w->align = 1;
	w->size = size;
}

/* Held unfit mappings while a buffer is mapped again; then given back. */
#define ADMA_REMAP_TRIES	3

/*
 * b was mapped, but its answer does not fit w: map its bytes privately
 * again, keeping the unfit mappings live meanwhile so that the host places
 * the new one elsewhere. On success b holds the new mapping; either way the
 * old ones are gone. Under a->lock.
 */
static int adma_remap(struct adma_dev *a, struct coal_buf *b,
		      const struct coal_want *w)
{
	struct coal_ubuf held[ADMA_REMAP_TRIES + 1];
	unsigned int nheld = 0, i;
	struct coal_buf t;
	int err = -EIO;

	held[nheld++] = (struct coal_ubuf){ .dma = b->dma, .len = b->len };
	for (i = 0; i < ADMA_REMAP_TRIES; i++) {
		t = *b;
		t.flags |= COAL_BUF_PRIVATE;
		err = coal_map(a->coal, &t, 1);
		if (err)
			break;
		if (coal_pick(w, t.dma, t.len)) {
			*b = t;
			break;
		}
		held[nheld++] = (struct coal_ubuf){ .dma = t.dma, .len = t.len };
		err = -EIO;
	}
	coal_unmap_drop(a->coal, held, nheld);
	atomic64_inc(&a->stats.remaps);
	if (err)
		atomic64_inc(&a->stats.unfit);
	return err;
}

/*
 * Map n buffers (<= max_batch) and make every answer fit w (w->size is
 * taken as each buffer's length when 0). All or nothing. Under a->lock.
 */
static int adma_map_fit(struct adma_dev *a, struct coal_buf *b,
			unsigned int n, struct coal_want *w)
{
	bool each = !w->size, fast;
	unsigned int i, j, k;
	int err;

	lockdep_assert_held(&a->lock);
	adma_fast_publish(a, b, n);
	/* one buffer the window just published takes: no record in it */
	if (n == 1 && READ_ONCE(a->fast.live) && !(b->flags & COAL_BUF_PRIVATE)) {
		rcu_read_lock();	/* coherent callers run under SRCU */
		fast = adma_fast_map(a, b, w);
		rcu_read_unlock();
		if (fast)
			return 0;
	}
	err = coal_map(a->coal, b, n);
	/* no space: the idle fast windows go too, then once more */
	if (err == COAL_ENOMEM && adma_fast_retire_idle(a)) {
		coal_trim(a->coal);
		err = coal_map(a->coal, b, n);
	}
	for (i = 0; !err && i < n; i++) {
		if (each)
			w->size = b[i].len;
		if (coal_pick(w, b[i].dma, b[i].len))
			continue;
		err = adma_remap(a, &b[i], w);
		if (!err)
			continue;
		/* b[i] is gone; give the others back */
		for (j = 0, k = 0; j < n; j++)
			if (j != i)
				a->subuf[k++] = (struct coal_ubuf){
					.dma = b[j].dma, .len = b[j].len };
		coal_unmap(a->coal, a->subuf, k);
	}
	if (each)
		w->size = 0;
	if (!err)
		adma_fast_note(a, b, n);
	return err;
}

/* Logged after the lock is dropped, and not at all with NO_WARN. */
void adma_map_failed(struct adma_dev *a, struct device *dev,
		     phys_addr_t phys, size_t size, int err, unsigned long attrs)
{
	atomic64_inc(&a->stats.map_errors);
	if (!(attrs & DMA_ATTR_NO_WARN))
		dev_err_ratelimited(dev, "apple_dma: map of %pa+%#zx failed: %d\n",
				    &phys, size, err);
}

/* Map one physically contiguous range; 0 or a negative errno. */
int adma_map_one(struct adma_dev *a, struct coal_buf *b, struct coal_want *w)
{
	unsigned long flags;
	int err;

	this_cpu_inc(a->pcpu->dma_calls);
	if (!adma_usable(a) || !b->dir)
		return -EINVAL;
	adma_lock_one(a, &flags);
	err = adma_map_fit(a, b, 1, w);
	adma_unlock(a, flags);
	return err;
}

/*
 * The one-buffer ops' read section (ops_table.c says why there is one):
 * sched-RCU, preemption off, inline, where preemptible RCU's read lock is a
 * call each way; on PREEMPT_RT, where our spinlocks sleep, preemptible RCU.
 * Taken here, around the op's body, so the body inlines into the op the
 * table calls: one call more per op cost a fifth of a cached pair under
 * emulation.
 */
static inline void adma_one_lock(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		rcu_read_lock();
	else
		rcu_read_lock_sched();
}

static inline void adma_one_unlock(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		rcu_read_unlock();
	else
		rcu_read_unlock_sched();
}

/* In adma_map_buf()'s read section. */
static dma_addr_t adma_map_range(struct device *dev, phys_addr_t phys,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	struct adma_dev *a = adma_get_rcu(dev);
	struct coal_buf b = { .gpa = phys, .len = size, .dir = adma_dir(dir) };
	struct coal_want w;
	int err;

	if (!a)
		return DMA_MAPPING_ERROR;
	adma_want_streaming(dev, &w, size);
	if (likely(!READ_ONCE(a->noncoherent)) && adma_fast_map(a, &b, &w)) {
		this_cpu_inc(a->pcpu->dma_calls);
		adma_trace_map(a, &b, 0);
		return b.dma;
	}
	err = adma_map_one(a, &b, &w);
	if (!err) {
		adma_trace_map(a, &b, 0);
		return b.dma;
	}
	adma_map_failed(a, dev, phys, size, err, attrs);
	return DMA_MAPPING_ERROR;
}

/* Under RCU, of either kind (fast windows are found under it). */
static __always_inline void adma_unmap_rcu(struct device *dev,
					   dma_addr_t addr, size_t size)
{
	struct adma_dev *a = adma_get_rcu(dev);
	struct coal_ubuf u = { .dma = addr, .len = size };
	unsigned long flags;
	unsigned int skipped;

	if (!a)
		return;
	adma_trace_unmap(a, addr, size);
	this_cpu_inc(a->pcpu->dma_calls);
	if (adma_fast_unmap(a, addr))
		return;
	adma_lock_one(a, &flags);
	skipped = adma_unmap_locked(a, &u, 1);
	adma_unlock(a, flags);
	if (skipped) {
		atomic64_inc(&a->stats.unmap_errors);
		dev_err_ratelimited(dev,
				    "apple_dma: unmap of %pad+%#zx: not mapped\n",
				    &addr, size);
	}
}

void adma_unmap_range(struct device *dev, dma_addr_t addr, size_t size)
{
	rcu_read_lock();
	adma_unmap_rcu(dev, addr, size);
	rcu_read_unlock();
}

/* In adma_map_buf()'s read section. */
static dma_addr_t adma_refuse_mmio(struct device *dev, phys_addr_t phys,
				   size_t size)
{
	struct adma_dev *a = adma_get_rcu(dev);

	if (a)
		atomic64_inc(&a->stats.resource_refusals);
	dev_err_ratelimited(dev,
			    "apple_dma: refusing to map MMIO %pa+%#zx: the host maps guest RAM only\n",
			    &phys, size);
	return DMA_MAPPING_ERROR;
}

/* A one-buffer op, in its read section: a map (or an MMIO refusal). */
static __always_inline dma_addr_t adma_map_buf(struct device *dev,
					       phys_addr_t phys, size_t size,
					       enum dma_data_direction dir,
					       unsigned long attrs, bool mmio)
{
	dma_addr_t r;

	adma_one_lock();
	r = mmio ? adma_refuse_mmio(dev, phys, size) :
		   adma_map_range(dev, phys, size, dir, attrs);
	adma_one_unlock();
	return r;
}

static __always_inline void adma_unmap_buf(struct device *dev,
					   dma_addr_t addr, size_t size)
{
	adma_one_lock();
	adma_unmap_rcu(dev, addr, size);
	adma_one_unlock();
}

#ifdef ADMA_HAVE_MAP_PHYS
dma_addr_t adma_map_phys(struct device *dev, phys_addr_t phys,
			 size_t size, enum dma_data_direction dir,
			 unsigned long attrs)
{
#ifdef ADMA_HAVE_ATTR_MMIO
	bool mmio = attrs & DMA_ATTR_MMIO;
#else
	bool mmio = false;
#endif

	return adma_map_buf(dev, phys, size, dir, attrs, mmio);
}

void adma_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
		     enum dma_data_direction dir, unsigned long attrs)
{
	adma_unmap_buf(dev, addr, size);
}
#else
dma_addr_t adma_map_page(struct device *dev, struct page *page,
			 unsigned long offset, size_t size,
			 enum dma_data_direction dir, unsigned long attrs)
{
	return adma_map_buf(dev, page_to_phys(page) + offset, size, dir,
			    attrs, false);
}

void adma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
		     enum dma_data_direction dir, unsigned long attrs)
{
	adma_unmap_buf(dev, addr, size);
}
#endif

#ifdef ADMA_HAVE_MAP_RESOURCE
dma_addr_t adma_map_resource(struct device *dev, phys_addr_t phys,
			     size_t size, enum dma_data_direction dir,
			     unsigned long attrs)
{
	return adma_map_buf(dev, phys, size, dir, attrs, true);
}
#endif

/*
 * Scatterlists go in chunks of max_batch entries, one doorbell each (more if
 * an answer must be remapped): interrupts are off for one chunk at a time,
 * never for a whole list, and the lock is dropped between chunks.
 */

/* Entries held back from the lock at a time when fast windows are on. */
#define ADMA_SG_PEND	16

/* Unmap pend[0, n) under the lock; returns how many were not mapped. */
static unsigned int adma_unmap_pend(struct adma_dev *a, struct coal_ubuf *pend,
				    unsigned int n)
{
	unsigned long flags;
	unsigned int skipped;

	adma_lock(a, &flags);
	skipped = adma_unmap_locked(a, pend, n);
	adma_unlock(a, flags);
	return skipped;
}

/*
 * Unmap entries [0, n) of a scatterlist that were mapped by us. With fast
 * windows, entries of theirs go without the lock and the others under it,
 * ADMA_SG_PEND at a time; without, a chunk of max_batch per hold.
 */
static void adma_unmap_sg_entries(struct adma_dev *a, struct scatterlist *sgl,
				  int n)
{
	unsigned int chunk = coal_config(a->coal)->max_batch, k, skipped = 0;
	struct coal_ubuf pend[ADMA_SG_PEND];
	struct scatterlist *sg = sgl;
	unsigned long flags;
	int done = 0;

	if (READ_ONCE(a->fast.live)) {
		for (k = 0; done < n; done++, sg = sg_next(sg)) {
			pend[k] = (struct coal_ubuf){ .dma = sg_dma_address(sg),
						      .len = sg_dma_len(sg) };
			if (adma_fast_unmap(a, pend[k].dma))
				continue;
			if (++k == ADMA_SG_PEND) {
				skipped += adma_unmap_pend(a, pend, k);
				k = 0;
			}
		}
		if (k)
			skipped += adma_unmap_pend(a, pend, k);
	}
	while (done < n) {
		adma_lock(a, &flags);
		for (k = 0; k < chunk && done < n; k++, done++) {
			a->subuf[k].dma = sg_dma_address(sg);
			a->subuf[k].len = sg_dma_len(sg);
			sg = sg_next(sg);
		}
		skipped += adma_unmap_locked(a, a->subuf, k);
		adma_unlock(a, flags);
	}
	if (skipped) {
		atomic64_add(skipped, &a->stats.unmap_errors);
		dev_err_ratelimited(&a->managed->dev,
				    "apple_dma: unmap_sg: %u entries not mapped\n",
				    skipped);
	}
}

/*
 * Every entry from a fast window, or none (those taken are given back):
 * then the list goes under the lock.
 */
static bool adma_map_sg_fast(struct adma_dev *a, struct scatterlist *sgl,
			     int nents, unsigned int cdir,
			     const struct coal_want *w)
{
	struct scatterlist *sg;
	struct coal_buf b;
	int i, j;

	if (!READ_ONCE(a->fast.live))
		return false;
	for_each_sg(sgl, sg, nents, i) {
		b = (struct coal_buf){ .gpa = sg_phys(sg), .len = sg->length,
				       .dir = cdir };
		if (!adma_fast_map(a, &b, w))
			break;
		sg_dma_address(sg) = b.dma;
		sg_dma_len(sg) = b.len;
	}
	if (i == nents)
		return true;
	for_each_sg(sgl, sg, i, j)
		adma_fast_put(a, sg_dma_address(sg), sg_dma_len(sg));
	return false;
}

/*
 * Map a scatterlist. Entries are not merged: each keeps its own device
 * address, and each is checked against the mask and segment boundary. On
 * failure every entry mapped so far is unmapped and the error is one
 * dma_map_sgtable() documents. Under RCU (ops_table.c), as the unmap.
 */
int adma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
		enum dma_data_direction dir, unsigned long attrs)
{
	struct adma_dev *a = adma_get_rcu(dev);
	unsigned int chunk, k, j, cdir = adma_dir(dir);
	struct scatterlist *sg = sgl, *first;
	struct coal_want w;
	unsigned long flags;
	int mapped = 0, err = 0;

	if (!a)
		return -EIO;
	if (nents > 0)
		this_cpu_add(a->pcpu->dma_calls, nents);
	chunk = coal_config(a->coal)->max_batch;
	if (!adma_usable(a) || !cdir || nents <= 0) {
		err = -EINVAL;
		goto fail;
	}
	adma_want_streaming(dev, &w, 0);	/* size: each entry's own */
	if (adma_map_sg_fast(a, sgl, nents, cdir, &w)) {
		adma_trace_sg(a, COAL_TRACE_MAP, sgl, nents, cdir);
		return nents;
	}
	while (mapped < nents) {
		first = sg;
		adma_lock(a, &flags);
		for (k = 0; k < chunk && mapped + k < nents; k++) {
			a->sbuf[k].gpa = sg_phys(sg);
			a->sbuf[k].len = sg->length;
			a->sbuf[k].dir = cdir;
			a->sbuf[k].flags = 0;
			sg = sg_next(sg);
		}
		err = adma_map_fit(a, a->sbuf, k, &w);
		for (j = 0; !err && j < k; j++, first = sg_next(first)) {
			sg_dma_address(first) = a->sbuf[j].dma;
			sg_dma_len(first) = a->sbuf[j].len;
		}
		adma_unlock(a, flags);
		if (err)
			break;
		mapped += k;
	}
	if (!err) {
		adma_trace_sg(a, COAL_TRACE_MAP, sgl, nents, cdir);
		return nents;
	}
	if (mapped)
		adma_unmap_sg_entries(a, sgl, mapped);
fail:
	atomic64_inc(&a->stats.map_errors);
	if (!(attrs & DMA_ATTR_NO_WARN))
		dev_err_ratelimited(dev, "apple_dma: map_sg of %d entries failed: %d\n",
				    nents, err);
	return err == -ENOMEM || err == -EINVAL ? err : -EIO;
}

void adma_unmap_sg(struct device *dev, struct scatterlist *sgl,
		   int nents, enum dma_data_direction dir,
		   unsigned long attrs)
{
	struct adma_dev *a = adma_get_rcu(dev);

	if (a) {
		adma_trace_sg(a, COAL_TRACE_UNMAP, sgl, nents, 0);
		if (nents > 0)
			this_cpu_add(a->pcpu->dma_calls, nents);
		adma_unmap_sg_entries(a, sgl, nents);
	}
}
