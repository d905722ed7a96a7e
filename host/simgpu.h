/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * simgpu.h - a simulated GPU-like PCI function behind a simulated DART.
 *
 * simgpu implements the host-device interface (hostdev.h) in-process, so
 * that QEMU's passthrough device, the dext's portable logic and the tests
 * have a "physical" function to drive on any OS: config space with PCIe
 * (FLR), MSI and MSI-X capabilities, the BARs and engine of simgpu_hw.h,
 * and its own DART (a dartsim), which is the hostdev's DMA backend. Every
 * DMA the engine makes is translated by that DART, as the real GPU's DMA
 * goes through the real DART.
 *
 * The engine is asynchronous: a doorbell only records the new tail and
 * calls env.kick(); the embedder then calls simgpu_run() from the context
 * that plays the GPU (a thread, a bottom half, a test loop).
 *
 * Portable C, no OS headers; state in caller-provided memory; VRAM is
 * memory the embedder provides (so it can be mapped into a guest). All
 * entry points take env.lock around their work, so the hostdev ops, the DMA
 * backend ops and simgpu_run() may be called from different threads.
 */
#ifndef SIMGPU_H
#define SIMGPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dartsim.h"
#include "hostdev.h"
#include "simgpu_hw.h"

struct simgpu_config {
	uint64_t vram_size;	/* power of two >= 16 KiB; default 64 MiB */
	uint32_t msix_vectors;	/* 1..HOSTDEV_MAX_MSIX; default 16 */
	bool intx;		/* has an INTx pin (INTA); default off */
	uint32_t dma_addr;	/* enum hostdev_dma_addr the DART maps */
	struct dartsim_config dart;	/* the function's DART */
};

/*
 * What the embedder supplies. dma_read/dma_write copy to/from the address
 * the DART translated to (a GPA or a host VA: whatever the DMA backend's
 * user mapped) and return 0, or non-zero if it is not memory (the engine
 * then stops with a DART fault at that IOVA). lock/unlock serialise simgpu
 * (both or neither; NULL when the embedder is single-threaded).
 * log (may be NULL) gets one line per DART fault and engine error.
 *
 * dma_read, dma_write and log are called with env.lock held (from
 * simgpu_run()); kick (may be NULL) and the hostdev irq callback are called
 * after it is dropped, so they may take the embedder's own locks. The
 * callback is called by one thread at a time: INTx levels in the order they
 * changed; pending MSI/MSI-X vectors in vector order, several raises of one
 * vector before delivery possibly as one edge (as a pending bit would).
 */
struct simgpu_env {
	void *opaque;
	int (*dma_read)(void *opaque, uint64_t addr, void *buf, size_t len);
	int (*dma_write)(void *opaque, uint64_t addr, const void *buf,
			 size_t len);
	void (*kick)(void *opaque);
	void (*lock)(void *opaque);
	void (*unlock)(void *opaque);
	void (*log)(void *opaque, const char *msg);
};

struct simgpu_stats {
	uint64_t doorbells;
	uint64_t cmds;		/* commands completed */
	uint64_t fences;
	uint64_t irqs;		/* interrupts delivered to the callback */
	uint64_t irqs_dropped;	/* raised with no interrupt mode set up */
	uint64_t bytes_in;	/* system memory -> VRAM */
	uint64_t bytes_out;	/* VRAM -> system memory */
	uint64_t dart_faults;	/* engine accesses the DART refused */
	uint64_t errors;	/* engine stops, any cause */
	uint64_t flrs;
	uint64_t bus_resets;
};

struct simgpu;

/* Bytes of state for cfg (VRAM not included); 0 for a bad configuration. */
size_t simgpu_size(const struct simgpu_config *cfg);

/*
 * Initialise in mem (simgpu_size() bytes, 8-byte aligned) with vram
 * (cfg->vram_size bytes, the embedder's). Zero fields take defaults.
 * NULL on a bad configuration.
 */
struct simgpu *simgpu_init(void *mem, const struct simgpu_config *cfg,
			   const struct simgpu_env *env, void *vram);

/*
 * The hostdev of this function: ops, info (BARs), DMA backend (the DART).
 * As a raw function would: a reset (FLR, bus, or DevCtl "initiate FLR")
 * returns config space (command register, BARs, MSI/MSI-X), the MSI-X
 * table and the engine to power-on state and the interrupt mode to
 * HOSTDEV_IRQ_NONE (call irq_set again); DART mappings stay. irq_set also
 * sets the MSI or MSI-X enable bit in config space, as a host driver does.
 * BAR access is not gated by Memory Space Enable; DMA needs Bus Master.
 * BAR0 takes 4- and 8-byte writes (8: two registers, low first).
 * close() stops interrupts; no simgpu_run() may be running or follow.
 */
struct hostdev *simgpu_hostdev(struct simgpu *g);

/*
 * Run the engine: process commands until the ring is empty, the engine
 * stops on an error, or about budget bytes were moved (0: no limit).
 * Returns true if work is left (call again). The budget is checked between
 * commands (each costs 64 bytes plus its COPY/FILL length), so one call
 * moves at most budget + SIMGPU_MAX_XFER bytes.
 */
bool simgpu_run(struct simgpu *g, uint64_t budget);

const struct simgpu_stats *simgpu_stats(const struct simgpu *g);
/* The DART, for its stats and for tests (take env.lock around use). */
struct dartsim *simgpu_dart(struct simgpu *g);

#endif /* SIMGPU_H */
