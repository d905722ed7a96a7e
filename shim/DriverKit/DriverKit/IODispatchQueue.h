/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_IODISPATCHQUEUE_H
#define SHIM_DRIVERKIT_IODISPATCHQUEUE_H

#include <DriverKit/OSObject.h>

typedef char IODispatchQueueName[256];
typedef void (^IODispatchSourceCancelHandler)(void);
typedef void (^IODispatchBlock)(void);

class IODispatchQueue : public OSObject {
public:
	/* A new serial queue; +1 reference. */
	static kern_return_t Create(const IODispatchQueueName name,
				    uint64_t options, uint64_t priority,
				    IODispatchQueue **queue);
	/* Run block on the queue and wait for it (and all before it). */
	void DispatchSync(IODispatchBlock block);
};

class IODispatchSource : public OSObject {
public:
	virtual kern_return_t SetEnableWithCompletion(
		bool enable, IODispatchSourceCancelHandler handler);
};

#endif
