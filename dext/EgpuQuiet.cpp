/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * EgpuQuiet.cpp - EgpuQuietFunction: claims a GPU's audio function and
 * keeps it from doing anything.
 *
 * Opening the IOPCIDevice makes this service its only user on the Mac.
 * Bus mastering off: the function cannot DMA (its DART has no mappings, and
 * a stray DMA faults the host). INTx disabled, MSI never configured: it
 * raises nothing. There is no user client: QEMU passes only the GPU
 * function through.
 */
#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "EgpuQuiet.h"

struct EgpuQuietFunction_IVars {
	IOPCIDevice *pci;
	bool opened;
};

bool EgpuQuietFunction::init()
{
	if (!super::init())
		return false;
	ivars = IONewZero(EgpuQuietFunction_IVars, 1);
	return ivars != nullptr;
}

void EgpuQuietFunction::free()
{
	IOSafeDeleteNULL(ivars, EgpuQuietFunction_IVars, 1);
	super::free();
}

static void hold_quiet(IOPCIDevice *pci)
{
	uint16_t cmd = 0;

	pci->ConfigurationRead16(kIOPCIConfigurationOffsetCommand, &cmd);
	cmd &= ~kIOPCICommandBusMaster;
	cmd |= kIOPCICommandInterruptDisable;
	pci->ConfigurationWrite16(kIOPCIConfigurationOffsetCommand, cmd);
}

kern_return_t IMPL(EgpuQuietFunction, Start)
{
	kern_return_t kr;

	kr = Start(provider, SUPERDISPATCH);
	if (kr != kIOReturnSuccess)
		return kr;
	ivars->pci = OSDynamicCast(IOPCIDevice, provider);
	if (!ivars->pci)
		return kIOReturnNoDevice;
	ivars->pci->retain();
	kr = ivars->pci->Open(this, 0);
	if (kr != kIOReturnSuccess) {
		IOLog("EgpuQuiet: Open failed 0x%x\n", kr);
		OSSafeReleaseNULL(ivars->pci);
		return kr;
	}
	ivars->opened = true;
	hold_quiet(ivars->pci);
	return kIOReturnSuccess;
}

kern_return_t IMPL(EgpuQuietFunction, Stop)
{
	if (ivars->opened) {
		hold_quiet(ivars->pci);
		ivars->pci->Close(this, 0);
		ivars->opened = false;
	}
	OSSafeReleaseNULL(ivars->pci);
	return Stop(provider, SUPERDISPATCH);
}
