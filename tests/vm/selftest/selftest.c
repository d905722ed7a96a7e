// SPDX-License-Identifier: GPL-2.0
/*
 * selftest.c - adma_selftest: the DMA API's promises on apple_dma's managed
 * device, from every context a driver maps in. Tests only.
 *
 * A PCI driver without IDs: tests/vm/init's selftest step unbinds the
 * managed device's driver and names this one in its driver_override; the
 * tests run in probe. Each test maps and
 * unmaps on that device and checks every answer: never 0, within the mask
 * that applies (streaming or coherent), not across the segment boundary,
 * coherent memory aligned to its order. Ends with one line for the host:
 *   @@RESULT name=selftest phase=total status=pass|fail checks=N failed=N ...
 * and one "@@FAIL selftest ..." line per failed check (the first few).
 *
 * tests= picks among:
 *   ctx     streaming maps, map_sg and dma_pool in process, IRQs-off, softirq
 *           (tasklet, timer) and hardirq (hrtimer) context; a kprobe on
 *           walk_iomem_res_desc() counts resource_lock taken from there
 *   mask    dma_supported / get_required_mask know the aperture (iova_end=),
 *           coherent_dma_mask and cluster hits are checked, NO_WARN is quiet
 *   align   dma_alloc_coherent aligned to its order, dma_pool blocks
 *   irqoff  interrupts come through while a long scatterlist is mapped
 *   bound   answers never cross the 4 GiB segment boundary (an aperture
 *           that straddles it: the scenario's aperture-base/size)
 *   sgfail  multi-chunk scatterlists under the host's fail-ppm: a failed
 *           map_sg leaves nothing mapped (the host's stats say so after)
 */
#include <linux/delay.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/timer.h>

#include "selftest.h"

static char *tests = "ctx,mask,align,irqoff";
module_param(tests, charp, 0444);
MODULE_PARM_DESC(tests, "Tests to run: ctx,mask,align,irqoff,bound,sgfail");

static unsigned long long iova_end;
module_param(iova_end, ullong, 0444);
MODULE_PARM_DESC(iova_end, "One past the host's highest IOVA (0: unknown, skip those checks)");

static unsigned int rounds = 64;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Iterations per context / per test");

struct st_state st;

void st_fail(const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	atomic_inc(&st.failed);
	if (atomic_inc_return(&st.logged) > 8)
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_warn("@@FAIL selftest %pV\n", &vaf);
	va_end(args);
}

/* One answer of `size` bytes at dma, under mask, aligned to align. */
bool st_check(const char *what, dma_addr_t dma, u64 size, u64 mask, u64 align)
{
	u64 bound = dma_get_seg_boundary(st.dev), last = dma + size - 1;

	atomic_inc(&st.checks);
	if (dma == DMA_MAPPING_ERROR) {
		st_fail("%s: map of %#llx bytes failed", what, size);
		return false;
	}
	if (!dma || last > mask || (align && (dma & (align - 1))) ||
	    (size - 1 <= bound && ((dma ^ last) & ~bound))) {
		st_fail("%s: answer %pad+%#llx breaks mask %#llx, align %#llx or boundary %#llx",
			what, &dma, size, mask, align, bound);
		return false;
	}
	return true;
}

bool st_want(const char *test)
{
	return strstr(tests, test);
}

/* ---- ctx: the same work from every context */

#define ST_PAGES	16

static struct page *st_pages[ST_PAGES];
static struct dma_pool *st_pool;

