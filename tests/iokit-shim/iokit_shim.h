/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * iokit_shim.h - a TEST DOUBLE for IOKit, not IOKit.
 *
 * tests/iokit-shim/ implements the IOKit user-space calls that
 * host/hostdev_iokit.c makes (the same names and signatures that
 * shim/IOKit/IOKitLib.h declares, plus the few libdispatch/Mach/CF symbols
 * behind them) inside the test process, so the IOKit backend runs on Linux
 * unchanged. Each call is handed to the dext's portable logic (dext/core/)
 * exactly as our DriverKit shell hands it over on a Mac: IOServiceOpen
 * opens a session, IOConnectCallMethod becomes dext_dispatch() (structures
 * above 4096 bytes "out of line", as IOKit passes them), IOConnectMapMemory64
 * becomes dext_memory_for_type(), IOServiceClose (or a crash) closes the
 * session. The platform under the dext core is the simulated GPU function
 * (host/simgpu.c) and its simulated DART; "host physical" addresses are this
 * process's virtual addresses, so the simulated DART maps pointers and the
 * GPU's DMA copies by pointer. Async completions are delivered on a thread
 * per dispatch queue, as libdispatch would.
 *
 * What it cannot show: anything the kernel, DriverKit or the real DART
 * does (matching, entitlements, Mach IPC, wiring memory, the DART's own
 * choices), and the DriverKit C++ shell itself.
 *
 * This header is the test's handle on the double: set it up, reach the
 * simulated function behind it, and make a client "crash".
 */
#ifndef IOKIT_SHIM_H
#define IOKIT_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include <IOKit/IOKitLib.h>

#include "dext_core.h"
#include "simgpu.h"

struct iokit_shim_config {
	struct simgpu_config gpu;	/* dma_addr is forced to HVA */
	struct dext_core_config dext;
	/* PCI location reported by the dext; default 0000:05:00.0 */
	uint16_t domain;
	uint8_t bus, devfn;
	bool no_flr;			/* the platform cannot do an FLR */
	bool fail_flr;			/* FLR attempts fail (-> hot reset) */
};

/*
 * Create the simulated function and its dext. Zero fields take defaults.
 * Without a call, the first IOKit call sets one up with the defaults (or
 * EGPU_SHIM_VRAM_MB / EGPU_SHIM_MSIX / EGPU_SHIM_SEG_PAGES from the
 * environment) and says so once on stderr. Returns false if one exists or
 * the configuration is refused.
 */
bool iokit_shim_setup(const struct iokit_shim_config *cfg);
/*
 * The same with only the simulated function chosen (QEMU's glue, which
 * declares this itself: it has no IOKit headers on its include path).
 */
bool iokit_shim_setup_gpu(const struct simgpu_config *gpu);
/* Tear everything down; every connection must have been closed. */
void iokit_shim_teardown(void);

/* The simulated function, its DART and the dext core behind the double. */
struct simgpu *iokit_shim_gpu(void);
struct dext_core *iokit_shim_core(void);
void iokit_shim_lock_gpu(void);		/* simgpu's env lock, for dartsim */
void iokit_shim_unlock_gpu(void);
/* Wait until the engine has nothing left (doorbells are asynchronous). */
void iokit_shim_gpu_idle(void);

/* The registry entry ID of the simulated function's dext service. */
uint64_t iokit_shim_registry_id(void);

/* Platform objects alive now: regions (descriptors), DART mappings. */
struct iokit_shim_counts {
	uint64_t regions;
	uint64_t mappings;
	uint64_t completions;		/* OSActions the dext holds */
	uint64_t notifications;		/* async completions delivered */
	uint64_t resets_flr, resets_bus;
	uint64_t calls;			/* IOConnectCall*Method */
	uint64_t ool_in, ool_out;	/* structures passed out of line */
};
void iokit_shim_counts(struct iokit_shim_counts *out);

/*
 * The client behind connect dies: its connection stops working
 * (MACH_SEND_INVALID_DEST) and the dext's session is closed without the
 * client's cooperation, as the kernel does when a task exits.
 */
void iokit_shim_crash(io_connect_t connect);
/*
 * The client dies while its next DMA_BATCH call is in the dext: the dext
 * executes the call, the reply never arrives (MACH_SEND_INVALID_DEST), and
 * the session is closed.
 */
void iokit_shim_crash_in_next_batch(io_connect_t connect);

/* Last line the dext core logged (empty if none). */
const char *iokit_shim_last_log(void);

#endif /* IOKIT_SHIM_H */
