/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not Apple's SDK: declaration shim, see shim/DriverKit/README.md.
 *
 * On Apple silicon, PrepareForDMA is where the DART mapping is made: the
 * segments it returns are device addresses (IOVAs) the system chose;
 * CompleteDMA removes the mapping.
 */
#ifndef SHIM_DRIVERKIT_IODMACOMMAND_H
#define SHIM_DRIVERKIT_IODMACOMMAND_H

#include <DriverKit/IOMemoryDescriptor.h>

class IOService;

enum {
	kIODMACommandCreateNoOptions = 0,
	kIODMACommandPrepareForDMANoOptions = 0,
	kIODMACommandCompleteDMANoOptions = 0,
	kIODMACommandSpecificationNoOptions = 0,
};

struct IODMACommandSpecification {
	uint64_t options;
	uint64_t maxAddressBits;
	uint64_t _resv[16];
};

class IODMACommand : public OSObject {
public:
	static kern_return_t Create(IOService *device, uint64_t options,
				    const IODMACommandSpecification *specification,
				    IODMACommand **command);
	/*
	 * *segmentsCount: in, room in segments[] (at most 32); out, how many
	 * the mapping took.
	 */
	virtual kern_return_t PrepareForDMA(uint64_t options,
					    IOMemoryDescriptor *memory,
					    uint64_t offset, uint64_t length,
					    uint64_t *flags,
					    uint32_t *segmentsCount,
					    IOAddressSegment *segments);
	virtual kern_return_t CompleteDMA(uint64_t options);
};

#endif
