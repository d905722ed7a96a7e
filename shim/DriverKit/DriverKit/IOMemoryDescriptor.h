/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_IOMEMORYDESCRIPTOR_H
#define SHIM_DRIVERKIT_IOMEMORYDESCRIPTOR_H

#include <DriverKit/OSObject.h>

class IOMemoryMap;

/* Create options: the direction of the device's access, and more. */
enum {
	kIOMemoryDirectionInOut = 0x00000003,	/* In (1) | Out (2) */
	kIOMemoryDisableCopyOnWrite = 0x00000010,
};

/* CreateMapping options */
enum {
	kIOMemoryMapReadOnly = 0x00000002,
};

struct IOAddressSegment {
	uint64_t address;
	uint64_t length;
};

class IOMemoryDescriptor : public OSObject {
public:
	kern_return_t GetLength(uint64_t *returnLength);
	/* Map into the dext's address space; +1 reference on the map. */
	virtual kern_return_t CreateMapping(uint64_t options, uint64_t address,
					    uint64_t offset, uint64_t length,
					    uint64_t alignment,
					    IOMemoryMap **map);
};

#endif
