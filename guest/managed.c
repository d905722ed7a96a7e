// SPDX-License-Identifier: GPL-2.0
/*
 * managed.c - the device apple_dma manages: finding it, putting our ops on
 * it and taking them off, and following it across hot-unplug and re-plug.
 *
 * Any moment the managed device can DMA with other ops than ours is a DMA
 * the host never mapped (on a Mac, a host panic), so:
 *  - probe (main.c): the host's gate (ADMA_F_GATE) holds the device's DMA
 *    off from reset; our ops go on, the channel is tried, the gate opens,
 *    and only then may a driver bind (takeover, or our override cleared).
 *  - the bus notifier puts our ops back whenever a driver binds (arm64 6.1
 *    clears dev->dma_ops on every unbind) and adopts a re-added device with
 *    the managed requester ID before any driver can bind it.
 *  - remove fences first, then tears down: driver_override, unbind (its
 *    unmaps still come to us), gate closed and bus mastering off, leftover
 *    mappings released, our ops off, the notifier last.
 */
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

static bool takeover;
module_param(takeover, bool, 0444);
MODULE_PARM_DESC(takeover,
		 "If the managed device's driver is bound at probe, unbind and rebind it (default: refuse)");

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

int adma_find_managed(struct adma_dev *a)
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
	a->m_domain = pci_domain_nr(m->bus);
	a->m_bus = m->bus->number;
	a->m_devfn = m->devfn;
	return 0;
}

/*
 * The other functions of the managed device's slot (a GPU's HDMI audio,
 * its USB-C controller) are not ours: their DMA bypasses the host's
 * mappings. Said once per probe; the fix is a second apple-dma-pci.
 */
void adma_warn_siblings(struct adma_dev *a)
{
	struct pci_dev *m = a->managed, *s;
	unsigned int fn;

	for (fn = 0; fn < 8; fn++) {
		if (fn == PCI_FUNC(m->devfn))
			continue;
		s = pci_get_slot(m->bus, PCI_DEVFN(PCI_SLOT(m->devfn), fn));
		if (!s)
			continue;
		if (s != a->pdev)
			dev_warn(&a->pdev->dev,
				 "%s (class %06x) shares the slot of %s and nothing manages its DMA\n",
				 pci_name(s), s->class, pci_name(m));
		pci_dev_put(s);
	}
}

/* The managed device consumes us: suspended and shut down before us. */
static void adma_link(struct adma_dev *a)
{
	a->link = device_link_add(&a->managed->dev, &a->pdev->dev,
				  DL_FLAG_STATELESS);
	if (!a->link)
		dev_warn(&a->pdev->dev,
			 "no device link to %s: shutdown order not guaranteed\n",
			 pci_name(a->managed));
}

static void adma_unlink(struct adma_dev *a)
{
	if (a->link)
		device_link_del(a->link);
	a->link = NULL;
}

static void adma_restore_ops(struct adma_dev *a, struct pci_dev *m)
{
	device_lock(&m->dev);
	if (m->dev.dma_ops == &adma_dma_ops)
		set_dma_ops(&m->dev, a->old_ops);
	device_unlock(&m->dev);
}

/* A new pci_dev with the managed requester ID: ours before any driver. */
static void adma_adopt(struct adma_dev *a, struct pci_dev *n)
{
	struct pci_dev *old;
	unsigned long flags;

	if (!a->managed_gone || READ_ONCE(a->dead) ||
	    pci_domain_nr(n->bus) != a->m_domain ||
	    n->bus->number != a->m_bus || n->devfn != a->m_devfn ||
	    (vendor && n->vendor != vendor))
		return;
	pci_dev_get(n);
	set_dma_ops(&n->dev, &adma_dma_ops);
	spin_lock_irqsave(&a->lock, flags);
	old = a->gone;
	WRITE_ONCE(a->gone, a->managed);	/* its late ops: counted */
	WRITE_ONCE(a->managed, n);
	WRITE_ONCE(a->managed_gone, false);
	spin_unlock_irqrestore(&a->lock, flags);
	if (old) {
		/* an older one, still referenced: never to our text again */
		adma_restore_ops(a, old);
		pci_dev_put(old);
	}
	adma_link(a);
	adma_control(a, ADMA_CTRL_DMA_ON);
	dev_info(&a->pdev->dev, "%s is back: managing it again\n",
		 pci_name(n));
}

