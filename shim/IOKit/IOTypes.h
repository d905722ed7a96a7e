/*
 * shim/IOKit/IOTypes.h - NOT Apple's SDK: the IOKit user-space types our
 * backend uses, written by us from Apple's documentation (see
 * shim/IOKit/README.md).
 */
#ifndef EGPU_SHIM_IOTYPES_H
#define EGPU_SHIM_IOTYPES_H

#include <stdint.h>
#include <mach/mach.h>
#include <IOKit/IOReturn.h>

typedef uint32_t IOOptionBits;
typedef mach_port_t io_object_t;
typedef io_object_t io_connect_t;
typedef io_object_t io_iterator_t;
typedef io_object_t io_registry_entry_t;
typedef io_object_t io_service_t;

#define IO_OBJECT_NULL		((io_object_t)0)

/* IOConnectMapMemory64 options */
#define kIOMapAnywhere		0x00000001

/* async references (OSMessageNotification.h) */
typedef uint64_t io_user_reference_t;
#define kOSAsyncRef64Count		8
#define kIOAsyncReservedIndex		0
#define kIOAsyncCalloutFuncIndex	1
#define kIOAsyncCalloutRefconIndex	2

/* The callback an async completion runs on the notification port's queue. */
typedef void (*IOAsyncCallback)(void *refcon, IOReturn result, void **args,
				uint32_t numArgs);

#endif /* EGPU_SHIM_IOTYPES_H */
