/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * EgpuDext.cpp - EgpuPCIDriver, the service on the GPU function.
 *
 * It owns the function and the portable core's state; the platform ops
 * the core calls are in EgpuPlatform.cpp. Start opens the function for
 * this service alone and turns bus mastering off: nothing the function
 * does reaches memory until a client's guest enables it through config
 * space, and every client's session ends with bus mastering off and a
 * reset (dext_session_close). Stop releases everything; IOPCIDevice::Close
 * turns Memory Space and Bus Master off too.
 */
#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "EgpuDext.h"
#include "EgpuDriverPrivate.h"
#include "dext_core.h"

#define EGPU_IRQ_QUEUE		"EgpuInterrupts"
/* A whole VM page, so nothing else shares the client's mapping of it. */
#define EGPU_IRQ_PAGE_BYTES	((uint64_t)DEXT_PAGE_SIZE)
#define EGPU_PCIE_DEVCAP	0x04		/* PCIe capability: Device Capabilities */
#define EGPU_PCIE_DEVCAP_FLR	(1u << 28)	/* function-level reset supported */

/*
 * A vector fired: its action's reference holds the vector number
 * (egpu_irq_enable in EgpuPlatform.cpp made one action per vector).
 */
void IMPL(EgpuPCIDriver, InterruptOccurred)
{
	struct dext_core *core = ivars->core;
	uint32_t *vector = static_cast<uint32_t *>(action->GetReference());
	uint32_t kind = ivars->irq_kind;

	(void)count;	/* edges since the last call: one pending bit holds them */
	(void)time;
	if (core && vector && kind != DEXT_IRQ_NONE)
		dext_core_irq(core, kind, *vector, 1);
}

/* ---- what the function is ----------------------------------------------- */

static void put_hex(char *p, unsigned int v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits--) {
		p[digits] = hex[v & 0xf];
		v >>= 4;
	}
}

/* "dext bb:dd.f" for messages, without a libc. */
static void name_function(char *name, uint8_t bus, uint8_t dev, uint8_t fn)
{
	static const char prefix[] = "dext ";
	unsigned int i;

	for (i = 0; i < sizeof(prefix) - 1; i++)
		name[i] = prefix[i];
	put_hex(name + i, bus, 2);
	name[i + 2] = ':';
	put_hex(name + i + 3, dev, 2);
	name[i + 5] = '.';
	name[i + 6] = (char)('0' + (fn & 7));
	name[i + 7] = '\0';
}

static void read_info(EgpuPCIDriver_IVars *iv)
{
	struct dext_platform_info *in = &iv->info;
	uint8_t bus = 0, dev = 0, fn = 0, idx, type;
	uint64_t size, pcie = 0;
	uint32_t devcap = 0;
	unsigned int b;

	iv->pci->GetBusDeviceFunction(&bus, &dev, &fn);
	in->domain = 0;		/* PCIDriverKit does not name the domain */
	in->bus = bus;
	in->devfn = (uint8_t)(dev << 3 | (fn & 7));
	name_function(in->name, bus, dev, fn);

	in->cfg_size = 256;
	in->resets = DEXT_RESET_BUS;	/* through the upstream bridge */
	if (iv->pci->FindPCICapability(kIOPCICapabilityIDPCIExpress, 0,
				       &pcie) == kIOReturnSuccess && pcie) {
		in->cfg_size = 4096;
		iv->pci->ConfigurationRead32(pcie + EGPU_PCIE_DEVCAP, &devcap);
		if (devcap != 0xffffffffu && (devcap & EGPU_PCIE_DEVCAP_FLR))
			in->resets |= DEXT_RESET_FLR;
	}

	for (b = 0; b < DEXT_NUM_BARS; b++) {
		idx = 0;
		type = 0;
		size = 0;
		if (iv->pci->GetBARInfo((uint8_t)b, &idx, &size, &type) !=
		    kIOReturnSuccess || !size)
			continue;
		iv->mem_index[b] = idx;
		in->bar[b].size = size;
		switch (type) {
		case kPCIBARTypeIO:
			in->bar[b].flags = DEXT_BAR_IO;
			break;
		case kPCIBARTypeM32PF:
			in->bar[b].flags = DEXT_BAR_PREFETCH | DEXT_BAR_MAPPABLE;
			break;
		case kPCIBARTypeM64:
			in->bar[b].flags = DEXT_BAR_64 | DEXT_BAR_MAPPABLE;
			break;
		case kPCIBARTypeM64PF:
			in->bar[b].flags = DEXT_BAR_64 | DEXT_BAR_PREFETCH |
					   DEXT_BAR_MAPPABLE;
			break;
		default:
			in->bar[b].flags = DEXT_BAR_MAPPABLE;
			break;
		}
	}
}

/* ---- the service -------------------------------------------------------- */

bool EgpuPCIDriver::init()
{
	if (!super::init())
		return false;
	ivars = IONewZero(EgpuPCIDriver_IVars, 1);
	return ivars != nullptr;
}

void EgpuPCIDriver::free()
{
	IOSafeDeleteNULL(ivars, EgpuPCIDriver_IVars, 1);
	super::free();
}

