/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_OSACTION_H
#define SHIM_DRIVERKIT_OSACTION_H

#include <DriverKit/OSObject.h>

/*
 * A callback to a method of a target object (an interrupt handler, or a
 * client's asynchronous completion port), with a reference area of the
 * size given when it was created.
 */
class OSAction : public OSObject {
public:
	void *GetReference();
};

#endif
