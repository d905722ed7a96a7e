// SPDX-License-Identifier: GPL-2.0
/*
 * bql.c - adma_hostile "bql": a DMA onto DOORBELL issued from inside
 * another device's MMIO handler must not let a second vCPU into that
 * handler. CPU 1 starts an lsi53c895a SCRIPTS program by writing DSP; QEMU
 * runs the whole script inside that register write:
 *
 *   memory move 4: 1 -> marker          (the script is running)
 *   memory move 8: block GPA -> apple-dma-pci DOORBELL, once per block
 *                  (blocks= of bigmaps= MAPs each: a wide window)
 *   memory move 4: 2 -> marker          (about to return)
 *   interrupt                           (stops the script)
 *
 * CPU 0 watches the marker in RAM; when it reads 1 it reads the lsi's
 * ISTAT1 register, which enters the lsi's MMIO handler, then the marker
 * again. While CPU 1's write holds QEMU's big lock, that read can only
 * complete after the script is over (marker 2). A read that completes
 * while the marker still says 1 entered the lsi mid-script: the doorbell
 * dropped a lock it did not take. (QEMU's re-entrancy guard then refuses
 * the read, so it returns 0 rather than ISTAT1's SRUN: srun_seen counts
 * reads that did see it.)
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "hostile.h"

/* lsi53c895a registers (BAR1) and SCRIPTS encodings, from its data manual */
#define LSI_REG_DSTAT		0x0c	/* DMA status; reading clears it */
#define LSI_REG_ISTAT1		0x15
#define LSI_ISTAT1_SRUN		0x02	/* SCRIPTS running */
#define LSI_REG_DSP		0x2c	/* writing the top byte starts */
#define LSI_MEMORY_MOVE		0xc0000000u	/* | count; source, dest */
#define LSI_INT_IF_TRUE		0x98080000u	/* interrupt, unconditional */

#define HST_UNMAP_TRIES		10000
#define HST_BQL_BLOCKS		32	/* most doorbells in one script */

/* the script and its operands, all below 4 GiB (SCRIPTS addresses are 32-bit) */
struct hst_script {
	__le32 insn[3 * (HST_BQL_BLOCKS + 2) + 2];
	__le32 one, two;
	__le64 cmd_gpa[HST_BQL_BLOCKS];
	__le32 marker;
};

struct hst_bql {
	struct hst_ctx *c;
	struct hst_script *s;
	struct hst_block maps[HST_BQL_BLOCKS], unmaps;
	void *page;			/* what the batches map */
	bool finished;
	struct completion watcher_done, ringer_done;
	/* CPU 0 */
	unsigned long beat;		/* counts the watcher's spins */
	u64 windows, reentered, srun_seen;
	/* CPU 1 */
	u32 rounds;			/* scripts run */
	u64 script_ns, elapsed_ns;	/* in the DSP writes; in all */
	u64 answered, batches, lost, map_ok, unmap_ok, stuck, unfinished;
};

static u32 hst_bus32(void *p)
{
	return lower_32_bits(virt_to_phys(p));
}

static void hst_script_build(struct hst_bql *t)
{
	struct hst_script *s = t->s;
	u32 i = 0, k;

	s->one = cpu_to_le32(1);
	s->two = cpu_to_le32(2);
	s->insn[i++] = cpu_to_le32(LSI_MEMORY_MOVE | 4);
	s->insn[i++] = cpu_to_le32(hst_bus32(&s->one));
	s->insn[i++] = cpu_to_le32(hst_bus32(&s->marker));
	for (k = 0; k < t->c->p.blocks; k++) {
		s->cmd_gpa[k] = cpu_to_le64(virt_to_phys(t->maps[k].cmd));
		s->insn[i++] = cpu_to_le32(LSI_MEMORY_MOVE | 8);
		s->insn[i++] = cpu_to_le32(hst_bus32(&s->cmd_gpa[k]));
		s->insn[i++] = cpu_to_le32((u32)t->c->doorbell);
	}
	s->insn[i++] = cpu_to_le32(LSI_MEMORY_MOVE | 4);
	s->insn[i++] = cpu_to_le32(hst_bus32(&s->two));
	s->insn[i++] = cpu_to_le32(hst_bus32(&s->marker));
	s->insn[i++] = cpu_to_le32(LSI_INT_IF_TRUE);
	/* the interrupt's vector dword follows: insn[] has room for it */
}

