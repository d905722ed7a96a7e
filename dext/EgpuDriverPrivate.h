/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * EgpuDriverPrivate.h - what the dext's C++ files share, and nobody else.
 *
 * The driver's ivars (EgpuDext.cpp creates them, the platform ops in
 * EgpuPlatform.cpp work on them), and the one thing the user client needs
 * of the driver: the core, to open its session on.
 */
#ifndef EGPU_DRIVER_PRIVATE_H
#define EGPU_DRIVER_PRIVATE_H

#include <DriverKit/DriverKit.h>
#include <PCIDriverKit/PCIDriverKit.h>

#include "dext_core.h"

class EgpuPCIDriver;

struct EgpuPCIDriver_IVars {
	EgpuPCIDriver *self;
	IOPCIDevice *pci;
	bool opened;
	struct dext_platform_info info;
	uint8_t mem_index[DEXT_NUM_BARS];	/* GetBARInfo's, per BAR */
	IOLock *lock[2];			/* DEXT_LOCK_MAIN, DEXT_LOCK_IRQ */
	IODispatchQueue *irq_queue;
	IOInterruptDispatchSource **irq_src;	/* DEXT_MAX_MSIX entries */
	uint32_t irq_nvec;			/* sources in irq_src */
	volatile uint32_t irq_kind;		/* enum dext_irq_kind in force */
	IOBufferMemoryDescriptor *irq_page;
	void *core_mem;
	size_t core_size;
	struct dext_core *volatile core;	/* NULL: not started, or stopping */
};

/* EgpuPlatform.cpp: the ops, with "plat" = the driver's ivars. */
extern const struct dext_platform_ops egpu_platform_ops;

/* Disable and release every interrupt source (irq_enable(NONE) does too). */
void egpu_irq_release(EgpuPCIDriver_IVars *iv);

/*
 * The core of the EgpuPCIDriver that provider is, or NULL (not that class,
 * not started, or stopping).
 */
struct dext_core *EgpuPCIDriverCore(IOService *provider);

#endif
