/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * hostdev_iokit_int.h - the IOKit backend's state, shared by
 * hostdev_iokit.c (open, config, BARs, interrupts, reset, close) and
 * hostdev_iokit_dma.c (regions and the DMA backend).
 */
#ifndef HOSTDEV_IOKIT_INT_H
#define HOSTDEV_IOKIT_INT_H

#include <pthread.h>
#include <stdbool.h>

#include <IOKit/IOKitLib.h>

#include "hostdev_iokit.h"

struct iokit_region {
	uint64_t hva;
	uint64_t size;
	uint64_t id;		/* the dext's region id; 0: slot free */
};

struct iokit_dev {
	struct hostdev hd;	/* first: the embedder's view */
	io_connect_t conn;
	struct dext_info info;

	/* interrupts: the page, a port and a queue for the wakeups */
	struct dext_irq_page *page;
	IONotificationPortRef nport;
	dispatch_queue_t queue;
	uint32_t irq_kind;	/* atomic: mode in force */
	uint32_t irq_nvec;	/* atomic */
	int closing;		/* atomic: close() started */
	mach_vm_address_t bar_addr[DEXT_NUM_BARS];

	/* DMA (lock): regions, the batch buffers */
	pthread_mutex_t lock;
	struct iokit_region region[DEXT_MAX_REGIONS];
	struct dext_batch_hdr *bin;
	void *bout;
	uint32_t batch_max;
};

/* IOKit / dext status -> HOSTDEV_E_* */
int iokit_err(kern_return_t kr);

/* hostdev_iokit_dma.c */
extern const struct adma_backend_ops iokit_dma_ops;
int iokit_dma_init(struct iokit_dev *d);
void iokit_dma_fini(struct iokit_dev *d);

#endif /* HOSTDEV_IOKIT_INT_H */
