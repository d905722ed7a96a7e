/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_PCIDRIVERKIT_IOPCIFAMILYDEFINITIONS_H
#define SHIM_PCIDRIVERKIT_IOPCIFAMILYDEFINITIONS_H

#include <DriverKit/IOTypes.h>

/* Configuration space offsets and command register bits (PCI spec). */
enum {
	kIOPCIConfigurationOffsetCommand = 0x04,
};

enum {
	kIOPCICommandBusMaster = 0x0004,
	kIOPCICommandInterruptDisable = 0x0400,
};

enum {
	kIOPCICapabilityIDPCIExpress = 0x10,
};

/* ConfigureInterrupts() types, also bits of GetInterruptType(). */
#define kIOInterruptTypePCIMessaged	0x00010000
#define kIOInterruptTypePCIMessagedX	0x00020000

/* GetBARInfo() barType. Values are placeholders: use the names. */
enum IOPCIBARType : unsigned int {
	kPCIBARTypeIO = 0,
	kPCIBARTypeM32,
	kPCIBARTypeM32PF,
	kPCIBARTypeM64,
	kPCIBARTypeM64PF,
};

/* Reset() types and options. Values are placeholders: use the names. */
typedef enum tIOPCIDeviceResetTypes : unsigned int {
	kIOPCIDeviceResetTypeHotReset = 0,
	kIOPCIDeviceResetTypeFunctionReset,
} tIOPCIDeviceResetTypes;

typedef enum tIOPCIDeviceResetOptions : unsigned int {
	kIOPCIDeviceResetOptionNone = 0,
} tIOPCIDeviceResetOptions;

#endif
