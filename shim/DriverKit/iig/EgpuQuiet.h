/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not iig output: our hand-written equivalent of what Apple's iig makes of
 * dext/EgpuQuiet.iig, for compile checks off a Mac. Keep it in step with
 * the .iig; see shim/DriverKit/README.md.
 */
#ifndef EgpuQuiet_h
#define EgpuQuiet_h

#include <DriverKit/IOService.h>

#define EgpuQuietFunction_Start_Args	IOService_Start_Args
#define EgpuQuietFunction_Stop_Args	IOService_Stop_Args

struct EgpuQuietFunction_IVars;
struct EgpuQuietFunction_LocalIVars;

class EgpuQuietFunction : public IOService {
public:
	union {
		EgpuQuietFunction_IVars *ivars;
		EgpuQuietFunction_LocalIVars *lvars;
	};

	using super = IOService;

	virtual kern_return_t Dispatch(const IORPC rpc) APPLE_KEXT_OVERRIDE;
	static kern_return_t _Dispatch(EgpuQuietFunction *self, const IORPC rpc);

protected:
	kern_return_t Start_Impl(IOService_Start_Args);
	kern_return_t Stop_Impl(IOService_Stop_Args);

public:
	virtual bool init() APPLE_KEXT_OVERRIDE;
	virtual void free() APPLE_KEXT_OVERRIDE;
};

#endif /* EgpuQuiet_h */
