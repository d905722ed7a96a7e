/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * coal_cache_rig.h - checks for the tests of the coalescer's idle cache and
 * lazy unmaps, on top of the fake host of coal_rig.h (see coal_cache_rig.c).
 */
#ifndef COAL_CACHE_RIG_H
#define COAL_CACHE_RIG_H

#include "coal_rig.h"

#define CS		(256 * KiB)		/* cluster */
#define BASE		(RAM_BASE + 16 * CS)
#define BIG		(3 * CS + 4 * KiB)	/* above small_max: private */

/* live buffers of a randomized test */
struct live {
	struct mbuf b[8];
	unsigned int n;
};

struct coal *cc_new(unsigned int lazy_max, uint64_t cache_bytes,
		    uint64_t wm_bytes, uint64_t wm_maps);
void cc_check(struct coal *c);
uint64_t cc_map(struct coal *c, uint64_t gpa, uint64_t len, unsigned int dir,
		unsigned int flags);
uint64_t cc_map1(struct coal *c, uint64_t gpa, uint64_t len);
void cc_unmap(struct coal *c, uint64_t dma, uint64_t len);
bool cc_host_has(uint64_t gpa, uint64_t len);
void cc_finish(struct coal *c, uint64_t live);
void cc_check_live(struct coal *c, const struct live *l);
void cc_small_buf(struct coal_buf *b);
struct coal_stats cc_churn(struct coal *c, unsigned int rounds,
			   unsigned int max_live,
			   void (*check)(struct coal *c, const struct live *l));

#endif /* COAL_CACHE_RIG_H */
