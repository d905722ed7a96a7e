/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_IOMEMORYMAP_H
#define SHIM_DRIVERKIT_IOMEMORYMAP_H

#include <DriverKit/IOMemoryDescriptor.h>

class IOMemoryMap : public OSObject {
public:
	uint64_t GetAddress();
};

#endif
