/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * EgpuPlatform.cpp - dext/core's platform ops over PCIDriverKit.
 *
 * Everything that decides something is in dext/core/; this file only
 * translates: DEXT_S_* <-> IOReturn, a BAR number <-> PCIDriverKit's memory
 * index, a map <-> IODMACommand::PrepareForDMA segments, a vector <-> an
 * IOInterruptDispatchSource. The ops get the driver's ivars as their
 * "plat" pointer and the EgpuPCIUserClient (as IOUserClient *) as their
 * "client" pointer. The core calls them with its main lock held.
 */
#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "EgpuDext.h"
#include "EgpuDriverPrivate.h"
#include "dext_core.h"

static EgpuPCIDriver_IVars *iv_of(void *plat)
{
	return static_cast<EgpuPCIDriver_IVars *>(plat);
}

/* What a failed DriverKit call means to the core. */
static int status_of(kern_return_t kr)
{
	switch (kr) {
	case kIOReturnSuccess:
		return DEXT_S_OK;
	case kIOReturnNoMemory:
	case kIOReturnNoResources:
	case kIOReturnNoSpace:
		return DEXT_S_NO_SPACE;
	case kIOReturnUnsupported:
		return DEXT_S_NOTSUP;
	case kIOReturnNoDevice:
	case kIOReturnNotAttached:
		return DEXT_S_GONE;
	case kIOReturnBadArgument:
		return DEXT_S_INVALID;
	default:
		return DEXT_S_IO_ERROR;
	}
}

/* ---- config space and BARs --------------------------------------------- */

static int egpu_cfg_read(void *plat, uint32_t off, unsigned int len,
			 uint32_t *val)
{
	IOPCIDevice *pci = iv_of(plat)->pci;
	uint8_t v8;
	uint16_t v16;

	switch (len) {
	case 1:
		pci->ConfigurationRead8(off, &v8);
		*val = v8;
		return DEXT_S_OK;
	case 2:
		pci->ConfigurationRead16(off, &v16);
		*val = v16;
		return DEXT_S_OK;
	case 4:
		pci->ConfigurationRead32(off, val);
		return DEXT_S_OK;
	}
	return DEXT_S_INVALID;
}

static int egpu_cfg_write(void *plat, uint32_t off, unsigned int len,
			  uint32_t val)
{
	IOPCIDevice *pci = iv_of(plat)->pci;

	switch (len) {
	case 1:
		pci->ConfigurationWrite8(off, (uint8_t)val);
		return DEXT_S_OK;
	case 2:
		pci->ConfigurationWrite16(off, (uint16_t)val);
		return DEXT_S_OK;
	case 4:
		pci->ConfigurationWrite32(off, val);
		return DEXT_S_OK;
	}
	return DEXT_S_INVALID;
}

/* The memory index of a memory BAR that [off, off + size) lies in. */
static int bar_index(EgpuPCIDriver_IVars *iv, unsigned int bar, uint64_t off,
		     unsigned int size, uint8_t *index)
{
	const struct dext_bar_desc *b;

	if (bar >= DEXT_NUM_BARS)
		return DEXT_S_INVALID;
	b = &iv->info.bar[bar];
	if (!b->size || (b->flags & DEXT_BAR_IO))
		return DEXT_S_NOTSUP;
	if (off > b->size || b->size - off < size)
		return DEXT_S_INVALID;
	*index = iv->mem_index[bar];
	return DEXT_S_OK;
}

static int egpu_bar_read(void *plat, unsigned int bar, uint64_t off,
			 unsigned int size, uint64_t *val)
{
	EgpuPCIDriver_IVars *iv = iv_of(plat);
	uint8_t idx, v8;
	uint16_t v16;
	uint32_t v32;
	int st = bar_index(iv, bar, off, size, &idx);

	if (st)
		return st;
	switch (size) {
	case 1:
		iv->pci->MemoryRead8(idx, off, &v8);
		*val = v8;
		return DEXT_S_OK;
	case 2:
		iv->pci->MemoryRead16(idx, off, &v16);
		*val = v16;
		return DEXT_S_OK;
	case 4:
		iv->pci->MemoryRead32(idx, off, &v32);
		*val = v32;
		return DEXT_S_OK;
	case 8:
		iv->pci->MemoryRead64(idx, off, val);
		return DEXT_S_OK;
	}
	return DEXT_S_INVALID;
}

static int egpu_bar_write(void *plat, unsigned int bar, uint64_t off,
			  unsigned int size, uint64_t val)
{
	EgpuPCIDriver_IVars *iv = iv_of(plat);
	uint8_t idx;
	int st = bar_index(iv, bar, off, size, &idx);

	if (st)
		return st;
	switch (size) {
	case 1:
		iv->pci->MemoryWrite8(idx, off, (uint8_t)val);
		return DEXT_S_OK;
	case 2:
		iv->pci->MemoryWrite16(idx, off, (uint16_t)val);
		return DEXT_S_OK;
	case 4:
		iv->pci->MemoryWrite32(idx, off, (uint32_t)val);
		return DEXT_S_OK;
	case 8:
		iv->pci->MemoryWrite64(idx, off, val);
		return DEXT_S_OK;
	}
	return DEXT_S_INVALID;
}

