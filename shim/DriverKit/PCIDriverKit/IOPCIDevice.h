/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not Apple's SDK: declaration shim, see shim/DriverKit/README.md.
 *
 * The provider of a PCI dext. Open() gives the caller exclusive access;
 * Close() (and a crash of the dext) turns off Memory Space and Bus Master
 * Enable. Memory accessors take a memory index, which GetBARInfo() gives
 * for a BAR number; the same index names the BAR for
 * _CopyDeviceMemoryWithIndex().
 */
#ifndef SHIM_PCIDRIVERKIT_IOPCIDEVICE_H
#define SHIM_PCIDRIVERKIT_IOPCIDEVICE_H

#include <DriverKit/IOService.h>
#include <DriverKit/IOMemoryDescriptor.h>
#include <PCIDriverKit/IOPCIFamilyDefinitions.h>

class IOPCIDevice : public IOService {
public:
	kern_return_t Open(IOService *forClient, IOOptionBits options);
	void Close(IOService *forClient, IOOptionBits options);

	void ConfigurationRead32(uint64_t offset, uint32_t *readData);
	void ConfigurationRead16(uint64_t offset, uint16_t *readData);
	void ConfigurationRead8(uint64_t offset, uint8_t *readData);
	void ConfigurationWrite32(uint64_t offset, uint32_t data);
	void ConfigurationWrite16(uint64_t offset, uint16_t data);
	void ConfigurationWrite8(uint64_t offset, uint8_t data);

	void MemoryRead64(uint8_t memoryIndex, uint64_t offset,
			  uint64_t *readData);
	void MemoryRead32(uint8_t memoryIndex, uint64_t offset,
			  uint32_t *readData);
	void MemoryRead16(uint8_t memoryIndex, uint64_t offset,
			  uint16_t *readData);
	void MemoryRead8(uint8_t memoryIndex, uint64_t offset,
			 uint8_t *readData);
	void MemoryWrite64(uint8_t memoryIndex, uint64_t offset, uint64_t data);
	void MemoryWrite32(uint8_t memoryIndex, uint64_t offset, uint32_t data);
	void MemoryWrite16(uint8_t memoryIndex, uint64_t offset, uint16_t data);
	void MemoryWrite8(uint8_t memoryIndex, uint64_t offset, uint8_t data);

	virtual kern_return_t FindPCICapability(uint32_t capabilityID,
						uint64_t searchOffset,
						uint64_t *foundCapabilityOffset);
	virtual kern_return_t GetBusDeviceFunction(uint8_t *returnBusNumber,
						   uint8_t *returnDeviceNumber,
						   uint8_t *returnFunctionNumber);
	kern_return_t GetBARInfo(uint8_t barIndex, uint8_t *memoryIndex,
				 uint64_t *barSize, uint8_t *barType);
	/* type: tIOPCIDeviceResetTypes; blocks until the link is back up. */
	kern_return_t Reset(IOOptionBits type, IOOptionBits options);
	/* MSI or MSI-X with numRequired..numRequested vectors. */
	kern_return_t ConfigureInterrupts(uint32_t interruptType,
					  uint32_t numRequired,
					  uint32_t numRequested,
					  IOOptionBits options);
	/* The BAR as a memory descriptor; +1 reference. */
	kern_return_t _CopyDeviceMemoryWithIndex(
		uint64_t memoryIndex, IOMemoryDescriptor **returnMemory,
		IOService *forClient, OSDispatchMethod supermethod = nullptr);
};

#endif
