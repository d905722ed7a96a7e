// SPDX-License-Identifier: GPL-2.0
/*
 * fast.c - fast windows: maps and unmaps of a cached cluster without the
 * coalescer's lock.
 *
 * A map+unmap pair whose cluster is cached spends most of its time turning
 * interrupts off and on around a->lock (under TCG, each of the two holds
 * costs more than a whole dma-direct pair). A fast window is an idle
 * cluster the coalescer pins for us (coal_pin_idle()): while it is
 * published, a buffer inside its window is mapped and unmapped with one
 * atomic operation on its user count, under RCU, with no record.
 *
 * What keeps it exact:
 * - users is 1 while published, plus one per fast buffer. Retiring takes
 *   it from 1 to 0 under a->lock, so a window with fast buffers is never
 *   retired (adma_fast_drop_all() excepted: teardown, which releases every
 *   buffer anyway), and a fast map that finds 0 goes under the lock, where
 *   the window is gone.
 * - A window is pinned only while its cluster is idle: no coalescer record
 *   lies in its device range then. Records made there later (scatterlist
 *   entries mapped as the window was published, a buffer the window could
 *   not take) are counted in slow, under a->lock; while any is, unmaps in
 *   that range go under the lock, which tries the coalescer's records
 *   before the fast count. A fast unmap never takes a record's count, nor
 *   a record a fast buffer's.
 * Windows are published by a map that finds its window's cluster idle, up
 * to fast_windows of them; when all are taken, a clock over them retires
 * one that is idle and was not used since the clock last passed. Idle
 * ones are all retired before a map that could take the coalescer above
 * its watermark (so idle windows never hold it there), on a host refusal
 * for space and on trim. What is lost: an unmap of a fast buffer is not
 * checked against a record (nor its length), so a driver's double unmap is
 * not caught while other fast buffers share the window: it takes another
 * buffer's count, the window may be retired and its cluster later evicted
 * while that buffer is still in use, and the device's DMA there faults (the
 * guest's own bug, no risk to the host). fast_windows=0 brings the check
 * back.
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/rculist.h>
#include <linux/slab.h>

#include "adma_drv.h"

/* A window's entry in a by_dma chain. */
struct adma_fw_ref {
	struct hlist_node node;
	struct adma_fw *fw;
};

struct adma_fw {
	struct hlist_node gnode;	/* in by_gpa */
	struct adma_fw_ref dref[2];	/* in by_dma: first and last byte */
	u64 gpa;			/* the window */
	u64 len;
	u64 dma;			/* its device address, one run */
	atomic_t users;			/* 1 + fast buffers; 0: retired */
	bool hot;			/* used since the clock passed */
	unsigned int slow;		/* records in the range, under lock */
	unsigned int ring;		/* index in adma_fast.ring */
	struct coal_pin pin;
	struct rcu_head rcu;
};

static struct hlist_head *fw_gbucket(struct adma_dev *a, u64 gpa)
{
	return &a->fast.by_gpa[hash_64(gpa >> a->fast.shift, ADMA_FW_BITS)];
}

static struct hlist_head *fw_dbucket(struct adma_dev *a, u64 dma)
{
	return &a->fast.by_dma[hash_64(dma >> a->fast.shift,
				       ADMA_FW_DMA_BITS)];
}

static bool fw_holds(const struct adma_fw *f, u64 dma, u64 len)
{
	return dma >= f->dma && dma - f->dma < f->len &&
	       len <= f->len - (dma - f->dma);
}

/* The window whose device range holds [dma, dma + len), under RCU or lock. */
static struct adma_fw *fw_by_dma(struct adma_dev *a, u64 dma, u64 len)
{
	struct adma_fw_ref *r;

	hlist_for_each_entry_rcu(r, fw_dbucket(a, dma), node,
				 lockdep_is_held(&a->lock))
		if (fw_holds(r->fw, dma, len))
			return r->fw;
	return NULL;
}

/* One fast buffer fewer, unless there is none (users <= 1). */
static bool fw_put(struct adma_fw *f)
{
	int u = atomic_read(&f->users);

	do {
		if (u <= 1)
			return false;
	} while (!atomic_try_cmpxchg(&f->users, &u, u - 1));
	return true;
}

void adma_fast_init(struct adma_dev *a, unsigned int max)
{
	const struct coal_config *cfg = coal_config(a->coal);
	u64 cluster;

	a->fast.shift = cfg->cluster_shift;
	a->fast.max = 0;
	/* windows are pinned idle clusters: none without both */
	if (!cfg->cluster_shift || !cfg->cache_bytes)
		return;
	cluster = 1ull << cfg->cluster_shift;
	/* and at most half the cache */
	a->fast.max = min3((u64)max, div64_u64(cfg->cache_bytes, 2 * cluster),
			   (u64)ADMA_FW_MAX);
}

/*
 * Map b from a published window, without the lock; false: not served.
 * Under RCU (the streaming ops run in it, and we read its chains).
 */
