// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - apple_dma: the guest driver of apple-dma-pci.
 *
 * apple-dma-pci stands for the host's IOMMU (on a Mac, the DART in front of
 * a Thunderbolt device): every address the *managed* device uses for DMA
 * must first be mapped by the host. This driver binds to apple-dma-pci,
 * finds the managed device (the one the device names, or managed=), and
 * installs its own DMA ops on it, so that every dma_map_*() of that device's
 * driver becomes a host mapping (through the coalescer, core/coalesce.c).
 *
 * Lifetime (managed.c holds the details):
 *  - probe: every host mapping a previous kernel left is released
 *    (RELEASE_ALL, which also closes the gate), our ops go on the managed
 *    device before any driver binds it, the channel is tried, then the gate
 *    opens and a driver may bind. A driver already bound refuses probe
 *    (-EBUSY, its DMA stays gated) unless takeover=1, which unbinds it first.
 *  - remove, shutdown: fence (driver_override, unbind, gate closed, bus
 *    mastering off), then release what is left, then our ops off. The
 *    device is left unbound with driver_override "apple_dma_detached"; a
 *    later probe clears it and binds the device again.
 *  - hibernation is refused: the image would restore guest memory under
 *    host mappings that no longer match it.
 */
#include <linux/debugfs.h>
#include <linux/ioport.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/suspend.h>

#include "adma_drv.h"

static unsigned int cluster_kb = 1024;
module_param(cluster_kb, uint, 0444);
MODULE_PARM_DESC(cluster_kb,
		 "Cluster size in KiB: power of two, >= 16; 0 maps every buffer on its own (default 1024)");

static unsigned int small_kb;
module_param(small_kb, uint, 0444);
MODULE_PARM_DESC(small_kb,
		 "Buffers up to this many KiB share clusters, at most one cluster (default: half a cluster)");

/* Lazy unmap and the idle cache: see README.md, "Lazy unmap and the idle cache". */
static bool strict;
module_param(strict, bool, 0444);
MODULE_PARM_DESC(strict,
		 "Send every unmap before the unmap returns and keep no idle mapping (default 0: lazy unmap, idle cache)");

static unsigned int lazy_max = 64;
module_param(lazy_max, uint, 0444);
MODULE_PARM_DESC(lazy_max,
		 "Unmaps deferred before they go to the host in one doorbell, at most the device's batch; 0: each at once (default 64)");

static unsigned int lazy_kb = 8192;
module_param(lazy_kb, uint, 0444);
MODULE_PARM_DESC(lazy_kb,
		 "Deferred unmaps also go once their mappings hold this many KiB; 0: no byte bound (default 8192)");

static unsigned int lazy_us = 1000;
module_param(lazy_us, uint, 0444);
MODULE_PARM_DESC(lazy_us,
		 "Longest a deferred unmap waits, in microseconds: 1..1000000 (default 1000)");

static unsigned int cache_kb = 262144;
module_param(cache_kb, uint, 0444);
MODULE_PARM_DESC(cache_kb,
		 "KiB of idle host mappings (no buffer uses them) kept for reuse, LRU; 0: none (default 262144)");

static unsigned int watermark_pct = 50;
module_param(watermark_pct, uint, 0444);
MODULE_PARM_DESC(watermark_pct,
		 "Idle mappings are evicted before a new host mapping would take in use + idle + deferred above this percent of the host's byte or mapping limit; 0: no watermark (default 50)");

static bool flush_unlocked = true;
module_param(flush_unlocked, bool, 0444);
MODULE_PARM_DESC(flush_unlocked,
		 "Ring unmaps after the coalescer lock is dropped (default 1; 0: with it held, as before, to measure)");

static unsigned int fast_windows = 64;
module_param(fast_windows, uint, 0444);
MODULE_PARM_DESC(fast_windows,
		 "Idle clusters pinned so that their buffers map and unmap without the coalescer lock, at most (also at most half the cache); 0: none (default 64)");

static DEFINE_MUTEX(adma_quirk_lock);
static unsigned int adma_quirk_users;

static DEFINE_MUTEX(adma_devs_lock);	/* writers of adma_devs[] */
struct adma_dev __rcu *adma_devs[ADMA_MAX_DEVS];

