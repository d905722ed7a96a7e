/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * apple_dma.h - wire protocol of the paravirtual DMA device "apple-dma-pci".
 *
 * This header is the only definition of the protocol: the guest module, the
 * QEMU device and the host core include it unchanged. It includes nothing but
 * the fixed-width integer types of the environment it is built in.
 *
 * Model
 *   The guest builds a *command block* in its own RAM naming an array of
 *   requests and an array of responses (also in guest RAM), then writes the
 *   block's guest-physical address to the 64-bit DOORBELL register with a
 *   single write. The device processes the whole batch before that write
 *   retires (the device is synchronous by contract), writing one response per
 *   request and the batch status into the command block.
 *
 *   Every status the device can write is non-zero; ADMA_S_PENDING (0) is what
 *   the guest stores before ringing, so a batch whose command block the device
 *   could not even read still reads as "not ok". The guest must treat any
 *   response still at ADMA_S_PENDING as a failure.
 *
 *   MAP returns a *handle* chosen by the host, unique among live mappings (two
 *   mappings of the same guest address get different handles); UNMAP names
 *   that handle, never an address. The device address (IOVA) is also chosen
 *   by the host: the guest may rely on nothing but ADMA_PAGE_SIZE alignment of
 *   the mapped window (the IOVA keeps the GPA's offset inside that page).
 *
 * All multi-byte fields are little-endian. Register accesses are 32-bit,
 * except DOORBELL which is one 64-bit access.
 */
#ifndef APPLE_DMA_H
#define APPLE_DMA_H

#if defined(__KERNEL__)
#include <linux/types.h>
typedef __u8  adma_u8;
typedef __u16 adma_u16;
typedef __u32 adma_u32;
typedef __u64 adma_u64;
#define ADMA_STATIC_ASSERT(c, m) _Static_assert(c, m)
#else
#include <stdint.h>
typedef uint8_t  adma_u8;
typedef uint16_t adma_u16;
typedef uint32_t adma_u32;
typedef uint64_t adma_u64;
#ifdef __cplusplus
#define ADMA_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define ADMA_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
#endif

/* ---- Protocol version: major changes break the layout, minor add to it. */
#define ADMA_VERSION_MAJOR	1
#define ADMA_VERSION_MINOR	1	/* 1.1: CONTROL, IOVA_END, F_GATE */
#define ADMA_VERSION		((ADMA_VERSION_MAJOR << 16) | ADMA_VERSION_MINOR)
#define ADMA_VERSION_GET_MAJOR(v)	((adma_u32)(v) >> 16)
#define ADMA_VERSION_GET_MINOR(v)	((adma_u32)(v) & 0xffff)

/* ---- PCI identity (QEMU's test vendor range; class "system peripheral"). */
#define ADMA_PCI_VENDOR_ID	0x1234
#define ADMA_PCI_DEVICE_ID	0xad7a
#define ADMA_PCI_REVISION	0x01
#define ADMA_PCI_CLASS		0x0880	/* PCI_CLASS_SYSTEM_OTHER */

/* ---- BAR0: registers, 32-bit unless noted. */
#define ADMA_BAR0_SIZE		0x1000
#define ADMA_MAGIC_VALUE	0x414d4441u	/* "ADMA" */

#define ADMA_REG_MAGIC		0x00	/* RO: ADMA_MAGIC_VALUE */
#define ADMA_REG_VERSION	0x04	/* RO: ADMA_VERSION of the device */
#define ADMA_REG_FEATURES	0x08	/* RO: ADMA_F_* */
#define ADMA_REG_MAX_BATCH	0x0c	/* RO: most requests in one batch */
#define ADMA_REG_MAX_SEGS	0x10	/* RO: most segments in one response */
#define ADMA_REG_PAGE_SHIFT	0x14	/* RO: log2 of the IOVA page size */
#define ADMA_REG_MANAGED_ID	0x18	/* RO: managed device's requester ID */
#define ADMA_REG_MANAGED_SEG	0x1c	/* RO: managed device's PCI domain */
#define ADMA_REG_LIMIT_BYTES_LO	0x20	/* RO: byte limit of live mappings */
#define ADMA_REG_LIMIT_BYTES_HI	0x24
#define ADMA_REG_LIMIT_MAPS	0x28	/* RO: limit on live mappings */
#define ADMA_REG_LIVE_MAPS	0x2c	/* RO: live mappings now */
#define ADMA_REG_LIVE_BYTES_LO	0x30	/* RO: bytes mapped now (page-rounded) */
#define ADMA_REG_LIVE_BYTES_HI	0x34
#define ADMA_REG_BAD_BATCHES	0x38	/* RO: doorbells refused as a whole */
#define ADMA_REG_CONTROL	0x3c	/* RW: ADMA_CTRL_* (ADMA_F_GATE) */
#define ADMA_REG_DOORBELL	0x40	/* WO, 64-bit: GPA of a command block */
#define ADMA_REG_IOVA_END_LO	0x48	/* RO (1.1): one past the highest IOVA */
#define ADMA_REG_IOVA_END_HI	0x4c	/*   an answer may hold; 0 = unknown */

/* ADMA_REG_MANAGED_ID: bus in 15:8, devfn in 7:0; valid only if bit 31. */
#define ADMA_MANAGED_VALID	0x80000000u
#define ADMA_MANAGED_BUS(v)	(((v) >> 8) & 0xff)
#define ADMA_MANAGED_DEVFN(v)	((v) & 0xff)

/* ADMA_REG_FEATURES */
#define ADMA_F_BATCH		(1u << 0)	/* many requests per doorbell */
#define ADMA_F_MULTISEG		(1u << 1)	/* responses may carry >1 segment */
#define ADMA_F_IOMMU_SIM	(1u << 2)	/* backend is the DART simulator */
#define ADMA_F_DIR		(1u << 3)	/* direction flags are enforced */
#define ADMA_F_GATE		(1u << 4)	/* CONTROL gates the managed DMA */

/*
 * ADMA_REG_CONTROL, with ADMA_F_GATE. From reset the managed device's DMA is
 * held off: a passed-through function gets no bus mastering, an emulated
 * one faults on every address. The guest driver sets DMA_ON once its ops
 * are on the device and its channel works, and clears it (fence) before
 * it lets go. RELEASE_ALL (write-only, reads 0) closes the gate and then
 * releases every live mapping of this device: for a driver that finds
 * mappings it cannot name (after kexec, or a crash of the one before).
 */
#define ADMA_CTRL_DMA_ON	(1u << 0)
#define ADMA_CTRL_RELEASE_ALL	(1u << 1)
#define ADMA_CTRL_VALID		(ADMA_CTRL_DMA_ON | ADMA_CTRL_RELEASE_ALL)

/* ---- Requests. */
#define ADMA_OP_MAP		1
#define ADMA_OP_UNMAP		2

/* Request flags: the direction of the device's access, as the DMA API has it. */
#define ADMA_DIR_TO_DEVICE	(1u << 0)	/* device reads guest memory */
#define ADMA_DIR_FROM_DEVICE	(1u << 1)	/* device writes guest memory */
#define ADMA_DIR_BIDIRECTIONAL	(ADMA_DIR_TO_DEVICE | ADMA_DIR_FROM_DEVICE)
#define ADMA_REQ_FLAGS_VALID	ADMA_DIR_BIDIRECTIONAL

/*
 * The DART maps whole ADMA_PAGE_SIZE pages, so a MAP exposes to the device
 * every byte of the 16 KiB pages its range touches: mapping one 4 KiB guest
 * page exposes the other 12 KiB of its 16 KiB page too (whatever the guest
 * keeps there). The device refuses (RANGE) a MAP whose page-rounded range
 * is not wholly guest RAM, even if [gpa, gpa + len) itself is.
 */
#define ADMA_PAGE_SHIFT		14		/* DART page: 16 KiB */
#define ADMA_PAGE_SIZE		(1u << ADMA_PAGE_SHIFT)
#define ADMA_MAX_SEGS		4		/* segments one response can hold */
#define ADMA_MAX_BATCH		1024		/* upper bound a device may advertise */

/* One request; 32 bytes. */
struct adma_req {
	adma_u8  op;		/* ADMA_OP_* */
	adma_u8  flags;		/* ADMA_DIR_* (MAP); 0 for UNMAP */
	adma_u16 rsvd0;		/* must be 0 */
	adma_u32 rsvd1;		/* must be 0 */
	adma_u64 gpa;		/* MAP: guest-physical start */
	adma_u64 len;		/* MAP: length in bytes, > 0 */
	adma_u64 handle;	/* UNMAP: handle from the MAP response */
};

/* One device-address range. */
struct adma_seg {
	adma_u64 iova;		/* device address of the first byte */
	adma_u64 len;		/* bytes */
};

/* One response; 80 bytes. */
struct adma_resp {
	adma_u32 status;	/* ADMA_S_*; ADMA_S_PENDING until written */
	adma_u16 nsegs;		/* MAP: segments filled in seg[] */
	adma_u16 rsvd;
	adma_u64 handle;	/* MAP: names this mapping for UNMAP */
	struct adma_seg seg[ADMA_MAX_SEGS];	/* MAP: covers gpa..gpa+len */
};

/* The command block a doorbell points at; 40 bytes, 8-byte aligned. */
struct adma_cmd {
	adma_u32 magic;		/* ADMA_CMD_MAGIC */
	adma_u16 version;	/* ADMA_VERSION_MAJOR the guest speaks */
	adma_u16 rsvd;
	adma_u32 count;		/* requests in this batch */
	adma_u32 status;	/* device: ADMA_S_OK if every entry was read */
	adma_u64 req_gpa;	/* array of count struct adma_req */
	adma_u64 resp_gpa;	/* array of count struct adma_resp */
	adma_u32 done;		/* device: responses written */
	adma_u32 failed;	/* device: responses with a status other than OK */
};

#define ADMA_CMD_MAGIC		0x444d4341u	/* "ACMD" */

/* ---- Status codes. Zero is never written by the device. */
enum adma_status {
	ADMA_S_PENDING = 0,	/* not (yet) answered: a failure to the guest */
	ADMA_S_OK = 1,
	ADMA_S_INVALID = 2,	/* malformed: bad op, flags, length 0, overflow */
	ADMA_S_RANGE = 3,	/* GPA range not wholly inside guest RAM */
	ADMA_S_NO_SPACE = 4,	/* byte or mapping-count limit reached */
	ADMA_S_BAD_HANDLE = 5,	/* UNMAP of a handle that is not live */
	ADMA_S_IO_ERROR = 6,	/* backend failed (or an injected fault) */
	ADMA_S_FRAGMENTED = 7,	/* limits allow it, but no free IOVA run fits */
	ADMA_S_TOO_MANY = 8,	/* batch count above ADMA_REG_MAX_BATCH */
	ADMA_S_BAD_BLOCK = 9,	/* command block: bad magic or version */
	ADMA_S__COUNT
};

/* Names for logs and stats, indexed by enum adma_status. */
#define ADMA_STATUS_NAMES { "pending", "ok", "invalid", "range", "no_space", \
	"bad_handle", "io_error", "fragmented", "too_many", "bad_block" }

