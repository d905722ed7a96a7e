/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * adma_core.h - portable host core of apple-dma-pci.
 *
 * The core reads a batch of requests from guest memory, validates each one,
 * executes it against a backend (the macOS dext or the DART simulator), keeps
 * the table of live mappings and writes the responses back. It includes no OS
 * header: guest memory, the notion of "guest RAM" and the backend come from
 * the embedder (QEMU, a unit test, a fuzzer) as callbacks, and the state lives
 * in memory the embedder provides (adma_core_size()).
 *
 * Not thread-safe: the embedder serialises every call on one core.
 */
#ifndef ADMA_CORE_H
#define ADMA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apple_dma.h"

/*
 * A backend programs the IOMMU. map() makes [addr, addr + len) reachable by
 * the device and fills seg[] (at most max_segs) so that the segments, in
 * order, cover exactly those bytes; the IOVAs are the backend's choice.
 * It returns ADMA_S_OK or the refusal (NO_SPACE, FRAGMENTED, IO_ERROR).
 *
 * *cookie (0 on entry, never NULL) is the backend's own name for the
 * mapping, opaque to the core, which keeps it in the mapping's slot: a
 * backend whose IOMMU releases mappings by a name of its own (the dext's
 * handle) needs no table to find it again. A backend that unmaps by
 * segments leaves it alone.
 *
 * unmap() takes back exactly what one successful map() returned: its
 * segments and its cookie.
 */
struct adma_be_op;

struct adma_backend_ops {
	int (*map)(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		   struct adma_seg *seg, unsigned int max_segs,
		   unsigned int *nsegs, uint64_t *cookie);
	void (*unmap)(void *be, const struct adma_seg *seg, unsigned int nsegs,
		      uint64_t cookie);
	/*
	 * Optional: execute n maps and unmaps in order, as map()/unmap()
	 * would one by one, in one go - for a backend behind a process
	 * boundary (the dext), where a doorbell must not become n round
	 * trips. Used when the core was configured with batch_backend: for
	 * every doorbell, and for the unmaps of a reset or a roll-back,
	 * max_batch at a time.
	 */
	void (*batch)(void *be, struct adma_be_op *op, unsigned int n);
};

/* One entry of a backend batch. */
enum adma_be_kind { ADMA_BE_MAP = 1, ADMA_BE_UNMAP = 2 };

struct adma_be_op {
	uint32_t kind;		/* enum adma_be_kind */
	uint32_t dir;		/* MAP: ADMA_DIR_* */
	uint64_t addr;		/* MAP: what map() takes as addr */
	uint64_t len;		/* MAP */
	uint32_t max_segs;	/* MAP: as map()'s */
	uint32_t nsegs;		/* MAP: out; UNMAP: in */
	int32_t status;		/* MAP: out, as map() returns */
	uint32_t rsvd;
	uint64_t cookie;	/* MAP: out, as map()'s; UNMAP: in */
	struct adma_seg seg[ADMA_MAX_SEGS];	/* MAP: out; UNMAP: in */
};

/*
 * What the embedder supplies. read/write copy guest memory and return 0, or
 * non-zero when the range is not accessible (a write may have landed
 * partway). resolve() decides whether [gpa, gpa + len) is wholly plain guest
 * RAM (ADMA_S_OK, with the address the backend maps in *addr: the GPA itself
 * for the simulator, a host virtual address for the dext) or not
 * (ADMA_S_RANGE); any other return is taken as a failure (IO_ERROR). For a
 * MAP the core asks about the range rounded out to ADMA_PAGE_SIZE pages,
 * which is what the DART maps, and hands the backend *addr plus the GPA's
 * offset in its page.
 */
struct adma_env {
	void *opaque;
	int (*read)(void *opaque, uint64_t gpa, void *buf, size_t len);
	int (*write)(void *opaque, uint64_t gpa, const void *buf, size_t len);
	int (*resolve)(void *opaque, uint64_t gpa, uint64_t len, uint64_t *addr);
};

