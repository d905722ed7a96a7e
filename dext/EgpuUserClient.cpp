/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * EgpuUserClient.cpp - EgpuPCIUserClient: one client's session.
 *
 * A thin translation of IOUserClient calls into dext/core entry points:
 * Start -> dext_session_open, Stop (close, exit or crash of the client) ->
 * dext_session_close, ExternalMethod -> dext_dispatch, CopyClientMemoryForType
 * -> dext_memory_for_type. The dispatch table states every selector's
 * scalar counts and structure sizes (protocol/apple_dext.h); the framework
 * checks them before the core sees the call, and answers a mismatch with
 * kIOReturnBadArgument itself. Statuses go back as DEXT_IORETURN(status).
 */
#include <DriverKit/DriverKit.h>

#include "EgpuUserClient.h"
#include "EgpuDriverPrivate.h"
#include "dext_core.h"

struct EgpuPCIUserClient_IVars {
	struct dext_session *session;
};

/* ---- the dispatch table ------------------------------------------------- */

#define VAR	kIOUserClientVariableStructureSize

struct egpu_method {
	uint64_t selector;
	IOUserClientMethodDispatch dispatch;
};

static kern_return_t egpu_call(OSObject *target, void *reference,
			       IOUserClientMethodArguments *args);

/* selector, async?, scalars in, struct in, scalars out, struct out */
#define METHOD(sel, async, sin, stin, sout, stout) \
	{ sel, { egpu_call, async, sin, stin, sout, stout } }

static constexpr egpu_method egpu_methods[] = {
	METHOD(DEXT_SEL_GET_VERSION, 0, 0, 0, 2, 0),
	METHOD(DEXT_SEL_HELLO, 0, 2, 0, 1, 0),
	METHOD(DEXT_SEL_INFO, 0, 0, 0, 0, sizeof(struct dext_info)),
	METHOD(DEXT_SEL_CFG_READ, 0, 2, 0, 1, 0),
	METHOD(DEXT_SEL_CFG_WRITE, 0, 3, 0, 0, 0),
	METHOD(DEXT_SEL_BAR_READ, 0, 3, 0, 1, 0),
	METHOD(DEXT_SEL_BAR_WRITE, 0, 4, 0, 0, 0),
	METHOD(DEXT_SEL_REGION_ADD, 0, 3, 0, 1, 0),
	METHOD(DEXT_SEL_REGION_REMOVE, 0, 1, 0, 0, 0),
	METHOD(DEXT_SEL_DMA_BATCH, 0, 0, VAR, 0, VAR),
	METHOD(DEXT_SEL_IRQ_SET, 0, 2, 0, 0, 0),
	METHOD(DEXT_SEL_IRQ_ARM, 1, 0, 0, 0, 0),
	METHOD(DEXT_SEL_RESET, 0, 1, 0, 1, 0),
	METHOD(DEXT_SEL_STATS, 0, 0, 0, 0, sizeof(struct dext_stats)),
};

static constexpr bool egpu_methods_in_order()
{
	for (uint64_t i = 0; i < sizeof(egpu_methods) / sizeof(egpu_methods[0]); i++)
		if (egpu_methods[i].selector != i)
			return false;
	return true;
}

static_assert(sizeof(egpu_methods) / sizeof(egpu_methods[0]) == DEXT_SEL__COUNT,
	      "one dispatch entry per selector of apple_dext.h");
static_assert(egpu_methods_in_order(), "entry i is selector i");

/* ---- one call ------------------------------------------------------------ */

/*
 * A structure that came as a descriptor (larger than DEXT_INBAND_MAX),
 * mapped into the dext for the length of the call. Its size is the
 * descriptor's, not the mapping's (which may be rounded to pages).
 */
static kern_return_t map_descriptor(IOMemoryDescriptor *md, uint64_t options,
				    IOMemoryMap **map, void **bytes,
				    uint64_t *size)
{
	kern_return_t kr = md->GetLength(size);

	if (kr == kIOReturnSuccess)
		kr = md->CreateMapping(options, 0, 0, 0, 0, map);
	if (kr != kIOReturnSuccess)
		return kr;
	*bytes = reinterpret_cast<void *>((*map)->GetAddress());
	return kIOReturnSuccess;
}

