/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * hostdev.h - one physical PCI function, as the passthrough device sees it.
 *
 * QEMU's egpu-pci shows a host PCI function to the guest. Whatever the host
 * (the macOS dext over IOKit, the simulated GPU function in-process), it
 * needs the same few things from it, and this is the one interface that
 * names them: config space, the BARs (mapped into the process or reached by
 * read/write calls), interrupts delivered through a callback the embedder
 * registers, reset, and the function's DMA backend - its IOMMU (the DART),
 * which apple-dma-pci's host core programs, so the device and its DART are
 * one object as on the Mac.
 *
 * Portable C, no OS headers. A backend fills a struct hostdev when it opens
 * a function (simgpu_hostdev(), hostdev_iokit_open()); the embedder calls
 * through ops and never looks behind dev. Error returns are HOSTDEV_E_*.
 *
 * Threads: ops may be called from any thread, but the embedder serialises
 * calls that change state (config writes, BAR writes, irq_set, reset).
 * The irq callback may run on a thread of the backend's own, concurrently
 * with anything; it must not call back into ops. dma_ops are thread-safe
 * (the backend locks its IOMMU itself).
 */
#ifndef HOSTDEV_H
#define HOSTDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adma_core.h"

#define HOSTDEV_NUM_BARS	6
#define HOSTDEV_CFG_SIZE	4096	/* PCIe extended config space */
#define HOSTDEV_MAX_MSIX	2048	/* PCI's limit on MSI-X vectors */
#define HOSTDEV_MAX_MSI		32

/* Errors: 0 is success, these are negative. */
enum hostdev_err {
	HOSTDEV_OK = 0,
	HOSTDEV_E_INVAL = -1,	/* bad offset, size, BAR or vector */
	HOSTDEV_E_IO = -2,	/* the host refused or the device failed */
	HOSTDEV_E_NOTSUP = -3,	/* the function or backend cannot do it */
	HOSTDEV_E_GONE = -4,	/* the function went away (unplugged) */
	HOSTDEV_E_VERSION = -5,	/* the other side speaks another version */
};

/* struct hostdev_bar.flags */
#define HOSTDEV_BAR_IO		(1u << 0)	/* I/O space, else memory */
#define HOSTDEV_BAR_64		(1u << 1)	/* 64-bit memory BAR (uses i+1) */
#define HOSTDEV_BAR_PREFETCH	(1u << 2)	/* prefetchable memory */

struct hostdev_bar {
	uint64_t size;		/* 0: no BAR here; else a power of two */
	uint32_t flags;		/* HOSTDEV_BAR_* */
	/*
	 * The whole BAR mapped into this process (the embedder may map it
	 * straight into the guest), or NULL: reach it through bar_read /
	 * bar_write. Valid from open to close.
	 */
	void *ptr;
};

/* Interrupt modes, as the host's driver has set the function up. */
enum hostdev_irq_kind {
	HOSTDEV_IRQ_NONE = 0,
	HOSTDEV_IRQ_INTX = 1,
	HOSTDEV_IRQ_MSI = 2,
	HOSTDEV_IRQ_MSIX = 3,
};

/* Reset methods, for info.resets and reset(). */
#define HOSTDEV_RESET_FLR	(1u << 0)	/* function-level reset */
#define HOSTDEV_RESET_BUS	(1u << 1)	/* secondary bus (hot) reset */

/* What the DMA backend's map() takes as its address (see adma_env.resolve). */
enum hostdev_dma_addr {
	HOSTDEV_DMA_GPA = 0,	/* guest-physical: the host maps GPAs itself */
	HOSTDEV_DMA_HVA = 1,	/* host virtual address of the guest's RAM */
};

struct hostdev_info {
	uint32_t cfg_size;	/* 256 (PCI) or 4096 (PCIe) */
	uint32_t resets;	/* HOSTDEV_RESET_* the function supports */
	uint32_t dma_addr;	/* enum hostdev_dma_addr */
	/*
	 * What the DMA backend's IOMMU allows live at once: page-rounded
	 * bytes and mappings (0: unknown; the host core's default). The host
	 * core of apple-dma-pci takes them as its limits, so the guest reads
	 * them in LIMIT_*.
	 */
	uint32_t max_maps;
	uint64_t max_bytes;
	struct hostdev_bar bar[HOSTDEV_NUM_BARS];
	char name[64];		/* for messages: "simgpu", "dext 0000:05:00.0" */
};

/*
 * The embedder's interrupt callback. MSI/MSI-X: an edge on vector (level
 * is 1). INTx: the line's new level (vector 0). Called from any thread.
 */
typedef void hostdev_irq_fn(void *opaque, enum hostdev_irq_kind kind,
			    uint32_t vector, int level);

struct hostdev_ops {
	/* Config space; len 1, 2 or 4, naturally aligned, off < cfg_size. */
	int (*config_read)(void *dev, uint32_t off, unsigned int len,
			   uint32_t *val);
	int (*config_write)(void *dev, uint32_t off, unsigned int len,
			    uint32_t val);
	/* A BAR without ptr (or any BAR): size 1, 2, 4 or 8, aligned. */
	int (*bar_read)(void *dev, unsigned int bar, uint64_t off,
			unsigned int size, uint64_t *val);
	int (*bar_write)(void *dev, unsigned int bar, uint64_t off,
			 unsigned int size, uint64_t val);
	/*
	 * Deliver the function's interrupts of this kind (nvec vectors; INTx:
	 * 1) to the callback from now on; HOSTDEV_IRQ_NONE stops delivery.
	 * HOSTDEV_E_NOTSUP if the function lacks that capability.
	 */
	int (*irq_set)(void *dev, enum hostdev_irq_kind kind, uint32_t nvec);
	/*
	 * Reset with one of the methods in how, trying FLR first; *done says
	 * which ran. The function's DMA mappings are not touched: they belong
	 * to the DMA backend's user (apple-dma-pci), which releases them.
	 */
	int (*reset)(void *dev, uint32_t how, uint32_t *done);
	/* Release everything; dev and the BAR pointers die with it. */
	void (*close)(void *dev);
};

struct hostdev {
	const struct hostdev_ops *ops;
	void *dev;
	struct hostdev_info info;
	/* The function's IOMMU: what apple-dma-pci's host core maps through. */
	const struct adma_backend_ops *dma_ops;
	void *dma_be;
	/* Set by the embedder before the first irq_set. */
	hostdev_irq_fn *irq;
	void *irq_opaque;
};

/* Message for an HOSTDEV_E_* value; "unknown error" otherwise. */
static inline const char *hostdev_strerror(int err)
{
	switch (err) {
	case HOSTDEV_OK:
		return "success";
	case HOSTDEV_E_INVAL:
		return "invalid argument";
	case HOSTDEV_E_IO:
		return "I/O error at the host";
	case HOSTDEV_E_NOTSUP:
		return "not supported by this function";
	case HOSTDEV_E_GONE:
		return "the function is gone";
	case HOSTDEV_E_VERSION:
		return "version mismatch";
	default:
		return "unknown error";
	}
}

#endif /* HOSTDEV_H */
