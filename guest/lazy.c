// SPDX-License-Identifier: GPL-2.0
/*
 * lazy.c - the coalescer's lock, deferred unmaps, the flush timer, trimming.
 *
 * Two locks, always taken in this order: a->lock guards the coalescer, and
 * a->chan_lock the doorbell channel (chan.c). The coalescer hands every
 * unmap it sends to adma_host_unmap(), which only queues it (a->outq); the
 * CPU that drops a->lock then rings the queue under chan_lock alone, so the
 * other CPUs map, hit and unmap meanwhile. A map that misses still rings
 * under a->lock: the coalescer needs the host's answer before it can serve
 * any other buffer of that window, and adma_host_map() sends whatever is
 * queued first, so the host never lacks space the guest thinks it freed.
 *
 * With lazy unmap (coal_config.lazy_max) the coalescer holds unmaps back and
 * sends them in batches; a soft hrtimer armed by the first deferred unmap
 * sends them at most lazy_us later.
 *
 * Holds of a lock with interrupts off are timed (local_clock()) and the
 * longest kept, by kind: a->lock without a doorbell (hits, queued unmaps),
 * a->lock with one (map misses), chan_lock ringing queued unmaps (flush).
 * Every hold that rings is timed, but only one hit hold in
 * ADMA_HOLD_SAMPLE (irqoff_hit_sample): under emulation one clock read
 * costs a third of a cache hit. A hold for one buffer (adma_lock_one(), a
 * single map or unmap) that is not sampled reads its start just before its
 * first host call, so a hit reads no clock; if it rings, its time leaves
 * out that one buffer's lookup before the call. Every other hold (a
 * scatterlist's batch, the timer, trims) reads its start on taking the
 * lock, and its end when it rings or is sampled.
 */
#include <linux/hrtimer.h>
#include <linux/sched/clock.h>

#include "adma_drv.h"

static void adma_hold_note(struct adma_hold *h, u64 ns)
{
	WRITE_ONCE(h->n, h->n + 1);
	WRITE_ONCE(h->sum_ns, h->sum_ns + ns);
	if (ns > h->max_ns)
		WRITE_ONCE(h->max_ns, ns);
}

/* A one-buffer hold not sampled is timed from its first host call. */
static void adma_hold_stamp(struct adma_dev *a)
{
	if (!a->held_t0)
		a->held_t0 = local_clock();
}

/* coal_env.host_map (see adma_host_map()), under a->lock. */
void adma_host_map_held(void *ctx, struct coal_host_req *req, unsigned int n)
{
	struct adma_dev *a = ctx;

	adma_hold_stamp(a);
	adma_host_map(ctx, req, n);
}

/* coal_env.host_unmap (see adma_host_unmap()), under a->lock. */
void adma_host_unmap_held(void *ctx, const u64 *handle, unsigned int n)
{
	struct adma_dev *a = ctx;

	adma_hold_stamp(a);
	adma_host_unmap(ctx, handle, n);
}

/*
 * Drop a->lock; arm the flush timer if unmaps are deferred, then ring what
 * the hold queued (with flush_unlocked=0: before dropping it, the old way).
 */
void adma_unlock(struct adma_dev *a, unsigned long flags)
{
	bool ring = READ_ONCE(a->outq.n) != 0;
	struct adma_hold *h;

	if (a->cstats->deferred && !READ_ONCE(a->dead) &&
	    !hrtimer_is_queued(&a->flush_timer))
		hrtimer_start(&a->flush_timer, ns_to_ktime(a->lazy_ns),
			      HRTIMER_MODE_REL_SOFT);
	if (ring && !a->flush_unlocked) {
		adma_hold_stamp(a);
		adma_outq_ring(a, true);
		a->held_rang = true;
		ring = false;
	}
	h = a->held_rang ? &a->hold_ring :
	    a->held_sampled ? &a->hold_hit : NULL;
	if (h && a->held_t0)
		adma_hold_note(h, local_clock() - a->held_t0);
	spin_unlock_irqrestore(&a->lock, flags);
	if (ring)
		adma_outq_ring(a, false);
}

/*
 * Ring the queued unmaps (and kept ones) under chan_lock; locked: with
 * a->lock held too (counted in unmaps_rung_locked).
 */
void adma_outq_ring(struct adma_dev *a, bool locked)
{
	unsigned long flags;
	u64 t0;

	if (!spin_trylock_irqsave(&a->chan_lock, flags)) {
		atomic64_inc(&a->stats.chan_contended);
		spin_lock_irqsave(&a->chan_lock, flags);
	}
	if (a->outq.n) {	/* else another CPU rang them meanwhile */
		if (locked)
			atomic64_add(a->outq.n, &a->stats.unmaps_rung_locked);
		t0 = local_clock();
		adma_outq_send(a);
		adma_hold_note(&a->hold_flush, local_clock() - t0);
	}
	spin_unlock_irqrestore(&a->chan_lock, flags);
}

static enum hrtimer_restart adma_flush_timer(struct hrtimer *t)
{
	struct adma_dev *a = container_of(t, struct adma_dev, flush_timer);
	unsigned long flags;

	adma_lock(a, &flags);
	if (coal_flush(a->coal))
		atomic64_inc(&a->stats.timer_flushes);
	adma_unlock(a, flags);
	return HRTIMER_NORESTART;
}

void adma_lazy_init(struct adma_dev *a, unsigned int lazy_us)
{
	a->lazy_ns = (u64)lazy_us * NSEC_PER_USEC;
#ifdef ADMA_HAVE_HRTIMER_SETUP
	hrtimer_setup(&a->flush_timer, adma_flush_timer, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_SOFT);
#else
	hrtimer_init(&a->flush_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	a->flush_timer.function = adma_flush_timer;
#endif
}

/*
 * Send every deferred unmap now and stop the timer (suspend, teardown).
 * May sleep (waits for a running timer).
 */
void adma_lazy_flush(struct adma_dev *a)
{
	unsigned long flags;

	if (a->coal) {
		adma_lock(a, &flags);
		coal_flush(a->coal);
		adma_unlock(a, flags);
	}
	hrtimer_cancel(&a->flush_timer);
}

/* Give back every idle mapping and every deferred unmap (unbind, debugfs). */
void adma_trim(struct adma_dev *a)
{
	unsigned long flags;

	adma_lock(a, &flags);
	adma_fast_retire_idle(a);	/* their clusters go idle, then */
	coal_trim(a->coal);
	adma_unlock(a, flags);
	atomic64_inc(&a->stats.trims);
}
