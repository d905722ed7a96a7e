/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * apple_dext.h - the second wire: QEMU's process <-> our PCIDriverKit driver.
 *
 * On a Mac the physical GPU function belongs to our dext (dext/). QEMU's
 * IOKit backend (host/hostdev_iokit.c) opens the dext's user client with
 * IOServiceOpen and talks to it only through what this header defines:
 * selectors for IOConnectCallMethod (their scalar counts and structure
 * layouts), memory types for IOConnectMapMemory64, the interrupt-status page
 * and the statuses. The dext's portable logic (dext/core/) and the backend
 * include it unchanged; it includes nothing but fixed-width integer types.
 *
 * Model
 *   One client owns the function at a time: HELLO checks the ABI version and
 *   claims the device; a client of another major version gets
 *   DEXT_S_VERSION, a second client while one owns it gets DEXT_S_BUSY. Any
 *   client may call GET_VERSION and INFO (to find a device by location).
 *   The owner registers its RAM once per RAM block (REGION_ADD: the dext
 *   builds a memory descriptor of that range of the client's address space)
 *   and then maps (region, offset, length, direction) through the DART in
 *   batches: one DMA_BATCH call carries every map and unmap of one
 *   apple-dma-pci doorbell. A map may come back in several device-address
 *   segments (the DART picks the addresses); the dext never refuses a
 *   mapping for that. When the client closes or dies, the dext disables the
 *   function's interrupts and bus mastering, resets it (FLR, else hot reset)
 *   and only then releases every mapping and region of that client, so no
 *   DMA can reach a stale mapping.
 *
 * Transport (IOConnectCallMethod): scalars are uint64_t, at most
 * DEXT_MAX_SCALARS each way (IOKit's limit is 16). Structures up to
 * DEXT_INBAND_MAX bytes travel inline; larger ones are passed by IOKit as
 * memory descriptors of the caller's buffer (structureInputDescriptor /
 * structureOutputDescriptor in DriverKit) - the dext accepts both. Every
 * selector's kern_return_t is 0 on success or DEXT_IORETURN(status), an
 * IOKit "vendor specific" error carrying the DEXT_S_* below; any other
 * non-zero value comes from the framework itself (e.g. the dext is gone).
 *
 * Interrupts: the dext sets the vector's bit in the interrupt-status page
 * (mapped read-write into the client as DEXT_MEM_IRQ_PAGE) and, if the
 * client asked to be woken (wake != 0), clears wake and sends one async
 * completion to the OSAction the client armed with IRQ_ARM. The client
 * drains the page (atomic exchange of each pending word), then stores
 * wake = 1 and drains once more, so no edge is lost between the two.
 *
 * All multi-byte fields are little-endian (both sides are arm64 on a Mac).
 */
#ifndef APPLE_DEXT_H
#define APPLE_DEXT_H

#if defined(__KERNEL__)
#include <linux/types.h>
typedef __u8  dext_u8;
typedef __u16 dext_u16;
typedef __u32 dext_u32;
typedef __u64 dext_u64;
typedef __s32 dext_s32;
#define DEXT_STATIC_ASSERT(c, m) _Static_assert(c, m)
#else
#include <stdint.h>
typedef uint8_t  dext_u8;
typedef uint16_t dext_u16;
typedef uint32_t dext_u32;
typedef uint64_t dext_u64;
typedef int32_t  dext_s32;
#ifdef __cplusplus
#define DEXT_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define DEXT_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
#endif

/* ---- ABI version: a major change breaks the layout, a minor adds to it. */
#define DEXT_ABI_MAJOR		1
#define DEXT_ABI_MINOR		0
#define DEXT_ABI_VERSION	((DEXT_ABI_MAJOR << 16) | DEXT_ABI_MINOR)
#define DEXT_ABI_GET_MAJOR(v)	((dext_u32)(v) >> 16)
#define DEXT_ABI_GET_MINOR(v)	((dext_u32)(v) & 0xffff)

/* ---- Finding the dext: IOServiceMatching(DEXT_SERVICE_CLASS) */
#define DEXT_SERVICE_CLASS	"EgpuPCIDriver"
#define DEXT_USER_CLIENT_CLASS	"EgpuPCIUserClient"
#define DEXT_OPEN_TYPE		0	/* IOServiceOpen's type argument */

/* ---- Transport limits */
#define DEXT_MAX_SCALARS	16	/* IOConnectCallMethod: scalars each way */
#define DEXT_INBAND_MAX		4096	/* larger structures go as descriptors */

/* ---- Features (GET_VERSION scalar 1, INFO.features) */
#define DEXT_F_BATCH		(1u << 0)	/* DMA_BATCH */
#define DEXT_F_MULTISEG		(1u << 1)	/* maps may answer >1 segment */
#define DEXT_F_IRQ_PAGE		(1u << 2)	/* DEXT_MEM_IRQ_PAGE + IRQ_ARM */
#define DEXT_F_BAR_MAP		(1u << 3)	/* some BARs are mappable */
#define DEXT_F_CFG_FILTER	(1u << 4)	/* BAR/ROM/MSI writes are refused */

/* ---- Statuses (0 = success). Also the per-entry status of DMA_BATCH. */
enum dext_status {
	DEXT_S_OK = 0,
	DEXT_S_INVALID = 1,	/* bad argument, count, size, offset, flags */
	DEXT_S_VERSION = 2,	/* client's ABI major differs from the dext's */
	DEXT_S_NOT_OPEN = 3,	/* selector needs HELLO first (owner only) */
	DEXT_S_BUSY = 4,	/* another client owns the device */
	DEXT_S_NO_SPACE = 5,	/* mapping-count or byte limit reached */
	DEXT_S_BAD_HANDLE = 6,	/* UNMAP of a handle that is not live */
	DEXT_S_BAD_REGION = 7,	/* region not live, or range outside it */
	DEXT_S_IN_USE = 8,	/* REGION_REMOVE with live mappings in it */
	DEXT_S_IO_ERROR = 9,	/* the platform (DART, PCI) failed */
	DEXT_S_NOTSUP = 10,	/* the function lacks it (capability, BAR map) */
	DEXT_S_GONE = 11,	/* the function went away */
	DEXT_S_BAD_SELECTOR = 12, /* unknown selector */
	DEXT_S_DENIED = 13,	/* config write the dext keeps for itself */
	DEXT_S_NOT_DONE = 14,	/* batch entry not executed: output was full */
	DEXT_S__COUNT
};

#define DEXT_STATUS_NAMES { "ok", "invalid", "version", "not_open", "busy", \
	"no_space", "bad_handle", "bad_region", "in_use", "io_error", \
	"notsup", "gone", "bad_selector", "denied", "not_done" }

