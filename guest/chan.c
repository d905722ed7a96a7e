// SPDX-License-Identifier: GPL-2.0
/*
 * chan.c - the doorbell channel of apple-dma-pci.
 *
 * The command block, the request array and the response array sit in one
 * physically contiguous allocation of guest RAM. apple-dma-pci reads and
 * writes them itself (it is not behind the IOMMU it programs), so their
 * guest-physical addresses go on the wire as they are.
 *
 * A batch: store the requests, mark every response and the block PENDING,
 * one 64-bit write of the block's address to DOORBELL. The device answers
 * the whole batch before that write retires; whatever still reads PENDING
 * afterwards was not answered and counts as a failure. Everything here runs
 * under adma_dev.chan_lock with interrupts off, and never sleeps; maps come
 * with adma_dev.lock held too (the coalescer waits for their answers),
 * unmaps are queued and rung once that is dropped (lazy.c).
 *
 * An answer is trusted only in a block whose status is OK: a MAP read as OK
 * in another block is unmapped, an UNMAP not clearly done is kept and sent
 * again (adma_pend_*), so a lost doorbell never leaks a host mapping.
 */
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "adma_drv.h"

static const char * const adma_status_names[] = ADMA_STATUS_NAMES;

static_assert(ARRAY_SIZE(adma_status_names) == ADMA_S__COUNT);
static_assert(COAL_DIR_TO_DEVICE == ADMA_DIR_TO_DEVICE);
static_assert(COAL_DIR_FROM_DEVICE == ADMA_DIR_FROM_DEVICE);
static_assert(COAL_MAX_SEGS == ADMA_MAX_SEGS);

const char *adma_status_str(u32 status)
{
	return status < ADMA_S__COUNT ? adma_status_names[status] : "unknown";
}

