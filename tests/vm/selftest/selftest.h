/* SPDX-License-Identifier: GPL-2.0 */
/* selftest.h - what the self-test's files share (see selftest.c). */
#ifndef ADMA_SELFTEST_H
#define ADMA_SELFTEST_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>

struct st_state {
	struct device *dev;		/* the managed device */
	atomic_t checks, failed, logged;
	int sg_failures;		/* sgfail: map_sg calls that failed */
	s64 irqoff_gap_us;		/* irqoff: longest timer silence */
	s64 irqoff_total_us;		/* ... during a map_sg this long */
	unsigned int irqoff_ticks;	/* irqoff: ticks while it ran */
	unsigned int irqoff_sections;	/* ... and apple_dma's unlocks */
	u64 bound_checked;		/* bound: the last filler's end */
};

extern struct st_state st;

__printf(1, 2) void st_fail(const char *fmt, ...);
bool st_check(const char *what, dma_addr_t dma, u64 size, u64 mask, u64 align);
bool st_want(const char *test);

/* promises.c */
void st_masks(u64 iova_end);
void st_align(void);
void st_irqoff(unsigned int rounds);
void st_bound(void);
void st_sgfail(unsigned int rounds);

#endif /* ADMA_SELFTEST_H */