/*
 * kern_return_t of a selector: iokit_vendor_specific_err(status), i.e.
 * sys_iokit (0x38 << 26) | sub_iokit_vendor_specific (0xffe << 14) | status.
 */
#define DEXT_IORETURN_BASE	0xe3ff8000u
#define DEXT_IORETURN(s)	((s) ? (dext_s32)(DEXT_IORETURN_BASE | (dext_u32)(s)) : 0)
#define DEXT_IORETURN_IS_OURS(kr) \
	(((dext_u32)(kr) & ~0x3fffu) == DEXT_IORETURN_BASE)
#define DEXT_IORETURN_STATUS(kr)	((dext_u32)(kr) & 0x3fffu)

/*
 * ---- Selectors. "in"/"out" are scalar counts, exact, then structures.
 * Other counts are refused: by DriverKit's dispatch table on a Mac
 * (kIOReturnBadArgument), by the portable core (DEXT_S_INVALID) where no
 * framework checks first (the test double).
 */
enum dext_selector {
	/* in 0; out 2: [0] DEXT_ABI_VERSION, [1] DEXT_F_*. Any client. */
	DEXT_SEL_GET_VERSION = 0,
	/*
	 * in 2: [0] the client's DEXT_ABI_VERSION, [1] flags (0); out 1:
	 * [0] the dext's DEXT_ABI_VERSION. Claims the device for this client.
	 * DEXT_S_VERSION (major differs), DEXT_S_BUSY (another owner).
	 */
	DEXT_SEL_HELLO = 1,
	/* in 0; out 0; struct out: struct dext_info. Any client. */
	DEXT_SEL_INFO = 2,
	/* in 2: [0] offset, [1] len (1, 2, 4; aligned); out 1: [0] value */
	DEXT_SEL_CFG_READ = 3,
	/* in 3: [0] offset, [1] len, [2] value; out 0. DEXT_S_DENIED: BARs, ROM, MSI/MSI-X */
	DEXT_SEL_CFG_WRITE = 4,
	/* in 3: [0] bar, [1] offset, [2] size (1, 2, 4, 8; aligned); out 1: [0] value */
	DEXT_SEL_BAR_READ = 5,
	/* in 4: [0] bar, [1] offset, [2] size, [3] value; out 0 */
	DEXT_SEL_BAR_WRITE = 6,
	/*
	 * in 3: [0] client virtual address, [1] size (both DEXT_REGION_ALIGN
	 * aligned), [2] flags (0); out 1: [0] region id (never 0). The dext
	 * describes that range of the client's memory once (one RAM block).
	 */
	DEXT_SEL_REGION_ADD = 7,
	/* in 1: [0] region id; out 0. DEXT_S_IN_USE while mappings use it. */
	DEXT_SEL_REGION_REMOVE = 8,
	/*
	 * in 0; out 0; struct in: dext_batch_hdr + count dext_op; struct out:
	 * dext_batch_out + count dext_result + the segments (dext_seg), at
	 * most DEXT_BATCH_OUT_MAX(count) bytes, written in order. The call
	 * succeeds when the batch header was valid, whatever each entry's
	 * status; entries are executed in order and out.done says how many
	 * were answered: when the output buffer cannot hold the next answer's
	 * segments the dext stops there (that entry and the rest are not
	 * executed: DEXT_S_NOT_DONE) and the client resubmits them.
	 */
	DEXT_SEL_DMA_BATCH = 9,
	/*
	 * in 2: [0] enum dext_irq_kind, [1] vectors (MSI-X 1..2048, MSI 1..32,
	 * INTx 1; NONE 0); out 0. Resets the interrupt page's pending bits.
	 */
	DEXT_SEL_IRQ_SET = 10,
	/*
	 * Async (IOConnectCallAsyncScalarMethod with a notification port):
	 * in 0; out 0. Arms the completion the dext sends interrupt wakeups to
	 * (args: [0] DEXT_ASYNC_IRQ, [1] irq page seq). A new arm replaces the
	 * old one.
	 */
	DEXT_SEL_IRQ_ARM = 11,
	/*
	 * in 1: [0] DEXT_RESET_* methods allowed; out 1: [0] the method that
	 * ran. FLR is tried first, then the hot reset. Mappings stay.
	 */
	DEXT_SEL_RESET = 12,
	/* in 0; out 0; struct out: struct dext_stats. Owner only. */
	DEXT_SEL_STATS = 13,
	DEXT_SEL__COUNT
};