static int adma_slot_take(struct adma_dev *a)
{
	unsigned int i;
	int ret = -ENOSPC;

	mutex_lock(&adma_devs_lock);
	for (i = 0; i < ADMA_MAX_DEVS; i++) {
		if (!rcu_access_pointer(adma_devs[i])) {
			rcu_assign_pointer(adma_devs[i], a);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&adma_devs_lock);
	return ret;
}

static void adma_slot_drop(struct adma_dev *a)
{
	unsigned int i;

	mutex_lock(&adma_devs_lock);
	for (i = 0; i < ADMA_MAX_DEVS; i++)
		if (rcu_access_pointer(adma_devs[i]) == a)
			RCU_INIT_POINTER(adma_devs[i], NULL);
	mutex_unlock(&adma_devs_lock);
}

/*
 * Removed instances, freed at module exit. Teardown waits for every op that
 * found our ops on the device (RCU or SRCU: adma_ops_quiesce()) before the channel
 * goes; the instance itself stays until exit, as belt and braces for a
 * caller that kept a stale ops pointer (it finds the instance dead).
 */
static LIST_HEAD(adma_graveyard);	/* under adma_devs_lock */

static void adma_bury(struct adma_dev *a)
{
	hrtimer_cancel(&a->flush_timer);	/* nothing arms it any more */
	adma_chan_fini(a);
	mutex_lock(&adma_devs_lock);
	list_add(&a->grave, &adma_graveyard);
	mutex_unlock(&adma_devs_lock);
}

/* ---- coalescer environment */

/* The lazy unmap and idle cache knobs, from the parameters. */
static int adma_lazy_config(struct adma_dev *a, struct coal_config *cfg)
{
	struct device *dev = &a->pdev->dev;

	if (lazy_us < 1 || lazy_us > 1000000) {
		dev_err(dev, "lazy_us=%u: need 1..1000000\n", lazy_us);
		return -EINVAL;
	}
	if (watermark_pct > 100) {
		dev_err(dev, "watermark_pct=%u: need 0..100\n", watermark_pct);
		return -EINVAL;
	}
	if (strict)
		return 0;	/* lazy_max 0, no cache: today's behaviour */
	cfg->lazy_max = min_t(u32, lazy_max, a->max_batch);
	if (cfg->lazy_max < lazy_max)
		dev_info(dev, "lazy_max=%u: the device's batch is %u, using it\n",
			 lazy_max, a->max_batch);
	cfg->lazy_bytes = (u64)lazy_kb << 10;
	cfg->cache_bytes = (u64)cache_kb << 10;
	/* limit_bytes comes from the host: no overflow whatever it says */
	cfg->watermark_bytes = mul_u64_u32_div(a->limit_bytes, watermark_pct, 100);
	cfg->watermark_maps = div_u64((u64)a->limit_maps * watermark_pct, 100);
	return 0;
}

/*
 * Records of unmapped buffers the coalescer keeps for the next maps (32
 * bytes each): a hit then costs no kmalloc/kfree pair.
 */
#define ADMA_KEEP_RECS	256

static void *adma_env_alloc(void *ctx, size_t size)
{
	return kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);
}

static void adma_env_free(void *ctx, void *p)
{
	kfree(p);
}