static kern_return_t egpu_call(OSObject *target, void *reference,
			       IOUserClientMethodArguments *args)
{
	EgpuPCIUserClient *self = OSDynamicCast(EgpuPCIUserClient, target);
	uint64_t inband_out[DEXT_INBAND_MAX / 8];	/* the core wants 8-byte alignment */
	IOMemoryMap *in_map = nullptr, *out_map = nullptr;
	struct dext_call call = {};
	void *bytes = nullptr;
	uint64_t size = 0;
	kern_return_t kr = kIOReturnSuccess;
	int status;

	(void)reference;
	if (!self || !self->ivars || !self->ivars->session)
		return DEXT_IORETURN(DEXT_S_NOT_OPEN);

	call.selector = args->selector;
	call.scalar_in = args->scalarInput;
	call.scalar_in_count = args->scalarInputCount;
	call.scalar_out = args->scalarOutput;
	call.scalar_out_count = args->scalarOutputCount;
	call.completion = args->completion;

	if (args->structureInput) {
		call.struct_in = args->structureInput->getBytesNoCopy();
		call.struct_in_size = args->structureInput->getLength();
	} else if (args->structureInputDescriptor) {
		kr = map_descriptor(args->structureInputDescriptor,
				    kIOMemoryMapReadOnly, &in_map, &bytes, &size);
		call.struct_in = bytes;
		call.struct_in_size = size;
		call.struct_in_desc = args->structureInputDescriptor;
	}

	if (kr == kIOReturnSuccess && args->structureOutputDescriptor) {
		kr = map_descriptor(args->structureOutputDescriptor, 0,
				    &out_map, &bytes, &size);
		call.struct_out = bytes;
		call.struct_out_size = size;
	} else if (kr == kIOReturnSuccess && args->structureOutputMaximumSize) {
		call.struct_out = inband_out;
		call.struct_out_size = args->structureOutputMaximumSize;
		if (call.struct_out_size > sizeof(inband_out))
			call.struct_out_size = sizeof(inband_out);
	}

	if (kr == kIOReturnSuccess) {
		status = dext_dispatch(self->ivars->session, &call);
		args->scalarOutputCount = call.scalar_out_count;
		if (call.struct_out == inband_out && call.struct_out_size) {
			args->structureOutput = OSData::withBytes(
				inband_out, call.struct_out_size);
			if (!args->structureOutput && status == DEXT_S_OK)
				kr = kIOReturnNoMemory;
		}
		if (kr == kIOReturnSuccess)
			kr = DEXT_IORETURN(status);
	}
	OSSafeReleaseNULL(in_map);
	OSSafeReleaseNULL(out_map);
	return kr;
}

kern_return_t EgpuPCIUserClient::ExternalMethod(
	uint64_t selector, IOUserClientMethodArguments *arguments,
	const IOUserClientMethodDispatch *dispatch, OSObject *target,
	void *reference)
{
	(void)dispatch;
	(void)target;
	(void)reference;
	if (selector >= DEXT_SEL__COUNT)
		return DEXT_IORETURN(DEXT_S_BAD_SELECTOR);
	return super::ExternalMethod(selector, arguments,
				     &egpu_methods[selector].dispatch, this,
				     nullptr);
}

kern_return_t IMPL(EgpuPCIUserClient, CopyClientMemoryForType)
{
	void *md = nullptr;
	int status;

	if (!ivars->session)
		return DEXT_IORETURN(DEXT_S_NOT_OPEN);
	status = dext_memory_for_type(ivars->session, type, options, &md);
	if (status != DEXT_S_OK)
		return DEXT_IORETURN(status);
	*memory = static_cast<IOMemoryDescriptor *>(md);
	return kIOReturnSuccess;
}

/* ---- lifecycle ----------------------------------------------------------- */

bool EgpuPCIUserClient::init()
{
	if (!super::init())
		return false;
	ivars = IONewZero(EgpuPCIUserClient_IVars, 1);
	return ivars != nullptr;
}

void EgpuPCIUserClient::free()
{
	/*
	 * No session is left here: it is opened last in Start, and a started
	 * client is always stopped before it is freed - while the driver's
	 * core still exists, which it may no longer do now.
	 */
	IOSafeDeleteNULL(ivars, EgpuPCIUserClient_IVars, 1);
	super::free();
}

kern_return_t IMPL(EgpuPCIUserClient, Start)
{
	struct dext_core *core;
	int status = DEXT_S_OK;
	kern_return_t kr;

	kr = Start(provider, SUPERDISPATCH);
	if (kr != kIOReturnSuccess)
		return kr;
	core = EgpuPCIDriverCore(provider);
	if (!core)
		return kIOReturnNotReady;
	/* The core keeps this pointer as "client" for the platform ops. */
	ivars->session = dext_session_open(core, static_cast<IOUserClient *>(this),
					   &status);
	if (!ivars->session)
		return DEXT_IORETURN(status ? status : DEXT_S_BUSY);
	return kIOReturnSuccess;
}

kern_return_t IMPL(EgpuPCIUserClient, Stop)
{
	/*
	 * The client closed the connection, exited or crashed. If it owned
	 * the function: interrupts and bus mastering off, reset, then every
	 * DART mapping and region released (dext_session_close).
	 */
	if (ivars->session) {
		dext_session_close(ivars->session);
		ivars->session = nullptr;
	}
	return Stop(provider, SUPERDISPATCH);
}