/* ---- Memory types for IOConnectMapMemory64 (CopyClientMemoryForType) */
#define DEXT_MEM_BAR(n)		((dext_u32)(n))	/* 0..5: a memory BAR, whole */
#define DEXT_MEM_IRQ_PAGE	16u		/* struct dext_irq_page */

/* ---- INFO */
#define DEXT_NUM_BARS		6
#define DEXT_BAR_IO		(1u << 0)	/* I/O space, else memory */
#define DEXT_BAR_64		(1u << 1)	/* 64-bit memory BAR (uses i+1) */
#define DEXT_BAR_PREFETCH	(1u << 2)
#define DEXT_BAR_MAPPABLE	(1u << 3)	/* DEXT_MEM_BAR(i) will map */

#define DEXT_RESET_FLR		(1u << 0)	/* function-level reset */
#define DEXT_RESET_BUS		(1u << 1)	/* secondary bus (hot) reset */

enum dext_irq_kind {
	DEXT_IRQ_NONE = 0,
	DEXT_IRQ_INTX = 1,
	DEXT_IRQ_MSI = 2,
	DEXT_IRQ_MSIX = 3,
};

#define DEXT_MAX_MSIX		2048
#define DEXT_MAX_MSI		32

struct dext_bar_desc {
	dext_u64 size;		/* 0: no BAR here */
	dext_u32 flags;		/* DEXT_BAR_* */
	dext_u32 rsvd;
};

