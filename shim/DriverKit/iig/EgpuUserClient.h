/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not iig output: our hand-written equivalent of what Apple's iig makes of
 * dext/EgpuUserClient.iig, for compile checks off a Mac. Keep it in step
 * with the .iig; see shim/DriverKit/README.md.
 */
#ifndef EgpuUserClient_h
#define EgpuUserClient_h

#include <DriverKit/IOUserClient.h>

#define EgpuPCIUserClient_Start_Args	IOService_Start_Args
#define EgpuPCIUserClient_Stop_Args	IOService_Stop_Args
#define EgpuPCIUserClient_CopyClientMemoryForType_Args \
	IOUserClient_CopyClientMemoryForType_Args

struct EgpuPCIUserClient_IVars;
struct EgpuPCIUserClient_LocalIVars;

class EgpuPCIUserClient : public IOUserClient {
public:
	union {
		EgpuPCIUserClient_IVars *ivars;
		EgpuPCIUserClient_LocalIVars *lvars;
	};

	using super = IOUserClient;

	virtual kern_return_t Dispatch(const IORPC rpc) APPLE_KEXT_OVERRIDE;
	static kern_return_t _Dispatch(EgpuPCIUserClient *self, const IORPC rpc);

protected:
	kern_return_t Start_Impl(IOService_Start_Args);
	kern_return_t Stop_Impl(IOService_Stop_Args);
	kern_return_t CopyClientMemoryForType_Impl(
		IOUserClient_CopyClientMemoryForType_Args);

public:
	virtual bool init() APPLE_KEXT_OVERRIDE;
	virtual void free() APPLE_KEXT_OVERRIDE;
	virtual kern_return_t ExternalMethod(
		uint64_t selector, IOUserClientMethodArguments *arguments,
		const IOUserClientMethodDispatch *dispatch, OSObject *target,
		void *reference) APPLE_KEXT_OVERRIDE;
};

#endif /* EgpuUserClient_h */
