/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not Apple's SDK: declaration shim, see shim/DriverKit/README.md.
 *
 * For an IOPCIDevice only message-signalled interrupts are delivered: the
 * index is the vector number among those ConfigureInterrupts() set up.
 */
#ifndef SHIM_DRIVERKIT_IOINTERRUPTDISPATCHSOURCE_H
#define SHIM_DRIVERKIT_IOINTERRUPTDISPATCHSOURCE_H

#include <DriverKit/IODispatchQueue.h>
#include <DriverKit/OSAction.h>

class IOService;

#define IOInterruptDispatchSource_InterruptOccurred_Args \
	OSAction *action, uint64_t count, uint64_t time

class IOInterruptDispatchSource : public IODispatchSource {
public:
	static kern_return_t Create(IOService *provider, uint32_t index,
				    IODispatchQueue *queue,
				    IOInterruptDispatchSource **source);
	/* action: made by the target class's CreateActionInterruptOccurred. */
	virtual kern_return_t SetHandler(OSAction *action);
};

#endif
