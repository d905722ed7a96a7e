/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * hostdev_iokit.c - open our dext's user client and implement the
 * host-device interface over it (see hostdev_iokit.h).
 *
 * Interrupts: the dext sets bits in a page mapped here and sends one async
 * completion when we said we wait (page->wake). Our callback runs on a
 * serial dispatch queue of ours; it drains the page, re-arms the wake flag
 * and drains again, so an edge that lands between the two is never lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev_iokit_int.h"

static void say(char *err, size_t errlen, const char *what, const char *why)
{
	if (errlen)
		snprintf(err, errlen, "%s: %s", what, why);
}

int iokit_err(kern_return_t kr)
{
	if (kr == KERN_SUCCESS)
		return HOSTDEV_OK;
	if (DEXT_IORETURN_IS_OURS(kr)) {
		switch (DEXT_IORETURN_STATUS(kr)) {
		case DEXT_S_INVALID:
		case DEXT_S_DENIED:
		case DEXT_S_BAD_REGION:
		case DEXT_S_BAD_HANDLE:
		case DEXT_S_BAD_SELECTOR:
		case DEXT_S_IN_USE:
			return HOSTDEV_E_INVAL;
		case DEXT_S_NOTSUP:
			return HOSTDEV_E_NOTSUP;
		case DEXT_S_GONE:
			return HOSTDEV_E_GONE;
		case DEXT_S_VERSION:
			return HOSTDEV_E_VERSION;
		default:
			return HOSTDEV_E_IO;
		}
	}
	/* the dext (or its user client) is not there any more */
	if (kr == MACH_SEND_INVALID_DEST || kr == kIOReturnNoDevice)
		return HOSTDEV_E_GONE;
	return HOSTDEV_E_IO;
}

static kern_return_t scalar_call(struct iokit_dev *d, uint32_t sel,
				 const uint64_t *in, uint32_t nin,
				 uint64_t *out, uint32_t nout)
{
	uint32_t n = nout;
	kern_return_t kr;

	kr = IOConnectCallScalarMethod(d->conn, sel, in, nin, out, &n);
	if (kr == KERN_SUCCESS && n != nout)
		return kIOReturnError;	/* a dext that broke the ABI */
	return kr;
}

/* ---- config space, BARs */

static int op_config_read(void *dev, uint32_t off, unsigned int len,
			  uint32_t *val)
{
	uint64_t in[2] = { off, len }, out = 0;
	int e = iokit_err(scalar_call(dev, DEXT_SEL_CFG_READ, in, 2, &out, 1));

	if (e == HOSTDEV_OK)
		*val = (uint32_t)out;
	return e;
}

static int op_config_write(void *dev, uint32_t off, unsigned int len,
			   uint32_t val)
{
	uint64_t in[3] = { off, len, val };

	return iokit_err(scalar_call(dev, DEXT_SEL_CFG_WRITE, in, 3, NULL, 0));
}

static int op_bar_read(void *dev, unsigned int bar, uint64_t off,
		       unsigned int size, uint64_t *val)
{
	uint64_t in[3] = { bar, off, size }, out = 0;
	int e = iokit_err(scalar_call(dev, DEXT_SEL_BAR_READ, in, 3, &out, 1));

	if (e == HOSTDEV_OK)
		*val = out;
	return e;
}

static int op_bar_write(void *dev, unsigned int bar, uint64_t off,
			unsigned int size, uint64_t val)
{
	uint64_t in[4] = { bar, off, size, val };

	return iokit_err(scalar_call(dev, DEXT_SEL_BAR_WRITE, in, 4, NULL, 0));
}

/* ---- interrupts */

/* Deliver what is pending; true if anything was. */
static bool drain_once(struct iokit_dev *d)
{
	struct dext_irq_page *p = d->page;
	uint32_t kind = __atomic_load_n(&d->irq_kind, __ATOMIC_ACQUIRE);
	uint32_t nvec = __atomic_load_n(&d->irq_nvec, __ATOMIC_RELAXED);
	uint32_t w, b, words = (nvec + 63) / 64;
	bool any = false;

	for (w = 0; w < words && w < DEXT_MAX_MSIX / 64; w++) {
		uint64_t bits = __atomic_exchange_n(&p->pending[w], 0,
						    __ATOMIC_ACQ_REL);

		for (b = 0; bits; b++, bits >>= 1) {
			uint32_t v = w * 64 + b;

			if (!(bits & 1))
				continue;
			any = true;
			if (!d->hd.irq || v >= nvec)
				continue;
			if (kind == DEXT_IRQ_INTX)
				d->hd.irq(d->hd.irq_opaque, HOSTDEV_IRQ_INTX, 0,
					  (int)__atomic_load_n(&p->intx_level,
							       __ATOMIC_ACQUIRE));
			else
				d->hd.irq(d->hd.irq_opaque,
					  (enum hostdev_irq_kind)kind, v, 1);
		}
	}
	return any;
}

