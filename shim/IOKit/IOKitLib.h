/*
 * shim/IOKit/IOKitLib.h - NOT Apple's SDK.
 *
 * Declarations of exactly the IOKit user-space calls host/hostdev_iokit.c
 * makes, written by us from Apple's IOKitLib documentation, so that the
 * backend compiles on Linux: for arm64-apple-macos13 (`make darwin`, a
 * Mach-O object) and natively against tests/iokit-shim/, the test double
 * that implements these same functions over the dext's portable logic.
 * See shim/IOKit/README.md for what this leaves unchecked.
 */
#ifndef EGPU_SHIM_IOKITLIB_H
#define EGPU_SHIM_IOKITLIB_H

#include <stddef.h>
#include <stdint.h>
#include <CoreFoundation/CoreFoundation.h>
#include <dispatch/dispatch.h>
#include <mach/mach.h>
#include <IOKit/IOTypes.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct IONotificationPort *IONotificationPortRef;

/* macOS 12+: the default main port (kIOMasterPortDefault before). */
extern const mach_port_t kIOMainPortDefault;

kern_return_t IOObjectRelease(io_object_t object);
io_object_t IOIteratorNext(io_iterator_t iterator);

/* Matching dictionaries: returned retained; GetMatchingServices consumes one. */
CFMutableDictionaryRef IOServiceMatching(const char *name);
CFMutableDictionaryRef IORegistryEntryIDMatching(uint64_t entryID);
kern_return_t IOServiceGetMatchingServices(mach_port_t mainPort,
					   CFDictionaryRef matching,
					   io_iterator_t *existing);

kern_return_t IOServiceOpen(io_service_t service, task_port_t owningTask,
			    uint32_t type, io_connect_t *connect);
kern_return_t IOServiceClose(io_connect_t connect);

/*
 * Structures above 4096 bytes are passed out of line: the dext sees them as
 * structureInputDescriptor / structureOutputDescriptor.
 */
kern_return_t IOConnectCallMethod(mach_port_t connection, uint32_t selector,
				  const uint64_t *input, uint32_t inputCnt,
				  const void *inputStruct,
				  size_t inputStructCnt, uint64_t *output,
				  uint32_t *outputCnt, void *outputStruct,
				  size_t *outputStructCnt);
kern_return_t IOConnectCallScalarMethod(mach_port_t connection,
					uint32_t selector,
					const uint64_t *input,
					uint32_t inputCnt, uint64_t *output,
					uint32_t *outputCnt);
/* reference[kIOAsyncCalloutFuncIndex/RefconIndex]: callback and refcon */
kern_return_t IOConnectCallAsyncScalarMethod(mach_port_t connection,
					     uint32_t selector,
					     mach_port_t wake_port,
					     uint64_t *reference,
					     uint32_t referenceCnt,
					     const uint64_t *input,
					     uint32_t inputCnt,
					     uint64_t *output,
					     uint32_t *outputCnt);

kern_return_t IOConnectMapMemory64(io_connect_t connect, uint32_t memoryType,
				   task_port_t intoTask,
				   mach_vm_address_t *atAddress,
				   mach_vm_size_t *ofSize,
				   IOOptionBits options);
kern_return_t IOConnectUnmapMemory64(io_connect_t connect,
				     uint32_t memoryType,
				     task_port_t fromTask,
				     mach_vm_address_t atAddress);

IONotificationPortRef IONotificationPortCreate(mach_port_t mainPort);
void IONotificationPortDestroy(IONotificationPortRef notify);
mach_port_t IONotificationPortGetMachPort(IONotificationPortRef notify);
void IONotificationPortSetDispatchQueue(IONotificationPortRef notify,
					dispatch_queue_t queue);

#ifdef __cplusplus
}
#endif

#endif /* EGPU_SHIM_IOKITLIB_H */
