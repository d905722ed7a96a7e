/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * simgpu_int.h - simgpu's state, shared by its two halves: simgpu.c (the
 * PCI function: config space, BARs, interrupts, reset, DMA backend) and
 * simgpu_engine.c (BAR0 registers and the command engine). Not for
 * embedders: they see simgpu.h only.
 */
#ifndef SIMGPU_INT_H
#define SIMGPU_INT_H

#include "simgpu.h"

/* Config-space offsets and bits simgpu needs (PCI/PCIe base spec names). */
#define SG_CFG_COMMAND		0x04
#define SG_CMD_MEMORY		(1u << 1)
#define SG_CMD_MASTER		(1u << 2)
#define SG_CMD_INTX_DISABLE	(1u << 10)
#define SG_CFG_STATUS		0x06
#define SG_STATUS_INTX		(1u << 3)	/* INTx asserted (internally) */
#define SG_STATUS_CAP_LIST	(1u << 4)

/* The rest of the config space layout simgpu.c builds (same spec). */
#define CFG_VENDOR		0x00
#define CFG_DEVICE		0x02
#define CFG_REVISION		0x08
#define CFG_CLASS_PROG		0x09
#define CFG_CACHE_LINE		0x0c
#define CFG_HEADER_TYPE		0x0e
#define CFG_BAR(i)		(0x10 + 4 * (i))
#define CFG_SUBSYS_VENDOR	0x2c
#define CFG_SUBSYS		0x2e
#define CFG_CAP_PTR		0x34
#define CFG_INT_LINE		0x3c
#define CFG_INT_PIN		0x3d

#define BAR_MEM_64		0x4u
#define BAR_MEM_PREFETCH	0x8u

#define CAP_ID_PCIE		0x10
#define CAP_ID_MSI		0x05
#define CAP_ID_MSIX		0x11

/* PCIe capability, version 2, endpoint */
#define PCIE_FLAGS		0x02
#define PCIE_DEVCAP		0x04
#define PCIE_DEVCAP_RBER	(1u << 15)
#define PCIE_DEVCAP_FLR		(1u << 28)
#define PCIE_DEVCTL		0x08
#define PCIE_DEVCTL_WMASK	0x78ffu	/* errors, RO, MPS, no-snoop, MRRS */
#define PCIE_DEVCTL_DEFAULT	0x2810u	/* RO, no-snoop, MRRS 512 */
#define PCIE_DEVCTL_FLR		(1u << 15)
#define PCIE_LNKCAP		0x0c
#define PCIE_LNKCTL		0x10
#define PCIE_LNKCTL_WMASK	0x00c8u	/* RCB, common clock, ext. synch */
#define PCIE_LNKSTA		0x12
#define PCIE_LNK_X1_2_5GT	0x11u	/* speed 1 (2.5 GT/s), width x1 */
#define PCIE_LNKCAP2		0x2c
#define PCIE_LNKCAP2_2_5GT	0x2u
#define PCIE_LNKCTL2		0x30

/* MSI, 64-bit with per-vector masking, 1 vector */
#define MSI_CTL			0x02
#define MSI_CTL_ENABLE		(1u << 0)
#define MSI_CTL_MME		(7u << 4)
#define MSI_CTL_64		(1u << 7)
#define MSI_CTL_PVM		(1u << 8)
#define MSI_ADDR_LO		0x04
#define MSI_ADDR_HI		0x08
#define MSI_DATA		0x0c
#define MSI_MASK		0x10

/* MSI-X */
#define MSIX_CTL		0x02
#define MSIX_CTL_MASKALL	(1u << 14)
#define MSIX_CTL_ENABLE		(1u << 15)
#define MSIX_TABLE		0x04
#define MSIX_PBA		0x08
#define MSIX_ENTRY_SIZE		16
#define MSIX_ENTRY_CTRL		12
#define MSIX_CTRL_MASKED	1u

struct simgpu {
	struct simgpu_config cfg;	/* defaults applied */
	struct simgpu_env env;
	struct hostdev hd;
	struct simgpu_stats st;
	struct dartsim *dart;
	uint8_t *vram;
	uint8_t *msix;		/* BAR4 contents: the table, then the PBA */
	uint64_t msix_bar_size;
	bool closed;		/* close() ran: no more interrupts */

	/*
	 * Interrupts. Causes are recorded under env.lock (pending vectors, the
	 * INTx level wanted); the callback is called after the lock is
	 * dropped, by one thread at a time (irq_busy), so the embedder may
	 * take its own locks in it without ordering against ours, and INTx
	 * levels arrive in the order they changed.
	 */
	enum hostdev_irq_kind irq_kind;	/* set by irq_set() */
	uint32_t irq_nvec;
	bool irq_busy;		/* a thread is delivering, lock dropped */
	bool irq_any;		/* irq_pending has a bit set */
	bool intx_sent;		/* the level the callback last got */
	uint64_t irq_pending[HOSTDEV_MAX_MSIX / 64];

	/* Engine (BAR0), see simgpu_hw.h */
	bool enabled;
	uint32_t error;		/* SIMGPU_ERR_*; not NONE: stopped */
	uint64_t fault;
	uint32_t scratch;
	uint64_t ring_base;
	uint32_t ring_size;
	uint32_t head, tail;
	uint64_t fence;
	uint32_t irq_status, irq_mask;
	uint32_t done, faults;
	/* one page: the FILL pattern, or the data of an IOVA-to-IOVA copy */
	uint8_t bounce[DARTSIM_PAGE_SIZE];

	uint8_t cfg_space[HOSTDEV_CFG_SIZE];
	uint8_t cfg_wmask[HOSTDEV_CFG_SIZE];	/* bits software may write */
};

static inline void sg_lock(struct simgpu *g)
{
	if (g->env.lock)
		g->env.lock(g->env.opaque);
}

/* Drop env.lock, first delivering interrupts raised under it (simgpu.c). */
void sg_unlock(struct simgpu *g);

static inline uint16_t sg_cfg16(const struct simgpu *g, uint32_t off)
{
	return (uint16_t)(g->cfg_space[off] | g->cfg_space[off + 1] << 8);
}

/* Raise MSI-X vector (MSI: 0; INTx follows IRQ_STATUS). Under the lock. */
void sg_irq_raise(struct simgpu *g, uint32_t vector);
/* Is the INTx condition true (IRQ_STATUS & ~IRQ_MASK)? */
bool sg_intx_cause(const struct simgpu *g);

/* simgpu_engine.c */
void sg_engine_reset(struct simgpu *g);	/* power-on / FLR state */
uint32_t sg_reg_read(struct simgpu *g, uint32_t off);
/* Returns true when the embedder should be kicked (after unlocking). */
bool sg_reg_write(struct simgpu *g, uint32_t off, uint32_t val);

/* A little-endian value of size bytes (VRAM, MSI-X table, commands). */
static inline uint64_t sg_load_le(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif /* SIMGPU_INT_H */