/* Map, check and unmap: pages, a scatterlist, pool blocks. Any context. */
static void st_work(const char *ctx)
{
	u64 mask = dma_get_mask(st.dev);
	struct scatterlist sgl[ST_PAGES];
	dma_addr_t dma[ST_PAGES];
	void *blk[4];
	dma_addr_t bdma[4];
	int i, n;

	for (i = 0; i < ST_PAGES; i++) {
		dma[i] = dma_map_page(st.dev, st_pages[i], 0, PAGE_SIZE,
				      DMA_BIDIRECTIONAL);
		if (!st_check(ctx, dma[i], PAGE_SIZE, mask, PAGE_SIZE))
			dma[i] = DMA_MAPPING_ERROR;
	}
	for (i = 0; i < ST_PAGES; i++)
		if (dma[i] != DMA_MAPPING_ERROR)
			dma_unmap_page(st.dev, dma[i], PAGE_SIZE,
				       DMA_BIDIRECTIONAL);

	sg_init_table(sgl, ST_PAGES);
	for (i = 0; i < ST_PAGES; i++)
		sg_set_page(&sgl[i], st_pages[i], PAGE_SIZE / 2, i * 64);
	n = dma_map_sg(st.dev, sgl, ST_PAGES, DMA_TO_DEVICE);
	if (n <= 0) {
		st_fail("%s: map_sg failed", ctx);
	} else {
		for (i = 0; i < n; i++)
			st_check(ctx, sg_dma_address(&sgl[i]),
				 sg_dma_len(&sgl[i]), mask, 64);
		dma_unmap_sg(st.dev, sgl, ST_PAGES, DMA_TO_DEVICE);
	}

	for (i = 0; i < 4; i++) {
		blk[i] = dma_pool_alloc(st_pool, GFP_ATOMIC, &bdma[i]);
		if (!blk[i])
			st_fail("%s: dma_pool_alloc failed", ctx);
		else
			st_check(ctx, bdma[i], 512, st.dev->coherent_dma_mask,
				 512);
	}
	for (i = 0; i < 4; i++)
		if (blk[i])
			dma_pool_free(st_pool, blk[i], bdma[i]);
}

static atomic_t st_walks_atomic;
static bool st_atomic_phase;

/* Only the atomic contexts map while st_atomic_phase is set. */
static int st_walk_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (READ_ONCE(st_atomic_phase))
		atomic_inc(&st_walks_atomic);
	return 0;
}

static struct kprobe st_walk_kp = {
	.symbol_name = "walk_iomem_res_desc",
	.pre_handler = st_walk_pre,
};

static struct hrtimer st_hrt;
static struct timer_list st_timer;
static struct tasklet_struct st_tasklet;
static atomic_t st_left;
static struct completion st_done;

