/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * dext_rig.h - the IOKit backend opened over the IOKit test double
 * (tests/iokit-shim/), for test_dext*.c: host/hostdev_iokit.c -> fake
 * IOKit -> dext/core -> simgpu and its simulated DART, all in-process.
 */
#ifndef DEXT_RIG_H
#define DEXT_RIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hostdev_iokit.h"
#include "iokit_shim.h"

#define RIG_RAM_SIZE	(4ull << 20)
#define RIG_MAX_IRQ	256

struct rig_irq {
	enum hostdev_irq_kind kind;
	uint32_t vector;
	int level;
};

struct dext_rig {
	struct hostdev *h;
	uint8_t *ram;		/* RIG_RAM_SIZE, registered as one region */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int nirq;
	struct rig_irq irq[RIG_MAX_IRQ];
};

/* Defaults for the tests: 1 MiB VRAM, 16 MSI-X vectors, a 1024-page DART. */
struct iokit_shim_config rig_config(void);
/* Set the double up, open the backend ("auto"), register the RAM. */
struct dext_rig *rig_open(const struct iokit_shim_config *cfg);
/* Close the backend (unless already NULL) and tear the double down. */
void rig_close(struct dext_rig *r);

/* A raw connection to the dext (no HELLO), as another process would. */
io_connect_t raw_open(void);
kern_return_t raw_call(io_connect_t c, uint32_t sel, const uint64_t *in,
		       uint32_t nin, uint64_t *out, uint32_t nout);
kern_return_t raw_hello(io_connect_t c, uint64_t version);

/*
 * Map [off, off + len) of the rig's RAM through the backend's DMA ops; the
 * mapping's cookie into *ck (may be NULL), for rig_unmap.
 */
int rig_map(struct dext_rig *r, uint64_t off, uint64_t len, unsigned int dir,
	    struct adma_seg *seg, unsigned int *nsegs, uint64_t *ck);
void rig_unmap(struct dext_rig *r, const struct adma_seg *seg,
	       unsigned int nsegs, uint64_t ck);
/* The simulated DART's view: live mappings, and IOVA -> address. */
uint64_t rig_dart_live(void);
bool rig_dart_hit(uint64_t iova, uint64_t *addr);
/* Wait (up to ms) until at least n interrupts arrived. */
bool rig_wait_irq(struct dext_rig *r, unsigned int n, int ms);
uint32_t rig_reg(struct dext_rig *r, uint32_t off);
void rig_wreg(struct dext_rig *r, uint32_t off, uint32_t v);

#endif