static int egpu_info(void *plat, struct dext_platform_info *out)
{
	*out = iv_of(plat)->info;
	return DEXT_S_OK;
}

static int egpu_bar_memory(void *plat, unsigned int bar, void **memory)
{
	EgpuPCIDriver_IVars *iv = iv_of(plat);
	IOMemoryDescriptor *md = nullptr;
	uint8_t idx;
	kern_return_t kr;
	int st = bar_index(iv, bar, 0, 0, &idx);

	if (st)
		return st;
	kr = iv->pci->_CopyDeviceMemoryWithIndex(idx, &md, iv->self);
	if (kr != kIOReturnSuccess || !md)
		return kr ? status_of(kr) : DEXT_S_IO_ERROR;
	*memory = md;
	return DEXT_S_OK;
}

static int egpu_irq_page_memory(void *plat, void **memory)
{
	EgpuPCIDriver_IVars *iv = iv_of(plat);

	iv->irq_page->retain();
	*memory = iv->irq_page;
	return DEXT_S_OK;
}

/* ---- the client's memory and the DART ---------------------------------- */

static int egpu_region_create(void *plat, void *client, uint64_t addr,
			      uint64_t size, void **region)
{
	IOUserClient *uc = static_cast<IOUserClient *>(client);
	IOAddressSegment range = { addr, size };
	IOMemoryDescriptor *md = nullptr;
	kern_return_t kr;

	(void)plat;
	/*
	 * Both directions, and no copy-on-write: the device must see the
	 * client's own pages (the guest's RAM), whatever the client does.
	 */
	kr = uc->CreateMemoryDescriptorFromClient(
		kIOMemoryDirectionInOut | kIOMemoryDisableCopyOnWrite, 1,
		&range, &md);
	if (kr != kIOReturnSuccess || !md)
		return kr ? status_of(kr) : DEXT_S_IO_ERROR;
	*region = md;
	return DEXT_S_OK;
}

static void egpu_region_destroy(void *plat, void *region)
{
	(void)plat;
	static_cast<IOMemoryDescriptor *>(region)->release();
}

/*
 * One IODMACommand per mapping: PrepareForDMA makes the DART mapping and
 * names the device addresses, CompleteDMA removes it. The mapping is
 * always read-write, whatever dir says: the guest's coalescer may reuse a
 * mapping made for one direction for a buffer of the other, and a device
 * write to a read-only DART page faults the host.
 */
static int egpu_dma_map(void *plat, void *region, uint64_t offset,
			uint64_t len, uint32_t dir, struct dext_seg *seg,
			uint32_t max_segs, uint32_t *nsegs, void **mapping)
{
	EgpuPCIDriver_IVars *iv = iv_of(plat);
	IODMACommandSpecification spec = {};
	IOAddressSegment out[DEXT_MAX_SEGS] = {};
	IODMACommand *cmd = nullptr;
	uint32_t n = max_segs < DEXT_MAX_SEGS ? max_segs : DEXT_MAX_SEGS;
	uint64_t flags = 0;
	kern_return_t kr;
	uint32_t i;

	(void)dir;
	spec.options = kIODMACommandSpecificationNoOptions;
	spec.maxAddressBits = 64;
	kr = IODMACommand::Create(iv->pci, kIODMACommandCreateNoOptions, &spec,
				  &cmd);
	if (kr != kIOReturnSuccess || !cmd)
		return kr ? status_of(kr) : DEXT_S_NO_SPACE;
	kr = cmd->PrepareForDMA(kIODMACommandPrepareForDMANoOptions,
				static_cast<IOMemoryDescriptor *>(region),
				offset, len, &flags, &n, out);
	if (kr != kIOReturnSuccess) {
		cmd->release();
		return status_of(kr);
	}
	/* more than out[] holds cannot be copied; coverage: the core checks */
	if (n > max_segs || n > DEXT_MAX_SEGS) {
		cmd->CompleteDMA(kIODMACommandCompleteDMANoOptions);
		cmd->release();
		return DEXT_S_IO_ERROR;
	}
	for (i = 0; i < n; i++) {
		seg[i].iova = out[i].address;
		seg[i].len = out[i].length;
	}
	*nsegs = n;
	*mapping = cmd;
	return DEXT_S_OK;
}

static void egpu_dma_unmap(void *plat, void *mapping)
{
	IODMACommand *cmd = static_cast<IODMACommand *>(mapping);

	(void)plat;
	cmd->CompleteDMA(kIODMACommandCompleteDMANoOptions);
	cmd->release();
}

/* ---- interrupts --------------------------------------------------------- */

void egpu_irq_release(EgpuPCIDriver_IVars *iv)
{
	uint32_t v;

	iv->irq_kind = DEXT_IRQ_NONE;
	for (v = 0; v < iv->irq_nvec; v++) {
		if (!iv->irq_src[v])
			continue;
		iv->irq_src[v]->SetEnableWithCompletion(false, nullptr);
		OSSafeReleaseNULL(iv->irq_src[v]);
	}
	iv->irq_nvec = 0;
}

