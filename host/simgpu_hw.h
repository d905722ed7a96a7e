/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * simgpu_hw.h - the "hardware" of simgpu, the simulated GPU-like PCI
 * function that stands in for a Thunderbolt GPU on Linux (host/simgpu.c),
 * as its driver sees it: PCI identity, BARs, registers, command ring.
 * The guest test driver (tests/vm/gpu/) and simgpu.c include it unchanged.
 *
 * BARs
 *   BAR0      16 KiB registers (below); trapped: the host gives no pointer
 *   BAR2/3    64-bit prefetchable VRAM (default 64 MiB): host memory,
 *             mappable straight into the guest
 *   BAR4      MSI-X table (offset 0) and PBA (SIMGPU_MSIX_PBA_OFF); at
 *             least 4 KiB, a power of two; trapped (too small to map)
 *
 * Engine
 *   A ring of struct simgpu_cmd in system memory, addressed by IOVA (the
 *   DART's address, as apple_dma returns it). The driver writes commands,
 *   then the new producer index to RING_TAIL (the doorbell); the engine
 *   works asynchronously, advancing RING_HEAD. A FENCE command writes its
 *   value to fence_addr (IOVA, 8 bytes) and, with SIMGPU_CMD_IRQ, raises
 *   MSI-X vector `vector` (MSI: vector 0; INTx: the line, while
 *   IRQ_STATUS & ~IRQ_MASK). Every system-memory access goes through the
 *   DART: an unmapped or wrong-direction IOVA is a fault, the engine stops
 *   with STATUS_ERROR, ERROR = SIMGPU_ERR_DART_FAULT, FAULT_IOVA = the
 *   address, and IRQ_STATUS_ERROR is raised on vector 0. DMA also needs
 *   Bus Master Enable in the command register (else SIMGPU_ERR_NO_BME).
 *   CONTROL_RESET (or an FLR) empties the engine; DART mappings stay.
 *
 * All registers are 32-bit little-endian; 64-bit values are LO/HI pairs.
 */
#ifndef SIMGPU_HW_H
#define SIMGPU_HW_H

#if defined(__KERNEL__)
#include <linux/types.h>
typedef __u32 simgpu_u32;
typedef __u64 simgpu_u64;
#else
#include <stdint.h>
typedef uint32_t simgpu_u32;
typedef uint64_t simgpu_u64;
#endif

/* ---- PCI identity: QEMU's test vendor, class "3D controller". */
#define SIMGPU_PCI_VENDOR_ID	0x1234
#define SIMGPU_PCI_DEVICE_ID	0x5947	/* "GY" */
#define SIMGPU_PCI_REVISION	0x01
#define SIMGPU_PCI_CLASS	0x0302	/* PCI_CLASS_DISPLAY_3D */

#define SIMGPU_BAR_REGS		0
#define SIMGPU_BAR_VRAM		2
#define SIMGPU_BAR_MSIX		4
#define SIMGPU_REGS_SIZE	0x4000	/* 16 KiB */
#define SIMGPU_VRAM_DEFAULT	(64ull << 20)
#define SIMGPU_MSIX_DEFAULT	16	/* vectors */
#define SIMGPU_MSIX_PBA_OFF(nvec)	((((nvec) * 16u) + 0x7ffu) & ~0x7ffu)

/* Capabilities in config space (offsets fixed, for the tests). */
#define SIMGPU_CAP_PCIE		0x40	/* endpoint, DevCap: FLR */
#define SIMGPU_CAP_MSI		0x80	/* 64-bit, per-vector masking, 1 vector */
#define SIMGPU_CAP_MSIX		0xa0

/* ---- BAR0 registers */
#define SIMGPU_ID_VALUE		0x55504753u	/* "SGPU" */
#define SIMGPU_VERSION_VALUE	0x00010000u	/* 1.0 */

#define SIMGPU_REG_ID		0x000	/* RO: SIMGPU_ID_VALUE */
#define SIMGPU_REG_VERSION	0x004	/* RO */
#define SIMGPU_REG_VRAM_LO	0x008	/* RO: VRAM size in bytes */
#define SIMGPU_REG_VRAM_HI	0x00c
#define SIMGPU_REG_MSIX_VECS	0x010	/* RO: MSI-X vectors */
#define SIMGPU_REG_STATUS	0x014	/* RO: SIMGPU_STATUS_* */
#define SIMGPU_REG_ERROR	0x018	/* RO: SIMGPU_ERR_* of the last stop */
#define SIMGPU_REG_FAULT_LO	0x01c	/* RO: IOVA (or offset) that failed */
#define SIMGPU_REG_FAULT_HI	0x020
#define SIMGPU_REG_SCRATCH	0x024	/* RW: for tests; 0 after reset */
#define SIMGPU_REG_RING_LO	0x040	/* RW: ring base IOVA, 64-byte aligned */
#define SIMGPU_REG_RING_HI	0x044
#define SIMGPU_REG_RING_SIZE	0x048	/* RW: entries, power of two, <= 64k */
#define SIMGPU_REG_RING_HEAD	0x04c	/* RO: next entry the engine reads */
#define SIMGPU_REG_RING_TAIL	0x050	/* WO: doorbell: next entry to write */
#define SIMGPU_REG_CONTROL	0x054	/* WO: SIMGPU_CONTROL_* */
#define SIMGPU_REG_FENCE_LO	0x058	/* RO: value of the last fence done */
#define SIMGPU_REG_FENCE_HI	0x05c
#define SIMGPU_REG_IRQ_STATUS	0x060	/* RW1C: SIMGPU_IRQ_* */
#define SIMGPU_REG_IRQ_MASK	0x064	/* RW: masked causes do not raise INTx */
#define SIMGPU_REG_DONE		0x068	/* RO: commands completed since reset */
#define SIMGPU_REG_FAULTS	0x06c	/* RO: DART faults since reset */

/* SIMGPU_REG_STATUS */
#define SIMGPU_STATUS_ENABLED	(1u << 0)	/* CONTROL_ENABLE was written */
#define SIMGPU_STATUS_BUSY	(1u << 1)	/* head != tail */
#define SIMGPU_STATUS_ERROR	(1u << 2)	/* stopped: see REG_ERROR */

/* SIMGPU_REG_CONTROL */
#define SIMGPU_CONTROL_ENABLE	(1u << 0)	/* start taking commands */
#define SIMGPU_CONTROL_RESET	(1u << 1)	/* stop, empty ring, clear error */

/* SIMGPU_REG_ERROR */
#define SIMGPU_ERR_NONE		0
#define SIMGPU_ERR_DART_FAULT	1	/* IOVA unmapped or wrong direction */
#define SIMGPU_ERR_BAD_CMD	2	/* unknown op, bad flags */
#define SIMGPU_ERR_VRAM_RANGE	3	/* VRAM offset + len outside VRAM */
#define SIMGPU_ERR_NO_BME	4	/* DMA with bus mastering off */
#define SIMGPU_ERR_BAD_RING	5	/* ring base/size invalid at doorbell */

/* SIMGPU_REG_IRQ_STATUS / IRQ_MASK */
#define SIMGPU_IRQ_FENCE	(1u << 0)
#define SIMGPU_IRQ_ERROR	(1u << 1)

/* ---- Commands: 64 bytes each, little-endian. */
#define SIMGPU_OP_NOP		0
#define SIMGPU_OP_COPY		1	/* len bytes from src to dst */
#define SIMGPU_OP_FILL		2	/* dst = len bytes of the 32-bit value */
#define SIMGPU_OP_FENCE		3	/* *fence_addr = value, then irq */

/* flags */
#define SIMGPU_CMD_SRC_VRAM	(1u << 0)	/* src is a VRAM offset, else IOVA */
#define SIMGPU_CMD_DST_VRAM	(1u << 1)	/* dst is a VRAM offset, else IOVA */
#define SIMGPU_CMD_IRQ		(1u << 2)	/* FENCE: raise the interrupt */
#define SIMGPU_CMD_FLAGS_VALID	0x7u

#define SIMGPU_MAX_XFER		(16u << 20)	/* len of one COPY/FILL */

struct simgpu_cmd {
	simgpu_u32 op;
	simgpu_u32 flags;
	simgpu_u64 src;		/* COPY */
	simgpu_u64 dst;		/* COPY, FILL */
	simgpu_u64 len;		/* COPY, FILL: bytes, <= SIMGPU_MAX_XFER */
	simgpu_u64 value;	/* FILL: pattern (low 32 bits); FENCE: value */
	simgpu_u64 fence_addr;	/* FENCE: IOVA of 8 bytes */
	simgpu_u32 vector;	/* FENCE: MSI-X vector */
	simgpu_u32 rsvd[3];	/* 0 */
};

_Static_assert(sizeof(struct simgpu_cmd) == 64, "simgpu_cmd layout");

#endif /* SIMGPU_HW_H */