/*
 * No cpu_relax() in the spins: under TCG, PAUSE leaves the vCPU's
 * execution loop, which takes QEMU's big lock, so the watcher would wait
 * for the lock it is watching instead of reading the marker.
 */
static int hst_watcher_fn(void *arg)
{
	struct hst_bql *t = arg;
	void __iomem *lsi = t->c->lsi_regs;
	unsigned long spins = 0;
	u8 v;

	while (!READ_ONCE(t->finished)) {
		if (le32_to_cpu(READ_ONCE(t->s->marker)) != 1) {
			WRITE_ONCE(t->beat, ++spins);
			if (!(spins & 0xffff))
				cond_resched();
			continue;
		}
		t->windows++;
		v = readb(lsi + LSI_REG_ISTAT1);
		if (le32_to_cpu(READ_ONCE(t->s->marker)) == 1) {
			t->reentered++;
			t->srun_seen += !!(v & LSI_ISTAT1_SRUN);
		}
		while (le32_to_cpu(READ_ONCE(t->s->marker)) == 1 &&
		       !READ_ONCE(t->finished))
			;
	}
	complete(&t->watcher_done);
	return 0;
}

static void hst_unmap_all(struct hst_bql *t, struct hst_block *maps)
{
	u32 i;

	if (!hst_fill_unmap_from(&t->unmaps, maps))
		return;
	for (i = 0; i < HST_UNMAP_TRIES; i++) {
		hst_ring(t->c, &t->unmaps);
		if (hst_status(&t->unmaps) != ADMA_S_PENDING)
			break;
		t->lost++;
		hst_rearm(&t->unmaps);
	}
	if (i == HST_UNMAP_TRIES) {
		t->stuck++;
		return;
	}
	t->unmap_ok += hst_count_ok(&t->unmaps);
	t->batches++;
}

/*
 * Wait (up to 10 ms) until the watcher has spun a while on CPU 0: not in
 * an interrupt, which under TCG takes QEMU's big lock and would hold CPU 0
 * off for the whole script. Rounds do not sleep between them for the same
 * reason: a timer wake-up of CPU 1 tends to come with CPU 0's tick.
 */
static void hst_watcher_running(struct hst_bql *t)
{
	unsigned long beat = READ_ONCE(t->beat);
	u64 end = ktime_get_ns() + 10 * NSEC_PER_MSEC;

	while (READ_ONCE(t->beat) - beat < 4096 && ktime_get_ns() < end)
		cpu_relax();
}

static int hst_ringer_fn(void *arg)
{
	struct hst_bql *t = arg;
	void __iomem *lsi = t->c->lsi_regs;
	u64 t0, start = ktime_get_ns();
	u32 k;

	/*
	 * rounds= scripts at least; more (up to 32 times as many, 20 s) until
	 * CPU 0 has seen windows= of them running: its vCPU shares the host's
	 * CPUs and often does not run during a given script.
	 */
	while (t->rounds < t->c->p.rounds * 32 &&
	       ktime_get_ns() - start < 20 * NSEC_PER_SEC &&
	       (t->rounds < t->c->p.rounds ||
		READ_ONCE(t->windows) < t->c->p.windows)) {
		t->rounds++;
		for (k = 0; k < t->c->p.blocks; k++)
			hst_fill_map(&t->maps[k], t->c->p.bigmaps,
				     virt_to_phys(t->page), PAGE_SIZE);
		WRITE_ONCE(t->s->marker, 0);
		hst_watcher_running(t);
		/* writel orders the stores above before the script starts */
		t0 = ktime_get_ns();
		writel(hst_bus32(t->s->insn), lsi + LSI_REG_DSP);
		t->script_ns += ktime_get_ns() - t0;
		if (le32_to_cpu(READ_ONCE(t->s->marker)) != 2)
			t->unfinished++;
		readb(lsi + LSI_REG_DSTAT);	/* acknowledge the interrupt */
		for (k = 0; k < t->c->p.blocks; k++) {
			if (hst_status(&t->maps[k]) == ADMA_S_PENDING) {
				t->lost++;
				continue;
			}
			t->answered++;
			t->batches++;
			t->map_ok += hst_count_ok(&t->maps[k]);
			hst_unmap_all(t, &t->maps[k]);
		}
		cond_resched();
	}
	t->elapsed_ns = ktime_get_ns() - start;
	WRITE_ONCE(t->finished, true);
	complete(&t->ringer_done);
	return 0;
}