ADMA_STATIC_ASSERT(sizeof(struct adma_req) == 32, "adma_req layout");
ADMA_STATIC_ASSERT(sizeof(struct adma_seg) == 16, "adma_seg layout");
ADMA_STATIC_ASSERT(sizeof(struct adma_resp) == 16 + 16 * ADMA_MAX_SEGS,
		   "adma_resp layout");
ADMA_STATIC_ASSERT(sizeof(struct adma_cmd) == 40, "adma_cmd layout");
ADMA_STATIC_ASSERT(__builtin_offsetof(struct adma_req, gpa) == 8, "req.gpa");
ADMA_STATIC_ASSERT(__builtin_offsetof(struct adma_req, handle) == 24,
		   "req.handle");
ADMA_STATIC_ASSERT(__builtin_offsetof(struct adma_resp, handle) == 8,
		   "resp.handle");
ADMA_STATIC_ASSERT(__builtin_offsetof(struct adma_resp, seg) == 16,
		   "resp.seg");
ADMA_STATIC_ASSERT(__builtin_offsetof(struct adma_cmd, req_gpa) == 16,
		   "cmd.req_gpa");
ADMA_STATIC_ASSERT(__builtin_offsetof(struct adma_cmd, done) == 32,
		   "cmd.done");
ADMA_STATIC_ASSERT(ADMA_S__COUNT == 10, "ADMA_STATUS_NAMES covers every status");

#endif /* APPLE_DMA_H */
