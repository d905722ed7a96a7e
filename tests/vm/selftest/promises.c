// SPDX-License-Identifier: GPL-2.0
/*
 * promises.c - the self-test's checks of masks, alignment, segment
 * boundary, interrupt latency and scatterlist rollback (see selftest.c).
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/hrtimer.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "selftest.h"

/* ---- mask */

static atomic_t st_printks;

static int st_printk_pre(struct kprobe *p, struct pt_regs *regs)
{
	atomic_inc(&st_printks);
	return 0;
}

static struct kprobe st_printk_kp = {
	.symbol_name = "vprintk_emit",
	.pre_handler = st_printk_pre,
};

/* A coherent allocation under a 32-bit coherent mask: must fail. */
static void st_coherent_narrow(unsigned long attrs, bool kp)
{
	struct device *dev = st.dev;
	dma_addr_t h;
	void *cpu;
	int before = atomic_read(&st_printks);

	cpu = dma_alloc_attrs(dev, PAGE_SIZE, &h, GFP_KERNEL, attrs);
	atomic_inc(&st.checks);
	if (cpu) {
		st_fail("mask: coherent %pad handed out under a 32-bit coherent_dma_mask",
			&h);
		dma_free_attrs(dev, PAGE_SIZE, cpu, h, attrs);
		return;
	}
	if (!kp)
		return;
	atomic_inc(&st.checks);
	if ((attrs & DMA_ATTR_NO_WARN) && atomic_read(&st_printks) != before)
		st_fail("mask: %d kernel messages for a DMA_ATTR_NO_WARN failure",
			atomic_read(&st_printks) - before);
	if (!(attrs & DMA_ATTR_NO_WARN) && atomic_read(&st_printks) == before)
		st_fail("mask: a failed coherent allocation said nothing");
}