static int adma_coal_init(struct adma_dev *a)
{
	struct coal_config cfg = {
		.page_shift = a->page_shift,
		.max_batch = a->max_batch,
		.ext_bits = 12,
		.buf_bits = 16,
		.keep_recs = ADMA_KEEP_RECS,
	};
	struct coal_env env = {
		.ctx = a,
		/* lazy.c: each stamps a hold's start, then chan.c's */
		.host_map = adma_host_map_held,
		.host_unmap = adma_host_unmap_held,
		/* a RAM snapshot (ram.c): lock-free in any context */
		.window_ok = adma_ram_window_ok,
		.alloc = adma_env_alloc,
		.free = adma_env_free,
	};
	struct device *dev = &a->pdev->dev;
	size_t size;
	void *mem;
	int ret;

	ret = adma_lazy_config(a, &cfg);
	if (ret)
		return ret;
	if (cluster_kb) {
		if (!is_power_of_2(cluster_kb) || cluster_kb < 16 ||
		    cluster_kb > (1u << 20) ||
		    ilog2(cluster_kb) + 10 < a->page_shift) {
			dev_err(dev, "cluster_kb=%u: need a power of two >= 16 and >= the host page\n",
				cluster_kb);
			return -EINVAL;
		}
		cfg.cluster_shift = ilog2(cluster_kb) + 10;
		cfg.small_max = (u64)small_kb << 10;
		if (small_kb > cluster_kb) {
			dev_err(dev, "small_kb=%u is above cluster_kb=%u\n",
				small_kb, cluster_kb);
			return -EINVAL;
		}
	}
	size = coal_size(&cfg);
	if (!size)
		return -EINVAL;
	if (adma_ram_get())
		return -ENOMEM;
	mem = kvzalloc(size, GFP_KERNEL);
	if (!mem) {
		adma_ram_put();
		return -ENOMEM;
	}
	a->coal = coal_init(mem, &cfg, &env);
	if (a->coal) {
		a->cstats = coal_stats(a->coal);
		adma_fast_init(a, fast_windows);
	}
	a->sbuf = kcalloc(a->max_batch, sizeof(*a->sbuf), GFP_KERNEL);
	a->subuf = kcalloc(a->max_batch, sizeof(*a->subuf), GFP_KERNEL);
	a->spending = kcalloc(a->max_batch, sizeof(*a->spending), GFP_KERNEL);
	if (!a->coal || !a->sbuf || !a->subuf || !a->spending) {
		kfree(a->sbuf);
		kfree(a->subuf);
		kfree(a->spending);
		kvfree(mem);
		a->coal = NULL;
		adma_ram_put();
		return -ENOMEM;
	}
	return 0;
}

static void adma_coal_fini(struct adma_dev *a)
{
	kfree(a->sbuf);
	kfree(a->subuf);
	kfree(a->spending);
	if (a->coal)
		coal_fini(a->coal);	/* the records it kept for reuse */
	kvfree(a->coal);
	a->coal = NULL;
	a->cstats = NULL;
	adma_ram_put();		/* ram.c, taken in adma_coal_init() */
}

/* ---- the device's registers */

static int adma_read_regs(struct adma_dev *a)
{
	struct device *dev = &a->pdev->dev;
	u32 magic = readl(a->regs + ADMA_REG_MAGIC);

	if (magic != ADMA_MAGIC_VALUE) {
		dev_err(dev, "not an apple-dma-pci device (magic %#x)\n", magic);
		return -ENODEV;
	}
	a->version = readl(a->regs + ADMA_REG_VERSION);
	if (ADMA_VERSION_GET_MAJOR(a->version) != ADMA_VERSION_MAJOR) {
		dev_err(dev, "device speaks protocol %u.%u, this driver %u.%u: refusing\n",
			ADMA_VERSION_GET_MAJOR(a->version),
			ADMA_VERSION_GET_MINOR(a->version),
			ADMA_VERSION_MAJOR, ADMA_VERSION_MINOR);
		return -ENODEV;
	}
	a->features = readl(a->regs + ADMA_REG_FEATURES);
	a->max_batch = readl(a->regs + ADMA_REG_MAX_BATCH);
	a->max_segs = readl(a->regs + ADMA_REG_MAX_SEGS);
	a->page_shift = readl(a->regs + ADMA_REG_PAGE_SHIFT);
	a->limit_bytes = readl(a->regs + ADMA_REG_LIMIT_BYTES_LO) |
		(u64)readl(a->regs + ADMA_REG_LIMIT_BYTES_HI) << 32;
	a->limit_maps = readl(a->regs + ADMA_REG_LIMIT_MAPS);
	if (ADMA_VERSION_GET_MINOR(a->version) >= 1)	/* 1.1: IOVA_END */
		a->iova_end = readl(a->regs + ADMA_REG_IOVA_END_LO) |
			(u64)readl(a->regs + ADMA_REG_IOVA_END_HI) << 32;
	if (!(a->features & ADMA_F_BATCH))
		a->max_batch = min_t(u32, a->max_batch, 1);
	if (!a->max_batch || a->max_batch > ADMA_MAX_BATCH ||
	    !a->max_segs || a->max_segs > ADMA_MAX_SEGS ||
	    a->page_shift < 12 || a->page_shift > 30) {
		dev_err(dev, "device reports max_batch %u, max_segs %u, page_shift %u: refusing\n",
			a->max_batch, a->max_segs, a->page_shift);
		return -ENODEV;
	}
	return 0;
}

