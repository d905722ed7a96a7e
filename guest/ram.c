// SPDX-License-Identifier: GPL-2.0
/*
 * ram.c - a snapshot of the guest's System RAM, readable from any context.
 *
 * The coalescer asks, on every cluster miss, whether a cluster window is
 * wholly RAM (the host maps nothing else). Asking the resource tree
 * (walk_iomem_res_desc()) takes resource_lock, which is not safe under our
 * irqsave spinlock in hard or soft IRQ context: a CPU interrupted while it
 * holds resource_lock for writing would spin on it forever. So the ranges
 * are copied once, in process context, into a sorted array published with
 * RCU; the question is then a lock-free binary search.
 *
 * Memory hotplug changes the answer: a memory notifier rebuilds the
 * snapshot when a block comes online, and drops a block from it before it
 * goes offline (remembered in adma_ram_off until it is online again), so no
 * new cluster window reaches memory on its way out.
 *
 * One snapshot for the module: the first adma_ram_get() builds it and
 * registers the notifier, the last adma_ram_put() frees it.
 */
#include <linux/ioport.h>
#include <linux/memory.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "adma_drv.h"

struct adma_ram_range {
	u64 start;
	u64 end;	/* one past the last byte */
};

struct adma_ram {
	struct rcu_head rcu;
	unsigned int n, cap;
	struct adma_ram_range r[];	/* sorted, disjoint, not touching */
};

#define ADMA_RAM_MAX_OFF	16	/* blocks offline or going offline */

static DEFINE_MUTEX(adma_ram_lock);	/* users, adma_ram_off, rebuilds */
static unsigned int adma_ram_users;
static struct adma_ram __rcu *adma_ram_snap;
static struct adma_ram_range adma_ram_off[ADMA_RAM_MAX_OFF];
static unsigned int adma_ram_noff;

/* Append [start, end) to s, merging with the last range if they touch. */
static void adma_ram_add(struct adma_ram *s, u64 start, u64 end)
{
	struct adma_ram_range *last = s->n ? &s->r[s->n - 1] : NULL;

	if (start >= end)
		return;
	if (last && start <= last->end) {
		last->end = max(last->end, end);
		return;
	}
	if (s->n < s->cap)
		s->r[s->n] = (struct adma_ram_range){ start, end };
	s->n++;		/* counts past cap: the caller retries bigger */
}

/* Add [start, end) minus every range in adma_ram_off. */
static void adma_ram_add_online(struct adma_ram *s, u64 start, u64 end)
{
	unsigned int i;

	for (i = 0; i < adma_ram_noff; i++) {
		const struct adma_ram_range *o = &adma_ram_off[i];

		if (o->end <= start || o->start >= end)
			continue;
		adma_ram_add_online(s, start, o->start);
		adma_ram_add_online(s, o->end, end);
		return;
	}
	adma_ram_add(s, start, end);
}

static int adma_ram_cb(struct resource *res, void *arg)
{
	adma_ram_add_online(arg, res->start, (u64)res->end + 1);
	return 0;
}

/* A new snapshot of the resource tree, or NULL. Process context. */
static struct adma_ram *adma_ram_build(void)
{
	unsigned int cap = 32;
	struct adma_ram *s;

	for (;;) {
		s = kzalloc(struct_size(s, r, cap), GFP_KERNEL);
		if (!s)
			return NULL;
		s->cap = cap;
		/* the tree is walked in address order */
		walk_iomem_res_desc(IORES_DESC_NONE,
				    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
				    0, U64_MAX, s, adma_ram_cb);
		if (s->n <= cap)
			return s;
		cap = s->n + 16;
		kfree(s);
	}
}

/* Publish a fresh snapshot; keep the old one if memory is short. */
static void adma_ram_rebuild(void)
{
	struct adma_ram *s = adma_ram_build(), *old;

	lockdep_assert_held(&adma_ram_lock);
	if (!s) {
		pr_warn_ratelimited("%s: no memory to follow a RAM change\n",
				    ADMA_DRV_NAME);
		return;
	}
	old = rcu_replace_pointer(adma_ram_snap, s,
				  lockdep_is_held(&adma_ram_lock));
	if (old)
		kfree_rcu(old, rcu);
}

static void adma_ram_set_offline(u64 start, u64 end, bool off)
{
	unsigned int i;

	for (i = 0; i < adma_ram_noff; i++) {
		if (adma_ram_off[i].start == start &&
		    adma_ram_off[i].end == end) {
			if (!off)
				adma_ram_off[i] = adma_ram_off[--adma_ram_noff];
			return;
		}
	}
	if (off && adma_ram_noff < ADMA_RAM_MAX_OFF)
		adma_ram_off[adma_ram_noff++] =
			(struct adma_ram_range){ start, end };
}

static int adma_ram_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	const struct memory_notify *m = data;
	u64 start = PFN_PHYS(m->start_pfn);
	u64 end = PFN_PHYS(m->start_pfn + m->nr_pages);

	mutex_lock(&adma_ram_lock);
	switch (action) {
	case MEM_GOING_OFFLINE:
		adma_ram_set_offline(start, end, true);
		adma_ram_rebuild();
		break;
	case MEM_ONLINE:
	case MEM_CANCEL_OFFLINE:
		adma_ram_set_offline(start, end, false);
		adma_ram_rebuild();
		break;
	}
	mutex_unlock(&adma_ram_lock);
	return NOTIFY_OK;
}

static struct notifier_block adma_ram_nb = {
	.notifier_call = adma_ram_notify,
};

int adma_ram_get(void)
{
	int ret = 0;

	mutex_lock(&adma_ram_lock);
	if (!adma_ram_users) {
		adma_ram_rebuild();
		if (!rcu_access_pointer(adma_ram_snap)) {
			ret = -ENOMEM;
			goto out;
		}
		ret = register_memory_notifier(&adma_ram_nb);
		if (ret) {
			kfree(rcu_replace_pointer(adma_ram_snap, NULL,
						  lockdep_is_held(&adma_ram_lock)));
			goto out;
		}
	}
	adma_ram_users++;
out:
	mutex_unlock(&adma_ram_lock);
	return ret;
}

void adma_ram_put(void)
{
	struct adma_ram *old = NULL;

	mutex_lock(&adma_ram_lock);
	if (adma_ram_users && !--adma_ram_users) {
		unregister_memory_notifier(&adma_ram_nb);
		old = rcu_replace_pointer(adma_ram_snap, NULL,
					  lockdep_is_held(&adma_ram_lock));
		adma_ram_noff = 0;
	}
	mutex_unlock(&adma_ram_lock);
	if (old) {
		synchronize_rcu();
		kfree(old);
	}
}

/* coal_env.window_ok: is [gpa, gpa + len) wholly RAM? Any context. */
bool adma_ram_window_ok(void *ctx, u64 gpa, u64 len)
{
	const struct adma_ram *s;
	unsigned int lo, hi;
	bool ok = false;

	if (!len || gpa + len < gpa)
		return false;
	rcu_read_lock();
	s = rcu_dereference(adma_ram_snap);
	if (s) {
		/* the first range that ends after gpa */
		lo = 0;
		hi = s->n;
		while (lo < hi) {
			unsigned int mid = lo + (hi - lo) / 2;

			if (s->r[mid].end <= gpa)
				lo = mid + 1;
			else
				hi = mid;
		}
		ok = lo < s->n && s->r[lo].start <= gpa &&
		     gpa + len <= s->r[lo].end;
	}
	rcu_read_unlock();
	return ok;
}
