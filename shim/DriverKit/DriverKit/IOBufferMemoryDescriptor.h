/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_IOBUFFERMEMORYDESCRIPTOR_H
#define SHIM_DRIVERKIT_IOBUFFERMEMORYDESCRIPTOR_H

#include <DriverKit/IOMemoryDescriptor.h>

class IOBufferMemoryDescriptor : public IOMemoryDescriptor {
public:
	/* Zero-filled memory of capacity bytes; +1 reference. */
	static kern_return_t Create(uint64_t options, uint64_t capacity,
				    uint64_t alignment,
				    IOBufferMemoryDescriptor **memory);
	/* The buffer in the dext's own address space. */
	kern_return_t GetAddressRange(IOAddressSegment *range);
	kern_return_t SetLength(uint64_t length);
};

#endif