/* ---- power management */

/*
 * Suspend, freeze, power-off: the managed device (our consumer) is already
 * quiet; nothing freed stays device-reachable while the guest sleeps: the
 * timer is stopped first (so no deferred unmap waits for it past here), then
 * the idle cache and every deferred unmap go.
 */
static int adma_pm_suspend(struct device *dev)
{
	struct adma_dev *a = dev_get_drvdata(dev);

	if (a && a->coal) {
		hrtimer_cancel(&a->flush_timer);
		adma_trim(a);
	}
	return 0;
}

static const struct dev_pm_ops adma_pm_ops = {
	SYSTEM_SLEEP_PM_OPS(adma_pm_suspend, NULL)
};

/*
 * Hibernation is refused: the image holds the coalescer's idea of what is
 * mapped, the host's mappings do not survive with it, and the managed
 * device would resume DMAing to addresses nobody maps.
 */
static int adma_pm_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	struct adma_dev *a = container_of(nb, struct adma_dev, pm_nb);

	if (action != PM_HIBERNATION_PREPARE)
		return NOTIFY_DONE;
	dev_err(&a->pdev->dev,
		"hibernation refused: host DMA mappings of %s cannot be saved in the image\n",
		pci_name(a->managed));
	return NOTIFY_BAD;
}

static void adma_quirks_get(struct adma_dev *a)
{
	mutex_lock(&adma_quirk_lock);
	if (!adma_quirk_users++) {
		adma_uvm_init();
		adma_tso_init(a);
		adma_dczva_init();
	}
	mutex_unlock(&adma_quirk_lock);
}

static void adma_quirks_put(void)
{
	mutex_lock(&adma_quirk_lock);
	if (!--adma_quirk_users) {
		adma_dczva_fini();
		adma_tso_fini();
		adma_uvm_fini();
	}
	mutex_unlock(&adma_quirk_lock);
}

/*
 * Fence, stop ops, tear down (the order of each step is what keeps the
 * managed device from DMAing around us: see managed.c).
 */
static void adma_teardown(struct adma_dev *a)
{
	unsigned long flags;

	mutex_lock(&a->life);
	adma_fence(a);
	/* from here on nothing is mapped (adma_host_map() checks) */
	spin_lock_irqsave(&a->lock, flags);
	WRITE_ONCE(a->dead, true);
	spin_unlock_irqrestore(&a->lock, flags);
	mutex_unlock(&a->life);
	adma_uninstall(a);
	adma_slot_drop(a);
	/* every op that found our ops on the device has returned */
	adma_ops_quiesce();
}

static int adma_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct adma_dev *a;
	int ret;

	/* not devm: a removed instance outlives its device (adma_bury) */
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->pcpu = alloc_percpu(struct adma_pcpu);
	if (!a->pcpu) {
		kfree(a);
		return -ENOMEM;
	}
	a->pdev = pdev;
	spin_lock_init(&a->lock);
	spin_lock_init(&a->chan_lock);
	mutex_init(&a->life);
	adma_lazy_init(a, lazy_us);
	a->flush_unlocked = flush_unlocked;

	ret = pcim_enable_device(pdev);
	if (ret)
		goto free;
	ret = pcim_iomap_regions(pdev, BIT(0), ADMA_DRV_NAME);
	if (ret)
		goto free;
	a->regs = pcim_iomap_table(pdev)[0];
	/* apple-dma-pci reads the command block from guest RAM itself */
	pci_set_master(pdev);

	ret = adma_read_regs(a);
	if (ret)
		goto free;
	/* a previous kernel's mappings (kexec, a crash): none is ours */
	adma_control(a, ADMA_CTRL_RELEASE_ALL);
	ret = adma_find_managed(a);
	if (ret)
		goto free;
	ret = adma_chan_init(a);
	if (ret)
		goto put;
	ret = adma_coal_init(a);
	if (ret)
		goto chan;
	pci_set_drvdata(pdev, a);
	ret = adma_slot_take(a);
	if (ret) {
		dev_err(dev, "more than %d apple-dma-pci devices\n",
			ADMA_MAX_DEVS);
		goto coal;
	}
	ret = adma_install(a);
	if (!ret)
		ret = adma_chan_ping(a);
	if (ret)
		goto teardown;
	adma_warn_siblings(a);
	a->pm_nb.notifier_call = adma_pm_notify;
	if (!register_pm_notifier(&a->pm_nb))
		a->pm_nb_registered = true;
	adma_debugfs_init(a);
	adma_quirks_get(a);
	/* ops on, channel works: the device may DMA, a driver may bind */
	adma_control(a, ADMA_CTRL_DMA_ON);
	adma_attach(a);

	dev_info(dev, "protocol %u.%u, features %#x, batch %u, managing %s; clusters %s; unmaps %s, idle cache %llu KiB; DMA gate %s\n",
		 ADMA_VERSION_GET_MAJOR(a->version),
		 ADMA_VERSION_GET_MINOR(a->version), a->features,
		 a->max_batch, pci_name(a->managed),
		 cluster_kb ? "on" : "off",
		 coal_config(a->coal)->lazy_max ? "lazy" : "strict",
		 coal_config(a->coal)->cache_bytes >> 10,
		 a->features & ADMA_F_GATE ? "open" : "absent");
	return 0;

