// SPDX-License-Identifier: GPL-2.0
/*
 * race.c - adma_hostile "race": two kthreads, bound to CPU 0 and CPU 1,
 * each with its own command blocks and its own page to map, ring DOORBELL
 * at the same time with MAP batches and the UNMAP batches that undo them,
 * and read registers in between. Every doorbell must be answered (a block
 * left PENDING is a doorbell the device lost), every register read must
 * return what the register holds, and no mapping may be left at the end.
 * An UNMAP batch left PENDING is resent; with lossy=1 (apple-dma-pci's
 * drop-ppm) lost doorbells are expected and only the resending is tested.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "hostile.h"

#define HST_UNMAP_TRIES	10000	/* resends of an UNMAP batch left PENDING */

struct hst_racer {
	struct hst_ctx *c;
	struct hst_block maps, unmaps;
	void *page;			/* what this thread maps */
	unsigned long deadline;
	struct completion done;
	u64 rung, answered, lost, bad_reads, map_ok, map_refused, unmap_ok;
	u64 stuck;			/* UNMAP batches never answered */
};

static bool hst_answered(struct hst_racer *r, struct hst_block *b)
{
	r->rung++;
	hst_ring(r->c, b);
	if (hst_status(b) == ADMA_S_PENDING) {
		r->lost++;
		return false;
	}
	r->answered++;
	return true;
}

static void hst_read_regs(struct hst_racer *r)
{
	if (readl(r->c->regs + ADMA_REG_MAGIC) != ADMA_MAGIC_VALUE)
		r->bad_reads++;
	if (readl(r->c->regs + ADMA_REG_VERSION) != ADMA_VERSION)
		r->bad_reads++;
}

static int hst_racer_fn(void *arg)
{
	struct hst_racer *r = arg;
	u32 n = r->c->p.maps, ok, i;

	while (time_before(jiffies, r->deadline)) {
		hst_fill_map(&r->maps, n, virt_to_phys(r->page), PAGE_SIZE);
		hst_read_regs(r);
		/* a lost MAP batch reached nothing: nothing to undo */
		if (!hst_answered(r, &r->maps))
			continue;
		ok = hst_count_ok(&r->maps);
		r->map_ok += ok;
		r->map_refused += n - ok;
		if (!hst_fill_unmap_from(&r->unmaps, &r->maps))
			continue;
		hst_read_regs(r);
		for (i = 0; i < HST_UNMAP_TRIES; i++) {
			if (hst_answered(r, &r->unmaps))
				break;
			hst_rearm(&r->unmaps);
		}
		if (i == HST_UNMAP_TRIES)
			r->stuck++;
		else
			r->unmap_ok += hst_count_ok(&r->unmaps);
		cond_resched();
	}
	complete(&r->done);
	return 0;
}

static void hst_racer_free(struct hst_racer *r)
{
	hst_block_free(&r->maps);
	hst_block_free(&r->unmaps);
	free_page((unsigned long)r->page);
}

static int hst_racer_init(struct hst_racer *r, struct hst_ctx *c)
{
	r->c = c;
	init_completion(&r->done);
	r->page = (void *)get_zeroed_page(GFP_KERNEL);
	if (!r->page || hst_block_alloc(&r->maps, c->p.maps) ||
	    hst_block_alloc(&r->unmaps, c->p.maps)) {
		hst_racer_free(r);
		return -ENOMEM;
	}
	return 0;
}

int hst_run_race(struct hst_ctx *c)
{
	struct hst_racer *r;
	struct task_struct *t[2];
	u64 sum[8] = { 0 };
	u32 live;
	int cpu, err = 0;
	bool pass;

	if (num_online_cpus() < 2 || !cpu_online(0) || !cpu_online(1)) {
		snprintf(c->result, sizeof(c->result),
			 "test=race status=fail why=needs_cpus_0_and_1");
		return -EINVAL;
	}
	r = kcalloc(2, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	for (cpu = 0; cpu < 2 && !err; cpu++)
		err = hst_racer_init(&r[cpu], c);
	if (err) {
		if (cpu == 2)
			hst_racer_free(&r[0]);
		kfree(r);
		return err;
	}
	for (cpu = 0; cpu < 2; cpu++) {
		r[cpu].deadline = jiffies + msecs_to_jiffies(c->p.ms);
		t[cpu] = kthread_create(hst_racer_fn, &r[cpu], "hst_race/%d", cpu);
		if (IS_ERR(t[cpu])) {
			err = PTR_ERR(t[cpu]);
			complete(&r[cpu].done);
			continue;
		}
		kthread_bind(t[cpu], cpu);
	}
	for (cpu = 0; cpu < 2; cpu++)
		if (!IS_ERR(t[cpu]))
			wake_up_process(t[cpu]);
	for (cpu = 0; cpu < 2; cpu++) {
		wait_for_completion(&r[cpu].done);
		sum[0] += r[cpu].rung;
		sum[1] += r[cpu].answered;
		sum[2] += r[cpu].lost;
		sum[3] += r[cpu].bad_reads;
		sum[4] += r[cpu].map_ok;
		sum[5] += r[cpu].map_refused;
		sum[6] += r[cpu].unmap_ok;
		sum[7] += r[cpu].stuck;
	}
	live = readl(c->regs + ADMA_REG_LIVE_MAPS);
	/* lossy: the host drops doorbells on purpose; resends must cope */
	pass = !err && (!sum[2] || c->p.lossy) && !sum[3] && !sum[7] &&
	       !live && sum[4] &&
	       sum[4] == sum[6] && r[0].answered && r[1].answered;
	snprintf(c->result, sizeof(c->result),
		 "test=race status=%s lossy=%u ms=%u maps=%u rung=%llu answered=%llu lost=%llu bad_reads=%llu map_ok=%llu map_refused=%llu unmap_ok=%llu stuck=%llu live_end=%u cpu0_answered=%llu cpu1_answered=%llu err=%d",
		 pass ? "pass" : "fail", c->p.lossy, c->p.ms, c->p.maps, sum[0], sum[1],
		 sum[2], sum[3], sum[4], sum[5], sum[6], sum[7], live,
		 r[0].answered, r[1].answered, err);
	for (cpu = 0; cpu < 2; cpu++)
		hst_racer_free(&r[cpu]);
	kfree(r);
	return pass ? 0 : -EIO;
}
