/*
 * shim/IOKit/IOReturn.h - NOT Apple's SDK: the IOReturn codes our IOKit
 * backend tells apart, written by us from Apple's documentation (see
 * shim/IOKit/README.md). iokit_common_err(x) is sys_iokit | sub_iokit_common
 * | x = 0xe0000000 | x; driver-specific codes (iokit_vendor_specific_err)
 * are 0xe3ff8000 | x, which is how protocol/apple_dext.h carries DEXT_S_*.
 */
#ifndef EGPU_SHIM_IORETURN_H
#define EGPU_SHIM_IORETURN_H

#include <mach/mach.h>

typedef kern_return_t IOReturn;

#define sys_iokit			(0x38u << 26)
#define sub_iokit_common		0u
#define sub_iokit_vendor_specific	(0xffeu << 14)
#define iokit_common_err(ret)	 ((IOReturn)(sys_iokit | sub_iokit_common | (ret)))
#define iokit_vendor_specific_err(ret) \
	((IOReturn)(sys_iokit | sub_iokit_vendor_specific | (ret)))

#define kIOReturnSuccess	KERN_SUCCESS
#define kIOReturnError		iokit_common_err(0x2bc)
#define kIOReturnNoMemory	iokit_common_err(0x2bd)
#define kIOReturnNoResources	iokit_common_err(0x2be)
#define kIOReturnNoDevice	iokit_common_err(0x2c0)
#define kIOReturnBadArgument	iokit_common_err(0x2c2)
#define kIOReturnExclusiveAccess iokit_common_err(0x2c5)
#define kIOReturnUnsupported	iokit_common_err(0x2c7)
#define kIOReturnNotOpen	iokit_common_err(0x2cd)
#define kIOReturnAborted	iokit_common_err(0x2eb)
#define kIOReturnNotPermitted	iokit_common_err(0x2e2)
#define kIOReturnNotFound	iokit_common_err(0x2f0)

#endif /* EGPU_SHIM_IORETURN_H */