/* DEXT_SEL_INFO; 256 bytes. */
struct dext_info {
	dext_u32 abi_version;	/* DEXT_ABI_VERSION of the dext */
	dext_u32 features;	/* DEXT_F_* */
	dext_u16 vendor_id;
	dext_u16 device_id;
	dext_u32 class_rev;	/* config dword 0x08: class << 8 | revision */
	dext_u16 domain;	/* PCI location of the function */
	dext_u8  bus;
	dext_u8  devfn;		/* device << 3 | function */
	dext_u32 cfg_size;	/* 256 or 4096 */
	dext_u32 resets;	/* DEXT_RESET_* the function supports */
	dext_u32 msix_vectors;	/* 0: no MSI-X capability */
	dext_u32 msi_vectors;	/* 0: no MSI capability */
	dext_u32 intx;		/* 1 if it has an INTx pin */
	dext_u32 owner;		/* DEXT_OWNER_* as seen by the caller */
	dext_u32 page_shift;	/* DART page: 14 */
	dext_u32 max_segs;	/* most segments one map can answer */
	dext_u32 max_batch;	/* most entries in one DMA_BATCH */
	dext_u32 max_maps;	/* live mappings allowed */
	dext_u32 max_regions;	/* live regions allowed */
	dext_u64 max_bytes;	/* live page-rounded bytes allowed */
	struct dext_bar_desc bar[DEXT_NUM_BARS];
	char name[64];		/* for messages, NUL-terminated */
	dext_u8  rsvd[24];
};

#define DEXT_OWNER_NONE		0	/* nobody owns the device */
#define DEXT_OWNER_SELF		1	/* the caller does */
#define DEXT_OWNER_OTHER	2	/* another client does */

/* ---- DMA_BATCH */
#define DEXT_BATCH_MAGIC	0x54414244u	/* "DBAT" */
#define DEXT_BATCH_OUT_MAGIC	0x4f414244u	/* "DBAO" */
#define DEXT_MAX_BATCH		1024
#define DEXT_MAX_SEGS		32	/* IODMACommand::PrepareForDMA's array */
#define DEXT_PAGE_SHIFT		14	/* DART page: 16 KiB */
#define DEXT_PAGE_SIZE		(1u << DEXT_PAGE_SHIFT)
#define DEXT_REGION_ALIGN	4096u	/* REGION_ADD address and size */
#define DEXT_MAX_REGIONS	64

#define DEXT_OP_MAP		1
#define DEXT_OP_UNMAP		2

/* dext_op.dir: the device's access, as apple_dma.h's ADMA_DIR_* */
#define DEXT_DIR_TO_DEVICE	(1u << 0)	/* device reads memory */
#define DEXT_DIR_FROM_DEVICE	(1u << 1)	/* device writes memory */
#define DEXT_DIR_VALID		(DEXT_DIR_TO_DEVICE | DEXT_DIR_FROM_DEVICE)

struct dext_batch_hdr {
	dext_u32 magic;		/* DEXT_BATCH_MAGIC */
	dext_u16 version;	/* DEXT_ABI_MAJOR */
	dext_u16 rsvd0;		/* 0 */
	dext_u32 count;		/* entries that follow, 1..DEXT_MAX_BATCH */
	dext_u32 rsvd1;		/* 0 */
};

/* One entry; 32 bytes. Unused fields must be 0. */
struct dext_op {
	dext_u8  op;		/* DEXT_OP_* */
	dext_u8  dir;		/* MAP: DEXT_DIR_* (non-zero) */
	dext_u16 rsvd;
	dext_u32 region;	/* MAP: region id */
	dext_u64 offset;	/* MAP: byte offset in the region */
	dext_u64 len;		/* MAP: bytes, > 0 */
	dext_u64 handle;	/* UNMAP: handle from a MAP answer */
};

struct dext_batch_out {
	dext_u32 magic;		/* DEXT_BATCH_OUT_MAGIC */
	dext_u32 done;		/* entries answered (executed), in order */
	dext_u32 failed;	/* of those, status != DEXT_S_OK */
	dext_u32 nsegs;		/* segments after the results */
};

/* One answer; 24 bytes. */
struct dext_result {
	dext_u32 status;	/* DEXT_S_* */
	dext_u16 nsegs;		/* MAP: segments of this mapping */
	dext_u16 rsvd;
	dext_u32 first_seg;	/* MAP: index of its first segment */
	dext_u32 rsvd1;
	dext_u64 handle;	/* MAP: names the mapping for UNMAP */
};

struct dext_seg {
	dext_u64 iova;		/* device address of the first byte */
	dext_u64 len;
};

/* Output space that always holds the answers to count entries. */
#define DEXT_BATCH_OUT_MAX(count) \
	(sizeof(struct dext_batch_out) + \
	 (dext_u64)(count) * (sizeof(struct dext_result) + \
			      DEXT_MAX_SEGS * sizeof(struct dext_seg)))
#define DEXT_BATCH_IN_SIZE(count) \
	(sizeof(struct dext_batch_hdr) + (dext_u64)(count) * sizeof(struct dext_op))

