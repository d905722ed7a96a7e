// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - /sys/kernel/debug/apple_dma/stats: one "name: value" per line.
 *
 * Each device has "apple_dma/<pci address>/stats"; the first one probed
 * also has "apple_dma/stats", the path tests use. The names
 * up to map_errors are the agreed interface (tests read them); the rest are
 * extra detail. Writing anything to "apple_dma/<pci address>/trim" (and
 * "apple_dma/trim" of the first device) gives back every idle mapping and
 * deferred unmap: benchmarks start from an empty cache with it.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

#include "adma_drv.h"

static DEFINE_MUTEX(adma_dbg_lock);	/* the directory and its users */
static struct dentry *adma_dbg_root;
static struct dentry *adma_dbg_stats;	/* apple_dma/stats ... */
static struct dentry *adma_dbg_trim;	/* apple_dma/trim ... */
static struct adma_dev *adma_dbg_owner;	/* ... of this device */
static unsigned int adma_dbg_users;

static void adma_show_hold(struct seq_file *m, const char *name,
			   const struct adma_hold *h)
{
	seq_printf(m, "%s_holds: %llu\n", name, READ_ONCE(h->n));
	seq_printf(m, "%s_sum_ns: %llu\n", name, READ_ONCE(h->sum_ns));
	seq_printf(m, "%s_max_ns: %llu\n", name, READ_ONCE(h->max_ns));
}

static int adma_stats_show(struct seq_file *m, void *unused)
{
	static const char * const names[] = ADMA_STATUS_NAMES;
	struct adma_dev *a = m->private;
	struct adma_pcpu pc = { 0 };
	struct coal_stats cs;
	unsigned long flags;
	unsigned int i, fast_idle;
	u64 fast_bufs;
	int cpu;

	spin_lock_irqsave(&a->lock, flags);
	cs = *coal_stats(a->coal);
	adma_fast_count(a, &fast_idle, &fast_bufs);
	spin_unlock_irqrestore(&a->lock, flags);
	for_each_possible_cpu(cpu) {
		const struct adma_pcpu *p = per_cpu_ptr(a->pcpu, cpu);

		pc.dma_calls += READ_ONCE(p->dma_calls);
		pc.fast_maps += READ_ONCE(p->fast_maps);
		pc.fast_unmaps += READ_ONCE(p->fast_unmaps);
	}

#define SHOW(name, v) seq_printf(m, "%s: %llu\n", name, (unsigned long long)(v))
#define SHOW_ATOMIC(f) SHOW(#f, atomic64_read(&a->stats.f))
	SHOW("live_host_maps", cs.live_extents);
	SHOW("live_buffers", cs.live_buffers + fast_bufs);	/* fast: no record */
	SHOW("mapped_bytes", cs.mapped_bytes);
	SHOW("peak_host_maps", cs.peak_extents);
	SHOW("peak_mapped_bytes", cs.peak_mapped_bytes);
	SHOW_ATOMIC(doorbells);
	SHOW_ATOMIC(req_map);
	SHOW_ATOMIC(req_unmap);
	SHOW_ATOMIC(refusals);
	for (i = 0; i < ADMA_S__COUNT; i++)
		seq_printf(m, "refused_%s: %llu\n", names[i],
			   (unsigned long long)atomic64_read(&a->stats.refused[i]));
	SHOW("cluster_hits", cs.cluster_hits);
	SHOW("cluster_misses", cs.cluster_misses);
	SHOW_ATOMIC(map_errors);
	/* detail */
	SHOW("peak_buffers", cs.peak_buffers);
	SHOW("buffers_mapped", cs.buffers_mapped);
	SHOW_ATOMIC(unanswered);
	SHOW("live_clusters", cs.live_clusters);
	SHOW("cluster_pairs", cs.pairs);
	SHOW("straddle_private", cs.straddle_private);
	SHOW("private_maps", cs.private_maps);
	SHOW("host_maps", cs.host_maps);
	SHOW("host_map_errors", cs.host_map_errors);
	SHOW("unknown_unmaps", cs.unknown_unmaps);
	SHOW("size_mismatches", cs.size_mismatches);
	SHOW_ATOMIC(unmap_errors);
	SHOW_ATOMIC(bad_blocks);
	SHOW_ATOMIC(resource_refusals);
	SHOW_ATOMIC(remaps);
	SHOW_ATOMIC(unfit);
	SHOW("cluster_refused", cs.cluster_refused);
	SHOW_ATOMIC(late_ops);
	SHOW_ATOMIC(unmaps_kept);
	SHOW_ATOMIC(unmaps_resent);
	SHOW_ATOMIC(unmaps_lost);
	SHOW("unmaps_pending", READ_ONCE(a->pend.n));
	SHOW_ATOMIC(maps_undone);
	SHOW_ATOMIC(release_all);
	SHOW("uvm_forced", adma_uvm_forced());
	SHOW("tso_answers", adma_tso_answers());
	SHOW("dczva_emulated", adma_dczva_emulated());
	SHOW("cluster_bytes", coal_config(a->coal)->cluster_shift ?
	     1ull << coal_config(a->coal)->cluster_shift : 0);
	SHOW("small_max", coal_config(a->coal)->small_max);
	SHOW("max_batch", a->max_batch);
	/* lazy unmap and the idle cache (coalescer) */
	SHOW("idle_extents", cs.idle_extents);
	SHOW("idle_bytes", cs.idle_bytes);
	SHOW("deferred", cs.deferred);
	SHOW("deferred_bytes", cs.deferred_bytes);
	SHOW("idle_hits", cs.idle_hits);
	SHOW("evictions", cs.evictions);
	SHOW("evict_watermark", cs.evict_watermark);
	SHOW("evict_pressure", cs.evict_pressure);
	SHOW("wm_excess_bytes", cs.wm_excess_bytes);
	SHOW("wm_excess_maps", cs.wm_excess_maps);
	SHOW("flushes", cs.flushes);
	SHOW("pressure_retries", cs.pressure_retries);
	SHOW("host_unmaps", cs.host_unmaps);
	SHOW("host_calls", cs.host_calls);
	SHOW("recs_kept", cs.recs_kept);
	/* fast windows (fast.c) */
	SHOW("fast_windows", READ_ONCE(a->fast.live));
	SHOW("fast_max", a->fast.max);
	SHOW("fast_maps", pc.fast_maps);
	SHOW("fast_unmaps", pc.fast_unmaps);
	SHOW_ATOMIC(fast_made);
	SHOW_ATOMIC(fast_retired);
	SHOW("fast_idle", fast_idle);
	SHOW("fast_buffers", fast_bufs);
	SHOW("pins", cs.pins);
	/* an idle fast window is in use for the coalescer, idle for us */
	SHOW("in_use_host_maps", cs.live_extents - cs.idle_extents -
	     cs.deferred - fast_idle);
	SHOW("dma_calls", pc.dma_calls);
	SHOW_ATOMIC(timer_flushes);
	SHOW_ATOMIC(trims);
	SHOW("lazy_max", coal_config(a->coal)->lazy_max);
	SHOW("lazy_us", div_u64(a->lazy_ns, NSEC_PER_USEC));
	SHOW("cache_bytes", coal_config(a->coal)->cache_bytes);
	SHOW("watermark_bytes", coal_config(a->coal)->watermark_bytes);
	SHOW("watermark_maps", coal_config(a->coal)->watermark_maps);
	/* interrupts-off holds (ns) and contention, see lazy.c */
	adma_show_hold(m, "irqoff_hit", &a->hold_hit);
	SHOW("irqoff_hit_sample", ADMA_HOLD_SAMPLE);	/* one hit hold in */
	adma_show_hold(m, "irqoff_ring", &a->hold_ring);
	adma_show_hold(m, "irqoff_flush", &a->hold_flush);
	SHOW_ATOMIC(lock_contended);
	SHOW_ATOMIC(chan_contended);
	SHOW_ATOMIC(unmaps_rung_locked);
	SHOW("flush_unlocked", a->flush_unlocked);
#undef SHOW_ATOMIC
#undef SHOW
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(adma_stats);

static ssize_t adma_trim_write(struct file *f, const char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct adma_dev *a = f->private_data;

	if (READ_ONCE(a->dead))
		return -ENODEV;
	adma_trim(a);
	return len;
}

static const struct file_operations adma_trim_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = adma_trim_write,
	.llseek = noop_llseek,
};

