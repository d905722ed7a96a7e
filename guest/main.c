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
 * Lifetime rules:
 *  - The ops go on before the managed device's driver binds. If a driver is
 *    already bound, probe fails (-EBUSY) unless takeover=1, which unbinds it,
 *    installs the ops and binds it again.
 *  - A bus notifier puts the ops back whenever the managed device's driver
 *    binds (arm64 6.1 clears dev->dma_ops on every unbind).
 *  - remove() unbinds the managed device's driver first, so that it unmaps
 *    everything, then restores the old ops and leaves the device unbound
 *    with driver_override set to "apple_dma_detached": without apple_dma its
 *    DMA would reach the host IOMMU unmapped (a host crash on a Mac). A
 *    later probe clears that override and binds the device again.
 */
#include <linux/debugfs.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "adma_drv.h"

#define ADMA_DETACHED	"apple_dma_detached"

static char *managed;
module_param(managed, charp, 0444);
MODULE_PARM_DESC(managed,
		 "PCI address (dddd:bb:dd.f) of the device to manage; default: the one apple-dma-pci names");

static unsigned int vendor;
module_param(vendor, uint, 0444);
MODULE_PARM_DESC(vendor,
		 "Manage the device only if its PCI vendor ID is this (0: any)");

static unsigned int cluster_kb = 256;
module_param(cluster_kb, uint, 0444);
MODULE_PARM_DESC(cluster_kb,
		 "Cluster size in KiB: power of two, >= 16; 0 maps every buffer on its own (default 256)");

static unsigned int small_kb;
module_param(small_kb, uint, 0444);
MODULE_PARM_DESC(small_kb,
		 "Buffers up to this many KiB share clusters, at most one cluster (default: half a cluster)");

static bool takeover;
module_param(takeover, bool, 0444);
MODULE_PARM_DESC(takeover,
		 "If the managed device's driver is bound at probe, unbind and rebind it (default: refuse)");

static DEFINE_MUTEX(adma_quirk_lock);
static unsigned int adma_quirk_users;

static DEFINE_MUTEX(adma_devs_lock);	/* writers of adma_devs[] */
struct adma_dev *adma_devs[ADMA_MAX_DEVS];

static int adma_slot_take(struct adma_dev *a)
{
	unsigned int i;
	int ret = -ENOSPC;

	mutex_lock(&adma_devs_lock);
	for (i = 0; i < ADMA_MAX_DEVS; i++) {
		if (!adma_devs[i]) {
			WRITE_ONCE(adma_devs[i], a);
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
		if (adma_devs[i] == a)
			WRITE_ONCE(adma_devs[i], NULL);
	mutex_unlock(&adma_devs_lock);
}

/* ---- coalescer environment */

static void *adma_env_alloc(void *ctx, size_t size)
{
	return kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);
}

static void adma_env_free(void *ctx, void *p)
{
	kfree(p);
}

static int adma_ram_cb(struct resource *res, void *arg)
{
	*(u64 *)arg += resource_size(res);
	return 0;
}

/* A cluster window may be mapped only if it is wholly System RAM. */
static bool adma_env_window_ok(void *ctx, u64 gpa, u64 len)
{
	u64 ram = 0;

	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
			    gpa, gpa + len - 1, &ram, adma_ram_cb);
	return ram == len;
}