bool adma_fast_map(struct adma_dev *a, struct coal_buf *b,
		   const struct coal_want *w)
{
	struct coal_want each = *w;
	struct adma_fw *f;
	bool ok = false;
	u64 off, use;

	if (!READ_ONCE(a->fast.live) || !b->dir || !b->len)
		return false;
	if (!each.size)
		each.size = b->len;
	hlist_for_each_entry_rcu(f, fw_gbucket(a, b->gpa), gnode) {
		if (b->gpa < f->gpa || b->gpa - f->gpa >= f->len)
			continue;
		off = b->gpa - f->gpa;
		if (b->len > f->len - off || !atomic_inc_not_zero(&f->users))
			break;
		b->dma = f->dma + off;
		use = coal_pick(&each, b->dma, b->len);	/* 0: unfit */
		ok = use && use == b->dma;
		if (!ok)
			atomic_dec(&f->users);	/* ours: it stays >= 1 */
		else if (!READ_ONCE(f->hot))
			WRITE_ONCE(f->hot, true);
		break;
	}
	if (ok)
		this_cpu_inc(a->pcpu->fast_maps);
	return ok;
}

/* Unmap a fast buffer without the lock; false: it goes under it. Under RCU. */
bool adma_fast_unmap(struct adma_dev *a, u64 dma)
{
	struct adma_fw *f;
	bool ok = false;

	if (!READ_ONCE(a->fast.live))
		return false;
	/* by address alone: a wrong length does not leak the count */
	f = fw_by_dma(a, dma, 1);
	if (f && !READ_ONCE(f->slow))
		ok = fw_put(f);
	if (ok)
		this_cpu_inc(a->pcpu->fast_unmaps);
	return ok;
}

/* Give back a fast buffer just mapped (a scatterlist that went slow). */
void adma_fast_put(struct adma_dev *a, u64 dma, u64 len)
{
	struct adma_fw *f;

	rcu_read_lock();
	f = fw_by_dma(a, dma, len);
	/* there unless adma_fast_drop_all() took it meanwhile (teardown) */
	if (f)
		fw_put(f);
	rcu_read_unlock();
	this_cpu_dec(a->pcpu->fast_maps);
}

/* ---- under a->lock */

static void fw_unlink(struct adma_dev *a, struct adma_fw *f)
{
	hlist_del_rcu(&f->gnode);
	hlist_del_rcu(&f->dref[0].node);
	hlist_del_rcu(&f->dref[1].node);
	a->fast.ring[f->ring] = NULL;
	WRITE_ONCE(a->fast.live, a->fast.live - 1);
	coal_unpin(a->coal, &f->pin);
	kfree_rcu(f, rcu);
	atomic64_inc(&a->stats.fast_retired);
}

/* Retire f if no fast buffer uses it. */
static bool fw_retire(struct adma_dev *a, struct adma_fw *f)
{
	if (atomic_cmpxchg(&f->users, 1, 0) != 1)
		return false;
	fw_unlink(a, f);
	return true;
}

/*
 * A free place in ring: when all are taken, the clock retires the first
 * window it finds idle and not used since it last passed (a few steps at
 * most); -1 if none.
 */
static int fw_ring_slot(struct adma_dev *a)
{
	struct adma_fast *fs = &a->fast;
	unsigned int step, i;
	struct adma_fw *f;

	for (step = 0; step < 2 * fs->max; step++) {
		i = fs->hand;
		fs->hand = (fs->hand + 1) % fs->max;
		f = fs->ring[i];
		if (!f)
			return i;
		if (fs->live < fs->max)
			continue;	/* a free place is further on */
		if (step >= 8)
			break;
		if (READ_ONCE(f->hot))
			WRITE_ONCE(f->hot, false);
		else if (fw_retire(a, f))
			return i;
	}
	return -1;
}

/* Publish the window of gpa if its cluster is idle and there is room. */
static void fw_publish(struct adma_dev *a, u64 gpa)
{
	struct hlist_head *g = fw_gbucket(a, gpa);
	struct adma_fw *f;
	struct coal_pin pin;
	int slot;

	hlist_for_each_entry(f, g, gnode)
		if (gpa >= f->gpa && gpa - f->gpa < f->len)
			return;		/* published already */
	if (!coal_pin_idle(a->coal, gpa, &pin))
		return;
	slot = fw_ring_slot(a);
	f = slot < 0 ? NULL : kzalloc(sizeof(*f), GFP_ATOMIC | __GFP_NOWARN);
	if (!f) {
		coal_unpin(a->coal, &pin);	/* idle again */
		return;
	}
	f->gpa = pin.gpa;
	f->len = pin.len;
	f->dma = pin.dma;
	f->pin = pin;
	f->ring = slot;
	f->hot = true;			/* not the clock's next victim */
	atomic_set(&f->users, 1);
	a->fast.ring[slot] = f;
	/* every field is set before a reader can find it */
	f->dref[0].fw = f;
	f->dref[1].fw = f;
	hlist_add_head_rcu(&f->dref[0].node, fw_dbucket(a, f->dma));
	hlist_add_head_rcu(&f->dref[1].node,
			   fw_dbucket(a, f->dma + f->len - 1));
	hlist_add_head_rcu(&f->gnode, g);
	WRITE_ONCE(a->fast.live, a->fast.live + 1);
	atomic64_inc(&a->stats.fast_made);
}

