/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * dext_core.h - the portable logic of our PCIDriverKit driver.
 *
 * The dext (the DriverKit C++ files in dext/) is a thin shell: its IOService owns
 * the IOPCIDevice and implements struct dext_platform_ops over it; its
 * IOUserClient forwards ExternalMethod, CopyClientMemoryForType and its
 * Stop/free to the entry points below. Everything that decides something -
 * sessions and ownership, argument validation, the region registry, the
 * mapping table and its limits, batching, interrupt forwarding through the
 * interrupt page, reset and per-client cleanup - is here, in C with no OS
 * header, so it is unit-tested on Linux against a simulated function
 * (tests/iokit-shim/ runs it over simgpu and its simulated DART).
 *
 * The wire is protocol/apple_dext.h; statuses returned here are DEXT_S_*
 * (the shell returns DEXT_IORETURN(status) from ExternalMethod).
 *
 * Memory: the core's state lives in memory the shell provides
 * (dext_core_size()); nothing is allocated here. Platform objects (memory
 * descriptors, IODMACommands, OSActions) are opaque void * tokens.
 *
 * Locks (ops->lock/unlock, two of them): DEXT_LOCK_MAIN serialises every
 * entry point but dext_core_irq(); DEXT_LOCK_IRQ guards only the armed
 * completion and is taken inside MAIN or alone (by dext_core_irq), never
 * the other way round. The core calls platform ops with MAIN held (never
 * with IRQ held, except notify/completion_release), so the platform's
 * interrupt path may hold its own locks when it calls dext_core_irq().
 */
#ifndef DEXT_CORE_H
#define DEXT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apple_dext.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DEXT_LOCK_MAIN		0
#define DEXT_LOCK_IRQ		1

/* What the platform knows about the function without reading config. */
struct dext_platform_info {
	uint16_t domain;
	uint8_t bus;
	uint8_t devfn;
	uint32_t cfg_size;		/* 256 or 4096 */
	uint32_t resets;		/* DEXT_RESET_* it can do */
	struct dext_bar_desc bar[DEXT_NUM_BARS];	/* DEXT_BAR_MAPPABLE too */
	char name[64];
};

/*
 * The DriverKit shell implements these over IOPCIDevice & co. Every int
 * return is DEXT_S_*. "plat" is the shell's opaque pointer; "client" is the
 * pointer the shell gave dext_session_open() (its IOUserClient).
 */
struct dext_platform_ops {
	/* IOPCIDevice::ConfigurationRead/Write{8,16,32}; len 1, 2 or 4 */
	int (*cfg_read)(void *plat, uint32_t off, unsigned int len,
			uint32_t *val);
	int (*cfg_write)(void *plat, uint32_t off, unsigned int len,
			 uint32_t val);
	/* IOPCIDevice::MemoryRead/Write{8,16,32,64}; size 1, 2, 4 or 8 */
	int (*bar_read)(void *plat, unsigned int bar, uint64_t off,
			unsigned int size, uint64_t *val);
	int (*bar_write)(void *plat, unsigned int bar, uint64_t off,
			 unsigned int size, uint64_t val);
	/* Location, BARs (IOPCIDevice::GetBARInfo), reset methods. */
	int (*info)(void *plat, struct dext_platform_info *out);
	/*
	 * CopyClientMemoryForType: the memory descriptor of a whole BAR
	 * (IOPCIDevice::_CopyDeviceMemoryWithIndex) or of the interrupt page,
	 * with one reference for the caller. DEXT_S_NOTSUP if not mappable.
	 */
	int (*bar_memory)(void *plat, unsigned int bar, void **memory);
	int (*irq_page_memory)(void *plat, void **memory);
	/*
	 * A descriptor of [addr, addr + size) of the client's address space
	 * (IOUserClient::CreateMemoryDescriptorFromClient), kept until
	 * region_destroy.
	 */
	int (*region_create)(void *plat, void *client, uint64_t addr,
			     uint64_t size, void **region);
	void (*region_destroy)(void *plat, void *region);
	/*
	 * Map [offset, offset + len) of a region for the device (dir:
	 * DEXT_DIR_*): IODMACommand::Create + PrepareForDMA. Fill seg[] (at
	 * most max_segs = DEXT_MAX_SEGS) so that they cover exactly len
	 * bytes in order; *mapping is the token dma_unmap takes back
	 * (CompleteDMA + release). DEXT_S_NO_SPACE / DEXT_S_IO_ERROR.
	 */
	int (*dma_map)(void *plat, void *region, uint64_t offset, uint64_t len,
		       uint32_t dir, struct dext_seg *seg, uint32_t max_segs,
		       uint32_t *nsegs, void **mapping);
	void (*dma_unmap)(void *plat, void *mapping);
	/*
	 * Deliver the function's interrupts of this kind from now on
	 * (IOInterruptDispatchSource per vector, enabled), calling
	 * dext_core_irq() for each; DEXT_IRQ_NONE disables them all.
	 */
	int (*irq_enable)(void *plat, uint32_t kind, uint32_t nvec);
	/* One method: DEXT_RESET_FLR or DEXT_RESET_BUS (IOPCIDevice::Reset). */
	int (*reset)(void *plat, uint32_t method);
	/*
	 * Send an async completion (IOUserClient::AsyncCompletion) of data[n]
	 * to a completion the client armed. Called with DEXT_LOCK_IRQ held,
	 * from any thread; must not block.
	 */
	void (*notify)(void *plat, void *client, void *completion,
		       const uint64_t *data, uint32_t n);
	/* The core keeps a reference to an armed completion (OSAction). */
	void (*completion_retain)(void *plat, void *completion);
	void (*completion_release)(void *plat, void *completion);
	void (*lock)(void *plat, int which);
	void (*unlock)(void *plat, int which);
	/* Optional (may be NULL): one line per notable event. */
	void (*log)(void *plat, const char *msg);
};