void st_masks(u64 iova_end)
{
	struct device *dev = st.dev;
	struct page *p = alloc_pages(GFP_KERNEL, 6);
	dma_addr_t d0, d;
	bool kp;

	if (!p) {
		st_fail("mask: no memory");
		return;
	}
	if (iova_end > 1) {
		u64 want = DMA_BIT_MASK(fls64(iova_end - 1));

		atomic_inc(&st.checks);
		if (dma_get_required_mask(dev) != want)
			st_fail("mask: get_required_mask %#llx, the aperture needs %#llx",
				dma_get_required_mask(dev), want);
		atomic_inc(&st.checks);
		if (iova_end - 1 > DMA_BIT_MASK(32) &&
		    !dma_set_mask(dev, DMA_BIT_MASK(32)))
			st_fail("mask: a 32-bit mask accepted, IOVAs reach %#llx",
				iova_end - 1);
		dma_set_mask(dev, DMA_BIT_MASK(64));
	}

	/* a cluster, then a hit in it under a narrower streaming mask */
	d0 = dma_map_page(dev, p, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
	if (!st_check("mask", d0, PAGE_SIZE, DMA_BIT_MASK(64), PAGE_SIZE))
		goto out;
	if (d0 <= DMA_BIT_MASK(32)) {
		pr_info("adma_selftest: IOVAs below 4 GiB: narrow-mask checks skipped\n");
		goto unmap;
	}
	*dev->dma_mask = DMA_BIT_MASK(32);	/* as a driver may, unchecked */
	d = dma_map_page_attrs(dev, p, PAGE_SIZE, PAGE_SIZE, DMA_BIDIRECTIONAL,
			       DMA_ATTR_NO_WARN);
	*dev->dma_mask = DMA_BIT_MASK(64);
	atomic_inc(&st.checks);
	if (d != DMA_MAPPING_ERROR) {
		st_fail("mask: cluster hit %pad handed out under a 32-bit streaming mask",
			&d);
		dma_unmap_page(dev, d, PAGE_SIZE, DMA_BIDIRECTIONAL);
	}

	kp = !register_kprobe(&st_printk_kp);
	if (!kp)
		pr_info("adma_selftest: no kprobe on vprintk_emit: NO_WARN not checked\n");
	dev->coherent_dma_mask = DMA_BIT_MASK(32);
	st_coherent_narrow(DMA_ATTR_NO_WARN, kp);
	st_coherent_narrow(0, kp);
	dev->coherent_dma_mask = DMA_BIT_MASK(64);
	if (kp)
		unregister_kprobe(&st_printk_kp);
unmap:
	dma_unmap_page(dev, d0, PAGE_SIZE, DMA_BIDIRECTIONAL);
out:
	__free_pages(p, 6);
}

/* ---- align */

static const size_t st_sizes[] = {
	SZ_4K, SZ_8K, 3 * SZ_4K, SZ_32K, SZ_64K, 96 * SZ_1K, SZ_128K,
	SZ_256K, SZ_1M,
};

void st_align(void)
{
	struct device *dev = st.dev;
	struct page *fill = alloc_pages(GFP_KERNEL, 8);	/* 1 MiB */
	struct dma_pool *pool;
	unsigned int i, rep;

	if (!fill) {
		st_fail("align: no memory");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(st_sizes); i++) {
		for (rep = 0; rep < 4; rep++) {
			size_t size = st_sizes[i];
			/* a private mapping of 144..192 KiB moves the host on */
			size_t flen = SZ_128K + (rep + 1) * SZ_16K;
			dma_addr_t f, h;
			void *cpu;

			f = dma_map_page(dev, fill, 0, flen, DMA_TO_DEVICE);
			cpu = dma_alloc_coherent(dev, size, &h, GFP_KERNEL);
			if (!cpu) {
				st_fail("align: dma_alloc_coherent(%zu) failed", size);
			} else {
				st_check("align", h, size, dev->coherent_dma_mask,
					 PAGE_SIZE << get_order(size));
				memset(cpu, 0xa5, size);
				dma_free_coherent(dev, size, cpu, h);
			}
			if (!dma_mapping_error(dev, f))
				dma_unmap_page(dev, f, flen, DMA_TO_DEVICE);
		}
	}
	__free_pages(fill, 8);

	/* dma_pool: blocks aligned as asked, none across its boundary */
	pool = dma_pool_create("adma_st32k", dev, SZ_32K, SZ_32K, 0);
	if (!pool) {
		st_fail("align: dma_pool_create failed");
		return;
	}
	for (i = 0; i < 8; i++) {
		dma_addr_t h;
		void *b = dma_pool_alloc(pool, GFP_KERNEL, &h);

		if (!b) {
			st_fail("align: dma_pool_alloc failed");
			continue;
		}
		st_check("pool32k", h, SZ_32K, dev->coherent_dma_mask, SZ_32K);
		dma_pool_free(pool, b, h);
	}
	dma_pool_destroy(pool);
}

/* ---- irqoff: timer interrupts keep coming while a long list maps */

static struct hrtimer st_tick;
static ktime_t st_last, st_from, st_to;
static s64 st_gap;
static bool st_in_map;		/* map_sg running: ticks counted */
static unsigned int st_ticks;

static enum hrtimer_restart st_tick_fn(struct hrtimer *t)
{
	ktime_t now = ktime_get();

	if (READ_ONCE(st_in_map))
		st_ticks++;
	if (ktime_after(now, st_from) && ktime_before(now, st_to))
		st_gap = max(st_gap, ktime_us_delta(now, st_last));
	st_last = now;
	hrtimer_forward_now(t, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

#define ST_LONG_SG	2048

/*
 * Interrupts-off sections of apple_dma during our map_sg: its
 * spin_unlock_irqrestore() calls, counted on this CPU (a kprobe: the caller
 * is the return address at the function's entry, named by kallsyms).
 */
static int st_cpu = -1;
static unsigned int st_unlocks;

static int st_unlock_pre(struct kprobe *p, struct pt_regs *regs)
{
	unsigned long ret;
	char sym[KSYM_SYMBOL_LEN];

	if (!READ_ONCE(st_in_map) || smp_processor_id() != READ_ONCE(st_cpu))
		return 0;
#if defined(CONFIG_X86)
	ret = *(unsigned long *)regs->sp;
#elif defined(CONFIG_ARM64)
	ret = regs->regs[30];
#else
	return 0;
#endif
	snprintf(sym, sizeof(sym), "%pS", (void *)ret);
	if (strstr(sym, "[apple_dma]"))
		st_unlocks++;
	return 0;
}

static struct kprobe st_unlock_kp = {
	.symbol_name = "_raw_spin_unlock_irqrestore",
	.pre_handler = st_unlock_pre,
};

/*
 * One long map_sg under a 50 us tick on this CPU; returns what map_sg
 * returned, with apple_dma's interrupts-off sections and the ticks that ran
 * while it did, the longest silence and the whole time.
 */
static int st_irqoff_once(struct sg_table *sgt, unsigned int *sections,
			  unsigned int *ticks, s64 *gap, s64 *total)
{
	ktime_t t0, t1;
	int n;

	hrtimer_init(&st_tick, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	st_tick.function = st_tick_fn;
	migrate_disable();	/* the pinned timer ticks on our CPU */
	st_from = ktime_set(KTIME_SEC_MAX, 0);
	st_to = st_from;
	st_gap = 0;
	st_last = ktime_get();
	hrtimer_start(&st_tick, ns_to_ktime(50 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	usleep_range(500, 600);
	t0 = ktime_get();
	st_from = t0;
	st_to = ktime_add_us(t0, 3600ll * USEC_PER_SEC);
	st_ticks = 0;
	st_unlocks = 0;
	WRITE_ONCE(st_cpu, raw_smp_processor_id());
	WRITE_ONCE(st_in_map, true);
	n = dma_map_sg(st.dev, sgt->sgl, ST_LONG_SG, DMA_TO_DEVICE);
	WRITE_ONCE(st_in_map, false);
	*ticks = st_ticks;
	*sections = st_unlocks;
	t1 = ktime_get();
	usleep_range(500, 600);	/* the tick that comes first after it */
	st_to = ktime_get();
	hrtimer_cancel(&st_tick);
	migrate_enable();
	*gap = st_gap;
	*total = ktime_us_delta(t1, t0);
	return n;
}

/*
 * A long scatterlist (2048 entries: 2 chunks at the largest batch a device
 * may offer, 8 at the default 256) must not keep the lock, and so
 * interrupts, off from the first doorbell to the last: apple_dma must drop
 * it between chunks. Counted as its unlocks, a fact; the timer ticks that
 * came through and the longest silence are reported, not judged (TCG
 * delivers an interrupt pending over a short interrupts-on window late).
 */
void st_irqoff(unsigned int rounds)
{
	struct device *dev = st.dev;
	unsigned int ticks = 0, sections = 0;
	struct sg_table sgt;
	struct scatterlist *sg;
	s64 gap, total;
	int i, n;

	if (sg_alloc_table(&sgt, ST_LONG_SG, GFP_KERNEL)) {
		st_fail("irqoff: no memory");
		return;
	}
	for_each_sg(sgt.sgl, sg, ST_LONG_SG, i) {
		struct page *p = alloc_page(GFP_KERNEL);

		if (!p)
			goto out;
		sg_set_page(sg, p, PAGE_SIZE, 0);
	}
	if (register_kprobe(&st_unlock_kp)) {
		/* arm64 keeps kprobes out of the lock functions */
		pr_warn("adma_selftest: irqoff: no kprobe on _raw_spin_unlock_irqrestore here: skipped\n");
		goto out;
	}
	n = st_irqoff_once(&sgt, &sections, &ticks, &gap, &total);
	unregister_kprobe(&st_unlock_kp);
	st.irqoff_gap_us = gap;
	st.irqoff_total_us = total;
	st.irqoff_ticks = ticks;
	st.irqoff_sections = sections;
	if (n <= 0) {
		st_fail("irqoff: map_sg of %d entries failed", ST_LONG_SG);
		goto out;
	}
	for_each_sg(sgt.sgl, sg, n, i)
		st_check("irqoff", sg_dma_address(sg), sg_dma_len(sg),
			 dma_get_mask(dev), PAGE_SIZE);
	dma_unmap_sg(dev, sgt.sgl, ST_LONG_SG, DMA_TO_DEVICE);
	atomic_inc(&st.checks);
	if (sections < 2)
		st_fail("irqoff: map_sg of %d entries in %u interrupts-off section(s)",
			ST_LONG_SG, sections);
out:
	for_each_sg(sgt.sgl, sg, ST_LONG_SG, i)
		if (sg_page(sg))
			__free_page(sg_page(sg));
	sg_free_table(&sgt);
}

/* ---- bound: an aperture that straddles 4 GiB */

#define ST_MAX_FILL	128

void st_bound(void)
{
	struct device *dev = st.dev;
	struct page *big = alloc_pages(GFP_KERNEL, 10);	/* 4 MiB */
	static dma_addr_t fill[ST_MAX_FILL];
	static size_t flen[ST_MAX_FILL];
	dma_addr_t d;
	unsigned int n = 0;
	u64 end = 0, four = SZ_4G;

	if (!big) {
		st_fail("bound: no memory");
		return;
	}
	/* private fillers until the host's next IOVA is just below 4 GiB */
	while (n < ST_MAX_FILL) {
		size_t len = end + SZ_8M < four ? SZ_4M : 144 * SZ_1K;

		if (end && end >= four - 288 * SZ_1K)
			break;
		d = dma_map_page(dev, big, 0, len, DMA_TO_DEVICE);
		if (dma_mapping_error(dev, d)) {
			pr_warn("adma_selftest: bound: no room after %u fillers: skipped\n",
				n);
			goto out;
		}
		fill[n] = d;
		flen[n++] = len;
		/* above 4 GiB: fill on until the host wraps around */
		end = d + len < four ? d + len : 0;
	}
	if (n == ST_MAX_FILL) {
		pr_warn("adma_selftest: bound: host IOVAs do not approach 4 GiB: skipped\n");
		goto out;
	}
	/* 512 KiB, private: at the next IOVA it would cross 4 GiB */
	d = dma_map_page(dev, big, 0, SZ_512K, DMA_TO_DEVICE);
	st_check("bound", d, SZ_512K, dma_get_mask(dev), PAGE_SIZE);
	st.bound_checked = end;
	if (!dma_mapping_error(dev, d))
		dma_unmap_page(dev, d, SZ_512K, DMA_TO_DEVICE);
out:
	while (n--)
		dma_unmap_page(dev, fill[n], flen[n], DMA_TO_DEVICE);
	__free_pages(big, 10);
}

/* ---- sgfail: multi-chunk lists while the host fails maps at random */

#define ST_SG_ENTS	1024

void st_sgfail(unsigned int rounds)
{
	struct device *dev = st.dev;
	struct page *blk = alloc_pages(GFP_KERNEL, 10);	/* 1024 pages */
	struct sg_table sgt;
	struct scatterlist *sg;
	unsigned int r;
	int i, n;

	if (!blk || sg_alloc_table(&sgt, ST_SG_ENTS, GFP_KERNEL)) {
		st_fail("sgfail: no memory");
		if (blk)
			__free_pages(blk, 10);
		return;
	}
	for (r = 0; r < rounds; r++) {
		for_each_sg(sgt.sgl, sg, ST_SG_ENTS, i)
			sg_set_page(sg, blk + i, PAGE_SIZE, 0);
		n = dma_map_sg_attrs(dev, sgt.sgl, ST_SG_ENTS, DMA_TO_DEVICE,
				     DMA_ATTR_NO_WARN);
		if (n <= 0) {
			st.sg_failures++;
			continue;
		}
		for_each_sg(sgt.sgl, sg, n, i)
			st_check("sgfail", sg_dma_address(sg), sg_dma_len(sg),
				 dma_get_mask(dev), PAGE_SIZE);
		dma_unmap_sg(dev, sgt.sgl, ST_SG_ENTS, DMA_TO_DEVICE);
	}
	sg_free_table(&sgt);
	__free_pages(blk, 10);
}