void adma_debugfs_init(struct adma_dev *a)
{
	mutex_lock(&adma_dbg_lock);
	if (!adma_dbg_users++)
		adma_dbg_root = debugfs_create_dir(ADMA_DRV_NAME, NULL);
	a->dbg = debugfs_create_dir(pci_name(a->pdev), adma_dbg_root);
	debugfs_create_file("stats", 0444, a->dbg, a, &adma_stats_fops);
	debugfs_create_file("trim", 0200, a->dbg, a, &adma_trim_fops);
	adma_trace_debugfs(a, a->dbg);
	if (!adma_dbg_owner) {
		adma_dbg_owner = a;
		adma_dbg_stats = debugfs_create_file("stats", 0444,
						     adma_dbg_root, a,
						     &adma_stats_fops);
		adma_dbg_trim = debugfs_create_file("trim", 0200,
						    adma_dbg_root, a,
						    &adma_trim_fops);
	}
	mutex_unlock(&adma_dbg_lock);
}

void adma_debugfs_fini(struct adma_dev *a)
{
	mutex_lock(&adma_dbg_lock);
	debugfs_remove_recursive(a->dbg);
	a->dbg = NULL;
	adma_trace_fini(a);
	if (adma_dbg_owner == a) {
		debugfs_remove(adma_dbg_stats);
		adma_dbg_stats = NULL;
		debugfs_remove(adma_dbg_trim);
		adma_dbg_trim = NULL;
		adma_dbg_owner = NULL;
	}
	if (!--adma_dbg_users) {
		debugfs_remove_recursive(adma_dbg_root);
		adma_dbg_root = NULL;
	}
	mutex_unlock(&adma_dbg_lock);
}