struct dext_core_config {
	uint64_t max_bytes;	/* live page-rounded bytes; default 1.5 GiB */
	uint32_t max_maps;	/* live mappings; default 65536 */
	uint32_t max_regions;	/* live regions, <= DEXT_MAX_REGIONS (default) */
	uint32_t max_batch;	/* entries per DMA_BATCH, <= DEXT_MAX_BATCH (default) */
	uint32_t max_sessions;	/* open user clients; default 8 */
};

#define DEXT_CORE_DEFAULT_MAX_BYTES	(3ull << 29)	/* 1.5 GiB */
#define DEXT_CORE_DEFAULT_MAX_MAPS	65536u
#define DEXT_CORE_DEFAULT_MAX_SESSIONS	8u

struct dext_core;
struct dext_session;

/* Bytes of state for cfg (defaults applied); 8-byte alignment. */
size_t dext_core_size(const struct dext_core_config *cfg);

/*
 * Initialise in mem. irq_page is DEXT_IRQ_PAGE_SIZE bytes the platform
 * allocated (IOBufferMemoryDescriptor, mapped into the dext) and returns
 * from irq_page_memory(). NULL on a bad config or missing op.
 */
struct dext_core *dext_core_init(void *mem, const struct dext_core_config *cfg,
				 const struct dext_platform_ops *ops,
				 void *plat, void *irq_page);

/*
 * A user client started (IOUserClient::Start): a session for it, or NULL
 * with *status = DEXT_S_BUSY when max_sessions are open. Opening never
 * claims the device: HELLO does.
 */
struct dext_session *dext_session_open(struct dext_core *c, void *client,
				       int *status);

/*
 * The user client stopped: the client closed it, exited or crashed. If the
 * session owns the device: interrupts off, bus mastering off, reset (FLR,
 * else hot reset), then every mapping and region of it released; the device
 * is free for the next client. The session is gone afterwards.
 */
void dext_session_close(struct dext_session *s);

/*
 * One ExternalMethod call, as IOUserClientMethodArguments has it. The shell
 * passes structure input as bytes: structureInput's, or those of the
 * structureInputDescriptor mapped into the dext (struct_in_desc is that
 * descriptor, for reference; ABI 1.0 selectors use the bytes only).
 * struct_out is where the answer goes: a buffer of structureOutputMaximumSize
 * bytes the shell turns into structureOutput, or the mapped
 * structureOutputDescriptor; struct_out_size is its capacity on entry and
 * the bytes written on return. scalar_out_count likewise.
 */
struct dext_call {
	uint64_t selector;
	const uint64_t *scalar_in;
	uint32_t scalar_in_count;
	const void *struct_in;
	uint64_t struct_in_size;
	void *struct_in_desc;
	uint64_t *scalar_out;
	uint32_t scalar_out_count;
	void *struct_out;
	uint64_t struct_out_size;
	void *completion;	/* OSAction for async selectors, else NULL */
};

/* Returns DEXT_S_*; the shell returns DEXT_IORETURN() of it. */
int dext_dispatch(struct dext_session *s, struct dext_call *call);

/*
 * CopyClientMemoryForType: DEXT_MEM_BAR(n) or DEXT_MEM_IRQ_PAGE, owner
 * only. *memory gets a reference for the caller; *options is left as is
 * (read-write).
 */
int dext_memory_for_type(struct dext_session *s, uint64_t type,
			 uint64_t *options, void **memory);

/*
 * The platform's interrupt handler: vector fired (MSI-X: vector; MSI: 0;
 * INTx: level is the line's new level). Any thread; takes DEXT_LOCK_IRQ
 * only.
 */
void dext_core_irq(struct dext_core *c, uint32_t kind, uint32_t vector,
		   int level);

/* Counters (owner's, or the last owner's), for logs and tests. */
void dext_core_stats(struct dext_core *c, struct dext_stats *out);

/* Name of a DEXT_S_* value; "unknown" otherwise. */
const char *dext_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif /* DEXT_CORE_H */
