/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_IOLIB_H
#define SHIM_DRIVERKIT_IOLIB_H

#include <DriverKit/IOTypes.h>

void *IOMallocZero(size_t length);
void IOFree(void *address, size_t length);

#define IONewZero(type, count)	((type *)IOMallocZero(sizeof(type) * (count)))
#define IOSafeDeleteNULL(ptr, type, count)			\
	do {							\
		if ((ptr) != nullptr)				\
			IOFree((ptr), sizeof(type) * (count));	\
		(ptr) = nullptr;				\
	} while (0)

void IOLog(const char *format, ...) __attribute__((format(printf, 1, 2)));

typedef struct IOLock IOLock;
IOLock *IOLockAlloc(void);
void IOLockFree(IOLock *lock);
void IOLockLock(IOLock *lock);
void IOLockUnlock(IOLock *lock);

#endif