teardown:
	/* also a failed takeover: no ops of ours stay on the device */
	adma_teardown(a);
	pci_dev_get(pdev);
	adma_bury(a);
	return ret;
coal:
	adma_coal_fini(a);
chan:
	adma_chan_fini(a);
put:
	pci_dev_put(a->managed);
free:
	free_percpu(a->pcpu);
	kfree(a);
	return ret;
}

static void adma_remove(struct pci_dev *pdev)
{
	struct adma_dev *a = pci_get_drvdata(pdev);

	if (a->pm_nb_registered)
		unregister_pm_notifier(&a->pm_nb);
	adma_quirks_put();
	adma_debugfs_fini(a);
	adma_teardown(a);
	pci_dev_get(pdev);	/* named in late ops' logs */
	adma_bury(a);
}

/*
 * Power-off, reboot, kexec: the managed device consumes us (a device link),
 * so its driver's .shutdown ran before this one. Close the gate and stop
 * its bus mastering; the host drops its mappings as the next kernel probes.
 */
static void adma_shutdown(struct pci_dev *pdev)
{
	struct adma_dev *a = pci_get_drvdata(pdev);

	if (!a)
		return;
	hrtimer_cancel(&a->flush_timer);	/* no doorbell after the gate */
	adma_control(a, 0);
	if (!a->managed_gone)
		pci_clear_master(a->managed);
	dev_info(&pdev->dev, "shutdown: DMA of %s gated\n",
		 pci_name(a->managed));
}

static const struct pci_device_id adma_ids[] = {
	{ PCI_DEVICE(ADMA_PCI_VENDOR_ID, ADMA_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, adma_ids);

static struct pci_driver adma_driver = {
	.name = ADMA_DRV_NAME,
	.id_table = adma_ids,
	.probe = adma_probe,
	.remove = adma_remove,
	.shutdown = adma_shutdown,
	.driver.pm = pm_sleep_ptr(&adma_pm_ops),
};

static int __init adma_init(void)
{
	return pci_register_driver(&adma_driver);
}
module_init(adma_init);

/* Every device is removed, its ops are off: free what remove left. */
static void __exit adma_exit(void)
{
	struct adma_dev *a, *next;

	pci_unregister_driver(&adma_driver);
	synchronize_rcu();
	adma_ops_quiesce();
	list_for_each_entry_safe(a, next, &adma_graveyard, grave) {
		list_del(&a->grave);
		adma_coal_fini(a);
		pci_dev_put(a->managed);
		pci_dev_put(a->gone);
		pci_dev_put(a->pdev);
		free_percpu(a->pcpu);
		kfree(a);
	}
}
module_exit(adma_exit);

MODULE_DESCRIPTION("Guest driver of apple-dma-pci: host-mapped DMA for one PCI device");
MODULE_AUTHOR("egpu-vm");
MODULE_LICENSE("GPL");
