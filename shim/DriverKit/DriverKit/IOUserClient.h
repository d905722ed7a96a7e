/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not Apple's SDK: declaration shim, see shim/DriverKit/README.md.
 *
 * One IOUserClient per IOServiceOpen() of a client process. Calls from the
 * client (IOConnectCall*Method) arrive in ExternalMethod; passing a
 * IOUserClientMethodDispatch entry to IOUserClient::ExternalMethod makes
 * the framework check the argument counts and sizes before calling its
 * function. IOConnectMapMemory64 arrives in CopyClientMemoryForType.
 */
#ifndef SHIM_DRIVERKIT_IOUSERCLIENT_H
#define SHIM_DRIVERKIT_IOUSERCLIENT_H

#include <DriverKit/IOService.h>
#include <DriverKit/IOMemoryDescriptor.h>
#include <DriverKit/OSAction.h>
#include <DriverKit/OSData.h>

enum {
	kIOUserClientAsyncArgumentsCountMax = 16,
};
typedef uint64_t IOUserClientAsyncArgumentsArray[kIOUserClientAsyncArgumentsCountMax];

/* "don't check" for the counts and sizes of IOUserClientMethodDispatch */
enum {
	kIOUserClientVariableStructureSize = 0xffffffff,
};

struct IOUserClientMethodArguments {
	uint64_t version;
	uint64_t selector;
	OSAction *completion;
	const uint64_t *scalarInput;
	uint32_t scalarInputCount;
	OSData *structureInput;
	/* set instead of structureInput for large inputs */
	IOMemoryDescriptor *structureInputDescriptor;
	uint64_t *scalarOutput;
	uint32_t scalarOutputCount;
	/* the driver sets it to a new OSData; the OS releases it */
	OSData *structureOutput;
	IOMemoryDescriptor *structureOutputDescriptor;
	uint64_t structureOutputMaximumSize;
	uint64_t __reserved[30];
};

typedef kern_return_t (*IOUserClientMethodFunction)(
	OSObject *target, void *reference,
	IOUserClientMethodArguments *arguments);

struct IOUserClientMethodDispatch {
	IOUserClientMethodFunction function;
	uint32_t checkCompletionExists;	/* 1 must, 0 must not, -1U either */
	uint32_t checkScalarInputCount;
	uint32_t checkStructureInputSize;
	uint32_t checkScalarOutputCount;
	uint32_t checkStructureOutputSize;
};

#define IOUserClient_CopyClientMemoryForType_Args \
	uint64_t type, uint64_t *options, IOMemoryDescriptor **memory

class IOUserClient : public IOService {
public:
	virtual bool init() override;
	virtual void free() override;

	virtual kern_return_t ExternalMethod(
		uint64_t selector, IOUserClientMethodArguments *arguments,
		const IOUserClientMethodDispatch *dispatch, OSObject *target,
		void *reference);

	/* Send asyncData to the client's completion (a retained OSAction). */
	void AsyncCompletion(OSAction *action, IOReturn status,
			     const IOUserClientAsyncArgumentsArray asyncData,
			     uint32_t asyncDataCount,
			     OSDispatchMethod supermethod = nullptr);

	kern_return_t CopyClientMemoryForType(
		uint64_t type, uint64_t *options, IOMemoryDescriptor **memory,
		OSDispatchMethod supermethod = nullptr);

	/*
	 * A descriptor of address ranges in the client task (up to 32);
	 * +1 reference. This is how the client's memory reaches the DART.
	 */
	kern_return_t CreateMemoryDescriptorFromClient(
		uint64_t memoryDescriptorCreateOptions, uint32_t segmentsCount,
		const IOAddressSegment *segments, IOMemoryDescriptor **memory,
		OSDispatchMethod supermethod = nullptr);

	static kern_return_t _Dispatch(IOUserClient *self, const IORPC rpc);
};

#endif
