/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * dartsim.h - a simulated Apple DART, the backend used wherever the real one
 * is not available.
 *
 * It behaves as PCIDriverKit's DART does for a Thunderbolt device: 16 KiB
 * pages (every mapping is rounded out to them), IOVAs the simulator chooses
 * (optionally at random 16 KiB-aligned places, so nothing can rely on more
 * alignment), a limit on live bytes and on live mappings, and a translation
 * that faults for every address not mapped - as a device DMA would on the
 * real machine. It also fails on purpose (the Nth map, or with a probability
 * under a seed) so refusals can be tested deterministically.
 *
 * Portable C, no OS headers; state in caller-provided memory; not thread-safe.
 */
#ifndef DARTSIM_H
#define DARTSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adma_core.h"

#define DARTSIM_PAGE_SHIFT	ADMA_PAGE_SHIFT
#define DARTSIM_PAGE_SIZE	((uint64_t)ADMA_PAGE_SIZE)

struct dartsim_config {
	uint64_t aperture_base;	/* first IOVA; 16 KiB-aligned, default 1 TiB */
	uint64_t aperture_size;	/* IOVA space, default = max_bytes */
	uint64_t max_bytes;	/* live page-rounded bytes, default 1.5 GiB */
	uint32_t max_maps;	/* live mappings, default 65536 */
	bool randomize;		/* place IOVAs at random (seeded) */
	uint64_t seed;		/* for randomize and fail_ppm */
	uint64_t fail_nth;	/* fail the Nth map() (1-based); 0 = never */
	uint32_t fail_ppm;	/* fail each map() with this chance per million */
	/*
	 * Largest segment in pages; 0 = no limit. A longer mapping is answered
	 * in several segments of at most seg_pages pages each, never
	 * contiguous in IOVA, as the real DART may answer; if it would need
	 * more than max_segs of them, map() refuses it as FRAGMENTED.
	 */
	uint32_t seg_pages;
};

/*
 * Default first IOVA: above every guest-physical range where QEMU's q35 and
 * arm virt place PCI BARs. Emulated devices know nothing of IOMMUs and some
 * refuse a DMA address inside their own BAR (QEMU's nvme, whose 64-bit BAR
 * q35 puts at 4 GiB), so IOVAs must not look like one. 1.5 GiB from here
 * needs a 41-bit DMA mask.
 */
#define DARTSIM_DEFAULT_BASE	(1ull << 40)

struct dartsim_stats {
	uint64_t live_maps;
	uint64_t live_bytes;
	uint64_t peak_maps;
	uint64_t peak_bytes;
	uint64_t maps;		/* successful map() calls */
	uint64_t unmaps;
	uint64_t no_space;	/* refused: a limit */
	uint64_t fragmented;	/* refused: bytes free but no run long enough */
	uint64_t injected;	/* refused: fault injection */
	uint64_t translations;	/* translate() calls that hit */
	uint64_t faults;	/* translate() calls that faulted */
};

/* Access kinds for dartsim_translate(). */
#define DARTSIM_ACC_READ	ADMA_DIR_TO_DEVICE	/* device reads memory */
#define DARTSIM_ACC_WRITE	ADMA_DIR_FROM_DEVICE	/* device writes memory */

struct dartsim;

size_t dartsim_size(const struct dartsim_config *cfg);
/* NULL on a bad configuration (unaligned base, zero-page aperture, ...). */
struct dartsim *dartsim_init(void *mem, const struct dartsim_config *cfg);
const struct dartsim_config *dartsim_config(const struct dartsim *d);

int dartsim_map(struct dartsim *d, uint64_t addr, uint64_t len,
		unsigned int dir, struct adma_seg *seg, unsigned int max_segs,
		unsigned int *nsegs);
void dartsim_unmap(struct dartsim *d, const struct adma_seg *seg,
		   unsigned int nsegs);

/*
 * Translate device address iova for an access of kind acc. On a hit, *addr
 * is the mapped address and *avail the bytes left in that 16 KiB page; the
 * result is 0. An unmapped page or a forbidden direction is a fault: -1,
 * counted.
 */
int dartsim_translate(struct dartsim *d, uint64_t iova, unsigned int acc,
		      uint64_t *addr, uint64_t *avail);

/*
 * The first run of pages free pages that starts in [from, end) (end capped
 * at the aperture's pages), as placement searches for it; end if none.
 * O(log aperture pages). For tests and diagnostics.
 */
uint64_t dartsim_find_run(struct dartsim *d, uint64_t pages,
			  uint64_t from, uint64_t end);

/* Drop every mapping (the DART's reset); fault-injection state is kept. */
void dartsim_reset(struct dartsim *d);

const struct dartsim_stats *dartsim_stats(const struct dartsim *d);

/* The backend ops for adma_core; be is the struct dartsim. */
extern const struct adma_backend_ops dartsim_backend_ops;

#endif /* DARTSIM_H */
