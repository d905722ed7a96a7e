/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not Apple's SDK: a declaration shim written from Apple's DriverKit
 * documentation, for compile checks off a Mac. See shim/DriverKit/README.md
 * for what it leaves unchecked.
 */
#ifndef SHIM_DRIVERKIT_IORETURN_H
#define SHIM_DRIVERKIT_IORETURN_H

#include <stdint.h>

typedef int kern_return_t;
typedef kern_return_t IOReturn;

#define KERN_SUCCESS		0
#define iokit_common_err(x)	((IOReturn)(0xe0000000u | (x)))

#define kIOReturnSuccess	KERN_SUCCESS
#define kIOReturnError		iokit_common_err(0x2bc)
#define kIOReturnNoMemory	iokit_common_err(0x2bd)
#define kIOReturnNoResources	iokit_common_err(0x2be)
#define kIOReturnNoDevice	iokit_common_err(0x2c0)
#define kIOReturnBadArgument	iokit_common_err(0x2c2)
#define kIOReturnUnsupported	iokit_common_err(0x2c7)
#define kIOReturnInternalError	iokit_common_err(0x2c9)
#define kIOReturnNotReady	iokit_common_err(0x2d8)
#define kIOReturnNotAttached	iokit_common_err(0x2d9)
#define kIOReturnNoSpace	iokit_common_err(0x2db)

#endif