/* What a refusal means to the DMA API's callers. */
int adma_status_errno(u32 status)
{
	switch (status) {
	case ADMA_S_NO_SPACE:
	case ADMA_S_FRAGMENTED:
		return -ENOMEM;
	case ADMA_S_INVALID:
	case ADMA_S_RANGE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void adma_log_work(struct irq_work *w)
{
	struct adma_chan *ch = container_of(w, struct adma_chan, log_work);
	unsigned int dropped = READ_ONCE(ch->log_dropped);

	pr_err("%s", ch->log_msg);
	if (dropped)
		pr_warn("%s: %u more messages dropped\n", ADMA_DRV_NAME, dropped);
	WRITE_ONCE(ch->log_dropped, 0);
	/* the message is printed before the slot is offered again */
	smp_store_release(&ch->log_busy, false);
}

void adma_log_queue(struct adma_dev *a, const char *fmt, ...)
{
	struct adma_chan *ch = &a->chan;
	va_list ap;

	lockdep_assert_held(&a->chan_lock);
	/* pairs with the release in adma_log_work(): the slot is free */
	if (smp_load_acquire(&ch->log_busy)) {
		WRITE_ONCE(ch->log_dropped, ch->log_dropped + 1);
		return;
	}
	va_start(ap, fmt);
	vscnprintf(ch->log_msg, sizeof(ch->log_msg), fmt, ap);
	va_end(ap);
	WRITE_ONCE(ch->log_busy, true);
	irq_work_queue(&ch->log_work);
}

int adma_chan_init(struct adma_dev *a)
{
	struct adma_chan *ch = &a->chan;
	size_t cmd_bytes = ALIGN(sizeof(struct adma_cmd), 64);
	void *mem;

	init_irq_work(&ch->log_work, adma_log_work);
	ch->max_batch = a->max_batch;
	ch->req_bytes = sizeof(struct adma_req) * ch->max_batch;
	ch->resp_bytes = sizeof(struct adma_resp) * ch->max_batch;
	mem = alloc_pages_exact(cmd_bytes + ch->req_bytes + ch->resp_bytes,
				GFP_KERNEL | __GFP_ZERO);
	if (!mem)
		return -ENOMEM;
	ch->cmd = mem;
	ch->req = mem + cmd_bytes;
	ch->resp = mem + cmd_bytes + ch->req_bytes;
	ch->cmd_pa = virt_to_phys(ch->cmd);
	ch->req_pa = virt_to_phys(ch->req);
	ch->resp_pa = virt_to_phys(ch->resp);
	return 0;
}

/*
 * The channel goes under chan_lock: an op that still holds the instance (a
 * late unmap of a removed device) finds no channel and rings nothing.
 */
void adma_chan_fini(struct adma_dev *a)
{
	struct adma_chan *ch = &a->chan;
	unsigned long flags;
	void *mem;

	spin_lock_irqsave(&a->chan_lock, flags);
	mem = ch->cmd;
	ch->cmd = NULL;
	a->outq.n = 0;		/* released before (adma_release_leftovers()) */
	spin_unlock_irqrestore(&a->chan_lock, flags);
	irq_work_sync(&ch->log_work);
	if (mem)
		free_pages_exact(mem, ALIGN(sizeof(struct adma_cmd), 64) +
				 ch->req_bytes + ch->resp_bytes);
}

/* Ring one batch of n requests already in chan.req; returns block status. */
static u32 adma_ring(struct adma_dev *a, u32 n)
{
	struct adma_chan *ch = &a->chan;
	struct adma_cmd *cmd = ch->cmd;
	u32 i, status;

	lockdep_assert_held(&a->chan_lock);
	for (i = 0; i < n; i++) {
		ch->resp[i].status = ADMA_S_PENDING;
		ch->resp[i].nsegs = 0;
	}
	cmd->magic = ADMA_CMD_MAGIC;
	cmd->version = ADMA_VERSION_MAJOR;
	cmd->rsvd = 0;
	cmd->count = n;
	cmd->status = ADMA_S_PENDING;
	cmd->req_gpa = ch->req_pa;
	cmd->resp_gpa = ch->resp_pa;
	cmd->done = 0;
	cmd->failed = 0;

	/* writeq() orders the stores above before the doorbell write. */
	writeq(ch->cmd_pa, a->regs + ADMA_REG_DOORBELL);
	/* The device wrote its answers before the write retired. */
	rmb();
	atomic64_inc(&a->stats.doorbells);
	status = READ_ONCE(cmd->status);
	if (status != ADMA_S_OK) {
		atomic64_inc(&a->stats.bad_blocks);
		adma_log_locked(a, "batch of %u not processed: %s\n",
				n, adma_status_str(status));
	}
	return status;
}

/*
 * The status of response i of a batch whose block status was block. Counted
 * as the host counts: refusals and refused_<name> for answers the device
 * wrote; an answer never written (block unreadable) is "unanswered".
 */
static u32 adma_resp_status(struct adma_dev *a, u32 i, u32 block)
{
	u32 s = READ_ONCE(a->chan.resp[i].status);

	if (s == ADMA_S_PENDING) {
		atomic64_inc(&a->stats.unanswered);
		/* say why, if the block says it */
		return block != ADMA_S_OK ? block : ADMA_S_PENDING;
	}
	if (s != ADMA_S_OK) {
		atomic64_inc(&a->stats.refusals);
		if (s < ADMA_S__COUNT)	/* else only in refusals */
			atomic64_inc(&a->stats.refused[s]);
	}
	return s;
}

/*
 * MAP answer i. In a block that is not OK every answer counts as failed
 * (the host may have rolled back a MAP it had answered OK); one that reads
 * OK with a handle may still be live on the host: it is unmapped.
 */
static void adma_map_answer(struct adma_dev *a, struct coal_host_req *hr,
			    u32 i, u32 block)
{
	const struct adma_resp *r = &a->chan.resp[i];
	u32 s = adma_resp_status(a, i, block);
	unsigned int k, nsegs;

	if (s == ADMA_S_OK && block != ADMA_S_OK) {
		atomic64_inc(&a->stats.maps_undone);
		a->spending[a->npending++] = READ_ONCE(r->handle);
		s = block;
	}
	if (s != ADMA_S_OK) {
		/* counted; the op logs it after unlocking (unless NO_WARN) */
		hr->err = adma_status_errno(s);
		return;
	}
	hr->err = 0;
	hr->handle = READ_ONCE(r->handle);
	nsegs = READ_ONCE(r->nsegs);
	/* a count out of range is passed on: the coalescer undoes it */
	hr->nsegs = nsegs;
	for (k = 0; k < min_t(unsigned int, nsegs, ADMA_MAX_SEGS); k++) {
		hr->seg[k].dma = READ_ONCE(r->seg[k].iova);
		hr->seg[k].len = READ_ONCE(r->seg[k].len);
	}
}

/* Keep an unmap whose answer cannot be trusted, to send it again. */
static void adma_pend_keep(struct adma_dev *a, u64 handle, u8 tries)
{
	struct adma_pend *p = &a->pend;

	if (tries >= ADMA_PEND_TRIES || p->n == ADMA_PEND_MAX) {
		atomic64_inc(&a->stats.unmaps_lost);
		a->unmaps_given_up = true;
		adma_log_locked(a, "unmap of handle %#llx never answered: given up\n",
				handle);
		return;
	}
	atomic64_inc(&a->stats.unmaps_kept);
	p->handle[p->n] = handle;
	p->tries[p->n++] = tries;
}

/*
 * Send n UNMAPs; an answer is trusted only in an OK block, and only if it
 * is OK, BAD_HANDLE (not live: already gone) or INVALID (never will be).
 * Anything else (PENDING, IO_ERROR, a block not OK) is kept for a resend.
 */
static void adma_unmap_batch(struct adma_dev *a, const u64 *handle,
			     const u8 *tries, unsigned int n)
{
	struct adma_chan *ch = &a->chan;
	unsigned int done = 0, i;

	if (!ch->cmd)
		return;		/* buried: everything was released before */
	while (done < n) {
		u32 k = min_t(u32, n - done, ch->max_batch);
		u32 block;

		for (i = 0; i < k; i++) {
			struct adma_req *r = &ch->req[i];

			r->op = ADMA_OP_UNMAP;
			r->flags = 0;
			r->rsvd0 = 0;
			r->rsvd1 = 0;
			r->gpa = 0;
			r->len = 0;
			r->handle = handle[done + i];
		}
		atomic64_add(k, &a->stats.req_unmap);
		block = adma_ring(a, k);
		for (i = 0; i < k; i++) {
			u32 s = adma_resp_status(a, i, block);
			u64 h = handle[done + i];

			if (block == ADMA_S_OK &&
			    (s == ADMA_S_OK || s == ADMA_S_BAD_HANDLE ||
			     s == ADMA_S_INVALID)) {
				if (s != ADMA_S_OK && !tries)
					adma_log_locked(a, "unmap of handle %#llx refused: %s\n",
							h, adma_status_str(s));
				continue;
			}
			adma_pend_keep(a, h, tries ? tries[done + i] + 1 : 1);
		}
		done += k;
	}
}

/*
 * Send the kept unmaps again; returns how many are still kept after a few
 * rounds (at remove: the host may still hold those). Under chan_lock.
 */
unsigned int adma_pend_flush(struct adma_dev *a)
{
	struct adma_pend *p = &a->pend;
	u8 *tries = a->resend_tries;
	unsigned int n, round;

	lockdep_assert_held(&a->chan_lock);
	for (round = 0; round < ADMA_PEND_TRIES && p->n; round++) {
		n = p->n;
		memcpy(a->resend, p->handle, n * sizeof(p->handle[0]));
		memcpy(tries, p->tries, n);
		p->n = 0;
		atomic64_add(n, &a->stats.unmaps_resent);
		adma_unmap_batch(a, a->resend, tries, n);
		if (!READ_ONCE(a->dead))
			break;	/* one round per doorbell in normal use */
	}
	return p->n;
}

/* Take chan_lock inside a->lock (interrupts are off already). */
static void adma_chan_lock_nested(struct adma_dev *a)
{
	lockdep_assert_held(&a->lock);
	if (!spin_trylock(&a->chan_lock)) {
		atomic64_inc(&a->stats.chan_contended);
		spin_lock(&a->chan_lock);
	}
}

/* Ring the queued unmaps and the kept ones. Under chan_lock. */
void adma_outq_send(struct adma_dev *a)
{
	lockdep_assert_held(&a->chan_lock);
	if (a->pend.n)
		adma_pend_flush(a);
	if (a->outq.n)
		adma_unmap_batch(a, a->outq.handle, NULL, a->outq.n);
	WRITE_ONCE(a->outq.n, 0);
}

/*
 * coal_env.host_map: n <= coal max_batch requests, in device-sized batches.
 * Under a->lock; the unmaps queued before go first, so the host has the
 * space the coalescer counts on.
 */
void adma_host_map(void *ctx, struct coal_host_req *hr, unsigned int n)
{
	struct adma_dev *a = ctx;
	struct adma_chan *ch = &a->chan;
	unsigned int done = 0, i;

	adma_chan_lock_nested(a);
	if (READ_ONCE(a->dead) || READ_ONCE(a->managed_gone) || !ch->cmd) {
		spin_unlock(&a->chan_lock);
		/* an op that raced with remove or unplug: nothing is mapped */
		for (i = 0; i < n; i++)
			hr[i].err = -ENODEV;
		atomic64_add(n, &a->stats.late_ops);
		return;
	}
	a->held_rang = true;
	adma_outq_send(a);
	a->npending = 0;
	while (done < n) {
		u32 k = min_t(u32, n - done, ch->max_batch);
		u32 block;

		for (i = 0; i < k; i++) {
			struct adma_req *r = &ch->req[i];

			r->op = ADMA_OP_MAP;
			r->flags = hr[done + i].dir;
			r->rsvd0 = 0;
			r->rsvd1 = 0;
			r->gpa = hr[done + i].gpa;
			r->len = hr[done + i].len;
			r->handle = 0;
		}
		atomic64_add(k, &a->stats.req_map);
		block = adma_ring(a, k);
		for (i = 0; i < k; i++)
			adma_map_answer(a, &hr[done + i], i, block);
		done += k;
	}
	if (a->npending)
		adma_unmap_batch(a, a->spending, NULL, a->npending);
	a->npending = 0;
	spin_unlock(&a->chan_lock);
}

/*
 * coal_env.host_unmap, under a->lock: queued, rung when a->lock is dropped
 * (adma_unlock()) or by the next map. A full queue is rung here.
 */
void adma_host_unmap(void *ctx, const u64 *handle, unsigned int n)
{
	struct adma_dev *a = ctx;
	struct adma_outq *q = &a->outq;

	adma_chan_lock_nested(a);
	if (q->n + n > ADMA_OUTQ_MAX) {
		atomic64_add(q->n, &a->stats.unmaps_rung_locked);
		a->held_rang = true;
		adma_outq_send(a);
	}
	if (n > ADMA_OUTQ_MAX) {	/* never: the coalescer sends <= max_batch */
		a->held_rang = true;
		adma_unmap_batch(a, handle, NULL, n);
	} else {
		memcpy(&q->handle[q->n], handle, n * sizeof(*handle));
		WRITE_ONCE(q->n, q->n + n);
	}
	spin_unlock(&a->chan_lock);
}

/*
 * A batch of no request: the block must come back OK, else the channel
 * does not work (wrong BAR, a device that ignores us) and probe stops
 * before the gate opens.
 */
int adma_chan_ping(struct adma_dev *a)
{
	unsigned long flags;
	u32 block;

	spin_lock_irqsave(&a->chan_lock, flags);
	block = adma_ring(a, 0);
	spin_unlock_irqrestore(&a->chan_lock, flags);
	if (block == ADMA_S_OK)
		return 0;
	dev_err(&a->pdev->dev, "the channel does not answer (%s)\n",
		adma_status_str(block));
	return -EIO;
}

/*
 * ADMA_REG_CONTROL: DMA_ON opens the gate of the managed device's DMA, 0
 * closes it, RELEASE_ALL closes it and drops every host mapping. Without
 * ADMA_F_GATE (a 1.0 device) there is no gate: nothing to do.
 */
void adma_control(struct adma_dev *a, u32 ctrl)
{
	unsigned long flags;

	if (!(a->features & ADMA_F_GATE))
		return;
	writel(ctrl, a->regs + ADMA_REG_CONTROL);
	if (!(ctrl & ADMA_CTRL_RELEASE_ALL))
		return;
	atomic64_inc(&a->stats.release_all);
	/*
	 * Nothing the host held before is live now: kept or queued unmaps of
	 * those handles must not be sent after it (a host that reused a
	 * handle would lose a mapping made since).
	 */
	spin_lock_irqsave(&a->chan_lock, flags);
	a->pend.n = 0;
	WRITE_ONCE(a->outq.n, 0);
	a->unmaps_given_up = false;
	spin_unlock_irqrestore(&a->chan_lock, flags);
}