struct adma_core_config {
	uint64_t max_bytes;	/* limit on live page-rounded bytes */
	uint32_t max_maps;	/* limit on live mappings (table size) */
	uint32_t max_batch;	/* most requests per doorbell, <= ADMA_MAX_BATCH */
	uint32_t max_segs;	/* most segments per response, <= ADMA_MAX_SEGS */
	/*
	 * Non-zero: hand each doorbell's maps and unmaps to ops->batch in one
	 * call (needs ops->batch; the state then holds max_batch entries of
	 * scratch). Limits are checked in order as if each request ran alone;
	 * a map the backend refuses within a batch may have made a later one
	 * in the same batch see NO_SPACE.
	 */
	uint32_t batch_backend;
};

#define ADMA_CORE_DEFAULT_MAX_BYTES	(3ull << 29)	/* 1.5 GiB */
#define ADMA_CORE_DEFAULT_MAX_MAPS	65536u
#define ADMA_CORE_DEFAULT_MAX_BATCH	256u

enum adma_stat_op { ADMA_STAT_MAP, ADMA_STAT_UNMAP, ADMA_STAT_BADOP,
		    ADMA_STAT__OPS };

struct adma_core_stats {
	uint64_t live_maps;
	uint64_t live_bytes;		/* page-rounded, as the limit counts */
	uint64_t peak_maps;
	uint64_t peak_bytes;
	uint64_t batches;		/* doorbells */
	uint64_t bad_batches;		/* block unreadable, bad, or too big;
					 * since the last reset, as peaks */
	uint64_t requests[ADMA_STAT__OPS];
	uint64_t status[ADMA_S__COUNT];	/* responses written, by status */
	uint64_t refusals;		/* responses other than OK */
};

struct adma_core;

/* Bytes of state for this configuration (after defaults are applied). */
size_t adma_core_size(const struct adma_core_config *cfg);

/*
 * Initialise a core in mem (adma_core_size() bytes, 8-byte aligned). Zero
 * fields of cfg take the defaults above. Returns NULL on a bad config.
 */
struct adma_core *adma_core_init(void *mem, const struct adma_core_config *cfg,
				 const struct adma_env *env,
				 const struct adma_backend_ops *ops, void *be);

/* The configuration in force (defaults filled in). */
const struct adma_core_config *adma_core_config(const struct adma_core *c);

/*
 * Process the batch whose command block is at cmd_gpa: the doorbell.
 * Returns the batch status also written to the block (ADMA_S_OK when every
 * request was answered, whatever each answer was).
 *
 * Work per doorbell is bounded: at most max_batch requests; each MAP's IOVA
 * search is O(max_segs * log(aperture pages)) with dartsim, however
 * fragmented; and the MAPs of one doorbell may hand the backend at most
 * max_bytes (page-rounded) in total - past that they are refused NO_SPACE,
 * as if the byte limit were reached (within the limits, only a doorbell
 * that unmaps what it mapped itself, or whose maps the backend refused,
 * gets there) - so one doorbell fills at most
 * max_bytes / ADMA_PAGE_SIZE page-table entries, and clears at most twice
 * that (what was live before it, and what it mapped itself).
 */
int adma_core_doorbell(struct adma_core *c, uint64_t cmd_gpa);

/* Execute one request (host byte order) and fill resp; returns its status. */
int adma_core_exec(struct adma_core *c, const struct adma_req *req,
		   struct adma_resp *resp);

/*
 * Release every live mapping at the backend; with batch_backend, max_batch
 * unmaps per backend call. Stats are kept (the guest's RELEASE_ALL).
 */
void adma_core_release_all(struct adma_core *c);

/*
 * Device reset or removal: release every live mapping, and start again the
 * stats that describe the device since its reset (bad_batches, the peaks);
 * the cumulative counters (batches, requests, status, refusals) are kept.
 */
void adma_core_reset(struct adma_core *c);

const struct adma_core_stats *adma_core_stats(const struct adma_core *c);

/* Name of a status for logs; "unknown" outside the enum. */
const char *adma_status_name(int status);

#endif /* ADMA_CORE_H */