/* The managed device left the bus: its leftovers are released. */
static void adma_lose(struct adma_dev *a)
{
	unsigned long flags;

	if (a->managed_gone || READ_ONCE(a->dead))
		return;
	/* from here on nothing is mapped for it (adma_host_map() checks) */
	spin_lock_irqsave(&a->lock, flags);
	WRITE_ONCE(a->managed_gone, true);
	spin_unlock_irqrestore(&a->lock, flags);
	a->link = NULL;		/* device_del purged it */
	adma_control(a, 0);
	adma_release_leftovers(a);
	dev_info(&a->pdev->dev,
		 "%s left the bus: DMA gate closed, its mappings released\n",
		 pci_name(a->managed));
}

static int adma_bus_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct adma_dev *a = container_of(nb, struct adma_dev, bus_nb);
	struct device *dev = data;

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		mutex_lock(&a->life);
		adma_adopt(a, to_pci_dev(dev));
		mutex_unlock(&a->life);
		return NOTIFY_OK;
	case BUS_NOTIFY_DEL_DEVICE:
		if (dev != &a->managed->dev)
			return NOTIFY_DONE;
		mutex_lock(&a->life);
		adma_lose(a);
		mutex_unlock(&a->life);
		return NOTIFY_OK;
	case BUS_NOTIFY_UNBOUND_DRIVER:
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		/* its driver's buffers are gone: so go the idle ones */
		if (dev == &a->managed->dev && !READ_ONCE(a->dead))
			adma_trim(a);
		return NOTIFY_OK;
	case BUS_NOTIFY_BIND_DRIVER:
		break;
	default:
		return NOTIFY_DONE;
	}
	if (dev != &a->managed->dev)
		return NOTIFY_DONE;
	/* after the bus set up DMA, before the driver's probe */
	if (READ_ONCE(a->dead)) {
		dev_crit(&a->pdev->dev,
			 "%s binds while apple_dma goes away: its DMA stays gated\n",
			 pci_name(a->managed));
		return NOTIFY_OK;
	}
	if (dev->dma_ops != &adma_dma_ops)
		set_dma_ops(dev, &adma_dma_ops);
	WRITE_ONCE(a->noncoherent, !dev_is_dma_coherent(dev));
	if (a->noncoherent)
		dev_err(&a->pdev->dev,
			"%s is not cache-coherent: its mappings will be refused\n",
			pci_name(a->managed));
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

static int adma_set_override(struct pci_dev *m, const char *s)
{
#ifdef ADMA_HAVE_DEVICE_DRIVER_OVERRIDE
	return device_set_driver_override(&m->dev, s);
#else
	return driver_set_override(&m->dev, &m->driver_override, s, strlen(s));
#endif
}

/*
 * Put our ops on the managed device (the gate is still closed). A bound
 * driver is unbound first with takeover=1, else probe is refused and the
 * device's DMA stays gated.
 */
int adma_install(struct adma_dev *a)
{
	struct device *mdev = &a->managed->dev;
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
	}
	device_lock(mdev);
	if (mdev->driver) {
		device_unlock(mdev);
		dev_err(&a->pdev->dev, "%s was bound again under us\n",
			pci_name(a->managed));
		return -EBUSY;
	}
	a->old_ops = mdev->dma_ops == &adma_dma_ops ? NULL : mdev->dma_ops;
	set_dma_ops(mdev, &adma_dma_ops);
	a->installed = true;
	device_unlock(mdev);
	adma_link(a);
	return 0;
}