/* Could mapping b[0..n) take the coalescer above a watermark? */
static bool fw_near_watermark(struct adma_dev *a, const struct coal_buf *b,
			      unsigned int n)
{
	u64 cluster = 1ull << a->fast.shift, bytes = 0, page;
	unsigned int i;

	page = 1ull << coal_config(a->coal)->page_shift;
	/* at most a cluster, or the buffer's own pages, each */
	for (i = 0; i < n; i++)
		bytes += max(b[i].len + page, cluster);
	return coal_over_watermark(a->coal, bytes, n);
}

/*
 * Before coal_map() of b[0..n): near a watermark, idle windows go (their
 * clusters become idle, for the coalescer to evict); else the windows of
 * b whose clusters are idle are published.
 */
void adma_fast_publish(struct adma_dev *a, const struct coal_buf *b,
		       unsigned int n)
{
	unsigned int i;

	lockdep_assert_held(&a->lock);
	if (!a->fast.max)
		return;
	if (fw_near_watermark(a, b, n)) {
		adma_fast_retire_idle(a);
		return;
	}
	for (i = 0; i < n; i++)
		/*
		 * Of no use to a buffer with its own mapping or over two
		 * windows, nor to a large one in a batch (alone, it takes the
		 * window: adma_map_fit()).
		 */
		if (!(b[i].flags & COAL_BUF_PRIVATE) &&
		    b[i].gpa >> a->fast.shift ==
		    (b[i].gpa + b[i].len - 1) >> a->fast.shift &&
		    (n == 1 || b[i].len <= coal_config(a->coal)->small_max))
			fw_publish(a, b[i].gpa);
}

/* After coal_map() of b[0..n): its records in a window's range count. */
void adma_fast_note(struct adma_dev *a, const struct coal_buf *b,
		    unsigned int n)
{
	struct adma_fw *f;
	unsigned int i;

	if (!a->fast.live)
		return;
	for (i = 0; i < n; i++) {
		f = fw_by_dma(a, b[i].dma, b[i].len);
		if (f)
			WRITE_ONCE(f->slow, f->slow + 1);
	}
}

/*
 * The unmaps of the DMA API that did not go fast: in a window's range, a
 * record if there is one, else a fast buffer; elsewhere, coal_unmap(). u
 * is reordered. Returns the number not mapped.
 */
unsigned int adma_unmap_locked(struct adma_dev *a, struct coal_ubuf *u,
			       unsigned int n)
{
	unsigned int i, k = 0, skipped = 0;
	struct adma_fw *f;

	lockdep_assert_held(&a->lock);
	if (!a->fast.live)
		return coal_unmap(a->coal, u, n);
	for (i = 0; i < n; i++) {
		f = fw_by_dma(a, u[i].dma, 1);
		if (!f) {
			u[k++] = u[i];
			continue;
		}
		if (f->slow && coal_unmap_known(a->coal, &u[i])) {
			WRITE_ONCE(f->slow, f->slow - 1);
			continue;
		}
		if (fw_put(f)) {
			this_cpu_inc(a->pcpu->fast_unmaps);
			continue;
		}
		/* neither: the coalescer counts it as unknown */
		skipped += coal_unmap(a->coal, &u[i], 1);
	}
	return skipped + (k ? coal_unmap(a->coal, u, k) : 0);
}

/* Windows no buffer uses (no fast one, no record), and fast buffers. */
void adma_fast_count(struct adma_dev *a, unsigned int *idle, u64 *buffers)
{
	unsigned int i;
	struct adma_fw *f;
	int u;

	lockdep_assert_held(&a->lock);
	*idle = 0;
	*buffers = 0;
	for (i = 0; a->fast.live && i < a->fast.max; i++) {
		f = a->fast.ring[i];
		if (!f)
			continue;
		u = atomic_read(&f->users);
		*buffers += u > 1 ? u - 1 : 0;
		if (u == 1 && !f->slow)
			(*idle)++;
	}
}

/* Retire every window no fast buffer uses; returns how many. */
unsigned int adma_fast_retire_idle(struct adma_dev *a)
{
	unsigned int i, n = 0;
	struct adma_fw *f;

	lockdep_assert_held(&a->lock);
	for (i = 0; a->fast.live && i < a->fast.max; i++) {
		f = a->fast.ring[i];
		if (f && fw_retire(a, f))
			n++;
	}
	return n;
}

/*
 * Drop every window, used or not, before coal_release_all(): unmaps of its
 * buffers that come later find no window and no record (not mapped).
 */
void adma_fast_drop_all(struct adma_dev *a)
{
	struct adma_fw *f;
	unsigned int i;

	lockdep_assert_held(&a->lock);
	for (i = 0; a->fast.live && i < a->fast.max; i++) {
		f = a->fast.ring[i];
		if (!f)
			continue;
		atomic_set(&f->users, 0);
		fw_unlink(a, f);
	}
}
