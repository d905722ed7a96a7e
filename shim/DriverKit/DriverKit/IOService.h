/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not Apple's SDK: declaration shim, see shim/DriverKit/README.md.
 *
 * IIG turns each method of an .iig class into a public caller that takes
 * an optional OSDispatchMethod (non-NULL: call that implementation, i.e.
 * the superclass's, via SUPERDISPATCH) and, in the class that implements
 * it, a protected Method_Impl(Class_Method_Args). The _Args macros below
 * are the parameter lists IIG emits for IOService's methods.
 */
#ifndef SHIM_DRIVERKIT_IOSERVICE_H
#define SHIM_DRIVERKIT_IOSERVICE_H

#include <DriverKit/OSObject.h>
#include <DriverKit/IODispatchQueue.h>

class IOUserClient;

typedef char IOServiceName[128];
typedef char IOPropertyName[128];

#define IOService_Start_Args		IOService *provider
#define IOService_Stop_Args		IOService *provider
#define IOService_NewUserClient_Args	uint32_t type, IOUserClient **userClient

class IOService : public OSObject {
public:
	virtual bool init() override;
	virtual void free() override;

	kern_return_t Start(IOService *provider,
			    OSDispatchMethod supermethod = nullptr);
	kern_return_t Stop(IOService *provider,
			   OSDispatchMethod supermethod = nullptr);
	kern_return_t RegisterService(OSDispatchMethod supermethod = nullptr);
	/* The registry entry's name (what IOServiceNameMatching matches). */
	kern_return_t SetName(const IOServiceName name,
			      OSDispatchMethod supermethod = nullptr);
	kern_return_t NewUserClient(uint32_t type, IOUserClient **userClient,
				    OSDispatchMethod supermethod = nullptr);
	/*
	 * A new service (a user client) described by the dictionary under
	 * propertiesKey in this service's properties; +1 reference.
	 */
	kern_return_t Create(IOService *provider,
			     const IOPropertyName propertiesKey,
			     IOService **result,
			     OSDispatchMethod supermethod = nullptr);

	static kern_return_t _Dispatch(IOService *self, const IORPC rpc);
};

#endif