static bool pending_any(const struct iokit_dev *d)
{
	unsigned int w;

	for (w = 0; w < DEXT_MAX_MSIX / 64; w++)
		if (__atomic_load_n(&d->page->pending[w], __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* On our dispatch queue: the dext's wakeup (an async completion). */
static void irq_wakeup(void *refcon, IOReturn result, void **args,
		       uint32_t nargs)
{
	struct iokit_dev *d = refcon;

	(void)args;
	(void)nargs;
	if (result != kIOReturnSuccess ||
	    __atomic_load_n(&d->closing, __ATOMIC_ACQUIRE))
		return;
	for (;;) {
		drain_once(d);
		__atomic_store_n(&d->page->wake, 1, __ATOMIC_SEQ_CST);
		/* raised after the drain but before wake was set? */
		if (!pending_any(d))
			break;
		__atomic_store_n(&d->page->wake, 0, __ATOMIC_SEQ_CST);
	}
}

static int op_irq_set(void *dev, enum hostdev_irq_kind kind, uint32_t nvec)
{
	struct iokit_dev *d = dev;
	uint64_t in[2] = { (uint64_t)kind, nvec };
	int e;

	if (kind != HOSTDEV_IRQ_NONE && !d->hd.irq)
		return HOSTDEV_E_INVAL;		/* nowhere to deliver to */
	/* until the dext has switched, deliver nothing */
	__atomic_store_n(&d->irq_kind, DEXT_IRQ_NONE, __ATOMIC_RELEASE);
	e = iokit_err(scalar_call(d, DEXT_SEL_IRQ_SET, in, 2, NULL, 0));
	if (e != HOSTDEV_OK)
		return e;
	__atomic_store_n(&d->irq_nvec, nvec, __ATOMIC_RELAXED);
	__atomic_store_n(&d->irq_kind, (uint32_t)kind, __ATOMIC_RELEASE);
	return HOSTDEV_OK;
}

static int arm_irqs(struct iokit_dev *d, char *err, size_t errlen)
{
	mach_vm_address_t addr = 0;
	mach_vm_size_t size = 0;
	uint64_t ref[kOSAsyncRef64Count] = { 0 };
	kern_return_t kr;

	kr = IOConnectMapMemory64(d->conn, DEXT_MEM_IRQ_PAGE, mach_task_self(),
				  &addr, &size, kIOMapAnywhere);
	if (kr != KERN_SUCCESS || size < DEXT_IRQ_PAGE_SIZE) {
		say(err, errlen, d->info.name, "cannot map the interrupt page");
		return kr != KERN_SUCCESS ? iokit_err(kr) : HOSTDEV_E_IO;
	}
	d->page = (struct dext_irq_page *)(uintptr_t)addr;
	if (d->page->magic != DEXT_IRQ_PAGE_MAGIC) {
		say(err, errlen, d->info.name, "the interrupt page is not ours");
		return HOSTDEV_E_VERSION;
	}
	d->queue = dispatch_queue_create("egpu.dext.irq", DISPATCH_QUEUE_SERIAL);
	d->nport = IONotificationPortCreate(kIOMainPortDefault);
	if (!d->queue || !d->nport) {
		say(err, errlen, d->info.name, "cannot create a notification port");
		return HOSTDEV_E_IO;
	}
	IONotificationPortSetDispatchQueue(d->nport, d->queue);
	ref[kIOAsyncCalloutFuncIndex] = (io_user_reference_t)(uintptr_t)irq_wakeup;
	ref[kIOAsyncCalloutRefconIndex] = (io_user_reference_t)(uintptr_t)d;
	kr = IOConnectCallAsyncScalarMethod(d->conn, DEXT_SEL_IRQ_ARM,
					    IONotificationPortGetMachPort(d->nport),
					    ref, kOSAsyncRef64Count, NULL, 0,
					    NULL, NULL);
	if (kr != KERN_SUCCESS) {
		say(err, errlen, d->info.name, "the dext refused IRQ_ARM");
		return iokit_err(kr);
	}
	__atomic_store_n(&d->page->wake, 1, __ATOMIC_SEQ_CST);
	return HOSTDEV_OK;
}

/* ---- reset, close */

static int op_reset(void *dev, uint32_t how, uint32_t *done)
{
	uint64_t in = how, out = 0;
	int e = iokit_err(scalar_call(dev, DEXT_SEL_RESET, &in, 1, &out, 1));

	*done = e == HOSTDEV_OK ? (uint32_t)out : 0;
	return e;
}

static void noop(void *ctx)
{
	(void)ctx;
}

static void dev_free(struct iokit_dev *d)
{
	unsigned int i;

	/* no wakeup may run past this point; the ones queued see closing */
	__atomic_store_n(&d->closing, 1, __ATOMIC_RELEASE);
	if (d->queue)
		dispatch_sync_f(d->queue, NULL, noop);
	if (d->conn) {
		if (d->page)
			IOConnectUnmapMemory64(d->conn, DEXT_MEM_IRQ_PAGE,
					       mach_task_self(),
					       (mach_vm_address_t)(uintptr_t)d->page);
		for (i = 0; i < DEXT_NUM_BARS; i++)
			if (d->bar_addr[i])
				IOConnectUnmapMemory64(d->conn, DEXT_MEM_BAR(i),
						       mach_task_self(),
						       d->bar_addr[i]);
		/* the dext resets the function, then drops every mapping */
		IOServiceClose(d->conn);
	}
	if (d->nport)
		IONotificationPortDestroy(d->nport);
	if (d->queue) {
		dispatch_sync_f(d->queue, NULL, noop);
		dispatch_release(d->queue);
	}
	iokit_dma_fini(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static void op_close(void *dev)
{
	dev_free(dev);
}

static const struct hostdev_ops iokit_hostdev_ops = {
	.config_read = op_config_read,
	.config_write = op_config_write,
	.bar_read = op_bar_read,
	.bar_write = op_bar_write,
	.irq_set = op_irq_set,
	.reset = op_reset,
	.close = op_close,
};

/* ---- open */

/* What the selector asks for. */
struct want {
	bool any;
	bool by_id;
	uint64_t id;
	uint16_t domain;
	uint8_t bus, devfn;
};

static bool parse_hex(const char **s, unsigned int digits, uint32_t *v)
{
	unsigned int i;

	*v = 0;
	for (i = 0; i < digits; i++) {
		char c = (*s)[i];
		uint32_t x;

		if (c >= '0' && c <= '9')
			x = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x = (uint32_t)(c - 'A' + 10);
		else
			return false;
		*v = *v << 4 | x;
	}
	*s += digits;
	return true;
}

static bool parse_selector(const char *sel, struct want *w)
{
	uint32_t dom = 0, bus, dev, fn;
	const char *s = sel;
	char *end;

	memset(w, 0, sizeof(*w));
	if (!sel || !*sel || !strcmp(sel, "auto")) {
		w->any = true;
		return true;
	}
	if (!strncmp(sel, "0x", 2) || !strncmp(sel, "0X", 2) ||
	    !strchr(sel, ':')) {
		w->by_id = true;
		w->id = strtoull(sel, &end, 0);
		return !*end && w->id;
	}
	/* [dddd:]bb:dd.f */
	if (strlen(sel) == 12) {
		if (!parse_hex(&s, 4, &dom) || *s++ != ':')
			return false;
	}
	if (!parse_hex(&s, 2, &bus) || *s++ != ':' || !parse_hex(&s, 2, &dev) ||
	    *s++ != '.' || !parse_hex(&s, 1, &fn) || *s || dev > 31 || fn > 7)
		return false;
	w->domain = (uint16_t)dom;
	w->bus = (uint8_t)bus;
	w->devfn = (uint8_t)(dev << 3 | fn);
	return true;
}

static void set_name(struct iokit_dev *d)
{
	const struct dext_info *i = &d->info;

	snprintf(d->hd.info.name, sizeof(d->hd.info.name),
		 "dext %04x:%02x:%02x.%x", i->domain, i->bus, i->devfn >> 3,
		 i->devfn & 7);
}

/* Claim the function behind an open connection; HOSTDEV_E_* or OK. */
static int claim(struct iokit_dev *d, const struct want *w, char *err,
		 size_t errlen, bool *skip)
{
	uint64_t ver[2] = { 0, 0 }, in[2] = { DEXT_ABI_VERSION, 0 }, out = 0;
	size_t isz = sizeof(d->info);
	char why[160];
	kern_return_t kr;

	*skip = false;
	kr = scalar_call(d, DEXT_SEL_GET_VERSION, NULL, 0, ver, 2);
	if (kr != KERN_SUCCESS) {
		say(err, errlen, "dext", "GET_VERSION failed");
		return iokit_err(kr);
	}
	if (DEXT_ABI_GET_MAJOR(ver[0]) != DEXT_ABI_MAJOR) {
		snprintf(why, sizeof(why), "the dext speaks ABI %u.%u, this "
			 "program %u.%u: install matching versions",
			 DEXT_ABI_GET_MAJOR(ver[0]), DEXT_ABI_GET_MINOR(ver[0]),
			 DEXT_ABI_MAJOR, DEXT_ABI_MINOR);
		say(err, errlen, "dext", why);
		return HOSTDEV_E_VERSION;
	}
	kr = IOConnectCallMethod(d->conn, DEXT_SEL_INFO, NULL, 0, NULL, 0,
				 NULL, NULL, &d->info, &isz);
	if (kr != KERN_SUCCESS || isz != sizeof(d->info)) {
		say(err, errlen, "dext", "INFO failed");
		return kr != KERN_SUCCESS ? iokit_err(kr) : HOSTDEV_E_VERSION;
	}
	d->info.name[sizeof(d->info.name) - 1] = 0;
	set_name(d);
	if (!w->any && !w->by_id &&
	    (d->info.domain != w->domain || d->info.bus != w->bus ||
	     d->info.devfn != w->devfn)) {
		*skip = true;
		return HOSTDEV_E_GONE;
	}
	kr = scalar_call(d, DEXT_SEL_HELLO, in, 2, &out, 1);
	if (kr == DEXT_IORETURN(DEXT_S_BUSY)) {
		say(err, errlen, d->hd.info.name,
		    "in use by another process (one client at a time)");
		*skip = w->any;
		return HOSTDEV_E_IO;
	}
	if (kr != KERN_SUCCESS) {
		say(err, errlen, d->hd.info.name, "the dext refused HELLO");
		return iokit_err(kr);
	}
	return HOSTDEV_OK;
}

static void map_bars(struct iokit_dev *d)
{
	struct hostdev_info *hi = &d->hd.info;
	unsigned int i;

	for (i = 0; i < DEXT_NUM_BARS; i++) {
		const struct dext_bar_desc *b = &d->info.bar[i];
		mach_vm_address_t addr = 0;
		mach_vm_size_t size = 0;

		hi->bar[i].size = b->size;
		hi->bar[i].flags = (b->flags & DEXT_BAR_IO ? HOSTDEV_BAR_IO : 0) |
				   (b->flags & DEXT_BAR_64 ? HOSTDEV_BAR_64 : 0) |
				   (b->flags & DEXT_BAR_PREFETCH ?
				    HOSTDEV_BAR_PREFETCH : 0);
		if (!b->size || !(b->flags & DEXT_BAR_MAPPABLE))
			continue;
		/* not fatal: the BAR is then reached by BAR_READ/BAR_WRITE */
		if (IOConnectMapMemory64(d->conn, DEXT_MEM_BAR(i),
					 mach_task_self(), &addr, &size,
					 kIOMapAnywhere) != KERN_SUCCESS)
			continue;
		if (size < b->size) {
			IOConnectUnmapMemory64(d->conn, DEXT_MEM_BAR(i),
					       mach_task_self(), addr);
			continue;
		}
		d->bar_addr[i] = addr;
		hi->bar[i].ptr = (void *)(uintptr_t)addr;
	}
}

/* Open and claim one service; on success *out is the device. */
static int open_service(io_service_t svc, const struct want *w,
			struct iokit_dev **out, char *err, size_t errlen,
			bool *skip)
{
	struct iokit_dev *d = calloc(1, sizeof(*d));
	kern_return_t kr;
	int e;

	*skip = false;
	if (!d) {
		say(err, errlen, "dext", "out of memory");
		return HOSTDEV_E_IO;
	}
	pthread_mutex_init(&d->lock, NULL);
	kr = IOServiceOpen(svc, mach_task_self(), DEXT_OPEN_TYPE, &d->conn);
	if (kr != KERN_SUCCESS) {
		d->conn = 0;
		say(err, errlen, "dext", "IOServiceOpen failed (entitlement? "
		    "is the dext running?)");
		e = iokit_err(kr);
		*skip = w->any;
		goto fail;
	}
	e = claim(d, w, err, errlen, skip);
	if (e != HOSTDEV_OK)
		goto fail;
	map_bars(d);
	e = arm_irqs(d, err, errlen);
	if (e == HOSTDEV_OK)
		e = iokit_dma_init(d);
	if (e != HOSTDEV_OK) {
		if (e == HOSTDEV_E_IO && errlen && !*err)
			say(err, errlen, d->hd.info.name, "out of memory");
		goto fail;
	}
	d->hd.ops = &iokit_hostdev_ops;
	d->hd.dev = d;
	d->hd.info.cfg_size = d->info.cfg_size;
	d->hd.info.resets = d->info.resets;
	d->hd.info.dma_addr = HOSTDEV_DMA_HVA;
	d->hd.info.max_bytes = d->info.max_bytes;
	d->hd.info.max_maps = d->info.max_maps;
	d->hd.dma_ops = &iokit_dma_ops;
	d->hd.dma_be = d;
	*out = d;
	return HOSTDEV_OK;
fail:
	dev_free(d);
	return e;
}

int hostdev_iokit_open(const char *selector, struct hostdev **out, char *err,
		       size_t errlen)
{
	struct iokit_dev *d = NULL;
	io_iterator_t it = IO_OBJECT_NULL;
	io_service_t svc;
	struct want w;
	bool skip, found = false;
	int e = HOSTDEV_E_GONE;
	kern_return_t kr;

	if (errlen)
		err[0] = 0;
	if (!out || !parse_selector(selector, &w)) {
		say(err, errlen, selector ? selector : "(null)",
		    "not a selector: use auto, a registry entry ID (0x...) or "
		    "a PCI location (0000:05:00.0)");
		return HOSTDEV_E_INVAL;
	}
	kr = IOServiceGetMatchingServices(kIOMainPortDefault,
					  w.by_id ? IORegistryEntryIDMatching(w.id) :
					  IOServiceMatching(DEXT_SERVICE_CLASS),
					  &it);
	if (kr != KERN_SUCCESS) {
		say(err, errlen, "dext", "IOServiceGetMatchingServices failed");
		return iokit_err(kr);
	}
	while ((svc = IOIteratorNext(it)) != IO_OBJECT_NULL) {
		found = true;
		e = open_service(svc, &w, &d, err, errlen, &skip);
		IOObjectRelease(svc);
		if (e == HOSTDEV_OK || !skip)
			break;
	}
	IOObjectRelease(it);
	if (e == HOSTDEV_OK) {
		*out = &d->hd;
		return HOSTDEV_OK;
	}
	if (!found || (skip && e == HOSTDEV_E_GONE)) {
		say(err, errlen, selector && *selector ? selector : "auto",
		    "no " DEXT_SERVICE_CLASS " service matches (is the dext "
		    "installed and the GPU attached?)");
		return HOSTDEV_E_GONE;
	}
	return e;
}

int hostdev_iokit_stats(struct hostdev *h, struct dext_stats *out)
{
	struct iokit_dev *d = h->dev;
	size_t sz = sizeof(*out);
	kern_return_t kr;

	kr = IOConnectCallMethod(d->conn, DEXT_SEL_STATS, NULL, 0, NULL, 0,
				 NULL, NULL, out, &sz);
	if (kr == KERN_SUCCESS && sz != sizeof(*out))
		return HOSTDEV_E_VERSION;
	return iokit_err(kr);
}

unsigned int hostdev_iokit_connection(struct hostdev *h)
{
	return ((struct iokit_dev *)h->dev)->conn;
}
