/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * hostdev_iokit.h - the host-device interface over our dext, through IOKit.
 *
 * On a Mac the physical GPU function belongs to our PCIDriverKit driver;
 * this backend opens its user client and implements struct hostdev
 * (hostdev.h) with the calls of protocol/apple_dext.h: config space and
 * BARs (mapped into this process where the dext allows, else by call),
 * interrupts (an interrupt-status page plus an async wakeup on a dispatch
 * queue of ours), reset, and the function's DART as the DMA backend of
 * apple-dma-pci's host core - one DMA_BATCH call per doorbell.
 *
 * The DART maps host virtual addresses of this process (info.dma_addr is
 * HOSTDEV_DMA_HVA), and only inside regions registered here: the embedder
 * registers each of its RAM blocks once (QEMU: every RAMBlock).
 *
 * Portable C plus the IOKit user-space API (IOKitLib, libdispatch, Mach,
 * pthreads). On Linux it builds against tests/iokit-shim/, a test double
 * that hands every IOKit call to the dext's portable logic over a
 * simulated function.
 */
#ifndef HOSTDEV_IOKIT_H
#define HOSTDEV_IOKIT_H

#include <stddef.h>
#include <stdint.h>

#include "apple_dext.h"
#include "hostdev.h"

/*
 * Open one function. selector: NULL, "" or "auto" (the first one nobody
 * owns), a registry entry ID ("0x1000004a2", as `ioreg -l` shows it), or a
 * PCI location ("0000:05:00.0" or "05:00.0"). On failure returns HOSTDEV_E_*
 * and writes why into err (errlen bytes, may be 0): no dext, a busy device,
 * another ABI version, a bad selector.
 */
int hostdev_iokit_open(const char *selector, struct hostdev **out, char *err,
		       size_t errlen);

/*
 * Make [hva, hva + size) of this process mappable for the device's DMA:
 * one RAM block, 4 KiB-aligned, not overlapping another. HOSTDEV_E_*.
 */
int hostdev_iokit_add_region(struct hostdev *h, void *hva, uint64_t size);
/* Forget a region; HOSTDEV_E_INVAL while mappings into it are live. */
int hostdev_iokit_remove_region(struct hostdev *h, void *hva, uint64_t size);

/* The dext's counters for this client (DEXT_SEL_STATS). HOSTDEV_E_*. */
int hostdev_iokit_stats(struct hostdev *h, struct dext_stats *out);

/* The IOKit connection (io_connect_t), for diagnostics and tests. */
unsigned int hostdev_iokit_connection(struct hostdev *h);

#endif /* HOSTDEV_IOKIT_H */