/* Ops on, channel tried, gate open: now a driver may bind. */
void adma_attach(struct adma_dev *a)
{
	struct device *mdev = &a->managed->dev;
	int ret;

	if (adma_detached(a->managed)) {
		ret = adma_set_override(a->managed, "");
		if (ret)
			dev_warn(&a->pdev->dev,
				 "%s: cannot clear driver_override (%d)\n",
				 pci_name(a->managed), ret);
	}
	if (READ_ONCE(mdev->driver))
		return;
	ret = device_attach(mdev);
	dev_info(&a->pdev->dev, "%s %s\n", pci_name(a->managed),
		 ret > 0 ? "bound" : "has no driver to bind yet");
}

/*
 * Fence: no driver may bind the managed device any more, its driver is
 * unbound (its unmaps still come to us), then its DMA is held off by the
 * host's gate and by its own bus mastering. Returns false if the override
 * could not be set: then a later bind gets dma-direct (said loudly).
 */
bool adma_fence(struct adma_dev *a)
{
	struct pci_dev *m = a->managed;
	bool ok = true;
	int ret;

	if (!a->installed && READ_ONCE(m->dev.dma_ops) != &adma_dma_ops) {
		adma_control(a, 0);
		return true;
	}
	if (!a->managed_gone) {
		ret = adma_set_override(m, ADMA_DETACHED);
		if (ret) {
			dev_crit(&a->pdev->dev,
				 "%s: cannot set driver_override (%d): a driver bound to it from now on DMAs around the host's mappings\n",
				 pci_name(m), ret);
			ok = false;
		}
		if (READ_ONCE(m->dev.driver)) {
			dev_info(&a->pdev->dev,
				 "unbinding %s: its DMA needs apple_dma\n",
				 pci_name(m));
			device_release_driver(&m->dev);
		}
	}
	adma_control(a, 0);
	if (!a->managed_gone)
		pci_clear_master(m);
	return ok;
}

/*
 * Every mapping the coalescer (in use, idle or deferred) or the resend list
 * still holds, given back, before any RELEASE_ALL.
 */
void adma_release_leftovers(struct adma_dev *a)
{
	unsigned long flags;
	unsigned int lost;
	bool given_up;
	u64 left;

	hrtimer_cancel(&a->flush_timer);	/* everything goes now */
	adma_lock(a, &flags);
	adma_fast_drop_all(a);			/* pins first */
	left = coal_release_all(a->coal);	/* trims and flushes too */
	adma_unlock(a, flags);			/* rings them */
	spin_lock_irqsave(&a->chan_lock, flags);
	lost = adma_pend_flush(a);
	given_up = a->unmaps_given_up;	/* earlier: the host may hold them */
	a->unmaps_given_up = false;
	spin_unlock_irqrestore(&a->chan_lock, flags);
	if (left)
		dev_warn(&a->pdev->dev, "%llu buffers of %s were still mapped: unmapped\n",
			 left, pci_name(a->managed));
	if ((lost || given_up) && (a->features & ADMA_F_GATE)) {
		/* the host may still hold them: it drops them all */
		adma_control(a, ADMA_CTRL_RELEASE_ALL);
		dev_warn(&a->pdev->dev,
			 "unmaps unanswered (%u kept%s): host told to release all\n",
			 lost, given_up ? ", some given up on" : "");
	} else if (lost || given_up) {
		dev_err(&a->pdev->dev,
			"unmaps unanswered (%u kept%s): the host may still map them\n",
			lost, given_up ? ", some given up on" : "");
	}
}

/*
 * After adma_fence() and once ops are refused (dead, a grace period):
 * the leftovers released, our ops off every device that had them, and the
 * notifier (which would put them back on a bind) last.
 */
void adma_uninstall(struct adma_dev *a)
{
	adma_release_leftovers(a);
	adma_unlink(a);
	if (a->installed || a->managed->dev.dma_ops == &adma_dma_ops)
		adma_restore_ops(a, a->managed);
	/*
	 * A device that left the bus may live on (DRM, page_pool): its late
	 * unmaps go to the old ops from now on, never to freed module text.
	 */
	if (a->gone)
		adma_restore_ops(a, a->gone);
	a->installed = false;
	if (a->bus_nb_registered)
		bus_unregister_notifier(&pci_bus_type, &a->bus_nb);
	a->bus_nb_registered = false;
}