static int hst_bql_start(struct hst_bql *t)
{
	struct task_struct *w, *r;

	w = kthread_create(hst_watcher_fn, t, "hst_bql_watch");
	if (IS_ERR(w))
		return PTR_ERR(w);
	r = kthread_create(hst_ringer_fn, t, "hst_bql_ring");
	if (IS_ERR(r)) {
		WRITE_ONCE(t->finished, true);
		kthread_bind(w, 0);
		wake_up_process(w);
		wait_for_completion(&t->watcher_done);
		return PTR_ERR(r);
	}
	kthread_bind(w, 0);
	kthread_bind(r, 1);
	wake_up_process(w);
	wake_up_process(r);
	wait_for_completion(&t->ringer_done);
	wait_for_completion(&t->watcher_done);
	return 0;
}

int hst_run_bql(struct hst_ctx *c)
{
	struct hst_bql *t;
	u32 live, k;
	int err;
	bool pass;

	if (c->p.blocks > HST_BQL_BLOCKS ||
	    c->p.blocks * c->p.bigmaps > readl(c->regs + ADMA_REG_LIMIT_MAPS)) {
		snprintf(c->result, sizeof(c->result),
			 "test=bql status=fail why=blocks_above_%u_or_limit_maps",
			 HST_BQL_BLOCKS);
		return -EINVAL;
	}
	if (!c->lsi_regs || num_online_cpus() < 2 || !cpu_online(1) ||
	    upper_32_bits(c->doorbell)) {
		snprintf(c->result, sizeof(c->result),
			 "test=bql status=fail why=%s", !c->lsi_regs ? "no_lsi53c895a" :
			 upper_32_bits(c->doorbell) ? "doorbell_above_4g" :
			 "needs_cpus_0_and_1");
		return -EINVAL;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->c = c;
	init_completion(&t->watcher_done);
	init_completion(&t->ringer_done);
	t->s = (void *)get_zeroed_page(GFP_KERNEL | GFP_DMA32);
	t->page = (void *)get_zeroed_page(GFP_KERNEL);
	err = t->s && t->page ? 0 : -ENOMEM;
	for (k = 0; k < c->p.blocks && !err; k++)
		err = hst_block_alloc(&t->maps[k], c->p.bigmaps);
	if (!err)
		err = hst_block_alloc(&t->unmaps, c->p.bigmaps);
	if (!err) {
		hst_script_build(t);
		err = hst_bql_start(t);
	}
	live = readl(c->regs + ADMA_REG_LIVE_MAPS);
	pass = !err && t->windows && !t->reentered && !t->lost && !t->stuck &&
	       !t->unfinished && !live && t->map_ok &&
	       t->map_ok == t->unmap_ok &&
	       t->windows >= c->p.windows &&
	       t->answered == (u64)t->rounds * c->p.blocks;
	snprintf(c->result, sizeof(c->result),
		 "test=bql status=%s rounds=%u blocks=%u bigmaps=%u windows=%llu reentered=%llu srun_seen=%llu answered=%llu batches=%llu lost=%llu map_ok=%llu unmap_ok=%llu stuck=%llu unfinished=%llu live_end=%u script_ms=%llu elapsed_ms=%llu err=%d",
		 pass ? "pass" : "fail", t->rounds, c->p.blocks, c->p.bigmaps,
		 t->windows,
		 t->reentered, t->srun_seen, t->answered, t->batches, t->lost, t->map_ok,
		 t->unmap_ok, t->stuck, t->unfinished, live,
		 div_u64(t->script_ns, NSEC_PER_MSEC),
		 div_u64(t->elapsed_ns, NSEC_PER_MSEC), err);
	for (k = 0; k < HST_BQL_BLOCKS; k++)
		hst_block_free(&t->maps[k]);
	hst_block_free(&t->unmaps);
	free_page((unsigned long)t->page);
	free_page((unsigned long)t->s);
	kfree(t);
	return pass ? 0 : -EIO;
}