static int adma_coal_init(struct adma_dev *a)
{
	struct coal_config cfg = {
		.page_shift = a->page_shift,
		.max_batch = a->max_batch,
		.ext_bits = 12,
		.buf_bits = 16,
	};
	struct coal_env env = {
		.ctx = a,
		.host_map = adma_host_map,
		.host_unmap = adma_host_unmap,
		.window_ok = adma_env_window_ok,
		.alloc = adma_env_alloc,
		.free = adma_env_free,
	};
	struct device *dev = &a->pdev->dev;
	size_t size;
	void *mem;

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
	mem = kvzalloc(size, GFP_KERNEL);
	if (!mem)
		return -ENOMEM;
	a->coal = coal_init(mem, &cfg, &env);
	a->sbuf = kcalloc(a->max_batch, sizeof(*a->sbuf), GFP_KERNEL);
	a->subuf = kcalloc(a->max_batch, sizeof(*a->subuf), GFP_KERNEL);
	a->spending = kcalloc(a->max_batch, sizeof(*a->spending), GFP_KERNEL);
	if (!a->coal || !a->sbuf || !a->subuf || !a->spending) {
		kfree(a->sbuf);
		kfree(a->subuf);
		kfree(a->spending);
		kvfree(mem);
		a->coal = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void adma_coal_fini(struct adma_dev *a)
{
	kfree(a->sbuf);
	kfree(a->subuf);
	kfree(a->spending);
	kvfree(a->coal);
	a->coal = NULL;
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

/* ---- the managed device */

static struct pci_dev *adma_lookup(struct adma_dev *a)
{
	struct device *dev = &a->pdev->dev;
	unsigned int domain = 0, bus, slot, fn;
	u32 id, seg;

	if (managed && *managed) {
		if (sscanf(managed, "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4 &&
		    sscanf(managed, "%x:%x.%x", &bus, &slot, &fn) != 3) {
			dev_err(dev, "managed=%s: expected dddd:bb:dd.f\n", managed);
			return NULL;
		}
		if (bus > 0xff || slot > 0x1f || fn > 7)
			return NULL;
		return pci_get_domain_bus_and_slot(domain, bus,
						   PCI_DEVFN(slot, fn));
	}
	id = readl(a->regs + ADMA_REG_MANAGED_ID);
	seg = readl(a->regs + ADMA_REG_MANAGED_SEG);
	if (!(id & ADMA_MANAGED_VALID)) {
		dev_err(dev, "the device names no managed device; set managed=\n");
		return NULL;
	}
	return pci_get_domain_bus_and_slot(seg, ADMA_MANAGED_BUS(id),
					   ADMA_MANAGED_DEVFN(id));
}

static int adma_find_managed(struct adma_dev *a)
{
	struct device *dev = &a->pdev->dev;
	struct pci_dev *m = adma_lookup(a);

	if (!m) {
		dev_err(dev, "managed device not found\n");
		return -ENODEV;
	}
	if (m == a->pdev || (vendor && m->vendor != vendor)) {
		dev_err(dev, "%s (vendor %04x) is not a device to manage\n",
			pci_name(m), m->vendor);
		pci_dev_put(m);
		return -ENODEV;
	}
	if (device_iommu_mapped(&m->dev)) {
		dev_err(dev, "%s is behind a guest IOMMU already: refusing\n",
			pci_name(m));
		pci_dev_put(m);
		return -EBUSY;
	}
	a->managed = m;
	return 0;
}

static int adma_bus_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct adma_dev *a = container_of(nb, struct adma_dev, bus_nb);
	struct device *dev = data;

	if (dev != &a->managed->dev)
		return NOTIFY_DONE;
	switch (action) {
	case BUS_NOTIFY_BIND_DRIVER:
		/* after the bus set up DMA, before the driver's probe */
		if (dev->dma_ops != &adma_dma_ops)
			set_dma_ops(dev, &adma_dma_ops);
		WRITE_ONCE(a->noncoherent, !dev_is_dma_coherent(dev));
		if (a->noncoherent)
			dev_err(&a->pdev->dev,
				"%s is not cache-coherent: its mappings will be refused\n",
				pci_name(a->managed));
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		a->managed_gone = true;
		break;
	}
	return NOTIFY_OK;
}

/*
 * driver_override moved from struct pci_dev into struct device (with its own
 * lock and setter) in 6.12 stable; kconf.sh tells which one we have.
 */
static bool adma_detached(struct pci_dev *m)
{
	bool ours;

#ifdef ADMA_HAVE_DEVICE_DRIVER_OVERRIDE
	spin_lock(&m->dev.driver_override.lock);
	ours = m->dev.driver_override.name &&
	       !strcmp(m->dev.driver_override.name, ADMA_DETACHED);
	spin_unlock(&m->dev.driver_override.lock);
#else
	device_lock(&m->dev);
	ours = m->driver_override && !strcmp(m->driver_override, ADMA_DETACHED);
	device_unlock(&m->dev);
#endif
	return ours;
}

static void adma_set_override(struct pci_dev *m, const char *s)
{
#ifdef ADMA_HAVE_DEVICE_DRIVER_OVERRIDE
	device_set_driver_override(&m->dev, s);
#else
	driver_set_override(&m->dev, &m->driver_override, s, strlen(s));
#endif
}

/* Install our ops on the managed device (see the lifetime rules above). */
static int adma_install(struct adma_dev *a)
{
	struct device *mdev = &a->managed->dev;
	bool rebind = false;
	int ret;

	a->bus_nb.notifier_call = adma_bus_notify;
	ret = bus_register_notifier(&pci_bus_type, &a->bus_nb);
	if (ret)
		return ret;
	a->bus_nb_registered = true;

	if (READ_ONCE(mdev->driver)) {
		if (!takeover) {
			dev_err(&a->pdev->dev,
				"%s is bound to a driver: unbind it first, or load with takeover=1\n",
				pci_name(a->managed));
			return -EBUSY;
		}
		dev_info(&a->pdev->dev, "taking %s over from its driver\n",
			 pci_name(a->managed));
		device_release_driver(mdev);
		rebind = true;
	}
	device_lock(mdev);
	if (mdev->driver) {
		device_unlock(mdev);
		dev_err(&a->pdev->dev, "%s was bound again under us\n",
			pci_name(a->managed));
		return -EBUSY;
	}
	a->old_ops = mdev->dma_ops;
	set_dma_ops(mdev, &adma_dma_ops);
	a->installed = true;
	device_unlock(mdev);

	if (adma_detached(a->managed)) {
		adma_set_override(a->managed, "");
		rebind = true;
	}
	if (rebind) {
		ret = device_attach(mdev);
		dev_info(&a->pdev->dev, "%s %s\n", pci_name(a->managed),
			 ret > 0 ? "bound again" : "has no driver to bind yet");
	}
	return 0;
}

static void adma_uninstall(struct adma_dev *a)
{
	struct device *mdev = &a->managed->dev;

	if (a->bus_nb_registered)
		bus_unregister_notifier(&pci_bus_type, &a->bus_nb);
	a->bus_nb_registered = false;
	if (!a->installed || a->managed_gone)
		return;
	a->installed = false;
	if (READ_ONCE(mdev->driver)) {
		dev_info(&a->pdev->dev,
			 "unbinding %s: its DMA needs apple_dma\n",
			 pci_name(a->managed));
		device_release_driver(mdev);
	}
	device_lock(mdev);
	set_dma_ops(mdev, a->old_ops);
	device_unlock(mdev);
	adma_set_override(a->managed, ADMA_DETACHED);
}

static void adma_quirks_get(struct adma_dev *a)
{
	mutex_lock(&adma_quirk_lock);
	if (!adma_quirk_users++) {
		adma_uvm_init();
		adma_tso_init(a);
	}
	mutex_unlock(&adma_quirk_lock);
}

static void adma_quirks_put(void)
{
	mutex_lock(&adma_quirk_lock);
	if (!--adma_quirk_users) {
		adma_tso_fini();
		adma_uvm_fini();
	}
	mutex_unlock(&adma_quirk_lock);
}

static int adma_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct adma_dev *a;
	int ret;

	a = devm_kzalloc(dev, sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->pdev = pdev;
	spin_lock_init(&a->lock);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), ADMA_DRV_NAME);
	if (ret)
		return ret;
	a->regs = pcim_iomap_table(pdev)[0];
	/* apple-dma-pci reads the command block from guest RAM itself */
	pci_set_master(pdev);

	ret = adma_read_regs(a);
	if (ret)
		return ret;
	ret = adma_find_managed(a);
	if (ret)
		return ret;
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
	if (ret)
		goto uninstall;
	adma_debugfs_init(a);
	adma_quirks_get(a);

	dev_info(dev, "protocol %u.%u, features %#x, batch %u, managing %s; clusters %s\n",
		 ADMA_VERSION_GET_MAJOR(a->version),
		 ADMA_VERSION_GET_MINOR(a->version), a->features,
		 a->max_batch, pci_name(a->managed),
		 cluster_kb ? "on" : "off");
	return 0;

uninstall:
	adma_uninstall(a);
	adma_slot_drop(a);
coal:
	adma_coal_fini(a);
chan:
	adma_chan_fini(a);
put:
	pci_dev_put(a->managed);
	return ret;
}

static void adma_remove(struct pci_dev *pdev)
{
	struct adma_dev *a = pci_get_drvdata(pdev);
	unsigned long flags;
	u64 left;

	adma_quirks_put();
	adma_debugfs_fini(a);
	adma_uninstall(a);
	adma_slot_drop(a);

	spin_lock_irqsave(&a->lock, flags);
	left = coal_release_all(a->coal);
	spin_unlock_irqrestore(&a->lock, flags);
	if (left)
		dev_warn(&pdev->dev, "%llu buffers of %s were still mapped: unmapped\n",
			 left, pci_name(a->managed));
	adma_coal_fini(a);
	adma_chan_fini(a);
	pci_dev_put(a->managed);
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
};
module_pci_driver(adma_driver);

MODULE_DESCRIPTION("Guest driver of apple-dma-pci: host-mapped DMA for one PCI device");
MODULE_AUTHOR("egpu-vm");
MODULE_LICENSE("GPL");
