/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_PCIDRIVERKIT_PCIDRIVERKIT_H
#define SHIM_PCIDRIVERKIT_PCIDRIVERKIT_H

#include <PCIDriverKit/IOPCIDevice.h>
#include <PCIDriverKit/IOPCIFamilyDefinitions.h>

#endif