/* ---- STATS; 128 bytes. */
struct dext_stats {
	dext_u64 live_maps;
	dext_u64 live_bytes;	/* page-rounded */
	dext_u64 peak_maps;
	dext_u64 peak_bytes;
	dext_u64 maps;		/* successful maps */
	dext_u64 unmaps;
	dext_u64 refusals;	/* batch entries not OK */
	dext_u64 batches;
	dext_u64 multiseg;	/* maps answered with more than one segment */
	dext_u64 irqs;		/* interrupts forwarded */
	dext_u64 wakeups;	/* async completions sent */
	dext_u64 resets;
	dext_u64 live_regions;
	dext_u64 rsvd[3];
};

/* ---- The interrupt-status page (DEXT_MEM_IRQ_PAGE); 4096 bytes. */
#define DEXT_IRQ_PAGE_MAGIC	0x51524944u	/* "DIRQ" */
#define DEXT_IRQ_PAGE_SIZE	4096
#define DEXT_ASYNC_IRQ		1	/* async completion arg 0 */

struct dext_irq_page {
	dext_u32 magic;		/* dext: DEXT_IRQ_PAGE_MAGIC */
	dext_u32 abi_version;	/* dext: DEXT_ABI_VERSION */
	dext_u32 kind;		/* dext: enum dext_irq_kind in force */
	dext_u32 nvec;		/* dext: vectors in force */
	dext_u32 wake;		/* client: 1 = send a completion; dext clears */
	dext_u32 intx_level;	/* dext: INTx line level now */
	dext_u32 seq;		/* dext: bumped on every interrupt */
	dext_u32 rsvd0;
	dext_u64 raised;	/* dext: interrupts seen */
	dext_u64 wakeups;	/* dext: completions sent */
	dext_u64 rsvd1[4];
	/* dext sets bit v on vector v (MSI: 0; INTx: 0 on any level change) */
	dext_u64 pending[DEXT_MAX_MSIX / 64];	/* at offset 80 */
	dext_u8  rsvd2[DEXT_IRQ_PAGE_SIZE - 80 - DEXT_MAX_MSIX / 8];
};

DEXT_STATIC_ASSERT(sizeof(struct dext_bar_desc) == 16, "dext_bar_desc layout");
DEXT_STATIC_ASSERT(sizeof(struct dext_info) == 256, "dext_info layout");
DEXT_STATIC_ASSERT(__builtin_offsetof(struct dext_info, max_bytes) == 64,
		   "info.max_bytes");
DEXT_STATIC_ASSERT(__builtin_offsetof(struct dext_info, bar) == 72, "info.bar");
DEXT_STATIC_ASSERT(__builtin_offsetof(struct dext_info, name) == 168,
		   "info.name");
DEXT_STATIC_ASSERT(sizeof(struct dext_batch_hdr) == 16, "dext_batch_hdr layout");
DEXT_STATIC_ASSERT(sizeof(struct dext_op) == 32, "dext_op layout");
DEXT_STATIC_ASSERT(__builtin_offsetof(struct dext_op, offset) == 8, "op.offset");
DEXT_STATIC_ASSERT(__builtin_offsetof(struct dext_op, handle) == 24, "op.handle");
DEXT_STATIC_ASSERT(sizeof(struct dext_batch_out) == 16, "dext_batch_out layout");
DEXT_STATIC_ASSERT(sizeof(struct dext_result) == 24, "dext_result layout");
DEXT_STATIC_ASSERT(__builtin_offsetof(struct dext_result, handle) == 16,
		   "result.handle");
DEXT_STATIC_ASSERT(sizeof(struct dext_seg) == 16, "dext_seg layout");
DEXT_STATIC_ASSERT(sizeof(struct dext_stats) == 128, "dext_stats layout");
DEXT_STATIC_ASSERT(sizeof(struct dext_irq_page) == DEXT_IRQ_PAGE_SIZE,
		   "dext_irq_page layout");
DEXT_STATIC_ASSERT(__builtin_offsetof(struct dext_irq_page, pending) == 80,
		   "irq_page.pending");
DEXT_STATIC_ASSERT(DEXT_S__COUNT == 15, "DEXT_STATUS_NAMES covers every status");
DEXT_STATIC_ASSERT(DEXT_BATCH_IN_SIZE(DEXT_MAX_BATCH) <= 64 * 1024,
		   "a whole batch fits one 64 KiB descriptor");

#endif /* APPLE_DEXT_H */