/* Undo whatever Start got to; safe to call twice. */
static void teardown(EgpuPCIDriver_IVars *iv)
{
	uint16_t cmd = 0;
	unsigned int i;

	iv->core = nullptr;	/* the interrupt handler checks it first */
	if (iv->irq_src) {
		egpu_irq_release(iv);
		IOSafeDeleteNULL(iv->irq_src, IOInterruptDispatchSource *,
				 DEXT_MAX_MSIX);
	}
	/*
	 * A handler that read core before it was cleared may still run on the
	 * (serial) interrupt queue: wait for it before the core's memory goes.
	 */
	if (iv->irq_queue)
		iv->irq_queue->DispatchSync(^{});
	if (iv->core_mem) {
		IOFree(iv->core_mem, iv->core_size);
		iv->core_mem = nullptr;
	}
	OSSafeReleaseNULL(iv->irq_page);
	OSSafeReleaseNULL(iv->irq_queue);
	for (i = 0; i < 2; i++) {
		if (iv->lock[i])
			IOLockFree(iv->lock[i]);
		iv->lock[i] = nullptr;
	}
	if (iv->opened) {
		iv->pci->ConfigurationRead16(kIOPCIConfigurationOffsetCommand, &cmd);
		iv->pci->ConfigurationWrite16(kIOPCIConfigurationOffsetCommand,
					      cmd & ~kIOPCICommandBusMaster);
		iv->pci->Close(iv->self, 0);
		iv->opened = false;
	}
	OSSafeReleaseNULL(iv->pci);
}

kern_return_t IMPL(EgpuPCIDriver, Start)
{
	EgpuPCIDriver_IVars *iv = ivars;
	struct dext_core_config cfg = {};	/* zeros: the core's defaults */
	IOAddressSegment page = {};
	uint16_t cmd = 0;
	kern_return_t kr;

	kr = Start(provider, SUPERDISPATCH);
	if (kr != kIOReturnSuccess)
		return kr;
	iv->self = this;
	iv->pci = OSDynamicCast(IOPCIDevice, provider);
	if (!iv->pci)
		return kIOReturnNoDevice;
	iv->pci->retain();
	kr = iv->pci->Open(this, 0);
	if (kr != kIOReturnSuccess)
		goto fail;
	iv->opened = true;

	/* No DMA and no INTx until a client's guest asks for them. */
	iv->pci->ConfigurationRead16(kIOPCIConfigurationOffsetCommand, &cmd);
	cmd &= ~kIOPCICommandBusMaster;
	cmd |= kIOPCICommandInterruptDisable;
	iv->pci->ConfigurationWrite16(kIOPCIConfigurationOffsetCommand, cmd);
	read_info(iv);

	kr = kIOReturnNoMemory;
	iv->lock[DEXT_LOCK_MAIN] = IOLockAlloc();
	iv->lock[DEXT_LOCK_IRQ] = IOLockAlloc();
	iv->irq_src = IONewZero(IOInterruptDispatchSource *, DEXT_MAX_MSIX);
	if (!iv->lock[0] || !iv->lock[1] || !iv->irq_src)
		goto fail;
	kr = IODispatchQueue::Create(EGPU_IRQ_QUEUE, 0, 0, &iv->irq_queue);
	if (kr != kIOReturnSuccess)
		goto fail;
	kr = IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut,
					      EGPU_IRQ_PAGE_BYTES,
					      EGPU_IRQ_PAGE_BYTES, &iv->irq_page);
	if (kr == kIOReturnSuccess)
		kr = iv->irq_page->SetLength(EGPU_IRQ_PAGE_BYTES);
	if (kr == kIOReturnSuccess)
		kr = iv->irq_page->GetAddressRange(&page);
	if (kr != kIOReturnSuccess || !page.address)
		goto fail;

	iv->core_size = dext_core_size(&cfg);
	iv->core_mem = IOMallocZero(iv->core_size);
	if (!iv->core_mem) {
		kr = kIOReturnNoMemory;
		goto fail;
	}
	iv->core = dext_core_init(iv->core_mem, &cfg, &egpu_platform_ops, iv,
				  reinterpret_cast<void *>(page.address));
	if (!iv->core) {
		kr = kIOReturnInternalError;
		goto fail;
	}
	/* Clients find us by name: IOServiceNameMatching(DEXT_SERVICE_CLASS). */
	SetName(DEXT_SERVICE_CLASS);
	IOLog("EgpuDext %s: ready\n", iv->info.name);
	return RegisterService();

fail:
	IOLog("EgpuDext: Start failed 0x%x\n", kr);
	teardown(iv);
	return kr ? kr : kIOReturnError;
}

kern_return_t IMPL(EgpuPCIDriver, Stop)
{
	/*
	 * Our user clients (the sessions) are stopped before their provider,
	 * so every session is closed and the function reset by now.
	 */
	teardown(ivars);
	return Stop(provider, SUPERDISPATCH);
}

kern_return_t IMPL(EgpuPCIDriver, NewUserClient)
{
	IOService *service = nullptr;
	kern_return_t kr;

	if (type != DEXT_OPEN_TYPE)
		return kIOReturnBadArgument;
	if (!ivars->core)
		return kIOReturnNotReady;
	kr = Create(this, "UserClientProperties", &service);
	if (kr != kIOReturnSuccess)
		return kr;
	*userClient = OSDynamicCast(IOUserClient, service);
	if (!*userClient) {
		OSSafeReleaseNULL(service);
		return kIOReturnError;
	}
	return kIOReturnSuccess;
}

struct dext_core *EgpuPCIDriverCore(IOService *provider)
{
	EgpuPCIDriver *driver = OSDynamicCast(EgpuPCIDriver, provider);

	return driver && driver->ivars ? driver->ivars->core : nullptr;
}