static enum hrtimer_restart st_hrt_fn(struct hrtimer *t)
{
	st_work("hardirq");
	if (atomic_dec_and_test(&st_left)) {
		complete(&st_done);
		return HRTIMER_NORESTART;
	}
	hrtimer_forward_now(t, ns_to_ktime(200 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void st_tasklet_fn(unsigned long data)
{
	st_work("softirq-tasklet");
	if (atomic_dec_and_test(&st_left))
		complete(&st_done);
	else
		tasklet_schedule(&st_tasklet);
}

static void st_timer_fn(struct timer_list *t)
{
	st_work("softirq-timer");
	if (atomic_dec_and_test(&st_left))
		complete(&st_done);
	else
		mod_timer(&st_timer, jiffies + 1);
}

static void st_wait(const char *ctx)
{
	if (!wait_for_completion_timeout(&st_done, 60 * HZ))
		st_fail("%s: rounds did not finish in 60 s", ctx);
}

static void st_ctx(void)
{
	unsigned long flags;
	unsigned int i;
	bool kp;

	st_pool = dma_pool_create("adma_selftest", st.dev, 512, 512, 4096);
	if (!st_pool) {
		st_fail("ctx: dma_pool_create failed");
		return;
	}
	kp = !register_kprobe(&st_walk_kp);
	for (i = 0; i < rounds; i++)
		st_work("process");

	WRITE_ONCE(st_atomic_phase, true);
	for (i = 0; i < rounds; i++) {
		local_irq_save(flags);
		st_work("irqs-off");
		local_irq_restore(flags);
	}

	init_completion(&st_done);
	atomic_set(&st_left, rounds);
	tasklet_init(&st_tasklet, st_tasklet_fn, 0);
	tasklet_schedule(&st_tasklet);
	st_wait("softirq-tasklet");
	tasklet_kill(&st_tasklet);

	reinit_completion(&st_done);
	atomic_set(&st_left, rounds);
	timer_setup(&st_timer, st_timer_fn, 0);
	mod_timer(&st_timer, jiffies + 1);
	st_wait("softirq-timer");
	del_timer_sync(&st_timer);

	reinit_completion(&st_done);
	atomic_set(&st_left, rounds);
	hrtimer_init(&st_hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	st_hrt.function = st_hrt_fn;
	hrtimer_start(&st_hrt, ns_to_ktime(200 * NSEC_PER_USEC), HRTIMER_MODE_REL_HARD);
	st_wait("hardirq");
	hrtimer_cancel(&st_hrt);
	WRITE_ONCE(st_atomic_phase, false);

	if (kp) {
		unregister_kprobe(&st_walk_kp);
		if (atomic_read(&st_walks_atomic))
			st_fail("ctx: resource_lock taken %d times in atomic context",
				atomic_read(&st_walks_atomic));
	} else {
		pr_info("adma_selftest: no kprobe on walk_iomem_res_desc: not counted\n");
	}
	atomic_inc(&st.checks);
	dma_pool_destroy(st_pool);
}

/* ---- main */

/*
 * The tests run in probe: bound as the managed device's driver (through
 * driver_override, set by tests/vm/init), the device has apple_dma's ops as
 * any driver's would (arm64 6.1 clears them on unbind; apple_dma puts them
 * back when a driver binds), and its masks are ours to change.
 */
static int st_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	unsigned int i;
	ktime_t t0 = ktime_get();

	st.dev = &pdev->dev;
	if (!get_dma_ops(st.dev))
		st_fail("%s has no DMA ops of its own: apple_dma does not manage it",
			pci_name(pdev));
	else if (dma_set_mask_and_coherent(st.dev, DMA_BIT_MASK(64)))
		st_fail("64-bit masks refused");
	for (i = 0; i < ST_PAGES; i++) {
		/* pages of different clusters: every map a cluster miss */
		st_pages[i] = alloc_pages(GFP_KERNEL, 6);
		if (!st_pages[i])
			goto out;
	}
	if (!atomic_read(&st.failed)) {
		if (st_want("bound"))	/* first: it steers the host */
			st_bound();
		if (st_want("ctx"))
			st_ctx();
		if (st_want("mask"))
			st_masks(iova_end);
		if (st_want("align"))
			st_align();
		if (st_want("irqoff"))
			st_irqoff(rounds);
		if (st_want("sgfail"))
			st_sgfail(rounds);
	}
out:
	for (i = 0; i < ST_PAGES; i++)
		if (st_pages[i])
			__free_pages(st_pages[i], 6);
	pr_warn("@@RESULT name=selftest phase=total status=%s checks=%d failed=%d sgfail_failures=%d irqoff_gap_us=%lld irqoff_total_us=%lld irqoff_ticks=%u irqoff_sections=%u bound_at=%llu elapsed_ms=%lld dev=%s\n",
		atomic_read(&st.failed) || i < ST_PAGES ? "fail" : "pass",
		atomic_read(&st.checks), atomic_read(&st.failed),
		st.sg_failures, st.irqoff_gap_us,
		st.irqoff_total_us, st.irqoff_ticks, st.irqoff_sections,
		st.bound_checked,
		ktime_ms_delta(ktime_get(), t0),
		pci_name(pdev));
	return 0;
}

static void st_remove(struct pci_dev *pdev)
{
}

/* No IDs: binds only where driver_override names it. */
static struct pci_driver st_driver = {
	.name = "adma_selftest",
	.probe = st_probe,
	.remove = st_remove,
};
module_pci_driver(st_driver);

MODULE_DESCRIPTION("apple_dma self-test: the DMA API's promises from every context (tests only)");
MODULE_LICENSE("GPL");