/*
 * PCIDriverKit delivers only message-signalled interrupts to a dext: one
 * source per vector, vector v at interrupt index v once ConfigureInterrupts
 * has set them up. INTx is not available.
 */
static int egpu_irq_enable(void *plat, uint32_t kind, uint32_t nvec)
{
	EgpuPCIDriver_IVars *iv = iv_of(plat);
	IOInterruptDispatchSource *src;
	OSAction *action;
	kern_return_t kr;
	uint32_t v;

	egpu_irq_release(iv);
	if (kind == DEXT_IRQ_NONE)
		return DEXT_S_OK;
	if (kind == DEXT_IRQ_INTX)
		return DEXT_S_NOTSUP;
	if (kind != DEXT_IRQ_MSI && kind != DEXT_IRQ_MSIX)
		return DEXT_S_INVALID;
	if (!nvec || nvec > (kind == DEXT_IRQ_MSIX ? DEXT_MAX_MSIX : DEXT_MAX_MSI))
		return DEXT_S_INVALID;
	kr = iv->pci->ConfigureInterrupts(kind == DEXT_IRQ_MSIX ?
					  kIOInterruptTypePCIMessagedX :
					  kIOInterruptTypePCIMessaged,
					  nvec, nvec, 0);
	if (kr != kIOReturnSuccess)
		return status_of(kr);
	for (v = 0; v < nvec; v++) {
		src = nullptr;
		action = nullptr;
		kr = IOInterruptDispatchSource::Create(iv->pci, v, iv->irq_queue,
						       &src);
		if (kr == kIOReturnSuccess)
			kr = iv->self->CreateActionInterruptOccurred(
				sizeof(uint32_t), &action);
		if (kr == kIOReturnSuccess) {
			*static_cast<uint32_t *>(action->GetReference()) = v;
			kr = src->SetHandler(action);
		}
		OSSafeReleaseNULL(action);	/* the source keeps its own */
		if (kr == kIOReturnSuccess)
			kr = src->SetEnableWithCompletion(true, nullptr);
		if (kr != kIOReturnSuccess) {
			OSSafeReleaseNULL(src);
			egpu_irq_release(iv);
			return status_of(kr);
		}
		iv->irq_src[v] = src;
		iv->irq_nvec = v + 1;
	}
	iv->irq_kind = kind;
	return DEXT_S_OK;
}

/* ---- reset, completions, locks ------------------------------------------ */

static int egpu_reset(void *plat, uint32_t method)
{
	IOOptionBits type;

	if (method == DEXT_RESET_FLR)
		type = kIOPCIDeviceResetTypeFunctionReset;
	else if (method == DEXT_RESET_BUS)
		type = kIOPCIDeviceResetTypeHotReset;
	else
		return DEXT_S_INVALID;
	return status_of(iv_of(plat)->pci->Reset(type,
						 kIOPCIDeviceResetOptionNone));
}

static void egpu_notify(void *plat, void *client, void *completion,
			const uint64_t *data, uint32_t n)
{
	IOUserClientAsyncArgumentsArray args = {};
	uint32_t i;

	(void)plat;
	if (n > kIOUserClientAsyncArgumentsCountMax)
		n = kIOUserClientAsyncArgumentsCountMax;
	for (i = 0; i < n; i++)
		args[i] = data[i];
	static_cast<IOUserClient *>(client)->AsyncCompletion(
		static_cast<OSAction *>(completion), kIOReturnSuccess, args, n);
}

static void egpu_completion_retain(void *plat, void *completion)
{
	(void)plat;
	static_cast<OSAction *>(completion)->retain();
}

static void egpu_completion_release(void *plat, void *completion)
{
	(void)plat;
	static_cast<OSAction *>(completion)->release();
}

static void egpu_lock(void *plat, int which)
{
	IOLockLock(iv_of(plat)->lock[which]);
}

static void egpu_unlock(void *plat, int which)
{
	IOLockUnlock(iv_of(plat)->lock[which]);
}

static void egpu_log(void *plat, const char *msg)
{
	IOLog("EgpuDext %s: %s\n", iv_of(plat)->info.name, msg);
}

const struct dext_platform_ops egpu_platform_ops = {
	.cfg_read = egpu_cfg_read,
	.cfg_write = egpu_cfg_write,
	.bar_read = egpu_bar_read,
	.bar_write = egpu_bar_write,
	.info = egpu_info,
	.bar_memory = egpu_bar_memory,
	.irq_page_memory = egpu_irq_page_memory,
	.region_create = egpu_region_create,
	.region_destroy = egpu_region_destroy,
	.dma_map = egpu_dma_map,
	.dma_unmap = egpu_dma_unmap,
	.irq_enable = egpu_irq_enable,
	.reset = egpu_reset,
	.notify = egpu_notify,
	.completion_retain = egpu_completion_retain,
	.completion_release = egpu_completion_release,
	.lock = egpu_lock,
	.unlock = egpu_unlock,
	.log = egpu_log,
};
