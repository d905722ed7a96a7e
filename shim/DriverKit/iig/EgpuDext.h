/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not iig output: our hand-written equivalent of what Apple's iig makes of
 * dext/EgpuDext.iig, for compile checks off a Mac (there is no iig here).
 * It declares the shape EgpuDext.cpp compiles against - the _Impl methods,
 * the typed-action helper, ivars, super - not the RPC plumbing. Keep it in
 * step with the .iig; see shim/DriverKit/README.md.
 */
#ifndef EgpuDext_h
#define EgpuDext_h

#include <DriverKit/IOService.h>
#include <DriverKit/IOInterruptDispatchSource.h>

#define EgpuPCIDriver_Start_Args		IOService_Start_Args
#define EgpuPCIDriver_Stop_Args			IOService_Stop_Args
#define EgpuPCIDriver_NewUserClient_Args	IOService_NewUserClient_Args
#define EgpuPCIDriver_InterruptOccurred_Args \
	IOInterruptDispatchSource_InterruptOccurred_Args

struct EgpuPCIDriver_IVars;
struct EgpuPCIDriver_LocalIVars;

class EgpuPCIDriver : public IOService {
public:
	union {
		EgpuPCIDriver_IVars *ivars;
		EgpuPCIDriver_LocalIVars *lvars;
	};

	using super = IOService;

	virtual kern_return_t Dispatch(const IORPC rpc) APPLE_KEXT_OVERRIDE;
	static kern_return_t _Dispatch(EgpuPCIDriver *self, const IORPC rpc);

	/* An OSAction calling InterruptOccurred, referenceSize bytes of reference. */
	kern_return_t CreateActionInterruptOccurred(size_t referenceSize,
						    OSAction **action);
	void InterruptOccurred(OSAction *action, uint64_t count, uint64_t time,
			       OSDispatchMethod supermethod = nullptr);

protected:
	kern_return_t Start_Impl(IOService_Start_Args);
	kern_return_t Stop_Impl(IOService_Stop_Args);
	kern_return_t NewUserClient_Impl(IOService_NewUserClient_Args);
	void InterruptOccurred_Impl(IOInterruptDispatchSource_InterruptOccurred_Args);

public:
	virtual bool init() APPLE_KEXT_OVERRIDE;
	virtual void free() APPLE_KEXT_OVERRIDE;
};

#endif /* EgpuDext_h */
